-- dagster.playbook.journal: the append-only JSONL journal that makes a playbook crash-safe.
--
--   journal.path(name, identity, first) -> the default journal of a run: under the state
--                                     directory, named after the playbook, its first
--                                     argument and a hash of what the run is (identity)
--   journal.open(path, name, o)    -> j: the journal to append to, read first when it
--                                     exists; o = {resume =, fresh =, argv =}
--   j:record(rec)                  appends one record (one write, fsynced)
--   journal.lock(path, name, o)    -> the lock of a journal (one process per journal), or
--                                     exit status 75 naming the holder
--   journal.unfinished(name)       -> the journals of playbook `name` that did not end
--   journal.summary(path)          -> what the run a journal holds did (launches, steps, end)
--   journal.attempts(path)         -> the same for each process that worked on it: a run
--                                     killed and resumed is two attempts
--   journal.runs([name])           -> every attempt the journals and their history hold,
--                                     newest first: what `play history` lists
--   journal.crash_point(point)     a test hook (DAGSTER_LUA_PLAYBOOK_KILL_AT)
--
-- The first record says what wrote the file (kind, version, playbook, argv, identity, time,
-- t (the time with its fraction, which orders the runs of one second), host, pid); each step
-- and launch then has an intent record before it and a result record after it; the runner
-- writes an "end" record last ("stopped" at Ctrl-C or SIGTERM, which leaves the run
-- unfinished). A resumed run writes a "resume" record (argv, host, pid, time, t) before it
-- goes on. Every record has its time. A journal whose last record is not "end" is
-- unfinished: it is resumed with --resume, or kept as history and started over with
-- --fresh; without either it is a usage error, never overwritten by accident. A finished
-- journal goes to the history (history/<journal name>.<start time>.jsonl beside it, the
-- newest KEEP of each journal kept) when the next run of that journal starts, so --resume
-- from a scheduler goes on after a crash and starts anew after a finished run.

local json = require "dagster.json"
local file = require "dagster.file"
local sys = require "dagster.sys"
local concurrent = require "dagster.concurrent"
local exit = require "dagster.playbook.exit"

local fmt, concat = string.format, table.concat
local usage = exit.usage

local M = {}

M.KIND = "dagster-lua playbook journal"
M.VERSION = 2
M.KEEP = 50           -- finished runs kept in the history of each journal

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
-- (`first`: the value of the first declared argument, which names the file too)
function M.path(name, identity, first)
  if type(first) == "table" then first = first[1] end
  local tag = type(first) == "string" and first:gsub("[^%w_.-]", "_"):sub(1, 40) or nil
  return fmt("%s/%s%s-%s.jsonl", M.state_dir(), name, tag and ("-" .. tag) or "",
    hash(canonical(identity)))
end

-- Reads a journal: returns its records and the length of its whole lines, or nil when the
-- file does not exist. A last line that is cut short is left out (the record being written
-- when the process died); a file that cannot be read (a folder, no permission) and any
-- other damage (NUL bytes included) raise a usage error naming the file (and line).
function M.read(path, name)
  local text, err, missing = file.read(path)
  if text == nil then
    if missing then return nil end
    usage(name, "journal " .. err)
  end
  local records, n = {}, 0
  local pos = 1
  while pos <= #text do
    local nl = text:find("\n", pos, true)
    local line = text:sub(pos, (nl or #text + 1) - 1)
    n = n + 1
    local ok, rec, bad = pcall(json.decode, line)
    if not ok or type(rec) ~= "table" or nl == nil then
      -- the cut last line, the record in doubt, is the start of one (one write(2) each, and
      -- JSON has no raw NUL); NUL bytes are blocks a crashed file system lost, which may
      -- have held launches: never taken for a cut record and started over
      local nul = line:find("\0", 1, true)
      if nl == nil and not nul and line:sub(1, 1) == "{" then break end
      local why = nul and "NUL bytes, as a file system's crash leaves: check what it launched, then move it away"
        or not ok and tostring(rec) or rec == nil and bad and ("not JSON: " .. bad)
        or type(rec) == "table" and "cut short" or "not an object"
      usage(name, fmt("journal %s: line %d is damaged (%s)", path, n, why))
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

-- the folder a journal's history lives in, and the journal's name without .jsonl
local function history_dir(path) return (path:match("^(.*)/[^/]*$") or ".") .. "/history" end
local function base_of(path) return (path:match("([^/]*)$"):gsub("%.jsonl$", "")) end
local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- Moves a journal (finished, or dropped with --fresh) into its history and keeps the newest
-- KEEP there. records[1].time names it.
function M.rotate(path, records)
  local dir, base = history_dir(path), base_of(path)
  file.mkdirs(dir)
  local started = math.tointeger(records and records[1] and records[1].time) or os.time()
  local dest, n = fmt("%s/%s.%d.jsonl", dir, base, started), 1
  while exists(dest) do
    n = n + 1
    dest = fmt("%s/%s.%d-%d.jsonl", dir, base, started, n)
  end
  local ok, err = os.rename(path, dest)
  if not ok then error(err, 0) end
  local mine = {}
  local esc = base:gsub("%p", "%%%0")
  for _, f in ipairs(file.list(dir) or {}) do
    local t = f:match("^" .. esc .. "%.(%d+)[%d-]*%.jsonl$")
    if t then mine[#mine + 1] = { name = f, t = tonumber(t) } end
  end
  table.sort(mine, function(a, b) return a.t < b.t or (a.t == b.t and a.name < b.name) end)
  for i = 1, #mine - M.KEEP do os.remove(dir .. "/" .. mine[i].name) end
  return dest
end

-- the journal files of the state directory and of its history (whatever their names: a
-- --journal FILE there is named by its user; the playbook is read from each file's head)
local function journal_files()
  local out = {}
  for _, dir in ipairs { M.state_dir(), M.state_dir() .. "/history" } do
    for _, f in ipairs(file.list(dir) or {}) do
      if f:find("%.jsonl$") then out[#out + 1] = dir .. "/" .. f end
    end
  end
  return out
end

-- The journals of playbook `name` in the state directory that did not end, oldest first:
-- {path, argv, time} each (a damaged one is left out).
function M.unfinished(name)
  local out = {}
  local dir = M.state_dir()
  for _, f in ipairs(file.list(dir) or {}) do
    if f:sub(1, #name + 1) == name .. "-" and f:find("%.jsonl$") then
      local path = dir .. "/" .. f
      local ok, records = pcall(M.read, path, name)
      if ok and records and #records > 0 and not finished(records) then
        out[#out + 1] = { path = path, argv = records[1].argv, time = records[1].time }
      end
    end
  end
  table.sort(out, function(a, b) return (a.time or 0) < (b.time or 0) end)
  return out
end

-- journal.summary(path [, records]) -> what one run did, from its journal: {path,
-- playbook, argv, started, ended, code (nil while unfinished, or the status Ctrl-C or SIGTERM
-- stopped it with: 130, 143), duration, host, steps = {{name, status (ok, failed, stopped
-- for a step Ctrl-C or SIGTERM cut, started), result, duration}}, launches = {{what, id, kind, action}}, launched,
-- reexecuted, backfills, terminated (counts), terminated_runs, finished, resumes}
function M.summary(path, records)
  records = records or M.read(path)
  local head = records[1] or {}
  local s = { path = path, playbook = head.playbook, argv = head.argv or {}, started = head.time,
    host = head.host, steps = {}, launches = {}, launched = 0, reexecuted = 0, backfills = 0,
    terminated = 0, terminated_runs = {}, resumes = 0, finished = false }
  local steps, intents = {}, {}
  for _, r in ipairs(records) do
    local e = r.event
    if e == "start" then                       -- (again, when a resumed run redoes it)
      local row = steps[r.step]
      if row == nil then
        row = { name = r.name or r.step }
        steps[r.step] = row
        s.steps[#s.steps + 1] = row
      end
      row.status = "started"
    elseif e == "done" or e == "failed" or e == "interrupted" then
      local row = steps[r.step] or { name = r.step }
      if not steps[r.step] then s.steps[#s.steps + 1] = row; steps[r.step] = row end
      row.status = e == "done" and "ok" or e == "failed" and "failed" or "stopped"
      row.result = e == "done" and r.result or r.error
      row.duration = r.duration
    elseif e == "intent" then
      intents[r.launch] = r
    elseif e == "launched" then
      local i = intents[r.launch] or {}
      local action = r.action or i.action or "launch"
      s.launches[#s.launches + 1] = { what = i.what, id = r.run_id, kind = r.kind or "run",
                                      action = action }
      if action == "reexecute" then s.reexecuted = s.reexecuted + 1
      elseif (r.kind or "run") == "backfill" then s.backfills = s.backfills + 1
      else s.launched = s.launched + 1 end
    elseif e == "terminated" then
      s.terminated = s.terminated + 1
      s.terminated_runs[#s.terminated_runs + 1] = r.run_id
    elseif e == "resume" then
      s.resumes, s.code = s.resumes + 1, nil
    elseif e == "stopped" then                 -- Ctrl-C or SIGTERM: unfinished, its status kept
      s.code = r.code
    elseif e == "end" then
      s.finished, s.code, s.ended = true, r.code, r.time
    end
  end
  local last = s.started
  for _, r in ipairs(records) do
    if type(r.time) == "number" and (last == nil or r.time > last) then last = r.time end
  end
  if s.started then s.duration = (s.ended or last) - s.started end
  return s
end

-- journal.attempts(path [, records]) -> what each process that worked on the journal did,
-- oldest first: a run killed and resumed twice is three attempts. Each is a summary of its
-- own records (journal.summary's fields, counted over the attempt only) with attempt (its
-- rank), attempts (how many there are), pid, and how it ended: finished (the end record is
-- its own, code its exit status), code 130 or 143 alone (stopped by Ctrl-C or SIGTERM), cut
-- (no record of its end, and a later attempt resumed it: killed, or the machine lost) or
-- neither (the last attempt of an unfinished journal: running now, or killed and not
-- resumed yet).
function M.attempts(path, records)
  records = records or M.read(path)
  local head = records[1] or {}
  local parts = {}
  for i, r in ipairs(records) do
    if i == 1 or r.event == "resume" then
      parts[#parts + 1] = { r }
    else
      local p = parts[#parts]
      p[#p + 1] = r
    end
  end
  local out = {}
  for i, recs in ipairs(parts) do
    local first = recs[1]
    if i > 1 then table.insert(recs, 1, head) end  -- summary reads the playbook from the head
    local s = M.summary(path, recs)
    s.attempt, s.attempts, s.resumed, s.resumes = i, #parts, i > 1, nil
    s.argv, s.host, s.pid = first.argv or s.argv, first.host or s.host, first.pid
    s.started = first.time or s.started
    s.t = first.t                                -- the start to the fraction of a second
    local last = s.started
    for j = i > 1 and 2 or 1, #recs do
      local r = recs[j]
      if r.event == "stopped" then s.code = r.code end
      if type(r.time) == "number" and (last == nil or r.time > last) then last = r.time end
    end
    if not s.finished then s.ended = s.code and last or nil end
    s.duration = last and s.started and last - s.started or nil
    s.cut = i < #parts and not s.finished and s.code == nil
    out[i] = s
  end
  return out
end

-- journal.runs([name]) -> every attempt (journal.attempts) of every journal and history file
-- of the state directory (of playbook `name`), newest first; a file that cannot be read is
-- left out
function M.runs(name)
  local out = {}
  for _, path in ipairs(journal_files()) do
    local ok, records = pcall(M.read, path)
    if ok and records and #records > 0 and (name == nil or records[1].playbook == name) then
      -- runs are ordered by t; for a journal without it (whole seconds only), within one
      -- second a journal's history files come in the order rotate named them (NAME.START,
      -- NAME.START-2, ...), and the journal itself last
      local n = path:match("/history/[^/]*%.%d+%-(%d+)%.jsonl$")
      local rank = path:find("/history/[^/]*$") and (tonumber(n) or 1) or math.huge
      for _, a in ipairs(M.attempts(path, records)) do
        a.rank = rank
        out[#out + 1] = a
      end
    end
  end
  table.sort(out, function(a, b)
    local x, y = a.t or a.started or 0, b.t or b.started or 0
    if x ~= y then return x > y end
    if a.rank ~= b.rank then return a.rank > b.rank end
    if a.path ~= b.path then return a.path > b.path end
    return a.attempt > b.attempt
  end)
  for _, a in ipairs(out) do a.rank, a.t = nil, nil end
  return out
end

-- the last finished run of the journal at path (its history's newest), or nil
function M.last_finished(path)
  local ok, records = pcall(M.read, path)
  if ok and records and #records > 0 and finished(records) then return M.summary(path, records) end
  local base, dir = base_of(path), history_dir(path)
  local esc = base:gsub("%p", "%%%0")
  local newest
  for _, f in ipairs(file.list(dir) or {}) do
    local t = f:match("^" .. esc .. "%.(%d+)[%d-]*%.jsonl$")
    if t and (newest == nil or tonumber(t) > newest.t or (tonumber(t) == newest.t and f > newest.f)) then
      newest = { t = tonumber(t), f = f }
    end
  end
  if newest then
    local ok, records = pcall(M.read, dir .. "/" .. newest.f)
    if ok and records and #records > 0 and finished(records) then
      return M.summary(dir .. "/" .. newest.f, records)
    end
  end
end

------------------------------------------------------------------------------------------
-- The lock: one process per journal
------------------------------------------------------------------------------------------

-- the holder of a lock file, as its holder wrote it (nil when unreadable)
local function holder_of(lockpath)
  local text = file.read(lockpath)
  if not text then return nil end
  local ok, h = pcall(json.decode, text)
  return ok and type(h) == "table" and h or nil
end

-- journal.lock(path, name, {wait =, holder =}) -> the lock of the journal at path (its lock
-- file, path .. ".lock"), held until the process ends or lock:close(). When another process
-- holds it: with wait (seconds), polls for it until then; else, or after that, ends the
-- playbook with status 75 and a line naming the holder (pid, host, since, arguments).
function M.lock(path, name, o)
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then file.mkdirs(dir) end
  local lockpath = path .. ".lock"
  local deadline = o.wait and sys.now() + o.wait
  while true do
    local l = file.lock(lockpath)
    if l then
      l:write(json.encode(o.holder) .. "\n")
      return l
    end
    if not deadline or sys.now() >= deadline then
      -- the holder writes who it is right after it takes the lock: a reader that comes
      -- in between finds the file empty (or half written), and reads it again
      local h, until_ = holder_of(lockpath), sys.now() + 0.5
      while h == nil and sys.now() < until_ do
        concurrent.sleep(0.02)
        h = holder_of(lockpath)
      end
      h = h or {}
      local words = {}
      for i, a in ipairs(type(h.argv) == "table" and h.argv or {}) do words[i] = tostring(a) end
      exit.stop(exit.CODES.BUSY, fmt("play %s: the journal %s is in use by pid %s on %s since %s: " ..
        "play %s %s; try later%s", name, path, tostring(h.pid or "?"), tostring(h.host or "?"),
        h.time and os.date("%Y-%m-%d %H:%M:%S", h.time) or "?", tostring(h.playbook or name),
        concat(words, " "), o.wait and fmt(" (waited %s)", require("dagster.term").seconds(o.wait))
          or ", or pass --wait-lock DURATION"), { busy = true })
    end
    concurrent.sleep(math.min(0.2, math.max(0.01, deadline - sys.now())))
  end
end

-- a test hook: DAGSTER_LUA_PLAYBOOK_KILL_AT=point makes the process SIGKILL itself there,
-- so that the specs can stop a playbook at an exact instant; point:N kills at the Nth time
-- the point is reached (after-request:3: at the third launch; after-step:4: once the fourth
-- step has been journaled done)
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

-- j:record(rec): appends rec, with its time (when it has none): how long an attempt that
-- was killed had been at work is read from the times of its records
function Journal:record(rec)
  if self.off then return end
  if rec.time == nil then rec.time = os.time() end
  file.append(self.path, json.encode(rec) .. "\n")
end

-- journal.open(path, name, {resume, fresh, argv, identity, host}) -> j, with j.done (step
-- key -> its done record), j.intents (launch key -> its intent record: sid, time),
-- j.launched (launch key -> id) filled from the records of a resumed journal, j.resumed, j.started (when the run
-- first started: a resumed run keeps its inputs' times), and j.not_found (--resume found no
-- journal and no history of it: a new run starts). An unfinished journal without --resume
-- or --fresh is a usage error; a finished one, or an unfinished one with --fresh, goes to
-- the history and a new run starts. The caller holds the journal's lock.
function M.open(path, name, o)
  local j = setmetatable({ path = path, done = {}, intents = {}, launched = {} }, Journal)
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then file.mkdirs(dir) end
  local records, whole, size = M.read(path, name)
  if records and #records > 0 then
    if o.resume and not finished(records) then
      if whole < size then file.truncate(path, whole) end  -- drop the cut record first
      for _, r in ipairs(records) do
        if r.event == "done" then j.done[r.step] = r
        elseif r.event == "intent" then j.intents[r.launch] = r
        elseif r.event == "launched" then j.launched[r.launch] = r.run_id end
      end
      j.resumed = true
      j.started = records[1].time
      j:record { event = "resume", time = os.time(), t = sys.time(), argv = o.argv, host = o.host,
                 pid = sys.pid() }
      return j
    elseif not finished(records) and not o.fresh then
      usage(name, fmt("%s holds an unfinished run of this playbook: --resume goes on " ..
        "where it stopped, --fresh starts over", path))
    end
    M.rotate(path, records)                         -- finished, or dropped with --fresh
  elseif records then
    os.remove(path)                                 -- an empty file: nothing to keep
  elseif o.resume and not M.last_finished(path) then
    j.not_found = true
  end
  j.started = os.time()
  j:record { kind = M.KIND, version = M.VERSION, playbook = name, argv = o.argv,
             identity = o.identity, time = j.started, t = sys.time(), host = o.host, pid = sys.pid() }
  return j
end

-- a journal that writes nothing (a dry run, or a playbook declared journal = false)
function M.none(path)
  return setmetatable({ path = path, off = true, done = {}, intents = {}, launched = {} }, Journal)
end

return M
