-- Assets as operators handle them: dynamic partitions, runless reports, wipes (added to the
-- client).
--
--   client:dynamic_partitions(def_name [, opts])       -> the definition's keys
--   client:add_partition(def_name, key | keys [, opts]) -> keys added, keys already there
--   client:delete_partitions(def_name, keys [, opts])   -> true
--   client:report_materialization(key [, opts])         -> true (reportRunlessAssetEvents)
--   client:report_observation(key [, opts])             -> true
--   client:wipe(keys [, {partitions =}])                -> true

local json = require "dagster.json"
local E = require "dagster.error"
local D = require "dagster.documents"
local check = require "dagster.check"
local answer = require "dagster.answer"

local fmt, concat = string.format, table.concat
local argerror, checktype, checkopts, options = check.argerror, check.type, check.opts, check.options
local value = answer.value

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
                                  asset = node.assetKey.path, dimension = dim or nil }
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

-- the keys of the definition, read through an asset that uses it
local function keys_of(self, place)
  return self:_query(D.asset_partition_keys, { assetKey = { path = place.asset } },
    "DagsterLuaAssetPartitionKeys", function(d)
      local node = self:_member(d.assetNodeOrError, "AssetNode", "DagsterLuaAssetPartitionKeys")
      if not place.dimension then return node.partitionKeys end
      for _, dim in ipairs(node.partitionKeysByDimension) do
        if dim.name == place.dimension then return dim.partitionKeys end
      end
      return {}
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

return M
