-- Generates types/dagster.lua, the LuaLS definition file (---@meta) of the public API, from
-- the one description of it, lua/dagster/api.lua (and the enumerations of
-- lua/dagster/enums.lua), so that the annotations cannot drift from what help() says.
--   lua5.4 scripts/gen-annotations.lua > types/dagster.lua        (make annotations)
-- spec/annotations_spec.lua regenerates it and compares it with the committed copy.
--
-- What api.lua does not say is here, kept small: the fields of the result classes its
-- `returns` name (dagster.Run, dagster.Location, ...: as the README documents them), and a
-- few places where a plain "string" of api.lua is one of an enumeration's names. The
-- playbook entries come out as the class dagster.playbook (the module, `local playbook`)
-- and dagster.Playbook (the pb a body is given, `local Playbook`); the sections of api.lua's
-- topics that name a class or an alias (the declaration's tables, the flag types, the pb's
-- fields) as those classes and aliases.

local root = (arg and arg[0] or ""):match("^(.*)/scripts/[^/]*$") or "."

local function load_table(path)
  local chunk = assert(loadfile(root .. "/" .. path, "t", {
    ipairs = ipairs, pairs = pairs, setmetatable = setmetatable, error = error,
    string = string, tostring = tostring, table = table,
  }))
  return chunk()
end

local api = load_table("lua/dagster/api.lua")
local enums = load_table("lua/dagster/enums.lua")

local out = {}
local function w(fmt, ...) out[#out + 1] = select("#", ...) > 0 and fmt:format(...) or fmt end

-- the names of an enumeration, in order (rawget: reading past the end raises)
local function names(enum)
  local list = {}
  for i = 1, rawlen(enum) do list[i] = ('"%s"'):format(rawget(enum, i)) end
  return table.concat(list, "|")
end

-- Aliases: the enumerations of enums.lua, and the other sets of names the API uses.
local ALIASES = {
  { "dagster.RunStatusName", names(enums.RunStatus), "a run's status (dagster.RunStatus)" },
  { "dagster.FinalRunStatus", '"SUCCESS"|"FAILURE"|"CANCELED"', "the status a finished run ends with" },
  { "dagster.ReloadRepositoryLocationStatusName", names(enums.ReloadRepositoryLocationStatus),
    "dagster.ReloadRepositoryLocationStatus" },
  { "dagster.ShutdownRepositoryLocationStatusName", names(enums.ShutdownRepositoryLocationStatus),
    "dagster.ShutdownRepositoryLocationStatus" },
  { "dagster.LocationLoadStatus", '"LOADED"|"LOADING"', "a code location's load status" },
  { "dagster.InstigatorStatus", '"RUNNING"|"STOPPED"', "a schedule's or a sensor's status" },
  { "dagster.PartitionKey", "string|table<string, string>",
    "a partition key: a string, or {dimension = key} for a multi-dimensional one" },
  { "dagster.PartitionRange", "{from: dagster.PartitionKey, to: dagster.PartitionKey}",
    "a range of partitions, both ends included" },
  { "dagster.ReexecutionStrategy", '"ALL_STEPS"|"FROM_FAILURE"|"FROM_ASSET_FAILURE"',
    "which steps client:reexecute runs again" },
}

-- Where api.lua's type is a plain string but the value is one of an alias's names:
-- [entry name] = {returns = {[i] = type}, options = {[name] = type}}
local REFINE = {
  ["client:get_run_status"] = { returns = { "dagster.RunStatusName" } },
  ["client:wait_for_run"] = { returns = { "dagster.FinalRunStatus" },
    options = { on_status = "fun(status: dagster.RunStatusName, run: dagster.Run)" } },
  ["client:wait_for_runs"] = { returns = { "table<string, dagster.FinalRunStatus>" },
    options = { on_status = "fun(run_id: string, status: dagster.RunStatusName)" } },
  ["client:runs"] = { options = { statuses = "dagster.RunStatusName[]" } },
  ["client:each_run"] = { options = { statuses = "dagster.RunStatusName[]" } },
  ["client:reexecute"] = { options = { strategy = "dagster.ReexecutionStrategy" } },
  ["client:reload_repository_location"] = { returns = { "dagster.LocationResult" } },
  ["client:shutdown_repository_location"] = { returns = { "dagster.LocationResult" } },
  ["client:start_schedule"] = { returns = { "dagster.InstigatorStatus" } },
  ["client:stop_schedule"] = { returns = { "dagster.InstigatorStatus" } },
  ["client:start_sensor"] = { returns = { "dagster.InstigatorStatus" } },
  ["client:stop_sensor"] = { returns = { "dagster.InstigatorStatus" } },
  ["client:events"] = { returns = { [2] = "dagster.EventState" } },
  ["pb:reexecute"] = { options = { strategy = "dagster.ReexecutionStrategy" } },
  ["pb:reload"] = { returns = { "dagster.LocationResult?" } },
  ["pb:shutdown"] = { returns = { "dagster.LocationResult?" } },
  ["playbook.code_of_status"] = { args = { status = "dagster.RunStatusName" } },
}

-- The classes api.lua's types name, with their fields (the README's descriptions).
local CLASSES = {
  { "dagster.Client", "A client of one Dagster webserver (dagster.client).", {
    { "url", "string", "the GraphQL endpoint, e.g. http://localhost:3000/graphql" } } },
  { "dagster.Task", "A task made by dagster.spawn, run by dagster.gather or dagster.run.", {} },
  { "dagster.Error", "The error every API failure raises; tostring(e) is \"Name: message\".", {
    { "name", "string", "the error's name, e.g. RunNotFoundError" },
    { "message", "string", "what went wrong" },
    { "body", "any", "details: the server's validation errors, failed runs, candidates, ..." },
    { "status", "integer?", "the HTTP status, when there was an answer" },
    { "url", "string?", "the URL of the request" },
    { "curl_code", "integer?", "libcurl's code, for transport failures" },
    { "transport_error", "string?", "libcurl's message, for transport failures" },
    { "transient", "boolean?", "whether a retry may succeed" },
    { "operation", "string?", "ProtocolError: the GraphQL operation" },
    { "path", "string?", "ProtocolError: where the answer differs from the document" },
    { "submission_id", "string?", "a launch whose outcome is unknown: its submission id tag" },
    { "run_id", "string?", "TimeoutError of wait_for_run: the run" },
    { "last_status", "string?", "TimeoutError of a wait: the last status seen" },
    { "backfill_id", "string?", "TimeoutError of wait_for_backfill: the backfill" },
    { "partition_keys", "string[]?", "PartitionKeysNotFoundError: the keys not found" } } },
  { "dagster.Run", "A run, as client:get_run gives it (times in epoch seconds).", {
    { "run_id", "string" }, { "job_name", "string" }, { "status", "dagster.RunStatusName" },
    { "tags", "table<string, string>" }, { "run_config", "table" },
    { "creation_time", "number?" }, { "start_time", "number?" }, { "end_time", "number?" },
    { "update_time", "number?" }, { "steps_succeeded", "integer?" },
    { "steps_failed", "integer?" }, { "steps_skipped", "integer?" },
    { "failure_message", "string?", "the user's own exception text" },
    { "parent_run_id", "string?" }, { "root_run_id", "string?" },
    { "can_terminate", "boolean" } } },
  { "dagster.RunSummary", "A run as client:runs and client:each_run list it.", {
    { "run_id", "string" }, { "job_name", "string" }, { "status", "dagster.RunStatusName" },
    { "tags", "table<string, string>" }, { "creation_time", "number?" },
    { "start_time", "number?" }, { "end_time", "number?" }, { "update_time", "number?" } } },
  { "dagster.Event", "An event of a run (client:events).", {
    { "type", "string", "the GraphQL type name" }, { "event_type", "string?" },
    { "level", "string" }, { "message", "string" }, { "step_key", "string?" },
    { "run_id", "string" }, { "timestamp", "number", "epoch seconds" },
    { "error_message", "string?" },
    { "check", "{asset: string, name: string, passed: boolean?, severity: string?, description: string?}?",
      "an asset check planned (asset, name) or evaluated (and passed, severity, description)" } } },
  { "dagster.EventState", "Where client:events is: resume from cursor.", {
    { "cursor", "string?" }, { "run_id", "string" }, { "done", "boolean" } } },
  { "dagster.TimelineStep", "One step of a timeline.", {
    { "key", "string" }, { "status", "string" }, { "start_time", "number?" },
    { "end_time", "number?" } } },
  { "dagster.Timeline", "A run's steps on one time axis; tostring or t:render draws it.", {
    { "steps", "dagster.TimelineStep[]" },
    { "render", "fun(self: dagster.Timeline, opts?: {width?: integer, colour?: boolean}): string" } } },
  { "dagster.Location", "A code location (client:locations).", {
    { "name", "string" }, { "load_status", "dagster.LocationLoadStatus" },
    { "server_id", "string?" }, { "version_key", "string?" }, { "update_time", "number?" },
    { "error", "string?", "the user's own exception text, when the code failed to load" },
    { "error_message", "string?", "the server's whole error message" },
    { "error_class", "string?" } } },
  { "dagster.LocationResult", "What reload and shutdown of a location return.", {
    { "status", '"SUCCESS"|"FAILURE"' }, { "failure_type", "string?" },
    { "message", "string?" } } },
  { "dagster.Repository", "A repository (client:repositories).", {
    { "name", "string" }, { "location", "string" } } },
  { "dagster.Job", "A job (client:jobs).", {
    { "name", "string" }, { "repository", "string" }, { "location", "string" },
    { "is_asset_job", "boolean" }, { "partitioned", "boolean", "the job has a partition set" } } },
  { "dagster.Asset", "An asset (client:assets).", {
    { "key", "string[]" }, { "path", "string", '"a/b"' },
    { "latest_materialization", "number?", "epoch seconds" },
    { "group", "string?", "the asset's group" },
    { "health", "string?", "Dagster's overall health where the server computes it (Dagster+)" } } },
  { "dagster.BackfillCounts", "A backfill's partitions by status (asset backfills: asset partitions).", {
    { "requested", "integer" }, { "succeeded", "integer" }, { "failed", "integer" },
    { "in_progress", "integer" }, { "canceled", "integer" }, { "pending", "integer" } } },
  { "dagster.BackfillRun", "A run of a backfill.", {
    { "run_id", "string" }, { "status", "dagster.RunStatusName" }, { "partition", "string?" },
    { "tags", "table<string, string>" } } },
  { "dagster.Backfill", "A backfill (client:get_backfill; listings lack counts, runs and partitions).", {
    { "id", "string" }, { "status", "string", "REQUESTED, COMPLETED_SUCCESS, COMPLETED_FAILED, CANCELED, ..." },
    { "kind", '"job"|"assets"' }, { "job_name", "string?" }, { "asset_keys", "string[]" },
    { "num_partitions", "integer?" }, { "partitions", "string[]?" },
    { "counts", "dagster.BackfillCounts?" },
    { "assets", "table<string, dagster.BackfillCounts>?", "asset backfills: counts by asset key" },
    { "runs", "dagster.BackfillRun[]?", "newest first" },
    { "partition_statuses", "table<string, {run_id: string?, status: string?}>?", "job backfills" },
    { "tags", "table<string, string>" }, { "created", "number", "epoch seconds" },
    { "ended", "number?" }, { "error", "string?" }, { "from_failure", "boolean" },
    { "parent_id", "string?", "the backfill this one re-executes" } } },
  { "dagster.Schedule", "A schedule (client:schedules).", {
    { "name", "string" }, { "location", "string" }, { "repository", "string" },
    { "cron_schedule", "string" }, { "status", "dagster.InstigatorStatus" }, { "id", "string" },
    { "selector_id", "string" }, { "job_name", "string" },
    { "last_tick", "{timestamp: number, status: string, error: string?}?", "none before the first tick" },
    { "ticks", "{timestamp: number, status: string, error: string?}[]?", "with {ticks = n}: the last n, newest first" } } },
  { "dagster.PlaybookDefinition", "What a playbook file returns (playbook.define).", {
    { "decl", "dagster.PlaybookDeclaration", "the declaration, checked" },
    { "body", "fun(pb: dagster.Playbook): integer?", "the body, run by playbook.run" } } },
  { "dagster.Sensor", "A sensor (client:sensors).", {
    { "name", "string" }, { "location", "string" }, { "repository", "string" },
    { "status", "dagster.InstigatorStatus" }, { "id", "string" }, { "selector_id", "string" },
    { "job_name", "string?" }, { "job_names", "string[]" },
    { "min_interval", "integer?", "seconds between evaluations at least" },
    { "last_tick", "{timestamp: number, status: string, error: string?}?", "none before the first tick" },
    { "ticks", "{timestamp: number, status: string, error: string?}[]?", "with {ticks = n}: the last n, newest first" } } },
  { "dagster.Instance", "The instance's settings (client:instance).", {
    { "run_queuing", "boolean", "runs go through the run queue" },
    { "max_concurrent_runs", "integer?" },
    { "tag_concurrency_limits", "table[]?", "{key, value, limit} each, read from the server's YAML" },
    { "tag_concurrency_limits_yaml", "string?" }, { "op_concurrency_aware", "boolean?" },
    { "auto_materialize_paused", "boolean" }, { "pools_supported", "boolean" },
    { "min_pool_limit", "integer" }, { "max_pool_limit", "integer" },
    { "default_pool_limit", "integer?" }, { "pool_granularity", "string?" } } },
  { "dagster.CheckExecution", "An asset check's last execution (client:asset_checks).", {
    { "status", '"SUCCEEDED"|"FAILED"|"IN_PROGRESS"|"EXECUTION_FAILED"|"SKIPPED"' },
    { "passed", "boolean?" }, { "severity", '"ERROR"|"WARN"?' }, { "description", "string?" },
    { "run_id", "string" }, { "time", "number", "epoch seconds" },
    { "for_latest", "boolean", "it checked the asset's latest materialization" } } },
  { "dagster.AssetCheck", "An asset check (client:asset_checks).", {
    { "asset", "string", '"a/b"' }, { "key", "string[]" }, { "name", "string" },
    { "description", "string?" }, { "blocking", "boolean" },
    { "can_execute", "boolean", "false: it runs only with its asset's materialization" },
    { "jobs", "string[]" }, { "group", "string?" }, { "location", "string" },
    { "repository", "string" }, { "last", "dagster.CheckExecution?" } } },
  { "dagster.CheckResult", "An asset check's outcome in a run (client:check_results).", {
    { "asset", "string" }, { "name", "string" },
    { "status", '"SUCCEEDED"|"FAILED"|"IN_PROGRESS"|"EXECUTION_FAILED"|"SKIPPED"' },
    { "passed", "boolean?" }, { "severity", '"ERROR"|"WARN"?' }, { "description", "string?" } } },
  { "dagster.AssetRun", "A run as client:asset_health gives it.", {
    { "run_id", "string" }, { "status", "string" }, { "time", "number?", "its last update, epoch seconds" } } },
  { "dagster.AssetHealth", "An asset's partitions, latest run and failures (client:asset_health).", {
    { "asset", "string", '"a/b"' }, { "key", "string[]" }, { "group", "string?" },
    { "location", "string" }, { "repository", "string" }, { "materializable", "boolean" },
    { "partitioned", '"STATIC"|"TIME_WINDOW"|"DYNAMIC"|"MULTIPARTITIONED"?' },
    { "partitions_def", "string?", "the partitions definition's description" },
    { "latest_run", "dagster.AssetRun?" },
    { "latest_materialization", "{run_id: string, time: number}?" },
    { "in_progress", "boolean", "a run of it is queued or going" },
    { "failed", "boolean", "its latest attempt (a partition's) failed and nothing succeeded since" },
    { "partitions", "{total: integer, materialized: integer, failed: integer, in_progress: integer, missing: integer}?" },
    { "failed_partitions", "string[]?", "nil for a multi-partitioned asset" },
    { "in_progress_partitions", "string[]?" },
    { "failed_runs", "table<string, dagster.AssetRun>?", "with failures = true" },
    { "checks", "dagster.AssetCheck[]?", "client:asset: its checks" } } },
  { "dagster.DaemonStatus", "A daemon's health (client:daemon_health).", {
    { "type", "string", "SCHEDULER, SENSOR, QUEUED_RUN_COORDINATOR, BACKFILL, ..." },
    { "required", "boolean" }, { "healthy", "boolean?" },
    { "last_heartbeat", "number?", "epoch seconds" },
    { "errors", "string[]", "the last heartbeat's errors" } } },
  { "dagster.PoolSlot", "A claimed slot of a pool.", { { "run_id", "string" }, { "step_key", "string" } } },
  { "dagster.PendingStep", "A step waiting for a pool slot.", {
    { "run_id", "string" }, { "step_key", "string" }, { "enqueued", "number", "epoch seconds" },
    { "assigned", "number?" }, { "priority", "integer?" } } },
  { "dagster.Hold", "What holds a queued run (client:queue).", {
    { "kind", '"daemon"|"queue_limit"|"tag_limit"|"pool"' }, { "text", "string" },
    { "pool", "string?" }, { "key", "string?" }, { "value", "string?" }, { "limit", "integer?" },
    { "claimed", "integer?" }, { "ended", "integer?", "slots claimed by runs that have ended" } } },
  { "dagster.QueuedRun", "A queued run (client:queue).", {
    { "run_id", "string" }, { "job_name", "string" }, { "created", "number?" },
    { "queued_for", "number?", "seconds" }, { "pools", "string[]" },
    { "tags", "table<string, string>" }, { "held_by", "dagster.Hold[]" } } },
  { "dagster.Queue", "The run queue (client:queue).", {
    { "queued", "dagster.QueuedRun[]" }, { "in_progress", "dagster.RunSummary[]" },
    { "pools", "dagster.Pool[]", "each with ended: the claimed slots' runs that have ended" },
    { "instance", "dagster.Instance" }, { "daemons", "dagster.DaemonStatus[]" },
    { "daemon", "dagster.DaemonStatus?", "the QUEUED_RUN_COORDINATOR's" } } },
  { "dagster.Pool", "A concurrency pool (client:concurrency_pools).", {
    { "pool", "string" }, { "limit", "integer?" }, { "slot_count", "integer" },
    { "using_default_limit", "boolean?" }, { "claimed", "dagster.PoolSlot[]" },
    { "pending", "dagster.PendingStep[]" },
    { "ended", "{run_id: string, status: string?}[]?", "client:queue: the claimed slots' runs that have ended" } } },
  { "dagster.UnloadableInstigator", "A running schedule or sensor whose code is gone (client:unloadable_instigators).", {
    { "kind", '"schedule"|"sensor"' }, { "name", "string" }, { "location", "string" },
    { "repository", "string" }, { "status", "dagster.InstigatorStatus" }, { "id", "string" },
    { "selector_id", "string" } } },
  { "dagster.Tick", "A schedule's or a sensor's tick (client:ticks, client:schedule, client:sensor).", {
    { "id", "string" }, { "status", '"STARTED"|"SKIPPED"|"SUCCESS"|"FAILURE"' },
    { "timestamp", "number", "epoch seconds" }, { "end_timestamp", "number?" },
    { "run_ids", "string[]", "the runs it launched" }, { "skip_reason", "string?" },
    { "cursor", "string?", "a sensor's cursor after the tick" },
    { "error", "string?", "the error's message, for a FAILURE" } } },
  { "dagster.ScheduleDetail", "One schedule in full (client:schedule).", {
    { "name", "string" }, { "location", "string" }, { "repository", "string" },
    { "status", "dagster.InstigatorStatus" }, { "cron_schedule", "string" },
    { "timezone", "string?" }, { "job_name", "string" }, { "description", "string?" },
    { "default_status", "dagster.InstigatorStatus", "what the code declares; reset_schedule goes back to it" },
    { "id", "string" }, { "selector_id", "string" },
    { "ticks", "dagster.Tick[]", "the last ticks, newest first" } } },
  { "dagster.SensorDetail", "One sensor in full (client:sensor).", {
    { "name", "string" }, { "location", "string" }, { "repository", "string" },
    { "status", "dagster.InstigatorStatus" }, { "job_name", "string?" }, { "job_names", "string[]" },
    { "sensor_type", "string", "STANDARD, ASSET, AUTO_MATERIALIZE, ..." },
    { "min_interval", "integer", "seconds between evaluations at least" },
    { "cursor", "string?" }, { "last_tick_time", "number?" }, { "last_run_key", "string?" },
    { "description", "string?" },
    { "default_status", "dagster.InstigatorStatus", "what the code declares; reset_sensor goes back to it" },
    { "id", "string" }, { "selector_id", "string" },
    { "ticks", "dagster.Tick[]", "the last ticks, newest first" } } },
}

-- the table an entry's function hangs off, and the function's own name
local function owner(name)
  local m = name:match("^client:([%w_]+)$")
  if m then return "Client", ":", m end
  m = name:match("^pb:([%w_]+)$")
  if m then return "Playbook", ":", m end
  m = name:match("^playbook%.([%w_]+)$")
  if m then return "playbook", ".", m end
  local t, f = name:match("^(dagster[%w_.]*)%.([%w_]+)$")
  return t, ".", f
end

-- the local table a section's class is written into, when its methods follow
local CLASS_TABLE = { ["dagster.Playbook"] = "Playbook" }

local function comment(text, prefix)
  for line in (text .. "\n"):gmatch("(.-)\n") do w("%s%s", prefix or "--- ", line) end
end

-- the options class of an entry: dagster.opts.<function> (dagster.opts.pb_submit for
-- pb:submit, dagster.opts.playbook_x for playbook.x)
local function opts_class(e)
  return "dagster.opts." .. e.name:gsub("^client:", ""):gsub("^dagster%.", ""):gsub("[.:]", "_")
end

w("---@meta dagster")
w("-- Generated by scripts/gen-annotations.lua from lua/dagster/api.lua and")
w("-- lua/dagster/enums.lua: do not edit (make annotations). LuaLS / LuaCATS annotations of")
w("-- the dagster module; see the README for the .luarc.json an editor needs.")
w("")
for _, a in ipairs(ALIASES) do
  w("---%s", a[3])
  w("---@alias %s %s", a[1], a[2])
  w("")
end
local defined = {}
for _, c in ipairs(CLASSES) do
  w("---%s", c[2])
  w("---@class %s", c[1])
  for _, f in ipairs(c[3]) do
    w("---@field %s %s%s", f[1], f[2], f[3] and (" " .. f[3]) or "")
  end
  defined[c[1]] = true
  if c[1] == "dagster.Client" then w("local Client = {}") end
  w("")
end

-- the module
w("---The module: require \"dagster\".")
w("---@class dagster")
w("---@field VERSION string the module's version")
w("---@field null lightuserdata JSON null, in answers and in what you send")
w("---@field RunStatus table<dagster.RunStatusName, dagster.RunStatusName>")
w("---@field ReloadRepositoryLocationStatus table<dagster.ReloadRepositoryLocationStatusName, dagster.ReloadRepositoryLocationStatusName>")
w("---@field ShutdownRepositoryLocationStatus table<dagster.ShutdownRepositoryLocationStatusName, dagster.ShutdownRepositoryLocationStatusName>")
w("local dagster = {}")
w("")
w("---The JSON layer the client uses (integers kept, null as dagster.null).")
w("---@class dagster.json")
w("---@field null lightuserdata")
w("---@field version string")
w("dagster.json = {}")
w("")
w("---@class dagster.Error")
w("dagster.Error = {}")
w("")

-- every type name an entry uses must be an alias, a class, or a built-in type
local known = { ["dagster.Client"] = true, ["dagster.playbook"] = true }
for _, a in ipairs(ALIASES) do known[a[1]] = true end
for _, e in ipairs(api.entries) do
  for _, sec in ipairs(e.sections or {}) do
    if sec.class or sec.alias then known[sec.class or sec.alias] = true end
  end
end
local function check_types(t, where)
  for name in t:gmatch("dagster%.[%w_.]+") do
    if not (defined[name] or known[name]) then
      error(("%s: type %s has no ---@class or ---@alias in scripts/gen-annotations.lua"):format(where, name))
    end
  end
  return t
end

-- a topic's sections that name a class or an alias; the playbook topic also brings the
-- module class (playbook.EXIT, playbook.EXIT_CODES)
local function topic(e)
  for _, sec in ipairs(e.sections) do
    if sec.alias then
      local names = {}
      for i, f in ipairs(sec.fields) do names[i] = ('"%s"'):format(f.name) end
      w("---%s", sec.title)
      w("---@alias %s %s", sec.alias, table.concat(names, "|"))
      w("")
    elseif sec.class then
      w("---%s", e.name == "pb" and e.summary or sec.title)
      w("---@class %s", sec.class)
      for _, f in ipairs(sec.fields) do
        w("---@field %s%s %s %s", f.name, f.optional and "?" or "", check_types(f.type, e.name), f.doc)
      end
      if CLASS_TABLE[sec.class] then w("local %s = {}", CLASS_TABLE[sec.class]) end
      w("")
    end
  end
  if e.name == "playbook" then
    w("---The playbook module: require \"dagster.playbook\" (annotate it ---@type dagster.playbook).")
    w("---@class dagster.playbook")
    w("---@field EXIT table<string, integer> the exit codes by name: playbook.EXIT.PARTIAL == 6")
    w("---@field EXIT_CODES {[1]: integer, [2]: string}[] the exit codes with their meaning, in order")
    w("local playbook = {}")
    w("")
  end
end

-- a function's or a method's annotation
local function entry(e)
  local refine = REFINE[e.name] or {}
  local tbl, sep, fname = owner(e.name)
  assert(tbl, "cannot place entry " .. e.name)
  if e.opts_arg then
    local cls = opts_class(e)
    known[cls] = true
    w("---Options of %s.", e.name)
    w("---@class %s", cls)
    for _, o in ipairs(e.options or {}) do
      local t = check_types((refine.options or {})[o.name] or o.type, e.name)
      local doc = o.doc or ""
      if o.default then doc = doc .. " (default: " .. o.default .. ")" end
      w("---@field %s? %s %s", o.name, t, doc)
    end
    w("")
  end
  comment(e.summary)
  if e.doc then
    w("---")
    comment(e.doc)
  end
  if e.errors and #e.errors > 0 then
    w("---")
    w("---Raises dagster.Error: %s.", table.concat(e.errors, ", "))
  end
  if e.example then
    w("---")
    w("---```lua")
    comment(e.example)
    w("---```")
  end
  if e.async then w("---@async") end
  for _, o in ipairs(e.overloads or {}) do w("---@overload %s", check_types(o, e.name)) end
  local params = {}
  for i, a in ipairs(e.args) do
    local t = (refine.args or {})[a.name] or a.type
    if e.opts_arg == i then t = opts_class(e) end
    check_types(t, e.name)
    if a.name == "..." then
      w("---@param ... %s", t)
    else
      w("---@param %s%s %s", a.name, a.optional and "?" or "", t)
    end
    params[#params + 1] = a.name
  end
  for i, r in ipairs(e.returns or {}) do
    local t = check_types((refine.returns or {})[i] or r.type, e.name)
    w("---@return %s%s", t, r.doc and (" # " .. r.doc) or "")
  end
  w("function %s%s%s(%s) end", tbl, sep, fname, table.concat(params, ", "))
  w("")
end

for _, e in ipairs(api.entries) do
  if e.kind == "topic" then topic(e) else entry(e) end
end

w("return dagster")
io.write(table.concat(out, "\n"), "\n")
