-- The instance: its settings, daemons and concurrency pools, and deleting runs (added to the
-- client).
--
--   client:instance()                        -> {run_queuing, max_concurrent_runs, ...}
--   client:daemon_health()                   -> list of {type, required, healthy, ...}
--   client:concurrency_pools()               -> list of {pool, limit, claimed, pending, ...}
--   client:free_concurrency_slots(run_id [, step_key]) -> true
--   client:set_concurrency_limit(pool, n) / client:delete_concurrency_limit(pool) -> true
--   client:delete_run(run_id [, {force = true}]) -> true
--   client:queue([opts])                     -> the queued runs and what holds each

local E = require "dagster.error"
local D = require "dagster.documents"
local check = require "dagster.check"
local answer = require "dagster.answer"
local enums = require "dagster.enums"
local yaml = require "dagster.yaml"
local concurrent = require "dagster.concurrent"

local fmt = string.format
local checktype, checkopts, options, argerror = check.type, check.opts, check.options, check.argerror
local value, isnull = answer.value, answer.isnull
local number, boolean, name_of = answer.number, answer.boolean, answer.name

local M = {}

-- client:instance() -> the instance's settings: run_queuing (the run queue is in use),
-- max_concurrent_runs, tag_concurrency_limits (a list of {key, value, limit}, decoded from
-- the server's YAML; nil when none), op_concurrency_aware, auto_materialize_paused,
-- pools_supported, min_pool_limit, max_pool_limit, default_pool_limit, pool_granularity
function M:instance()
  return self:_query(D.instance, nil, "DagsterLuaInstance", function(d)
    local i = d.instance
    local q = value(i.runQueueConfig)
    local pc = value(i.poolConfig)
    local out = {
      run_queuing = i.runQueuingSupported == true and q ~= nil,
      auto_materialize_paused = boolean(i.autoMaterializePaused),
      pools_supported = boolean(i.supportsConcurrencyLimits),
      min_pool_limit = number(i.minConcurrencyLimitValue),
      max_pool_limit = number(i.maxConcurrencyLimitValue),
    }
    if q then
      out.max_concurrent_runs = math.tointeger(number(q.maxConcurrentRuns))
      out.op_concurrency_aware = boolean(q.isOpConcurrencyAware)
      local text = value(q.tagConcurrencyLimitsYaml)
      if text and text ~= "" and yaml.available() then
        local ok, v = pcall(yaml.decode, text, "tagConcurrencyLimitsYaml")
        if ok and type(v) == "table" then out.tag_concurrency_limits = v end
      end
      out.tag_concurrency_limits_yaml = text
    end
    if pc then
      out.default_pool_limit = number(pc.defaultPoolLimit)
      out.pool_granularity = value(pc.poolGranularity)
    end
    return out
  end)
end

-- client:daemon_health() -> list of {type, required, healthy, last_heartbeat (epoch seconds
-- or nil), errors (the last heartbeat's error messages)}, sorted by type
function M:daemon_health()
  return self:_query(D.daemon_health, nil, "DagsterLuaDaemonHealth", function(d)
    local out = {}
    for _, s in ipairs(d.instance.daemonHealth.allDaemonStatuses) do
      local errors = {}
      for _, e in ipairs(s.lastHeartbeatErrors) do
        errors[#errors + 1] = value(e.message) or value(e.className) or "an error"
      end
      out[#out + 1] = { type = name_of(s.daemonType), required = boolean(s.required),
                        healthy = boolean(s.healthy),
                        last_heartbeat = number(s.lastHeartbeatTime), errors = errors }
    end
    table.sort(out, function(a, b) return a.type < b.type end)
    return out
  end)
end

-- client:concurrency_pools() -> list of {pool, limit (nil when none is set), slot_count,
-- using_default_limit, claimed = {{run_id, step_key}}, pending = {{run_id, step_key,
-- enqueued, assigned, priority}}}, sorted by pool
function M:concurrency_pools()
  return self:_query(D.concurrency_pools, nil, "DagsterLuaConcurrencyPools", function(d)
    local out = {}
    for _, p in ipairs(d.instance.concurrencyLimits) do
      local claimed, pending = {}, {}
      for i, c in ipairs(p.claimedSlots) do
        claimed[i] = { run_id = answer.run_id(c.runId), step_key = name_of(c.stepKey) }
      end
      for i, s in ipairs(p.pendingSteps) do
        pending[i] = { run_id = answer.run_id(s.runId), step_key = name_of(s.stepKey),
                       enqueued = number(s.enqueuedTimestamp),
                       assigned = number(s.assignedTimestamp), priority = number(s.priority) }
      end
      out[#out + 1] = { pool = name_of(p.concurrencyKey), limit = number(p.limit),
                        slot_count = number(p.slotCount),
                        using_default_limit = boolean(p.usingDefaultLimit), claimed = claimed,
                        pending = pending }
    end
    table.sort(out, function(a, b) return a.pool < b.pool end)
    return out
  end)
end

-- client:free_concurrency_slots(run_id [, step_key]) -> true: frees the slots the run (or
-- one of its steps) holds in every pool
function M:free_concurrency_slots(run_id, step_key)
  local F = "free_concurrency_slots"
  checktype(run_id, "string", 1, F)
  if step_key ~= nil then checktype(step_key, "string", 2, F) end
  return self:_query(D.free_concurrency_slots, { runId = run_id, stepKey = step_key },
    "DagsterLuaFreeConcurrencySlots", function(d) return d.freeConcurrencySlots == true end)
end

-- the pool limit the server takes: an integer within the instance's bounds (checked by
-- the server: the message is its own)
function M:set_concurrency_limit(pool, n)
  local F = "set_concurrency_limit"
  checktype(pool, "string", 1, F)
  if math.type(n) ~= "integer" then
    if type(n) == "number" and n == math.floor(n) then n = math.tointeger(n)
    else argerror(2, F, fmt("integer expected, got %s", n == nil and "no value" or
      (type(n) == "number" and "number" or type(n)))) end
  end
  if n < 0 then argerror(2, F, fmt("non-negative integer expected, got %d", n)) end
  return self:_query(D.set_concurrency_limit, { key = pool, limit = n },
    "DagsterLuaSetConcurrencyLimit", function(d) return d.setConcurrencyLimit == true end)
end

function M:delete_concurrency_limit(pool)
  checktype(pool, "string", 1, "delete_concurrency_limit")
  return self:_query(D.delete_concurrency_limit, { key = pool },
    "DagsterLuaDeleteConcurrencyLimit", function(d) return d.deleteConcurrencyLimit == true end)
end

------------------------------------------------------------------------------------------
-- The run queue: what holds each queued run
------------------------------------------------------------------------------------------

local QUEUE_OPTS = options("queue", { "heartbeat", "limit" })
local IN_PROGRESS = { STARTING = true, STARTED = true, CANCELING = true, NOT_STARTED = true }

-- whether a run's tags match a tag concurrency limit {key, value}: value nil (any value), a
-- string, or {applyLimitPerUniqueValue = true} (each value its own limit)
local function tag_matches(lim, tags, other)
  local v = tags[lim.key]
  if v == nil then return false end
  if type(lim.value) == "string" then return v == lim.value end
  if type(lim.value) == "table" and lim.value.applyLimitPerUniqueValue then
    return other == nil or other[lim.key] == v
  end
  return true
end

-- The first result of each of fns, in order: the functions run as concurrent tasks when
-- called from the main coroutine or from a task, one after the other from any other
-- coroutine (which can neither drive the tasks nor wait for them by yielding). The first
-- error, in the order of fns, is raised once all have ended.
local function all(fns)
  local _, main = coroutine.running()
  if not main and not concurrent.in_task() then
    local out = {}
    for i, fn in ipairs(fns) do out[i] = fn() end
    return out
  end
  local tasks = {}
  for i, fn in ipairs(fns) do tasks[i] = concurrent.spawn(fn) end
  return concurrent.gather(tasks)
end

-- client:queue([{heartbeat = 120, limit = 1000}]) -> the run queue now, and what holds each
-- queued run: {queued = list of {run_id, job_name, created, queued_for, pools, tags, held_by
-- = list of {kind, text, ...}}, in_progress = the runs in flight not queued, pools =
-- concurrency_pools() with `ended` (the claimed slots' runs that have ended) on each,
-- instance = instance(), daemons = daemon_health(), daemon = its QUEUED_RUN_COORDINATOR}.
-- held_by kinds: "daemon" (no queued run coordinator, or its heartbeat older than
-- `heartbeat` seconds), "queue_limit", "tag_limit" (key, value, limit), "pool" (pool, limit,
-- claimed, ended). Four requests, whatever the number of runs (at most `limit` in flight):
-- the instance, the daemons and the pools at once, the runs in flight after the pools (the
-- runs holding slots are asked for with them).
function M:queue(opts)
  local F = "queue"
  local o = checkopts(opts, 1, F, QUEUE_OPTS)
  local heartbeat = check.number(o.heartbeat, 1, F, "heartbeat", "positive") or 120
  local limit = check.count(o.limit, 1, F, "limit", 1000)
  local got = all {
    function() return self:instance() end,
    function() return self:daemon_health() end,
    function()
      local pools = self:concurrency_pools()
      local claimed = {}
      for _, p in ipairs(pools) do
        for _, c in ipairs(p.claimed) do claimed[#claimed + 1] = c.run_id end
      end
      return { pools, self:runs_in_flight { also = claimed, limit = limit, pools = true,
                                             steps = false } }
    end,
  }
  local inst, daemons, pools, runs = got[1], got[2], got[3][1], got[3][2]
  local now = os.time()
  local status_of, queued, in_progress = {}, {}, {}
  for _, r in ipairs(runs) do
    status_of[r.run_id] = r.status
    if r.status == "QUEUED" then queued[#queued + 1] = r
    elseif IN_PROGRESS[r.status] then in_progress[#in_progress + 1] = r end
  end
  local by_pool = {}
  for _, p in ipairs(pools) do
    p.ended = {}
    local seen = {}
    for _, c in ipairs(p.claimed) do
      local st = status_of[c.run_id]
      if (st == nil or enums.FINAL_RUN_STATUSES[st]) and not seen[c.run_id] then
        seen[c.run_id] = true
        p.ended[#p.ended + 1] = { run_id = c.run_id, status = st }
      end
    end
    by_pool[p.pool] = p
  end
  local daemon
  for _, d in ipairs(daemons) do if d.type == "QUEUED_RUN_COORDINATOR" then daemon = d end end
  local daemon_why
  if not daemon then
    daemon_why = "no queued run coordinator daemon has ever beaten"
  elseif daemon.healthy == false then
    daemon_why = "the queued run coordinator daemon is unhealthy"
  elseif not daemon.last_heartbeat or now - daemon.last_heartbeat > heartbeat then
    daemon_why = fmt("the queued run coordinator daemon has not beaten for %ds",
      daemon.last_heartbeat and math.floor(now - daemon.last_heartbeat) or -1)
  end
  local out = {}
  for _, r in ipairs(queued) do
    local held = {}
    if daemon_why then held[#held + 1] = { kind = "daemon", text = daemon_why } end
    if inst.max_concurrent_runs and inst.max_concurrent_runs >= 0
        and #in_progress >= inst.max_concurrent_runs then
      held[#held + 1] = { kind = "queue_limit", limit = inst.max_concurrent_runs,
        text = fmt("the queue's limit: %d of %d runs in progress", #in_progress,
          inst.max_concurrent_runs) }
    end
    for _, lim in ipairs(type(inst.tag_concurrency_limits) == "table" and inst.tag_concurrency_limits or {}) do
      if type(lim) == "table" and lim.key and tonumber(lim.limit) and tag_matches(lim, r.tags) then
        local n = 0
        for _, x in ipairs(in_progress) do
          if tag_matches(lim, x.tags, r.tags) then n = n + 1 end
        end
        if n >= tonumber(lim.limit) then
          held[#held + 1] = { kind = "tag_limit", key = lim.key, value = r.tags[lim.key],
            limit = tonumber(lim.limit), text = fmt("the tag limit %s=%s: %d of %d runs", lim.key,
              r.tags[lim.key], n, tonumber(lim.limit)) }
        end
      end
    end
    if inst.op_concurrency_aware ~= false then
      for _, name in ipairs(r.pools or {}) do
        local p = by_pool[name]
        local lim = p and p.limit or inst.default_pool_limit
        local n = p and #p.claimed or 0
        if lim and n >= lim then
          local text = fmt("pool %s: %d of %d slots claimed", name, n, lim)
          if p and #p.ended > 0 then
            local ids = {}
            for i, e in ipairs(p.ended) do ids[i] = e.run_id end
            text = text .. fmt(", %d by runs that have ended (%s)", #p.ended, table.concat(ids, ", "))
          end
          held[#held + 1] = { kind = "pool", pool = name, limit = lim, claimed = n,
            ended = p and #p.ended or 0, text = text }
        end
      end
    end
    out[#out + 1] = { run_id = r.run_id, job_name = r.job_name, created = r.creation_time,
      queued_for = r.creation_time and now - r.creation_time or nil, pools = r.pools,
      tags = r.tags, held_by = held }
  end
  return { queued = out, in_progress = in_progress, pools = pools, instance = inst,
           daemon = daemon, daemons = daemons }
end

local DELETE_OPTS = options("delete_run", { "force" })

-- client:delete_run(run_id [, {force = true}]) -> true: deletes the run and its event log.
-- A run not yet finished is refused (RunInProgressError: terminate it first) unless force.
function M:delete_run(run_id, opts)
  local F = "delete_run"
  checktype(run_id, "string", 1, F)
  local o = checkopts(opts, 2, F, DELETE_OPTS)
  if o.force ~= nil then checktype(o.force, "boolean", 2, F, "force") end
  if not o.force then
    local status = self:get_run_status(run_id)
    if not enums.FINAL_RUN_STATUSES[status] then
      error(E.new("RunInProgressError", fmt("run %s is %s: terminate it first (or delete " ..
        "it with force = true)", run_id, status), { url = self.url, run_id = run_id,
        status = status }), 0)
    end
  end
  return self:_query(D.delete_run, { runId = run_id }, "DagsterLuaDeleteRun", function(d)
    local r = d.deleteRun
    if r.__typename == "DeletePipelineRunSuccess" then return true end
    if r.__typename == "RunNotFoundError" and isnull(r.message) then
      self:_typed_error(r, "DagsterLuaDeleteRun", fmt("Run Id %s not found", run_id))
    end
    self:_typed_error(r, "DagsterLuaDeleteRun")
  end, { once = true })
end

return M
