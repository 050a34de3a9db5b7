-- dagster.playbook: what playbooks are written with (scripts/playbooks/*.lua), and the runner
-- behind `dagster-lua play`.
--
--   local playbook = require "dagster.playbook"
--   return playbook.define({
--     name = "nightly", summary = "Launch the nightly job and wait for it",
--     args = { { name = "date", doc = "the partition date" } },
--     flags = { { name = "timeout", type = "duration", default = "1h", watch = true,
--                 doc = "how long to wait" } },
--   }, function(pb)
--     local id = pb:step("launch", function() return pb:submit("nightly_job") end)
--     ...
--     pb:exit(0)
--   end)
--
-- A playbook file returns a definition: its declaration (checked at once: an unknown field
-- or flag type is an error) and its body. The runner (playbook.run, `dagster-lua play`)
-- parses the command line, answers --help, builds the client and opens the journal, then
-- hands the body its `pb` (dagster.playbook.object); `play --list` reads the declarations
-- without running any body. Every step, and every launch inside a step, goes to an
-- append-only JSONL journal (dagster.playbook.journal), so a playbook killed at any instant
-- and resumed never launches a run twice and never loses one. --dry-run runs the read-only
-- parts and prints each mutation instead of making it. Exit codes are the same for every
-- playbook (playbook.EXIT, dagster.playbook.exit).

local dagster = require "dagster"
local json = require "dagster.json"
local E = require "dagster.error"
local term = require "dagster.term"
local exit = require "dagster.playbook.exit"
local cli = require "dagster.playbook.cli"
local config = require "dagster.playbook.config"
local object = require "dagster.playbook.object"
local journal = require "dagster.playbook.journal"
local report = require "dagster.playbook.report"

local fmt, concat = string.format, table.concat
local is_stop = exit.is_stop

local P = {}

-- the exit codes of every playbook: playbook.EXIT.PARTIAL == 6 (the table: playbook.EXIT_CODES)
P.EXIT = exit.CODES
P.EXIT_CODES = exit.TABLE

-- config files, durations
P.read_yaml = config.read_yaml        -- playbook.read_yaml(path [, name]) -> table
P.glob = config.glob                  -- playbook.glob(pattern [, name]) -> paths
P.deep_merge = config.deep_merge      -- playbook.deep_merge(a, b) -> merged

-- playbook.duration(s) -> seconds: "90", "30s", "15m", "2h", "1d", "1h30m"; raises an error
-- naming s when it is not a duration
function P.duration(s)
  local d, why = cli.duration(s)
  if d == nil then error("playbook.duration: " .. why, 2) end
  return d
end

-- playbook.seconds(d) -> "4.2s", "3m05s", "1h30m" or "2d03h": a duration as text
P.seconds = term.seconds

-- playbook.headline(v) -> the first line of tostring(v) (an error, a load error), what a
-- table cell or a one-line report shows; a first line ending in ":" takes the next one too
P.headline = term.headline

-- the exit code of a run's final status
function P.code_of_status(status)
  if status == "SUCCESS" then return P.EXIT.OK end
  if status == "CANCELED" then return P.EXIT.CANCELED end
  return P.EXIT.FAILURE
end

------------------------------------------------------------------------------------------
-- Definitions
------------------------------------------------------------------------------------------

local Definition = { __name = "dagster.PlaybookDefinition" }
Definition.__index = Definition

-- playbook.define(decl, body) -> a definition: what a playbook file returns. decl is checked
-- now; body(pb) runs when the playbook does (playbook.run).
function P.define(decl, body)
  cli.validate(decl)
  if type(body) ~= "function" then
    error(("bad argument #2 to 'define' (function expected, got %s)"):format(type(body)), 2)
  end
  return setmetatable({ decl = decl, body = body }, Definition)
end

function P.is_definition(v) return getmetatable(v) == Definition end

-- before playbook.define, a playbook called playbook.new at its top level: say what changed
function P.new()
  error("playbook.new is gone: a playbook file returns playbook.define(decl, function(pb) " ..
    "... end) (see the README, Playbooks: writing one)", 2)
end

-- playbook.help(def) -> the --help text of a definition
function P.help(def) return cli.help(def.decl) end

------------------------------------------------------------------------------------------
-- Errors and the summary
------------------------------------------------------------------------------------------

local UNREACHABLE = { ConnectionError = true, DNSError = true, TLSError = true, URLError = true,
  UnauthorizedError = true, RateLimitError = true, MaintenanceError = true }
local CONFIG = { RunConfigValidationInvalid = true, JobNotFoundError = true,
  AmbiguousJobError = true, PipelineNotFoundError = true, InvalidSubsetError = true,
  RepositoryLocationNotFound = true, AssetNotFoundError = true, InvalidStepError = true,
  InvalidOutputError = true, PartitionKeysNotFoundError = true, PartitionRangeError = true,
  PartitionSetNotFoundError = true, YAMLError = true }

-- the exit code an error stands for
function P.code_of_error(e)
  if is_stop(e) then return e.code end
  if E.is(e) then
    if e.name == "TimeoutError" then
      if e.run_id or e.pending or e.location or e.backfill_id then return P.EXIT.TIMEOUT end
      return P.EXIT.UNREACHABLE
    end
    if e.name == "Interrupted" then
      return e.signal == "SIGTERM" and P.EXIT.TERMINATED or P.EXIT.INTERRUPTED
    end
    if e.not_graphql then return P.EXIT.USAGE end  -- a URL that is not a Dagster endpoint
    if UNREACHABLE[e.name] then return P.EXIT.UNREACHABLE end
    if e.name == "HTTPError" and (e.status == 401 or e.status == 403) then
      return P.EXIT.UNREACHABLE
    end
    if CONFIG[e.name] then return P.EXIT.USAGE end
    return P.EXIT.FAILURE
  end
  return P.EXIT.FAILURE
end

-- the operations a token may lack the permission for, as a user says them
local ACTIONS = { DagsterLuaLaunchRun = "launch runs", DagsterLuaReexecute = "re-execute runs",
  DagsterLuaTerminateRun = "terminate runs", DagsterLuaTerminateRuns = "terminate runs",
  DagsterLuaReloadLocation = "reload code locations",
  DagsterLuaShutdownLocation = "shut down code locations",
  DagsterLuaLaunchBackfill = "launch backfills", DagsterLuaReexecuteBackfill = "re-execute backfills",
  DagsterLuaCancelBackfill = "cancel backfills", DagsterLuaResumeBackfill = "resume backfills",
  DagsterLuaStartSchedule = "start schedules", DagsterLuaStopSchedule = "stop schedules",
  DagsterLuaStartSensor = "start sensors", DagsterLuaStopSensor = "stop sensors" }

-- an error as a playbook's user reads it: the config errors of an invalid run config with
-- their paths, a URL that is not Dagster's named, the flags (not the module's options) that
-- pick a job among several
local function error_text(e, decl)
  if not E.is(e) then return tostring(e) end
  if e.name == "RunConfigValidationInvalid" and type(e.body) == "table" then
    local lines = { "invalid run config:" }
    for _, x in ipairs(e.body) do
      local path = type(x.config_path) == "table" and concat(x.config_path, ".") or "?"
      lines[#lines + 1] = fmt("  %s: %s", path ~= "" and path or "(root)", tostring(x.message))
    end
    return concat(lines, "\n")
  end
  if e.not_graphql then
    return fmt("%s is not a Dagster GraphQL endpoint (%s); check --url or DAGSTER_URL",
      tostring(e.url), e.status and ("HTTP " .. e.status) or "not a GraphQL answer")
  end
  if e.name == "UnauthorizedError" then
    local what = ACTIONS[e.operation] or ("make " .. tostring(e.operation))
    return fmt("UnauthorizedError: the token may not %s here (%s): %s", what,
      tostring(e.operation), tostring(e.message))
  end
  if e.name == "AmbiguousJobError" and type(e.candidates) == "table" then
    local flags = {}
    for _, f in ipairs(decl and decl.flags or {}) do flags[f.name] = true end
    local how = flags.location and "pass --location (and --repository if that is not enough)"
      or "this playbook cannot choose one"
    return fmt("AmbiguousJobError: job %s is defined in several code locations (%s): %s",
      tostring(e.job_name), concat(e.candidates, ", "), how)
  end
  return tostring(e)
end

-- the first line of a value, at most n characters
local function line_of(v, n)
  if type(v) == "table" and not E.is(v) and not is_stop(v) then v = json.encode(v) end
  local s = v ~= nil and term.headline(v) or ""
  if #s > n then s = s:sub(1, n - 3) .. "..." end
  return s
end

local function summary(pb, code)
  if #pb.steps == 0 then return end
  local out = pb:_out()
  local rows = {}
  for i, s in ipairs(pb.steps) do
    local status = s.status or "stopped"
    local colour = ({ ok = "32", failed = "31", skipped = "90" })[status] or "33"
    local result = s.status == "failed" and error_text(s.error, pb.decl) or s.result
    rows[i] = { s.name, pb:paint(colour, status), term.seconds(s.duration or 0), line_of(result, 60) }
  end
  out:write("\n", term.table({ "STEP", "RESULT", "TIME", "" }, rows,
    { paint = function(s) return pb:paint("1", s) end, align = { nil, nil, "right" } }), "\n")
  out:write(fmt("exit %d after %s\n", code, term.seconds(dagster.now() - pb.t0)))
  out:flush()
end

------------------------------------------------------------------------------------------
-- The runner
------------------------------------------------------------------------------------------

-- playbook.run(def, argv) -> exit code: runs a definition with a command line (what
-- `dagster-lua play` does; a script can do it too)
function P.run(def, argv)
  assert(P.is_definition(def), "playbook.run: a playbook definition expected")
  local pb, trace
  local ok, res = xpcall(function()
    pb = object.new(def.decl, argv)
    if pb == nil then return 0 end              -- --help
    return def.body(pb)
  end, function(e)
    if not is_stop(e) and not E.is(e) then trace = debug.traceback(tostring(e), 2) end
    return e
  end)
  local code, message
  if ok or (is_stop(res) and res.code == 0) then
    code = ok and math.type(res) == "integer" and res or 0
    if code == 0 and pb and pb.denied then    -- a dry run the token could not make for real
      code = P.EXIT.UNREACHABLE
      message = fmt("play %s: the token may not do all this dry run would do (%s)", pb.name,
        concat(pb.denied, ", "))
      io.stderr:write(message, "\n")
    elseif not ok and res.message then
      message = res.message
      (pb and pb:_out() or io.stdout):write(message, "\n")
    end
  else
    code = P.code_of_error(res)
    if is_stop(res) then
      message = res.message
      if message then (res.usage and io.stderr or (pb and pb:_out() or io.stderr)):write(message, "\n") end
    elseif code == P.EXIT.INTERRUPTED or code == P.EXIT.TERMINATED then
      io.stderr:write("dagster-lua play: ", code == P.EXIT.TERMINATED and "terminated (SIGTERM)"
        or "interrupted", pb and not pb.journal.off and
        ("; --resume goes on (journal " .. pb.journal.path .. ")") or "", "\n")
    else
      message = error_text(res, def.decl)
      trace = pb and pb.trace or trace   -- where a step's error happened, when it was one
      io.stderr:write("dagster-lua play: ", trace or message, "\n")
    end
  end
  if pb then
    summary(pb, code)
    pb:event { event = "summary", code = code, steps = #pb.steps, message = message }
    -- the journal's last record: "end", or at Ctrl-C or SIGTERM "stopped", which leaves the
    -- run unfinished (--resume goes on) and tells the history how this attempt ended
    local stopped = code == P.EXIT.INTERRUPTED or code == P.EXIT.TERMINATED
    pcall(pb.journal.record, pb.journal, { event = stopped and "stopped" or "end",
      code = code, time = os.time(), duration = dagster.now() - pb.t0 })
    -- for the runs nobody watches: a notification and metrics (neither changes the status;
    -- a dry run, which writes nothing, writes no metrics either)
    local ok, s = true, nil
    if not pb.journal.off then ok, s = pcall(journal.summary, pb.journal.path) end
    local doc = report.document(pb, code, message, ok and s or nil)
    local sent, err = pcall(report.notify, pb, doc)
    if not sent then io.stderr:write(fmt("play %s: warning: notification: %s\n", pb.name, tostring(err))) end
    if pb.flags.metrics and not pb.dry_run then pcall(report.metrics, pb, doc, pb.flags.metrics) end
  end
  return code
end

-- the shipped playbooks: name -> loader (from package.preload)
local function shipped()
  local out = {}
  for k, v in pairs(package.preload) do
    local name = k:match("^dagster%.playbooks%.(.+)$")
    if name then out[name] = v end
  end
  return out
end

-- Loads a playbook: a shipped one by name, or a file. Returns its definition, or nil and
-- a message.
local function load_playbook(target)
  local chunk, err
  if target:find("/") or target:find("%.lua$") then
    chunk, err = loadfile(target)
  else
    local by = shipped()
    local loader = by[target]
    if loader then
      chunk = function() return loader("dagster.playbooks." .. target) end
    else
      local names = {}
      for name in pairs(by) do names[#names + 1] = name end
      local near = term.near(target, names)
      err = fmt("no playbook named %s (%s)", target, #near > 0 and
        "did you mean " .. table.concat(near, ", ") .. "?" or "dagster-lua play --list names them")
    end
  end
  if not chunk then return nil, err end
  local ok, def = pcall(chunk)
  if not ok then return nil, tostring(def) end
  if not P.is_definition(def) then
    return nil, fmt("%s does not return a playbook (a playbook file ends with " ..
      "`return playbook.define(decl, function(pb) ... end)`)", target)
  end
  return def
end

-- play --list: each shipped playbook's name and summary, read from its declaration
local function list()
  local names, by = {}, shipped()
  for name in pairs(by) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local def = load_playbook(name)
    io.stdout:write("  ", term.pad(name, 12), " ", def and def.decl.summary or "?", "\n")
  end
  return 0
end

local PLAY_USAGE = [[
usage: dagster-lua play NAME [args...]        a shipped playbook (play --list names them)
       dagster-lua play FILE.lua [args...]    a playbook from a file
       dagster-lua play --list
       dagster-lua play NAME --help           its arguments, flags and exit codes
       dagster-lua play history [PLAYBOOK]    the past runs, from the journals (--json, --limit)
       dagster-lua play show [JOURNAL|PLAYBOOK]  one run in full, the last by default]]

-- playbook.play(argv) -> exit code: what `dagster-lua play ...` runs
function P.play(argv)
  local target = argv[1]
  if target == nil or target == "--help" or target == "-h" then
    io.stdout:write(PLAY_USAGE, "\n")
    return target and 0 or P.EXIT.USAGE
  end
  if target == "--list" then return list() end
  if target == "history" or target == "show" then
    return require("dagster.playbook.history")[target](table.move(argv, 2, #argv, 1, {}))
  end
  local def, err = load_playbook(target)
  if not def then
    io.stderr:write("dagster-lua play: ", err, "\n")
    return P.EXIT.USAGE
  end
  return P.run(def, table.move(argv, 2, #argv, 1, {}))
end

return P
