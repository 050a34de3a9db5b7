-- Runs: wait_for_run, get_run, runs, each_run, runs_in_flight, events, reexecute,
-- wait_for_runs, stop_runs (methods of the client). Every wait sleeps and reads the clock through
-- client:_sleep and client:_now, so that inside a dagster.spawn task it yields to the other
-- tasks.

local json = require "dagster.json"
local E = require "dagster.error"
local D = require "dagster.documents"
local enums = require "dagster.enums"
local caps = require "dagster.capabilities"
local check = require "dagster.check"
local answer = require "dagster.answer"
local wait = require "dagster.wait"

local fmt, concat = string.format, table.concat
local argerror, checktype, checkopts, options = check.argerror, check.type, check.opts, check.options
local checknumber, checkcount = check.number, check.count
local isnull, value = answer.isnull, answer.value

local FINAL = enums.FINAL_RUN_STATUSES
local BACKOFF = wait.BACKOFF

local M = {}

----------------------------------------------------------------------------------------
-- Answers to Lua tables
----------------------------------------------------------------------------------------

-- a run's status: any string (a newer server's statuses pass as they are)
local function status_of(r)
  local s = r.status
  if type(s) ~= "string" or s == "" then error("a run status is not a string", 0) end
  return s
end

-- a Run's cheap fields (RUN_SUMMARY in documents.lua) in snake_case; nil for null
-- a time read from an answer: epoch seconds, nil for null, else a plain error (answer.read)
local function time_of(v)
  if isnull(v) then return nil end
  if type(v) ~= "number" then error("a time is not a number", 0) end
  return v
end

local function summary(r)
  return {
    run_id = answer.run_id(r.runId), job_name = r.jobName, status = status_of(r), tags = answer.tags(r.tags),
    creation_time = time_of(r.creationTime), start_time = time_of(r.startTime),
    end_time = time_of(r.endTime), update_time = time_of(r.updateTime),
    parent_run_id = value(r.parentRunId), root_run_id = value(r.rootRunId),
    can_terminate = r.canTerminate,
  }
end

local function trim(s) return (s:gsub("%s+$", "")) end

-- The text of a failure event's PythonError, preferring the user's own exception: Dagster
-- wraps it ("DagsterExecutionStepExecutionError: Error occurred while executing op ...")
-- and puts it in `cause`. Returns message, class name (or nil).
local function error_text(err)
  if type(err) ~= "table" then return nil end
  local c = err.cause
  if type(c) == "table" and type(c.message) == "string" then
    return trim(c.message), value(c.className)
  end
  if type(err.message) == "string" then return trim(err.message), value(err.className) end
  return nil
end

-- One event as the iterator gives it. Tolerates any typename: fields that a future
-- member lacks are simply nil.
local function event(e)
  local ts = type(e.timestamp) == "string" and tonumber(e.timestamp)
  local ev = {
    type = e.__typename, event_type = value(e.eventType), level = value(e.level),
    message = value(e.message), step_key = value(e.stepKey), run_id = value(e.runId),
    timestamp = ts and ts / 1000 or nil,
  }
  if not isnull(e.error) then ev.error_message, ev.error_class = error_text(e.error) end
  -- an asset check planned, or its result
  local v = value(e.evaluation)
  if v then
    ev.check = { asset = concat(answer.path(v.assetKey.path), "/"),
                 name = answer.name(v.checkName), passed = v.success == true,
                 severity = value(v.severity), description = value(v.description) }
  elseif not isnull(e.checkName) then
    ev.check = { asset = concat(answer.path(e.assetKey.path), "/"), name = answer.name(e.checkName) }
  end
  return ev
end

----------------------------------------------------------------------------------------
-- Single requests. call = {once =, deadline =} (see client:_execute): with once, no retry
-- inside (the caller's loop retries); the caller's deadline, which each request ends by.
----------------------------------------------------------------------------------------

-- (the readers of the requests a wait repeats are made once, not a closure per call)
local function read_status(d, self)
  return status_of(self:_member(d.runOrError, "Run", "DagsterLuaRunStatus"))
end

local function run_status(self, run_id, call)
  return self:_query(D.run_status, { runId = run_id }, "DagsterLuaRunStatus", read_status, call)
end

local function read_progress(d, self)
  local r = self:_member(d.runOrError, "Run", "DagsterLuaRunProgress")
  local st = r.stats
  if st.__typename == "RunStatsSnapshot" then
    return { status = status_of(r), done = st.stepsSucceeded, failed = st.stepsFailed }
  end
  return { status = status_of(r) }
end

-- a run's status and step counts (the poll of a wait that shows its progress)
local function run_progress(self, run_id, call)
  return self:_query(D.run_progress, { runId = run_id }, "DagsterLuaRunProgress", read_progress, call)
end

-- one page of a run's event log: {events = list of event tables, cursor = the server's
-- cursor after them (a string, or nil), more = the server has more}
local function logs_page(self, run_id, cursor, limit, call)
  return self:_query(D.logs_for_run, { runId = run_id, afterCursor = cursor, limit = limit },
    "DagsterLuaLogsForRun", function(d)
      local r = self:_member(d.logsForRun, "EventConnection", "DagsterLuaLogsForRun")
      local events = {}
      for i, e in ipairs(r.events) do events[i] = event(e) end
      local c = value(r.cursor)
      if c ~= nil and type(c) ~= "string" then error("the cursor is not a string") end
      return { events = events, cursor = c, more = r.hasMore == true }
    end, call)
end

-- The failure message of a failed run: the first step failure's own exception text, else
-- the run failure's error, else the run failure event's message. Reads the event log
-- from the start and stops at the first step failure.
local function failure_message(self, run_id, call)
  local cursor, run_failure
  repeat
    local page = logs_page(self, run_id, cursor, 1000, call)
    for _, e in ipairs(page.events) do
      if e.type == "ExecutionStepFailureEvent" then
        local m = e.error_message or e.message
        if type(m) == "string" then return m end
      elseif e.type == "RunFailureEvent" and run_failure == nil then
        run_failure = e.error_message or e.message
      end
    end
    cursor = page.cursor
  until not page.more or #page.events == 0
  return run_failure
end

local function fetch_run(self, run_id, call)
  local run = self:_query(D.run, { runId = run_id }, "DagsterLuaRun", function(d)
    local r = self:_member(d.runOrError, "Run", "DagsterLuaRun")
    local run = summary(r)
    run.run_config = r.runConfig
    local succeeded, failed, skipped = 0, 0, 0
    for _, s in ipairs(r.stepStats) do
      if s.status == "SUCCESS" then succeeded = succeeded + 1
      elseif s.status == "FAILURE" then failed = failed + 1
      elseif s.status == "SKIPPED" then skipped = skipped + 1 end
    end
    local stats = r.stats
    if stats.__typename == "RunStatsSnapshot" then
      succeeded, failed = stats.stepsSucceeded, stats.stepsFailed
      if math.type(succeeded) ~= "integer" or math.type(failed) ~= "integer" then
        error("step counts are not integers")
      end
    end
    run.steps_succeeded, run.steps_failed, run.steps_skipped = succeeded, failed, skipped
    return run
  end, call)
  if run.status == "FAILURE" then
    run.failure_message = failure_message(self, run_id, call)
  end
  return run
end

-- client:wait_for_run(run_id [, opts]) -> final status, run (the table get_run returns)
--   opts.timeout       seconds (default: none); then TimeoutError {run_id, last_status}
--   opts.interval      first delay between polls (0.5 s), x1.5 per poll up to
--   opts.max_interval  (5 s); back to interval whenever the status changes
--   opts.on_status     on_status(status, run) once per status change, the first included;
--                      run is the full get_run table, fetched for each change
-- Polls with the status-only query; fetches the full run at a change when on_status is
-- given, and once at the end. Transient transport errors and HTTP 502/503/504 are retried
-- until the timeout; RunNotFoundError and other errors propagate at once.
function M:wait_for_run(run_id, opts)
  local F = "wait_for_run"
  checktype(run_id, "string", 1, F)
  local w = wait.options(opts, 2, F)
  local last, run
  wait.run(w, wait.poll, self, w, function()
    local status
    if w.progress then
      local p = run_progress(self, run_id, { once = true, deadline = w.deadline })
      status = p.status
      w.progress.show(fmt("run %s  %s  %.0fs%s", run_id, status, w.progress.elapsed(),
        p.done and fmt("  steps: %d done, %d failed", p.done, p.failed) or ""))
    else
      status = run_status(self, run_id, { once = true, deadline = w.deadline })
    end
    if status ~= last and (w.on_status or FINAL[status]) then
      local r = fetch_run(self, run_id, { once = true, deadline = w.deadline })
      return { status = r.status, run = r }
    end
    return { status = status }
  end, function(seen)
    if seen.status == last then return FINAL[last], false end
    last, run = seen.status, seen.run
    if w.on_status then w.on_status(last, run) end
    return FINAL[last], true
  end, function(last_error)
    error(E.new("TimeoutError", wait.with_error(fmt("run %s did not finish within %g s " ..
      "(last status: %s)", run_id, w.timeout, last or "unknown"), last_error),
      { run_id = run_id, last_status = last, timeout = w.timeout, url = self.url,
        last_error = last_error }), 0)
  end)
  return last, run
end

-- client:wait_for_runs(run_ids [, opts]) -> {run_id = final status}
-- The options of wait_for_run, with on_status(run_id, status). One runsOrError query per
-- round asks for the runs not yet final. A run missing from an answer raises
-- RunNotFoundError (run_ids = the missing ones); TimeoutError carries `pending` (the ids
-- not final, in the order given) and `last_statuses` (id -> last status seen).
function M:wait_for_runs(run_ids, opts)
  local F = "wait_for_runs"
  local given = check.string_list(run_ids, 1, F, "run_ids")
  local w = wait.options(opts, 2, F)
  local ids, seen_id = {}, {}
  for _, id in ipairs(given) do
    if not seen_id[id] then seen_id[id] = true; ids[#ids + 1] = id end
  end
  local final, last = {}, {}
  if #ids == 0 then return final end
  local function pending()
    local p = json.array()
    for _, id in ipairs(ids) do if not final[id] then p[#p + 1] = id end end
    return p
  end
  -- the progress line: how many runs are final, and how many are in each status
  local function show()
    local counts, names = {}, {}
    for _, id in ipairs(ids) do
      local s = last[id] or "unknown"
      if not counts[s] then names[#names + 1] = s end
      counts[s] = (counts[s] or 0) + 1
    end
    table.sort(names)
    for i, s in ipairs(names) do names[i] = fmt("%d %s", counts[s], s) end
    w.progress.show(fmt("%d of %d runs finished  %.0fs  %s", #ids - #pending(), #ids,
      w.progress.elapsed(), concat(names, ", ")))
  end
  wait.run(w, wait.poll, self, w, function()
    local p = pending()
    return { asked = p, statuses = self:_query(D.run_statuses, { runIds = p, limit = #p },
      "DagsterLuaRunStatuses", function(d)
        local r = self:_member(d.runsOrError, "Runs", "DagsterLuaRunStatuses")
        local statuses = {}
        for _, run in ipairs(r.results) do
          statuses[answer.run_id(run.runId)] = status_of(run)
        end
        return statuses
      end, { once = true, deadline = w.deadline }) }
  end, function(seen)
    local missing, changed = {}, false
    for _, id in ipairs(seen.asked) do
      local s = seen.statuses[id]
      if s == nil then
        missing[#missing + 1] = id
      elseif s ~= last[id] then
        last[id], changed = s, true
        if FINAL[s] then final[id] = s end
        if w.on_status then w.on_status(id, s) end
      end
    end
    if w.progress then show() end
    if #missing > 0 then
      error(E.new("RunNotFoundError", fmt("Run(s) could not be found: %s",
        concat(missing, ", ")), { run_ids = missing, url = self.url }), 0)
    end
    return #pending() == 0, changed
  end, function(last_error)
    local p = pending()
    local parts = {}
    for i, id in ipairs(p) do parts[i] = fmt("%s (%s)", id, last[id] or "unknown") end
    error(E.new("TimeoutError", wait.with_error(fmt("%d of %d runs did not finish within %g s: %s",
      #p, #ids, w.timeout, concat(parts, ", ")), last_error),
      { pending = p, last_statuses = last, timeout = w.timeout, url = self.url,
        last_error = last_error }), 0)
  end)
  return final
end

----------------------------------------------------------------------------------------
-- Reading runs
----------------------------------------------------------------------------------------

-- client:get_run(run_id) -> {run_id, job_name, status, tags = {k = v}, run_config (the
-- table the run was launched with), creation_time, start_time, end_time, update_time
-- (epoch seconds, nil when not reached), steps_succeeded, steps_failed, steps_skipped,
-- failure_message (FAILURE only: the user's exception text of the first failed step),
-- parent_run_id, root_run_id, can_terminate}. Unknown id: RunNotFoundError.
function M:get_run(run_id)
  checktype(run_id, "string", 1, "get_run")
  return fetch_run(self, run_id)
end

local FILTER_OPTS = { "statuses", "job_name", "tags", "run_ids", "created_after",
  "created_before", "updated_after", "updated_before" }
local RUNS_OPTS = options("runs", { "limit", "cursor", table.unpack(FILTER_OPTS) })
local EACH_RUN_OPTS = options("each_run", { "page_size", table.unpack(FILTER_OPTS) })
local TIME_FIELDS = { created_after = "createdAfter", created_before = "createdBefore",
  updated_after = "updatedAfter", updated_before = "updatedBefore" }

-- A RunsFilter from the Lua filter; `empty` is true when it can match nothing (an empty
-- run_ids or statuses list: the server would take it as no filter at all).
local function runs_filter(o, n, fname)
  local filter, empty = {}, false
  if o.statuses ~= nil then
    local l = check.string_list(o.statuses, n, fname, "statuses")
    for _, s in ipairs(l) do
      if rawget(enums.RunStatus, s) == nil then
        argerror(n, fname, fmt("statuses: unknown run status '%s'", s))
      end
    end
    filter.statuses, empty = l, #l == 0
  end
  if o.run_ids ~= nil then
    filter.runIds = check.string_list(o.run_ids, n, fname, "run_ids")
    empty = empty or #filter.runIds == 0
  end
  if o.job_name ~= nil then
    checktype(o.job_name, "string", n, fname, "job_name")
    -- the server takes "" for no filter at all: every job's runs
    if o.job_name == "" then argerror(n, fname, "job_name: a job name expected, got an empty string") end
    filter.pipelineName = o.job_name
  end
  if o.tags ~= nil then filter.tags = check.tag_list(o.tags, n, fname) end
  for k, field in pairs(TIME_FIELDS) do
    filter[field] = checknumber(o[k], n, fname, k, "any")
  end
  return filter, empty
end

-- the options of runs() or each_run() (argument 1), their RunsFilter and whether it
-- matches nothing; UnsupportedError for a status the server lacks
local function checked_filter(self, filter, fname, known)
  local o = checkopts(filter, 1, fname, known)
  local f, empty = runs_filter(o, 1, fname)
  caps.check_statuses(self, f.statuses, fname)
  return o, f, empty
end

-- one page of run summaries
local function runs_page(self, filter, cursor, limit)
  return self:_query(D.runs, { filter = filter, cursor = cursor, limit = limit },
    "DagsterLuaRuns", function(d)
      local r = self:_member(d.runsOrError, "Runs", "DagsterLuaRuns")
      local out = {}
      for i, run in ipairs(r.results) do out[i] = summary(run) end
      return out
    end)
end

-- client:runs([filter]) -> list of run summaries, newest first: {run_id, job_name, status,
-- tags, creation_time, start_time, end_time, update_time, parent_run_id, root_run_id,
-- can_terminate} (get_run without run_config, step counts and failure_message).
-- filter: statuses (list), job_name, tags ({k = v}, all must match), run_ids (list),
-- created_after, created_before, updated_after, updated_before (epoch seconds),
-- limit (default 100), cursor (a run id: start after that run).
function M:runs(filter)
  local F = "runs"
  local o, f, empty = checked_filter(self, filter, F, RUNS_OPTS)
  local limit = checkcount(o.limit, 1, F, "limit", 100)
  if o.cursor ~= nil then checktype(o.cursor, "string", 1, F, "cursor") end
  if empty then return {} end
  return runs_page(self, f, o.cursor, limit)
end

-- Which of ids still exist (one query).
local function existing(self, ids)
  return self:_query(D.run_statuses, { runIds = ids, limit = #ids }, "DagsterLuaRunStatuses",
    function(d)
      local r = self:_member(d.runsOrError, "Runs", "DagsterLuaRunStatuses")
      local s = {}
      for _, run in ipairs(r.results) do s[answer.run_id(run.runId)] = true end
      return s
    end)
end

-- client:each_run([filter]) -> iterator over every matching run summary, newest first:
--   for run in client:each_run{job_name = "x", page_size = 50} do ... end
-- The filter of runs() without limit and cursor, plus page_size (default 100). Pages
-- with the server's cursor (the id of the last run seen) and holds one page at a time.
-- Each page is asked with one run more than page_size, to know whether another follows:
-- N runs take ceil(N / page_size) requests, with no empty page at the end. The server
-- answers an empty page when the cursor run was deleted meanwhile; then the iterator
-- resumes after the oldest run of the last page that still exists.
function M:each_run(filter)
  local F = "each_run"
  local o, f, empty = checked_filter(self, filter, F, EACH_RUN_OPTS)
  local size = checkcount(o.page_size, 1, F, "page_size", 100)
  local page, i, done = nil, 0, empty
  -- at most size runs after cursor, and whether more follow
  local function ahead(cursor)
    local results = runs_page(self, f, cursor, size + 1)
    local more = #results > size
    if more then results[#results] = nil end
    return results, more
  end
  local function fetch(cursor, prev)
    local results, more = ahead(cursor)
    if #results == 0 and prev and #prev == size then
      -- more were there, now none: the cursor run is gone, or all after it; find where to go on
      local ids = json.array()
      for k, r in ipairs(prev) do ids[k] = r.run_id end
      local alive = existing(self, ids)
      if not alive[cursor] then
        local seen = {}
        for _, id in ipairs(ids) do seen[id] = true end
        for k = #prev - 1, 1, -1 do
          if alive[prev[k].run_id] then
            local raw, more_after = ahead(prev[k].run_id)
            local kept = {}
            for _, r in ipairs(raw) do
              if not seen[r.run_id] then kept[#kept + 1] = r end
            end
            return kept, not more_after
          end
        end
        error(E.new("CursorLostError", "each_run: every run of the last page was " ..
          "deleted while iterating; cannot tell where to go on", { url = self.url }), 0)
      end
    end
    return results, not more
  end
  return function()
    if done and (page == nil or i >= #page) then return nil end
    if page == nil or i >= #page then
      local results, last_page = fetch(page and page[#page].run_id, page)
      page, i = results, 0   -- the previous page is dropped here
      done = last_page
      if #page == 0 then done = true; return nil end
    end
    i = i + 1
    local r = page[i]
    if done and i == #page then page = nil end
    return r
  end
end

local IN_FLIGHT_OPTS = options("runs_in_flight",
  { "job_name", "tags", "also", "limit", "pools", "steps" })

-- client:runs_in_flight([filter]) -> list of run summaries with steps_succeeded and
-- steps_failed: the runs QUEUED, STARTING, STARTED or CANCELING (newest first), then the
-- runs of filter.also (run ids) not among them, whatever their status (a watch asks for
-- the runs it saw in flight, to learn how they ended). One request.
-- filter: job_name, tags ({k = v}), also (list of run ids), limit (default 1000), pools (each
-- QUEUED run's concurrency pools too, as `pools`: the server reads each run's plan for them),
-- steps (false: without the step counts, which the server reads from each run's event log)
function M:runs_in_flight(filter)
  local F = "runs_in_flight"
  local o = checkopts(filter, 1, F, IN_FLIGHT_OPTS)
  local f = runs_filter({ job_name = o.job_name, tags = o.tags }, 1, F)
  f.statuses = json.array({ table.unpack(enums.IN_FLIGHT_RUN_STATUSES) })
  local also = json.array(o.also ~= nil and check.string_list(o.also, 1, F, "also") or {})
  local limit = checkcount(o.limit, 1, F, "limit", 1000)
  if o.pools ~= nil then checktype(o.pools, "boolean", 1, F, "pools") end
  if o.steps ~= nil then checktype(o.steps, "boolean", 1, F, "steps") end
  local vars = { filter = f, others = also, hasOthers = #also > 0, limit = limit,
    othersLimit = math.max(#also, 1), pools = o.pools == true, stats = o.steps ~= false }
  if o.pools then
    local q = {}
    for k, v in pairs(f) do q[k] = v end
    q.statuses = json.array { "QUEUED" }
    vars.queued = q
  end
  return self:_query(D.runs_in_flight, vars, "DagsterLuaRunsInFlight", function(d)
    local out, seen, pools = {}, {}, {}
    local qp = d.queuedPools
    if o.pools and qp ~= nil and not isnull(qp) then
      if qp.__typename ~= "Runs" then self:_typed_error(qp, "DagsterLuaRunsInFlight") end
      for _, run in ipairs(qp.results) do pools[run.runId] = value(run.allPools) or {} end
    end
    for _, field in ipairs { "inFlight", "others" } do
      local r = d[field]
      if r ~= nil and not isnull(r) then
        if r.__typename ~= "Runs" then self:_typed_error(r, "DagsterLuaRunsInFlight") end
        for _, run in ipairs(r.results) do
          local s = summary(run)
          if not seen[s.run_id] then
            seen[s.run_id] = true
            local st = run.stats
            if type(st) == "table" and st.__typename == "RunStatsSnapshot" then
              s.steps_succeeded, s.steps_failed = st.stepsSucceeded, st.stepsFailed
            end
            if o.pools and s.status == "QUEUED" then s.pools = pools[s.run_id] or {} end
            out[#out + 1] = s
          end
        end
      end
    end
    return out
  end)
end

----------------------------------------------------------------------------------------
-- Stopping
----------------------------------------------------------------------------------------

local STOP_OPTS = options("stop_runs", { "grace" })

-- Which of ids are not ended (one run listing): a JSON array of run ids, sorted.
local function not_ended(self, ids)
  local out = json.array()
  local statuses = json.array { table.unpack(enums.NOT_ENDED_RUN_STATUSES) }
  for _, r in ipairs(self:runs { run_ids = ids, statuses = statuses, limit = #ids }) do
    out[#out + 1] = r.run_id
  end
  table.sort(out)
  return out
end

-- client:stop_runs(run_ids [, {grace = 10}]) -> {terminated, forced, left}: the runs of
-- run_ids not ended (made, queued or in flight) are terminated, and those not finished after
-- `grace` seconds are forced (MARK_AS_CANCELED_IMMEDIATELY). terminated: the runs asked to
-- stop; forced: those forced; left: those still not finished after that (run ids, sorted).
-- A run that refuses (CANCELING already: it was asked before) is no error: forced after the
-- grace like the others. Requests: a run listing, one termination, one listing per half
-- second of grace until they have all ended, and with forcing a termination and a listing.
function M:stop_runs(run_ids, opts)
  local F = "stop_runs"
  local given = check.string_list(run_ids, 1, F, "run_ids")
  local o = checkopts(opts, 2, F, STOP_OPTS)
  local grace = checknumber(o.grace, 2, F, "grace") or 10
  local report = { terminated = json.array(), forced = json.array(), left = json.array() }
  if #given == 0 then return report end
  local ids = not_ended(self, given)
  if #ids == 0 then return report end
  -- a run refusing the termination (TerminateRunsError) is forced below; any other error
  -- (unreachable, unauthorized) is the caller's
  local function terminate(list, o)
    local ok, e = pcall(self.terminate_runs, self, list, o)
    if not ok and not E.is(e, "TerminateRunsError") then error(e, 0) end
  end
  terminate(ids)
  report.terminated = ids
  local deadline = self:_now() + grace
  local flying = not_ended(self, ids)
  while #flying > 0 and self:_now() < deadline do
    self:_sleep(math.min(0.5, deadline - self:_now()))
    flying = not_ended(self, ids)
  end
  if #flying == 0 then return report end
  terminate(flying, { force = true })
  report.forced = flying
  report.left = not_ended(self, flying)
  return report
end

----------------------------------------------------------------------------------------
-- Events
----------------------------------------------------------------------------------------

local EVENTS_OPTS = options("events",
  { "cursor", "limit", "follow", "interval", "max_interval", "settle" })

-- A position in the event log: the server's cursor (opaque; nil for the beginning) plus
-- how many events after it were already read. Written "<server cursor>@<n>" when n > 0
-- (base64 never contains "@"), so that a position inside a page is exact too.
local function parse_cursor(c)
  local base, skip = c:match("^(.*)@(%d+)$")
  if not base then return c, 0 end
  return base ~= "" and base or nil, math.tointeger(tonumber(skip))
end
local function make_cursor(base, skip)
  if skip == 0 then return base end
  return (base or "") .. "@" .. skip
end

-- client:events(run_id [, opts]) -> iterator, state
--   for ev in client:events(run_id, {follow = true}) do print(ev.type, ev.message) end
-- Each event: {type (the GraphQL typename, e.g. "RunStartEvent"), event_type (e.g.
-- "RUN_START"; nil for log messages), level, message, step_key, run_id, timestamp (epoch
-- seconds), error_message and error_class (failure events: the user's exception when
-- Dagster wrapped it)}. Typenames this code does not know come through like the others.
-- opts: cursor (where to start; default the beginning), limit (events per request,
-- default 1000), follow (keep polling until the run has finished and every event was
-- read; interval 0.5 s backing off to max_interval 2 s, back to interval when events
-- come; after the run's final status it reads for `settle` more seconds, default 1, for
-- the events its process writes on exit).
-- state.cursor is the position after the last event returned (nil before any): pass it
-- as opts.cursor to go on later with nothing read twice and nothing skipped. state.done
-- is true once the iterator has ended. The first page is read at the call, so an unknown
-- run raises RunNotFoundError there.
function M:events(run_id, opts)
  local F = "events"
  checktype(run_id, "string", 1, F)
  local o = checkopts(opts, 2, F, EVENTS_OPTS)
  if o.cursor ~= nil then checktype(o.cursor, "string", 2, F, "cursor") end
  local limit = checkcount(o.limit, 2, F, "limit", 1000)
  local interval = checknumber(o.interval, 2, F, "interval", "positive") or 0.5
  local max_interval = math.max(interval,
    checknumber(o.max_interval, 2, F, "max_interval", "positive") or 2)
  local settle = checknumber(o.settle, 2, F, "settle") or 1
  local follow = o.follow and true or false

  local state = { cursor = o.cursor, run_id = run_id, done = false }
  local base, skip = nil, 0     -- where the current page was read from; still to skip
  if o.cursor then base, skip = parse_cursor(o.cursor) end
  local events, pos, page_end, more   -- the current page
  local finished_at                   -- when a final run status was seen (follow)
  local delay = interval
  local fill = caps.run_failure_filler(o.cursor == nil, function()  -- servers before 1.13
    return caps.first_step_failure(function(c) return logs_page(self, run_id, c, 1000) end)
  end)

  local function fetch()
    local page = logs_page(self, run_id, base, limit)
    events, page_end = page.events, page.cursor
    more = page.more and #events > 0      -- never spin on an empty page
    pos = math.min(skip, #events)     -- events of a resumed position already read
    skip = skip - pos
    if #events > pos then delay = interval end
  end
  fetch()

  local function iter()
    while true do
      if pos < #events then
        pos = pos + 1
        state.cursor = pos == #events and skip == 0 and page_end or make_cursor(base, pos)
        return fill(events[pos])
      end
      if state.done then return nil end
      if page_end ~= nil then base = page_end end
      if not more then                -- caught up with the log
        if not follow then state.done = true; return nil end
        local now = self:_now()
        if finished_at then
          if now - finished_at >= settle then state.done = true; return nil end
          self:_sleep(math.min(delay, finished_at + settle - now))
        elseif FINAL[run_status(self, run_id)] then
          finished_at = now           -- read again at once: what came before the status
        else
          self:_sleep(delay)
          delay = math.min(delay * BACKOFF, max_interval)
        end
      end
      fetch()
    end
  end
  return iter, state
end

----------------------------------------------------------------------------------------
-- Re-execution
----------------------------------------------------------------------------------------

local REEXECUTE_OPTS = options("reexecute",
  { "strategy", "tags", "use_parent_run_tags", "submission_id" })
local STRATEGIES = check.set { "ALL_STEPS", "FROM_FAILURE", "FROM_ASSET_FAILURE" }

-- client:reexecute(run_id [, opts]) -> the new run's id
--   opts.strategy  "ALL_STEPS" (default), "FROM_FAILURE" (failed or canceled runs only),
--                  "FROM_ASSET_FAILURE"
--   opts.tags      {k = v} added over the parent's tags
--   opts.use_parent_run_tags  false to not copy the parent's tags (default true)
--   opts.submission_id  the caller's idempotency key (see client:find_submission)
-- Launched once, like submit_job_execution (a lost answer is recovered by a tag). Errors
-- are the server's: PythonError for an unknown parent ("Could not find parent run with
-- id") and for FROM_FAILURE of a run that did not fail.
function M:reexecute(run_id, opts)
  local F = "reexecute"
  checktype(run_id, "string", 1, F)
  local o = checkopts(opts, 2, F, REEXECUTE_OPTS)
  local strategy = o.strategy or "ALL_STEPS"
  if not STRATEGIES[strategy] then
    argerror(2, F, fmt("strategy: ALL_STEPS, FROM_FAILURE or FROM_ASSET_FAILURE expected, " ..
      "got %s", tostring(strategy)))
  end
  local tags = check.tag_list(o.tags, 2, F)
  local params = { parentRunId = run_id, strategy = strategy, extraTags = tags }
  if o.use_parent_run_tags ~= nil then
    checktype(o.use_parent_run_tags, "boolean", 2, F, "use_parent_run_tags")
    params.useParentRunTags = o.use_parent_run_tags
  end
  return self:_launch_once(D.reexecute, { reexecutionParams = params }, "DagsterLuaReexecute",
    "launchRunReexecution", tags, check.submission_id(o.submission_id, 2, F))
end

return M
