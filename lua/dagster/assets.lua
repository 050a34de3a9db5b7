-- Assets as operators handle them: dynamic partitions, runless reports, wipes (added to the
-- client).
--
--   client:dynamic_partitions(def_name [, opts])       -> the definition's keys
--   client:add_partition(def_name, key | keys [, opts]) -> keys added, keys already there
--   client:delete_partitions(def_name, keys [, opts])   -> true
--   client:report_materialization(key [, opts])         -> true (reportRunlessAssetEvents)
--   client:report_observation(key [, opts])             -> true
--   client:wipe(keys [, {partitions =}])                -> true
--   client:asset_checks([keys | opts] [, opts])         -> checks, each with its last execution
--   client:execute_checks(checks [, opts])              -> run id (the checks alone)
--   client:check_results(run_id)                        -> the run's checks and their outcome
--   client:asset_health([keys | opts] [, opts])          -> each asset's partitions and runs
--   client:asset(key)                                    -> one asset's health and checks

local json = require "dagster.json"
local E = require "dagster.error"
local D = require "dagster.documents"
local check = require "dagster.check"
local answer = require "dagster.answer"
local enums = require "dagster.enums"

local fmt, concat, sort = string.format, table.concat, table.sort
local argerror, checktype, checkopts, options = check.argerror, check.type, check.opts, check.options
local value, name_of = answer.value, answer.name

local M = {}

------------------------------------------------------------------------------------------
-- Dynamic partitions
------------------------------------------------------------------------------------------

-- Where a dynamic partitions definition is: the repositories whose assets use it (as the
-- definition itself or as a dimension of a multi-partitions one), narrowed by
-- location/repository. Returns {location =, repository =, asset = an asset key path using
-- it, dimension = the dimension's name when it is one}; DynamicPartitionsDefinitionNotFound
-- when no asset uses it, AmbiguousDynamicPartitionsDefinition when several repositories do.
function M:_dynamic_place(def_name, location, repository)
  local found, seen = {}, {}
  self:_query(D.dynamic_partition_defs, nil, "DagsterLuaDynamicPartitionDefs", function(d)
    local r = self:_member(d.repositoriesOrError, "RepositoryConnection", "DagsterLuaDynamicPartitionDefs")
    for _, repo in ipairs(r.nodes) do
      local loc = repo.location.name
      if (location == nil or loc == location) and (repository == nil or repo.name == repository) then
        for _, node in ipairs(repo.assetNodes) do
          local p = value(node.partitionDefinition)
          local dim
          if p and p.type == "DYNAMIC" and value(p.name) == def_name then
            dim = false
          elseif p and p.type == "MULTIPARTITIONED" then
            for _, t in ipairs(p.dimensionTypes) do
              if value(t.dynamicPartitionsDefinitionName) == def_name then dim = t.name end
            end
          end
          local where = loc .. "\0" .. repo.name
          if dim ~= nil and not seen[where] then
            seen[where] = true
            found[#found + 1] = { location = loc, repository = repo.name,
                                  asset = answer.path(node.assetKey.path), dimension = dim or nil }
          end
        end
      end
    end
  end)
  if #found == 1 then return found[1] end
  if #found == 0 then
    error(E.new("DynamicPartitionsDefinitionNotFound", fmt("no asset uses a dynamic " ..
      "partitions definition named %s%s", def_name, location and (" in location " .. location) or ""),
      { url = self.url, partitions_def = def_name }), 0)
  end
  local names = {}
  for i, f in ipairs(found) do names[i] = f.location .. "/" .. f.repository end
  error(E.new("AmbiguousDynamicPartitionsDefinition", fmt("dynamic partitions definition %s " ..
    "is in several repositories; choose one with location and repository: %s", def_name,
    concat(names, ", ")), { url = self.url, partitions_def = def_name, body = found }), 0)
end

-- a list of names read from an answer, each checked (answer.name)
local function strings(list)
  local out = {}
  for i, k in ipairs(list) do out[i] = name_of(k) end
  return out
end

-- the keys of the definition, read through an asset that uses it
local function keys_of(self, place)
  return self:_query(D.asset_partition_keys, { assetKey = { path = place.asset } },
    "DagsterLuaAssetPartitionKeys", function(d)
      local node = self:_member(d.assetNodeOrError, "AssetNode", "DagsterLuaAssetPartitionKeys")
      local keys = {}
      if not place.dimension then
        keys = node.partitionKeys
      else
        for _, dim in ipairs(node.partitionKeysByDimension) do
          if dim.name == place.dimension then keys = dim.partitionKeys end
        end
      end
      return strings(keys)
    end)
end

local PLACE_OPTS = {
  dynamic_partitions = options("dynamic_partitions", { "location", "repository" }),
  add_partition = options("add_partition", { "location", "repository" }),
  delete_partitions = options("delete_partitions", { "location", "repository" }),
}

local function place_of(self, def_name, opts, n, fname)
  checktype(def_name, "string", 1, fname)
  local o = checkopts(opts, n, fname, PLACE_OPTS[fname])
  return self:_dynamic_place(def_name, check.place(o, n, fname))
end

-- client:dynamic_partitions(def_name [, {location =, repository =}]) -> its keys, in order
function M:dynamic_partitions(def_name, opts)
  return keys_of(self, place_of(self, def_name, opts, 2, "dynamic_partitions"))
end

local function key_list(v, n, fname)
  if type(v) == "string" then v = { v } end
  local keys = check.string_list(v, n, fname, "keys")
  if #keys == 0 then argerror(n, fname, "keys: at least one partition key expected") end
  for _, k in ipairs(keys) do
    if k == "" then argerror(n, fname, "keys: an empty partition key") end
  end
  return keys
end

-- one mutation document adding `n` keys, each an alias (k1, k2, ...)
local function add_document(n)
  local vars, fields = { "$def: String!", "$repo: RepositorySelector!" }, {}
  for i = 1, n do
    vars[#vars + 1] = fmt("$k%d: String!", i)
    fields[#fields + 1] = fmt([[
  k%d: addDynamicPartition(partitionKey: $k%d, partitionsDefName: $def, repositorySelector: $repo) {
    __typename
    ... on AddDynamicPartitionSuccess { partitionKey }
    ... on DuplicateDynamicPartitionError { partitionName }
    ... on Error { message }
    ... on PythonError { className stack }
  }]], i, i)
  end
  return fmt("mutation DagsterLuaAddDynamicPartitions(%s) {\n%s\n}", concat(vars, ", "),
    concat(fields, "\n"))
end

-- client:add_partition(def_name, key | keys [, {location =, repository =}]) -> the keys
-- added, the keys that were there already (not an error): two requests, whatever the number
-- of keys
function M:add_partition(def_name, keys, opts)
  local F = "add_partition"
  keys = key_list(keys, 2, F)
  local place = place_of(self, def_name, opts, 3, F)
  local vars = { def = def_name, repo = { repositoryLocationName = place.location,
                                          repositoryName = place.repository } }
  for i, k in ipairs(keys) do vars["k" .. i] = k end
  local r = self:_query(add_document(#keys), vars, "DagsterLuaAddDynamicPartitions", function(d)
    local added, existing = json.array(), json.array()
    for i, k in ipairs(keys) do
      local r = d["k" .. i]
      if r.__typename == "AddDynamicPartitionSuccess" then added[#added + 1] = k
      elseif r.__typename == "DuplicateDynamicPartitionError" then existing[#existing + 1] = k
      else self:_typed_error(r, "DagsterLuaAddDynamicPartitions") end
    end
    return { added, existing }
  end, { once = true })
  return r[1], r[2]
end

-- client:delete_partitions(def_name, keys [, {location =, repository =}]) -> true. Keys the
-- definition does not have raise PartitionKeysNotFoundError, naming them, before anything
-- is deleted.
function M:delete_partitions(def_name, keys, opts)
  local F = "delete_partitions"
  keys = key_list(keys, 2, F)
  local place = place_of(self, def_name, opts, 3, F)
  local have = {}
  for _, k in ipairs(keys_of(self, place)) do have[k] = true end
  local missing = {}
  for _, k in ipairs(keys) do if not have[k] then missing[#missing + 1] = k end end
  if #missing > 0 then
    error(E.new("PartitionKeysNotFoundError", fmt("dynamic partitions definition %s has no " ..
      "partition %s", def_name, concat(missing, ", ")), { url = self.url,
      partition_keys = missing, partitions_def = def_name }), 0)
  end
  return self:_query(D.delete_dynamic_partitions, { keys = json.array(keys), def = def_name,
    repo = { repositoryLocationName = place.location, repositoryName = place.repository } },
    "DagsterLuaDeleteDynamicPartitions", function(d)
      local r = d.deleteDynamicPartitions
      if r.__typename == "DeleteDynamicPartitionsSuccess" then return true end
      self:_typed_error(r, "DagsterLuaDeleteDynamicPartitions")
    end, { once = true })
end

------------------------------------------------------------------------------------------
-- Runless reports
------------------------------------------------------------------------------------------

local REPORT_OPTS = {
  report_materialization = options("report_materialization", { "partitions", "description" }),
  report_observation = options("report_observation", { "partitions", "description" }),
}

local function report(self, F, event_type, key, opts)
  local k = check.asset_key(key, 1, F)
  local o = checkopts(opts, 2, F, REPORT_OPTS[F])
  local params = { eventType = event_type, assetKey = k }
  if o.partitions ~= nil then
    params.partitionKeys = json.array(key_list(o.partitions, 2, F))
  end
  if o.description ~= nil then
    checktype(o.description, "string", 2, F, "description")
    params.description = o.description
  end
  return self:_query(D.report_runless, { params = params }, "DagsterLuaReportRunless",
    function(d)
      local r = d.reportRunlessAssetEvents
      if r.__typename == "ReportRunlessAssetEventsSuccess" then return true end
      self:_typed_error(r, "DagsterLuaReportRunless")
    end, { once = true })
end

-- client:report_materialization(key [, {partitions =, description =}]) -> true: records that
-- the asset (those partitions) was materialized outside Dagster (no run)
function M:report_materialization(key, opts)
  return report(self, "report_materialization", "ASSET_MATERIALIZATION", key, opts)
end

function M:report_observation(key, opts)
  return report(self, "report_observation", "ASSET_OBSERVATION", key, opts)
end

------------------------------------------------------------------------------------------
-- Wipes
------------------------------------------------------------------------------------------

local WIPE_OPTS = options("wipe", { "partitions" })

-- client:wipe(keys [, {partitions = {from =, to =} | {k1, k2, ...}}]) -> true: deletes the
-- assets' materialization history (whole assets, or those partitions: a range, or a list of
-- keys, each wiped as a range of one). Destructive: the keys are explicit, never a default.
function M:wipe(keys, opts)
  local F = "wipe"
  if type(keys) == "string" then keys = { keys } end
  checktype(keys, "table", 1, F)
  if #keys == 0 then argerror(1, F, "at least one asset key expected (wipe has no default)") end
  local o = checkopts(opts, 2, F, WIPE_OPTS)
  -- the server wipes one range per selector (it reads PartitionsSelector.range only): a
  -- list of keys is a selector per key
  local ranges = { false }
  if o.partitions ~= nil then
    local p = o.partitions
    checktype(p, "table", 2, F, "partitions")
    if p.from ~= nil or p.to ~= nil then
      checktype(p.from, "string", 2, F, "partitions.from")
      checktype(p.to, "string", 2, F, "partitions.to")
      ranges = { { start = p.from, ["end"] = p.to } }
    else
      ranges = {}
      for _, k in ipairs(key_list(p, 2, F)) do ranges[#ranges + 1] = { start = k, ["end"] = k } end
    end
  end
  local list = json.array()
  for _, key in ipairs(keys) do
    local k = check.asset_key(key, 1, F)
    for _, r in ipairs(ranges) do
      list[#list + 1] = { assetKey = k, partitions = r and { range = r } or nil }
    end
  end
  return self:_query(D.wipe_assets, { ranges = list }, "DagsterLuaWipeAssets", function(d)
    local r = d.wipeAssets
    if r.__typename == "AssetWipeSuccess" then return true end
    self:_typed_error(r, "DagsterLuaWipeAssets")
  end, { once = true })
end

------------------------------------------------------------------------------------------
-- Asset checks
------------------------------------------------------------------------------------------

local key_id, path_of = answer.key_id, answer.path

local function number_or_nil(v) return type(v) == "number" and v or nil end

-- a check's last execution (an AssetCheckExecution) as a table; `latest` is the id of the
-- execution that targets the asset's latest materialization, if any
local function execution(x, latest)
  local v = value(x.evaluation)
  local t = { status = name_of(x.status), run_id = answer.event_run_id(x.runId),
              time = number_or_nil(x.timestamp), for_latest = latest ~= nil and latest == x.id }
  if v then
    t.passed, t.severity, t.description = v.success == true, value(v.severity), value(v.description)
    t.time = number_or_nil(v.timestamp) or t.time
  end
  return t
end

-- raises AssetNotFoundError naming the keys (AssetKeyInputs) that no entry of `found` has
-- (each entry's key path in its field `field`)
local function all_found(self, keys, found, field)
  local have, missing = {}, {}
  for _, x in ipairs(found) do have[key_id(x[field])] = true end
  for _, k in ipairs(keys) do
    if not have[key_id(k.path)] then missing[#missing + 1] = "`" .. concat(k.path, "/") .. "`" end
  end
  if #missing > 0 then
    error(E.new("AssetNotFoundError", fmt(#missing == 1 and "No asset with the key %s exists"
      or "No assets with the keys %s exist", concat(missing, ", ")),
      { url = self.url, body = missing }), 0)
  end
end

-- the asset nodes of `keys` (nil: every asset, or a job's) with their checks, as a list
-- of {path =, location =, repository =, group =, checks = {AssetCheck...}}; keys not found
-- raise AssetNotFoundError
local function nodes_with_checks(self, keys, pipeline)
  local nodes = self:_query(D.asset_checks, { assetKeys = keys, pipeline = pipeline },
    "DagsterLuaAssetChecks", function(d)
      local out = {}
      for _, node in ipairs(d.assetNodes) do
        local r = self:_member(node.assetChecksOrError, "AssetChecks", "DagsterLuaAssetChecks")
        local checks = {}
        for i, c in ipairs(r.checks) do
          local latest = value(c.executionForLatestMaterialization)
          local jobs = {}
          for j, name in ipairs(c.jobNames) do jobs[j] = name_of(name) end
          checks[i] = { name = name_of(c.name), description = value(c.description),
                        blocking = c.blocking == true, jobs = jobs,
                        can_execute = c.canExecuteIndividually == "CAN_EXECUTE",
                        latest = latest and latest.id }
        end
        out[#out + 1] = { path = path_of(node.assetKey.path), group = value(node.groupName),
                          location = name_of(node.repository.location.name),
                          repository = name_of(node.repository.name), checks = checks }
      end
      return out
    end)
  if keys then all_found(self, keys, nodes, "path") end
  return nodes
end

-- asks aliased queries, `chunk` items a query: params(i) declares item i's variables,
-- field(i, item) is its alias a<i>'s text, vars(i, item, v) fills its variables in v, and
-- read(i, item, answer) reads its answer
local function aliased(self, opname, chunk, items, params, field, vars, read)
  for first = 1, #items, chunk do
    local last = math.min(#items, first + chunk - 1)
    local decl, fields, v = {}, {}, {}
    for i = first, last do
      decl[#decl + 1] = params(i)
      fields[#fields + 1] = field(i, items[i])
      vars(i, items[i], v)
    end
    local document = fmt("query %s(%s) {\n%s\n}", opname, concat(decl, ", "), concat(fields, "\n"))
    self:_query(document, v, opname, function(d)
      for i = first, last do read(i, items[i], d["a" .. i]) end
    end)
  end
end

local CHECKS_OPTS = options("asset_checks", { "job", "group", "location", "repository" })

-- client:asset_checks([keys | opts] [, opts]) -> list of {asset = "a/b", key = {"a", "b"},
-- name, description, blocking, can_execute (false when the check only runs with its
-- asset's materialization), jobs, group, location, repository, last = nil or {status,
-- passed, severity, description, run_id, time, for_latest}}, by asset then name. keys: one
-- key or a list; none: every asset's checks. opts: job (the checks in that job), group,
-- location, repository. Two requests, whatever the number of checks.
function M:asset_checks(keys, opts)
  local F = "asset_checks"
  local n
  keys, opts, n = check.keys_or_opts(keys, opts)
  local o = checkopts(opts, n, F, CHECKS_OPTS)
  local location, repository = check.place(o, n, F)
  if o.job ~= nil then checktype(o.job, "string", n, F, "job") end
  if o.group ~= nil then checktype(o.group, "string", n, F, "group") end
  if keys ~= nil then keys = check.asset_keys(keys, 1, F) end
  local pipeline
  if o.job then
    local loc, repo = self:_infer(o.job, location, repository)
    pipeline = { pipelineName = o.job, repositoryLocationName = loc, repositoryName = repo }
  end

  local out, latest = {}, {}   -- latest: check -> its execution for the latest materialization
  for _, node in ipairs(nodes_with_checks(self, keys, pipeline)) do
    if (location == nil or node.location == location)
       and (repository == nil or node.repository == repository)
       and (o.group == nil or node.group == o.group) then
      for _, c in ipairs(node.checks) do
        out[#out + 1] = { asset = concat(node.path, "/"), key = node.path, name = c.name,
          description = c.description, blocking = c.blocking,
          can_execute = c.can_execute, jobs = c.jobs,
          group = node.group, location = node.location, repository = node.repository }
        latest[out[#out]] = c.latest
      end
    end
  end
  sort(out, function(a, b)
    if a.asset ~= b.asset then return a.asset < b.asset end
    if a.name ~= b.name then return a.name < b.name end
    return a.location .. "\0" .. a.repository < b.location .. "\0" .. b.repository
  end)
  if #out == 0 then return out end

  -- the last execution of each: one request, an alias per check
  aliased(self, "DagsterLuaAssetCheckExecutions", #out, out,
    function(i) return fmt("$k%d: AssetKeyInput!, $n%d: String!", i, i) end,
    function(i) return fmt("  a%d: assetCheckExecutions(assetKey: $k%d, checkName: $n%d, " ..
      "limit: 1) { id runId status timestamp\n    evaluation { success severity description " ..
      "timestamp } }", i, i, i) end,
    function(i, c, v) v["k" .. i], v["n" .. i] = { path = c.key }, c.name end,
    function(_, c, list)
      if list[1] then c.last = execution(list[1], latest[c]) end
    end)
  return out
end

-- a check named by the caller: "a/b:name", or {asset = "a/b" or {"a", "b"}, name = ...}
-- (an entry of client:asset_checks), as an AssetCheckHandleInput
local function check_handle(c, n, fname)
  local asset, name
  if type(c) == "string" then
    asset, name = c:match("^(.+):([^:/]+)$")
    if not asset then
      argerror(n, fname, fmt("check %q: \"asset/key:check_name\" expected", c))
    end
  elseif type(c) == "table" then
    asset, name = c.asset or c.key, c.name
    if type(name) ~= "string" then
      argerror(n, fname, "check: {asset = key, name = string} expected, got name " .. type(name))
    end
  else
    argerror(n, fname, "check \"asset/key:check_name\" or {asset =, name =} expected, got " ..
      (c == nil and "no value" or type(c)))
  end
  return { assetKey = check.asset_key(asset, n, fname), name = name }
end

local EXECUTE_OPTS = options("execute_checks", { "tags", "location", "repository",
  "submission_id" })

-- client:execute_checks(checks [, opts]) -> run id: runs the checks alone (no asset is
-- materialized), in one run: checks is one check or a list of them, each "a/b:name" or
-- {asset =, name =} (the entries client:asset_checks returns). opts: tags, location and
-- repository (to choose among several definitions), submission_id. Raises
-- AssetNotFoundError, AssetCheckNotFoundError, AssetCheckNeedsMaterializationError (a check
-- that runs only with its asset) or AssetsInSeveralLocationsError before launching.
function M:execute_checks(checks, opts)
  local F = "execute_checks"
  if type(checks) == "string" or (type(checks) == "table" and checks.name ~= nil) then
    checks = { checks }
  end
  checktype(checks, "table", 1, F)
  if #checks == 0 then argerror(1, F, "at least one check expected") end
  local handles, keys, seen, seen_key = json.array(), json.array(), {}, {}
  for _, c in ipairs(checks) do
    local h = check_handle(c, 1, F)
    local id = key_id(h.assetKey.path) .. h.name
    if not seen[id] then
      seen[id] = true
      handles[#handles + 1] = h
      if not seen_key[key_id(h.assetKey.path)] then
        seen_key[key_id(h.assetKey.path)] = true
        keys[#keys + 1] = h.assetKey
      end
    end
  end
  local o = checkopts(opts, 2, F, EXECUTE_OPTS)
  local location, repository = check.place(o, 2, F)
  local tags = check.tag_list(o.tags, 2, F)
  local sid = check.submission_id(o.submission_id, 2, F)

  -- where each check is: location/repository -> the jobs of each of its checks
  local places, missing, whole = {}, {}, {}
  local nodes = nodes_with_checks(self, keys, nil)
  for _, h in ipairs(handles) do
    local found = false
    for _, node in ipairs(nodes) do
      if key_id(node.path) == key_id(h.assetKey.path)
         and (location == nil or node.location == location)
         and (repository == nil or node.repository == repository) then
        for _, c in ipairs(node.checks) do
          if c.name == h.name then
            found = true
            if not c.can_execute then
              whole[#whole + 1] = concat(node.path, "/") .. ":" .. c.name
            end
            local where = node.location .. "\0" .. node.repository
            local p = places[where] or { location = node.location, repository = node.repository,
                                         n = 0 }
            places[where] = p
            p.n = p.n + 1
            p.jobs = p.jobs or {}
            p.jobs[#p.jobs + 1] = c.jobs
          end
        end
      end
    end
    if not found then missing[#missing + 1] = concat(h.assetKey.path, "/") .. ":" .. h.name end
  end
  if #missing > 0 then
    error(E.new("AssetCheckNotFoundError", fmt("No asset check %s exists%s",
      concat(missing, ", "), location and (" in location " .. location) or ""),
      { url = self.url, body = missing }), 0)
  end
  if #whole > 0 then
    error(E.new("AssetCheckNeedsMaterializationError", fmt("Cannot run %s alone: the check " ..
      "runs only with its asset's materialization", concat(whole, ", ")),
      { url = self.url, body = whole }), 0)
  end
  local all = {}
  for where, p in pairs(places) do
    if p.n == #handles then all[#all + 1] = where end
  end
  if #all ~= 1 then
    local names = {}
    for where in pairs(places) do names[#names + 1] = (where:gsub("%z", "/")) end
    sort(names)
    error(E.new("AssetsInSeveralLocationsError", fmt("Cannot run these checks in one run: " ..
      "they are defined in %s; %s", concat(names, ", "), #all == 0
      and "run each location's checks on their own" or "pass location and repository to choose one"),
      { url = self.url, body = names }), 0)
  end
  local p = places[all[1]]
  -- the job to run them in: __ASSET_JOB when every check is in it, else the first job
  -- (by name) that has them all
  local job = answer.common_job(p.jobs)
  if not job then
    error(E.new("AssetsInSeveralLocationsError", "Cannot run these checks in one run: no job " ..
      "has them all", { url = self.url, body = handles }), 0)
  end
  return self:_launch({
    selector = { repositoryLocationName = p.location, repositoryName = p.repository,
                 jobName = job, assetSelection = json.array(), assetCheckSelection = handles },
    runConfigData = {},
    executionMetadata = { tags = tags },
  }, sid)
end

-- client:check_results(run_id) -> list of {asset = "a/b", name, status, passed, severity,
-- description}, the checks the run planned, in its order, each with Dagster's status:
-- SUCCEEDED or FAILED once evaluated (passed true or false, severity WARN or ERROR), and
-- for one never evaluated IN_PROGRESS while the run goes on, EXECUTION_FAILED when the run
-- failed, SKIPPED when it ended otherwise. Reads the run's events (a page per 1000), and
-- the run's status when a check was not evaluated.
function M:check_results(run_id)
  checktype(run_id, "string", 1, "check_results")
  local out, by = {}, {}
  for e in self:events(run_id) do
    local c = e.check
    if c then
      local id = c.asset .. "\0" .. c.name
      local r = by[id]
      if not r then
        r = { asset = c.asset, name = c.name }
        by[id] = r
        out[#out + 1] = r
      end
      if c.passed ~= nil then
        r.passed, r.severity, r.description = c.passed, c.severity, c.description
        r.status = c.passed and "SUCCEEDED" or "FAILED"
      end
    end
  end
  local run_status
  for _, r in ipairs(out) do
    if r.status == nil then
      run_status = run_status or self:get_run_status(run_id)
      if not enums.FINAL_RUN_STATUSES[run_status] then r.status = "IN_PROGRESS"
      elseif run_status == "FAILURE" then r.status = "EXECUTION_FAILED"
      else r.status = "SKIPPED" end
    end
  end
  return out
end

------------------------------------------------------------------------------------------
-- Health: partitions, latest run and materialization, failures
------------------------------------------------------------------------------------------

local HEALTH_OPTS = options("asset_health", { "prefix", "group", "location", "repository",
  "failures" })

-- the keys of `keys` (a list in the definition's order) from `from` to `to`, both included
local function keys_between(keys, from, to)
  local out, inside = {}, false
  for _, k in ipairs(keys) do
    if k == from then inside = true end
    if inside then out[#out + 1] = k end
    if k == to then break end
  end
  return out
end

-- the keys of a time-partitioned asset's ranges of `status`, expanded with its keys
local function range_keys(ranges, status, keys_of_asset)
  local out = {}
  for _, r in ipairs(ranges) do
    if r.status == status then
      if r.from == r.to then out[#out + 1] = r.from
      else
        for _, k in ipairs(keys_between(keys_of_asset(), r.from, r.to)) do out[#out + 1] = k end
      end
    end
  end
  return out
end

local function count(v)
  if math.type(v) ~= "integer" then error("a partition count is not an integer", 0) end
  return v
end

-- an asset's partition statuses, read (inside the answer's reader): {failed =,
-- materializing =} (keys), {ranges = {{status, from, to}...}} (time windows), or for a
-- multi-partitioned asset {primary = the primary dimension's name, grid = {{from, to,
-- secondary = statuses of the other dimension}...}} (ranges of primary keys whose
-- secondary statuses are the same); nil for none
local function statuses_of(s)
  s = value(s)
  if not s then return nil end
  if s.__typename == "DefaultPartitionStatuses" then
    return { failed = strings(s.failedPartitions), materializing = strings(s.materializingPartitions) }
  elseif s.__typename == "TimePartitionStatuses" then
    local ranges = {}
    for i, r in ipairs(s.ranges) do
      ranges[i] = { status = name_of(r.status), from = name_of(r.startKey), to = name_of(r.endKey) }
    end
    return { ranges = ranges }
  elseif s.__typename == "MultiPartitionStatuses" then
    local grid = {}
    for i, r in ipairs(s.ranges) do
      grid[i] = { from = name_of(r.primaryDimStartKey), to = name_of(r.primaryDimEndKey),
                  secondary = statuses_of(r.secondaryDim) }
    end
    return { primary = name_of(s.primaryDimensionName), grid = grid }
  end
end

-- whether 1-D statuses s (of a dimension) have keys of `status` (FAILED, MATERIALIZING)
local function has_status(s, status)
  if s == nil then return false end
  if s.ranges then
    for _, r in ipairs(s.ranges) do if r.status == status then return true end end
    return false
  end
  return #(status == "FAILED" and s.failed or s.materializing) > 0
end

-- the keys of a multi-partitioned asset's statuses s of `status`, as Dagster spells them
-- (the two dimensions' keys in the order of the dimension names, joined with "|"); dims:
-- {{name =, keys =}...}, the asset's dimensions with their keys
local function grid_keys(s, status, dims)
  local primary, secondary = dims[1], dims[2]
  if primary.name ~= s.primary then primary, secondary = secondary, primary end
  local primary_first = primary.name < secondary.name
  local out = {}
  for _, r in ipairs(s.grid) do
    local sec = r.secondary
    if has_status(sec, status) then
      local second = sec.ranges
        and range_keys(sec.ranges, status, function() return secondary.keys end)
        or (status == "FAILED" and sec.failed or sec.materializing)
      for _, p in ipairs(keys_between(primary.keys, r.from, r.to)) do
        for _, q in ipairs(second) do
          out[#out + 1] = primary_first and (p .. "|" .. q) or (q .. "|" .. p)
        end
      end
    end
  end
  return out
end

local function run_of(r)
  r = value(r)
  if not r then return nil end
  return { run_id = r.runId, status = r.status, time = value(r.updateTime) }
end

-- client:asset_health([keys | opts] [, opts]) -> list of {asset = "a/b", key, group,
-- location, repository, materializable, partitioned (nil, or the definition's type: STATIC,
-- TIME_WINDOW, DYNAMIC, MULTIPARTITIONED), partitions_def (its description), latest_run =
-- {run_id, status, time}, latest_materialization = {run_id (nil for a materialization
-- reported from outside, runless), time}, in_progress (a run is
-- queued or going), failed (its latest attempt failed and nothing succeeded since), and for
-- a partitioned asset: partitions = {total, materialized, failed, in_progress, missing}
-- (counts), failed_partitions (the keys as Dagster spells them: a multi-partitioned asset's
-- "2026-11-03|apac"), in_progress_partitions, and with failures = true failed_runs =
-- {[key] = {run_id, status, time}} (each failed partition's latest run)}, by key. keys: one
-- key or a list; none: every asset with a definition; opts: prefix, group, location,
-- repository, failures. Two requests (three with a filter and no keys: the assets that pass
-- it are listed first); more for the failed partitions' runs (failures), and
-- one for the keys of the assets with a failed or materializing time range of several keys
-- or multi-partitioned ones with failed or materializing partitions.
function M:asset_health(keys, opts)
  local F = "asset_health"
  local n
  keys, opts, n = check.keys_or_opts(keys, opts)
  local o = checkopts(opts, n, F, HEALTH_OPTS)
  local location, repository = check.place(o, n, F)
  local prefix = o.prefix ~= nil and check.asset_key(o.prefix, n, F).path or nil
  if o.group ~= nil then checktype(o.group, "string", n, F, "group") end
  if keys ~= nil then keys = check.asset_keys(keys, 1, F) end

  local out, statuses = {}, {}
  local function passes(node)  -- the options' filter
    local path = node.assetKey.path
    if prefix then
      for i, part in ipairs(prefix) do if path[i] ~= part then return false end end
    end
    return (location == nil or node.repository.location.name == location)
      and (repository == nil or node.repository.name == repository)
      and (o.group == nil or value(node.groupName) == o.group)
  end
  local asked = keys
  if keys == nil and (prefix or o.group or location or repository) then
    -- the assets that pass the filter first, from a listing without statuses: the server
    -- works out the partitions of those alone, not of every asset it has
    asked = json.array()
    self:_query(D.asset_nodes, nil, "DagsterLuaAssetNodes", function(d)
      for _, node in ipairs(d.assetNodes) do
        if passes(node) then asked[#asked + 1] = { path = node.assetKey.path } end
      end
    end)
    if #asked == 0 then return out end
  end
  self:_query(D.asset_health, { assetKeys = asked }, "DagsterLuaAssetHealth", function(d)
    for _, node in ipairs(d.assetNodes) do
      local loc, repo = node.repository.location.name, node.repository.name
      local group = value(node.groupName)
      if passes(node) then
        local p = value(node.partitionDefinition)
        local path = path_of(node.assetKey.path)
        local a = { asset = concat(path, "/"), key = path,
                    group = group, location = loc, repository = repo,
                    materializable = node.isMaterializable,
                    partitioned = p and name_of(p.type) or nil,
                    partitions_def = p and value(p.description) or nil }
        local st = value(node.partitionStats)
        if a.partitioned and st then
          local total, done = count(st.numPartitions), count(st.numMaterialized)
          local failed, under_way = count(st.numFailed), count(st.numMaterializing)
          a.partitions = { total = total, materialized = done, failed = failed,
            in_progress = under_way, missing = total - done - failed - under_way }
        end
        out[#out + 1] = a
        statuses[a] = statuses_of(node.assetPartitionStatuses)
      end
    end
  end)
  if keys then all_found(self, keys, out, "key") end
  if #out == 0 then return out end
  sort(out, function(x, y) return x.asset < y.asset end)

  -- the latest run and materialization of each
  local index, inputs = {}, json.array()
  for i, a in ipairs(out) do index[key_id(a.key)] = i; inputs[i] = { path = a.key } end
  self:_query(D.assets_latest_info, { assetKeys = inputs }, "DagsterLuaAssetsLatestInfo", function(d)
    for _, info in ipairs(d.assetsLatestInfo) do
      local a = out[index[key_id(info.assetKey.path)]]
      if a then
        a.latest_run = run_of(info.latestRun)
        local m = value(info.latestMaterialization)
        if m then
          local ts = tonumber(m.timestamp)
          a.latest_materialization = { run_id = answer.event_run_id(m.runId),
                                       time = ts and ts / 1000 }
        end
        a.in_progress = #info.inProgressRunIds + #info.unstartedRunIds > 0
      end
    end
  end)

  -- failed: a partition's status is its latest attempt's; an unpartitioned asset failed
  -- when its latest run failed without materializing it, and no materialization reported
  -- from outside (runless) came after that run
  local need_keys = {}
  for i, a in ipairs(out) do
    local s = statuses[a]
    if a.partitioned == nil then
      local r, m = a.latest_run, a.latest_materialization
      a.failed = r ~= nil and r.status == "FAILURE" and not (m and (m.run_id == r.run_id
        or (m.run_id == nil and m.time and r.time and m.time >= r.time)))
    elseif s and s.failed then
      a.failed_partitions, a.in_progress_partitions = s.failed, s.materializing
    elseif s and s.ranges then
      for _, r in ipairs(s.ranges) do
        if r.from ~= r.to and (r.status == "FAILED" or r.status == "MATERIALIZING") then
          need_keys[#need_keys + 1] = i
          break
        end
      end
    elseif s and s.grid then
      for _, r in ipairs(s.grid) do
        if has_status(r.secondary, "FAILED") or has_status(r.secondary, "MATERIALIZING") then
          need_keys[#need_keys + 1] = i
          break
        end
      end
    end
    if a.partitioned then a.failed = (a.partitions and a.partitions.failed or 0) > 0 end
  end
  local all_keys = {}
  if #need_keys > 0 then
    aliased(self, "DagsterLuaAssetPartitionKeysMany", 200, need_keys,
      function(i) return fmt("$k%d: AssetKeyInput!", i) end,
      function(i, at) return fmt("  a%d: assetNodeOrError(assetKey: $k%d) { __typename " ..
        "... on AssetNode { %s } ... on Error { message } }", i, i,
        statuses[out[at]].grid and "partitionKeysByDimension { name partitionKeys }"
        or "partitionKeys") end,
      function(i, at, v) v["k" .. i] = { path = out[at].key } end,
      function(_, at, r)
        local node = self:_member(r, "AssetNode", "DagsterLuaAssetPartitionKeysMany")
        if statuses[out[at]].grid then
          local dims = {}
          for j, d in ipairs(node.partitionKeysByDimension) do
            dims[j] = { name = name_of(d.name), keys = strings(d.partitionKeys) }
          end
          if #dims ~= 2 then error("a multi-partitioned asset without two dimensions", 0) end
          all_keys[at] = dims
        else
          all_keys[at] = strings(node.partitionKeys)
        end
      end)
  end
  for i, a in ipairs(out) do
    local s = statuses[a]
    if a.partitioned and s and s.ranges then
      local function keys_of_asset() return all_keys[i] or {} end
      a.failed_partitions = range_keys(s.ranges, "FAILED", keys_of_asset)
      a.in_progress_partitions = range_keys(s.ranges, "MATERIALIZING", keys_of_asset)
    elseif a.partitioned and s and s.grid then
      local dims = all_keys[i]
      a.failed_partitions = dims and grid_keys(s, "FAILED", dims) or {}
      a.in_progress_partitions = dims and grid_keys(s, "MATERIALIZING", dims) or {}
    end
  end

  -- each failed partition's latest run
  if o.failures then
    local items = {}
    for _, a in ipairs(out) do
      for _, k in ipairs(a.failed_partitions or {}) do items[#items + 1] = { a = a, key = k } end
      if a.failed_partitions then a.failed_runs = {} end
    end
    if #items > 0 then
      aliased(self, "DagsterLuaFailedPartitionRuns", 200, items,
        function(i) return fmt("$k%d: AssetKeyInput!, $p%d: String!", i, i) end,
        function(i) return fmt("  a%d: assetNodeOrError(assetKey: $k%d) { __typename " ..
          "... on AssetNode { latestRunForPartition(partition: $p%d) { runId status updateTime } } " ..
          "... on Error { message } }", i, i, i) end,
        function(i, it, v) v["k" .. i], v["p" .. i] = { path = it.a.key }, it.key end,
        function(_, it, r)
          local node = self:_member(r, "AssetNode", "DagsterLuaFailedPartitionRuns")
          it.a.failed_runs[it.key] = run_of(node.latestRunForPartition)
        end)
    end
  end
  return out
end

-- client:asset(key) -> one asset as client:asset_health gives it (with failures = true), with
-- checks = its checks as client:asset_checks gives them. Four requests (more for many
-- failed partitions).
function M:asset(key)
  local k = check.asset_key(key, 1, "asset")
  local a = self:asset_health({ k.path }, { failures = true })[1]
  a.checks = self:asset_checks({ k.path })
  return a
end

return M
