-- dagster.playbook.object: the `pb` a playbook's body is given: its command line, its
-- client, its journal, and the methods a runbook is written with (steps, launches made
-- once, the mutations a dry run prints instead of making, output).
--
--   object.new(decl, argv, o) -> pb  (the runner makes it; o = {env =, stdout =})

local dagster = require "dagster"
local check = require "dagster.check"
local json = require "dagster.json"
local E = require "dagster.error"
local term = require "dagster.term"
local exit = require "dagster.playbook.exit"
local cli = require "dagster.playbook.cli"
local journal = require "dagster.playbook.journal"
local sys = require "dagster.sys"

local fmt, concat = string.format, table.concat
local usage = exit.usage

local M = {}

local PB = {}
PB.__index = PB
PB.__name = "dagster.Playbook"
M.PB = PB

-- a value as the journal can keep it (JSON), or its string form
local function storable(v)
  local ok = pcall(json.encode, { v = v })
  if ok then return v end
  return tostring(v)
end

-- the client of a playbook: --url, else --deployment/--organization (Dagster+), else
-- DAGSTER_URL, else the dagster-cloud CLI's login (dagster.client_from_env); the token from
-- the variable --token-env names, else DAGSTER_CLOUD_API_TOKEN or the login's (a token never
-- goes on a command line)
local function client_of(decl, flags)
  local token
  if flags["token-env"] then
    token = os.getenv(flags["token-env"])
    if token == nil or token == "" then
      usage(decl.name, fmt("--token-env %s: that variable is not set", cli.shown(flags["token-env"])))
    end
  end
  local why = flags.url and check.url_problem(flags.url)
  if why then usage(decl.name, "--url " .. cli.shown(check.shown_url(flags.url)) .. ": " .. why) end
  local ok, c = pcall(dagster.client_from_env, { url = flags.url, deployment = flags.deployment,
    organization = flags.organization, token = token, timeout = decl.request_timeout,
    max_rps = flags["max-rps"] })
  if ok then return c end
  if E.is(c) then usage(decl.name, c.message) end
  error(c, 0)
end

-- the line that says --resume found no journal for this run, naming the unfinished ones
local function say_not_found(self, path)
  local lines = { fmt("play %s: --resume: no journal for this run (%s); starting a new run",
    self.name, path) }
  for _, u in ipairs(journal.unfinished(self.name)) do
    if u.path ~= path then
      local words = {}
      for i, a in ipairs(u.argv or {}) do
        words[i] = a:find("^[%w_@%%+=:,./-]+$") and a or "'" .. a:gsub("'", "'\\''") .. "'"
      end
      lines[#lines + 1] = fmt("  unfinished: %s (started %s): dagster-lua play %s %s --journal %s --resume",
        u.path, u.time and os.date("%Y-%m-%d %H:%M:%S", u.time) or "?", self.name,
        concat(words, " "), u.path)
    end
  end
  io.stderr:write(concat(lines, "\n"), "\n")
  io.stderr:flush()
end

-- object.new(decl, argv) -> pb, or nil after --help was printed
function M.new(decl, argv)
  local args, flags = cli.parse(decl, argv)
  if args == nil then                          -- --help
    io.stdout:write(cli.help(decl), "\n")
    return nil
  end
  local self = setmetatable({ name = decl.name, decl = decl, args = args, flags = flags,
    dry_run = flags["dry-run"], json = flags.json, steps = {}, counts = {}, t0 = dagster.now(),
    launch_counts = {} }, PB)
  self.colour = term.colour(self.json and 2 or 1)
  -- a wait for the server's sake (Dagster+ maintenance) is said once, on stderr
  require("dagster.wait").notice = function(line)
    io.stderr:write(fmt("play %s: %s\n", decl.name, line))
    io.stderr:flush()
  end
  self.client = client_of(decl, flags)

  -- the journal: what the run is names it (the deployment, the arguments, the flags that
  -- change what it does), not how it is watched
  local identity = cli.identity(decl, args, flags)
  identity.url = self.client.url
  local first = decl.args and decl.args[1] and args[decl.args[1].name]
  local path = flags.journal or journal.path(decl.name, identity, first)
  self.argv = cli.redact(argv)                 -- what journals, history and notifications keep
  self.host = sys.hostname()
  if self.dry_run or decl.journal == false then
    -- a dry run changes nothing, the journal included, and takes no lock; a playbook that
    -- only reads (watch) declares journal = false and keeps none
    self.journal = journal.none(path)
    self.started = os.time()
  else
    -- one process per journal: the lock is held until the process ends
    self.lock = journal.lock(path, decl.name, { wait = flags["wait-lock"], holder = {
      pid = sys.pid(), host = self.host, time = os.time(), playbook = decl.name, argv = self.argv } })
    local last = journal.last_finished(path)     -- for --notify-on change
    self.previous_code = last and last.code
    self.journal = journal.open(path, decl.name, { resume = flags.resume, fresh = flags.fresh,
      argv = self.argv, identity = identity, host = self.host })
    if self.journal.not_found then say_not_found(self, path) end
    self.started = self.journal.started
  end
  self.resumed = self.journal.resumed
  return self
end

------------------------------------------------------------------------------------------
-- Output
------------------------------------------------------------------------------------------

function PB:_out() return self.json and io.stderr or io.stdout end

-- pb:paint(sgr, s) -> s in that colour (an SGR code: "1" bold, "32" green), when colour is on
function PB:paint(code, s)
  if not self.colour then return s end
  return "\27[" .. code .. "m" .. s .. "\27[0m"
end

-- pb:say(fmt, ...): a line of human text (stdout, or stderr with --json)
function PB:say(...)
  local out = self:_out()
  out:write(fmt(...), "\n")
  out:flush()
end

-- pb:event(t): with --json, one JSON object on stdout (t.event names it)
function PB:event(t)
  if not self.json then return end
  t.playbook, t.time = self.name, os.time()
  io.stdout:write(json.encode(t), "\n")
  io.stdout:flush()
end

-- pb:table(headers, rows): an aligned table of strings (each row a list, one per header)
-- as human text; with --json, each row is also an event {event = "row", ...}
function PB:table(headers, rows)
  local out = self:_out()
  out:write(term.table(headers, rows, { paint = function(s) return self:paint("1", s) end }), "\n")
  out:flush()
  for _, r in ipairs(rows) do
    local ev = { event = "row" }
    for i, h in ipairs(headers) do ev[h:lower():gsub("%W+", "_")] = r[i] end
    self:event(ev)
  end
end

-- pb:gauge(name, help, value [, labels]): a gauge of the playbook's own for --metrics,
-- written after the common ones as dagster_lua_<name>{playbook=, journal=, labels...}
function PB:gauge(name, help, value, labels)
  if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
    error("bad argument #1 to 'gauge' (a metric name expected)", 2)
  end
  if type(value) ~= "number" then error("bad argument #3 to 'gauge' (number expected)", 2) end
  self.gauges = self.gauges or {}
  table.insert(self.gauges, { name = name, help = tostring(help), value = value, labels = labels })
end

------------------------------------------------------------------------------------------
-- Steps and launches
------------------------------------------------------------------------------------------

-- pb:step(name, [inputs,] fn) -> fn's result, or the recorded one when a resumed playbook
-- had done this step already. Steps are keyed by name, occurrence and a hash of inputs.
function PB:step(name, inputs, fn)
  if fn == nil then fn, inputs = inputs, nil end
  if type(name) ~= "string" then error("bad argument #1 to 'step' (string expected)", 2) end
  if type(fn) ~= "function" then error("bad argument #3 to 'step' (function expected)", 2) end
  if self.current then error("pb:step: steps do not nest (in step " .. self.current.name .. ")", 2) end
  self.counts[name] = (self.counts[name] or 0) + 1
  local key = fmt("%s#%d", name, self.counts[name])
  if inputs ~= nil then key = key .. "@" .. journal.hash(journal.canonical(inputs)) end
  local row = { name = name, key = key }
  self.steps[#self.steps + 1] = row
  local rec = self.journal.done[key]
  if rec then
    row.status, row.result, row.duration = "skipped", rec.result, 0
    self:say("%s %s %s", self:paint("90", "="), name, self:paint("90", "(done before)"))
    self:event { event = "step", step = name, status = "skipped" }
    if rec.result == json.null then return nil end
    return rec.result
  end
  self:say("%s %s", self:paint("1", ">"), name)
  self:event { event = "step", step = name, status = "started" }
  self.journal:record { event = "start", step = key, name = name }
  self.current = row
  local t0 = dagster.now()
  local ok, res = xpcall(fn, function(e)
    -- a Lua error (a bug): keep where it happened for the runner's report
    if type(e) == "string" then self.trace = debug.traceback(e, 2) end
    return e
  end, self)
  self.current = nil
  row.duration = dagster.now() - t0
  if not ok then
    -- Ctrl-C or SIGTERM stopped the step: not its failure (--resume redoes it)
    local stopped = E.is(res, "Interrupted")
    row.status, row.error = stopped and "stopped" or "failed", res
    if stopped then row.result = res.message end
    pcall(self.journal.record, self.journal, { event = stopped and "interrupted" or "failed",
      step = key, error = tostring(res), duration = row.duration })
    self:event { event = "step", step = name, status = row.status, error = tostring(res),
                 duration = row.duration }
    error(res, 0)
  end
  row.status, row.result = "ok", res
  self.journal:record { event = "done", step = key, result = storable(res == nil and json.null or res),
                        duration = row.duration }
  self:event { event = "step", step = name, status = "done", duration = row.duration,
               result = storable(res) }
  journal.crash_point("after-step")
  return res
end

-- pb:try(fn, ...) -> true, fn's results | false, err: pcall, for an operation whose failure
-- the playbook reports and goes on from (one schedule of many that would not stop). What
-- must end the playbook is raised again: Ctrl-C (Interrupted, so the playbook stops with
-- 130 and --resume redoes the step it was in, instead of recording "failed: Interrupted"
-- as that step's result) and a playbook's exit (pb:exit, a usage error).
local function rethrow(ok, ...)
  if not ok then
    local e = ...
    if exit.is_stop(e) or E.is(e, "Interrupted") then error(e, 0) end
  end
  return ok, ...
end

function PB:try(fn, ...)
  return rethrow(pcall(fn, ...))
end

-- pb:launch's options, recorded for the API table (spec/api_spec.lua holds them)
local LAUNCH_OPTS = check.options("pb:launch", { "key", "kind", "check", "action" })

-- how long after its intent a launch may still be under way at the server (a request whose
-- process was killed): a resume looks for it that long before making it again, as the
-- client does after a launch request that timed out
local SETTLE_AFTER = require("dagster.client").SETTLE

-- pb:launch(what, fn [, {key =, kind =, action =, check =}]) -> id: a launch inside a step,
-- made once.
-- fn(submission_id) makes it, passing submission_id to the client's launch method, and
-- returns the run's or backfill's id. An intent record (with that submission id) comes
-- before it and the id after it; a resumed playbook settles an intent without a result
-- with client:find_submission, so the launch is found, or made now with that same id.
-- `what` says what it is, for the dry run and the log; key names the launch within its step
-- instead of its rank (launches made by concurrent tasks start in no fixed order); kind is
-- "run" (the default) or "backfill"; action ("launch", the default, or "reexecute") is how
-- the history counts it; check(), in a dry run, checks what it can with the server instead
-- of launching.
function PB:launch(what, fn, o)
  o = o or {}
  for k in pairs(o) do
    if not LAUNCH_OPTS[k] then error(("bad argument #3 to 'launch' (unknown option '%s')"):format(tostring(k)), 2) end
  end
  local step = self.current
  if step == nil then error("pb:launch: a launch must be made inside a step", 2) end
  local ckey = o.key and (step.key .. "/" .. o.key) or step.key
  self.launch_counts[ckey] = (self.launch_counts[ckey] or 0) + 1
  local lkey = o.key and fmt("%s#%d", ckey, self.launch_counts[ckey])
    or fmt("%s/launch#%d", step.key, self.launch_counts[step.key])
  local kind = o.kind or "run"
  if self.dry_run then
    if o.check then o.check() end
    self:_would(what, kind == "backfill" and "backfill" or o.action or "launch")
    return nil
  end
  local j = self.journal
  local id = j.launched[lkey]
  if id then return id end
  local intent = j.intents[lkey]
  local sid = intent and intent.sid
  if sid then                                   -- an intent without a result: settle it
    -- Not there yet is not "never sent": a process killed during its request leaves the
    -- server to finish it, and a resume can ask before the run or backfill exists. It is
    -- looked for until the intent is SETTLE_AFTER seconds old, then made.
    local t = tonumber(intent.time)
    local left = math.max(t and t + SETTLE_AFTER - os.time() or 0, 0)
    if left > 0 then
      self:say("  %s", self:paint("90", ("looking for what the interrupted run may have " ..
        "launched (%s), for up to %d s"):format(what, left)))
    end
    local found = self.client:find_submission(sid, { kind = kind, wait = left })
    id = found and found.id
    if id then
      self:say("  %s", self:paint("90", "found what was launched before the interruption: " .. id))
    end
  else
    sid = dagster.submission_id()
    journal.crash_point("before-intent")
    j:record { event = "intent", launch = lkey, sid = sid, what = what, kind = kind,
               action = o.action or "launch" }
  end
  if id == nil then
    id = fn(sid)
    journal.crash_point("after-request")
  end
  j:record { event = "launched", launch = lkey, run_id = id, kind = kind,
             action = o.action or "launch" }
  journal.crash_point("after-result")
  j.launched[lkey] = id
  self:say("  %s: %s %s", what, kind, id)
  self:event { event = "launched", step = step.name, run_id = id, kind = kind, action = what }
  return id
end

-- opts with its submission_id set to the journal's (one given is refused: the journal's
-- is what makes the launch once)
local function copy_with(opts, k, v, fname)
  local o = {}
  for key, x in pairs(opts or {}) do o[key] = x end
  if o[k] ~= nil then
    error(("bad argument #2 to '%s' (%s: the journal gives each launch its own)"):format(fname, k), 3)
  end
  o[k] = v
  return o
end

local function describe_config(cfg)
  if cfg == nil or (type(cfg) == "table" and next(cfg) == nil) then return "no config" end
  if type(cfg) == "string" then return "config " .. cfg end
  return "config " .. json.encode(cfg)
end

local function describe_tags(tags)
  local keys = {}
  for k in pairs(tags or {}) do keys[#keys + 1] = k end
  if #keys == 0 then return "no tags" end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. "=" .. tostring(tags[k]) end
  return "tags " .. concat(keys, ", ")
end

-- pb:submit(job, opts) -> run id: client:submit_job_execution, made once (see pb:launch); in
-- a dry run the config is checked by the server and the launch printed, and nil returned
function PB:submit(job, opts)
  opts = opts or {}
  local what = fmt("launch job %s%s with %s and %s", job,
    opts.partition ~= nil and (" partition " .. tostring(opts.partition)) or "",
    describe_config(opts.run_config), describe_tags(opts.tags))
  return self:launch(what, function(sid)
    return self.client:submit_job_execution(job, copy_with(opts, "submission_id", sid, "submit"))
  end, { check = function()
    self.client:validate_run_config(job, { run_config = opts.run_config,
      repository_location_name = opts.repository_location_name,
      repository_name = opts.repository_name, op_selection = opts.op_selection })
  end })
end

-- pb:reexecute(run_id [, opts]) -> new run id: client:reexecute, made once. Keyed by run_id
-- within its step, so that tasks of dagster.spawn may re-execute several runs at once in
-- any order and a resumed playbook still matches each launch to its parent.
function PB:reexecute(run_id, opts)
  opts = opts or {}
  local what = fmt("re-execute run %s (%s)", run_id, opts.strategy or "ALL_STEPS")
  return self:launch(what, function(sid)
    return self.client:reexecute(run_id, copy_with(opts, "submission_id", sid, "reexecute"))
  end, { key = "reexecute " .. run_id, action = "reexecute" })
end

-- pb:backfill(spec) -> backfill id: client:backfill, made once (see pb:launch)
function PB:backfill(spec)
  local assets = {}
  for i, k in ipairs(type(spec.assets) == "table" and spec.assets or { spec.assets }) do
    assets[i] = type(k) == "table" and concat(k, "/") or tostring(k)
  end
  local p = spec.partitions
  local over = spec.all_partitions and "all partitions"
    or type(p) == "table" and (p.from ~= nil or p.to ~= nil)
      and fmt("partitions %s..%s", tostring(p.from), tostring(p.to))
    or fmt("%d partitions", type(p) == "table" and #p or 0)
  local what = fmt("backfill %s over %s", spec.job and ("job " .. spec.job)
    or ("assets " .. concat(assets, ", ")), over)
  return self:launch(what, function(sid)
    return self.client:backfill(copy_with(spec, "submission_id", sid, "backfill"))
  end, { kind = "backfill" })
end

-- Dagster's permission for each kind of mutation a playbook makes
local PERMISSION = { launch = "launch_pipeline_execution", reexecute = "launch_pipeline_reexecution",
  backfill = "launch_partition_backfill", terminate = "terminate_pipeline_execution",
  reload = "reload_repository_location" }

-- In a dry run: says what would be done (a line, and a dry_run event) and returns true. When
-- the server says the token lacks the permission it needs (client:permissions, asked once),
-- says that too; the dry run then ends with status 5 (pb.denied lists them).
function PB:_would(what, action)
  if not self.dry_run then return false end
  local needed = PERMISSION[action or ""]
  local denied
  if needed then
    if self._permissions == nil then
      self._permissions = "asking"                 -- the other tasks wait for this one
      local ok, p = pcall(self.client.permissions, self.client)
      self._permissions = ok and p or false        -- a server that cannot say: nothing to say
    end
    while self._permissions == "asking" do dagster.sleep(0.01) end
    local p = self._permissions and self._permissions[needed]
    if p and not p.allowed then denied = needed .. (p.reason and (": " .. p.reason) or "") end
  end
  if denied then
    self.denied = self.denied or {}
    self.denied[#self.denied + 1] = needed
    self:say("  would %s, but the token may not (%s)", what, denied)
  else
    self:say("  would %s", what)
  end
  self:event { event = "dry_run", action = what, denied = denied }
  return true
end

-- pb:terminate(run_id [, opts]), pb:stop_runs(run_ids [, opts]), pb:reload(location),
-- pb:shutdown(location): the mutations that a dry run prints instead of making
function PB:terminate(run_id, opts)
  local what = fmt("terminate run %s%s", run_id, opts and opts.force and " (force)" or "")
  if self:_would(what, "terminate") then return nil end
  local res = self.client:terminate_run(run_id, opts)
  self.journal:record { event = "terminated", run_id = run_id, force = opts and opts.force or nil }
  return res
end

-- pb:stop_runs(run_ids [, {grace = 10}]) -> client:stop_runs's report {terminated, forced,
-- left}, each run terminated or forced journaled as pb:terminate's are; nil in a dry run
function PB:stop_runs(run_ids, opts)
  local ids = check.string_list(run_ids, 1, "stop_runs", "run_ids")
  local what = fmt("stop run%s %s (terminate, force after the grace)", #ids == 1 and "" or "s",
    concat(ids, ", "))
  if self:_would(what, "terminate") then return nil end
  local r = self.client:stop_runs(ids, opts)
  for _, id in ipairs(r.terminated) do self.journal:record { event = "terminated", run_id = id } end
  for _, id in ipairs(r.forced) do
    self.journal:record { event = "terminated", run_id = id, force = true }
  end
  return r
end

function PB:reload(location)
  if self:_would("reload location " .. location, "reload") then return nil end
  return self.client:reload_repository_location(location)
end

function PB:shutdown(location)
  if self:_would("shut down location " .. location, "reload") then return nil end
  return self.client:shutdown_repository_location(location)
end

------------------------------------------------------------------------------------------
-- Ending
------------------------------------------------------------------------------------------

-- pb:tags(words) -> {k = v}: the K=V words of a repeatable --tag flag; a word without "="
-- is a usage error
function PB:tags(words)
  local tags = {}
  for _, kv in ipairs(words or {}) do
    local k, v = kv:match("^([^=]+)=(.*)$")
    if not k then usage(self.name, "--tag " .. cli.shown(kv) .. ": K=V expected") end
    tags[k] = v
  end
  return tags
end

-- pb:usage(message): ends the playbook with a usage error (status 4), on stderr like a bad flag
function PB:usage(message) usage(self.name, message) end

-- pb:exit(code [, message]): ends the playbook (the summary and the journal's end record
-- are written by the runner); the message goes to the output (and the summary event)
function PB:exit(code, message) exit.stop(code or 0, message) end

return M
