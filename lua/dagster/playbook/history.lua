-- dagster.playbook.history: what the automation did, read from the journals.
--
--   dagster-lua play history [PLAYBOOK] [--limit N] [--json]
--       the past runs, newest first: start, playbook, arguments, exit status and its
--       meaning, duration, runs launched, re-executed and terminated
--   dagster-lua play show [JOURNAL | PLAYBOOK] [--json]
--       one run in full (the last one by default, or the last of PLAYBOOK): its steps with
--       their results, each launch with its id, the summary
--
-- Both read the state directory's journals and their history (dagster.playbook.journal);
-- they change nothing and need no server.

local json = require "dagster.json"
local term = require "dagster.term"
local exit = require "dagster.playbook.exit"
local journal = require "dagster.playbook.journal"

local fmt, concat = string.format, table.concat

local M = {}

local function when(t) return t and os.date("%Y-%m-%d %H:%M:%S", math.floor(t)) or "-" end

-- an attempt's (or a whole journal's) exit status as text, and its meaning
local function status_of(s)
  if s.finished or s.code then return tostring(s.code), exit.meaning(s.code) end
  if s.cut then return "-", "killed or lost: no end record; the next run resumed it" end
  return "-", "unfinished: running, or killed (--resume goes on)"
end

local function args_text(argv, n)
  local words = {}
  for i, a in ipairs(argv or {}) do words[i] = tostring(a) end
  local s = concat(words, " ")
  if n and #s > n then s = s:sub(1, n - 3) .. "..." end
  return s
end

-- the plain-data form of an attempt (or of a whole journal's summary), for --json
local function plain(s)
  local _, meaning = status_of(s)
  local n = json.null
  return { journal = s.path, playbook = s.playbook, argv = s.argv, host = s.host or n,
    pid = s.pid or n, attempt = s.attempt or n, attempts = s.attempts or n,
    resumed = s.resumed or false, started = s.started or n, ended = s.ended or n,
    duration = s.duration or n, finished = s.finished, exit_status = s.code or n,
    meaning = meaning, runs_launched = s.launched, runs_reexecuted = s.reexecuted,
    runs_terminated = s.terminated, backfills_launched = s.backfills }
end

-- the flags of argv (by name; flags[name] says "boolean" or "count") and the other words;
-- nil and a usage message for an unknown flag or a bad value
local function parse(argv, cmd, flags)
  local o, pos = {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local name, inline = a:match("^%-%-([%w-]+)=(.*)$")
    name = name or a:match("^%-%-([%w-]+)$")
    if name then
      local kind = flags[name]
      if kind == nil then return nil, fmt("play %s: unknown flag %s (see play %s --help)", cmd, a, cmd) end
      if kind == "boolean" then o[name] = true
      else
        local v = inline
        if v == nil then i = i + 1; v = argv[i] end
        if v == nil then return nil, fmt("play %s: --%s needs a value", cmd, name) end
        if kind == "count" then
          v = math.tointeger(tonumber(v))
          if not v or v < 1 then return nil, fmt("play %s: --%s: a whole number of at least 1 expected", cmd, name) end
        end
        o[name] = v
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return o, pos
end

local HISTORY_USAGE = [[
usage: dagster-lua play history [PLAYBOOK] [--limit N] [--json]
The past runs of the playbooks (of PLAYBOOK), newest first, from the journals and their
history under $XDG_STATE_HOME/dagster-lua/: start, playbook, arguments, exit status and
its meaning, duration, runs launched, re-executed and terminated. A run killed and resumed
is listed once per process: the killed one (no exit status), then the one that resumed it.
--limit N (default 20); --json: one JSON object a line.

Exit status of a playbook:]]

local function history_usage()
  local out = { HISTORY_USAGE }
  for _, e in ipairs(exit.TABLE) do out[#out + 1] = fmt("  %-4s %s", tostring(e[1]), e[2]) end
  return concat(out, "\n")
end

function M.history(argv)
  local o, pos = parse(argv, "history", { limit = "count", json = "boolean", help = "boolean" })
  if not o then io.stderr:write(pos, "\n"); return exit.CODES.USAGE end
  if o.help then io.stdout:write(history_usage(), "\n"); return 0 end
  if #pos > 1 then io.stderr:write("play history: one PLAYBOOK at most\n"); return exit.CODES.USAGE end
  local runs = journal.runs(pos[1])
  local limit = o.limit or 20
  if o.json then
    for i = 1, math.min(limit, #runs) do io.stdout:write(json.encode(plain(runs[i])), "\n") end
    return 0
  end
  if #runs == 0 then
    io.stdout:write(fmt("no runs%s in %s\n", pos[1] and (" of " .. pos[1]) or "", journal.state_dir()))
    return 0
  end
  local rows = {}
  for i = 1, math.min(limit, #runs) do
    local s = runs[i]
    local code, meaning = status_of(s)
    rows[#rows + 1] = { when(s.started), tostring(s.playbook), args_text(s.argv, 40), code,
      term.seconds(s.duration or 0), tostring(s.launched + s.backfills), tostring(s.reexecuted),
      tostring(s.terminated), meaning:gsub(":.*", "") .. (s.resumed and " (resumed)" or "") }
  end
  io.stdout:write(term.table({ "STARTED", "PLAYBOOK", "ARGUMENTS", "EXIT", "TIME", "LAUNCHED",
    "RE-EXECUTED", "TERMINATED", "MEANING" }, rows, { align = { nil, nil, nil, "right", "right",
    "right", "right", "right" } }), "\n")
  if #runs > limit then io.stdout:write(fmt("(%d more: --limit)\n", #runs - limit)) end
  return 0
end

local SHOW_USAGE = [[
usage: dagster-lua play show [JOURNAL | PLAYBOOK] [--json]
One run in full: each attempt at it (a run killed and resumed has two), its steps with
their results, each launch with its id, and the summary. The last run of all by default;
the last of PLAYBOOK; or the run a JOURNAL file holds.]]

function M.show(argv)
  local o, pos = parse(argv, "show", { json = "boolean", help = "boolean" })
  if not o then io.stderr:write(pos, "\n"); return exit.CODES.USAGE end
  if o.help then io.stdout:write(SHOW_USAGE, "\n"); return 0 end
  local target, path = pos[1], nil
  if #pos > 1 then io.stderr:write("play show: one JOURNAL or PLAYBOOK at most\n"); return exit.CODES.USAGE end
  if target and (target:find("/") or target:find("%.jsonl$")) then
    path = target
  else
    local last = journal.runs(target)[1]
    if not last then
      io.stderr:write(fmt("play show: no runs%s in %s\n", target and (" of " .. target) or "",
        journal.state_dir()))
      return exit.CODES.USAGE
    end
    path = last.path
  end
  local ok, records = pcall(journal.read, path)
  if not ok then io.stderr:write("play show: ", tostring(records), "\n"); return exit.CODES.USAGE end
  if not records or #records == 0 then
    io.stderr:write("play show: ", path, ": no such journal\n")
    return exit.CODES.USAGE
  end
  local s, attempts = journal.summary(path, records), journal.attempts(path, records)
  if o.json then
    local p = plain(s)
    p.steps, p.launches = s.steps, s.launches
    p.runs_terminated_ids = s.terminated_runs
    p.attempts = json.array()
    for i, a in ipairs(attempts) do p.attempts[i] = plain(a) end
    io.stdout:write(json.encode(p), "\n")
    return 0
  end
  local code, meaning = status_of(s)
  local out = {
    fmt("playbook  %s %s", tostring(s.playbook), args_text(s.argv)),
    fmt("journal   %s", s.path),
    fmt("host      %s", tostring(s.host or "?")),
    fmt("started   %s%s", when(s.started), #attempts > 1 and fmt(" (%d attempts)", #attempts) or ""),
    fmt("exit      %s (%s) after %s", code, meaning, term.seconds(s.duration or 0)),
    "",
  }
  if #attempts > 1 then
    local arows = {}
    for i, a in ipairs(attempts) do
      local c, m = status_of(a)
      arows[i] = { tostring(i), when(a.started), tostring(a.pid or "?"), tostring(a.host or "?"), c,
        term.seconds(a.duration or 0), tostring(a.launched + a.backfills), tostring(a.reexecuted), m }
    end
    out[#out + 1] = term.table({ "ATTEMPT", "STARTED", "PID", "HOST", "EXIT", "TIME", "LAUNCHED",
      "RE-EXECUTED", "MEANING" }, arows, { align = { "right", nil, "right", nil, "right", "right",
      "right", "right" } })
    out[#out + 1] = ""
  end
  local rows = {}
  for i, st in ipairs(s.steps) do
    local r = st.result
    if r == json.null then r = nil end
    if type(r) == "table" then r = json.encode(r) end
    r = r ~= nil and term.headline(r) or ""
    if #r > 70 then r = r:sub(1, 67) .. "..." end
    rows[i] = { st.name or "?", st.status or "?", term.seconds(st.duration or 0), r }
  end
  out[#out + 1] = term.table({ "STEP", "RESULT", "TIME", "" }, rows, { align = { nil, nil, "right" } })
  if #s.launches > 0 then
    local lrows = {}
    for i, l in ipairs(s.launches) do
      lrows[i] = { l.action == "reexecute" and "re-execution" or l.kind, tostring(l.id), tostring(l.what or "") }
    end
    out[#out + 1] = ""
    out[#out + 1] = term.table({ "LAUNCHED", "ID", "WHAT" }, lrows)
  end
  if #s.terminated_runs > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "terminated: " .. concat(s.terminated_runs, ", ")
  end
  out[#out + 1] = ""
  out[#out + 1] = fmt("%d launched, %d re-executed, %d backfill(s), %d terminated", s.launched,
    s.reexecuted, s.backfills, s.terminated)
  io.stdout:write(concat(out, "\n"), "\n")
  return 0
end

return M
