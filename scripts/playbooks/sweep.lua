-- sweep: clear out runs stuck in STARTING or CANCELING (and QUEUED with --queued).
--
--   dagster-lua play sweep [--older-than 15m] [--queued] [--grace 10s]
--
-- A run is stuck when its status has not changed for longer than --older-than (its update
-- time, else its start or creation time). Each is terminated; those not CANCELED after the
-- grace period are force-terminated (marked CANCELED at once, MARK_AS_CANCELED_IMMEDIATELY);
-- after a second grace period each must still be CANCELED. A table says what was done.
--
-- Exit status: 0 nothing stuck, or every stuck run ended and stayed CANCELED (or ended on its
-- own); 6 some run is still not finished, or flipped from CANCELED to another status.
local playbook = require "dagster.playbook"
local dagster = require "dagster"

return playbook.define({
  name = "sweep",
  summary = "Terminate runs stuck in STARTING or CANCELING, forcing those that do not stop",
  description = "A run is stuck when its status has not changed for longer than --older-than.\n" ..
    "Each is terminated, force-terminated if not finished after --grace, and checked again\n" ..
    "after another --grace. Status 6: some run did not end, or did not stay, CANCELED.",
  flags = {
    { name = "older-than", type = "duration", metavar = "DURATION", default = "15m",
      doc = "stuck for longer than this (30s, 15m, 2h)" },
    { name = "queued", type = "boolean", doc = "QUEUED runs are stuck too" },
    { name = "grace", type = "duration", metavar = "DURATION", default = "10s",
      doc = "how long a terminated run gets to stop" },
  },
}, function(pb)
  local older, grace = pb.flags["older-than"], pb.flags.grace
  local FINAL = dagster.FINAL_RUN_STATUSES

  -- the status of each of these runs now: run id -> status
  local function statuses(runs)
    local ids = {}
    for i, r in ipairs(runs) do ids[i] = r.run_id end
    local now = {}
    for _, r in ipairs(pb.client:runs { run_ids = ids, limit = #ids }) do now[r.run_id] = r.status end
    return now
  end

  -- 1. The stuck runs: in a stuck status, unchanged for longer than --older-than.
  local stuck = pb:step("find stuck runs", function()
    local wanted = { "STARTING", "CANCELING" }
    if pb.flags.queued then wanted[#wanted + 1] = "QUEUED" end
    local out = dagster.json.array()
    for _, r in ipairs(pb.client:runs { statuses = wanted, limit = 1000 }) do
      local since = r.update_time or r.start_time or r.creation_time
      local age = since and (os.time() - since) or math.huge
      if age > older then
        out[#out + 1] = { run_id = r.run_id, job_name = r.job_name, status = r.status,
                          age = age ~= math.huge and age or nil }
        pb:say("  %s %s: %s for %s", r.run_id, r.job_name, r.status,
          age ~= math.huge and playbook.seconds(age) or "?")
      end
    end
    return out
  end)
  if #stuck == 0 then
    pb:say("no run stuck in %s for longer than %s", pb.flags.queued and "STARTING, CANCELING or QUEUED"
      or "STARTING or CANCELING", playbook.seconds(older))
    pb:exit(0)
  end

  -- 2. Terminate each (Dagster refuses a run already CANCELING: it was asked before).
  -- Not pb:stop_runs, which does 2 and 3 in one go: the table says what each run answered to
  -- its termination and its forcing, and each is a step of its own, so that a sweep killed
  -- during the grace period and resumed neither asks nor journals a termination twice.
  local asked = pb:step("terminate", function()
    local out = {}
    for _, r in ipairs(stuck) do
      local ok, err = pb:try(pb.terminate, pb, r.run_id)
      local status = not ok and tostring(err):match("due to having status (%u+)")
      out[r.run_id] = pb.dry_run and "would" or ok and "asked" or
        status and ("refused (" .. status .. ")") or ("failed: " .. playbook.headline(err))
    end
    return out
  end)
  if pb.dry_run then
    local rows = {}
    for _, r in ipairs(stuck) do
      rows[#rows + 1] = { r.run_id, r.job_name, r.status, r.age and playbook.seconds(r.age) or "?" }
    end
    pb:say("")
    pb:table({ "RUN", "JOB", "STATUS", "FOR" }, rows)
    pb:say("would terminate %d run(s), force those still running after %s", #stuck,
      playbook.seconds(grace))
    pb:exit(0)
  end

  -- 3. Give them the grace period; force-terminate those not finished by then.
  local forced = pb:step("force-terminate the rest", function()
    dagster.sleep(grace)
    local now, out = statuses(stuck), {}
    for _, r in ipairs(stuck) do
      if not FINAL[now[r.run_id]] then
        local ok, err = pb:try(pb.terminate, pb, r.run_id, { force = true })
        out[r.run_id] = ok and "forced" or ("failed: " .. tostring(err))
      else
        out[r.run_id] = "-"
      end
    end
    return out
  end)

  -- 4. After a second grace period, each must still be CANCELED (or ended on its own).
  local final = pb:step("check they stayed canceled", function()
    local right_after = statuses(stuck)
    dagster.sleep(grace)
    local now, out = statuses(stuck), {}
    for _, r in ipairs(stuck) do
      out[r.run_id] = { after_force = right_after[r.run_id], now = now[r.run_id] }
    end
    return out
  end)

  local rows, bad = {}, 0
  for _, r in ipairs(stuck) do
    local f = final[r.run_id] or {}
    local result = f.now or "?"
    if (f.after_force == "CANCELED" or forced[r.run_id] == "forced") and f.now ~= "CANCELED" then
      result = "FLIPPED to " .. tostring(f.now)
      bad = bad + 1
    elseif not FINAL[f.now] then
      result = "still " .. tostring(f.now)
      bad = bad + 1
    end
    rows[#rows + 1] = { r.run_id, r.job_name, r.status, r.age and playbook.seconds(r.age) or "?",
                        asked[r.run_id] or "", forced[r.run_id] or "", result }
  end
  pb:say("")
  pb:table({ "RUN", "JOB", "WAS", "FOR", "TERMINATE", "FORCE", "NOW" }, rows)
  if bad > 0 then
    pb:exit(playbook.EXIT.PARTIAL, ("%d of %d stuck run(s) did not stay CANCELED"):format(bad, #stuck))
  end
  pb:say("%d stuck run(s) swept", #stuck)
  pb:exit(0)
end)
