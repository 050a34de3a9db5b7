-- Partitions and backfills: partitions, backfill, get_backfill, backfills, wait_for_backfill,
-- cancel_backfill, resume_backfill, reexecute_backfill (added to the client).
--
-- A backfill targets a job (Dagster's partition set `<job>_partition_set`) or asset keys, and
-- partitions given as a list, a range {from =, to =} or all of them. The keys are checked
-- against the target's partitions before anything is launched. A partition key is a string,
-- or for a multi-dimensional asset a table {dimension = key, ...} (Dagster's own string for
-- it joins the keys in the order of the dimension names, with "|").

local json = require "dagster.json"
local E = require "dagster.error"
local D = require "dagster.documents"
local enums = require "dagster.enums"
local check = require "dagster.check"
local answer = require "dagster.answer"
local wait = require "dagster.wait"

local fmt, concat = string.format, table.concat
local argerror, checktype, checkopts, options = check.argerror, check.type, check.opts, check.options
local value, backfill_id = answer.value, answer.backfill_id
local checknumber = check.number

local FINAL = enums.FINAL_BACKFILL_STATUSES

-- run statuses, as the counts name them
local COUNT_OF = { SUCCESS = "succeeded", FAILURE = "failed", CANCELED = "canceled",
                   NOT_STARTED = "pending" }

local PARENT_TAG, ROOT_TAG = "dagster/parent_backfill_id", "dagster/root_backfill_id"

local M = {}

----------------------------------------------------------------------------------------
-- Partition keys
----------------------------------------------------------------------------------------

-- Where a target lives: {job =, location =, repository =} or {asset = AssetKeyInput}, with
-- `describe` for messages. A string without "/" names a job when the workspace has a job of
-- that name, else an asset; "a/b" and {"a", "b"} are asset keys. A table {job = J} or
-- {asset = K} (the `where` check_partitions returns) says which: a job that does not exist is
-- then a JobNotFoundError, never taken for an asset key. One job listing for a string or a
-- job (none for an asset key).
local function target_of(self, target, o, n, fname)
  if type(target) == "table" and (target.job ~= nil or target.asset ~= nil) then
    if target.job ~= nil and target.asset ~= nil then
      argerror(n, fname, "a job or an asset, not both")
    end
    if target.asset ~= nil then
      local key = check.asset_key(target.asset, n, fname)
      return { asset = key, describe = "asset " .. concat(key.path, "/") }
    end
    checktype(target.job, "string", n, fname, "job")
    local location, repository = o.location or target.location, o.repository or target.repository
    if location ~= nil then checktype(location, "string", n, fname, "location") end
    if repository ~= nil then checktype(repository, "string", n, fname, "repository") end
    local loc, repo = self:_infer(target.job, location, repository)
    return { job = target.job, location = loc, repository = repo, describe = "job " .. target.job }
  end
  if type(target) == "string" and not target:find("/", 1, true) and target ~= "" then
    local triples = self:_job_triples()
    for _, t in ipairs(triples) do
      if t.job_name == target then
        local loc, repo = self:_infer(target, o.location, o.repository, triples)
        return { job = target, location = loc, repository = repo, describe = "job " .. target }
      end
    end
  end
  local key = check.asset_key(target, n, fname)
  return { asset = key, describe = "asset " .. concat(key.path, "/") }
end

local function check_target(target, n, fname)
  if type(target) ~= "string" and type(target) ~= "table" then
    argerror(n, fname, "job name or asset key expected, got " .. (target == nil and "no value" or type(target)))
  end
end

-- {keys =, dims =}: the target's partition keys as Dagster's strings, and the dimension
-- names of a multi-dimensional asset (nil otherwise); one request
local function partition_strings(self, t)
  if t.job then
    local sel = { repositoryLocationName = t.location, repositoryName = t.repository,
                  pipelineName = t.job }
    return self:_query(D.job_partitions, { selector = sel }, "DagsterLuaJobPartitions", function(d)
      local r = self:_member(d.pipelineOrError, "Pipeline", "DagsterLuaJobPartitions")
      local keys = {}
      for i, k in ipairs(r.partitionKeysOrError.partitionKeys) do keys[i] = k end
      return { keys = keys }
    end)
  end
  return self:_query(D.asset_partitions, { key = t.asset }, "DagsterLuaAssetPartitions", function(d)
    local r = self:_member(d.assetNodeOrError, "AssetNode", "DagsterLuaAssetPartitions")
    local keys, dims = {}, nil
    if r.isPartitioned then
      for i, k in ipairs(r.partitionKeys) do keys[i] = k end
      local def = value(r.partitionDefinition)
      if def and def.type == "MULTIPARTITIONED" then
        dims = {}
        for i, dt in ipairs(def.dimensionTypes) do dims[i] = dt.name end
        table.sort(dims)
      end
    end
    return { keys = keys, dims = dims }
  end)
end

local PARTITIONS_OPTS = options("partitions", { "location", "repository" })

-- client:partitions(job_or_asset [, opts]) -> list of partition keys, in the order of the
-- partitions definition ({} when it is not partitioned). Multi-dimensional keys of an
-- asset are tables {dimension = key}; tostring gives Dagster's string.
function M:partitions(job_or_asset, opts)
  local F = "partitions"
  check_target(job_or_asset, 1, F)
  local o = checkopts(opts, 2, F, PARTITIONS_OPTS)
  local p = partition_strings(self, target_of(self, job_or_asset, o, 1, F))
  local keys, dims = p.keys, p.dims
  if dims then
    for i, s in ipairs(keys) do keys[i] = check.split_partition_key(s, dims) end
  end
  return keys
end

-- The partition names a backfill or a run asks for, checked against the keys of target t
-- (one request): `wanted` is a list of key strings, a range {from =, to =} (both ends
-- included; check.partitions makes either) or true for every key. Returns the names (a JSON
-- array, duplicates dropped), whether they came from a range, and the dimension names of a
-- multi-dimensional asset (sorted, as its keys join them; nil otherwise). Raises
-- PartitionKeysNotFoundError (keys the target does not have, or a target that is not
-- partitioned) and PartitionRangeError (an end outside the definition, or from after to).
local function checked_partitions(self, t, wanted)
  local p = partition_strings(self, t)
  local keys, dims = p.keys, p.dims
  local index = {}
  for i, k in ipairs(keys) do index[k] = i end
  if #keys == 0 then
    local asked = wanted == true and {} or wanted.from and { wanted.from, wanted.to } or wanted
    error(E.new("PartitionKeysNotFoundError", fmt("%s is not partitioned", t.describe),
      { url = self.url, partition_keys = asked }), 0)
  end
  if wanted == true then return table.move(keys, 1, #keys, 1, json.array()), true, dims end
  if wanted.from then
    local a, b = index[wanted.from], index[wanted.to]
    local why
    if not a then why = fmt("%s is not a partition of %s", wanted.from, t.describe)
    elseif not b then why = fmt("%s is not a partition of %s", wanted.to, t.describe)
    elseif a > b then why = fmt("%s comes after %s", wanted.from, wanted.to) end
    if why then
      error(E.new("PartitionRangeError", fmt("partition range %s..%s: %s (partitions: %s .. %s)",
        wanted.from, wanted.to, why, keys[1], keys[#keys]),
        { url = self.url, from = wanted.from, to = wanted.to }), 0)
    end
    return table.move(keys, a, b, 1, json.array()), true, dims
  end
  local missing, names, seen = {}, json.array(), {}
  for _, k in ipairs(wanted) do
    if not index[k] then missing[#missing + 1] = k
    elseif not seen[k] then seen[k] = true; names[#names + 1] = k end
  end
  if #missing > 0 then
    error(E.new("PartitionKeysNotFoundError", fmt("partition keys not found in %s: %s%s",
      t.describe, concat(missing, ", "), dims and fmt(" (its keys join the keys of %s, in " ..
      "this order, with \"|\": %s, ...)", concat(dims, " and "), keys[1]) or ""),
      { url = self.url, partition_keys = missing }), 0)
  end
  return names, false, dims
end

local CHECK_OPTS = options("check_partitions", { "location", "repository" })

-- client:check_partitions(job_or_asset, partitions [, {location =, repository =}]) -> keys,
-- target. partitions: a list of keys, a range {from =, to =} (both ends included), or true
-- for all of them. keys: Dagster's key strings, checked against the target's partitions (a
-- range or all in the definition's order). target: where they were read, {job, location,
-- repository} or {asset = "a/b"} (with dimensions = the dimension names of a
-- multi-dimensional asset, in the order its keys join them), to pass on to client:backfill
-- (which then checks the keys with one request and infers nothing). Two requests for a job,
-- one for an asset.
function M:check_partitions(job_or_asset, partitions, opts)
  local F = "check_partitions"
  check_target(job_or_asset, 1, F)
  local wanted = partitions == true or check.partitions(partitions, 2, F)
  local o = checkopts(opts, 3, F, CHECK_OPTS)
  local t = target_of(self, job_or_asset, o, 1, F)
  local keys, _, dims = checked_partitions(self, t, wanted)
  local where = t.job and { job = t.job, location = t.location, repository = t.repository }
    or { asset = concat(t.asset.path, "/"), dimensions = dims }
  return keys, where
end

----------------------------------------------------------------------------------------
-- Answers to Lua tables
----------------------------------------------------------------------------------------

-- a PartitionBackfill (BACKFILL_HEAD, and BACKFILL_STATE's counts when asked for)
local function backfill_of(b)
  if type(b.status) ~= "string" then error("a backfill status is not a string", 0) end
  local tags = answer.tags(b.tags)
  local keys = {}
  for i, k in ipairs(value(b.assetSelection) or {}) do keys[i] = concat(k.path, "/") end
  local err = value(b.error)
  local out = {
    id = backfill_id(b.id), status = b.status, kind = b.isAssetBackfill and "assets" or "job",
    job_name = value(b.jobName), asset_keys = keys, num_partitions = value(b.numPartitions),
    created = b.timestamp, ended = value(b.endTimestamp), error = err and err.message,
    from_failure = b.fromFailure, tags = tags, parent_id = tags[PARENT_TAG],
  }
  if b.partitionStatusCounts ~= nil then
    local c = { requested = out.num_partitions or 0, succeeded = 0, failed = 0,
                in_progress = 0, canceled = 0, pending = 0 }
    if b.isAssetBackfill then
      -- asset partitions (one asset's partition), summed over the assets
      c.requested = 0
      out.assets = {}
      for _, s in ipairs(value(b.assetBackfillData) and b.assetBackfillData.assetBackfillStatuses or {}) do
        local a
        if s.__typename == "AssetPartitionsStatusCounts" then
          a = { requested = s.numPartitionsTargeted, succeeded = s.numPartitionsMaterialized,
                failed = s.numPartitionsFailed, in_progress = s.numPartitionsInProgress }
        elseif s.__typename == "UnpartitionedAssetStatus" then
          a = { requested = 1, succeeded = s.materialized and 1 or 0, failed = s.failed and 1 or 0,
                in_progress = s.inProgress and 1 or 0 }
        end
        if a then
          out.assets[concat(s.assetKey.path, "/")] = a
          for k, v in pairs(a) do c[k] = c[k] + v end
        end
      end
      c.pending = math.max(0, c.requested - c.succeeded - c.failed - c.in_progress)
    else
      local known = 0
      for _, s in ipairs(b.partitionStatusCounts) do
        local k = COUNT_OF[s.runStatus] or "in_progress"
        c[k] = c[k] + s.count
        known = known + s.count
      end
      c.pending = c.pending + math.max(0, c.requested - known)
    end
    out.counts = c
  end
  return out
end

local function read_backfill(self, opname, extra)
  return function(d)
    local r = self:_member(d.partitionBackfillOrError, "PartitionBackfill", opname)
    local b = backfill_of(r)
    if extra then extra(b, r) end
    return b
  end
end

----------------------------------------------------------------------------------------
-- Reading backfills
----------------------------------------------------------------------------------------

-- client:get_backfill(id) -> {id, status, kind, job_name, asset_keys, partitions,
-- num_partitions, counts = {requested, succeeded, failed, in_progress, canceled, pending},
-- assets (asset backfills: the counts by asset key), runs = {{run_id, status, partition}},
-- partition_statuses (job backfills: partition -> {run_id, status}), tags, created,
-- ended, error, from_failure, parent_id}. Raises BackfillNotFoundError.
function M:get_backfill(id)
  checktype(id, "string", 1, "get_backfill")
  return self:_query(D.backfill, { backfillId = id }, "DagsterLuaBackfill",
    read_backfill(self, "DagsterLuaBackfill", function(b, r)
      b.partitions = {}
      for i, p in ipairs(value(r.partitionNames) or {}) do b.partitions[i] = p end
      b.runs = {}
      for i, run in ipairs(r.runs) do
        local tags = answer.tags(run.tags)
        b.runs[i] = { run_id = answer.run_id(run.runId), status = run.status,
                      partition = tags["dagster/partition"], tags = tags }
      end
      local ps = value(r.partitionStatuses)
      if ps then
        b.partition_statuses = {}
        for _, p in ipairs(ps.results) do
          b.partition_statuses[p.partitionName] = { run_id = value(p.runId), status = value(p.runStatus) }
        end
      end
    end))
end

local BACKFILLS_OPTS = options("backfills", { "status", "limit", "cursor", "counts" })

-- client:backfills([{status =, limit =, cursor =, counts =}]) -> list (newest first), cursor
-- for the next page (nil at the end). Each entry is get_backfill's table without runs, and
-- without counts unless counts = true (the server works them out for each backfill).
function M:backfills(opts)
  local F = "backfills"
  local o = checkopts(opts, 1, F, BACKFILLS_OPTS)
  if o.status ~= nil then checktype(o.status, "string", 1, F, "status") end
  if o.cursor ~= nil then checktype(o.cursor, "string", 1, F, "cursor") end
  local limit = check.count(o.limit, 1, F, "limit", 100)
  if o.counts ~= nil then checktype(o.counts, "boolean", 1, F, "counts") end
  local doc = o.counts and D.backfills_counted or D.backfills
  local out = self:_query(doc, { status = o.status, cursor = o.cursor, limit = limit },
    "DagsterLuaBackfills", function(d)
      local r = self:_member(d.partitionBackfillsOrError, "PartitionBackfills", "DagsterLuaBackfills")
      local out = {}
      for i, b in ipairs(r.results) do out[i] = backfill_of(b) end
      return out
    end)
  return out, (#out == limit and #out > 0) and out[#out].id or nil
end

----------------------------------------------------------------------------------------
-- Launching
----------------------------------------------------------------------------------------

local BACKFILL_OPTS = options("backfill", { "job", "assets", "partitions", "all_partitions",
  "tags", "from_failure", "location", "repository", "title", "description", "submission_id" })

-- the launch of a complete LaunchBackfillParams, made once (see client:_launch_once): found
-- again by its submission tag, which the backfill's runs carry too
local function launch_backfill(self, params, sid)
  return self:_launch_once(D.launch_backfill, { backfillParams = params },
    "DagsterLuaLaunchBackfill", "launchPartitionBackfill", params.tags, sid, function(s, deadline)
      local found = self:find_submission(s, { kind = "backfill" }, deadline)
      return found and found.id
    end)
end

-- client:backfill{job = J | assets = {keys}, partitions = {keys} | {from =, to =} |
-- all_partitions = true, tags =, from_failure =, location =, repository =, title =,
-- description =, submission_id =} -> backfill id. The keys are checked first (one request;
-- the job's location and repository are inferred unless both are given); the launch is
-- made once, as a run's is: tagged with a submission id (the caller's, or a new one) and,
-- after a failure that may have reached the server, looked up by it before it is sent again.
function M:backfill(spec)
  local F = "backfill"
  checktype(spec, "table", 1, F)
  local o = checkopts(spec, 1, F, BACKFILL_OPTS)
  if (o.job == nil) == (o.assets == nil) then argerror(1, F, "give either job or assets") end
  if (o.partitions == nil) == (not o.all_partitions) then
    argerror(1, F, "give either partitions or all_partitions = true")
  end
  if o.all_partitions ~= nil then checktype(o.all_partitions, "boolean", 1, F, "all_partitions") end
  local wanted = o.partitions ~= nil and check.partitions(o.partitions, 1, F) or nil
  if o.from_failure ~= nil then
    checktype(o.from_failure, "boolean", 1, F, "from_failure")
    if o.assets and o.from_failure then argerror(1, F, "from_failure: only for a job backfill") end
  end
  check.place(o, 1, F)
  for _, k in ipairs { "title", "description" } do
    if o[k] ~= nil then checktype(o[k], "string", 1, F, k) end
  end
  local sid = check.submission_id(o.submission_id, 1, F)
  local params = { tags = check.tag_list(o.tags, 1, F), title = o.title, description = o.description }
  local t
  if o.job ~= nil then
    checktype(o.job, "string", 1, F, "job")
    local loc, repo = o.location, o.repository
    if loc == nil or repo == nil then loc, repo = self:_infer(o.job, loc, repo) end
    t = { job = o.job, location = loc, repository = repo, describe = "job " .. o.job }
    params.selector = { partitionSetName = o.job .. "_partition_set",
      repositorySelector = { repositoryLocationName = loc, repositoryName = repo } }
    params.fromFailure = o.from_failure or nil
  else
    local list = type(o.assets) == "string" and { o.assets } or o.assets
    checktype(list, "table", 1, F, "assets")
    if #list == 0 then argerror(1, F, "assets: no asset keys given") end
    params.assetSelection = json.array()
    for i, k in ipairs(list) do params.assetSelection[i] = check.asset_key(k, 1, F) end
    t = { asset = params.assetSelection[1], describe = "asset " .. concat(params.assetSelection[1].path, "/") }
  end
  if o.all_partitions then
    params.allPartitions = true
  else
    params.partitionNames = checked_partitions(self, t, wanted)
  end
  return launch_backfill(self, params, sid)
end

local REEXECUTE_OPTS = options("reexecute_backfill", { "strategy", "tags", "submission_id" })

-- client:reexecute_backfill(id [, {strategy =, tags =, submission_id =}]) -> the new
-- backfill's id. Only the partitions that did not succeed are run again:
--   FROM_FAILURE (default)  Dagster's re-execution of the backfill: a job backfill's failed
--                           partitions from their failed steps, an asset backfill's asset
--                           partitions not materialized
--   ALL_STEPS               a new backfill of the same target over the partitions that did
--                           not succeed, every step (tags: the parent's, plus `tags`)
-- The backfill must be finished. Made once: a retried FROM_FAILURE is settled by the child
-- backfills (dagster/parent_backfill_id) that did not exist before it, ALL_STEPS by its
-- submission tag. Dagster's FROM_FAILURE re-execution takes no tags, hence no tags and no
-- submission_id with it.
function M:reexecute_backfill(id, opts)
  local F = "reexecute_backfill"
  checktype(id, "string", 1, F)
  local o = checkopts(opts, 2, F, REEXECUTE_OPTS)
  local strategy = o.strategy or "FROM_FAILURE"
  if strategy ~= "FROM_FAILURE" and strategy ~= "ALL_STEPS" then
    argerror(2, F, "strategy: FROM_FAILURE or ALL_STEPS expected, got " .. tostring(strategy))
  end
  if strategy == "FROM_FAILURE" then
    if o.tags ~= nil then argerror(2, F, "tags: only with strategy ALL_STEPS") end
    if o.submission_id ~= nil then argerror(2, F, "submission_id: only with strategy ALL_STEPS") end
    local before = {}
    for _, b in ipairs(self:backfills { limit = 100 }) do
      if b.parent_id == id then before[b.id] = true end
    end
    return self:_launch_once(D.reexecute_backfill,
      { reexecutionParams = { parentRunId = id, strategy = strategy } },
      "DagsterLuaReexecuteBackfill", "reexecutePartitionBackfill", nil, nil, function(_, deadline)
        return self:_backfill_by_tag(PARENT_TAG, id, deadline, before)
      end)
  end
  local sid = check.submission_id(o.submission_id, 2, F)
  local b = self:get_backfill(id)
  if not FINAL[b.status] then
    error(E.new("BackfillInProgressError", fmt("backfill %s is %s: re-execute it once it has finished",
      id, b.status), { url = self.url, backfill_id = id, status = b.status }), 0)
  end
  local ok = {}
  for _, r in ipairs(b.runs) do
    if r.status == "SUCCESS" and r.partition then ok[r.partition] = true end
  end
  local names = json.array()
  for _, p in ipairs(b.partitions) do
    if not ok[p] then names[#names + 1] = p end
  end
  if #names == 0 then
    error(E.new("NothingToReexecuteError", fmt("backfill %s: every partition succeeded", id),
      { url = self.url, backfill_id = id }), 0)
  end
  local tags = {}
  for k, v in pairs(b.tags) do
    if k ~= self.SUBMISSION_TAG then tags[k] = v end
  end
  for k, v in pairs(o.tags or {}) do tags[k] = v end
  tags[PARENT_TAG], tags[ROOT_TAG] = id, b.tags[ROOT_TAG] or id
  local params = { tags = check.tag_list(tags, 2, F), partitionNames = names }
  if b.kind == "job" then
    local loc, repo = self:_infer(b.job_name)
    params.selector = { partitionSetName = b.job_name .. "_partition_set",
      repositorySelector = { repositoryLocationName = loc, repositoryName = repo } }
  else
    params.assetSelection = json.array()
    for i, k in ipairs(b.asset_keys) do params.assetSelection[i] = check.asset_key(k, 1, F) end
  end
  return launch_backfill(self, params, sid)
end

-- the server says "No backfill found for id" as a PythonError (a failed check): named here
local function not_found(self, r, id, opname)
  if r.__typename == "PythonError" and type(r.message) == "string"
     and r.message:find("No backfill found for id", 1, true) then
    error(E.new("BackfillNotFoundError", fmt("Backfill %s could not be found.", id),
      { url = self.url, backfill_id = id, operation = opname, body = r }), 0)
  end
  self:_typed_error(r, opname)
end

local CANCEL_OPTS = options("cancel_backfill", { "terminate_runs", "grace" })

-- the ids of the backfill's runs not ended (made, queued or in flight)
local function runs_not_ended(self, id)
  local ids = {}
  for _, r in ipairs(self:runs { tags = { ["dagster/backfill"] = id },
      statuses = json.array { table.unpack(enums.NOT_ENDED_RUN_STATUSES) }, limit = 1000 }) do
    ids[#ids + 1] = r.run_id
  end
  return ids
end

-- client:cancel_backfill(id [, {terminate_runs = true, grace = 10}]) -> true [, report]:
-- Dagster stops launching its runs and cancels those in flight (the backfill goes
-- CANCELING, then CANCELED). With terminate_runs, the backfill's runs not ended (made, queued
-- or in flight) are stopped too, with client:stop_runs (terminated, and forced after `grace`
-- seconds); report = {terminated = run ids, forced = run ids, left = run ids still not
-- finished}. A backfill already canceled is not an error then, so the call can be made
-- twice.
function M:cancel_backfill(id, opts)
  local F = "cancel_backfill"
  checktype(id, "string", 1, F)
  local o = checkopts(opts, 2, F, CANCEL_OPTS)
  if o.terminate_runs ~= nil then checktype(o.terminate_runs, "boolean", 2, F, "terminate_runs") end
  local grace = checknumber(o.grace, 2, F, "grace") or 10
  local ok, err = pcall(self._query, self, D.cancel_backfill, { backfillId = id },
    "DagsterLuaCancelBackfill", function(d)
      local r = d.cancelPartitionBackfill
      if r.__typename == "CancelBackfillSuccess" then return true end
      not_found(self, r, id, "DagsterLuaCancelBackfill")
    end, { once = true })
  if not o.terminate_runs then
    if not ok then error(err, 0) end
    return true
  end
  if not ok then
    -- asked again: a backfill that has ended already is fine, anything else is not
    local b = self:get_backfill(id)
    if not enums.FINAL_BACKFILL_STATUSES[b.status] and b.status ~= "CANCELING" then error(err, 0) end
  end
  return true, self:stop_runs(runs_not_ended(self, id), { grace = grace })
end

-- client:resume_backfill(id) -> true: a failed or canceled backfill is requested again
function M:resume_backfill(id)
  checktype(id, "string", 1, "resume_backfill")
  return self:_query(D.resume_backfill, { backfillId = id }, "DagsterLuaResumeBackfill", function(d)
    local r = d.resumePartitionBackfill
    if r.__typename == "ResumeBackfillSuccess" then return true end
    -- Dagster 1.10 resumes job backfills only: an asset backfill has no partition set
    -- there, and the server fails a check on it
    if r.__typename == "PythonError" and type(r.message) == "string"
       and r.message:find("Expected non-None value", 1, true) then
      error(E.new("UnsupportedError", fmt("backfill %s: this server cannot resume an asset " ..
        "backfill (Dagster 1.10 resumes job backfills only; 1.11 and later resume both)", id),
        { url = self.url, backfill_id = id, operation = "DagsterLuaResumeBackfill", body = r }), 0)
    end
    not_found(self, r, id, "DagsterLuaResumeBackfill")
  end, { once = true })
end

----------------------------------------------------------------------------------------
-- Waiting
----------------------------------------------------------------------------------------

local WAIT_OPTS = options("wait_for_backfill",
  { "timeout", "interval", "max_interval", "on_progress", "progress" })

local function counts_line(b)
  local c = b.counts or {}
  return fmt("%d/%d done, %d failed, %d running", (c.succeeded or 0) + (c.failed or 0) + (c.canceled or 0),
    c.requested or 0, c.failed or 0, c.in_progress or 0)
end

-- client:wait_for_backfill(id [, opts]) -> final status, backfill (get_backfill's table)
--   opts.timeout, interval, max_interval, progress   as for wait_for_run
--   opts.on_progress   on_progress(backfill) whenever its status or counts change (the
--                      table of one poll: get_backfill's without runs and partitions)
-- One request per poll round; the full backfill is fetched once, at the end. Ends when the
-- status is COMPLETED, COMPLETED_SUCCESS, COMPLETED_FAILED, FAILED or CANCELED; raises
-- TimeoutError {backfill_id, last_status} at the deadline.
function M:wait_for_backfill(id, opts)
  local F = "wait_for_backfill"
  checktype(id, "string", 1, F)
  local w = wait.options(opts, 2, F, WAIT_OPTS, "on_progress")
  local on_progress = w.on_progress
  local last, last_key
  wait.run(w, wait.poll, self, w, function()
    return self:_query(D.backfill_state, { backfillId = id }, "DagsterLuaBackfillState",
      read_backfill(self, "DagsterLuaBackfillState"), { deadline = w.deadline })
  end, function(b)
    local key = b.status .. " " .. counts_line(b)
    if w.progress then
      w.progress.show(fmt("backfill %s  %s  %s  %.0fs", id, b.status, counts_line(b), w.progress.elapsed()))
    end
    local changed = key ~= last_key
    last, last_key = b.status, key
    if changed and on_progress then on_progress(b) end
    return FINAL[b.status], changed
  end, function(last_error)
    error(E.new("TimeoutError", wait.with_error(fmt("backfill %s did not finish within %g s " ..
      "(last status: %s)", id, w.timeout, last or "unknown"), last_error),
      { backfill_id = id, last_status = last, timeout = w.timeout, url = self.url,
        last_error = last_error }), 0)
  end)
  return last, self:get_backfill(id)
end

return M
