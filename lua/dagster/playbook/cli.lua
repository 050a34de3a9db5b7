-- dagster.playbook.cli: a playbook's declaration and its command line.
--
--   cli.validate(decl)        checks a declaration; an unknown field or type is an error
--                             naming it (raised at the caller of playbook.define)
--   cli.parse(decl, argv)     -> args, flags (nil, flags for --help); usage errors end the
--                             playbook with status 4
--   cli.help(decl)            -> the generated --help text
--   cli.identity(decl, args, flags) -> what the run is (its journal's identity): the
--                             arguments and every flag but those of how it is watched
--
-- A declaration: {name, summary, description, args = {...}, flags = {...}, journal,
-- request_timeout}. An argument: {name, doc, optional, multiple}. A flag: {name, short,
-- type, metavar, doc, default, watch}; its type is one of TYPES below; watch = true marks a
-- flag that changes how the run is watched, not what it does (--timeout, --wait), left out
-- of the journal's identity.

local exit = require "dagster.playbook.exit"
local check = require "dagster.check"
local term = require "dagster.term"
local utf8ok = utf8.len

local fmt, concat = string.format, table.concat
local usage = exit.usage

local M = {}

-- a word as a message can show it: printable, cut, never invalid UTF-8
local function shown(s)
  s = s:gsub("[%c\128-\255]", function(c) return fmt("\\x%02x", c:byte()) end)
  return #s > 60 and s:sub(1, 57) .. "..." or s
end
M.shown = shown

-- playbook.duration(s) -> seconds: "90", "30s", "15m", "2h", "1d", "1h30m" (a bare number is
-- seconds); nil and a message when s is not a duration
local UNIT = { s = 1, m = 60, h = 3600, d = 86400 }
function M.duration(s)
  if type(s) == "number" then
    if s ~= s or s < 0 then return nil, fmt("%s is not a duration", tostring(s)) end
    return s
  end
  if type(s) ~= "string" or s == "" then return nil, "a duration expected (e.g. 30s, 15m, 2h)" end
  local n = tonumber(s)
  if n then
    if n ~= n or n < 0 or n == math.huge then return nil, fmt("%q is not a duration", shown(s)) end
    return n
  end
  local total, rest = 0, s
  while rest ~= "" do
    local num, u, tail = rest:match("^(%d+%.?%d*)([smhd])(.*)$")
    if not num then return nil, fmt("%q is not a duration (e.g. 30s, 15m, 2h, 1h30m)", shown(s)) end
    total, rest = total + tonumber(num) * UNIT[u], tail
  end
  return total
end

-- the flag types: how a value is read from the command line (a message when it cannot be)
local TYPES = {
  string = function(v) return v end,
  number = function(v)
    local n = tonumber(v)
    if n == nil or n ~= n then return nil, fmt("a number expected, got %q", shown(v)) end
    return n
  end,
  integer = function(v)
    local n = math.tointeger(tonumber(v))
    if n == nil then return nil, fmt("a whole number expected, got %q", shown(v)) end
    return n
  end,
  duration = M.duration,
  list = function(v) return v end,          -- each value a string; the flag repeats
  boolean = true,
}
M.TYPES = TYPES

-- the flags every playbook has
M.COMMON = {
  { name = "url", type = "string", metavar = "URL", doc = "the Dagster webserver (default $DAGSTER_URL)" },
  { name = "deployment", type = "string", metavar = "NAME",
    doc = "a Dagster+ deployment of the dagster-cloud login (default $DAGSTER_CLOUD_DEPLOYMENT)" },
  { name = "organization", type = "string", metavar = "ORG",
    doc = "the Dagster+ organization (default $DAGSTER_CLOUD_ORGANIZATION)" },
  { name = "token-env", type = "string", metavar = "NAME",
    doc = "the variable that holds the API token (default DAGSTER_CLOUD_API_TOKEN)" },
  { name = "max-rps", type = "number", metavar = "N",
    doc = "at most N requests a second (a rate-limited gateway or Dagster+)" },
  { name = "journal", type = "string", metavar = "FILE",
    doc = "the journal (default under $XDG_STATE_HOME/dagster-lua/)" },
  { name = "resume", type = "boolean", doc = "go on from the journal: done steps are skipped" },
  { name = "fresh", type = "boolean", doc = "start over, dropping an unfinished journal" },
  { name = "dry-run", type = "boolean", doc = "read, check and print; change nothing" },
  { name = "json", type = "boolean", doc = "one JSON object per event on stdout; text on stderr" },
  { name = "wait-lock", type = "duration", metavar = "DURATION",
    doc = "when another process runs this journal, wait this long for it (else exit 75)" },
  { name = "notify", type = "list", metavar = "URL", doc = "POST a JSON summary here at the end" },
  { name = "notify-env", type = "list", metavar = "NAME",
    doc = "the same, to the URL this variable holds (a URL with a secret in it)" },
  { name = "notify-on", type = "string", metavar = "WHEN", default = "failure",
    doc = "always, failure (exit status not 0) or change (not the last run's status)" },
  { name = "metrics", type = "string", metavar = "FILE",
    doc = "write Prometheus metrics here at the end (textfile collector format)" },
  { name = "help", short = "h", type = "boolean", doc = "this help" },
}

-- argv with the URL of each --notify replaced: a webhook URL may hold a secret, and the
-- arguments are kept in journals, history, lock files and notifications
function M.redact(argv)
  local out, hide = {}, false
  for i, a in ipairs(argv) do
    if hide then out[i], hide = "<url>", false
    elseif a == "--notify" then out[i], hide = a, true
    elseif a:find("^%-%-notify=") then out[i] = "--notify=<url>"
    else out[i] = a end
  end
  return out
end
local COMMON_NAMES = {}
for _, f in ipairs(M.COMMON) do COMMON_NAMES[f.name] = true end

------------------------------------------------------------------------------------------
-- The declaration
------------------------------------------------------------------------------------------

local DECL_FIELDS = { name = "string", summary = "string", description = "string",
  args = "table", flags = "table", journal = "boolean", request_timeout = "number" }
local ARG_FIELDS = { name = "string", doc = "string", optional = "boolean", multiple = "boolean" }
local FLAG_FIELDS = { name = "string", short = "string", type = "string", metavar = "string",
  doc = "string", default = true, watch = "boolean" }

local function names_of(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return concat(out, ", ")
end

-- raises "playbook.define: WHERE: PROBLEM" at the position of define's caller
local function bad(where, problem)
  error(fmt("playbook.define: %s: %s", where, problem), check.caller_level())
end

local function fields(t, known, where, what)
  if type(t) ~= "table" then bad(where, what .. " must be a table") end
  for k, v in pairs(t) do
    local want = known[k]
    if want == nil then
      bad(where, fmt("unknown field '%s' (%s has: %s)", tostring(k), what, names_of(known)))
    end
    if want ~= true and type(v) ~= want then
      bad(where, fmt("field '%s': %s expected, got %s", k, want, type(v)))
    end
  end
end

function M.validate(decl)
  fields(decl, DECL_FIELDS, "the declaration", "a declaration")
  if decl.name == nil or not decl.name:find("^[%w][%w_.-]*$") then
    bad("name", "a name of letters, digits, '_', '.' and '-' expected")
  end
  local seen = {}
  for i, a in ipairs(decl.args or {}) do
    local where = fmt("args[%d]", i)
    fields(a, ARG_FIELDS, where, "an argument")
    if type(a.name) ~= "string" or not a.name:find("^[%a][%w_]*$") then
      bad(where, "name: an identifier expected")
    end
    if a.multiple and i ~= #decl.args then bad(where, "only the last argument can be multiple") end
  end
  for i, f in ipairs(decl.flags or {}) do
    local where = fmt("flags[%d]", i)
    fields(f, FLAG_FIELDS, where, "a flag")
    if type(f.name) ~= "string" or not f.name:find("^[%a][%w-]*$") then
      bad(where, "name: letters, digits and '-' expected")
    end
    where = fmt("flags[%d] (--%s)", i, f.name)
    if COMMON_NAMES[f.name] then bad(where, "every playbook has --" .. f.name .. " already") end
    if seen[f.name] then bad(where, "declared twice") end
    seen[f.name] = true
    if f.type == nil or TYPES[f.type] == nil then
      bad(where, fmt("type: one of %s expected, got %s", names_of(TYPES), tostring(f.type)))
    end
    if f.short ~= nil and not f.short:find("^%a$") then bad(where, "short: one letter expected") end
    if f.default ~= nil then
      if f.type == "boolean" or f.type == "list" then
        bad(where, "a " .. f.type .. " flag has no default")
      end
      local ok, why = TYPES[f.type](f.default)
      if ok == nil then bad(where, "default: " .. why) end
    end
  end
end

------------------------------------------------------------------------------------------
-- The command line
------------------------------------------------------------------------------------------

local function all_flags(decl)
  local list = {}
  for _, f in ipairs(decl.flags or {}) do list[#list + 1] = f end
  for _, f in ipairs(M.COMMON) do list[#list + 1] = f end
  return list
end


-- parses argv against decl; returns args (by name) and flags (by name, dashes kept, each
-- of its type, defaults filled in); for --help, nil and the flags
function M.parse(decl, argv)
  local name = decl.name
  for i, a in ipairs(argv) do
    if not utf8ok(a) then
      usage(name, fmt("argument %d is not valid UTF-8: %s", i, shown(a)))
    end
  end
  local flags, byname, byshort = {}, {}, {}
  for _, f in ipairs(all_flags(decl)) do
    byname[f.name] = f
    if f.short then byshort[f.short] = f end
    if f.type == "list" then flags[f.name] = {}
    elseif f.type == "boolean" then flags[f.name] = false
    elseif f.default ~= nil then flags[f.name] = (TYPES[f.type](f.default)) end
  end
  local positional = {}
  local i = 1
  local function value_of(f, inline, flag)
    local v = inline
    if v == nil then
      i = i + 1
      v = argv[i]
      if v == nil then usage(name, flag .. " needs a value") end
    end
    -- an empty value is a mistake (an unset variable: --job "$JOB"), never "no filter"
    if v == "" then usage(name, flag .. ": a value expected, got an empty one") end
    local x, why = TYPES[f.type](v)
    if x == nil then usage(name, fmt("%s: %s", flag, why)) end
    return x
  end
  local only_positional = false
  while i <= #argv do
    local a = argv[i]
    if only_positional or a == "-" or a:sub(1, 1) ~= "-" then
      positional[#positional + 1] = a
    elseif a == "--" then
      only_positional = true
    else
      local fname, inline = a:match("^%-%-([^=]+)=(.*)$")
      local f
      if fname then
        f = byname[fname]
      elseif a:sub(1, 2) == "--" then
        f = byname[a:sub(3)]
      else                                   -- -c FILE or -cFILE
        f = byshort[a:sub(2, 2)]
        if #a > 2 then inline = a:sub(3) end
      end
      if f == nil then
        -- a long flag a typo or two from one of the playbook's: name it
        local given, near = fname or (a:sub(1, 2) == "--" and a:sub(3)), {}
        if given then
          local names = {}
          for n in pairs(byname) do names[#names + 1] = n end
          for i, n in ipairs(term.near(given, names)) do near[i] = "--" .. n end
        end
        usage(name, "unknown flag " .. shown(a) ..
          (#near > 0 and "; did you mean " .. concat(near, ", ") .. "?" or ""))
      end
      local flag = "--" .. f.name
      if f.type == "boolean" then
        if inline ~= nil then usage(name, flag .. " takes no value") end
        flags[f.name] = true
      elseif f.type == "list" then
        local list = flags[f.name]
        list[#list + 1] = value_of(f, inline, flag)
      else
        flags[f.name] = value_of(f, inline, flag)
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
      if #rest == 0 and not d.optional then usage(name, "missing " .. d.name:upper()) end
      args[d.name] = rest
      positional = {}
      break
    end
    local v = positional[k]
    if v == nil and not d.optional then usage(name, "missing " .. d.name:upper()) end
    args[d.name] = v
  end
  if #positional > #decl_args and not (decl_args[#decl_args] or {}).multiple then
    usage(name, "unexpected argument " .. shown(positional[#decl_args + 1]))
  end
  if flags.resume and flags.fresh then usage(name, "--resume and --fresh exclude each other") end
  if flags["max-rps"] and not (flags["max-rps"] > 0) then usage(name, "--max-rps: a positive number expected") end
  local on = flags["notify-on"]
  if on ~= "always" and on ~= "failure" and on ~= "change" then
    usage(name, fmt("--notify-on: always, failure or change expected, got %q", shown(on)))
  end
  for _, url in ipairs(flags.notify) do
    if not url:find("^https?://[^/]") then usage(name, "--notify: an http:// or https:// URL expected") end
  end
  for _, var in ipairs(flags["notify-env"]) do
    local url = os.getenv(var)
    if url == nil or url == "" then usage(name, fmt("--notify-env %s: that variable is not set", shown(var))) end
    if not url:find("^https?://[^/]") then
      usage(name, fmt("--notify-env %s: the variable does not hold an http:// or https:// URL", shown(var)))
    end
  end
  return args, flags
end

-- What the run is, for its journal: the arguments and the playbook's own flags, as parsed
-- (so that "--since 24h" and the default are one run), except those marked watch. The
-- common flags are left out: the deployment comes in as the client's URL instead.
function M.identity(decl, args, flags)
  local kept = {}
  for _, f in ipairs(decl.flags or {}) do
    if not f.watch then kept[f.name] = flags[f.name] end
  end
  return { args = args, flags = kept }
end

------------------------------------------------------------------------------------------
-- --help
------------------------------------------------------------------------------------------

local function pad(s, w) return s .. string.rep(" ", w - #s) end

local function flag_label(f)
  local s = (f.short and ("-" .. f.short .. ", ") or "    ") .. "--" .. f.name
  if f.type ~= "boolean" then s = s .. " " .. (f.metavar or f.type:upper()) end
  return s
end

function M.help(decl)
  local use = { "usage: dagster-lua play " .. decl.name }
  for _, a in ipairs(decl.args or {}) do
    local n = a.name:upper() .. (a.multiple and "..." or "")
    use[#use + 1] = a.optional and "[" .. n .. "]" or n
  end
  use[#use + 1] = "[flags]"
  local out = { concat(use, " "), "", decl.summary or "" }
  if decl.description then out[#out + 1] = ""; out[#out + 1] = decl.description end
  if decl.args and #decl.args > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "Arguments:"
    for _, a in ipairs(decl.args) do
      out[#out + 1] = "  " .. pad(a.name:upper(), 26) .. " " .. (a.doc or "")
    end
  end
  out[#out + 1] = ""
  out[#out + 1] = "Flags:"
  for _, f in ipairs(all_flags(decl)) do
    local doc = f.doc or ""
    if f.default ~= nil then doc = doc .. fmt(" (default %s)", tostring(f.default)) end
    if f.type == "list" then doc = doc .. " (repeatable)" end
    out[#out + 1] = "  " .. pad(flag_label(f), 26) .. " " .. doc
  end
  out[#out + 1] = ""
  out[#out + 1] = "Exit status:"
  for _, e in ipairs(exit.TABLE) do out[#out + 1] = "  " .. pad(tostring(e[1]), 4) .. " " .. e[2] end
  return concat(out, "\n")
end

return M
