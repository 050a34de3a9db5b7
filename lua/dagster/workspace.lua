-- The workspace: locations, repositories, jobs, assets, schedules and sensors (added to the client).
--
--   client:locations() / client:location(name)        -> {name, load_status, error, server_id, ...}
--   client:wait_for_location(name [, opts])            -> the location, once loaded without error
--   client:repositories() / client:jobs([filter])      -> {name, location} / {name, repository, ...}
--   client:materialize(keys [, opts])                  -> run id
--   client:assets([opts])                              -> {key, path, latest_materialization, group}
--   client:schedules([filter]) / client:sensors([filter]), start_/stop_schedule, start_/stop_sensor
--   client:schedule(name) / client:sensor(name) / client:ticks(name)  -> one in full, its ticks
--   reset_schedule, reset_sensor, set_sensor_cursor, (set_)auto_materialize_paused
--   client:unloadable_instigators([filter])  -> running states whose code is gone

local json = require "dagster.json"
local E = require "dagster.error"
local D = require "dagster.documents"
local caps = require "dagster.capabilities"
local check = require "dagster.check"
local answer = require "dagster.answer"

local fmt, concat = string.format, table.concat
local argerror, checktype, checkopts, options = check.argerror, check.type, check.opts, check.options
local checknumber, checkcount, set = check.number, check.count, check.set
local isnull, value, name_of = answer.isnull, answer.value, answer.name

local M = {}

------------------------------------------------------------------------------------------
-- Locations
------------------------------------------------------------------------------------------

-- A WorkspaceLocationEntry as the table the location methods return. A failed load is
-- LOADED plus a PythonError: `error` is then the user's own exception text (the first link
-- of errorChain, for DagsterUserCodeLoadError) or the server's message, and `error_message`
-- the full message of the load error.
local function location_table(entry)
  local t = { name = name_of(entry.name), load_status = entry.loadStatus,
              version_key = value(entry.versionKey), update_time = value(entry.updatedTimestamp) }
  local l = entry.locationOrLoadError
  if isnull(l) then return t end
  if l.__typename == "RepositoryLocation" then
    t.server_id = value(l.serverId)
    return t
  end
  local msg = type(l.message) == "string" and l.message or ("load error " .. tostring(l.__typename))
  local text, class = msg, value(l.className)
  local chain = l.errorChain
  if class == "DagsterUserCodeLoadError" and type(chain) == "table" and type(chain[1]) == "table"
    and type(chain[1].error) == "table" and type(chain[1].error.message) == "string" then
    text, class = chain[1].error.message, value(chain[1].error.className)
  end
  t.error = (text:gsub("%s+$", ""))
  t.error_message = msg
  t.error_class = class
  return t
end

local function location_not_found(self, name)
  error(E.new("RepositoryLocationNotFound", fmt("Location %s does not exist.", name),
    { url = self.url, location = name }), 0)
end

-- client:locations() -> list of location tables, in workspace order
function M:locations()
  return self:_query(D.locations, nil, "DagsterLuaLocations", function(d)
    local r = self:_member(d.workspaceOrError, "Workspace", "DagsterLuaLocations")
    local out = {}
    for i, entry in ipairs(r.locationEntries) do out[i] = location_table(entry) end
    return out
  end)
end

function M:_location(name, call)
  return self:_query(D.location, { name = name }, "DagsterLuaLocation", function(d)
    local r = d.workspaceLocationEntryOrError
    if r == json.null then location_not_found(self, name) end
    if r.__typename ~= "WorkspaceLocationEntry" then self:_typed_error(r, "DagsterLuaLocation") end
    return location_table(r)
  end, call)
end

-- client:location(name) -> one location table; RepositoryLocationNotFound when unknown
function M:location(name)
  checktype(name, "string", 1, "location")
  return self:_location(name)
end

local WAIT_OPTS = options("wait_for_location", { "timeout", "interval", "not_server_id" })

-- client:wait_for_location(name [, {timeout = 60, interval = 0.5, not_server_id = id}])
-- -> the location table, once it is LOADED without a load error (and, with not_server_id,
-- served by another server than that one). Polls the cheap locationStatusesOrError and reads
-- the location in detail only when its versionKey or update time has changed. Transient
-- transport errors are retried until the deadline; on expiry raises TimeoutError naming the
-- last error (or status) seen, with fields location, last_error and last_status. A timeout
-- of 0 is no limit.
function M:wait_for_location(name, opts)
  local F = "wait_for_location"
  checktype(name, "string", 1, F)
  local o = checkopts(opts, 2, F, WAIT_OPTS)
  local timeout = checknumber(o.timeout, 2, F, "timeout") or 60
  local delay = checknumber(o.interval, 2, F, "interval", "positive") or 0.5
  local max_delay = math.max(2, delay)
  local not_server = o.not_server_id
  if not_server ~= nil then checktype(not_server, "string", 2, F, "not_server_id") end

  local deadline = timeout > 0 and self:_now() + timeout or nil
  local seen            -- versionKey and update time of the last detailed read
  local last_error, last_state

  -- one poll: returns the location when the wait is over
  local function poll()
    local entry = self:_query(D.location_statuses, nil, "DagsterLuaLocationStatuses", function(d)
      local r = self:_member(d.locationStatusesOrError, "WorkspaceLocationStatusEntries", "DagsterLuaLocationStatuses")
      for _, e in ipairs(r.entries) do
        if name_of(e.name) == name then return e end
      end
      location_not_found(self, name)
    end, { once = true, deadline = deadline })
    if entry.loadStatus ~= "LOADED" then
      last_state = "status " .. tostring(entry.loadStatus)
      return nil
    end
    local key = tostring(entry.versionKey) .. "|" .. tostring(entry.updateTimestamp)
    if key == seen then return nil end
    local loc = self:_location(name, { once = true, deadline = deadline })
    seen = key
    if loc.error then
      last_error, last_state = loc.error, "load error: " .. loc.error
    elseif loc.load_status ~= "LOADED" then
      last_state = "status " .. tostring(loc.load_status)
    elseif not_server ~= nil and loc.server_id == not_server then
      last_state = fmt("still served by server %s", not_server)
    else
      return loc
    end
  end

  while true do
    local ok, res = pcall(poll)
    if ok and res then return res end
    if not ok then
      if not answer.retryable(res) then error(res, 0) end
      if not res.no_time_left then  -- a round at the deadline says less than the one before
        last_error, last_state = tostring(res), tostring(res)
      end
    end
    local left = deadline and deadline - self:_now() or math.huge
    if left <= 0 then
      error(E.new("TimeoutError", fmt("location %s was not loaded after %gs (last: %s)", name,
        timeout, last_state or "no answer"),
        { url = self.url, location = name, last_error = last_error, last_status = last_state }), 0)
    end
    self:_sleep(math.min(delay, left))
    delay = math.min(delay * 1.5, max_delay)
  end
end

------------------------------------------------------------------------------------------
-- Repositories and jobs
------------------------------------------------------------------------------------------

local FILTER_OPTS = options({ "jobs", "schedules", "sensors", "start_schedule", "stop_schedule",
  "start_sensor", "stop_sensor", "unloadable_instigators" }, { "location", "repository" })

-- {location =, repository =} -> location, repository (each a string or nil)
local function filter(opts, n, fname)
  return check.place(checkopts(opts, n, fname, FILTER_OPTS), n, fname)
end

local function matches(repo, location, repository)
  return (location == nil or repo.location.name == location)
    and (repository == nil or repo.name == repository)
end

-- The repositories of every loaded location (failed locations are left out by the server)
-- that match location and repository (nil: any), each read by read(repo, out), which
-- appends what it finds to out; returns out.
function M:_repository_nodes(document, opname, location, repository, read, variables)
  return self:_query(document, variables, opname, function(d)
    local r = self:_member(d.repositoriesOrError, "RepositoryConnection", opname)
    local out = {}
    for _, repo in ipairs(r.nodes) do
      name_of(repo.name); name_of(repo.location.name)
      if matches(repo, location, repository) then read(repo, out) end
    end
    return out
  end)
end

-- client:repositories() -> list of {name, location}
function M:repositories()
  return self:_repository_nodes(D.repositories, "DagsterLuaRepositories", nil, nil,
    function(repo, out)
      out[#out + 1] = { name = repo.name, location = repo.location.name }
    end)
end

-- client:jobs([{location =, repository =}]) -> list of {name, repository, location, is_asset_job,
-- partitioned}
function M:jobs(opts)
  local location, repository = filter(opts, 1, "jobs")
  return self:_repository_nodes(D.jobs, "DagsterLuaJobs", location, repository,
    function(repo, out)
      local asset_jobs = caps.asset_jobs(repo)  -- not Job.isAssetJob: it raises on 1.11
      local partitioned = {}
      for _, p in ipairs(value(repo.partitionSets) or {}) do partitioned[p.pipelineName] = true end
      for _, job in ipairs(repo.jobs) do
        out[#out + 1] = { name = name_of(job.name), repository = repo.name,
                          location = repo.location.name, is_asset_job = asset_jobs[job.name] == true,
                          partitioned = partitioned[job.name] == true }
      end
    end)
end

------------------------------------------------------------------------------------------
-- Assets
------------------------------------------------------------------------------------------

local ASSET_JOB = "__ASSET_JOB"

local key_id = answer.key_id
local function key_string(path) return concat(path, "/") end

local MATERIALIZE_OPTS = options("materialize",
  { "tags", "run_config", "partition", "location", "repository", "submission_id" })

-- Where a set of asset nodes can run together: returns location, repository, job name.
-- nodes_by_key: key id -> list of AssetNode; keys: the AssetKeyInputs in order.
local function place(self, keys, nodes_by_key, location, repository)
  local counts, first = {}, {}
  for _, k in ipairs(keys) do
    local here = {}
    for _, node in ipairs(nodes_by_key[key_id(k.path)]) do
      local loc, repo = node.repository.location.name, node.repository.name
      if (location == nil or loc == location) and (repository == nil or repo == repository) then
        local where = loc .. "\0" .. repo
        if not here[where] then
          here[where] = true
          counts[where] = (counts[where] or 0) + 1
          first[where] = first[where] or { loc, repo }
        end
      end
    end
  end
  local candidates = {}
  for where, n in pairs(counts) do
    if n == #keys then candidates[#candidates + 1] = where end
  end
  table.sort(candidates)
  if #candidates ~= 1 then
    local parts = {}
    for _, k in ipairs(keys) do
      local wheres = {}
      for _, node in ipairs(nodes_by_key[key_id(k.path)]) do
        wheres[#wheres + 1] = node.repository.location.name .. "/" .. node.repository.name
      end
      parts[#parts + 1] = fmt("%s (%s)", key_string(k.path), concat(wheres, ", "))
    end
    local why = #candidates == 0
      and "the asset keys are not all defined in one location and repository"
      or "the asset keys are defined in several locations or repositories; pass location " ..
         "and repository to choose one"
    error(E.new("AssetsInSeveralLocationsError", fmt("Cannot materialize in one run: %s: %s",
      why, concat(parts, "; ")), { url = self.url, body = parts }), 0)
  end
  local loc, repo = first[candidates[1]][1], first[candidates[1]][2]
  -- a job that contains every key: __ASSET_JOB when it does (it always exists where assets do)
  local lists = {}
  for _, k in ipairs(keys) do
    for _, node in ipairs(nodes_by_key[key_id(k.path)]) do
      if node.repository.location.name == loc and node.repository.name == repo then
        lists[#lists + 1] = node.jobNames
        break
      end
    end
  end
  local job = answer.common_job(lists) or ASSET_JOB
  return loc, repo, job
end

-- client:materialize(asset_keys [, opts]) -> run id. asset_keys is one key as a string
-- "a/b", or a list of keys, each "a/b" or {"a", "b"}. Options: tags, run_config,
-- partition (a key, checked first, for the dagster/partition tag; or a range {from =, to =}
-- materialized in one run, for assets that take a range), location and repository (to
-- choose among several definitions of the same keys). Raises AssetNotFoundError (before launching) for unknown
-- keys and AssetsInSeveralLocationsError when the keys cannot run in one repository.
function M:materialize(asset_keys, opts)
  local F = "materialize"
  local keys, given_strings = check.asset_keys(asset_keys, 1, F)
  local o = checkopts(opts, 2, F, MATERIALIZE_OPTS)
  local location, repository = filter({ location = o.location, repository = o.repository }, 2, F)
  local run_config = check.run_config(o.run_config, 2, F)
  local tags = check.tag_list(o.tags, 2, F)
  local sid = check.submission_id(o.submission_id, 2, F)
  local partition, range = o.partition, false
  if partition ~= nil then
    if type(partition) == "table" and (partition.from ~= nil or partition.to ~= nil) then
      partition, range = check.partitions({ from = partition.from, to = partition.to }, 2, F), true
    else
      partition = { check.partition_key(partition, 2, F, "partition") }
    end
  end

  -- each node as {repository = {name =, location = {name =}}, jobNames = {...}}, by key
  local by_key = self:_query(D.asset_nodes, { assetKeys = keys }, "DagsterLuaAssetNodes",
    function(d)
      local by_key = {}
      for _, node in ipairs(d.assetNodes) do
        local id = key_id(node.assetKey.path)
        local jobs = {}
        for i, j in ipairs(node.jobNames) do jobs[i] = name_of(j) end
        by_key[id] = by_key[id] or {}
        table.insert(by_key[id], { jobNames = jobs, repository = {
          name = name_of(node.repository.name),
          location = { name = name_of(node.repository.location.name) } } })
      end
      return by_key
    end)
  local missing = {}
  for _, k in ipairs(keys) do
    if by_key[key_id(k.path)] == nil then missing[#missing + 1] = k.path end
  end
  if #missing > 0 then
    local names = {}
    for i, p in ipairs(missing) do names[i] = "`" .. key_string(p) .. "`" end
    local msg = #missing == 1 and fmt("No asset with the key %s exists", names[1])
      or fmt("No assets with the keys %s exist", concat(names, ", "))
    if given_strings and #missing == #keys then  -- perhaps meant as one key of several parts
      msg = msg .. ' (a list of strings is a list of keys: give a key of several parts as ' ..
        '"a/b" or {{"a", "b"}})'
    end
    error(E.new("AssetNotFoundError", msg, { url = self.url, body = missing }), 0)
  end

  local loc, repo, job = place(self, keys, by_key, location, repository)
  if partition ~= nil then
    -- checked against the first key's partitions; a range is one run over all of it (the
    -- range tags of Dagster's single-run backfills), a key the dagster/partition tag, and a
    -- multi-dimensional key a dagster/partition/<dimension> tag per dimension as well (as
    -- Dagster tags its own runs: without them the asset's context.partition_key is a plain
    -- string, not a MultiPartitionKey)
    local names, where = self:check_partitions(keys[1].path, partition)
    for i = #tags, 1, -1 do
      if tags[i].key:find("^dagster/partition$") or tags[i].key:find("^dagster/partition/")
         or tags[i].key:find("^dagster/asset_partition_range_") then
        table.remove(tags, i)
      end
    end
    if range then
      tags[#tags + 1] = { key = "dagster/asset_partition_range_end", value = names[#names] }
      tags[#tags + 1] = { key = "dagster/asset_partition_range_start", value = names[1] }
    else
      tags[#tags + 1] = { key = "dagster/partition", value = names[1] }
      if where.dimensions then
        local k = check.split_partition_key(names[1], where.dimensions)
        for _, dim in ipairs(where.dimensions) do
          tags[#tags + 1] = { key = "dagster/partition/" .. dim, value = k[dim] }
        end
      end
    end
  end
  return self:_launch({
    selector = { repositoryLocationName = loc, repositoryName = repo, jobName = job,
                 assetSelection = keys },
    runConfigData = run_config,
    executionMetadata = { tags = tags },
  }, sid)
end

local ASSETS_OPTS = options("assets", { "prefix", "limit", "page_size" })

-- client:assets([{prefix = "a/b" or {"a", "b"}, limit = n, page_size = 100}]) -> list of
-- {key = {"a", "b"}, path = "a/b", latest_materialization = epoch seconds or nil, group =
-- the asset's group (nil for an asset without a definition), health = Dagster's overall
-- health (HEALTHY, WARNING, DEGRADED, UNKNOWN, NOT_APPLICABLE) where the server computes it:
-- Dagster+; nil on OSS}, in key
-- order, at most `limit` of them, fetched page_size at a time.
function M:assets(opts)
  local F = "assets"
  local o = checkopts(opts, 1, F, ASSETS_OPTS)
  local prefix = o.prefix ~= nil and check.asset_key(o.prefix, 1, F).path or nil
  local limit = checkcount(o.limit, 1, F, "limit")
  local page = checkcount(o.page_size, 1, F, "page_size", 100)
  local out, cursor = {}, nil
  while true do
    local want = limit and math.min(page, limit - #out) or page
    -- reads one page into out; returns how many came and the cursor after them (the
    -- document is the one the server takes: capabilities.lua)
    local document = caps.assets_document(self)
    local got = self:_query(document, { prefix = prefix, cursor = cursor, limit = want },
      "DagsterLuaAssets", function(d)
        local r = self:_member(d.assetsOrError, "AssetConnection", "DagsterLuaAssets")
        for _, node in ipairs(r.nodes) do
          local ts = caps.latest_materialization(node)
          local def, health = value(node.definition), value(node.assetHealth)
          out[#out + 1] = { key = node.key.path, path = key_string(node.key.path),
                            latest_materialization = not isnull(ts) and ts / 1000 or nil,
                            group = def and value(def.groupName) or nil,
                            health = health and value(health.assetHealth) or nil }
        end
        local c = value(r.cursor)
        if c ~= nil and type(c) ~= "string" then error("the cursor is not a string", 0) end
        return { n = #r.nodes, cursor = c }
      end)
    -- the cursor is set even on the last page: a short page is the end
    if got.n < want or (limit and #out >= limit) or got.cursor == nil then break end
    cursor = got.cursor
  end
  return out
end

------------------------------------------------------------------------------------------
-- Schedules and sensors
------------------------------------------------------------------------------------------

local KINDS = {
  schedule = { doc = "schedules", op = "DagsterLuaSchedules", field = "schedules",
               state = "scheduleState", Kind = "Schedule" },
  sensor = { doc = "sensors", op = "DagsterLuaSensors", field = "sensors",
             state = "sensorState", Kind = "Sensor" },
}

-- a tick's error: the user's own exception when Dagster wrapped it (the chain's first
-- link: "SensorExecutionError: Error occurred during the execution of evaluation_fn" says
-- nothing), else the message
local function tick_error(err)
  err = value(err)
  if not err then return nil end
  local chain = value(err.errorChain)
  local first = chain and chain[1] and value(chain[1].error)
  local m = first and value(first.message) or value(err.message)
  return type(m) == "string" and m or nil
end

local function instigator_table(kind, repo, s)
  local state = s[KINDS[kind].state]
  local t = { name = name_of(s.name), location = name_of(repo.location.name),
              repository = name_of(repo.name), status = name_of(state.status),
              id = value(state.id), selector_id = value(state.selectorId) }
  local ticks = {}
  for i, k in ipairs(type(state.ticks) == "table" and state.ticks or {}) do
    ticks[i] = { timestamp = answer.number(k.timestamp), status = name_of(k.status),
                 error = tick_error(k.error) }
  end
  t.last_tick = ticks[1]
  if #ticks > 1 then t.ticks = ticks end
  if kind == "schedule" then
    t.cron_schedule, t.job_name = name_of(s.cronSchedule), name_of(s.pipelineName)
  else
    t.min_interval = answer.number(s.minIntervalSeconds)
    local names = {}
    if type(s.targets) == "table" then
      for _, target in ipairs(s.targets) do names[#names + 1] = name_of(target.pipelineName) end
    end
    t.job_names, t.job_name = names, names[1]
  end
  return t
end

function M:_instigators(kind, location, repository, ticks)
  local K = KINDS[kind]
  return self:_repository_nodes(D[K.doc], K.op, location, repository, function(repo, out)
    for _, s in ipairs(repo[K.field]) do out[#out + 1] = instigator_table(kind, repo, s) end
  end, ticks and { ticks = ticks } or nil)
end

local LIST_OPTS = { schedules = options("schedules", { "location", "repository", "ticks" }),
                    sensors = options("sensors", { "location", "repository", "ticks" }) }

-- the options of schedules and sensors: location, repository, ticks (how many of the last
-- ticks each carries, default 1)
local function list_filter(opts, fname)
  local o = checkopts(opts, 1, fname, LIST_OPTS[fname])
  local location, repository = check.place(o, 1, fname)
  return location, repository, checkcount(o.ticks, 1, fname, "ticks")
end

-- the one schedule or sensor of that name (location and repository narrow the search), or
-- ScheduleNotFoundError / SensorNotFoundError, AmbiguousScheduleError / AmbiguousSensorError
function M:_find_instigator(kind, name, location, repository)
  local K = KINDS[kind]
  local found = {}
  for _, s in ipairs(self:_instigators(kind, location, repository)) do
    if s.name == name then found[#found + 1] = s end
  end
  if #found == 1 then return found[1] end
  if #found == 0 then
    local where = ""
    if location then where = fmt(" in location `%s`", location) end
    if repository then where = where .. fmt(" in repository `%s`", repository) end
    error(E.new(K.Kind .. "NotFoundError", fmt("No %ss with the name `%s` exist%s", kind, name,
      where), { url = self.url }), 0)
  end
  local names = {}
  for i, s in ipairs(found) do names[i] = s.location .. "/" .. s.repository end
  error(E.new("Ambiguous" .. K.Kind .. "Error", fmt("Must specify location and repository " ..
    "since there are multiple %ss with the name %s. Choose one of (location/repository): %s",
    kind, name, concat(names, ", ")), { url = self.url, body = found }), 0)
end

-- client:schedules([{location =, repository =}]) -> list of {name, location, repository,
-- cron_schedule, status, id, selector_id, job_name, last_tick = {timestamp, status, error}
-- (none before the first tick), ticks (with {ticks = n}, n > 1: the last n, newest first)}
function M:schedules(opts)
  return self:_instigators("schedule", list_filter(opts, "schedules"))
end

-- client:sensors([{location =, repository =}]) -> list of {name, location, repository, status,
-- id, selector_id, job_name, job_names, min_interval (seconds), last_tick}
function M:sensors(opts)
  return self:_instigators("sensor", list_filter(opts, "sensors"))
end

-- Starting and stopping: find the one schedule or sensor of that name, send the mutation, and
-- return the new status from the member it answers with (anything else is raised as its type).
--   client:start_schedule(name [, {location =, repository =}]) -> "RUNNING"
--   client:stop_schedule(name [, {location =, repository =}])  -> "STOPPED"
--   client:start_sensor(name [, {location =, repository =}])   -> "RUNNING"
--   client:stop_sensor(name [, {location =, repository =}])    -> "STOPPED"
-- Starting takes a selector (location, repository, name); stopping takes the InstigationState
-- id read with the schedule or sensor.
local function selector(s, key)
  return { repositoryLocationName = s.location, repositoryName = s.repository, [key] = s.name }
end

local SWITCHES = {
  start_schedule = { kind = "schedule", op = "DagsterLuaStartSchedule", field = "startSchedule",
    vars = function(s) return { scheduleSelector = selector(s, "scheduleName") } end,
    ok = "ScheduleStateResult", status = function(r) return r.scheduleState.status end },
  stop_schedule = { kind = "schedule", op = "DagsterLuaStopSchedule", field = "stopRunningSchedule",
    vars = function(s) return { id = s.id } end,
    ok = "ScheduleStateResult", status = function(r) return r.scheduleState.status end },
  start_sensor = { kind = "sensor", op = "DagsterLuaStartSensor", field = "startSensor",
    vars = function(s) return { sensorSelector = selector(s, "sensorName") } end,
    ok = "Sensor", status = function(r) return r.sensorState.status end },
  stop_sensor = { kind = "sensor", op = "DagsterLuaStopSensor", field = "stopSensor",
    vars = function(s) return { id = s.id } end,
    ok = "StopSensorMutationResult",  -- a sensor never started has no state: it is stopped
    status = function(r) return isnull(r.instigationState) and "STOPPED" or r.instigationState.status end },
}

for fname, sw in pairs(SWITCHES) do
  M[fname] = function(self, name, opts)
    checktype(name, "string", 1, fname)
    local location, repository = filter(opts, 2, fname)
    local ok, s = pcall(self._find_instigator, self, sw.kind, name, location, repository)
    if not ok then
      -- stopping one whose code is gone: its stored state, found by name
      local found = E.is(s) and s.name:find("NotFoundError$") and fname:find("^stop_")
        and select(2, pcall(self._unloadable, self, sw.kind, name, location, repository))
      if type(found) ~= "table" or E.is(found) then error(s, 0) end
      s = found
    end
    return self:_query(D[fname], sw.vars(s), sw.op, function(d)
      local r = d[sw.field]
      if r.__typename == sw.ok then return name_of(sw.status(r)) end
      self:_typed_error(r, sw.op)
    end)
  end
end

-- client:unloadable_instigators([{location =, repository =}]) -> list of {kind, name, location,
-- repository, status, id, selector_id}: the schedules and sensors whose stored state says
-- RUNNING but whose repository's code no longer defines them (renamed or deleted). Dagster
-- keeps such a state, and lists it as unloadable; stop_schedule / stop_sensor stop one by name.
-- One request for the repositories, then one per repository.
local KIND_OF = { SCHEDULE = "schedule", SENSOR = "sensor" }

-- the stored states, read here (inside the answer's reader, so that a bad one is a
-- ProtocolError): {kind = "schedule" | "sensor" | nil, name, status, id, selector_id}
local function read_states(d, self)
  local r = self:_member(d.instigationStatesOrError, "InstigationStates",
    "DagsterLuaInstigationStates")
  local out = {}
  for i, st in ipairs(r.results) do
    out[i] = { kind = KIND_OF[st.instigationType], name = name_of(st.name),
               status = name_of(st.status), id = value(st.id), selector_id = value(st.selectorId) }
  end
  return out
end

function M:unloadable_instigators(opts)
  local location, repository = filter(opts, 1, "unloadable_instigators")
  local repos = self:_repository_nodes(D.instigator_names, "DagsterLuaInstigatorNames", location,
    repository, function(repo, out)
      local names = { schedule = {}, sensor = {} }
      for _, s in ipairs(repo.schedules) do names.schedule[s.name] = true end
      for _, s in ipairs(repo.sensors) do names.sensor[s.name] = true end
      -- the repository's compound id, as the states are stored: origin id::selector id
      -- (Repository.id is that already up to Dagster 1.12, the selector id alone in 1.13)
      local id = repo.id:find("::", 1, true) and repo.id or (repo.origin.id .. "::" .. repo.id)
      out[#out + 1] = { id = id, name = repo.name,
                        location = repo.location.name, names = names }
    end)
  local out = {}
  for _, r in ipairs(repos) do
    local states = self:_query(D.instigation_states, { repositoryID = r.id },
      "DagsterLuaInstigationStates", read_states)
    for _, st in ipairs(states) do
      if st.kind and st.status == "RUNNING" and not r.names[st.kind][st.name] then
        out[#out + 1] = { kind = st.kind, name = st.name, location = r.location,
                          repository = r.name, status = st.status, id = st.id,
                          selector_id = st.selector_id }
      end
    end
  end
  return out
end

-- the unloadable instigator of that kind and name (nil when none)
function M:_unloadable(kind, name, location, repository)
  for _, s in ipairs(self:unloadable_instigators { location = location, repository = repository }) do
    if s.kind == kind and s.name == name then return s end
  end
end

------------------------------------------------------------------------------------------
-- One schedule or sensor in full: its ticks, resets, a sensor's cursor; auto-materialize
------------------------------------------------------------------------------------------

local TICK_STATUS = set { "STARTED", "SKIPPED", "SUCCESS", "FAILURE" }
local DEFAULT_TICKS = 10

local function tick_table(t)
  local run_ids = {}
  for i, id in ipairs(t.runIds) do run_ids[i] = answer.run_id(id) end
  return { id = value(t.tickId), status = name_of(t.status), timestamp = answer.number(t.timestamp),
           end_timestamp = answer.number(t.endTimestamp), run_ids = run_ids,
           skip_reason = value(t.skipReason), cursor = value(t.cursor),
           error = tick_error(t.error) }
end

local function ticks_of(list)
  local out = {}
  for i, t in ipairs(list) do out[i] = tick_table(t) end
  return out
end

local DETAIL_OPTS = options({ "schedule", "sensor" }, { "location", "repository", "ticks" })
local CHANGE_OPTS = options({ "reset_schedule", "reset_sensor", "set_sensor_cursor" },
  { "location", "repository" })

-- name, opts -> the instigator found (its location and repository), the number of ticks
local function find(self, kind, fname, name, opts, n)
  checktype(name, "string", 1, fname)
  local o = checkopts(opts, n, fname, fname:find("_") and CHANGE_OPTS or DETAIL_OPTS)
  local location, repository = check.place(o, n, fname)
  local limit = checkcount(o.ticks, n, fname, "ticks")
  return self:_find_instigator(kind, name, location, repository), limit or DEFAULT_TICKS
end

local function read_schedule(d, self)
  local r = d.scheduleOrError
  if r.__typename ~= "Schedule" then self:_typed_error(r, "DagsterLuaSchedule") end
  local st = r.scheduleState
  return { name = name_of(r.name), status = name_of(st.status), id = st.id,
           selector_id = st.selectorId, cron_schedule = r.cronSchedule,
           timezone = value(r.executionTimezone), job_name = r.pipelineName,
           description = value(r.description), default_status = r.defaultStatus,
           ticks = ticks_of(st.ticks) }
end

local function read_sensor(d, self)
  local r = d.sensorOrError
  if r.__typename ~= "Sensor" then self:_typed_error(r, "DagsterLuaSensor") end
  local st, names = r.sensorState, {}
  if type(r.targets) == "table" then
    for _, target in ipairs(r.targets) do names[#names + 1] = target.pipelineName end
  end
  local data = value(st.typeSpecificData) or {}
  return { name = name_of(r.name), status = name_of(st.status), id = st.id,
           selector_id = st.selectorId, job_names = names, job_name = names[1],
           sensor_type = r.sensorType, min_interval = r.minIntervalSeconds,
           description = value(r.description), default_status = r.defaultStatus,
           cursor = value(data.lastCursor), last_tick_time = value(data.lastTickTimestamp),
           last_run_key = value(data.lastRunKey), ticks = ticks_of(st.ticks) }
end

-- client:schedule(name [, {location =, repository =, ticks = 10}]) -> {name, location,
-- repository, status, cron_schedule, timezone, job_name, description, default_status, id,
-- selector_id, ticks = {{id, status, timestamp, end_timestamp, run_ids, skip_reason,
-- cursor, error}, ...} (newest first)}
-- client:sensor(name [, {location =, repository =, ticks = 10}]) -> {name, location,
-- repository, status, job_name, job_names, sensor_type, min_interval, cursor,
-- last_tick_time, last_run_key, description, default_status, id, selector_id, ticks}
local DETAILS = {
  schedule = { key = "scheduleName", op = "DagsterLuaSchedule", read = read_schedule },
  sensor = { key = "sensorName", op = "DagsterLuaSensor", read = read_sensor },
}

for kind, d in pairs(DETAILS) do
  M[kind] = function(self, name, opts)
    local s, limit = find(self, kind, kind, name, opts, 2)
    local t = self:_query(D[kind], { selector = selector(s, d.key), limit = limit }, d.op, d.read)
    t.location, t.repository = s.location, s.repository
    return t
  end
end

local TICKS_OPTS = check.options("ticks", { "location", "repository", "limit", "status",
  "before", "kind" })

local function read_ticks(d, self)
  local r = d.instigationStateOrError
  if r.__typename ~= "InstigationState" then self:_typed_error(r, "DagsterLuaTicks") end
  return ticks_of(r.ticks)
end

-- client:ticks(name [, {kind = "schedule" | "sensor", location =, repository =, limit = 10,
-- status = "FAILURE" or {"FAILURE", "SKIPPED"}, before = unix time}]) -> the ticks of the
-- schedule or sensor of that name, newest first. Without kind, the name is looked up among
-- both (AmbiguousInstigatorError when it names one of each).
function M:ticks(name, opts)
  checktype(name, "string", 1, "ticks")
  local o = checkopts(opts, 2, "ticks", TICKS_OPTS)
  for _, k in ipairs { "location", "repository" } do
    if o[k] ~= nil then checktype(o[k], "string", 2, "ticks", k) end
  end
  if o.kind ~= nil and o.kind ~= "schedule" and o.kind ~= "sensor" then
    argerror(2, "ticks", "kind: 'schedule' or 'sensor' expected, got " .. tostring(o.kind))
  end
  local limit = checkcount(o.limit, 2, "ticks", "limit") or DEFAULT_TICKS
  local before = checknumber(o.before, 2, "ticks", "before")
  local statuses = o.status
  if type(statuses) == "string" then statuses = { statuses } end
  if statuses ~= nil and type(statuses) ~= "table" then
    argerror(2, "ticks", "status: string or list of strings expected, got " .. type(statuses))
  end
  for _, v in ipairs(statuses or {}) do
    if not TICK_STATUS[v] then
      argerror(2, "ticks", "status: STARTED, SKIPPED, SUCCESS or FAILURE expected, got " ..
        tostring(v))
    end
  end
  local s
  if o.kind then
    s = self:_find_instigator(o.kind, name, o.location, o.repository)
  else
    local found = {}
    for _, kind in ipairs { "schedule", "sensor" } do
      local ok, res = pcall(self._find_instigator, self, kind, name, o.location, o.repository)
      if ok then found[#found + 1] = res
      elseif not (E.is(res) and res.name:find("NotFoundError$")) then error(res, 0) end
    end
    if #found == 0 then
      error(E.new("InstigatorNotFoundError", fmt("No schedule or sensor with the name `%s` " ..
        "exists", name), { url = self.url }), 0)
    elseif #found > 1 then
      error(E.new("AmbiguousInstigatorError", fmt("%s is both a schedule and a sensor: pass " ..
        "kind = \"schedule\" or kind = \"sensor\"", name), { url = self.url }), 0)
    end
    s = found[1]
  end
  return self:_query(D.ticks, { selector = selector(s, "name"), limit = limit,
    statuses = statuses, before = before }, "DagsterLuaTicks", read_ticks)
end

-- client:reset_schedule(name [, {location =, repository =}]) -> the status it has now: back to
-- what its code declares (default_status); client:reset_sensor(name [, opts]) the same
function M:reset_schedule(name, opts)
  local s = find(self, "schedule", "reset_schedule", name, opts, 2)
  return self:_query(D.reset_schedule, { scheduleSelector = selector(s, "scheduleName") },
    "DagsterLuaResetSchedule", function(d)
      local r = d.resetSchedule
      if r.__typename == "ScheduleStateResult" then return name_of(r.scheduleState.status) end
      self:_typed_error(r, "DagsterLuaResetSchedule")
    end)
end

function M:reset_sensor(name, opts)
  local s = find(self, "sensor", "reset_sensor", name, opts, 2)
  return self:_query(D.reset_sensor, { sensorSelector = selector(s, "sensorName") },
    "DagsterLuaResetSensor", function(d)
      local r = d.resetSensor
      if r.__typename == "Sensor" then return name_of(r.sensorState.status) end
      self:_typed_error(r, "DagsterLuaResetSensor")
    end)
end

-- client:set_sensor_cursor(name, cursor [, {location =, repository =}]) -> the cursor the
-- sensor has now (cursor nil: cleared, the sensor starts over)
function M:set_sensor_cursor(name, cursor, opts)
  if cursor ~= nil then checktype(cursor, "string", 2, "set_sensor_cursor") end
  local s = find(self, "sensor", "set_sensor_cursor", name, opts, 3)
  return self:_query(D.set_sensor_cursor, { sensorSelector = selector(s, "sensorName"),
    cursor = cursor == nil and json.null or cursor }, "DagsterLuaSetSensorCursor", function(d)
      local r = d.setSensorCursor
      if r.__typename ~= "Sensor" then self:_typed_error(r, "DagsterLuaSetSensorCursor") end
      return value((value(r.sensorState.typeSpecificData) or {}).lastCursor)
    end)
end

-- client:auto_materialize_paused() -> boolean: whether the deployment's auto-materialize
-- (declarative automation's daemon) is paused
function M:auto_materialize_paused()
  return self:_query(D.auto_materialize_paused, nil, "DagsterLuaAutoMaterializePaused",
    function(d)
      local v = d.instance.autoMaterializePaused
      if type(v) ~= "boolean" then error("autoMaterializePaused is not a boolean", 0) end
      return v
    end)
end

-- client:set_auto_materialize_paused(paused) -> paused, as the server has it now
function M:set_auto_materialize_paused(paused)
  checktype(paused, "boolean", 1, "set_auto_materialize_paused")
  return self:_query(D.set_auto_materialize_paused, { paused = paused },
    "DagsterLuaSetAutoMaterializePaused", function(d)
      local v = d.setAutoMaterializePaused
      if type(v) ~= "boolean" then error("setAutoMaterializePaused is not a boolean", 0) end
      return v
    end)
end

------------------------------------------------------------------------------------------
-- Permissions
------------------------------------------------------------------------------------------

local PERMISSIONS = [[
query DagsterLuaPermissions { permissions { permission value disabledReason } }]]

-- client:permissions() -> {[name] = {allowed = boolean, reason = string or nil}}: what the
-- token may do on this deployment, as the server says (names as Dagster's:
-- launch_pipeline_execution, terminate_pipeline_execution, reload_repository_location, ...)
function M:permissions()
  return self:_query(PERMISSIONS, nil, "DagsterLuaPermissions", function(d)
    local out = {}
    for _, p in ipairs(d.permissions) do
      out[name_of(p.permission)] = { allowed = p.value == true, reason = value(p.disabledReason) }
    end
    return out
  end)
end

------------------------------------------------------------------------------------------
-- Dagster+ deployments
------------------------------------------------------------------------------------------

-- the dagster-cloud CLI's own query, sent to the organization's URL
local DEPLOYMENTS = [[
query CliDeploymentsQuery {
  fullDeployments { deploymentName deploymentId deploymentType }
}]]

local function not_dagster_plus(self, why)
  error(E.new("UnsupportedError", fmt("client:deployments(): %s is not a Dagster+ deployment " ..
    "(%s): deployments are an organization's, on Dagster+", self.url, why),
    { url = self.url, feature = "deployments" }), 0)
end

-- client:deployments() -> list of {name, id, type, is_branch}: the organization's
-- deployments (Dagster+), asked at the organization's URL (client_from_env knows it; else
-- https://HOST/DEPLOYMENT/graphql gives https://HOST/graphql). UnsupportedError elsewhere.
function M:deployments()
  local org_url = self.org_url
  if org_url == nil then
    local host = self.url:match("^(https?://[^/]+)/[^/]+/graphql$")
    if not host then not_dagster_plus(self, "no organization URL") end
    org_url = host .. "/graphql"
  end
  local ok, res = pcall(self._query, self, DEPLOYMENTS, nil, "CliDeploymentsQuery", function(d)
    local out = {}
    for i, dep in ipairs(d.fullDeployments) do
      local t = value(dep.deploymentType)
      out[i] = { name = name_of(dep.deploymentName), id = value(dep.deploymentId), type = t,
                 is_branch = t == "BRANCH" }
    end
    return out
  end, { url = org_url })
  if ok then return res end
  if E.is(res) and (res.name == "GraphQLError" or res.not_graphql) then
    not_dagster_plus(self, res.name == "GraphQLError" and res.message or ("HTTP " .. tostring(res.status)))
  end
  error(res, 0)
end

return M
