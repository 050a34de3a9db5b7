-- recover: re-execute the runs that failed, and only those that still need it.
--
--   dagster-lua play recover [--since 24h] [--job J]... [--tag k=v]...
--       [--strategy FROM_FAILURE|FROM_ASSET_FAILURE|ALL_STEPS] [--concurrency 4]
--       [--max-errors N] [--wait]
--   dagster-lua play recover --assets [--prefix a/b] [--group G] [--checks] [--since 24h] ...
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
-- With --assets it re-materializes assets instead (--prefix P, --group G narrow them): those
-- whose latest materialization attempt failed, within --since, and that have not been
-- materialized since nor are being materialized now: an unpartitioned asset whose latest run
-- failed without materializing it, and each partition whose status is failed (its latest
-- run's time within the window). With --checks, also the unpartitioned assets whose latest
-- materialization failed an ERROR check. One launch per set of assets Dagster runs together
-- (the same code location, partitions definition and partition key), with the same
-- concurrency, --max-errors, --wait and journal as re-executions. A set re-materialized
-- successfully is materialized again, so it is not taken again; one whose re-materialization
-- failed is. A multi-partitioned asset's partition is named as Dagster spells it
-- ("2026-11-03|apac": the dimensions' keys in the order of their names).
--
-- Exit status: 0 when every run was re-executed (with --wait: and succeeded), or nothing
-- needed it; 6 when some re-execution failed or was not made; else the usual table.
local playbook = require "dagster.playbook"
local dagster = require "dagster"

local FINAL = dagster.FINAL_RUN_STATUSES
local STRATEGIES = { FROM_FAILURE = true, FROM_ASSET_FAILURE = true, ALL_STEPS = true }
local EXIT = playbook.EXIT

-- Launches rows in turn with --concurrency workers: launch(row) makes the row's launch (made
-- once: pb:launch) and returns the new run id; a launch that fails counts as an error, and
-- once --max-errors errors are counted nothing more is launched. With --wait each worker
-- waits for its run before taking the next, and one watcher polls the statuses of every
-- unfinished run with one query a second. Each row gets new_run and status. Returns {rows,
-- max_in_flight}.
local function launch_all(pb, rows, launch)
  local f = pb.flags
  local next_i, errors, live, broken = 0, 0, f.concurrency, nil
  local unfinished = {}                           -- new run id -> its row, with --wait
  local function worker()
    while not (f["max-errors"] and errors >= f["max-errors"]) do
      if broken then error(broken, 0) end
      next_i = next_i + 1
      local row = rows[next_i]
      if row == nil then return end
      local ok, new = pb:try(launch, row)
      if not ok then
        errors, row.status = errors + 1, "not launched: " .. playbook.headline(new)
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
        local ok, runs = pb:try(pb.client.runs, pb.client, { run_ids = ids, limit = #ids })
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
end

-- The end of both modes: a table of what launch_all did (cells(row): a row's cells under
-- headers), the summary event (`event` plus the counts) and the status: 0 when every launch
-- was made (with --wait: and succeeded) or a dry run, else 6.
local function report(pb, done, headers, cells, event)
  local recovered, bad, rows = 0, 0, {}
  for i, r in ipairs(done.rows) do
    rows[i] = cells(r)
    if r.status == "SUCCESS" or (r.status == "launched" and not pb.flags.wait) then
      recovered = recovered + 1
    elseif r.status ~= "dry run" then
      bad = bad + 1
    end
  end
  pb:say("")
  pb:table(headers, rows)
  event.event, event.recovered, event.failed = "recover", recovered, bad
  event.dry_run, event.max_in_flight, event.runs = pb.dry_run or nil, done.max_in_flight, done.rows
  pb:event(event)
  pb:exit(bad == 0 and EXIT.OK or EXIT.PARTIAL)
end

-- recover --assets: the sets of assets to materialize again, each {assets = {"a/b", ...},
-- partition = key or nil, location, repository, why}, in a fixed order
local function failed_asset_sets(pb, since)
  local f = pb.flags
  local health = pb.client:asset_health { prefix = f.prefix, group = f.group, failures = true }
  local sets, order = {}, {}
  local function add(a, partition, why)
    local id = table.concat({ a.location, a.repository, a.partitions_def or "", partition or "" }, "\0")
    local set = sets[id]
    if not set then
      set = { assets = dagster.array(), partition = partition, location = a.location,
              repository = a.repository, why = dagster.array() }
      sets[id] = set
      order[#order + 1] = id
    end
    set.assets[#set.assets + 1] = a.asset
    set.why[#set.why + 1] = why
  end
  local taken = {}
  for _, a in ipairs(health) do
    if a.materializable ~= false then
      if a.partitioned then
        local going = {}
        for _, k in ipairs(a.in_progress_partitions or {}) do going[k] = true end
        for _, k in ipairs(a.failed_partitions or {}) do
          local r = a.failed_runs and a.failed_runs[k]
          if not going[k] and r and (r.time or 0) >= since then
            add(a, k, ("%s[%s]: run %s failed"):format(a.asset, k, r.run_id))
          end
        end
      elseif a.failed and not a.in_progress and (a.latest_run.time or 0) >= since then
        taken[a.asset] = true
        add(a, nil, ("%s: run %s failed"):format(a.asset, a.latest_run.run_id))
      end
    end
  end
  if f.checks then
    local plain = {}
    for _, a in ipairs(health) do
      if not a.partitioned and a.materializable ~= false and not a.in_progress then plain[a.asset] = a end
    end
    for _, c in ipairs(pb.client:asset_checks { group = f.group }) do
      local a, l = plain[c.asset], c.last
      if a and not taken[c.asset] and l and l.status == "FAILED" and l.severity == "ERROR"
         and l.for_latest and (l.time or 0) >= since then
        taken[c.asset] = true
        add(a, nil, ("%s: check %s failed"):format(c.asset, c.name))
      end
    end
  end
  table.sort(order)
  local out = dagster.array()
  for i, id in ipairs(order) do out[i] = sets[id] end
  return out
end

local function recover_assets(pb, since)
  local f = pb.flags
  if #f.job > 0 or #f.tag > 0 then pb:usage("--job and --tag choose runs: not with --assets") end
  local found = pb:step("find the failed assets", { since = f.since, prefix = f.prefix,
      group = f.group, checks = f.checks or false }, function()
    local todo = failed_asset_sets(pb, since)
    local n = 0
    for _, set in ipairs(todo) do n = n + #set.assets end
    pb:say("  %d asset(s) (or partitions) to materialize again since %s, in %d run(s)", n,
      os.date("%Y-%m-%d %H:%M", since), #todo)
    return { todo = todo }
  end)
  local todo = found.todo
  if #todo == 0 then pb:say("nothing to materialize again"); pb:exit(EXIT.OK) end

  local done = pb:step("materialize " .. #todo .. " asset sets again", function()
    local rows = dagster.array()
    for i, set in ipairs(todo) do
      rows[i] = { assets = set.assets, partition = set.partition, location = set.location,
                  repository = set.repository, status = "not launched" }
    end
    return launch_all(pb, rows, function(row)
      local what = ("materialize %s%s"):format(table.concat(row.assets, ", "),
        row.partition and (" partition " .. row.partition) or "")
      return pb:launch(what, function(sid)
        return pb.client:materialize(row.assets, { partition = row.partition,
          location = row.location, repository = row.repository, submission_id = sid })
      end, { key = table.concat({ row.location, row.repository, row.partition or "",
                                  table.concat(row.assets, ",") }, "/") })
    end)
  end)

  report(pb, done, { "ASSETS", "PARTITION", "NEW RUN", "STATUS" }, function(r)
    return { table.concat(r.assets, ", "), r.partition or "-", r.new_run or "-", r.status }
  end, { assets = true, candidates = #todo })
end

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
    { name = "assets", type = "boolean",
      doc = "re-materialize the assets whose latest attempt failed, instead of re-executing runs" },
    { name = "prefix", type = "string", metavar = "P", doc = "with --assets: only the assets under this key prefix" },
    { name = "group", type = "string", metavar = "G", doc = "with --assets: only this group's assets" },
    { name = "checks", type = "boolean",
      doc = "with --assets: also the assets whose latest materialization failed an ERROR check" },
  },
}, function(pb)
  local f = pb.flags

  -- the window of the run's first attempt: a resumed run looks where it looked before
  local since = pb.started - f.since
  if not STRATEGIES[f.strategy] then
    pb:usage("--strategy " .. f.strategy .. ": FROM_FAILURE, FROM_ASSET_FAILURE or ALL_STEPS expected")
  end
  if f.concurrency < 1 then pb:usage("--concurrency: at least 1 expected") end
  if f["max-errors"] and f["max-errors"] < 1 then pb:usage("--max-errors: at least 1 expected") end
  if not f.assets and (f.prefix or f.group or f.checks) then
    pb:usage("--prefix, --group and --checks go with --assets")
  end
  if f.assets then return recover_assets(pb, since) end
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

  local done = pb:step("re-execute " .. #todo .. " runs", function()
    local rows = dagster.array()
    for i, r in ipairs(todo) do
      rows[i] = { run_id = r.run_id, root_run_id = r.root_run_id, job = r.job, status = "not launched" }
    end
    return launch_all(pb, rows, function(row)
      return pb:reexecute(row.run_id, { strategy = f.strategy })
    end)
  end)

  -- Report: the failed run (the newest of its lineage), job, new run, final status.
  report(pb, done, { "FAILED RUN", "JOB", "NEW RUN", "STATUS" }, function(r)
    return { r.run_id, r.job, r.new_run or "-", r.status }
  end, { candidates = #todo })
end)
