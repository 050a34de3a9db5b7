-- recover: re-execute the runs that failed, and only those that still need it.
--
--   dagster-lua play recover [--since 24h] [--job J]... [--tag k=v]...
--       [--strategy FROM_FAILURE|FROM_ASSET_FAILURE|ALL_STEPS] [--concurrency 4]
--       [--max-errors N] [--wait]
--
-- The runs updated within --since (of each --job, carrying every --tag) are listed once, a
-- page per 100 runs, and grouped by lineage (dagster/root_run_id: a run and all its
-- re-executions). In each lineage only the newest run counts: it is re-executed when it
-- FAILED, and the lineage is left alone when it succeeded, was canceled or is still queued
-- or running. So a failed run that has a re-execution is never taken again, and when that
-- re-execution failed too, the re-execution is what gets re-executed. A run that Dagster
-- will retry by itself (tag dagster/will_retry=true) is skipped. Re-executions copy their
-- parent's tags, so they match the same --tag filter. A --job the deployment does not have
-- is a usage error.
--
-- At most --concurrency launches are in flight; with --wait, at most --concurrency
-- re-executions are unfinished at once, and their statuses come from one query per second
-- for all of them. Once --max-errors re-executions have failed (a launch refused, or with
-- --wait a run that did not succeed) nothing more is launched. Each launch is journaled and
-- made once: resumed after a crash, the playbook finds the runs it launched.
--
-- Exit status: 0 when every run was re-executed (with --wait: and succeeded), or nothing
-- needed it; 6 when some re-execution failed or was not made; else the usual table.
local playbook = require "dagster.playbook"
local dagster = require "dagster"

local FINAL = dagster.FINAL_RUN_STATUSES
local STRATEGIES = { FROM_FAILURE = true, FROM_ASSET_FAILURE = true, ALL_STEPS = true }

return playbook.define({
  name = "recover",
  summary = "Re-execute the failed runs that no one has re-executed yet",
  flags = {
    { name = "since", type = "duration", metavar = "AGE", default = "24h",
      doc = "the window: runs updated this recently (90s, 30m, 24h, 7d)" },
    { name = "job", type = "list", metavar = "J", doc = "only the runs of this job" },
    { name = "tag", type = "list", metavar = "K=V", doc = "only the runs with this tag" },
    { name = "strategy", type = "string", metavar = "S", default = "FROM_FAILURE",
      doc = "FROM_FAILURE, FROM_ASSET_FAILURE or ALL_STEPS" },
    { name = "concurrency", type = "integer", metavar = "N", default = 4,
      doc = "launches in flight at once (with --wait: unfinished re-executions)" },
    { name = "max-errors", type = "integer", metavar = "N",
      doc = "stop launching once this many re-executions have failed" },
    { name = "wait", type = "boolean", watch = true, doc = "wait for the re-executions to finish" },
  },
}, function(pb)
  local f = pb.flags
  local EXIT = playbook.EXIT

  -- the window of the run's first attempt: a resumed run looks where it looked before
  local since = pb.started - f.since
  if not STRATEGIES[f.strategy] then
    pb:usage("--strategy " .. f.strategy .. ": FROM_FAILURE, FROM_ASSET_FAILURE or ALL_STEPS expected")
  end
  if f.concurrency < 1 then pb:usage("--concurrency: at least 1 expected") end
  if f["max-errors"] and f["max-errors"] < 1 then pb:usage("--max-errors: at least 1 expected") end
  local tags = pb:tags(f.tag)

  -- Each --job must exist: a misspelt one would find nothing to do and say all is well.
  if #f.job > 0 then
    local known = {}
    for _, j in ipairs(pb.client:jobs()) do known[j.name] = true end
    for _, job in ipairs(f.job) do
      if not known[job] then pb:usage("--job " .. job .. ": the deployment has no job of that name") end
    end
  end

  -- Find them: one listing of the window, the newest run of each lineage decides.
  local found = pb:step("find the failed runs", { since = f.since, job = f.job, tag = tags }, function()
    local newest, failed = {}, {}
    for _, job in ipairs(#f.job > 0 and f.job or { false }) do
      for r in pb.client:each_run { job_name = job or nil, tags = tags, updated_after = since } do
        local root = r.root_run_id or r.run_id
        local top = newest[root]
        if top == nil or r.creation_time > top.creation_time then newest[root] = r end
        if r.status == "FAILURE" then failed[#failed + 1] = r end
      end
    end
    local todo, again, retried = dagster.array(), 0, 0
    for _, r in ipairs(failed) do
      if r.tags["dagster/will_retry"] == "true" then retried = retried + 1
      elseif newest[r.root_run_id or r.run_id] ~= r then again = again + 1
      else todo[#todo + 1] = { run_id = r.run_id, root_run_id = r.root_run_id or r.run_id,
                               job = r.job_name } end
    end
    table.sort(todo, function(a, b) return a.run_id < b.run_id end)
    pb:say("  %d failed runs since %s: %d to re-execute, %d re-executed already, %d left to " ..
      "Dagster's retries", #failed, os.date("%Y-%m-%d %H:%M", since), #todo, again, retried)
    return { todo = todo, failed = #failed, again = again, retried = retried }
  end)
  local todo = found.todo
  if #todo == 0 then pb:say("nothing to re-execute"); pb:exit(EXIT.OK) end

  -- Re-execute them: --concurrency workers take the runs in turn; with --wait one watcher
  -- polls the statuses of every unfinished re-execution with one query.
  local done = pb:step("re-execute " .. #todo .. " runs", function()
    local rows, next_i, errors, live, broken = dagster.array(), 0, 0, f.concurrency, nil
    for i, r in ipairs(todo) do
      rows[i] = { run_id = r.run_id, root_run_id = r.root_run_id, job = r.job, status = "not launched" }
    end
    local unfinished = {}                           -- new run id -> its row, with --wait
    local function interrupted(e) return playbook.code_of_error(e) == EXIT.INTERRUPTED end
    local function worker()
      while not (f["max-errors"] and errors >= f["max-errors"]) do
        if broken then error(broken, 0) end
        next_i = next_i + 1
        local row = rows[next_i]
        if row == nil then return end
        local ok, new = pcall(pb.reexecute, pb, row.run_id, { strategy = f.strategy })
        if not ok then
          if interrupted(new) then error(new, 0) end
          errors, row.status = errors + 1, "not launched: " .. tostring(new):gsub("\n.*", "")
        elseif pb.dry_run then
          row.status = "dry run"
        else
          row.new_run, row.status = new, "launched"
          if f.wait then
            unfinished[new] = row
            while unfinished[new] do
              if broken then error(broken, 0) end
              dagster.sleep(0.2)
            end
            if row.status ~= "SUCCESS" then errors = errors + 1 end
          end
        end
      end
    end
    local function watcher()
      while live > 0 and not broken do
        local ids = {}
        for id in pairs(unfinished) do ids[#ids + 1] = id end
        if #ids > 0 then
          local ok, runs = pcall(pb.client.runs, pb.client, { run_ids = ids, limit = #ids })
          if not ok and interrupted(runs) then error(runs, 0) end
          for _, r in ipairs(ok and runs or {}) do
            if FINAL[r.status] then unfinished[r.run_id].status, unfinished[r.run_id] = r.status, nil end
          end
        end
        dagster.sleep(1)
      end
    end
    local stats = dagster.stats
    stats.max_in_flight = 0
    local tasks = {}
    for i = 1, f.concurrency do
      tasks[i] = dagster.spawn(function()
        local ok, e = pcall(worker)
        live = live - 1
        if not ok then broken = broken or e; error(e, 0) end
      end)
    end
    if f.wait and not pb.dry_run then
      tasks[#tasks + 1] = dagster.spawn(function()
        local ok, e = pcall(watcher)
        if not ok then broken = broken or e; error(e, 0) end
      end)
    end
    dagster.gather(tasks)
    return { rows = rows, max_in_flight = stats.max_in_flight }
  end)

  -- Report: the failed run (the newest of its lineage), job, new run, final status.
  local recovered, bad, table_rows = 0, 0, {}
  for i, r in ipairs(done.rows) do
    table_rows[i] = { r.run_id, r.job, r.new_run or "-", r.status }
    if r.status == "SUCCESS" or (r.status == "launched" and not f.wait) then
      recovered = recovered + 1
    elseif r.status ~= "dry run" then
      bad = bad + 1
    end
  end
  pb:say("")
  pb:table({ "FAILED RUN", "JOB", "NEW RUN", "STATUS" }, table_rows)
  pb:event { event = "recover", candidates = #todo, recovered = recovered, failed = bad,
    dry_run = pb.dry_run or nil, max_in_flight = done.max_in_flight, runs = done.rows }
  pb:exit(bad == 0 and EXIT.OK or EXIT.PARTIAL)
end)
