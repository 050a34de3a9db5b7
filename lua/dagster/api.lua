-- The one description of the public API: every function of the module and every method of
-- the client, with its arguments, options (and their defaults), returns, errors, a one-line
-- summary and an example, and of the playbook module and its pb object. The REPL's help()
-- and option-key completion read it, the editor annotations are generated from it, and
-- spec/api_spec.lua holds it against the code (the functions that exist, and the option
-- sets the functions check: dagster.check.option_sets).
--
--   local api = require "dagster.api"
--   api.entries        -- the entries, in the order help() lists them
--   api.by_name["client:submit_job_execution"]
--
-- An entry:
--   name      "dagster.<function>" or "playbook.<function>" (kind "function": a function
--             of require "dagster" or of require "dagster.playbook"), "client:<method>" or
--             "pb:<method>" (kind "method": of a client, or of the pb a playbook's body is
--             given), or a bare word (kind "topic": an overview, "playbook" or "pb")
--   summary   one line, at most 70 characters
--   doc       optional: a paragraph more, where the summary cannot say enough
--   args      the positional arguments in order (self not listed): {name, type, optional,
--             complete}; complete is what the REPL can offer inside a string argument:
--             "job", "location", "schedule", "sensor", "asset", "check" ("asset/key:name")
--             or "run"
--   opts_arg  which argument is the options table; options lists every key it accepts:
--             {name, type, default (as Lua source; omitted when there is none), doc,
--             complete (as for args)}
--   returns   {type, doc} in order; types in LuaCATS syntax
--   errors    the dagster.Error names it raises besides the transport and answer errors
--             every call can raise (ConnectionError, TimeoutError, HTTPError, GraphQLError,
--             ProtocolError, ...)
--   async     true when it does network I/O or waits, so that it yields inside dagster tasks
--   overloads optional: other signatures, as LuaLS fun() types (an optional argument in the
--             middle: pb:step(name, [inputs,] fn))
--   example   a short chunk that runs with `dagster` and `client` bound (or, for the
--             playbook entries, inside a playbook: `playbook` and `pb` bound)
--
-- A topic has name, kind, summary, doc, example and sections: {title, fields = {{name,
-- type, optional, doc, code}}, class or alias}; a section with a class is a LuaLS class
-- (the declaration's tables, the pb object), one with an alias a union of its names.

local M = {}

-- the errors of a launch (submit_job_execution, materialize, reexecute): the members of
-- the server's LaunchRunResult union
local LAUNCH_ERRORS = { "RunConfigValidationInvalid", "PipelineNotFoundError",
  "InvalidSubsetError", "InvalidStepError", "InvalidOutputError", "UnauthorizedError",
  "PythonError" }

local function concat(...)
  local out = {}
  for _, list in ipairs { ... } do
    for _, v in ipairs(list) do out[#out + 1] = v end
  end
  return out
end

-- the options shared by the run filters of runs() and each_run()
local function run_filter(...)
  return concat({
    { name = "statuses", type = "string[]",
      doc = "dagster.RunStatus names; an empty list matches no run" },
    { name = "job_name", type = "string", doc = "only the runs of this job", complete = "job" },
    { name = "tags", type = "table<string, string>", doc = "tags every run must carry" },
    { name = "run_ids", type = "string[]", doc = "only these runs; an empty list matches none",
      complete = "run" },
    { name = "created_after", type = "number", doc = "epoch seconds" },
    { name = "created_before", type = "number", doc = "epoch seconds" },
    { name = "updated_after", type = "number", doc = "epoch seconds" },
    { name = "updated_before", type = "number", doc = "epoch seconds" },
  }, ...)
end

-- the two options that pick a code location (completed from the server's) and a repository:
-- named location and repository unless loc_name and repo_name say otherwise
local function location_options(loc_doc, repo_doc, loc_name, repo_name)
  return {
    { name = loc_name or "location", type = "string", doc = loc_doc, complete = "location" },
    { name = repo_name or "repository", type = "string", doc = repo_doc },
  }
end

-- {location =, repository =} of jobs(), schedules() and sensors()
local function where_options(what)
  return location_options("only " .. what .. " of this code location",
    "only " .. what .. " of this repository")
end

-- where the job, schedule or sensor a method names is: {location =, repository =}, or the
-- Python client's {repository_location_name =, repository_name =} for a job
local function owner_options(kind, loc_name, repo_name)
  return location_options("the " .. kind .. "'s code location (inferred when unique)",
    "the " .. kind .. "'s repository (inferred when unique)", loc_name, repo_name)
end

-- client:report_materialization's and client:report_observation's
local REPORT_OPTIONS = {
  { name = "partitions", type = "string|string[]", doc = "these partitions of it" },
  { name = "description", type = "string", doc = "the event's description" },
}

-- client:schedule's and client:sensor's: where it is, and how many ticks
local function detail_options(kind)
  local o = owner_options(kind)
  o[#o + 1] = { name = "ticks", type = "integer", default = "10", doc = "how many of the last ticks" }
  return o
end

-- the options of the waits that poll with backoff: timeout, interval, max_interval, then
-- the callback (each wait's own) and progress
local function wait_options(callback, callback_type, callback_doc)
  return {
    { name = "timeout", type = "number", doc = "seconds to wait (default and 0: no limit)" },
    { name = "interval", type = "number", default = "0.5",
      doc = "first delay between polls, x1.5 per poll" },
    { name = "max_interval", type = "number", default = "5",
      doc = "longest delay between polls" },
    { name = callback, type = callback_type, doc = callback_doc },
    { name = "progress", type = "boolean", default = "false",
      doc = "a live status line on stderr, when a terminal (the REPL turns it on)" },
  }
end

-- the idempotency key every launch method takes
local SUBMISSION_ID = { name = "submission_id", type = "string",
  doc = "an idempotency key: found again by client:find_submission (default: a new one)" }

-- the options of the launches a playbook makes once too (pb:submit, pb:reexecute,
-- pb:backfill take them all but submission_id, which is the journal's)
local SUBMIT_OPTIONS = concat(owner_options("job", "repository_location_name", "repository_name"), {
  { name = "run_config", type = "table|string", default = "{}",
    doc = "the run config, a table or a YAML string", complete = "run_config" },
  { name = "tags", type = "table<string, string>",
    doc = "run tags; numbers and booleans converted, tables JSON-encoded" },
  { name = "op_selection", type = "string[]", doc = "op names to run" },
  { name = "asset_selection", type = "(string|string[])[]",
    doc = 'asset keys to run, each "a/b" or {"a", "b"}', complete = "asset" },
  { name = "partition", type = "dagster.PartitionKey",
    doc = "run this partition: its config (unless run_config is given) and tags" },
  SUBMISSION_ID,
})

local REEXECUTE_OPTIONS = {
  { name = "strategy", type = '"ALL_STEPS"|"FROM_FAILURE"|"FROM_ASSET_FAILURE"',
    default = '"ALL_STEPS"', doc = "which steps to run again" },
  { name = "tags", type = "table<string, string>", doc = "tags added over the parent's" },
  { name = "use_parent_run_tags", type = "boolean", default = "true",
    doc = "copy the parent run's tags" },
  SUBMISSION_ID,
}

local BACKFILL_OPTIONS = concat({
  { name = "job", type = "string", doc = "a partitioned job (or give assets)", complete = "job" },
  { name = "assets", type = "(string|string[])[]", doc = "asset keys (or give job)",
    complete = "asset" },
  { name = "partitions", type = "dagster.PartitionKey[]|dagster.PartitionRange",
    doc = "keys, or a range {from =, to =}; checked before the launch" },
  { name = "all_partitions", type = "boolean", doc = "every partition (instead of partitions)" },
  { name = "tags", type = "table<string, string>", doc = "backfill tags, given to its runs" },
  { name = "from_failure", type = "boolean",
    doc = "a job backfill: re-execute each partition's failed run from failure" },
  { name = "title", type = "string", doc = "a title shown in Dagster's UI" },
  { name = "description", type = "string", doc = "a description shown in Dagster's UI" },
  SUBMISSION_ID,
}, owner_options("job"))

-- a list of options without the one named `name`
local function without(options, name)
  local out = {}
  for _, o in ipairs(options) do
    if o.name ~= name then out[#out + 1] = o end
  end
  return out
end

local function instigator_switch(verb, kind, status)
  local Kind = kind:sub(1, 1):upper() .. kind:sub(2)
  return {
    name = "client:" .. verb .. "_" .. kind, kind = "method",
    summary = (verb == "start" and "Starts" or "Stops") .. " a " .. kind ..
      "; returns its new status.",
    args = {
      { name = "name", type = "string", complete = kind },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = owner_options(kind),
    returns = { { type = "string", doc = '"' .. status .. '" (idempotent)' } },
    errors = { Kind .. "NotFoundError", "Ambiguous" .. Kind .. "Error", "UnauthorizedError",
      "PythonError" },
    async = true,
    example = ('client:%s_%s("my_%s", {location = "main"})'):format(verb, kind, kind),
  }
end

M.entries = {
  --------------------------------------------------------------------------------------
  -- The module
  --------------------------------------------------------------------------------------
  {
    name = "dagster.client", kind = "function",
    summary = "Builds a client for a Dagster webserver (connects on first call).",
    args = {
      { name = "hostname", type = "string" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "port_number", type = "integer", doc = "added as :port when given and not 0" },
      { name = "use_https", type = "boolean", default = "false",
        doc = "https:// instead of http://" },
      { name = "path_prefix", type = "string", default = '""',
        doc = "must start with /; trailing / are stripped" },
      { name = "timeout", type = "number", default = "300",
        doc = "seconds for a whole call, retries included (0: none)" },
      { name = "attempt_timeout", type = "number",
        doc = "seconds for one attempt (default: the whole timeout)" },
      { name = "headers", type = "table<string, string>",
        doc = 'extra request headers, e.g. {["Dagster-Cloud-Api-Token"] = token}' },
      { name = "connect_timeout", type = "number", default = "10",
        doc = "seconds to connect (at most the attempt timeout)" },
      { name = "insecure", type = "boolean", default = "false", doc = "turn TLS verification off" },
      { name = "cainfo", type = "string", doc = "a CA bundle file" },
      { name = "max_response_bytes", type = "integer", default = "64 * 1024 * 1024",
        doc = "larger answers raise ResponseTooLarge" },
      { name = "user_agent", type = "string", default = '"dagster-lua/" .. dagster.VERSION',
        doc = "the User-Agent header" },
      { name = "retries", type = "integer", default = "3",
        doc = "retries of read-only calls on transient failures" },
      { name = "retry_delay", type = "number", default = "0.25", doc = "first backoff, seconds" },
      { name = "retry_max_delay", type = "number", default = "5",
        doc = "longest backoff, seconds" },
      { name = "max_rps", type = "number",
        doc = "at most this many requests a second, shared by the client's tasks (a 429 " ..
          "slows the client further, for a while)" },
    },
    returns = { { type = "dagster.Client",
      doc = "the client; client:close() ends its connection" } },
    errors = {},
    example = [[local client = dagster.client("localhost", {port_number = 3000})]],
  },
  {
    name = "dagster.client_from_env", kind = "function",
    summary = "A client where the environment or the dagster-cloud login says.",
    doc = [[opts.url, else DAGSTER_URL (unless a Dagster+ option is given), else Dagster+: organization, deployment and token from the options, then DAGSTER_CLOUD_ORGANIZATION, DAGSTER_CLOUD_DEPLOYMENT, DAGSTER_CLOUD_API_TOKEN, then the dagster-cloud CLI's config file ($DAGSTER_CLOUD_CLI_CONFIG or ~/.dagster_cloud_cli/config: organization, default_deployment, user_token, url). The URL is https://ORG.dagster.cloud/DEPLOYMENT/graphql (DAGSTER_CLOUD_URL or the file's url replaces the base). The other options are dagster.client's. A URL the client does not take is an argument error when it is opts.url, and a ConfigurationError naming DAGSTER_URL (or the Dagster+ URL) when it came from the environment.]],
    args = { { name = "opts", type = "table", optional = true } },
    opts_arg = 1,
    options = {
      { name = "url", type = "string", doc = "this server, whatever the environment says" },
      { name = "organization", type = "string", doc = "the Dagster+ organization" },
      { name = "deployment", type = "string", doc = "the Dagster+ deployment (prod, staging, a branch)",
        complete = "deployment" },
      { name = "token", type = "string", doc = "the API token (default DAGSTER_CLOUD_API_TOKEN, then the config's)" },
      { name = "region", type = "string", doc = "a region such as eu: https://ORG.REGION.dagster.cloud" },
      { name = "port_number", type = "integer", doc = "as dagster.client" },
      { name = "use_https", type = "boolean", doc = "as dagster.client" },
      { name = "timeout", type = "number", default = "300", doc = "as dagster.client" },
      { name = "attempt_timeout", type = "number", doc = "as dagster.client" },
      { name = "headers", type = "table<string, string>", doc = "as dagster.client (the token and deployment headers are added)" },
      { name = "connect_timeout", type = "number", doc = "as dagster.client" },
      { name = "insecure", type = "boolean", doc = "as dagster.client" },
      { name = "cainfo", type = "string", doc = "as dagster.client" },
      { name = "max_response_bytes", type = "integer", doc = "as dagster.client" },
      { name = "user_agent", type = "string", doc = "as dagster.client" },
      { name = "retries", type = "integer", doc = "as dagster.client" },
      { name = "retry_delay", type = "number", doc = "as dagster.client" },
      { name = "retry_max_delay", type = "number", doc = "as dagster.client" },
      { name = "max_rps", type = "number", doc = "as dagster.client" },
    },
    returns = { { type = "dagster.Client",
      doc = "with client.deployment and client.organization when on Dagster+" } },
    errors = { "ConfigurationError" },
    example = [[local staging = dagster.client_from_env{deployment = "staging"}]],
  },
  {
    name = "dagster.spawn", kind = "function",
    summary = "Makes a task of fn(...); it runs when gather() drives the tasks.",
    args = {
      { name = "fn", type = "function" },
      { name = "...", type = "any", optional = true },
    },
    returns = { { type = "dagster.Task", doc = "the task, for dagster.gather" } },
    errors = {},
    example = [[local t = dagster.spawn(client.get_run_status, client, run_id)]],
  },
  {
    name = "dagster.gather", kind = "function",
    summary = "Runs tasks until the given ones end; returns their first results.",
    args = {
      { name = "tasks", type = "dagster.Task[]" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "errors", type = '"raise"|"return"', default = '"raise"',
        doc = "raise the first failed task's error, or return the errors apart" },
    },
    returns = {
      { type = "any[]", doc = "each task's first result, in order (nil for a failed task)" },
      { type = "any[]", doc = 'errors = "return": the error of each failed task, at its index' },
    },
    errors = {},
    async = true,
    example = [[local statuses, errs = dagster.gather({t1, t2}, {errors = "return"})]],
  },
  {
    name = "dagster.run", kind = "function",
    summary = "Runs fn(...) as a task (its spawns overlap); returns its results.",
    args = {
      { name = "fn", type = "function" },
      { name = "...", type = "any", optional = true },
    },
    returns = { { type = "any", doc = "fn's results" } },
    errors = {},
    async = true,
    example = [[local status = dagster.run(function() return client:wait_for_run(run_id) end)]],
  },
  {
    name = "dagster.sleep", kind = "function",
    summary = "Sleeps; inside a task, the other tasks go on meanwhile.",
    args = { { name = "seconds", type = "number" } },
    returns = {},
    errors = {},
    async = true,
    example = [[dagster.sleep(0.5)]],
  },
  {
    name = "dagster.now", kind = "function",
    summary = "Monotonic clock, in seconds.",
    args = {},
    returns = { { type = "number", doc = "seconds since an arbitrary start" } },
    errors = {},
    example = [[local t0 = dagster.now()]],
  },
  {
    name = "dagster.isatty", kind = "function",
    summary = "Whether a file descriptor (1 stdout, 2 stderr) is a terminal.",
    args = { { name = "fd", type = "integer" } },
    returns = { { type = "boolean" } },
    errors = {},
    example = [[local live = dagster.isatty(2)]],
  },
  {
    name = "dagster.submission_id", kind = "function",
    summary = "A new random submission id, for a launch made once.",
    args = {},
    returns = { { type = "string", doc = "32 hex digits" } },
    errors = {},
    example = [[local run_id = client:submit_job_execution("my_job", {submission_id = dagster.submission_id()})]],
  },
  {
    name = "dagster.yaml.decode", kind = "function",
    summary = "YAML text to a table; a syntax error names line and column.",
    args = {
      { name = "text", type = "string" },
      { name = "name", type = "string", optional = true },
    },
    returns = { { type = "any", doc = "the first document; ~ and null as dagster.null" } },
    errors = { "YAMLError", "UnsupportedError" },
    example = [[local config = dagster.yaml.decode("ops:\n  my_op:\n    config: {n: 1}\n")]],
  },
  {
    name = "dagster.yaml.read", kind = "function",
    summary = "Reads a YAML file; a syntax error names file, line and column.",
    args = { { name = "path", type = "string" } },
    returns = { { type = "any", doc = "the first document" } },
    errors = { "YAMLError", "UnsupportedError" },
    example = [[local config = dagster.yaml.read("prod.yaml")]],
  },
  {
    name = "dagster.yaml.encode", kind = "function",
    summary = "A table as YAML text, with comments at paths if given.",
    doc = [[Keys sorted; strings quoted when plain text would read as something else ("yes", "1", "a: b"); dagster.null as null; empty tables as {} (or [] for dagster.array()). comments maps a path of keys ("ops/my_op/config", "" for the top, list items by 0-based index) to a line or a list of lines, written as "# ..." above the key at that path, or above its nearest present ancestor. Needs no lua-yaml.]],
    args = {
      { name = "value", type = "any" },
      { name = "comments", type = "table<string, string|string[]>", optional = true },
    },
    returns = { { type = "string", doc = "YAML text, ending in a newline" } },
    errors = {},
    example = [[io.write(dagster.yaml.encode({ops = {my_op = {config = {n = 1}}}},
  {["ops/my_op"] = "set by the deploy script"}))]],
  },
  {
    name = "dagster.yaml.available", kind = "function",
    summary = "Whether YAML can be read here (Debian's lua-yaml is installed).",
    args = {},
    returns = { { type = "boolean" } },
    errors = {},
    example = [[if dagster.yaml.available() then print("YAML ok") end]],
  },
  {
    name = "dagster.inspect", kind = "function",
    summary = "Renders any value readably (what the REPL prints).",
    args = {
      { name = "v", type = "any" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "depth", type = "integer", default = "4", doc = "nesting shown before {...}" },
      { name = "indent", type = "string", default = '"  "', doc = "one level of indentation" },
    },
    returns = { { type = "string", doc = "the rendering, one line or several" } },
    errors = {},
    example = [[print(dagster.inspect(client:get_run(run_id), {depth = 2}))]],
  },
  {
    name = "dagster.array", kind = "function",
    summary = "Marks a table as a JSON list, so that an empty one is sent as [].",
    args = { { name = "t", type = "table", optional = true } },
    returns = { { type = "table", doc = "t itself (a new table when t is nil)" } },
    errors = {},
    example = [[local vars = {runIds = dagster.array({})}]],
  },
  {
    name = "dagster.Error.is", kind = "function",
    summary = "Tells whether v is a dagster.Error (of that name, when given).",
    args = {
      { name = "v", type = "any" },
      { name = "name", type = "string", optional = true },
    },
    returns = { { type = "boolean" } },
    errors = {},
    example = [[local ok, e = pcall(client.get_run, client, run_id)
if not ok and dagster.Error.is(e, "RunNotFoundError") then print("gone") end]],
  },
  {
    name = "dagster.Error.new", kind = "function",
    summary = "Makes a dagster.Error (fields are copied into it).",
    args = {
      { name = "name", type = "string" },
      { name = "message", type = "string", optional = true },
      { name = "fields", type = "table", optional = true },
    },
    returns = { { type = "dagster.Error", doc = "the error; message defaults to name" } },
    errors = {},
    example = [[error(dagster.Error.new("MyError", "it broke", {run_id = run_id}))]],
  },
  {
    name = "dagster.json.encode", kind = "function",
    summary = "Encodes a value as JSON (dagster.null as null, lists as arrays).",
    args = { { name = "value", type = "any" } },
    returns = { { type = "string" } },
    errors = {},
    example = [[print(dagster.json.encode({ops = dagster.array()}))]],
  },
  {
    name = "dagster.json.decode", kind = "function",
    summary = "Decodes JSON: integers kept, null as dagster.null.",
    args = { { name = "s", type = "string" } },
    returns = {
      { type = "any", doc = "the value, or nil when s is not JSON" },
      { type = "string?", doc = "why s is not JSON" },
    },
    errors = {},
    example = [[local v, err = dagster.json.decode('{"a": [1, 2]}')]],
  },
  {
    name = "dagster.json.is_array", kind = "function",
    summary = "Tells whether a table is marked as a JSON list.",
    args = { { name = "v", type = "any" } },
    returns = { { type = "boolean" } },
    errors = {},
    example = [[assert(dagster.json.is_array(dagster.array()))]],
  },

  --------------------------------------------------------------------------------------
  -- The client: the six methods of the Python client, and the rest of client.lua
  --------------------------------------------------------------------------------------
  {
    name = "client:submit_job_execution", kind = "method",
    summary = "Launches a job and returns its run id.",
    args = {
      { name = "job_name", type = "string", complete = "job" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = SUBMIT_OPTIONS,
    returns = { { type = "string", doc = "the new run's id" } },
    errors = concat({ "JobNotFoundError", "AmbiguousJobError", "PartitionKeysNotFoundError" },
      LAUNCH_ERRORS),
    async = true,
    example = [[local run_id = client:submit_job_execution("my_job", {
  run_config = {ops = {my_op = {config = {name = "lua"}}}}, tags = {team = "data"}})]],
  },
  {
    name = "client:validate_run_config", kind = "method",
    summary = "Checks a run config with the server, launching nothing.",
    args = {
      { name = "job_name", type = "string", complete = "job" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = concat({
      { name = "run_config", type = "table|string", default = "{}",
        doc = "the run config, a table or a YAML string", complete = "run_config" },
    }, owner_options("job", "repository_location_name", "repository_name"), {
      { name = "op_selection", type = "string[]", doc = "op names to run" },
    }),
    returns = { { type = "boolean", doc = "true when the config is valid" } },
    errors = { "RunConfigValidationInvalid", "JobNotFoundError", "AmbiguousJobError",
      "PipelineNotFoundError", "InvalidSubsetError", "PythonError" },
    async = true,
    example = [[client:validate_run_config("my_job", {run_config = {ops = {my_op = {config = {n = 1}}}}})]],
  },
  {
    name = "client:get_run_status", kind = "method",
    summary = "Returns a run's status, a dagster.RunStatus name.",
    args = { { name = "run_id", type = "string", complete = "run" } },
    returns = { { type = "string", doc = 'e.g. "STARTED", "SUCCESS", "FAILURE"' } },
    errors = { "RunNotFoundError", "PythonError" },
    async = true,
    example = [[if client:get_run_status(run_id) == dagster.RunStatus.FAILURE then
  print("failed")
end]],
  },
  {
    name = "client:reload_repository_location", kind = "method",
    summary = "Reloads a code location; a failed load is a FAILURE status.",
    args = { { name = "name", type = "string", complete = "location" } },
    returns = { { type = "table",
      doc = '{status = "SUCCESS"} or {status = "FAILURE", failure_type, message}' } },
    errors = {},
    async = true,
    example = [[local r = client:reload_repository_location("main")
if r.status == "FAILURE" then print(r.failure_type, r.message) end]],
  },
  {
    name = "client:shutdown_repository_location", kind = "method",
    summary = "Shuts a grpc_server code location down.",
    args = { { name = "name", type = "string", complete = "location" } },
    returns = { { type = "table",
      doc = '{status = "SUCCESS"} or {status = "FAILURE", failure_type, message}' } },
    errors = {},
    async = true,
    example = [[local r = client:shutdown_repository_location("my_grpc_location")
assert(r.status == "SUCCESS", r.message)]],
  },
  {
    name = "client:terminate_run", kind = "method",
    summary = "Terminates a run (force: marks it canceled at once).",
    args = {
      { name = "run_id", type = "string", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "force", type = "boolean", default = "false",
        doc = "mark the run canceled at once instead of asking it to stop" },
    },
    returns = {},
    errors = { "RunNotFoundError", "TerminateRunFailure", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:terminate_run(run_id, {force = true})]],
  },
  {
    name = "client:terminate_runs", kind = "method",
    summary = "Terminates several runs; one error lists those that failed.",
    args = {
      { name = "run_ids", type = "string[]", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "force", type = "boolean", default = "false",
        doc = "mark the runs canceled at once instead of asking them to stop" },
    },
    returns = {},
    errors = { "TerminateRunsError", "PythonError" },
    async = true,
    example = [[local ok, e = pcall(client.terminate_runs, client, {a, b})
if not ok then for _, f in ipairs(e.body) do print(f.run_id, f.name, f.message) end end]],
  },
  {
    name = "client:stop_runs", kind = "method",
    summary = "Terminates runs, and forces those not finished after a grace period.",
    doc = [[The runs of run_ids not ended (made, queued or in flight) are terminated; those not finished after `grace` seconds are forced (MARK_AS_CANCELED_IMMEDIATELY). A run that refuses (CANCELING already) is no error: it is forced after the grace like the others. Requests: a run listing, one termination, a listing per half second of grace until they have all ended, and with forcing a termination and a listing.]],
    args = {
      { name = "run_ids", type = "string[]", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "grace", type = "number", default = "10",
        doc = "seconds the terminated runs get before they are forced" },
    },
    returns = { { type = "table",
      doc = "{terminated, forced, left}: run ids, sorted (left: not finished even forced)" } },
    errors = { "PythonError" },
    async = true,
    example = [[local r = client:stop_runs({a, b}, {grace = 30})
print(#r.terminated, #r.forced, #r.left)]],
  },
  {
    name = "client:graphql", kind = "method",
    summary = "Sends any GraphQL query or mutation; returns its data.",
    args = {
      { name = "document", type = "string" },
      { name = "variables", type = "table", optional = true, doc = "the variables by name (not a list)" },
    },
    returns = { { type = "table", doc = "the answer's data" } },
    errors = { "GraphQLError" },
    async = true,
    example = [[local data = client:graphql(
  "query($id: ID!) { runOrError(runId: $id) { __typename } }", {id = run_id})]],
  },
  {
    name = "client:version", kind = "method",
    summary = "Returns the server's Dagster version (a cheap health check).",
    args = {},
    returns = { { type = "string", doc = 'e.g. "1.13.27"' } },
    errors = {},
    async = true,
    example = [[print(client:version())]],
  },
  {
    name = "client:close", kind = "method",
    summary = "Closes the client's connection (also done when collected).",
    args = {},
    returns = {},
    errors = {},
    example = [[client:close()]],
  },

  --------------------------------------------------------------------------------------
  -- Runs (runs.lua)
  --------------------------------------------------------------------------------------
  {
    name = "client:wait_for_run", kind = "method",
    summary = "Waits until a run has finished; returns its status and the run.",
    args = {
      { name = "run_id", type = "string", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = wait_options("on_status", "fun(status: string, run: dagster.Run)",
      "called once per status change, the first included"),
    returns = {
      { type = "string", doc = "the final status: SUCCESS, FAILURE or CANCELED" },
      { type = "dagster.Run", doc = "the run, as get_run gives it" },
    },
    errors = { "TimeoutError", "RunNotFoundError", "PythonError" },
    async = true,
    example = [[local status, run = client:wait_for_run(run_id, {timeout = 600,
  on_status = function(s) print(os.date("%T"), s) end})]],
  },
  {
    name = "client:wait_for_runs", kind = "method",
    summary = "Waits for many runs, one query per poll; returns final statuses.",
    args = {
      { name = "run_ids", type = "string[]", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = wait_options("on_status", "fun(run_id: string, status: string)",
      "called once per status change of each run"),
    returns = { { type = "table<string, string>", doc = "run id -> final status" } },
    errors = { "TimeoutError", "RunNotFoundError", "PythonError" },
    async = true,
    example = [[local finals = client:wait_for_runs({a, b, c}, {timeout = 900})]],
  },
  {
    name = "client:timeline", kind = "method",
    summary = "Draws a run's steps as bars on one time axis (one request).",
    args = { { name = "run_id", type = "string", complete = "run" } },
    returns = { { type = "dagster.Timeline",
      doc = "print it, or t:render{width =, colour =}; t.steps lists {key, status, start_time, end_time}" } },
    errors = { "RunNotFoundError", "PythonError" },
    async = true,
    example = [[print(client:timeline(run_id))]],
  },
  {
    name = "client:get_run", kind = "method",
    summary = "Reads a run: status, tags, config, times, step counts, failure.",
    args = { { name = "run_id", type = "string", complete = "run" } },
    returns = { { type = "dagster.Run",
      doc = "{run_id, job_name, status, tags, run_config, ..., failure_message}" } },
    errors = { "RunNotFoundError", "PythonError" },
    async = true,
    example = [[local run = client:get_run(run_id)
print(run.status, run.failure_message)]],
  },
  {
    name = "client:runs", kind = "method",
    summary = "Lists runs matching a filter, newest first.",
    args = { { name = "filter", type = "table", optional = true } },
    opts_arg = 1,
    options = run_filter({
      { name = "limit", type = "integer", default = "100", doc = "at most this many runs" },
      { name = "cursor", type = "string",
        doc = "a run id: start after that run", complete = "run" },
    }),
    returns = { { type = "dagster.RunSummary[]",
      doc = "{run_id, job_name, status, tags, creation_time, ...}" } },
    errors = { "InvalidPipelineRunsFilterError", "PythonError" },
    async = true,
    example = [[for _, r in ipairs(client:runs{statuses = {"FAILURE"}, limit = 10}) do
  print(r.run_id, r.job_name)
end]],
  },
  {
    name = "client:each_run", kind = "method",
    summary = "Iterates over every matching run, a page at a time.",
    args = { { name = "filter", type = "table", optional = true } },
    opts_arg = 1,
    options = run_filter({
      { name = "page_size", type = "integer", default = "100", doc = "runs per request" },
    }),
    returns = { { type = "fun(): dagster.RunSummary?", doc = "an iterator, newest first" } },
    errors = { "InvalidPipelineRunsFilterError", "CursorLostError", "PythonError" },
    async = true,
    example = [[for r in client:each_run{job_name = "my_job", updated_after = os.time() - 86400} do
  print(r.run_id, r.status)
end]],
  },
  {
    name = "client:runs_in_flight", kind = "method",
    summary = "Runs queued or running, with step counts; one request.",
    args = { { name = "filter", type = "table", optional = true } },
    opts_arg = 1,
    options = {
      { name = "job_name", type = "string", doc = "only the runs of this job", complete = "job" },
      { name = "tags", type = "table<string, string>", doc = "tags every run must carry" },
      { name = "also", type = "string[]",
        doc = "these runs too, whatever their status (to see how they ended)", complete = "run" },
      { name = "limit", type = "integer", default = "1000", doc = "at most this many in flight" },
      { name = "pools", type = "boolean", default = "false",
        doc = "each QUEUED run's concurrency pools too, as pools (the server reads each run's plan)" },
      { name = "steps", type = "boolean", default = "true",
        doc = "false: without steps_succeeded and steps_failed (read from each run's event log)" },
    },
    returns = { { type = "dagster.RunSummary[]",
      doc = "summaries with steps_succeeded and steps_failed; in flight first" } },
    errors = { "InvalidPipelineRunsFilterError", "PythonError" },
    async = true,
    example = [[for _, r in ipairs(client:runs_in_flight{job_name = "my_job"}) do
  print(r.run_id, r.status, r.steps_succeeded, r.steps_failed)
end]],
  },
  {
    name = "client:events", kind = "method",
    summary = "Iterates over a run's events; follow = true tails them.",
    args = {
      { name = "run_id", type = "string", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "cursor", type = "string",
        doc = "where to resume (state.cursor); default: the start" },
      { name = "limit", type = "integer", default = "1000", doc = "events per request" },
      { name = "follow", type = "boolean", default = "false",
        doc = "keep reading new events until the run has ended" },
      { name = "interval", type = "number", default = "0.5",
        doc = "first delay between polls (follow)" },
      { name = "max_interval", type = "number", default = "2",
        doc = "longest delay between polls (follow)" },
      { name = "settle", type = "number", default = "1",
        doc = "seconds to read on after the run's final status (follow)" },
    },
    returns = {
      { type = "fun(): dagster.Event?",
        doc = "an iterator: {type, event_type, level, message, step_key, timestamp, ...}; an asset check's events carry check = {asset, name [, passed, severity, description]}" },
      { type = "table", doc = "state: {cursor, run_id, done}; cursor is where to resume" },
    },
    errors = { "RunNotFoundError", "PythonError" },
    async = true,
    example = [[for ev in client:events(run_id, {follow = true}) do
  print(ev.level, ev.step_key or "", ev.message)
end]],
  },
  {
    name = "client:reexecute", kind = "method",
    summary = "Re-executes a run (all steps or from failure); returns the new id.",
    args = {
      { name = "run_id", type = "string", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = REEXECUTE_OPTIONS,
    returns = { { type = "string", doc = "the new run's id" } },
    errors = concat(LAUNCH_ERRORS),
    async = true,
    example = [[local retry = client:reexecute(run_id, {strategy = "FROM_FAILURE"})]],
  },
  {
    name = "client:find_submission", kind = "method",
    summary = "Finds the run or backfill launched with a submission id.",
    args = {
      { name = "submission_id", type = "string" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "kind", type = '"run"|"backfill"', doc = "look for this kind only (one request)" },
      { name = "wait", type = "number",
        doc = "seconds to look again, every half second, for a launch not there yet (one cut off may still be under way)" },
    },
    returns = { { type = "table?",
      doc = "{kind, id, run_id or backfill_id}, or nil when nothing was launched with it" } },
    errors = { "PythonError" },
    async = true,
    example = [[local sid = dagster.submission_id()
local ok, err = pcall(client.submit_job_execution, client, "my_job", {submission_id = sid})
local found = not ok and client:find_submission(sid, {wait = 10})   -- launched after all?]],
  },

  --------------------------------------------------------------------------------------
  -- The workspace (workspace.lua)
  --------------------------------------------------------------------------------------
  {
    name = "client:locations", kind = "method",
    summary = "Lists the code locations, with their load status and errors.",
    args = {},
    returns = { { type = "dagster.Location[]",
      doc = "{name, load_status, server_id, version_key, update_time, error, ...}" } },
    errors = { "PythonError" },
    async = true,
    example = [[for _, loc in ipairs(client:locations()) do
  print(loc.name, loc.load_status, loc.error or "ok")
end]],
  },
  {
    name = "client:location", kind = "method",
    summary = "Reads one code location.",
    args = { { name = "name", type = "string", complete = "location" } },
    returns = { { type = "dagster.Location", doc = "as locations() gives it" } },
    errors = { "RepositoryLocationNotFound", "PythonError" },
    async = true,
    example = [[local old = client:location("main").server_id]],
  },
  {
    name = "client:wait_for_location", kind = "method",
    summary = "Waits until a code location is loaded without error.",
    args = {
      { name = "name", type = "string", complete = "location" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "timeout", type = "number", default = "60", doc = "seconds to wait (0: no limit)" },
      { name = "interval", type = "number", default = "0.5",
        doc = "first delay between polls, x1.5 per poll up to 2 s" },
      { name = "not_server_id", type = "string",
        doc = "wait until another server than this one serves it" },
    },
    returns = { { type = "dagster.Location", doc = "the location, once loaded" } },
    errors = { "TimeoutError", "RepositoryLocationNotFound", "PythonError" },
    async = true,
    example = [[client:wait_for_location("main", {not_server_id = old, timeout = 120})]],
  },
  {
    name = "client:permissions", kind = "method",
    summary = "What the token may do on this deployment, as the server says.",
    args = {},
    returns = { { type = "table<string, {allowed: boolean, reason: string?}>",
      doc = "by Dagster's permission names (launch_pipeline_execution, ...)" } },
    errors = {},
    async = true,
    example = [[if not client:permissions().launch_pipeline_execution.allowed then print("read-only") end]],
  },
  {
    name = "client:deployments", kind = "method",
    summary = "Lists the Dagster+ organization's deployments.",
    args = {},
    returns = { { type = "table[]", doc = "{name, id, type, is_branch} each" } },
    errors = { "UnsupportedError", "HTTPError" },
    async = true,
    example = [[for _, d in ipairs(client:deployments()) do print(d.name, d.type) end]],
  },
  {
    name = "client:repositories", kind = "method",
    summary = "Lists the repositories of the loaded code locations.",
    args = {},
    returns = { { type = "dagster.Repository[]", doc = "{name, location}" } },
    errors = { "PythonError" },
    async = true,
    example = [[for _, r in ipairs(client:repositories()) do print(r.location, r.name) end]],
  },
  {
    name = "client:jobs", kind = "method",
    summary = "Lists jobs, optionally of one location or repository.",
    args = { { name = "opts", type = "table", optional = true } },
    opts_arg = 1,
    options = where_options("the jobs"),
    returns = { { type = "dagster.Job[]", doc = "{name, repository, location, is_asset_job, partitioned}" } },
    errors = { "PythonError" },
    async = true,
    example = [[for _, j in ipairs(client:jobs{location = "main"}) do
  print(j.name, j.is_asset_job)
end]],
  },
  {
    name = "client:materialize", kind = "method",
    summary = "Launches a run that materializes assets; returns its run id.",
    args = {
      { name = "asset_keys", type = "string|(string|string[])[]", complete = "asset" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = concat({
      { name = "tags", type = "table<string, string>", doc = "run tags" },
      { name = "run_config", type = "table|string", default = "{}",
        doc = "the run config, a table or a YAML string", complete = "run_config" },
      { name = "partition", type = "dagster.PartitionKey|dagster.PartitionRange",
        doc = "a partition (checked first; a multi-dimensional key also tags each dimension), or a range {from =, to =} run as one" },
      SUBMISSION_ID,
    }, location_options("choose among several definitions of the keys",
      "choose among several definitions of the keys")),
    returns = { { type = "string", doc = "the new run's id" } },
    errors = concat({ "AssetNotFoundError", "AssetsInSeveralLocationsError",
      "PartitionKeysNotFoundError", "PartitionRangeError" }, LAUNCH_ERRORS),
    async = true,
    example = [[local run_id = client:materialize({"asset_one", {"nested", "asset_three"}},
  {tags = {why = "backfill"}})]],
  },
  --------------------------------------------------------------------------------------
  -- Partitions and backfills (backfills.lua)
  --------------------------------------------------------------------------------------
  {
    name = "client:partitions", kind = "method",
    summary = "Lists the partition keys of a job or an asset.",
    args = {
      { name = "job_or_asset", type = "string|string[]|table", complete = "asset",
        doc = "a name (a job when the workspace has one of that name, else an asset key), \"a/b\", {\"a\", \"b\"}, or {job = J} / {asset = K} to say which" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = owner_options("job"),
    returns = { { type = "dagster.PartitionKey[]",
      doc = "in order; multi-dimensional keys as {dimension = key} tables" } },
    errors = { "AssetNotFoundError", "JobNotFoundError", "AmbiguousJobError", "PythonError" },
    async = true,
    example = [[for _, k in ipairs(client:partitions("daily_job")) do print(k) end]],
  },
  {
    name = "client:check_partitions", kind = "method",
    summary = "Checks partition keys against a job's or an asset's partitions.",
    args = {
      { name = "job_or_asset", type = "string|string[]|table", complete = "asset",
        doc = "a name (a job when the workspace has one of that name, else an asset key), \"a/b\", {\"a\", \"b\"}, or {job = J} / {asset = K} to say which" },
      { name = "partitions", type = "dagster.PartitionKey[]|dagster.PartitionRange|true" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 3,
    options = owner_options("job"),
    returns = {
      { type = "string[]", doc = "the keys, a range or all in the definition's order" },
      { type = "table", doc = "where they were read: {job, location, repository} or {asset} (and dimensions: a multi-dimensional asset's dimension names, in the order its keys join them)" },
    },
    errors = { "PartitionKeysNotFoundError", "PartitionRangeError", "AssetNotFoundError",
      "JobNotFoundError", "AmbiguousJobError", "PythonError" },
    async = true,
    example = [[local keys, where = client:check_partitions("daily_job", {from = "2026-11-01", to = "2026-11-07"})]],
  },
  {
    name = "client:backfill", kind = "method",
    summary = "Launches a backfill over partitions; returns its id.",
    args = { { name = "spec", type = "table" } },
    opts_arg = 1,
    options = BACKFILL_OPTIONS,
    returns = { { type = "string", doc = "the backfill's id" } },
    errors = { "PartitionKeysNotFoundError", "PartitionRangeError", "PartitionSetNotFoundError",
      "JobNotFoundError", "AmbiguousJobError", "AssetNotFoundError", "UnauthorizedError",
      "PythonError" },
    async = true,
    example = [[local id = client:backfill{job = "daily_job",
  partitions = {from = "2026-11-01", to = "2026-11-07"}, tags = {why = "late data"}}]],
  },
  {
    name = "client:get_backfill", kind = "method",
    summary = "Reads a backfill: status, counts, runs, partitions.",
    args = { { name = "id", type = "string" } },
    returns = { { type = "dagster.Backfill", doc = "{id, status, counts, runs, partitions, ...}" } },
    errors = { "BackfillNotFoundError", "PythonError" },
    async = true,
    example = [[local b = client:get_backfill(id)
print(b.status, b.counts.succeeded, b.counts.failed)]],
  },
  {
    name = "client:backfills", kind = "method",
    summary = "Lists backfills, newest first; returns them and a cursor.",
    args = { { name = "opts", type = "table", optional = true } },
    opts_arg = 1,
    options = {
      { name = "status", type = "string",
        doc = "only this status (REQUESTED, COMPLETED_SUCCESS, CANCELED, ...)" },
      { name = "limit", type = "integer", default = "100", doc = "at most this many" },
      { name = "cursor", type = "string", doc = "after this backfill id (the last page's cursor)" },
      { name = "counts", type = "boolean", default = "false",
        doc = "each backfill's partition counts too (the server works them out for each)" },
    },
    returns = {
      { type = "dagster.Backfill[]", doc = "without runs or partitions; counts with counts = true" },
      { type = "string?", doc = "the cursor of the next page; nil at the end" },
    },
    errors = { "PythonError" },
    async = true,
    example = [[for _, b in ipairs(client:backfills{status = "REQUESTED"}) do
  print(b.id, b.job_name or table.concat(b.asset_keys, ","), b.status)
end]],
  },
  {
    name = "client:wait_for_backfill", kind = "method",
    summary = "Waits until a backfill has finished; one request per poll.",
    args = {
      { name = "id", type = "string" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = wait_options("on_progress", "fun(backfill: dagster.Backfill)",
      "called when the status or the counts change"),
    returns = {
      { type = "string", doc = "the final status: COMPLETED_SUCCESS, COMPLETED_FAILED, CANCELED, ..." },
      { type = "dagster.Backfill", doc = "the backfill, as get_backfill gives it" },
    },
    errors = { "TimeoutError", "BackfillNotFoundError", "PythonError" },
    async = true,
    example = [[local status, b = client:wait_for_backfill(id, {timeout = 3600,
  on_progress = function(p) print(p.status, p.counts.succeeded, p.counts.failed) end})]],
  },
  {
    name = "client:cancel_backfill", kind = "method",
    summary = "Cancels a backfill: no more launches, runs in flight canceled.",
    doc = [[With terminate_runs, the backfill's runs still queued or in flight are stopped too with client:stop_runs (Dagster leaves them to finish, or stuck): terminated, and forced (marked CANCELED) when not finished after `grace` seconds; a backfill canceled already is no error, so the call can be made twice. Requests: the cancel, a listing of the backfill's runs, then stop_runs's.]],
    args = { { name = "id", type = "string" }, { name = "opts", type = "table", optional = true } },
    opts_arg = 2,
    options = {
      { name = "terminate_runs", type = "boolean", default = "false",
        doc = "terminate the backfill's runs not ended (made, queued or in flight)" },
      { name = "grace", type = "number", default = "10",
        doc = "seconds the terminated runs get before they are forced" },
    },
    returns = { { type = "boolean", doc = "true" },
      { type = "table?", doc = "with terminate_runs: {terminated, forced, left} run ids" } },
    errors = { "BackfillNotFoundError", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:cancel_backfill(id)
local _, r = client:cancel_backfill(id, {terminate_runs = true, grace = 30})
print(#r.terminated, #r.forced, #r.left)]],
  },
  {
    name = "client:resume_backfill", kind = "method",
    summary = "Requests a failed or canceled backfill again.",
    args = { { name = "id", type = "string" } },
    returns = { { type = "boolean", doc = "true" } },
    errors = { "BackfillNotFoundError", "UnsupportedError", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:resume_backfill(id)]],
  },
  {
    name = "client:reexecute_backfill", kind = "method",
    summary = "Re-runs a finished backfill's failed partitions; returns the new id.",
    args = {
      { name = "id", type = "string" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "strategy", type = "string", default = '"FROM_FAILURE"',
        doc = "FROM_FAILURE (Dagster's, from the failed steps) or ALL_STEPS" },
      { name = "tags", type = "table<string, string>", doc = "ALL_STEPS: tags added to the parent's" },
      { name = "submission_id", type = "string",
        doc = "ALL_STEPS: an idempotency key, found again by client:find_submission" },
    },
    returns = { { type = "string", doc = "the new backfill's id" } },
    errors = { "BackfillInProgressError", "NothingToReexecuteError", "BackfillNotFoundError",
      "UnauthorizedError", "PythonError" },
    async = true,
    example = [[local again = client:reexecute_backfill(id, {strategy = "FROM_FAILURE"})]],
  },
  {
    name = "client:assets", kind = "method",
    summary = "Lists assets with their latest materialization time.",
    args = { { name = "opts", type = "table", optional = true } },
    opts_arg = 1,
    options = {
      { name = "prefix", type = "string|string[]", doc = 'only keys under it, "a/b" or {"a", "b"}',
        complete = "asset" },
      { name = "limit", type = "integer", doc = "at most this many (default: all)" },
      { name = "page_size", type = "integer", default = "100", doc = "assets per request" },
    },
    returns = { { type = "dagster.Asset[]", doc = "{key, path, latest_materialization, group, health}" } },
    errors = { "PythonError" },
    async = true,
    example = [[for _, a in ipairs(client:assets{prefix = "nested"}) do
  print(a.path, a.latest_materialization)
end]],
  },
  {
    name = "client:schedules", kind = "method",
    summary = "Lists schedules with their cron schedule and status.",
    args = { { name = "opts", type = "table", optional = true } },
    opts_arg = 1,
    options = concat(where_options("the schedules"), { { name = "ticks", type = "integer",
      default = "1", doc = "how many of the last ticks each carries (in ticks, when more than 1)" } }),
    returns = { { type = "dagster.Schedule[]",
      doc = "{name, location, repository, cron_schedule, status, id, job_name, last_tick = {timestamp, status}}" } },
    errors = { "PythonError" },
    async = true,
    example = [[for _, s in ipairs(client:schedules()) do
  print(s.name, s.cron_schedule, s.status)
end]],
  },
  {
    name = "client:sensors", kind = "method",
    summary = "Lists sensors with their status and target jobs.",
    args = { { name = "opts", type = "table", optional = true } },
    opts_arg = 1,
    options = concat(where_options("the sensors"), { { name = "ticks", type = "integer",
      default = "1", doc = "how many of the last ticks each carries (in ticks, when more than 1)" } }),
    returns = { { type = "dagster.Sensor[]",
      doc = "{name, location, repository, status, id, job_name, job_names, min_interval, last_tick}" } },
    errors = { "PythonError" },
    async = true,
    example = [[for _, s in ipairs(client:sensors{location = "main"}) do
  print(s.name, s.status, s.job_name)
end]],
  },
  {
    name = "client:schedule", kind = "method",
    summary = "One schedule in full: status, cron, target, last ticks.",
    args = {
      { name = "name", type = "string", complete = "schedule" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = detail_options("schedule"),
    returns = { { type = "dagster.ScheduleDetail",
      doc = "{name, location, repository, status, cron_schedule, timezone, job_name, default_status, ticks, ...}" } },
    errors = { "ScheduleNotFoundError", "AmbiguousScheduleError", "PythonError" },
    async = true,
    example = [[local s = client:schedule("daily_refresh")
print(s.status, s.cron_schedule, s.ticks[1] and s.ticks[1].status)]],
  },
  {
    name = "client:sensor", kind = "method",
    summary = "One sensor in full: status, targets, cursor, last ticks.",
    args = {
      { name = "name", type = "string", complete = "sensor" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = detail_options("sensor"),
    returns = { { type = "dagster.SensorDetail",
      doc = "{name, location, repository, status, job_names, cursor, min_interval, sensor_type, ticks, ...}" } },
    errors = { "SensorNotFoundError", "AmbiguousSensorError", "PythonError" },
    async = true,
    example = [[local s = client:sensor("new_files")
print(s.status, s.cursor, s.ticks[1] and s.ticks[1].skip_reason)]],
  },
  {
    name = "client:ticks", kind = "method",
    summary = "A schedule's or a sensor's ticks, newest first.",
    args = {
      { name = "name", type = "string", complete = "instigator" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = (function()
      local o = owner_options("schedule's or sensor's")
      o[#o + 1] = { name = "kind", type = "string",
        doc = '"schedule" or "sensor": where to look (default: both, the name unique among them)' }
      o[#o + 1] = { name = "limit", type = "integer", default = "10", doc = "at most this many ticks" }
      o[#o + 1] = { name = "status", type = "string|string[]",
        doc = "only ticks of this status: STARTED, SKIPPED, SUCCESS or FAILURE, or a list" }
      o[#o + 1] = { name = "before", type = "number", doc = "only ticks before this time (epoch seconds)" }
      return o
    end)(),
    returns = { { type = "dagster.Tick[]",
      doc = "{id, status, timestamp, end_timestamp, run_ids, skip_reason, cursor, error}" } },
    errors = { "InstigatorNotFoundError", "AmbiguousInstigatorError", "ScheduleNotFoundError",
      "SensorNotFoundError", "PythonError" },
    async = true,
    example = [[for _, t in ipairs(client:ticks("new_files", {status = "FAILURE", limit = 5})) do
  print(os.date("%H:%M:%S", t.timestamp), t.error)
end]],
  },
  {
    name = "client:reset_schedule", kind = "method",
    summary = "Puts a schedule back to its code's default status.",
    args = {
      { name = "name", type = "string", complete = "schedule" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = owner_options("schedule"),
    returns = { { type = "string", doc = "its status now: the code's default_status" } },
    errors = { "ScheduleNotFoundError", "AmbiguousScheduleError", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:reset_schedule("daily_refresh")]],
  },
  {
    name = "client:reset_sensor", kind = "method",
    summary = "Puts a sensor back to its code's default status.",
    args = {
      { name = "name", type = "string", complete = "sensor" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = owner_options("sensor"),
    returns = { { type = "string", doc = "its status now: the code's default_status" } },
    errors = { "SensorNotFoundError", "AmbiguousSensorError", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:reset_sensor("new_files")]],
  },
  {
    name = "client:set_sensor_cursor", kind = "method",
    summary = "Sets a sensor's cursor (nil clears it); returns it.",
    args = {
      { name = "name", type = "string", complete = "sensor" },
      { name = "cursor", type = "string", optional = true },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 3,
    options = owner_options("sensor"),
    returns = { { type = "string?", doc = "the sensor's cursor now" } },
    errors = { "SensorNotFoundError", "AmbiguousSensorError", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[local before = client:sensor("new_files").cursor
client:set_sensor_cursor("new_files", before)   -- after a thaw, put it back]],
  },
  {
    name = "client:auto_materialize_paused", kind = "method",
    summary = "Whether auto-materialize is paused on the deployment.",
    args = {},
    returns = { { type = "boolean" } },
    errors = { "PythonError" },
    async = true,
    example = [[if client:auto_materialize_paused() then print("automation is paused") end]],
  },
  {
    name = "client:set_auto_materialize_paused", kind = "method",
    summary = "Pauses (true) or resumes (false) auto-materialize.",
    args = { { name = "paused", type = "boolean" } },
    returns = { { type = "boolean" } },
    errors = { "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:set_auto_materialize_paused(true)   -- during an incident]],
  },
  {
    name = "client:unloadable_instigators", kind = "method",
    summary = "Running schedules and sensors whose code is gone.",
    args = { { name = "opts", type = "table", optional = true } },
    opts_arg = 1,
    options = where_options("the instigators"),
    returns = { { type = "dagster.UnloadableInstigator[]",
      doc = "{kind, name, location, repository, status, id, selector_id}: stop_schedule / stop_sensor stop one by name" } },
    errors = { "PythonError" },
    async = true,
    example = [[for _, s in ipairs(client:unloadable_instigators()) do
  print(s.kind, s.name, s.location)
  client["stop_" .. s.kind](client, s.name, {location = s.location})
end]],
  },
  instigator_switch("start", "schedule", "RUNNING"),
  instigator_switch("stop", "schedule", "STOPPED"),
  instigator_switch("start", "sensor", "RUNNING"),
  instigator_switch("stop", "sensor", "STOPPED"),

  --------------------------------------------------------------------------------------
  -- Assets as operators handle them (assets.lua)
  --------------------------------------------------------------------------------------
  {
    name = "client:dynamic_partitions", kind = "method",
    summary = "The keys of a dynamic partitions definition.",
    doc = [[The definition is found by name among the repositories' assets (as the definition of an asset or a dimension of a multi-partitions one); DynamicPartitionsDefinitionNotFound when no asset uses it, AmbiguousDynamicPartitionsDefinition when several repositories do (give location and repository). Two requests.]],
    args = { { name = "def_name", type = "string" }, { name = "opts", type = "table", optional = true } },
    opts_arg = 2,
    options = owner_options("definition", "location", "repository"),
    returns = { { type = "string[]", doc = "the keys, in order" } },
    errors = { "DynamicPartitionsDefinitionNotFound", "AmbiguousDynamicPartitionsDefinition", "PythonError" },
    async = true,
    example = [[for _, k in ipairs(client:dynamic_partitions("tenants")) do print(k) end]],
  },
  {
    name = "client:add_partition", kind = "method",
    summary = "Adds keys to a dynamic partitions definition (one there: no error).",
    doc = [[Two requests whatever the number of keys (the definition's place, then one mutation with every key). Returns the keys added and the keys that were there already.]],
    args = {
      { name = "def_name", type = "string" },
      { name = "keys", type = "string|string[]" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 3,
    options = owner_options("definition", "location", "repository"),
    returns = { { type = "string[]", doc = "the keys added" },
      { type = "string[]", doc = "the keys that were there already" } },
    errors = { "DynamicPartitionsDefinitionNotFound", "AmbiguousDynamicPartitionsDefinition",
      "UnauthorizedError", "PythonError" },
    async = true,
    example = [[local added, existing = client:add_partition("tenants", {"acme", "globex"})]],
  },
  {
    name = "client:delete_partitions", kind = "method",
    summary = "Deletes keys of a dynamic partitions definition.",
    doc = [[Keys the definition does not have raise PartitionKeysNotFoundError (partition_keys names them) before anything is deleted. Three requests.]],
    args = {
      { name = "def_name", type = "string" },
      { name = "keys", type = "string|string[]" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 3,
    options = owner_options("definition", "location", "repository"),
    returns = { { type = "boolean", doc = "true" } },
    errors = { "PartitionKeysNotFoundError", "DynamicPartitionsDefinitionNotFound",
      "AmbiguousDynamicPartitionsDefinition", "UnsupportedOperationError", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:delete_partitions("tenants", {"globex"})]],
  },
  {
    name = "client:report_materialization", kind = "method",
    summary = "Records an asset (or some partitions) as materialized outside Dagster.",
    doc = [[reportRunlessAssetEvents: no run; the event is the asset's latest materialization. The server takes no metadata with it (dagster #22585): a description only.]],
    args = {
      { name = "key", type = "string|string[]", complete = "asset" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = REPORT_OPTIONS,
    returns = { { type = "boolean", doc = "true" } },
    errors = { "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:report_materialization("warehouse/orders", {description = "loaded by the nightly ETL"})
client:report_materialization("daily_events", {partitions = {"2026-12-05"}})]],
  },
  {
    name = "client:report_observation", kind = "method",
    summary = "Records an observation of an asset (or partitions), without a run.",
    args = {
      { name = "key", type = "string|string[]", complete = "asset" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = REPORT_OPTIONS,
    returns = { { type = "boolean", doc = "true" } },
    errors = { "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:report_observation("warehouse/orders", {description = "row count checked"})]],
  },
  {
    name = "client:wipe", kind = "method",
    summary = "Wipes assets' materialization history: whole assets, or partitions.",
    doc = [[Destructive: the keys are explicit, never a default; no keys is an argument error. partitions = {from =, to =} wipes a range of each asset's partitions, a list of keys each key; Dagster's SQL storage (OSS) cannot wipe partitions and the server raises UnsupportedOperationError (Dagster+ can). One request.]],
    args = {
      { name = "keys", type = "string|(string|string[])[]", complete = "asset" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "partitions", type = "dagster.PartitionRange|string[]", doc = "only these partitions" },
    },
    returns = { { type = "boolean", doc = "true" } },
    errors = { "AssetNotFoundError", "UnsupportedOperationError", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:wipe({"scratch/tmp_table"})
client:wipe({"daily_events"}, {partitions = {from = "2026-11-01", to = "2026-11-07"}})   -- Dagster+]],
  },
  {
    name = "client:asset_checks", kind = "method",
    summary = "Lists asset checks, each with its last execution.",
    doc = [[keys: one asset key or a list of them; none: every asset's checks; or a table of options alone (client:asset_checks{job = "daily_job"}). Each check: {asset, key, name, description, blocking, can_execute (false: it runs only with its asset's materialization), jobs, group, location, repository, last = nil or {status (SUCCEEDED, FAILED, IN_PROGRESS, EXECUTION_FAILED, SKIPPED), passed, severity (ERROR or WARN), description, run_id, time, for_latest (it checked the asset's latest materialization)}}, by asset then name. Two requests, whatever the number of checks.]],
    args = {
      { name = "keys", type = "string|(string|string[])[]|table", optional = true, complete = "asset" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "job", type = "string", doc = "only the checks in this job", complete = "job" },
      { name = "group", type = "string", doc = "only the checks of this group's assets" },
      { name = "location", type = "string", doc = "only this code location's", complete = "location" },
      { name = "repository", type = "string", doc = "only this repository's" },
    },
    returns = { { type = "dagster.AssetCheck[]" } },
    errors = { "AssetNotFoundError", "JobNotFoundError", "AmbiguousJobError", "PythonError" },
    async = true,
    example = [[for _, c in ipairs(client:asset_checks("warehouse/orders")) do
  print(c.name, c.last and c.last.status or "never run")
end]],
  },
  {
    name = "client:execute_checks", kind = "method",
    summary = "Runs asset checks alone, without materializing; returns the run id.",
    doc = [[checks: one check or a list, each "asset/key:check_name" or {asset =, name =} (the entries of client:asset_checks). One run, in __ASSET_JOB (or the first job that has them all), launched once (submission_id). wait_for_run then waits for it; check_results and events give the outcome. Checks that run only with their asset (can_execute false) raise AssetCheckNeedsMaterializationError; checks of several locations AssetsInSeveralLocationsError (one run per location). Two requests.]],
    args = {
      { name = "checks", type = "string|table", complete = "check" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "tags", type = "table<string,string>", doc = "the run's tags" },
      { name = "location", type = "string", doc = "choose among several definitions", complete = "location" },
      { name = "repository", type = "string", doc = "choose among several definitions" },
      { name = "submission_id", type = "string", doc = "the launch's identity (dagster.submission_id)" },
    },
    returns = { { type = "string", doc = "the run id" } },
    errors = { "AssetNotFoundError", "AssetCheckNotFoundError", "AssetCheckNeedsMaterializationError",
      "AssetsInSeveralLocationsError", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[local run_id = client:execute_checks({"warehouse/orders:no_null_ids", "warehouse/orders:fresh"})
client:wait_for_run(run_id)
for _, r in ipairs(client:check_results(run_id)) do print(r.name, r.status, r.severity) end]],
  },
  {
    name = "client:check_results", kind = "method",
    summary = "The asset checks a run planned, with their outcome.",
    doc = [[In the run's order: {asset, name, status, passed, severity, description}. status is Dagster's: SUCCEEDED or FAILED once evaluated; a check never evaluated is IN_PROGRESS while the run goes on, EXECUTION_FAILED when the run failed, SKIPPED otherwise. Any run: a materialization's checks too. Reads the run's events (a request per 1000), and its status when a check was not evaluated.]],
    args = { { name = "run_id", type = "string", complete = "run" } },
    returns = { { type = "dagster.CheckResult[]" } },
    errors = { "RunNotFoundError", "PythonError" },
    async = true,
    example = [[for _, r in ipairs(client:check_results(run_id)) do
  if r.status == "FAILED" and r.severity == "ERROR" then print("failed:", r.asset, r.name) end
end]],
  },
  {
    name = "client:asset", kind = "method",
    summary = "One asset: its health (asset_health) and its checks (asset_checks).",
    doc = [[client:asset_health(key, {failures = true})[1] with checks = client:asset_checks(key). Four requests.]],
    args = { { name = "key", type = "string|string[]", complete = "asset" } },
    returns = { { type = "dagster.AssetHealth", doc = "with checks: dagster.AssetCheck[]" } },
    errors = { "AssetNotFoundError", "PythonError" },
    async = true,
    example = [[local a = client:asset("warehouse/orders")
print(a.failed, a.latest_materialization and os.date("%c", a.latest_materialization.time), #a.checks)]],
  },
  {
    name = "client:asset_health", kind = "method",
    summary = "Each asset's partitions, latest run and materialization, and failures.",
    doc = [[keys: one asset key or a list; none: every asset with a definition (or a table of options alone). Each: {asset, key, group, location, repository, materializable, partitioned (nil or STATIC, TIME_WINDOW, DYNAMIC, MULTIPARTITIONED), partitions_def, latest_run = {run_id, status, time}, latest_materialization = {run_id (nil when runless), time}, in_progress, failed (the latest attempt failed and nothing succeeded since)} and for a partitioned asset partitions = {total, materialized, failed, in_progress, missing}, failed_partitions and in_progress_partitions (keys as Dagster spells them: a multi-partitioned asset's "2026-11-03|apac"), with failures = true failed_runs = {[key] = {run_id, status, time}}. Two requests (three with a filter and no keys); one more per 200 failed partitions with failures, and one for the keys of assets with a failed or materializing time range of several keys or multi-partitioned ones with failed or materializing partitions. Dagster+'s own health (assetHealth) is in client:assets' health.]],
    args = {
      { name = "keys", type = "string|(string|string[])[]|table", optional = true, complete = "asset" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "prefix", type = "string|string[]", doc = "only the assets under this key prefix" },
      { name = "group", type = "string", doc = "only this group's assets" },
      { name = "location", type = "string", doc = "only this code location's", complete = "location" },
      { name = "repository", type = "string", doc = "only this repository's" },
      { name = "failures", type = "boolean", doc = "each failed partition's latest run (more requests)" },
    },
    returns = { { type = "dagster.AssetHealth[]" } },
    errors = { "AssetNotFoundError", "PythonError" },
    async = true,
    example = [[for _, a in ipairs(client:asset_health{group = "warehouse", failures = true}) do
  if a.failed then print(a.asset, a.failed_partitions and table.concat(a.failed_partitions, ",") or "") end
end]],
  },

  --------------------------------------------------------------------------------------
  -- The instance: settings, daemons, concurrency pools, deleting runs (instance.lua)
  --------------------------------------------------------------------------------------
  {
    name = "client:instance", kind = "method",
    summary = "The instance's run queue, pool and automation settings.",
    args = {},
    returns = { { type = "dagster.Instance", doc = "{run_queuing, max_concurrent_runs, tag_concurrency_limits, op_concurrency_aware, auto_materialize_paused, pools_supported, min_pool_limit, max_pool_limit, default_pool_limit, pool_granularity}" } },
    errors = { "PythonError" },
    async = true,
    example = [[local i = client:instance()
print(i.run_queuing, i.max_concurrent_runs, i.pools_supported)]],
  },
  {
    name = "client:daemon_health", kind = "method",
    summary = "Each daemon: whether it is healthy, its last heartbeat and errors.",
    args = {},
    returns = { { type = "dagster.DaemonStatus[]", doc = "{type, required, healthy, last_heartbeat, errors}, sorted by type" } },
    errors = { "PythonError" },
    async = true,
    example = [[for _, d in ipairs(client:daemon_health()) do
  print(d.type, d.healthy, d.last_heartbeat and os.time() - d.last_heartbeat)
end]],
  },
  {
    name = "client:concurrency_pools", kind = "method",
    summary = "Each concurrency pool: its limit, claimed slots and pending steps.",
    args = {},
    returns = { { type = "dagster.Pool[]", doc = "{pool, limit, slot_count, using_default_limit, claimed = {{run_id, step_key}}, pending = {{run_id, step_key, enqueued, assigned, priority}}}" } },
    errors = { "PythonError" },
    async = true,
    example = [[for _, p in ipairs(client:concurrency_pools()) do
  print(p.pool, #p.claimed .. "/" .. tostring(p.limit), #p.pending .. " pending")
end]],
  },
  {
    name = "client:free_concurrency_slots", kind = "method",
    summary = "Frees the pool slots a run (or one of its steps) holds.",
    args = {
      { name = "run_id", type = "string", complete = "run" },
      { name = "step_key", type = "string", optional = true },
    },
    returns = { { type = "boolean", doc = "true" } },
    errors = { "UnauthorizedError", "GraphQLError" },
    async = true,
    example = [[client:free_concurrency_slots(run_id)]],
  },
  {
    name = "client:set_concurrency_limit", kind = "method",
    summary = "Sets a concurrency pool's limit (creating the pool).",
    args = { { name = "pool", type = "string" }, { name = "limit", type = "integer" } },
    returns = { { type = "boolean", doc = "true" } },
    errors = { "UnauthorizedError", "GraphQLError" },
    async = true,
    example = [[client:set_concurrency_limit("warehouse", 4)]],
  },
  {
    name = "client:delete_concurrency_limit", kind = "method",
    summary = "Deletes a concurrency pool's limit.",
    args = { { name = "pool", type = "string" } },
    returns = { { type = "boolean", doc = "true" } },
    errors = { "UnauthorizedError", "GraphQLError" },
    async = true,
    example = [[client:delete_concurrency_limit("warehouse")]],
  },
  {
    name = "client:queue", kind = "method",
    summary = "The queued runs and what holds each: daemon, limits, pools.",
    doc = [[Why is my run QUEUED? Each queued run's held_by lists what the API shows holding it: the queued run coordinator daemon missing, unhealthy or silent for longer than `heartbeat` seconds ("daemon"), the queue's max_concurrent_runs reached ("queue_limit"), a tag concurrency limit reached ("tag_limit"), a pool of the run's steps at its limit ("pool", with the slots claimed by runs that have ended: the deadlock of dagster #28456). An empty held_by: nothing the API shows. Four requests whatever the number of runs.]],
    args = { { name = "opts", type = "table", optional = true } },
    opts_arg = 1,
    options = {
      { name = "heartbeat", type = "number", default = "120",
        doc = "seconds without a heartbeat after which the daemon counts as gone" },
      { name = "limit", type = "integer", default = "1000", doc = "at most this many runs in flight read" },
    },
    returns = { { type = "dagster.Queue", doc = "{queued = {{run_id, job_name, created, queued_for, pools, tags, held_by = {{kind, text, ...}}}}, in_progress, pools, instance, daemons, daemon}" } },
    errors = { "PythonError" },
    async = true,
    example = [[for _, r in ipairs(client:queue().queued) do
  for _, h in ipairs(r.held_by) do print(r.run_id, h.text) end
end]],
  },
  {
    name = "client:delete_run", kind = "method",
    summary = "Deletes a finished run and its event log.",
    doc = [[A run not finished yet is refused with RunInProgressError (terminate it first), unless force = true: Dagster itself deletes any run. Deleting also frees the pool slots the run held. Two requests (the status, the deletion); one with force.]],
    args = {
      { name = "run_id", type = "string", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = { { name = "force", type = "boolean", default = "false",
      doc = "delete a run in flight too" } },
    returns = { { type = "boolean", doc = "true" } },
    errors = { "RunNotFoundError", "RunInProgressError", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[client:delete_run(run_id)]],
  },

  --------------------------------------------------------------------------------------
  -- Run configs from the job's schema (runconfig.lua)
  --------------------------------------------------------------------------------------
  {
    name = "client:scaffold_config", kind = "method",
    summary = "A job's default run config with each required field as a placeholder.",
    doc = [[The job's default config (what Dagster's launchpad starts from) with every required field that has no default present as a placeholder, as the launchpad's "Scaffold missing config" writes them: "" for a String, 0 for Int and Float, true for Bool, "A|B" for an enum, "<selector>" for a selector. Fill the placeholders in before launching: a String placeholder is valid config. One request (two with a partition).]],
    args = {
      { name = "job", type = "string", complete = "job" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = concat({
      { name = "partition", type = "string",
        doc = "start from this partition's config (a partitioned job)" },
      { name = "yaml", type = "boolean", default = "false",
        doc = "YAML text instead of a table, each placeholder under a comment naming its type" },
    }, owner_options("job", "location", "repository")),
    returns = { { type = "table|string", doc = "the config (YAML text with yaml = true)" } },
    errors = { "JobNotFoundError", "AmbiguousJobError", "PipelineNotFoundError",
      "PartitionKeysNotFoundError", "YAMLError", "PythonError" },
    async = true,
    example = [[print(client:scaffold_config("my_job", {yaml = true}))
local config = client:scaffold_config("my_job")
config.ops.my_op.config.name = "lua"
client:submit_job_execution("my_job", {run_config = config})]],
  },
  {
    name = "client:edit_config", kind = "method",
    summary = "Edits a run config in $EDITOR until the server finds it valid.",
    doc = [[Opens $VISUAL, else $EDITOR, else vi, on the config as YAML: the given config (a table or YAML text), else the job's scaffold (client:scaffold_config). When the editor exits, the saved config is checked with the server (validate_run_config); an invalid one reopens the editor with each error as a "# error:" comment above the key at its path (a YAML mistake at the top), until the config is valid. Leaving the file unchanged gives up: the errors are raised. The file is a private temporary file, removed at the end. Needs a terminal: off one it raises UnsupportedError.]],
    args = {
      { name = "job", type = "string", complete = "job" },
      { name = "config", type = "table|string", optional = true, complete = "run_config" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 3,
    options = concat({
      { name = "partition", type = "string",
        doc = "scaffold from this partition's config (when no config is given)" },
    }, owner_options("job", "location", "repository")),
    returns = { { type = "table", doc = "the valid config, ready for submit_job_execution" } },
    errors = { "RunConfigValidationInvalid", "YAMLError", "EditorError", "UnsupportedError",
      "JobNotFoundError", "AmbiguousJobError", "PythonError" },
    async = true,
    example = [[local config = client:edit_config("my_job")
client:submit_job_execution("my_job", {run_config = config})]],
  },

  --------------------------------------------------------------------------------------
  -- Playbooks (dagster.playbook): two overviews (kind "topic"), the module's functions
  -- ("playbook.<function>") and the methods of the pb a body is given ("pb:<method>")
  --------------------------------------------------------------------------------------
  {
    name = "playbook", kind = "topic",
    summary = "Playbooks: a file returns playbook.define(decl, function(pb) ... end).",
    doc = [[A playbook file returns playbook.define(decl, body). The declaration is checked when the file is loaded: an unknown field, flag type or bad default is an error that names it. `dagster-lua play NAME|FILE [args]` parses the command line against it, answers --help, builds pb.client, opens the journal and calls body(pb) (help "pb"); body's integer result, or pb:exit's code, is the exit status. The journal's identity is what the run is: the client's URL, the arguments and every flag but the watch ones, so --timeout, --json or another spelling of the URL find the same journal.]],
    sections = {
      { title = "The declaration (decl)", class = "dagster.PlaybookDeclaration", fields = {
        { name = "name", type = "string",
          doc = "letters, digits, _ . -: --help, messages and the journal's file name" },
        { name = "summary", type = "string", optional = true,
          doc = "one line, for --help and play --list" },
        { name = "description", type = "string", optional = true, doc = "more text for --help" },
        { name = "args", type = "dagster.PlaybookArg[]", optional = true,
          doc = "the positional arguments, in order" },
        { name = "flags", type = "dagster.PlaybookFlag[]", optional = true,
          doc = "the playbook's own flags (every playbook has the common ones too)" },
        { name = "journal", type = "boolean", optional = true,
          doc = "false: keep no journal (a playbook that only reads, like watch)" },
        { name = "request_timeout", type = "number", optional = true,
          doc = "the client's timeout: seconds for one call (default 300)" },
      } },
      { title = "An argument (decl.args[i])", class = "dagster.PlaybookArg", fields = {
        { name = "name", type = "string", doc = "an identifier: the key in pb.args (NAME in --help)" },
        { name = "doc", type = "string", optional = true, doc = "one line for --help" },
        { name = "optional", type = "boolean", optional = true,
          doc = "may be left out (pb.args[name] is then nil)" },
        { name = "multiple", type = "boolean", optional = true,
          doc = "the last argument only: takes all the rest, as a list" },
      } },
      { title = "A flag (decl.flags[i])", class = "dagster.PlaybookFlag", fields = {
        { name = "name", type = "string",
          doc = "--name; the key in pb.flags, dashes kept (pb.flags[\"max-errors\"])" },
        { name = "short", type = "string", optional = true, doc = "one letter: -c FILE, -cFILE" },
        { name = "type", type = "dagster.PlaybookFlagType", doc = "how its value is read (below)" },
        { name = "metavar", type = "string", optional = true,
          doc = "the value's name in --help (default: the type in capitals)" },
        { name = "doc", type = "string", optional = true, doc = "one line for --help" },
        { name = "default", type = "any", optional = true,
          doc = "a value, or text read as its type (\"1h\"); not for boolean or list flags" },
        { name = "watch", type = "boolean", optional = true,
          doc = "how the run is watched, not what it does (--wait, --timeout): left out of the journal's identity" },
      } },
      { title = "Flag types (flag.type)", alias = "dagster.PlaybookFlagType", fields = {
        { name = "string", doc = "the word as given" },
        { name = "number", doc = "a number (tonumber)" },
        { name = "integer", doc = "a whole number" },
        { name = "duration", doc = "seconds, from 90, 30s, 15m, 2h, 1d or 1h30m" },
        { name = "list", doc = "repeatable: the list of the values given ({} when none)" },
        { name = "boolean", doc = "takes no value: true when given, else false" },
      } },
      { title = "Every playbook's flags", fields = {
        { name = "--url URL", doc = "the Dagster webserver (default $DAGSTER_URL)" },
        { name = "--deployment NAME", doc = "a Dagster+ deployment of the dagster-cloud login (default $DAGSTER_CLOUD_DEPLOYMENT)" },
        { name = "--organization ORG", doc = "the Dagster+ organization (default $DAGSTER_CLOUD_ORGANIZATION)" },
        { name = "--token-env NAME", doc = "the variable holding the API token (default DAGSTER_CLOUD_API_TOKEN)" },
        { name = "--max-rps N", doc = "at most N requests a second (a rate-limited gateway or Dagster+)" },
        { name = "--journal FILE", doc = "the journal (default under $XDG_STATE_HOME/dagster-lua/)" },
        { name = "--resume", doc = "go on from this run's journal: done steps are skipped, launches found" },
        { name = "--fresh", doc = "start over, dropping an unfinished journal" },
        { name = "--dry-run", doc = "read, check and print; change nothing, write no journal" },
        { name = "--json", doc = "one JSON object per event on stdout; text on stderr" },
        { name = "--wait-lock DURATION", doc = "when another process runs this journal, wait for it this long (else exit 75)" },
        { name = "--notify URL", doc = "POST a JSON summary there at the end (repeatable)" },
        { name = "--notify-env NAME", doc = "the same, to the URL a variable holds (a URL with a secret in it)" },
        { name = "--notify-on WHEN", doc = "always, failure (the default: exit status not 0) or change" },
        { name = "--metrics FILE", doc = "write Prometheus metrics there at the end (textfile collector format)" },
        { name = "-h, --help", doc = "the generated help: arguments, flags, exit status" },
      } },
      { title = "Exit status (playbook.EXIT)", fields = {
        { name = "OK", code = 0, doc = "success" },
        { name = "FAILURE", code = 1, doc = "a run ended FAILURE (or the playbook failed otherwise)" },
        { name = "CANCELED", code = 2, doc = "a run ended CANCELED" },
        { name = "TIMEOUT", code = 3, doc = "a wait timed out" },
        { name = "USAGE", code = 4, doc = "usage or configuration error: bad flags, a bad YAML file, an invalid run config, a URL that is not a Dagster GraphQL endpoint" },
        { name = "UNREACHABLE", code = 5, doc = "the server cannot be reached, or refused the credentials" },
        { name = "PARTIAL", code = 6, doc = "partial: some of the work failed" },
        { name = "UNSUPPORTED", code = 7, doc = "not possible through the API on this deployment (a Dagster+ code location is redeployed by its CI, not reloaded)" },
        { name = "BUSY", code = 75, doc = "busy: another process is running this journal; try later (or --wait-lock)" },
        { name = "INTERRUPTED", code = 130, doc = "interrupted (Ctrl-C); the journal stays consistent: --resume goes on" },
        { name = "TERMINATED", code = 143, doc = "terminated (SIGTERM: a scheduler, systemd or Kubernetes stopped it), as at Ctrl-C: summary, notification and metrics sent, --resume goes on" },
      } },
    },
    example = [[local playbook = require "dagster.playbook"
return playbook.define({
  name = "nightly", summary = "Launch one day of daily_job and wait for it",
  args = { { name = "date", doc = "the partition, e.g. 2026-11-03" } },
  flags = { { name = "timeout", type = "duration", default = "1h", watch = true,
              doc = "how long to wait" } },
}, function(pb)
  local id = pb:step("launch", function()
    return pb:submit("daily_job", { partition = pb.args.date })
  end)
  if pb.dry_run then pb:exit(playbook.EXIT.OK) end
  local status = pb:step("wait", function()
    return (pb.client:wait_for_run(id, { timeout = pb.flags.timeout, progress = true }))
  end)
  return playbook.code_of_status(status)
end)]],
  },
  {
    name = "pb", kind = "topic",
    summary = "The pb a playbook's body is given: its command line, client, methods.",
    doc = [[body(pb) finds the parsed command line in pb.args and pb.flags and the client in pb.client. Its work goes in pb:step (once each, journaled); runs and backfills are launched with pb:submit, pb:reexecute, pb:backfill or pb:launch (made once: a resumed playbook finds them); pb:terminate, pb:stop_runs, pb:reload and pb:shutdown are printed instead of made under --dry-run; pb:try catches what it reports and goes on from (Ctrl-C and pb:exit pass through); pb:exit ends it.]],
    sections = {
      { title = "Fields", class = "dagster.Playbook", fields = {
        { name = "args", type = "table<string, string|string[]>",
          doc = "the arguments by name: nil when optional and left out, a list when multiple" },
        { name = "flags", type = "table<string, any>",
          doc = "every flag by name, dashes kept, read as its type, defaults filled in; a list flag not given is {}, a boolean false" },
        { name = "client", type = "dagster.Client",
          doc = "a client of --url or $DAGSTER_URL, with the token of --token-env's variable" },
        { name = "dry_run", type = "boolean", doc = "--dry-run: mutations printed, not made" },
        { name = "json", type = "boolean", doc = "--json: events on stdout, text on stderr" },
        { name = "name", type = "string", doc = "the declaration's name (for read_yaml, glob)" },
        { name = "resumed", type = "boolean", optional = true,
          doc = "true when --resume found this run's journal" },
      } },
    },
    example = [[pb:say("%d failed runs since %s", #runs, os.date("%F %T", os.time() - pb.flags.since))]],
  },
  {
    name = "playbook.define", kind = "function",
    summary = "Checks a declaration; returns the definition a playbook file returns.",
    args = {
      { name = "decl", type = "dagster.PlaybookDeclaration" },
      { name = "body", type = "fun(pb: dagster.Playbook): integer?" },
    },
    returns = { { type = "dagster.PlaybookDefinition",
      doc = "{decl, body}: what `dagster-lua play` and playbook.run run" } },
    errors = {},
    example = [[return playbook.define({ name = "hello", summary = "Say which Dagster this is",
  journal = false }, function(pb)
  pb:say("%s runs Dagster %s", pb.client.url, pb.client:version())
end)]],
  },
  {
    name = "playbook.run", kind = "function",
    summary = "Runs a definition with a command line; returns the exit status.",
    args = {
      { name = "def", type = "dagster.PlaybookDefinition" },
      { name = "argv", type = "string[]" },
    },
    returns = { { type = "integer", doc = "the exit status (playbook.EXIT), as `play` exits" } },
    errors = {},
    async = true,
    example = [[os.exit(playbook.run(dofile("nightly.lua"), { "2026-11-03", "--dry-run" }))]],
  },
  {
    name = "playbook.help", kind = "function",
    summary = "The --help text of a definition.",
    args = { { name = "def", type = "dagster.PlaybookDefinition" } },
    returns = { { type = "string", doc = "usage, arguments, flags and exit status" } },
    errors = {},
    example = [[print(playbook.help(dofile("nightly.lua")))]],
  },
  {
    name = "playbook.is_definition", kind = "function",
    summary = "Whether v is a playbook definition (what playbook.define returns).",
    args = { { name = "v", type = "any" } },
    returns = { { type = "boolean" } },
    errors = {},
    example = [[assert(playbook.is_definition(dofile("nightly.lua")))]],
  },
  {
    name = "playbook.read_yaml", kind = "function",
    summary = "Reads a YAML file; with name, an error ends that playbook (status 4).",
    args = {
      { name = "path", type = "string", doc = "a file, or - for standard input" },
      { name = "name", type = "string", optional = true },
    },
    returns = { { type = "any", doc = "the first document; ~ and null as dagster.null" } },
    errors = { "YAMLError", "UnsupportedError" },
    example = [[local config = playbook.read_yaml("prod.yaml", pb.name)]],
  },
  {
    name = "playbook.glob", kind = "function",
    summary = "The files a pattern names (wildcards in the file name), sorted.",
    args = {
      { name = "pattern", type = "string" },
      { name = "name", type = "string", optional = true },
    },
    returns = { { type = "string[]",
      doc = "the pattern itself when it has no wildcard; no match is a usage error" } },
    errors = {},
    example = [[for _, path in ipairs(playbook.glob("conf/*.yaml", pb.name)) do print(path) end]],
  },
  {
    name = "playbook.deep_merge", kind = "function",
    summary = "Dagster's deep merge: objects key by key, anything else replaced.",
    args = {
      { name = "onto", type = "table" },
      { name = "from", type = "table" },
    },
    returns = { { type = "table", doc = "a new table; from wins; lists are replaced, not merged" } },
    errors = {},
    example = [[local config = playbook.deep_merge(playbook.read_yaml("base.yaml"),
  playbook.read_yaml("prod.yaml"))]],
  },
  {
    name = "playbook.duration", kind = "function",
    summary = "A duration (90, 30s, 15m, 2h, 1d, 1h30m) in seconds; raises if not.",
    args = { { name = "s", type = "string|number" } },
    returns = { { type = "number", doc = "seconds; a bare number is seconds" } },
    errors = {},
    example = [[local since = os.time() - playbook.duration("6h")]],
  },
  {
    name = "playbook.seconds", kind = "function",
    summary = "Seconds as text: 4.2s, 3m05s, 1h30m, 2d03h.",
    args = { { name = "d", type = "number" } },
    returns = { { type = "string" } },
    errors = {},
    example = [[pb:say("waited %s", playbook.seconds(dagster.now() - t0))]],
  },
  {
    name = "playbook.headline", kind = "function",
    summary = "The first line of tostring(v), as a table cell shows an error.",
    args = { { name = "v", type = "any" } },
    returns = { { type = "string",
      doc = "the first line; one ending in \":\" takes the next line's text too" } },
    errors = {},
    example = [[local ok, err = pcall(pb.client.stop_sensor, pb.client, name)
rows[#rows + 1] = { name, ok and "STOPPED" or "failed: " .. playbook.headline(err) }]],
  },
  {
    name = "playbook.code_of_status", kind = "function",
    summary = "The exit status of a run's final status: 0, 1 or 2.",
    args = { { name = "status", type = "string" } },
    returns = { { type = "integer", doc = "OK for SUCCESS, CANCELED for CANCELED, else FAILURE" } },
    errors = {},
    example = [[return playbook.code_of_status(pb.client:wait_for_run(run_id))]],
  },
  {
    name = "playbook.code_of_error", kind = "function",
    summary = "The exit status an error stands for (what the runner exits with).",
    args = { { name = "e", type = "any" } },
    returns = { { type = "integer",
      doc = "3 a wait's TimeoutError, 4 a config error, 5 unreachable, 130 Interrupted (143 when SIGTERM raised it), else 1" } },
    errors = {},
    example = [[local ok, e = pcall(pb.reexecute, pb, run_id)
if not ok and playbook.code_of_error(e) == playbook.EXIT.INTERRUPTED then error(e, 0) end]],
  },
  {
    name = "pb:step", kind = "method",
    summary = "Runs a named step once; a resumed playbook gets its recorded result.",
    doc = [[A step is keyed by its name, its occurrence and a hash of inputs: with --resume, a step done before is skipped and returns the result the journal recorded (as JSON: a result JSON cannot hold is kept as its string). fn gets pb; an error in it fails the step and the playbook. Steps do not nest; launches go inside them.]],
    args = {
      { name = "name", type = "string" },
      { name = "inputs", type = "any", optional = true },
      { name = "fn", type = "fun(pb: dagster.Playbook): any" },
    },
    overloads = { "fun(self: dagster.Playbook, name: string, fn: fun(pb: dagster.Playbook): any): any" },
    returns = { { type = "any", doc = "fn's result, or the one recorded before" } },
    errors = {},
    example = [[local found = pb:step("find the failed runs", { since = pb.flags.since }, function()
  return pb.client:runs { statuses = { "FAILURE" }, updated_after = os.time() - pb.flags.since }
end)]],
  },
  {
    name = "pb:launch", kind = "method",
    summary = "Makes a launch once: journaled, found again by a resumed playbook.",
    doc = [[Inside a step. fn(submission_id) launches, passing submission_id to the client's launch method, and returns the run's or backfill's id. An intent record with that id is written before it and the result after it; a resumed playbook settles an intent without a result with client:find_submission, so the launch is found, or made now with the same id. Under --dry-run nothing is launched: check() runs instead, and `would <what>` is printed.]],
    args = {
      { name = "what", type = "string" },
      { name = "fn", type = "fun(submission_id: string): string" },
      { name = "o", type = "table", optional = true },
    },
    opts_arg = 3,
    options = {
      { name = "key", type = "string",
        doc = "names the launch within its step instead of its rank (for launches from tasks)" },
      { name = "kind", type = '"run"|"backfill"', default = '"run"',
        doc = "what a resumed playbook looks for" },
      { name = "check", type = "fun()", doc = "a dry run calls it instead of launching" },
      { name = "action", type = '"launch"|"reexecute"', default = '"launch"',
        doc = "how play history counts it (re-executions apart)" },
    },
    returns = { { type = "string?", doc = "the run's or backfill's id; nil in a dry run" } },
    errors = {},
    async = true,
    example = [[local run_id = pb:step("materialize", function()
  return pb:launch("materialize asset_one", function(sid)
    return pb.client:materialize("asset_one", { submission_id = sid })
  end)
end)]],
  },
  {
    name = "pb:submit", kind = "method",
    summary = "client:submit_job_execution made once; --dry-run checks the config.",
    args = {
      { name = "job", type = "string", complete = "job" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = without(SUBMIT_OPTIONS, "submission_id"),
    returns = { { type = "string?", doc = "the run's id; nil in a dry run" } },
    errors = concat({ "JobNotFoundError", "AmbiguousJobError", "PartitionKeysNotFoundError" },
      LAUNCH_ERRORS),
    async = true,
    example = [[local run_id = pb:step("launch", function()
  return pb:submit("my_job", { run_config = config, tags = pb:tags(pb.flags.tag) })
end)]],
  },
  {
    name = "pb:reexecute", kind = "method",
    summary = "client:reexecute made once, keyed by the run it re-executes.",
    doc = [[Keyed by run_id within its step, so that tasks (dagster.spawn) may re-execute several runs at once, in any order, and a resumed playbook still matches each launch to its parent.]],
    args = {
      { name = "run_id", type = "string", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = without(REEXECUTE_OPTIONS, "submission_id"),
    returns = { { type = "string?", doc = "the new run's id; nil in a dry run" } },
    errors = concat(LAUNCH_ERRORS),
    async = true,
    example = [[pb:step("re-execute", function()
  local tasks = {}
  for i, id in ipairs(failed) do
    tasks[i] = dagster.spawn(pb.reexecute, pb, id, { strategy = "FROM_FAILURE" })
  end
  return dagster.gather(tasks)
end)]],
  },
  {
    name = "pb:backfill", kind = "method",
    summary = "client:backfill made once; a resumed playbook finds the backfill.",
    args = { { name = "spec", type = "table" } },
    opts_arg = 1,
    options = without(BACKFILL_OPTIONS, "submission_id"),
    returns = { { type = "string?", doc = "the backfill's id; nil in a dry run" } },
    errors = { "PartitionKeysNotFoundError", "PartitionRangeError", "PartitionSetNotFoundError",
      "JobNotFoundError", "AmbiguousJobError", "AssetNotFoundError", "UnauthorizedError",
      "PythonError" },
    async = true,
    example = [[local id = pb:step("launch the backfill", function()
  return pb:backfill { job = "daily_job", partitions = { "2026-11-01", "2026-11-02" } }
end)]],
  },
  {
    name = "pb:try", kind = "method",
    summary = "pcall that lets Ctrl-C and pb:exit still end the playbook.",
    args = {
      { name = "fn", type = "function" },
      { name = "...", type = "any", optional = true },
    },
    returns = { { type = "boolean", doc = "true, then fn's results; or false, then the error" },
                { type = "any", doc = "fn's results, or the error" } },
    errors = { "Interrupted" },
    example = [[local ok, err = pb:try(pb.client.stop_schedule, pb.client, name)
if not ok then pb:say("%s: not stopped: %s", name, tostring(err)) end]],
  },
  {
    name = "pb:terminate", kind = "method",
    summary = "client:terminate_run; under --dry-run, printed instead.",
    args = {
      { name = "run_id", type = "string", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "force", type = "boolean", default = "false",
        doc = "mark the run canceled at once instead of asking it to stop" },
    },
    returns = {},
    errors = { "RunNotFoundError", "TerminateRunFailure", "UnauthorizedError", "PythonError" },
    async = true,
    example = [[pb:terminate(run_id, { force = true })]],
  },
  {
    name = "pb:stop_runs", kind = "method",
    summary = "client:stop_runs, journaled; under --dry-run, printed instead.",
    args = {
      { name = "run_ids", type = "string[]", complete = "run" },
      { name = "opts", type = "table", optional = true },
    },
    opts_arg = 2,
    options = {
      { name = "grace", type = "number", default = "10",
        doc = "seconds the terminated runs get before they are forced" },
    },
    returns = { { type = "table?",
      doc = "{terminated, forced, left}: run ids, sorted; nil in a dry run" } },
    errors = { "PythonError" },
    async = true,
    example = [[local r = pb:step("stop them", function() return pb:stop_runs(ids, { grace = 30 }) end)]],
  },
  {
    name = "pb:reload", kind = "method",
    summary = "client:reload_repository_location; under --dry-run, printed instead.",
    args = { { name = "location", type = "string", complete = "location" } },
    returns = { { type = "table?",
      doc = '{status = "SUCCESS"} or {status = "FAILURE", failure_type, message}; nil in a dry run' } },
    errors = {},
    async = true,
    example = [[local r = pb:reload("main")
if r and r.status == "FAILURE" then pb:exit(playbook.EXIT.FAILURE, r.message) end]],
  },
  {
    name = "pb:shutdown", kind = "method",
    summary = "client:shutdown_repository_location; under --dry-run, printed instead.",
    args = { { name = "location", type = "string", complete = "location" } },
    returns = { { type = "table?",
      doc = '{status = "SUCCESS"} or {status = "FAILURE", failure_type, message}; nil in a dry run' } },
    errors = {},
    async = true,
    example = [[pb:shutdown("my_grpc_location")]],
  },
  {
    name = "pb:say", kind = "method",
    summary = "Prints a line of text (string.format); on stderr with --json.",
    args = {
      { name = "format", type = "string" },
      { name = "...", type = "any", optional = true },
    },
    returns = {},
    errors = {},
    example = [[pb:say("run %s: %s", run_id, status)]],
  },
  {
    name = "pb:event", kind = "method",
    summary = "With --json, writes t as one JSON line on stdout; else nothing.",
    args = { { name = "t", type = "table" } },
    returns = {},
    errors = {},
    example = [[pb:event { event = "recovered", run_id = run_id, new_run = new_id }]],
  },
  {
    name = "pb:table", kind = "method",
    summary = "Prints an aligned table; with --json each row is an event too.",
    args = {
      { name = "headers", type = "string[]" },
      { name = "rows", type = "string[][]" },
    },
    returns = {},
    errors = {},
    example = [[pb:table({ "RUN", "STATUS" }, { { run_id, status } })]],
  },
  {
    name = "pb:gauge", kind = "method",
    summary = "Adds a gauge of the playbook's own to what --metrics writes.",
    doc = [[Written after the common gauges as dagster_lua_<name>{playbook=..., journal=..., labels...} value, with HELP and TYPE once per name; nothing is written without --metrics (nor on a dry run).]],
    args = {
      { name = "name", type = "string" },
      { name = "help", type = "string" },
      { name = "value", type = "number" },
      { name = "labels", type = "table<string, string>", optional = true },
    },
    returns = {},
    errors = {},
    example = [[pb:gauge("doctor_findings", "Findings of a check.", 2, { check = "pools" })]],
  },
  {
    name = "pb:tags", kind = "method",
    summary = "K=V words (a --tag list flag) as a table; a bad word: usage error.",
    args = { { name = "words", type = "string[]" } },
    returns = { { type = "table<string, string>" } },
    errors = {},
    example = [[local tags = pb:tags(pb.flags.tag)]],
  },
  {
    name = "pb:usage", kind = "method",
    summary = "Ends the playbook with a usage error (status 4), as a bad flag does.",
    args = { { name = "message", type = "string" } },
    returns = {},
    errors = {},
    example = [[if pb.flags.concurrency < 1 then pb:usage("--concurrency: at least 1 expected") end]],
  },
  {
    name = "pb:exit", kind = "method",
    summary = "Ends the playbook with an exit status (and a message); never returns.",
    doc = [[It raises what the runner catches, which prints the summary and writes the journal's end record: a pcall around it catches it too.]],
    args = {
      { name = "code", type = "integer", optional = true },
      { name = "message", type = "string", optional = true },
    },
    returns = {},
    errors = {},
    example = [[pb:exit(playbook.EXIT.PARTIAL, "2 of 5 re-executions failed")]],
  },
  {
    name = "pb:paint", kind = "method",
    summary = "s in an SGR colour (\"1\" bold, \"32\" green) when colour is on.",
    args = {
      { name = "code", type = "string" },
      { name = "s", type = "string" },
    },
    returns = { { type = "string" } },
    errors = {},
    example = [[pb:say("%s", pb:paint("31", "FAILURE"))]],
  },
}

M.by_name = {}
for _, e in ipairs(M.entries) do M.by_name[e.name] = e end

return M
