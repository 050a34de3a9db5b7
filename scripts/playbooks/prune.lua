-- prune: delete finished runs older than --older-than, keeping the newest of each job.
--
--   dagster-lua play prune --older-than 30d [--keep 10] [--job J]... [--status S]...
--       [--tag K=V]... [--sample 10] [--max-rps N] [--dry-run]
--
-- The runs it deletes: finished (SUCCESS, FAILURE, CANCELED, or --status among them),
-- created longer than --older-than ago, of the --job jobs and with every --tag when given,
-- and not among the newest --keep finished runs of their job (those are kept whatever their
-- age). Never a run in flight, nor a run of a backfill still going (Dagster reads a
-- backfill's runs to follow it). It prints how many and a sample first; --dry-run stops
-- there.
--
-- The list is journaled before the first deletion, so a prune killed midway and resumed
-- deletes exactly what was listed and nothing else; the deletions are steps of 50 (a run
-- already gone counts as deleted). --max-rps paces them.
--
-- Exit status: 0 every listed run deleted (or none to delete); 6 some could not be deleted
-- (the table says which and why).
local playbook = require "dagster.playbook"
local dagster = require "dagster"

local fmt, concat = string.format, table.concat

local FINAL = { "SUCCESS", "FAILURE", "CANCELED" }
local CHUNK = 50

return playbook.define({
  name = "prune",
  summary = "Delete finished runs older than a cutoff, keeping the newest of each job",
  description = "Deletes the finished runs created longer than --older-than ago, keeping the\n" ..
    "newest --keep of each job, never one in flight nor one of a backfill still going.\n" ..
    "Prints the count and a sample first (--dry-run stops there). Status 6: some were not deleted.",
  flags = {
    { name = "older-than", type = "duration", metavar = "DURATION",
      doc = "delete runs created longer ago than this (required: 30d, 12h)" },
    { name = "keep", type = "integer", metavar = "N", default = "10",
      doc = "keep the newest N finished runs of each job, whatever their age" },
    { name = "job", type = "list", metavar = "J", doc = "only this job's runs" },
    { name = "status", type = "list", metavar = "S",
      doc = "only runs that ended so: SUCCESS, FAILURE or CANCELED" },
    { name = "tag", type = "list", metavar = "K=V", doc = "only runs with this tag" },
    { name = "sample", type = "integer", metavar = "N", default = "10",
      doc = "how many of the runs to show before deleting" },
  },
}, function(pb)
  local f = pb.flags
  if f["older-than"] == nil then pb:usage("--older-than is required (e.g. --older-than 30d)") end
  if f.keep < 0 then pb:usage("--keep: a non-negative integer expected") end
  local statuses = FINAL
  if #f.status > 0 then
    local ok = {}
    for _, s in ipairs(FINAL) do ok[s] = true end
    for _, s in ipairs(f.status) do
      if not ok[s] then pb:usage(("--status %s: SUCCESS, FAILURE or CANCELED expected"):format(s)) end
    end
    statuses = f.status
  end
  local tags = pb:tags(f.tag)
  local jobs = {}
  for _, j in ipairs(f.job) do jobs[j] = true end

  -- 1. The runs to delete, listed once (journaled)
  local listed = pb:step("list the runs to delete", function()
    local cutoff = os.time() - f["older-than"]
    local seen, out, backfills = {}, dagster.json.array(), {}
    -- every finished run of the filter, newest first: the first --keep of each job are kept
    local names = #f.job > 0 and f.job or { false }
    for _, job in ipairs(names) do
      for r in pb.client:each_run { statuses = statuses, job_name = job or nil,
          tags = next(tags) and tags or nil, page_size = 1000 } do
        seen[r.job_name] = (seen[r.job_name] or 0) + 1
        if seen[r.job_name] > f.keep and (r.creation_time or math.huge) < cutoff then
          out[#out + 1] = { run_id = r.run_id, job_name = r.job_name, status = r.status,
                            created = r.creation_time, backfill = r.tags["dagster/backfill"] }
          if out[#out].backfill then backfills[out[#out].backfill] = true end
        end
      end
    end
    -- a run of a backfill still going is left: Dagster follows a backfill through its runs
    local going = {}
    for id in pairs(backfills) do
      local ok, b = pb:try(pb.client.get_backfill, pb.client, id)
      if ok and not dagster.FINAL_BACKFILL_STATUSES[b.status] then going[id] = b.status end
    end
    local kept = dagster.json.array()
    for _, r in ipairs(out) do
      if not (r.backfill and going[r.backfill]) then kept[#kept + 1] = r end
    end
    return { runs = kept, left_for_backfills = #out - #kept, cutoff = cutoff }
  end)

  local runs = listed.runs
  pb:say("%d run(s) to delete (created before %s, the newest %d of each job kept)%s", #runs,
    os.date("!%Y-%m-%d %H:%M:%SZ", listed.cutoff), f.keep,
    listed.left_for_backfills > 0 and fmt("; %d left: their backfill is still going",
      listed.left_for_backfills) or "")
  if #runs == 0 then pb:exit(0) end
  local rows = {}
  for i = 1, math.min(f.sample, #runs) do
    local r = runs[i]
    rows[i] = { r.run_id, r.job_name, r.status, os.date("!%Y-%m-%d %H:%M:%SZ", math.floor(r.created or 0)) }
  end
  pb:table({ "RUN", "JOB", "STATUS", "CREATED" }, rows)
  if #runs > #rows then pb:say("... and %d more", #runs - #rows) end
  if pb.dry_run then
    pb:say("would delete %d run(s)", #runs)
    pb:exit(0)
  end

  -- 2. Delete, CHUNK runs a step (a run already gone counts as deleted)
  local failed, deleted = {}, 0
  for first = 1, #runs, CHUNK do
    local last = math.min(first + CHUNK - 1, #runs)
    local res = pb:step(fmt("delete runs %d-%d", first, last), function()
      local out = { deleted = 0, failed = {} }
      for i = first, last do
        local r = runs[i]
        local ok, err = pb:try(pb.client.delete_run, pb.client, r.run_id)
        if ok or dagster.Error.is(err, "RunNotFoundError") then
          out.deleted = out.deleted + 1
        else
          out.failed[#out.failed + 1] = { run_id = r.run_id, job_name = r.job_name,
            error = playbook.headline(err) }
        end
      end
      return out
    end)
    deleted = deleted + res.deleted
    for _, x in ipairs(res.failed) do failed[#failed + 1] = x end
  end
  if #failed > 0 then
    local frows = {}
    for i, x in ipairs(failed) do frows[i] = { x.run_id, x.job_name, x.error } end
    pb:say("")
    pb:table({ "RUN", "JOB", "NOT DELETED" }, frows)
    pb:exit(playbook.EXIT.PARTIAL, ("%d of %d run(s) not deleted"):format(#failed, #runs))
  end
  pb:say("%d run(s) deleted", deleted)
  return 0
end)
