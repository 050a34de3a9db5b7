-- dagster.playbook.journal: the append-only JSONL journal that makes a playbook crash-safe.
--
--   journal.path(name, identity)   -> the default journal of a run: under the state
--                                     directory, named after the playbook, its first
--                                     argument and a hash of what the run is (identity)
--   journal.open(path, name, o)    -> j: the journal to append to, read first when it
--                                     exists; o = {resume =, fresh =, argv =}
--   j:record(rec)                  appends one record (one write, fsynced)
--   journal.unfinished(name)       -> the journals of playbook `name` that did not end
--   journal.crash_point(point)     a test hook (DAGSTER_LUA_PLAYBOOK_KILL_AT)
--
-- The first record says what wrote the file (kind, version, playbook, argv, identity); each
-- step and launch then has an intent record before it and a result record after it; the
-- runner writes an "end" record last. A journal whose last record is not "end" is
-- unfinished: it is resumed with --resume or dropped with --fresh, never overwritten by
-- accident.

local json = require "dagster.json"
local file = require "dagster.file"
local sys = require "dagster.sys"
local exit = require "dagster.playbook.exit"

local fmt, concat = string.format, table.concat
local usage = exit.usage

local M = {}

M.KIND = "dagster-lua playbook journal"
M.VERSION = 2

function M.state_dir()
  local x = os.getenv("XDG_STATE_HOME")
  if x and x ~= "" then return x .. "/dagster-lua" end
  local home = os.getenv("HOME") or "."
  return home .. "/.local/state/dagster-lua"
end

-- FNV-1a (32 bits) of a string, as 8 hex digits
local function hash(s)
  local h = 2166136261
  for i = 1, #s do h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff end
  return fmt("%08x", h)
end
M.hash = hash

-- a value as canonical text (keys sorted), so that equal values hash alike
local function canonical(v)
  if type(v) ~= "table" then return json.encode(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for i, k in ipairs(keys) do parts[i] = json.encode(tostring(k)) .. ":" .. canonical(v[k]) end
  return "{" .. concat(parts, ",") .. "}"
end
M.canonical = canonical

-- the default journal of a run: `identity` says what the run is (the deployment, the
-- arguments, the flags that change what it does), so that a timeout, --json or a URL given
-- another way names the same journal
function M.path(name, identity)
  local first = identity.args and select(2, next(identity.args))
  if type(first) == "table" then first = first[1] end
  local tag = type(first) == "string" and first:gsub("[^%w_.-]", "_"):sub(1, 40) or nil
  return fmt("%s/%s%s-%s.jsonl", M.state_dir(), name, tag and ("-" .. tag) or "",
    hash(canonical(identity)))
end

-- Reads a journal: returns its records and the length of its whole lines, or nil when the
-- file does not exist. A last line that is cut short is left out (the record being written
-- when the process died); any other damage raises a usage error naming the file and line.
function M.read(path, name)
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
      usage(name, fmt("journal %s: line %d is damaged (%s)", path, n,
        ok and "not an object" or tostring(rec)))
    end
    rec._line = n
    records[#records + 1] = rec
    pos = (nl or #text) + 1
  end
  local whole = pos - 1                            -- the bytes of the whole lines
  local head = records[1]
  if head and head.kind ~= M.KIND then
    usage(name, fmt("journal %s: line 1 is not a dagster-lua playbook journal", path))
  end
  if head and name and head.playbook ~= name then
    usage(name, fmt("journal %s: line 1: written by playbook %s, not %s", path,
      tostring(head.playbook), name))
  end
  return records, whole, #text
end

-- whether the records end with the runner's end record
local function finished(records) return records[#records].event == "end" end

-- The journals of playbook `name` in the state directory that did not end, oldest first:
-- {path, argv, time} each (a damaged one is left out).
function M.unfinished(name)
  local out = {}
  local dir = M.state_dir()
  local p = io.popen("ls -1A -- '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  for f in p:lines() do
    if f:sub(1, #name + 1) == name .. "-" and f:find("%.jsonl$") then
      local path = dir .. "/" .. f
      local ok, records = pcall(M.read, path, name)
      if ok and records and #records > 0 and not finished(records) then
        out[#out + 1] = { path = path, argv = records[1].argv, time = records[1].time }
      end
    end
  end
  p:close()
  table.sort(out, function(a, b) return (a.time or 0) < (b.time or 0) end)
  return out
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
function M.crash_point(point)
  if KILL_AT ~= point then return end
  kill_hits = kill_hits + 1
  if kill_hits == KILL_NTH then
    io.stdout:flush(); io.stderr:flush()
    os.execute("kill -9 " .. sys.pid())
  end
end

------------------------------------------------------------------------------------------
-- An open journal
------------------------------------------------------------------------------------------

local Journal = {}
Journal.__index = Journal
Journal.__name = "dagster.playbook.Journal"

function Journal:record(rec)
  if self.off then return end
  file.append(self.path, json.encode(rec) .. "\n")
end

-- journal.open(path, name, {resume, fresh, argv, identity}) -> j, with j.done (step key ->
-- its done record), j.intents (launch key -> submission id), j.launched (launch key -> id)
-- filled from the records of a resumed journal, j.resumed, and j.not_found (--resume found
-- no journal: a new run starts). An unfinished journal without --resume or --fresh is a
-- usage error; a finished one is replaced.
function M.open(path, name, o)
  local j = setmetatable({ path = path, done = {}, intents = {}, launched = {} }, Journal)
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then file.mkdirs(dir) end
  local records, whole, size = M.read(path, name)
  if records and #records > 0 then
    if o.resume then
      if whole < size then file.truncate(path, whole) end  -- drop the cut record first
      for _, r in ipairs(records) do
        if r.event == "done" then j.done[r.step] = r
        elseif r.event == "intent" then j.intents[r.launch] = r.sid
        elseif r.event == "launched" then j.launched[r.launch] = r.run_id end
      end
      j.resumed = true
      j:record { event = "resume", time = os.time(), argv = o.argv }
      return j
    elseif not finished(records) and not o.fresh then
      usage(name, fmt("%s holds an unfinished run of this playbook: --resume goes on " ..
        "where it stopped, --fresh starts over", path))
    end
    os.remove(path)
  elseif o.resume then
    j.not_found = true
  end
  j:record { kind = M.KIND, version = M.VERSION, playbook = name, argv = o.argv,
             identity = o.identity, time = os.time() }
  return j
end

-- a journal that writes nothing (a dry run, or a playbook declared journal = false)
function M.none(path)
  return setmetatable({ path = path, off = true, done = {}, intents = {}, launched = {} }, Journal)
end

return M
