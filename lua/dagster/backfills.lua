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

local fmt, concat = string.format, table.concat

-- a backfill's statuses after which it does not change by itself (resume_backfill can
-- still set it going again)
local FINAL = { COMPLETED = true, COMPLETED_SUCCESS = true, COMPLETED_FAILED = true,
                FAILED = true, CANCELED = true }

-- run statuses, as the counts name them
local COUNT_OF = { SUCCESS = "succeeded", FAILURE = "failed", CANCELED = "canceled",
                   NOT_STARTED = "pending" }

local PARENT_TAG, ROOT_TAG = "dagster/parent_backfill_id", "dagster/root_backfill_id"

return function(Client)
  local argerror, checktype, checkopts, options =
    Client._argerror, Client._checktype, Client._checkopts, Client._option_set
  local tag_list, checkcount, opt = Client._tag_list, Client._checkcount, Client._opt
  local poll, with_progress, with_error, wait_opts, tag_table =
    Client._poll, Client._with_progress, Client._with_error, Client._wait_opts, Client._tag_table

  ----------------------------------------------------------------------------------------
  -- Partition keys
  ----------------------------------------------------------------------------------------

  -- multi-dimensional keys: a table by dimension name that prints as Dagster's string
  local MultiKey = { __name = "dagster.PartitionKey" }
  MultiKey.__index = MultiKey
  function MultiKey.__tostring(k)
    local dims = {}
    for d in pairs(k) do dims[#dims + 1] = d end
    table.sort(dims)
    for i, d in ipairs(dims) do dims[i] = k[d] end
    return concat(dims, "|")
  end

  -- a key as Dagster spells it: a string, or a table {dimension = key} of strings
  local function key_string(k, n, fname, what)
    if type(k) == "string" and k ~= "" then return k end
    if type(k) == "table" and next(k) ~= nil then
      for d, v in pairs(k) do
        if type(d) ~= "string" or type(v) ~= "string" then
          argerror(n, fname, fmt("%s: a multi-dimensional key maps dimension names to strings", what))
        end
      end
      return MultiKey.__tostring(k)
    end
    argerror(n, fname, fmt("%s: partition key (a string or a table of dimension keys) expected, got %s",
      what, k == "" and "an empty string" or type(k)))
  end
  Client._partition_key = key_string

  -- where a target lives: {job =, location =, repository =} or {asset = AssetKeyInput}.
  -- A string without "/" names a job when the workspace has a job of that name, else an
  -- asset; "a/b" and {"a", "b"} are asset keys.
  local function target_of(self, target, o, n, fname)
    if type(target) == "string" and not target:find("/", 1, true) and target ~= "" then
      for _, t in ipairs(self:_job_triples()) do
        if t.job_name == target then
          local loc, repo = self:_infer(target, o.location, o.repository)
          return { job = target, location = loc, repository = repo,
                   describe = "job " .. target }
        end
      end
    end
    local key = Client._asset_key_input(target, n, fname)
    return { asset = key, describe = "asset " .. concat(key.path, "/") }
  end

  -- {keys =, dims =}: the target's partition keys as Dagster's strings, and the dimension
  -- names of a multi-dimensional asset (nil otherwise)
  local function partition_strings(self, t)
    if t.job then
      local sel = { repositoryLocationName = t.location, repositoryName = t.repository,
                    pipelineName = t.job }
      return self:_query(D.job_partitions, { selector = sel }, "DagsterLuaJobPartitions", function(d)
        local r = d.pipelineOrError
        if r.__typename ~= "Pipeline" then self:_typed_error(r, "DagsterLuaJobPartitions") end
        local keys = {}
        for i, k in ipairs(r.partitionKeysOrError.partitionKeys) do keys[i] = k end
        return { keys = keys }
      end)
    end
    return self:_query(D.asset_partitions, { key = t.asset }, "DagsterLuaAssetPartitions", function(d)
      local r = d.assetNodeOrError
      if r.__typename ~= "AssetNode" then self:_typed_error(r, "DagsterLuaAssetPartitions") end
      local keys, dims = {}, nil
      if r.isPartitioned then
        for i, k in ipairs(r.partitionKeys) do keys[i] = k end
        local def = opt(r.partitionDefinition)
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
  function Client:partitions(job_or_asset, opts)
    local F, target = "partitions", job_or_asset
    if type(target) ~= "string" and type(target) ~= "table" then
      argerror(1, F, "job name or asset key expected, got " .. (target == nil and "no value" or type(target)))
    end
    local o = checkopts(opts, 2, F, PARTITIONS_OPTS)
    local p = partition_strings(self, target_of(self, target, o, 1, F))
    local keys, dims = p.keys, p.dims
    if dims then
      for i, s in ipairs(keys) do
        local k, j = setmetatable({}, MultiKey), 0
        for part in (s .. "|"):gmatch("([^|]*)|") do j = j + 1; k[dims[j] or j] = part end
        keys[i] = k
      end
    end
    return keys
  end

  -- The partition names a backfill or a run asks for, checked against the target's keys:
  -- `spec` is a list of keys or a range {from =, to =} (both ends included). Raises
  -- PartitionKeysNotFoundError (keys the target does not have, or a target that is not
  -- partitioned) and PartitionRangeError (an end outside the definition, or from after to).
  local function checked_partitions(self, t, spec, n, fname)
    local wanted
    if spec.from ~= nil or spec.to ~= nil then
      for k in pairs(spec) do
        if k ~= "from" and k ~= "to" then argerror(n, fname, "partitions: a range has only from and to") end
      end
      wanted = { from = key_string(spec.from, n, fname, "partitions.from"),
                 to = key_string(spec.to, n, fname, "partitions.to") }
    else
      if #spec == 0 then argerror(n, fname, "partitions: no partition keys given") end
      wanted = {}
      for k in pairs(spec) do
        if math.type(k) ~= "integer" or k < 1 or k > #spec then
          argerror(n, fname, "partitions: a list of keys or a range {from =, to =} expected")
        end
      end
      for i, k in ipairs(spec) do wanted[i] = key_string(k, n, fname, fmt("partitions[%d]", i)) end
    end
    local keys = partition_strings(self, t).keys
    local index = {}
    for i, k in ipairs(keys) do index[k] = i end
    if #keys == 0 then
      error(E.new("PartitionKeysNotFoundError", fmt("%s is not partitioned", t.describe),
        { url = self.url, partition_keys = wanted.from and { wanted.from, wanted.to } or wanted }), 0)
    end
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
      return table.move(keys, a, b, 1, json.array()), wanted
    end
    local missing, names, seen = {}, json.array(), {}
    for _, k in ipairs(wanted) do
      if not index[k] then missing[#missing + 1] = k
      elseif not seen[k] then seen[k] = true; names[#names + 1] = k end
    end
    if #missing > 0 then
      error(E.new("PartitionKeysNotFoundError", fmt("partition keys not found in %s: %s",
        t.describe, concat(missing, ", ")), { url = self.url, partition_keys = missing }), 0)
    end
    return names
  end
  Client._checked_partitions, Client._partition_target = checked_partitions, target_of

  ----------------------------------------------------------------------------------------
  -- Answers to Lua tables
  ----------------------------------------------------------------------------------------

  local function backfill_id(id)
    if type(id) ~= "string" or id == "" then error("a backfill id is not a non-empty string", 0) end
    return id
  end

  -- a PartitionBackfill (BACKFILL_HEAD, and BACKFILL_STATE's counts when asked for)
  local function backfill_of(b)
    if type(b.status) ~= "string" then error("a backfill status is not a string", 0) end
    local tags = tag_table(b.tags)
    local keys = {}
    for i, k in ipairs(opt(b.assetSelection) or {}) do keys[i] = concat(k.path, "/") end
    local err = opt(b.error)
    local out = {
      id = backfill_id(b.id), status = b.status, kind = b.isAssetBackfill and "assets" or "job",
      job_name = opt(b.jobName), asset_keys = keys, num_partitions = opt(b.numPartitions),
      created = b.timestamp, ended = opt(b.endTimestamp), error = err and err.message,
      from_failure = b.fromFailure, tags = tags, parent_id = tags[PARENT_TAG],
    }
    if b.partitionStatusCounts ~= nil then
      local c = { requested = out.num_partitions or 0, succeeded = 0, failed = 0,
                  in_progress = 0, canceled = 0, pending = 0 }
      if b.isAssetBackfill then
        -- asset partitions (one asset's partition), summed over the assets
        c.requested = 0
        out.assets = {}
        for _, s in ipairs(opt(b.assetBackfillData) and b.assetBackfillData.assetBackfillStatuses or {}) do
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
      local r = d.partitionBackfillOrError
      if r.__typename ~= "PartitionBackfill" then self:_typed_error(r, opname) end
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
  function Client:get_backfill(id)
    checktype(id, "string", 1, "get_backfill")
    return self:_query(D.backfill, { backfillId = id }, "DagsterLuaBackfill",
      read_backfill(self, "DagsterLuaBackfill", function(b, r)
        b.partitions = {}
        for i, p in ipairs(opt(r.partitionNames) or {}) do b.partitions[i] = p end
        b.runs = {}
        for i, run in ipairs(r.runs) do
          local tags = tag_table(run.tags)
          b.runs[i] = { run_id = Client._run_id(run.runId), status = run.status,
                        partition = tags["dagster/partition"], tags = tags }
        end
        local ps = opt(r.partitionStatuses)
        if ps then
          b.partition_statuses = {}
          for _, p in ipairs(ps.results) do
            b.partition_statuses[p.partitionName] = { run_id = opt(p.runId), status = opt(p.runStatus) }
          end
        end
      end))
  end

  local BACKFILLS_OPTS = options("backfills", { "status", "limit", "cursor" })

  -- client:backfills([{status =, limit =, cursor =}]) -> list (newest first), cursor for the
  -- next page (nil at the end). Each entry is get_backfill's table without counts or runs.
  function Client:backfills(opts)
    local F = "backfills"
    local o = checkopts(opts, 1, F, BACKFILLS_OPTS)
    if o.status ~= nil then checktype(o.status, "string", 1, F, "status") end
    if o.cursor ~= nil then checktype(o.cursor, "string", 1, F, "cursor") end
    local limit = checkcount(o.limit, 1, F, "limit", 100)
    local out = self:_query(D.backfills, { status = o.status, cursor = o.cursor, limit = limit },
      "DagsterLuaBackfills", function(d)
        local r = d.partitionBackfillsOrError
        if r.__typename ~= "PartitionBackfills" then self:_typed_error(r, "DagsterLuaBackfills") end
        local out = {}
        for i, b in ipairs(r.results) do out[i] = backfill_of(b) end
        return out
      end)
    return out, (#out == limit and #out > 0) and out[#out].id or nil
  end

  ----------------------------------------------------------------------------------------
  -- Launching
  ----------------------------------------------------------------------------------------

  -- the oldest of the newest 100 backfills carrying tag key=value, as a launch result
  local function find_backfill(self, key, value, deadline, except)
    return self:_query(D.backfills, { limit = 100 }, "DagsterLuaBackfills", function(d)
      local r = d.partitionBackfillsOrError
      if r.__typename ~= "PartitionBackfills" then self:_typed_error(r, "DagsterLuaBackfills") end
      local found
      for _, b in ipairs(r.results) do
        if tag_table(b.tags)[key] == value and not (except and except[b.id]) then found = b.id end
      end
      return found and { __typename = "LaunchBackfillSuccess", backfillId = found, recovered = true }
    end, false, deadline)
  end

  Client._find_backfill = find_backfill

  local function read_launch(self, opname)
    return function(r)
      if r.__typename == "LaunchBackfillSuccess" then return backfill_id(r.backfillId) end
      if r.__typename == "PartitionKeysNotFoundError" then
        self:_typed_error(r, opname, nil, { partition_keys = r.partitionKeys })
      elseif r.__typename == "InvalidStepError" then
        self:_typed_error(r, opname, r.invalidStepKey)
      elseif r.__typename == "InvalidOutputError" then
        self:_typed_error(r, opname, fmt("invalid output %s of step %s",
          tostring(r.invalidOutputName), tostring(r.stepKey)))
      elseif r.__typename == "RunConfigValidationInvalid" then
        local msgs = {}
        for i, e in ipairs(r.errors) do msgs[i] = e.message end
        self:_typed_error(r, opname, concat(msgs, "; "), r.errors)
      end
      self:_typed_error(r, opname)
    end
  end

  local BACKFILL_OPTS = options("backfill", { "job", "assets", "partitions", "all_partitions",
    "tags", "from_failure", "location", "repository", "title", "description" })

  -- client:backfill{job = J | assets = {keys}, partitions = {keys} | {from =, to =} |
  -- all_partitions = true, tags =, from_failure =, location =, repository =, title =,
  -- description =} -> backfill id. The keys are checked first (one request); the launch is
  -- made once, as a run's is: tagged with a submission id and, after a failure that may have
  -- reached the server, looked up by it before it is sent again.
  function Client:backfill(spec)
    local F = "backfill"
    checktype(spec, "table", 1, F)
    local o = checkopts(spec, 1, F, BACKFILL_OPTS)
    if (o.job == nil) == (o.assets == nil) then argerror(1, F, "give either job or assets") end
    if (o.partitions == nil) == (not o.all_partitions) then
      argerror(1, F, "give either partitions or all_partitions = true")
    end
    if o.all_partitions ~= nil then checktype(o.all_partitions, "boolean", 1, F, "all_partitions") end
    if o.partitions ~= nil then checktype(o.partitions, "table", 1, F, "partitions") end
    if o.from_failure ~= nil then
      checktype(o.from_failure, "boolean", 1, F, "from_failure")
      if o.assets and o.from_failure then argerror(1, F, "from_failure: only for a job backfill") end
    end
    for _, k in ipairs { "location", "repository", "title", "description" } do
      if o[k] ~= nil then checktype(o[k], "string", 1, F, k) end
    end
    local params = { tags = tag_list(o.tags, 1, F), title = o.title, description = o.description }
    local t
    if o.job ~= nil then
      checktype(o.job, "string", 1, F, "job")
      local loc, repo = self:_infer(o.job, o.location, o.repository)
      t = { job = o.job, location = loc, repository = repo, describe = "job " .. o.job }
      params.selector = { partitionSetName = o.job .. "_partition_set",
        repositorySelector = { repositoryLocationName = loc, repositoryName = repo } }
      params.fromFailure = o.from_failure or nil
    else
      local list = type(o.assets) == "string" and { o.assets } or o.assets
      checktype(list, "table", 1, F, "assets")
      if #list == 0 then argerror(1, F, "assets: no asset keys given") end
      params.assetSelection = json.array()
      for i, k in ipairs(list) do params.assetSelection[i] = Client._asset_key_input(k, 1, F) end
      t = { asset = params.assetSelection[1], describe = "asset " .. concat(params.assetSelection[1].path, "/") }
    end
    if o.all_partitions then
      params.allPartitions = true
    else
      params.partitionNames = checked_partitions(self, t, o.partitions, 1, F)
    end
    return self:_launch_backfill(params)
  end

  -- the launch of a complete LaunchBackfillParams, made once (see Client:_launch_once)
  function Client:_launch_backfill(params)
    local tags = params.tags
    return self:_launch_once(D.launch_backfill, { backfillParams = params },
      "DagsterLuaLaunchBackfill", "launchPartitionBackfill", tags,
      read_launch(self, "DagsterLuaLaunchBackfill"), function(c, sid, deadline)
        return find_backfill(c, Client.SUBMISSION_TAG, sid, deadline)
      end)
  end

  local REEXECUTE_OPTS = options("reexecute_backfill", { "strategy", "tags" })

  -- client:reexecute_backfill(id [, {strategy =, tags =}]) -> the new backfill's id. Only the
  -- partitions that did not succeed are run again:
  --   FROM_FAILURE (default)  Dagster's re-execution of the backfill: a job backfill's failed
  --                           partitions from their failed steps, an asset backfill's asset
  --                           partitions not materialized
  --   ALL_STEPS               a new backfill of the same target over the partitions that did
  --                           not succeed, every step (tags: the parent's, plus `tags`)
  -- The backfill must be finished. Made once: a retried FROM_FAILURE is settled by the child
  -- backfills (dagster/parent_backfill_id) that did not exist before it, ALL_STEPS by its tag.
  function Client:reexecute_backfill(id, opts)
    local F = "reexecute_backfill"
    checktype(id, "string", 1, F)
    local o = checkopts(opts, 2, F, REEXECUTE_OPTS)
    local strategy = o.strategy or "FROM_FAILURE"
    if strategy ~= "FROM_FAILURE" and strategy ~= "ALL_STEPS" then
      argerror(2, F, "strategy: FROM_FAILURE or ALL_STEPS expected, got " .. tostring(strategy))
    end
    if strategy == "FROM_FAILURE" then
      if o.tags ~= nil then argerror(2, F, "tags: only with strategy ALL_STEPS") end
      local before = {}
      for _, b in ipairs(self:backfills { limit = 100 }) do
        if b.parent_id == id then before[b.id] = true end
      end
      return self:_launch_once(D.reexecute_backfill,
        { reexecutionParams = { parentRunId = id, strategy = strategy } },
        "DagsterLuaReexecuteBackfill", "reexecutePartitionBackfill", {},
        read_launch(self, "DagsterLuaReexecuteBackfill"), function(c, _, deadline)
          return find_backfill(c, PARENT_TAG, id, deadline, before)
        end)
    end
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
      if k ~= Client.SUBMISSION_TAG then tags[k] = v end
    end
    for k, v in pairs(o.tags or {}) do tags[k] = v end
    tags[PARENT_TAG], tags[ROOT_TAG] = id, b.tags[ROOT_TAG] or id
    local params = { tags = tag_list(tags, 2, F), partitionNames = names }
    if b.kind == "job" then
      local loc, repo = self:_infer(b.job_name)
      params.selector = { partitionSetName = b.job_name .. "_partition_set",
        repositorySelector = { repositoryLocationName = loc, repositoryName = repo } }
    else
      params.assetSelection = json.array()
      for i, k in ipairs(b.asset_keys) do params.assetSelection[i] = Client._asset_key_input(k, 1, F) end
    end
    return self:_launch_backfill(params)
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

  -- client:cancel_backfill(id) -> true: Dagster stops launching its runs and cancels those
  -- in flight (the backfill goes CANCELING, then CANCELED)
  function Client:cancel_backfill(id)
    checktype(id, "string", 1, "cancel_backfill")
    return self:_query(D.cancel_backfill, { backfillId = id }, "DagsterLuaCancelBackfill", function(d)
      local r = d.cancelPartitionBackfill
      if r.__typename == "CancelBackfillSuccess" then return true end
      not_found(self, r, id, "DagsterLuaCancelBackfill")
    end, true)
  end

  -- client:resume_backfill(id) -> true: a failed or canceled backfill is requested again
  function Client:resume_backfill(id)
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
    end, true)
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
  function Client:wait_for_backfill(id, opts)
    local F = "wait_for_backfill"
    checktype(id, "string", 1, F)
    local w = wait_opts(opts, 2, F, WAIT_OPTS, "on_progress")
    local on_progress = w.on_progress
    local last, last_key
    with_progress(w, poll, self, w, function()
      return self:_query(D.backfill_state, { backfillId = id }, "DagsterLuaBackfillState",
        read_backfill(self, "DagsterLuaBackfillState"), false, w.deadline)
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
      error(E.new("TimeoutError", with_error(fmt("backfill %s did not finish within %g s " ..
        "(last status: %s)", id, w.timeout, last or "unknown"), last_error),
        { backfill_id = id, last_status = last, timeout = w.timeout, url = self.url,
          last_error = last_error }), 0)
    end)
    return last, self:get_backfill(id)
  end
end
