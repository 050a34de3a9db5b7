-- dagster.playbook: what playbooks are written with (scripts/playbooks/*.lua), and the runner
-- behind `dagster-lua play`. Scripts can use it too.
--
--   local playbook = require "dagster.playbook"
--   local pb = playbook.new {
--     name = "run", summary = "Launch a job and follow it",
--     args = { { name = "job", doc = "the job to launch" } },
--     flags = { { name = "wait", type = "boolean", doc = "wait for the run to finish" },
--               { name = "config", short = "c", type = "list", metavar = "FILE", doc = "..." } },
--   }
--   local run_id = pb:step("launch", function() return pb:submit(pb.args.job) end)
--   pb:exit(0)
--
-- playbook.new parses the command line (pb.args, pb.flags), answers --help, builds pb.client
-- from DAGSTER_URL and DAGSTER_CLOUD_API_TOKEN (or --url and --token-env NAME), and opens the
-- journal. Every step, and every launch inside a step, goes to an append-only JSONL journal:
-- an intent record before it and a result record after it, each fsynced. With --resume the
-- steps already done are skipped (they return their recorded results), and a launch whose
-- intent is recorded without its result is settled through its dagster-lua/submission_id tag:
-- the run is found and taken, or launched now with that same id; so a playbook killed at any
-- instant and resumed never launches a run twice and never loses one. --dry-run runs the
-- read-only parts and prints each mutation instead of making it (a launch's config is still
-- checked by the server). Exit codes are the same for every playbook (EXIT below).

local dagster = require "dagster"
local json = require "dagster.json"
local file = require "dagster.file"
local E = require "dagster.error"
local term = require "dagster.term"

local fmt, concat = string.format, table.concat

local P = {}

-- the exit codes of every playbook
P.EXIT = { OK = 0, FAILURE = 1, CANCELED = 2, TIMEOUT = 3, USAGE = 4, UNREACHABLE = 5,
  PARTIAL = 6, INTERRUPTED = 130 }

local EXIT_DOC = {
  { 0, "success" },
  { 1, "a run ended FAILURE (or the playbook failed otherwise)" },
  { 2, "a run ended CANCELED" },
  { 3, "a wait timed out" },
  { 4, "usage or configuration error: bad flags, a bad YAML file, an invalid run config" },
  { 5, "the server cannot be reached, or refused the credentials" },
  { 6, "partial: some of the work failed" },
  { 130, "interrupted (Ctrl-C); the journal stays consistent: --resume goes on" },
}
P.EXIT_DOC = EXIT_DOC

-- Control flow: a playbook ends with pb:exit(code), a usage error, or describes itself for
-- --list; each is raised as one of these and caught by the runner.
local Stop = { __name = "dagster.playbook.Stop" }
Stop.__index = Stop
function Stop.__tostring(s) return s.message or ("exit " .. s.code) end
local function stop(code, message, extra)
  local s = setmetatable({ code = code, message = message }, Stop)
  for k, v in pairs(extra or {}) do s[k] = v end
  error(s, 0)
end
local function is_stop(v) return getmetatable(v) == Stop end

local function usage_error(pb_name, message)
  stop(P.EXIT.USAGE, fmt("play %s: %s (see --help)", pb_name or "?", message), { usage = true })
end

------------------------------------------------------------------------------------------
-- Small helpers
------------------------------------------------------------------------------------------

-- FNV-1a (32 bits) of a string, as 8 hex digits: names journals and keys step inputs
local function hash(s)
  local h = 2166136261
  for i = 1, #s do h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff end
  return fmt("%08x", h)
end
P._hash = hash

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- a duration as the summary prints it: minutes even past an hour ("90m00s")
local function seconds(d) return term.seconds(d, true) end

-- a value as the journal can keep it (JSON), or its string form
local function storable(v)
  local ok = pcall(json.encode, { v = v })
  if ok then return v end
  return tostring(v)
end

------------------------------------------------------------------------------------------
-- YAML and run config files
------------------------------------------------------------------------------------------

-- lyaml's nulls (its own sentinel, or a bare ~) become dagster.null
local function from_yaml(v, lyaml)
  if v == lyaml.null then return json.null end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = from_yaml(x, lyaml) end
  if #v > 0 then json.array(out) end
  return out
end

-- playbook.read_yaml(path) -> the document as a table; a syntax error raises a usage error
-- naming the file, line and column
function P.read_yaml(path, pb_name)
  local ok, lyaml = pcall(require, "lyaml")
  if not ok then
    usage_error(pb_name, "reading YAML needs Debian's lua-yaml (lyaml): " .. tostring(lyaml))
  end
  local f, err = io.open(path, "rb")
  if not f then usage_error(pb_name, err) end
  local text = f:read("a")
  f:close()
  local okl, doc = pcall(lyaml.load, text)
  if not okl then
    local line, col, msg = tostring(doc):match("(%d+):(%d+): (.*)$")
    if line then
      -- lyaml counts from 1 for lines and 1 for columns
      usage_error(pb_name, fmt("%s:%s:%s: %s", path, line, col, msg))
    end
    usage_error(pb_name, fmt("%s: %s", path, tostring(doc)))
  end
  return from_yaml(doc, lyaml)
end

-- the paths a pattern names: itself when it has no wildcard, else the matching files of its
-- folder, sorted (Dagster takes glob.glob's order, which is the file system's)
function P.glob(pattern, pb_name)
  if not pattern:find("[*?%[]") then return { pattern } end
  local dir, base = pattern:match("^(.*)/([^/]*)$")
  if not dir then dir, base = ".", pattern end
  if dir:find("[*?%[]") then usage_error(pb_name, "a wildcard only in the file name: " .. pattern) end
  local lp = "^" .. base:gsub("[%^%$%(%)%%%.%+%-]", "%%%0"):gsub("%*", "[^/]*"):gsub("%?", "[^/]")
    .. "$"
  local out = {}
  local p = io.popen("ls -1A -- " .. shell_quote(dir) .. " 2>/dev/null")
  for name in p:lines() do
    if name:match(lp) then out[#out + 1] = (dir == "." and not pattern:find("^%./")) and name
      or dir .. "/" .. name end
  end
  p:close()
  table.sort(out)
  if #out == 0 then usage_error(pb_name, "no file matches " .. pattern) end
  return out
end

-- Dagster's deep_merge_dicts: objects merge key by key, recursively; anything else (lists
-- included) is replaced by the later value
function P.deep_merge(onto, from)
  local out = {}
  for k, v in pairs(onto) do out[k] = v end
  for k, v in pairs(from) do
    local a = out[k]
    if type(a) == "table" and type(v) == "table" and not json.is_array(a)
        and not json.is_array(v) then
      out[k] = P.deep_merge(a, v)
    else
      out[k] = v
    end
  end
  return out
end

------------------------------------------------------------------------------------------
-- Command line
------------------------------------------------------------------------------------------

-- the flags every playbook has
local COMMON = {
  { name = "url", type = "string", metavar = "URL", doc = "the Dagster webserver (default $DAGSTER_URL)" },
  { name = "token-env", type = "string", metavar = "NAME",
    doc = "the variable that holds the API token (default DAGSTER_CLOUD_API_TOKEN)" },
  { name = "journal", type = "string", metavar = "FILE",
    doc = "the journal (default under $XDG_STATE_HOME/dagster-lua/)" },
  { name = "resume", type = "boolean", doc = "go on from the journal: done steps are skipped" },
  { name = "fresh", type = "boolean", doc = "start over, dropping an unfinished journal" },
  { name = "dry-run", type = "boolean", doc = "read, check and print; change nothing" },
  { name = "json", type = "boolean", doc = "one JSON object per event on stdout; text on stderr" },
  { name = "help", short = "h", type = "boolean", doc = "this help" },
}

local function all_flags(decl)
  local list = {}
  for _, f in ipairs(decl.flags or {}) do list[#list + 1] = f end
  for _, f in ipairs(COMMON) do list[#list + 1] = f end
  return list
end

local function flag_label(f)
  local s = (f.short and ("-" .. f.short .. ", ") or "    ") .. "--" .. f.name
  if f.type ~= "boolean" then s = s .. " " .. (f.metavar or f.type:upper()) end
  return s
end

-- the generated --help
function P.help_text(decl)
  local usage = { "usage: dagster-lua play " .. decl.name }
  for _, a in ipairs(decl.args or {}) do
    local n = a.name:upper() .. (a.multiple and "..." or "")
    usage[#usage + 1] = a.optional and "[" .. n .. "]" or n
  end
  usage[#usage + 1] = "[flags]"
  local out = { concat(usage, " "), "", decl.summary or "" }
  if decl.description then out[#out + 1] = ""; out[#out + 1] = decl.description end
  if decl.args and #decl.args > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "Arguments:"
    for _, a in ipairs(decl.args) do out[#out + 1] = fmt("  %-26s %s", a.name:upper(), a.doc or "") end
  end
  local flags = all_flags(decl)
  out[#out + 1] = ""
  out[#out + 1] = "Flags:"
  for _, f in ipairs(flags) do
    local doc = f.doc or ""
    if f.default ~= nil then doc = doc .. fmt(" (default %s)", tostring(f.default)) end
    if f.type == "list" then doc = doc .. " (repeatable)" end
    out[#out + 1] = fmt("  %-26s %s", flag_label(f), doc)
  end
  out[#out + 1] = ""
  out[#out + 1] = "Exit status:"
  for _, e in ipairs(EXIT_DOC) do out[#out + 1] = fmt("  %-4d %s", e[1], e[2]) end
  return concat(out, "\n")
end

-- parses argv against decl; returns args (by name), flags (by name, dashes kept)
local function parse(decl, argv)
  local flags, byname, byshort = {}, {}, {}
  for _, f in ipairs(all_flags(decl)) do
    byname[f.name] = f
    if f.short then byshort[f.short] = f end
    if f.type == "list" then flags[f.name] = {}
    elseif f.type == "boolean" then flags[f.name] = false
    else flags[f.name] = f.default end
  end
  local positional = {}
  local i = 1
  local function value_of(f, inline, shown)
    local v = inline
    if v == nil then
      i = i + 1
      v = argv[i]
      if v == nil then usage_error(decl.name, shown .. " needs a value") end
    end
    if f.type == "number" then
      local n = tonumber(v)
      if n == nil then usage_error(decl.name, fmt("%s: a number expected, got %q", shown, v)) end
      return n
    end
    return v
  end
  local only_positional = false
  while i <= #argv do
    local a = argv[i]
    if only_positional or a == "-" or a:sub(1, 1) ~= "-" then
      positional[#positional + 1] = a
    elseif a == "--" then
      only_positional = true
    else
      local name, inline = a:match("^%-%-([^=]+)=(.*)$")
      local f
      if name then
        f = byname[name]
      elseif a:sub(1, 2) == "--" then
        name = a:sub(3)
        f = byname[name]
      else                                   -- -c FILE or -cFILE
        name = a:sub(2, 2)
        f = byshort[name]
        if #a > 2 then inline = a:sub(3) end
      end
      if f == nil then usage_error(decl.name, "unknown flag " .. a) end
      if f.type == "boolean" then
        if inline ~= nil then usage_error(decl.name, "--" .. f.name .. " takes no value") end
        flags[f.name] = true
      elseif f.type == "list" then
        local list = flags[f.name]
        list[#list + 1] = value_of(f, inline, a)
      else
        flags[f.name] = value_of(f, inline, a)
      end
    end
    i = i + 1
  end
  if flags.help then return nil, flags end
  local args = {}
  local decl_args = decl.args or {}
  for k, d in ipairs(decl_args) do
    if d.multiple then
      local rest = {}
      for j = k, #positional do rest[#rest + 1] = positional[j] end
      if #rest == 0 and not d.optional then usage_error(decl.name, "missing " .. d.name:upper()) end
      args[d.name] = rest
      positional = {}
      break
    end
    local v = positional[k]
    if v == nil and not d.optional then usage_error(decl.name, "missing " .. d.name:upper()) end
    args[d.name] = v
  end
  if #positional > #decl_args and not (decl_args[#decl_args] or {}).multiple then
    usage_error(decl.name, "unexpected argument " .. positional[#decl_args + 1])
  end
  if flags.resume and flags.fresh then usage_error(decl.name, "--resume and --fresh exclude each other") end
  return args, flags
end

------------------------------------------------------------------------------------------
-- The journal
------------------------------------------------------------------------------------------

local JOURNAL_KIND = "dagster-lua playbook journal"

local function state_dir()
  local x = os.getenv("XDG_STATE_HOME")
  if x and x ~= "" then return x .. "/dagster-lua" end
  local home = os.getenv("HOME") or "."
  return home .. "/.local/state/dagster-lua"
end

-- the default journal of a playbook and its arguments
function P.journal_path(name, argv)
  local keep = {}
  local skip_next = false
  for _, a in ipairs(argv) do   -- flags that do not change what the playbook does are left out
    if skip_next then skip_next = false
    elseif a == "--resume" or a == "--fresh" or a == "--json" then -- nothing
    elseif a == "--journal" or a == "--token-env" then skip_next = true
    elseif not a:find("^%-%-journal=") and not a:find("^%-%-token%-env=") then keep[#keep + 1] = a end
  end
  local tag = (keep[1] and not keep[1]:find("^%-") and keep[1]:gsub("[^%w_.-]", "_"):sub(1, 40)) or nil
  return fmt("%s/%s%s-%s.jsonl", state_dir(), name, tag and ("-" .. tag) or "",
    hash(json.encode(keep)))
end

-- Reads a journal: returns its records and the length of its whole lines, or nil when the
-- file does not exist. A last line that is cut short is left out (the record being written
-- when the process died); any other damage raises a usage error naming the file and line.
local function read_journal(path, name)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  local records, n = {}, 0
  local pos = 1
  while pos <= #text do
    local nl = text:find("\n", pos, true)
    local line = text:sub(pos, (nl or #text + 1) - 1)
    n = n + 1
    local ok, rec = pcall(json.decode, line)
    if not ok or type(rec) ~= "table" or nl == nil then
      if nl == nil then break end                -- the cut last line: the record in doubt
      usage_error(name, fmt("journal %s: line %d is damaged (%s)", path, n,
        ok and "not an object" or tostring(rec)))
    end
    rec._line = n
    records[#records + 1] = rec
    pos = (nl or #text) + 1
  end
  local whole = pos - 1                            -- the bytes of the whole lines
  local head = records[1]
  if head and (head.kind ~= JOURNAL_KIND) then
    usage_error(name, fmt("journal %s: line 1 is not a dagster-lua playbook journal", path))
  end
  if head and head.playbook ~= name then
    usage_error(name, fmt("journal %s: line 1: written by playbook %s, not %s", path,
      tostring(head.playbook), name))
  end
  return records, whole, #text
end

------------------------------------------------------------------------------------------
-- The playbook object
------------------------------------------------------------------------------------------

local PB = {}
PB.__index = PB
PB.__name = "dagster.Playbook"

-- the command line new() parses: set by the runner, else the script's own `arg`
P.argv = nil
P._describe = false

local function human_out(self) return self.json and io.stderr or io.stdout end

function PB:paint(code, s)
  if not self.colour then return s end
  return "\27[" .. code .. "m" .. s .. "\27[0m"
end

-- pb:say(fmt, ...): a line of human text (stdout, or stderr with --json)
function PB:say(...)
  local out = human_out(self)
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

function PB:_record(rec)
  if self.journal_off then return end
  file.append(self.journal, json.encode(rec) .. "\n")
end

-- a test hook: DAGSTER_LUA_PLAYBOOK_KILL_AT=point makes the process SIGKILL itself there,
-- so that the specs can stop a playbook at an exact instant; point:N kills at the Nth time
-- the point is reached (after-request:3: at the third launch)
local KILL_AT = os.getenv("DAGSTER_LUA_PLAYBOOK_KILL_AT")
local KILL_NTH = 1
if KILL_AT then
  local point, nth = KILL_AT:match("^(.-):(%d+)$")
  if point then KILL_AT, KILL_NTH = point, tonumber(nth) end
end
local kill_hits = 0
local function crash_point(point)
  if KILL_AT == point then kill_hits = kill_hits + 1 end
  if KILL_AT == point and kill_hits == KILL_NTH then
    io.stdout:flush(); io.stderr:flush()
    os.execute("kill -9 " .. file.pid())
  end
end

-- playbook.new(decl) -> pb (see the top of this file)
function P.new(decl)
  assert(type(decl) == "table" and type(decl.name) == "string", "playbook.new{name = ...}")
  if P._describe then stop(0, nil, { describe = decl }) end
  local argv = P.argv or {}
  if P.argv == nil then for i = 1, #(rawget(_G, "arg") or {}) do argv[i] = arg[i] end end
  local args, flags = parse(decl, argv)
  if args == nil then                          -- --help
    io.stdout:write(P.help_text(decl), "\n")
    stop(0)
  end
  local self = setmetatable({ name = decl.name, decl = decl, args = args, flags = flags,
    dry_run = flags["dry-run"], json = flags.json, steps = {}, counts = {}, t0 = dagster.now(),
    launch_counts = {} }, PB)
  self.colour = term.colour(self.json and 2 or 1)

  -- the connection
  local url = flags.url or os.getenv("DAGSTER_URL")
  if url == nil or url == "" then usage_error(decl.name, "no server: set DAGSTER_URL or pass --url") end
  local token_var = flags["token-env"] or "DAGSTER_CLOUD_API_TOKEN"
  local token = os.getenv(token_var)
  if flags["token-env"] and (token == nil or token == "") then
    usage_error(decl.name, fmt("--token-env %s: that variable is not set", token_var))
  end
  local headers
  if token and token ~= "" then headers = { ["Dagster-Cloud-Api-Token"] = token } end
  local ok, c = pcall(dagster.client, url, { headers = headers, timeout = decl.request_timeout })
  if not ok then usage_error(decl.name, "--url: " .. tostring(c):gsub("^.-%((.*)%)$", "%1")) end
  self.client = c

  -- the journal
  self.journal = flags.journal or P.journal_path(decl.name, argv)
  self.done, self.failed_before, self.intents, self.launched = {}, {}, {}, {}
  if self.dry_run or decl.journal == false then
    -- a dry run changes nothing, the journal included; a playbook that only reads (watch)
    -- declares journal = false and keeps none
    self.journal_off = true
    return self
  end
  local dir = self.journal:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then file.mkdirs(dir) end
  local records, whole, size = read_journal(self.journal, decl.name)
  if records and whole < size and flags.resume then
    file.truncate(self.journal, whole)           -- drop the cut record before appending
  end
  if records and #records > 0 then
    local finished = records[#records].event == "end"
    if flags.resume then
      for _, r in ipairs(records) do
        if r.event == "done" then self.done[r.step] = r
        elseif r.event == "intent" then self.intents[r.launch] = r.sid
        elseif r.event == "launched" then self.launched[r.launch] = r.run_id end
      end
      self.resumed = true
      self:_record { event = "resume", time = os.time() }
      return self
    elseif not finished and not flags.fresh then
      usage_error(decl.name, fmt("%s holds an unfinished run of this playbook: --resume goes on " ..
        "where it stopped, --fresh starts over", self.journal))
    end
    os.remove(self.journal)
  end
  self:_record { kind = JOURNAL_KIND, version = 1, playbook = decl.name, argv = argv,
                 time = os.time() }
  return self
end

-- pb:step(name, [inputs,] fn) -> fn's result, or the recorded one when a resumed playbook
-- had done this step already. Steps are keyed by name, occurrence and a hash of inputs.
function PB:step(name, inputs, fn)
  if fn == nil then fn, inputs = inputs, nil end
  if self.current then error("pb:step: steps do not nest (in step " .. self.current.name .. ")", 2) end
  self.counts[name] = (self.counts[name] or 0) + 1
  local key = fmt("%s#%d", name, self.counts[name])
  if inputs ~= nil then key = key .. "@" .. hash(json.encode(inputs)) end
  local row = { name = name, key = key }
  self.steps[#self.steps + 1] = row
  local rec = self.done[key]
  if rec then
    row.status, row.result, row.duration = "skipped", rec.result, 0
    self:say("%s %s %s", self:paint("90", "="), name, self:paint("90", "(done before)"))
    self:event { event = "step", step = name, status = "skipped" }
    if rec.result == json.null then return nil end
    return rec.result
  end
  self:say("%s %s", self:paint("1", ">"), name)
  self:event { event = "step", step = name, status = "started" }
  self:_record { event = "start", step = key, name = name }
  self.current = row
  local t0 = dagster.now()
  local ok, res = pcall(fn, self)
  self.current = nil
  row.duration = dagster.now() - t0
  if not ok then
    row.status, row.result = "failed", is_stop(res) and res.message or tostring(res)
    if not self.journal_off then
      pcall(self._record, self, { event = "failed", step = key, error = tostring(res) })
    end
    self:event { event = "step", step = name, status = "failed", error = tostring(res),
                 duration = row.duration }
    error(res, 0)
  end
  row.status, row.result = "ok", res
  self:_record { event = "done", step = key, result = storable(res == nil and json.null or res),
                 duration = row.duration }
  self:event { event = "step", step = name, status = "done", duration = row.duration,
               result = storable(res) }
  return res
end

-- A launch inside a step, made once: intent (with its submission id) before, the run id
-- after; a resumed playbook settles an intent without a result through that id. `go(tags)`
-- makes the launch with the given tags; `what` says what it is, for the dry run and the log.
-- `key`, when given, names the launch within its step instead of its rank (launches made
-- by concurrent tasks start in no fixed order: pb:reexecute keys them by the parent run).
-- `find(sid)`, when given, settles an intent instead of the run lookup (a backfill's).
function PB:_launch(what, go, check, key, find)
  local step = self.current
  if step == nil then error("pb: a launch must be made inside a step", 3) end
  local ckey = key and (step.key .. "/" .. key) or step.key
  self.launch_counts[ckey] = (self.launch_counts[ckey] or 0) + 1
  local lkey = key and fmt("%s#%d", ckey, self.launch_counts[ckey])
    or fmt("%s/launch#%d", step.key, self.launch_counts[step.key])
  if self.dry_run then
    if check then check() end
    self:say("  would %s", what)
    self:event { event = "dry_run", action = what }
    return nil
  end
  local run_id = self.launched[lkey]
  if run_id then return run_id end
  local sid = self.intents[lkey]
  if sid then                                   -- an intent without a result: settle it
    if find then run_id = find(sid) else run_id = self.client:_find_submission(sid) end
    if run_id then
      self:say("  %s", self:paint("90", "found what was launched before the interruption: " .. run_id))
    end
  else
    sid = self.client._submission_id()
    crash_point("before-intent")
    self:_record { event = "intent", launch = lkey, sid = sid, what = what }
  end
  if run_id == nil then
    run_id = go({ [self.client.SUBMISSION_TAG] = sid })
    crash_point("after-request")
  end
  self:_record { event = "launched", launch = lkey, run_id = run_id }
  crash_point("after-result")
  self.launched[lkey] = run_id
  self:say("  %s: %s %s", what, find and "backfill" or "run", run_id)
  self:event { event = "launched", step = step.name, run_id = run_id, action = what }
  return run_id
end

local function with_tags(opts, extra)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local tags = {}
  for k, v in pairs(o.tags or {}) do tags[k] = v end
  for k, v in pairs(extra) do tags[k] = v end
  o.tags = tags
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

-- pb:submit(job, opts) -> run id: client:submit_job_execution, made once (see _launch); in a
-- dry run the config is checked by the server and the launch printed, and nil returned
function PB:submit(job, opts)
  opts = opts or {}
  local what = fmt("launch job %s with %s and %s", job, describe_config(opts.run_config),
    describe_tags(opts.tags))
  return self:_launch(what, function(tags)
    return self.client:submit_job_execution(job, with_tags(opts, tags))
  end, function()
    self.client:validate_run_config(job, { run_config = opts.run_config,
      repository_location_name = opts.repository_location_name,
      repository_name = opts.repository_name, op_selection = opts.op_selection })
  end)
end

-- pb:reexecute(run_id, opts) -> new run id: client:reexecute, made once. Keyed by run_id
-- within its step, so that tasks of dagster.spawn may re-execute several runs at once in
-- any order and a resumed playbook still matches each launch to its parent.
function PB:reexecute(run_id, opts)
  opts = opts or {}
  local what = fmt("re-execute run %s (%s)", run_id, opts.strategy or "ALL_STEPS")
  return self:_launch(what, function(tags)
    return self.client:reexecute(run_id, with_tags(opts, tags))
  end, nil, "reexecute " .. run_id)
end

-- pb:backfill(spec) -> backfill id: client:backfill, made once (see _launch); the dry run
-- checks the partitions with the server and prints the launch
function PB:backfill(spec)
  local what = fmt("backfill %s over %s", spec.job and ("job " .. spec.job)
    or ("assets " .. concat(spec.assets, ", ")), spec.all_partitions and "all partitions"
    or fmt("%d partitions", #spec.partitions))
  return self:_launch(what, function(tags)
    return self.client:backfill(with_tags(spec, tags))
  end, nil, nil, function(sid)
    local found = self.client:_find_backfill(self.client.SUBMISSION_TAG, sid)
    return found and found.backfillId
  end)
end

-- pb:terminate(run_id, opts), pb:reload(location), pb:shutdown(location): the mutations that
-- a dry run prints instead of making
function PB:terminate(run_id, opts)
  local what = fmt("terminate run %s%s", run_id, opts and opts.force and " (force)" or "")
  if self.dry_run then self:say("  would %s", what); return nil end
  return self.client:terminate_run(run_id, opts)
end

function PB:reload(location)
  if self.dry_run then self:say("  would reload location %s", location); return nil end
  return self.client:reload_repository_location(location)
end

function PB:shutdown(location)
  if self.dry_run then self:say("  would shut down location %s", location); return nil end
  return self.client:shutdown_repository_location(location)
end

-- pb:tags(words) -> {k = v}: the K=V words of a repeatable --tag flag; a word without "="
-- ends the playbook with status 4
function PB:tags(words)
  local tags = {}
  for _, kv in ipairs(words or {}) do
    local k, v = kv:match("^([^=]+)=(.*)$")
    if not k then self:exit(P.EXIT.USAGE, "--tag " .. kv .. ": K=V expected") end
    tags[k] = v
  end
  return tags
end

-- pb:usage(message): ends the playbook with a usage error (status 4), on stderr like a bad flag
function PB:usage(message) usage_error(self.name, message) end

-- pb:exit(code [, message]): ends the playbook (the summary and the journal's end record
-- are written by the runner)
function PB:exit(code, message) stop(code or 0, message) end

-- playbook.duration(s) -> seconds, or nil and a message: "90", "30s", "15m", "2h", "1d",
-- "1h30m" (a bare number is seconds)
local UNIT = { s = 1, m = 60, h = 3600, d = 86400 }
function P.duration(s)
  if type(s) == "number" then return s end
  if type(s) ~= "string" or s == "" then return nil, "a duration expected (e.g. 30s, 15m, 2h)" end
  if tonumber(s) then return tonumber(s) end
  local total, rest = 0, s
  while rest ~= "" do
    local n, u, tail = rest:match("^(%d+%.?%d*)([smhd])(.*)$")
    if not n then return nil, fmt("%q is not a duration (e.g. 30s, 15m, 2h, 1h30m)", s) end
    total, rest = total + tonumber(n) * UNIT[u], tail
  end
  return total
end

-- playbook.seconds(d) -> "4.2s" or "3m05s": a duration as the summary prints it
P.seconds = seconds

-- pb:table(headers, rows): a plain aligned table of strings (each row a list, one per
-- header) as human text; with --json, each row is also an event {event = "row", ...}
function PB:table(headers, rows)
  local w = {}
  for i, h in ipairs(headers) do w[i] = #h end
  for _, r in ipairs(rows) do
    for i = 1, #headers do w[i] = math.max(w[i], #tostring(r[i] == nil and "" or r[i])) end
  end
  local function line(r)
    local cells = {}
    for i = 1, #headers do
      local v = tostring(r[i] == nil and "" or r[i])
      cells[i] = i == #headers and v or v .. string.rep(" ", w[i] - #v)
    end
    return concat(cells, "  ")
  end
  self:say("%s", self:paint("1", line(headers)))
  for _, r in ipairs(rows) do
    self:say("%s", line(r))
    local ev = { event = "row" }
    for i, h in ipairs(headers) do ev[h:lower()] = r[i] end
    self:event(ev)
  end
end

-- the exit code of a run's final status
function P.code_of_status(status)
  if status == "SUCCESS" then return P.EXIT.OK end
  if status == "CANCELED" then return P.EXIT.CANCELED end
  return P.EXIT.FAILURE
end

------------------------------------------------------------------------------------------
-- The runner: dagster-lua play
------------------------------------------------------------------------------------------

local UNREACHABLE = { ConnectionError = true, DNSError = true, TLSError = true, URLError = true,
  UnauthorizedError = true }
local CONFIG = { RunConfigValidationInvalid = true, JobNotFoundError = true,
  AmbiguousJobError = true, PipelineNotFoundError = true, InvalidSubsetError = true,
  RepositoryLocationNotFound = true, AssetNotFoundError = true, InvalidStepError = true,
  InvalidOutputError = true, PartitionKeysNotFoundError = true, PartitionRangeError = true,
  PartitionSetNotFoundError = true }

-- the exit code an error stands for
function P.code_of_error(e)
  if is_stop(e) then return e.code end
  if E.is(e) then
    if e.name == "TimeoutError" then
      if e.run_id or e.pending or e.location or e.backfill_id then return P.EXIT.TIMEOUT end
      return P.EXIT.UNREACHABLE
    end
    if UNREACHABLE[e.name] then return P.EXIT.UNREACHABLE end
    if e.name == "HTTPError" and (e.status == 401 or e.status == 403) then
      return P.EXIT.UNREACHABLE
    end
    if e.name == "Interrupted" then return P.EXIT.INTERRUPTED end
    if CONFIG[e.name] then return P.EXIT.USAGE end
    return P.EXIT.FAILURE
  end
  if type(e) == "string" and e:find("interrupted!$") then return P.EXIT.INTERRUPTED end
  return P.EXIT.FAILURE
end

-- the message of an error, the config errors of an invalid run config with their paths
local function error_text(e)
  if E.is(e) and e.name == "RunConfigValidationInvalid" and type(e.body) == "table" then
    local lines = { "invalid run config:" }
    for _, x in ipairs(e.body) do
      local path = type(x.config_path) == "table" and concat(x.config_path, ".") or "?"
      lines[#lines + 1] = fmt("  %s: %s", path ~= "" and path or "(root)", tostring(x.message))
    end
    return concat(lines, "\n")
  end
  return tostring(e)
end

local function summary(pb, code)
  if not pb or #pb.steps == 0 then return end
  local out = human_out(pb)
  local w = 4
  for _, s in ipairs(pb.steps) do w = math.max(w, #s.name) end
  out:write("\n", pb:paint("1", fmt("%-" .. w .. "s  %-8s  %8s  %s", "STEP", "RESULT", "TIME",
    "")), "\n")
  for _, s in ipairs(pb.steps) do
    local status = s.status or "stopped"
    local colour = ({ ok = "32", failed = "31", skipped = "90" })[status] or "33"
    local result = s.result
    if type(result) == "table" then result = json.encode(result) end
    result = result ~= nil and tostring(result):gsub("\n.*", "") or ""
    if #result > 60 then result = result:sub(1, 57) .. "..." end
    out:write(fmt("%-" .. w .. "s  %s  %8s  %s\n", s.name,
      pb:paint(colour, fmt("%-8s", status)), seconds(s.duration or 0), result))
  end
  out:write(fmt("exit %d after %s\n", code, seconds(dagster.now() - pb.t0)))
  out:flush()
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

local function list()
  local names, by = {}, shipped()
  for name in pairs(by) do names[#names + 1] = name end
  table.sort(names)
  P._describe = true
  for _, name in ipairs(names) do
    local ok, s = pcall(by[name], "dagster.playbooks." .. name)
    local summary_text = (not ok and is_stop(s) and s.describe and s.describe.summary) or "?"
    io.stdout:write(fmt("  %-12s %s\n", name, summary_text))
  end
  P._describe = false
  return 0
end

local PLAY_USAGE = [[
usage: dagster-lua play NAME [args...]        a shipped playbook (play --list names them)
       dagster-lua play FILE.lua [args...]    a playbook from a file
       dagster-lua play --list
       dagster-lua play NAME --help           its arguments, flags and exit codes]]

-- playbook.play(argv) -> exit code: what `dagster-lua play ...` runs
function P.play(argv)
  local target = argv[1]
  if target == nil or target == "--help" or target == "-h" then
    io.stdout:write(PLAY_USAGE, "\n")
    return target and 0 or P.EXIT.USAGE
  end
  if target == "--list" then return list() end
  local chunk, err
  if target:find("/") or target:find("%.lua$") then
    chunk, err = loadfile(target)
  else
    local loader = shipped()[target]
    if loader then
      chunk = function() return loader("dagster.playbooks." .. target) end
    else
      err = fmt("no playbook named %s (dagster-lua play --list names them)", target)
    end
  end
  if not chunk then
    io.stderr:write("dagster-lua play: ", tostring(err), "\n")
    return P.EXIT.USAGE
  end
  P.argv = table.move(argv, 2, #argv, 1, {})
  local pb_seen
  local real_new = P.new
  P.new = function(decl)                        -- remember the playbook the chunk makes
    local pb = real_new(decl)
    pb_seen = pb
    return pb
  end
  local trace
  local ok, res = xpcall(chunk, function(e)
    if not is_stop(e) and not E.is(e) and not (type(e) == "string" and e:find("interrupted!$")) then
      trace = debug.traceback(tostring(e), 2)
    end
    return e
  end)
  P.new, P.argv = real_new, nil
  local code
  if ok then
    code = math.type(res) == "integer" and res or 0
  else
    code = P.code_of_error(res)
    if is_stop(res) then
      if res.message then
        (res.usage and io.stderr or human_out(pb_seen or {})):write(res.message, "\n")
      end
    elseif code == P.EXIT.INTERRUPTED then
      io.stderr:write("dagster-lua play: interrupted", pb_seen and pb_seen.journal and
        not pb_seen.journal_off and ("; --resume goes on (journal " .. pb_seen.journal .. ")") or "", "\n")
    else
      io.stderr:write("dagster-lua play: ", trace or error_text(res), "\n")
    end
  end
  if pb_seen then
    summary(pb_seen, code)
    pb_seen:event { event = "summary", code = code, steps = #pb_seen.steps }
    if code ~= P.EXIT.INTERRUPTED and not pb_seen.journal_off then
      pcall(pb_seen._record, pb_seen, { event = "end", code = code, time = os.time() })
    end
  end
  return code
end

return P
