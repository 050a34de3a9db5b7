-- dagster.repl: what the REPL knows (host/repl.c owns the terminal and calls these).
--
--   repl.setup(env)            -> prompt, banner: binds the globals `dagster` and, when
--                                 DAGSTER_URL is set, `client`; env = {tty =, rows =, cols =}
--   repl.run(fn, line)         runs one compiled line: prints its results (`_` keeps the first)
--                              or its error (a dagster.Error in one line, kept in `_err`)
--   repl.complete(before, word) -> list of completions of `word`, the text before the cursor
--                                 being `before`; never runs user code (see below)
--   help([name or function])   the global help, from dagster.api: help() lists every entry,
--                              help "wait_for_run", help "playbook", help "pb:step" one
--
-- Completion walks tables with rawget and follows only __index fields that are tables: it
-- never calls a function, a metamethod or anything a user wrote. Names from the server (job,
-- location, schedule, sensor and asset names, recent run ids) come from one request per kind,
-- bounded to 0.3 s and kept for 30 s (a failed one for 2 s: the next Tab asks again).

local dagster = require "dagster"
local E = require "dagster.error"
local inspect = require "dagster.inspect"
local term = require "dagster.term"

local fmt, concat, rep = string.format, table.concat, string.rep

local M = {}

local env = { tty = false, rows = 24, cols = 80 }

------------------------------------------------------------------------------------------
-- Colour (only on a terminal, and never with NO_COLOR set and not empty)
------------------------------------------------------------------------------------------

local function colour_on() return term.colour(env.tty) end

local COLOURS = { red = "31", green = "32", yellow = "33", blue = "34", magenta = "35",
  cyan = "36", grey = "90", bold = "1" }

local function paint(c, s)
  if not colour_on() then return s end
  return "\27[" .. COLOURS[c] .. "m" .. s .. "\27[0m"
end
M.paint = paint

local STATUS_COLOUR = { SUCCESS = "green", FAILURE = "red", CANCELED = "magenta",
  CANCELING = "magenta", STARTED = "cyan", STARTING = "cyan", QUEUED = "yellow",
  NOT_STARTED = "grey", LOADED = "green", LOADING = "yellow", HEALTHY = "green",
  DEGRADED = "red", WARNING = "yellow", SUCCEEDED = "green", FAILED = "red",
  EXECUTION_FAILED = "red", IN_PROGRESS = "cyan", SKIPPED = "grey", OK = "green" }

local function status_text(s)
  s = tostring(s)
  return STATUS_COLOUR[s] and paint(STATUS_COLOUR[s], s) or s
end

------------------------------------------------------------------------------------------
-- Set-up
------------------------------------------------------------------------------------------

-- the API description, when it is there (help and option-key completion read it)
local function api()
  local ok, a = pcall(require, "dagster.api")
  return ok and type(a) == "table" and a or nil
end

function M.setup(e)
  for k, v in pairs(e or {}) do env[k] = v end
  rawset(_G, "dagster", rawget(_G, "dagster") or dagster)
  rawset(_G, "help", M.help)
  rawset(_G, "trace", M.trace)
  -- waits show a live status line at the prompt (wait_for_run's progress option)
  if env.tty then require("dagster.wait").progress = true end
  -- a wait for the server's sake (Dagster+ maintenance) is said once, on stderr
  require("dagster.wait").notice = function(line)
    io.stderr:write("dagster-lua: ", line, "\n")
  end
  -- `client`, where DAGSTER_URL or the dagster-cloud CLI's login says (dagster.client_from_env);
  -- none when nothing says where
  local prompt, where = "> ", nil
  local ok, c = pcall(dagster.client_from_env)
  if ok then
    if rawget(_G, "client") == nil then rawset(_G, "client", c) end
    where = (c.url:match("^%a+://([^/]+)") or c.url) .. (c.deployment and ("/" .. c.deployment) or "")
    prompt = "dagster " .. where .. "> "
  elseif not (E.is(c, "ConfigurationError") and c.message:find("^no server")) then
    io.stderr:write(fmt("dagster-lua: %s; no client\n", E.is(c) and c.message or tostring(c)))
  end
  local banner = fmt("dagster-lua %s%s; type help() for help", dagster.VERSION,
    where and (", client = " .. where) or "")
  return prompt, banner
end

------------------------------------------------------------------------------------------
-- Showing results
------------------------------------------------------------------------------------------

local function is_list(t)
  return type(t) == "table" and getmetatable(t) == nil and #t > 0 and next(t, #t) == nil
end

local function short_time(ts)
  return ts and os.date("%m-%d %H:%M:%S", math.floor(ts)) or "-"
end

local function duration(a, b)
  if not a then return "-" end
  return term.seconds((b or os.time()) - a)
end

-- an aligned table of rows (lists of strings) under a bold header (dagster.term's printer),
-- each line cut to the terminal's width
local function grid(header, rows)
  local text = term.table(header, rows, { paint = function(line) return paint("bold", line) end })
  if not env.tty then return text end
  local out = {}
  for line in (text .. "\n"):gmatch("(.-)\n") do out[#out + 1] = term.cut(line, env.cols) end
  return concat(out, "\n")
end

local function cell(v) return v == nil and "-" or tostring(v) end

local function first_line(s) return s and tostring(s):match("[^\n]*") or "" end

local function tick_text(t)
  if type(t) ~= "table" then return "-" end
  return short_time(t.timestamp) .. " " .. status_text(t.status)
end

-- The lists the REPL prints as tables: `is` tells an element of the list apart (every
-- element must pass), `row` makes its cells, `type` is the element's type in the API
-- table (an empty list of it prints its header). One printer (grid) for them all.
local VIEWS = {
  { name = "runs", type = "dagster.RunSummary", is = function(x) return x.run_id and x.status end,
    header = { "RUN", "JOB", "STATUS", "STARTED", "DURATION" },
    row = function(r)
      return { tostring(r.run_id), cell(r.job_name), status_text(r.status),
        short_time(r.start_time), duration(r.start_time, r.end_time) }
    end },
  { name = "locations", type = "dagster.Location", is = function(x) return x.name and x.load_status end,
    header = { "LOCATION", "STATUS", "ERROR" },
    row = function(l)
      return { tostring(l.name), status_text(l.error and "FAILURE" or l.load_status),
        l.error and paint("red", first_line(l.error)) or "" }
    end },
  { name = "schedules", type = "dagster.Schedule", is = function(x) return x.cron_schedule and x.selector_id end,
    header = { "SCHEDULE", "LOCATION", "STATUS", "CRON", "LAST TICK" },
    row = function(x)
      return { tostring(x.name), cell(x.location), status_text(x.status), tostring(x.cron_schedule),
        tick_text(x.last_tick) }
    end },
  { name = "sensors", type = "dagster.Sensor", is = function(x) return x.job_names and x.selector_id end,
    header = { "SENSOR", "LOCATION", "STATUS", "INTERVAL", "LAST TICK" },
    row = function(x)
      return { tostring(x.name), cell(x.location), status_text(x.status),
        x.min_interval and term.seconds(x.min_interval) or "-", tick_text(x.last_tick) }
    end },
  { name = "backfills", type = "dagster.Backfill", is = function(x) return x.id and x.status and x.asset_keys end,
    header = { "BACKFILL", "STATUS", "TARGET", "PARTITIONS", "CREATED" },
    row = function(b)
      local target = b.job_name or concat(b.asset_keys, ",")
      local parts = cell(b.num_partitions)
      if type(b.counts) == "table" then
        parts = fmt("%d/%d", b.counts.succeeded or 0, b.counts.requested or 0)
      end
      return { tostring(b.id), status_text(b.status), target, parts, short_time(b.created) }
    end },
  { name = "assets", type = "dagster.Asset", is = function(x) return x.path and type(x.key) == "table" end,
    header = { "ASSET", "GROUP", "LAST MATERIALIZATION", "HEALTH" },
    row = function(a)
      return { tostring(a.path), cell(a.group), short_time(a.latest_materialization),
        a.health and status_text(a.health) or "" }
    end },
  { name = "jobs", type = "dagster.Job", is = function(x) return x.is_asset_job ~= nil and x.name and x.location end,
    header = { "JOB", "LOCATION", "ASSET JOB", "PARTITIONED" },
    row = function(j)
      return { tostring(j.name), tostring(j.location), j.is_asset_job and "yes" or "no",
        j.partitioned and "yes" or (j.partitioned == nil and "-" or "no") }
    end },
  { name = "queued runs", is = function(x) return x.run_id and x.held_by end,
    header = { "RUN", "JOB", "QUEUED FOR", "HELD BY" },
    row = function(r)
      local why = {}
      for i, h in ipairs(r.held_by) do why[i] = h.text end
      return { tostring(r.run_id), cell(r.job_name), r.queued_for and term.seconds(r.queued_for) or "-",
        #why > 0 and concat(why, "; ") or "-" }
    end },
  { name = "pools", type = "dagster.Pool", is = function(x) return x.pool and x.claimed and x.pending end,
    header = { "POOL", "LIMIT", "CLAIMED", "PENDING" },
    row = function(p)
      return { tostring(p.pool), cell(p.limit), tostring(#p.claimed), tostring(#p.pending) }
    end },
  { name = "daemons", type = "dagster.DaemonStatus", is = function(x) return x.type and x.required ~= nil and x.errors end,
    header = { "DAEMON", "REQUIRED", "HEALTHY", "LAST HEARTBEAT", "ERRORS" },
    row = function(d)
      local healthy = d.healthy == nil and "-" or (d.healthy and paint("green", "yes") or paint("red", "no"))
      return { tostring(d.type), d.required and "yes" or "no", healthy,
        d.last_heartbeat and (term.seconds(os.time() - d.last_heartbeat) .. " ago") or "never",
        d.errors[1] and paint("red", first_line(d.errors[1])) or "" }
    end },
  { name = "asset health", type = "dagster.AssetHealth", is = function(x) return x.asset and x.materializable ~= nil end,
    header = { "ASSET", "GROUP", "PARTITIONS", "LATEST RUN", "STATE" },
    row = function(a)
      local p = type(a.partitions) == "table" and a.partitions
      local parts = p and fmt("%d/%d ok, %d failed", p.materialized, p.total, p.failed) or "-"
      local r = type(a.latest_run) == "table" and a.latest_run
      local done = a.latest_materialization or (p and p.materialized > 0)
      local state = a.in_progress and status_text("IN_PROGRESS")
        or a.failed and status_text("FAILED") or done and status_text("OK") or "-"
      return { tostring(a.asset), cell(a.group), parts,
        r and (tostring(r.run_id):sub(1, 8) .. " " .. status_text(r.status)) or "-", state }
    end },
  { name = "asset checks", type = "dagster.AssetCheck", is = function(x) return x.asset and x.name and x.can_execute ~= nil end,
    header = { "ASSET", "CHECK", "LAST", "SEVERITY", "WHEN", "DESCRIPTION" },
    row = function(c)
      local l = type(c.last) == "table" and c.last or {}
      return { tostring(c.asset), tostring(c.name), l.status and status_text(l.status) or "-",
        cell(l.severity), short_time(l.time), first_line(l.description or c.description) }
    end },
  { name = "check results", type = "dagster.CheckResult", is = function(x) return x.asset and x.name and x.status and x.can_execute == nil end,
    header = { "ASSET", "CHECK", "STATUS", "SEVERITY", "DESCRIPTION" },
    row = function(r)
      return { tostring(r.asset), tostring(r.name), status_text(r.status), cell(r.severity),
        first_line(r.description) }
    end },
  { name = "events", is = function(x) return x.type and x.timestamp and x.run_id end,
    header = { "TIME", "TYPE", "STEP", "MESSAGE" },
    row = function(e)
      local msg = first_line(e.message)
      if e.error_message then msg = msg .. ": " .. first_line(e.error_message) end
      local ty = e.event_type or (e.level and "LOG " .. tostring(e.level)) or tostring(e.type)
      if ty:find("FAILURE") or e.level == "ERROR" then ty = paint("red", ty)
      elseif ty:find("SUCCESS") then ty = paint("green", ty) end
      return { e.timestamp and os.date("%H:%M:%S", math.floor(e.timestamp)) or "-", ty,
        cell(e.step_key), msg }
    end },
}

-- a list of strings in columns to the terminal's width, filled down then across (ls)
local function columns(title, list)
  local w = 0
  for _, x in ipairs(list) do w = math.max(w, term.width(x)) end
  local ncols = math.max(1, (env.cols + 2) // (w + 2))
  local nrows = (#list + ncols - 1) // ncols
  local out = { paint("bold", fmt("%s (%d)", title, #list)) }
  for r = 1, nrows do
    local cells = {}
    for c = 1, ncols do
      local x = list[(c - 1) * nrows + r]
      if x then cells[#cells + 1] = term.pad(x, w) end
    end
    out[#out + 1] = (concat(cells, "  "):gsub("%s+$", ""))
  end
  return concat(out, "\n")
end

local function view_named(name)
  for _, view in ipairs(VIEWS) do if view.name == name then return view end end
end

-- the rows of `list` in view `name`'s table
local function view_grid(name, list)
  local view, rows = view_named(name), {}
  for i, x in ipairs(list) do rows[i] = view.row(x) end
  return grid(view.header, rows)
end

-- "a, b, c and 12 more": at most n of a list of strings
local function some(list, n)
  if #list <= n then return concat(list, ", ") end
  return fmt("%s and %d more", concat(list, ", ", 1, n), #list - n)
end

-- The records (one value, not a list) the REPL prints in a few lines, by the type the API
-- table gives the call's result: each function returns the text, or nil for a value of
-- another shape (it then prints as Lua does).
local RECORDS = {
  ["dagster.Queue"] = function(q)
    if type(q.queued) ~= "table" or type(q.in_progress) ~= "table" then return nil end
    local d, inst = type(q.daemon) == "table" and q.daemon, type(q.instance) == "table" and q.instance or {}
    local coordinator = not d and paint("red", "no run coordinator")
      or d.healthy == false and paint("red", "run coordinator unhealthy")
      or "run coordinator healthy"
    if d and d.last_heartbeat then
      coordinator = fmt("%s (heartbeat %s ago)", coordinator, term.seconds(os.time() - d.last_heartbeat))
    end
    local out = { fmt("%d queued, %d in progress; %s%s", #q.queued, #q.in_progress, coordinator,
      math.type(inst.max_concurrent_runs) == "integer" and inst.max_concurrent_runs >= 0
      and fmt("; at most %d runs at once", inst.max_concurrent_runs) or "") }
    if #q.queued > 0 then out[#out + 1] = view_grid("queued runs", q.queued) end
    if #q.in_progress > 0 then out[#out + 1] = view_grid("runs", q.in_progress) end
    if type(q.pools) == "table" and #q.pools > 0 then out[#out + 1] = view_grid("pools", q.pools) end
    return concat(out, "\n\n")
  end,
  ["dagster.AssetHealth"] = function(a)
    local view = view_named("asset health")
    if not view.is(a) then return nil end
    local out = { grid(view.header, { view.row(a) }) }
    local runs = type(a.failed_runs) == "table" and a.failed_runs or {}
    for _, k in ipairs { { "failed", a.failed_partitions }, { "in progress", a.in_progress_partitions } } do
      local what, keys = k[1], k[2]
      if type(keys) == "table" and #keys > 0 then
        local named = {}
        for i, key in ipairs(keys) do
          local r = runs[key]
          named[i] = r and r.run_id and fmt("%s (run %s)", key, tostring(r.run_id):sub(1, 8)) or tostring(key)
        end
        out[#out + 1] = fmt("%s partitions (%d): %s", what, #keys, some(named, 10))
      end
    end
    if type(a.checks) == "table" and #a.checks > 0 then
      out[#out + 1] = "\n" .. view_grid("asset checks", a.checks)
    end
    return concat(out, "\n")
  end,
}

-- the type of what the method or function a line called returns, as the API table has it
local function result_type(call)
  local a = call and api()
  local en = a and (a.by_name["client:" .. call] or a.by_name["dagster." .. call])
  return en and en.returns and en.returns[1] and en.returns[1].type
end

-- an empty list from a call the API says returns a list: the header of its table, or of
-- its columns, and "(0 rows)"; nil for anything else
local function empty_list(v, call)
  if type(v) ~= "table" or next(v) ~= nil then return nil end
  local ty = result_type(call)
  local elem = type(ty) == "string" and ty:match("^(.-)%[%]$")
  if not elem then return nil end
  if call == "partitions" or call == "check_partitions" then return columns("PARTITIONS", v) end
  for _, view in ipairs(VIEWS) do
    if view.type == elem then return grid(view.header, {}) .. "\n" .. paint("grey", "(0 rows)") end
  end
end

-- a record the REPL knows (see RECORDS), by the type of the call's result; nil otherwise
local function as_record(v, call)
  if type(v) ~= "table" or is_list(v) or getmetatable(v) ~= nil then return nil end
  local ty = result_type(call)
  local render = ty and RECORDS[ty]
  return render and render(v) or nil
end

-- lists the REPL knows as tables (see VIEWS), and records (RECORDS); nil for anything
-- else. call: the API method the line called, when one (a list of strings from partitions
-- prints in columns)
local function as_table(v, call)
  if not is_list(v) then return empty_list(v, call) or as_record(v, call) end
  if type(v[1]) == "string" and (call == "partitions" or call == "check_partitions") then
    for _, x in ipairs(v) do if type(x) ~= "string" then return nil end end
    return columns("PARTITIONS", v)
  end
  if type(v[1]) ~= "table" then return nil end
  for _, view in ipairs(VIEWS) do
    if view.is(v[1]) then
      local rows = {}
      for i, x in ipairs(v) do
        if type(x) ~= "table" or not view.is(x) then return nil end
        rows[i] = view.row(x)
      end
      return grid(view.header, rows)
    end
  end
end

function M.render(v, call)
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__name") == "dagster.Timeline" then
    return v:render { width = env.cols, colour = colour_on() }
  end
  return as_table(v, call) or inspect(v)
end

-- cuts text taller than the terminal, with a note saying how to see all of it
local function fit(text)
  local rows = math.max((env.rows or 24) - 2, 5)
  if not env.tty then return text end
  local lines = {}
  for l in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
  if #lines <= rows then return text end
  return concat(lines, "\n", 1, rows - 1) ..
    paint("grey", fmt("\n... %d more lines (print(dagster.inspect(_)) shows them all)",
      #lines - rows + 1))
end

local function show(call, n, ...)
  local parts = {}
  local sep = "\t"
  local grid1 = as_table((...), call)
  for i = 1, n do
    parts[i] = i == 1 and grid1 or M.render((select(i, ...)), call)
    if parts[i]:find("\n") then sep = "\n" end   -- a table or a dump: the next on a line of its own
  end
  -- after a list shown as a table, the nils that end the results say nothing (a listing's
  -- cursor when no page follows: client:backfills()); `lua` would print them
  if grid1 then
    while n > 1 and select(n, ...) == nil do parts[n], n = nil, n - 1 end
  end
  io.stdout:write(fit(concat(parts, sep)), "\n")
end

------------------------------------------------------------------------------------------
-- Running one line
------------------------------------------------------------------------------------------

local last_trace
local missing_hint   -- (below, with help's suggestions)

-- trace() prints the traceback of the last error (`_err`)
function M.trace()
  io.stdout:write(last_trace or "no error yet", "\n")
end

local function interrupted(e) return E.is(e, "Interrupted") end
-- what the prompt says of it: Ctrl-C's in one word; SIGTERM's, which ends the REPL, whole
local function interruption(e)
  return paint("yellow", e.signal == "SIGTERM" and tostring(e) or "Interrupted")
end

-- the client method or module function a line calls, when it calls exactly one the API
-- describes (the client's tail calls leave no frame to read it from), and the first one
-- it calls, the outermost as a line is written (client:events(client:runs{}[1].run_id))
local function api_call(line)
  local a, first, several = api(), nil, false
  if not a or not line then return nil end
  for sep, name in line:gmatch("([.:])([%a_][%w_]*)%s*[%(\"'{]") do
    if a.by_name[(sep == ":" and "client:" or "dagster.") .. name] then
      if first and first ~= name then several = true end
      first = first or name
    end
  end
  return not several and first or nil, first
end

-- an error value as text: a string as it is, anything else as the prompt shows values (a
-- table's fields, a __tostring's string, or what it says when __tostring fails)
local function error_text(e)
  return type(e) == "string" and e or inspect(e)
end

-- runs fn (one compiled line); prints its results or its error
function M.run(fn, line)
  local t0 = dagster.now()
  local res = table.pack(xpcall(fn, function(e)
    -- the traceback of the user's code only: the REPL's own frames are cut off, and an
    -- argument error starts at the caller's line, as the host's tracebacks do (run.c)
    local level = 2
    if type(e) == "string" and e:find("bad argument #", 1, true) then
      level = nil                       -- the line itself was a tail call: no frame of its own
      for l = 2, 64 do
        local info = debug.getinfo(l, "S")
        if info == nil or info.source:find("lua/dagster/repl.lua", 1, true) then break end
        if info.what ~= "C" and not info.source:find("lua/dagster/", 1, true) then level = l; break end
      end
    end
    last_trace = level and debug.traceback(error_text(e), level)
      :gsub("\n%s*%[C%]: in function 'xpcall'.*$", "") or e
    return e
  end))
  local took = dagster.now() - t0
  if line and (line:find("reload_repository_location", 1, true)
      or line:find("shutdown_repository_location", 1, true)) then
    M.forget()
  end
  local call, first = api_call(line)
  if res[1] and first == "events" and type(res[2]) == "function" and res.n >= 2 then
    -- client:events(id) at the prompt: the events it gives, read to the end (with follow,
    -- to the run's end or Ctrl-C), as a list
    local list, iter = {}, res[2]
    call = "events"
    local ok, e = pcall(function() for ev in iter do list[#list + 1] = ev end end)
    res = table.pack(true, list)
    if not ok then
      if not interrupted(e) then res = table.pack(false, e) end
      rawset(_G, "_err", e)
      if interrupted(e) then io.stdout:write(interruption(e), "\n") end
    end
  end
  if res[1] then
    if res.n > 1 then
      rawset(_G, "_", res[2])
      show(call or first, res.n - 1, table.unpack(res, 2, res.n))
    end
  else
    local e = res[2]
    rawset(_G, "_err", e)
    if interrupted(e) then
      io.stdout:write(interruption(e), "\n")
    elseif E.is(e) then
      local op = api_call(line) or (type(e.operation) == "string" and e.operation) or nil
      io.stdout:write(paint("red", tostring(e)), op and paint("grey", " (" .. op .. ")") or "",
        paint("grey", "  [_err, trace()]"), "\n")
    else
      io.stdout:write(paint("red", last_trace or error_text(e)), "\n")
      local hint = missing_hint(e, line)
      if hint then io.stdout:write(paint("grey", hint), "\n") end
    end
  end
  if took >= 0.5 then io.stdout:write(paint("grey", fmt("(%.2f s)", took)), "\n") end
  io.stdout:flush()
end

------------------------------------------------------------------------------------------
-- help
------------------------------------------------------------------------------------------

local function signature(en)
  local args = {}
  for i, a in ipairs(en.args or {}) do
    args[i] = a.optional and "[" .. a.name .. "]" or a.name
  end
  return fmt("%s(%s)", en.name, concat(args, ", "))
end

-- text folded at the terminal's width, continuation lines indented by `indent` (the first
-- keeps its own)
local function wrap(text, indent)
  local width = math.max((env.cols or 80) - 1, 40)
  if #text <= width then return text end
  local lines, line = {}, text:match("^%s*")
  for word in text:gmatch("%S+%s*") do
    if #line + #word > width and line ~= "" then
      lines[#lines + 1] = line:gsub("%s+$", "")
      line = rep(" ", indent)
    end
    line = line .. word
  end
  lines[#lines + 1] = line
  return concat(lines, "\n")
end

-- the entries a name that has none may have meant: those whose own name holds it, else those
-- a typo or two away (help "wait" -> the waits; help "wait_fr_run" -> wait_for_run)
local function near_entries(a, what)
  local name = what:gsub("^client[:.]", ""):gsub("^dagster%.", ""):gsub("^pb[:.]", ""):lower()
  local holding, shorts, by_short = {}, {}, {}
  if #name < 3 then return holding end   -- "x" is in too many names to say anything
  for _, en in ipairs(a.entries) do
    local short = (en.name:match("[:.]([%w_]+)$") or en.name):lower()
    if short:find(name, 1, true) then
      holding[#holding + 1] = en.name
    elseif by_short[short] then
      table.insert(by_short[short], en.name)
    else
      by_short[short] = { en.name }
      shorts[#shorts + 1] = short
    end
  end
  local out = holding
  if #out == 0 then  -- the typo rule of every "did you mean" (term.near), on the short names
    for _, short in ipairs(term.near(name, shorts)) do
      for _, n in ipairs(by_short[short]) do out[#out + 1] = n end
    end
  end
  -- a plural of a name's word: help "daemons" -> daemon_health
  if #out == 0 and #name > 3 and name:sub(-1) == "s" then return near_entries(a, name:sub(1, -2)) end
  table.sort(out)
  return out
end

-- what ends a "no such name" message: the names (at most eight) it may have meant, else
-- where to find them all
local function suggestion(near)
  if #near == 0 then return " (help() lists them all)" end
  if #near > 8 then near = { table.unpack(near, 1, 8) }; near[9] = "..." end
  return "; did you mean " .. concat(near, ", ") .. "?"
end

-- A line that called a client method or a dagster function that does not exist: what it
-- may have meant (Lua's own message names only the missing method); nil for other errors.
missing_hint = function(e, line)
  local a = type(e) == "string" and line and api()
  if not a then return nil end
  local name = e:match("attempt to call a nil value %(method '([%w_]+)'%)")
  local what = name and line:find("client:" .. name, 1, true) and "client:" .. name
  if not what then
    name = e:match("attempt to call a nil value %(field '([%w_]+)'%)")
    what = name and line:find("dagster." .. name, 1, true) and "dagster." .. name
  end
  if not what then return nil end
  local prefix, near = what:match("^%a+[:.]"), {}
  for _, n in ipairs(near_entries(a, what)) do
    if n:sub(1, #prefix) == prefix then near[#near + 1] = n end
  end
  return fmt("%s has no %s %s%s", prefix == "client:" and "client" or "dagster",
    prefix == "client:" and "method" or "function", name, suggestion(near))
end

-- the entry a function value or a name stands for: "wait_for_run", "client:wait_for_run",
-- "dagster.client", "playbook", "playbook.define", "pb:step" (or "pb.step")
local function find_entry(a, what)
  if type(what) == "string" then
    local method = what:match("^pb[:.]([%w_]+)$")
    if method then return a.by_name["pb:" .. method] end
    local name = what:gsub("^client[:.]", ""):gsub("^dagster%.", "")
    return a.by_name[what] or a.by_name["client:" .. name] or a.by_name["dagster." .. name]
      or a.by_name[name]
  end
  if type(what) == "function" then
    local Client = require "dagster.client"
    -- the playbook module and its pb, when something loaded them (help loads nothing)
    local playbook = package.loaded["dagster.playbook"]
    local object = package.loaded["dagster.playbook.object"]
    local PB = type(object) == "table" and object.PB
    for _, en in ipairs(a.entries) do
      local short = en.name:match("^client:(.+)$")
      if short and rawget(Client, short) == what then return en end
      local mod = en.name:match("^dagster%.([%w_]+)$")
      if mod and rawget(dagster, mod) == what then return en end
      local pbm = en.name:match("^pb:(.+)$")
      if pbm and type(PB) == "table" and rawget(PB, pbm) == what then return en end
      local fn = en.name:match("^playbook%.(.+)$")
      if fn and type(playbook) == "table" and rawget(playbook, fn) == what then return en end
    end
  end
end

-- the group help() lists an entry in, and the name it is listed by
local GROUPS = {
  { title = "The module", note = "(dagster.*)", short = "^dagster%.(.+)$" },
  { title = "The client", note = "(client:*)", short = "^client:(.+)$" },
  { title = "Playbooks", note = '(dagster.playbook and the pb a body is given; help "playbook")' },
}
local function group_of(en)
  for i, g in ipairs(GROUPS) do
    local short = g.short and en.name:match(g.short)
    if short then return i, short end
  end
  return #GROUPS, en.name
end

-- the lines of a topic's section: each field's name (or code), its doc and its type
local function section_lines(sec, out)
  out[#out + 1] = paint("bold", sec.title) .. ":"
  local w = 0
  for _, f in ipairs(sec.fields) do w = math.max(w, #(f.code and tostring(f.code) or f.name)) end
  local width = math.max((env.cols or 80) - 1, 40)
  for _, f in ipairs(sec.fields) do
    local left = f.code and tostring(f.code) or f.name
    local doc = f.code and (f.name .. ": " .. f.doc) or f.doc
    local text = wrap(fmt("  %-" .. w .. "s  %s", left, doc), w + 4)
    if f.type and sec.class then          -- the type, in grey, after the doc or below it
      local ty = "(" .. f.type .. (f.optional and ", optional" or "") .. ")"
      local last = text:match("[^\n]*$")
      text = text .. (#last + 1 + #ty <= width and " " or "\n" .. rep(" ", w + 4)) .. paint("grey", ty)
    end
    out[#out + 1] = text
  end
end

function M.help(what)
  local a = api()
  if not a then print("help: the API description (dagster.api) is not available") return end
  local out = {}
  if what == nil then
    local lists = {}
    for i in ipairs(GROUPS) do lists[i] = {} end
    for _, en in ipairs(a.entries) do
      local i, short = group_of(en)
      local line = fmt("  %-28s %s", short, en.summary or "")
      local width = math.max((env.cols or 80) - 1, 40)
      if #line > width then line = line:sub(1, width - 3) .. "..." end
      lists[i][#lists[i] + 1] = line
    end
    for i, g in ipairs(GROUPS) do
      out[#out + 1] = (i > 1 and "\n" or "") .. paint("bold", g.title) .. " " .. g.note .. ":"
      for _, line in ipairs(lists[i]) do out[#out + 1] = line end
    end
    out[#out + 1] = "\nhelp \"name\" (or help(client.wait_for_run)) shows one in full. " ..
      "After an error, _err holds it and trace() prints its traceback; _ holds the last result."
  elseif find_entry(a, what) and find_entry(a, what).kind == "topic" then
    local en = find_entry(a, what)
    out[1] = paint("bold", en.name)
    out[2] = "  " .. en.summary
    if en.doc then out[#out + 1] = wrap("  " .. en.doc, 2) end
    for _, sec in ipairs(en.sections) do section_lines(sec, out) end
    -- the functions (playbook.*) or methods (pb:*) the topic is about
    local related, w = {}, 0
    for _, x in ipairs(a.entries) do
      local short = x.name:sub(1, #en.name + 1):find("^" .. en.name .. "[.:]$") and x.name:sub(#en.name + 2)
      if short then
        related[#related + 1] = { short, x }
        w = math.max(w, #short)
      end
    end
    if #related > 0 then
      out[#out + 1] = paint("bold", related[1][2].kind == "method" and "Methods" or "Functions") ..
        " (help \"" .. related[1][2].name .. "\" shows one):"
      for _, r in ipairs(related) do
        out[#out + 1] = wrap(fmt("  %-" .. w .. "s  %s", r[1], r[2].summary), w + 4)
      end
    end
    if en.example then out[#out + 1] = "Example:\n  " .. en.example:gsub("\n", "\n  ") end
  else
    local en = find_entry(a, what)
    if not en then
      local near = type(what) == "string" and near_entries(a, what) or {}
      print(fmt("help: no entry for %s%s", tostring(what), suggestion(near)))
      return
    end
    out[1] = paint("bold", signature(en))
    out[2] = "  " .. (en.summary or "")
    if en.doc then out[#out + 1] = wrap("  " .. en.doc, 2) end
    if en.options and #en.options > 0 then
      out[#out + 1] = "Options:"
      local w = 0
      for _, o in ipairs(en.options) do w = math.max(w, #o.name) end
      for _, o in ipairs(en.options) do
        local doc = (o.doc or "") .. (o.default ~= nil and fmt(" (default %s)", tostring(o.default)) or "")
        out[#out + 1] = wrap(fmt("  %-" .. w .. "s  %s", o.name, doc), w + 4)
        out[#out + 1] = paint("grey", fmt("  %-" .. w .. "s  %s", "", o.type or ""))
      end
    end
    if en.returns and #en.returns > 0 then
      local r = {}
      for i, x in ipairs(en.returns) do
        r[i] = x.type .. (x.doc and (": " .. x.doc) or "")
      end
      out[#out + 1] = wrap("Returns: " .. concat(r, "; "), 2)
    end
    if en.errors and #en.errors > 0 then
      out[#out + 1] = wrap("Raises: " .. concat(en.errors, ", ") ..
        (en.async and ", and the transport errors (TimeoutError, ConnectionError, ...)" or ""), 2)
    end
    if en.example then out[#out + 1] = "Example:\n  " .. en.example:gsub("\n", "\n  ") end
  end
  io.stdout:write(concat(out, "\n"), "\n")
end

------------------------------------------------------------------------------------------
-- Completion
------------------------------------------------------------------------------------------

local KEYWORDS = { "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until",
  "while" }

-- t[k] without running code: rawget, then __index while it is a table
local function peek(t, k)
  for _ = 1, 16 do
    if type(t) ~= "table" then return nil end
    local v = rawget(t, k)
    if v ~= nil then return v end
    local mt = getmetatable(t)
    local idx = type(mt) == "table" and rawget(mt, "__index") or nil
    if type(idx) ~= "table" then return nil end
    t = idx
  end
end

-- every string key reachable from t (own keys, then __index tables), with its value
local function keys_of(t)
  local out, seen = {}, {}
  for _ = 1, 16 do
    if type(t) ~= "table" or seen[t] then break end
    seen[t] = true
    for k, v in next, t do
      if type(k) == "string" and k:match("^[%a_][%w_]*$") and out[k] == nil then out[k] = v end
    end
    local mt = getmetatable(t)
    local idx = type(mt) == "table" and rawget(mt, "__index") or nil
    t = idx
  end
  return out
end

local function is_client(v)
  return type(v) == "table" and getmetatable(v) == require("dagster.client")
end

-- the value a dotted name ("a.b.c") stands for, read without running code
local function resolve(path)
  local v = _G
  for part in path:gmatch("[^.]+") do
    v = peek(v, part)
    if v == nil then return nil end
  end
  return v
end

local function sorted_matches(names, prefix, suffix)
  local out, seen = {}, {}
  for _, n in ipairs(names) do
    if n:sub(1, #prefix) == prefix and not seen[n] then
      seen[n] = true
      out[#out + 1] = n
    end
  end
  table.sort(out)
  if suffix then for i, n in ipairs(out) do out[i] = n .. suffix end end
  return out
end

-- the client methods the API describes (the lazily loaded workflows among them)
local function api_methods()
  local a, out = api(), {}
  for _, en in ipairs(a and a.entries or {}) do
    local m = en.name:match("^client:(.+)$")
    if m then out[#out + 1] = m end
  end
  return out
end

-- completions of an expression word: "na", "a.b.na", "obj:me"
local function complete_expr(word)
  local base, sep, prefix = word:match("^(.-)([.:])([%w_]*)$")
  local names = {}
  if not base then
    prefix = word
    for k in pairs(keys_of(_G)) do names[#names + 1] = k end
    for _, k in ipairs(KEYWORDS) do names[#names + 1] = k end
    return sorted_matches(names, prefix)
  end
  if not base:match("^[%a_][%w_.]*$") or base:find("..", 1, true) or base:find("%.$") then
    return {}
  end
  local v = resolve(base)
  if type(v) ~= "table" then return {} end
  for k, x in pairs(keys_of(v)) do
    if sep == "." or type(x) == "function" then names[#names + 1] = k end
  end
  if is_client(v) then
    for _, m in ipairs(api_methods()) do names[#names + 1] = m end
  end
  local head = base .. sep
  local out = sorted_matches(names, prefix)
  for i, n in ipairs(out) do out[i] = head .. n end
  return out
end

-- The call the cursor is inside: scans `before` (strings, brackets, commas) and returns
-- {callee =, argn =, in_string = quote or nil, prefix = the string's text so far, in_table =
-- true at a key position of a table inside that argument, option = the key whose string
-- value is being typed, path = the keys from the argument's table to the cursor (option
-- included), strings = the call's string arguments, keys = the string values of the
-- argument table's keys (a location named there), lists = the strings of list tables
-- given as arguments}
local KEYWORDS = { ["and"] = true, ["or"] = true, ["not"] = true, ["return"] = true,
  ["in"] = true, ["then"] = true, ["do"] = true, ["else"] = true, ["local"] = true }

local function context(before)
  -- open brackets: {ch =, callee =, argn =, key = at key position, last_key =, at = the key
  -- this table is the value of (false in a list position)}
  local stack = {}
  local i, n = 1, #before
  local quote, qstart
  local function call_of(k)   -- the nearest "(" frame at or below k
    for j = k, 1, -1 do if stack[j].ch == "(" then return stack[j], j end end
  end
  while i <= n do
    local c = before:sub(i, i)
    if quote then
      if c == "\\" then i = i + 1
      elseif c == quote then
        quote = nil
        -- a finished string literal: the call keeps what it says
        local text, top, below = before:sub(qstart + 1, i - 1), stack[#stack], stack[#stack - 1]
        if top and top.ch == "(" then
          top.strings = top.strings or {}
          top.strings[top.argn] = text
        elseif top and top.ch == "{" and below and below.ch == "(" then
          if top.key then
            below.lists = below.lists or {}
            below.lists[below.argn] = below.lists[below.argn] or {}
            table.insert(below.lists[below.argn], text)
          elseif top.last_key then
            below.keys = below.keys or {}
            below.keys[top.last_key] = text
          end
        end
      end
    elseif c == '"' or c == "'" then
      quote, qstart = c, i
    elseif c == "-" and before:sub(i, i + 1) == "--" then
      return nil
    elseif c == "(" then
      local callee = before:sub(1, i - 1):match("([%a_][%w_.:]*)%s*$")
      stack[#stack + 1] = { ch = "(", callee = callee, argn = 1 }
    elseif c == "{" then
      -- f{...} is a call too: its table is argument 1
      local callee = before:sub(1, i - 1):match("([%a_][%w_.:]*)%s*$")
      local top = stack[#stack]
      if callee and not KEYWORDS[callee] and not (top and top.ch == "{" and top.key) then
        stack[#stack + 1] = { ch = "(", callee = callee, argn = 1, table_call = true }
        top = stack[#stack]
      end
      local at = false
      if top and top.ch == "{" and not top.key then at = top.last_key or false end
      stack[#stack + 1] = { ch = "{", key = true, at = at }
    elseif c == ")" or c == "}" then
      stack[#stack] = nil
      if c == "}" and stack[#stack] and stack[#stack].table_call then stack[#stack] = nil end
    elseif c == "," or c == ";" then
      local top = stack[#stack]
      if top and top.ch == "(" then top.argn = top.argn + 1
      elseif top and top.ch == "{" then top.key, top.last_key = true, nil end
    elseif c == "=" and before:sub(i + 1, i + 1) ~= "=" then
      local top = stack[#stack]
      if top and top.ch == "{" then
        top.key = false
        top.last_key = before:sub(1, i - 1):match("([%a_][%w_]*)%s*$")
      end
    end
    i = i + 1
  end
  local top = stack[#stack]
  if not top then return nil end
  local call, ci = call_of(#stack)
  if not call then return nil end
  -- the keys from the argument's table (stack[ci + 1]) to the top table
  local path = {}
  for j = ci + 2, #stack do
    if not stack[j].at then path = nil; break end
    path[#path + 1] = stack[j].at
  end
  local ctx = { callee = call.callee, argn = call.argn, strings = call.strings or {},
                keys = call.keys or {}, lists = call.lists or {} }
  if quote and top.ch == "(" then
    ctx.in_string, ctx.prefix = quote, before:sub(qstart + 1)
    return ctx
  end
  if not path then return nil end
  -- a string in a list that is the argument itself: materialize({"a", "b...
  if quote and top.ch == "{" and top.key and #path == 0 then
    ctx.in_string, ctx.prefix, ctx.list_item = quote, before:sub(qstart + 1), true
    return ctx
  end
  -- a string value: runs{job_name = "..., run_config = {ops = {x = {config = {mode = "...
  if quote and top.ch == "{" and not top.key and top.last_key then
    path[#path + 1] = top.last_key
    ctx.in_string, ctx.prefix, ctx.option, ctx.path = quote, before:sub(qstart + 1), path[1], path
    return ctx
  end
  if not quote and top.ch == "{" and top.key then
    ctx.in_table, ctx.path = true, path
    return ctx
  end
end

-- the API entry of a callee text ("client:submit_job_execution", "c:jobs", "dagster.client")
local function entry_of(callee)
  local a = api()
  if not a or not callee then return nil end
  local obj, method = callee:match("^(.-):([%w_]+)$")
  if obj then
    local v = resolve(obj)
    if is_client(v) then return a.by_name["client:" .. method], v end
    -- a playbook's pb (at the REPL after `dagster-lua -i`, or in a debugger): its client
    local object = package.loaded["dagster.playbook.object"]
    if type(v) == "table" and type(object) == "table" and getmetatable(v) == object.PB then
      local c = rawget(v, "client")
      return a.by_name["pb:" .. method], is_client(c) and c or nil
    end
    return nil
  end
  return a.by_name[callee]
end

------------------------------------------------------------------------------------------
-- Names from the server, cached
------------------------------------------------------------------------------------------

local CACHE_TTL, FAILED_TTL, TAB_BUDGET = 30, 2, 0.3
local cache = setmetatable({}, { __mode = "k" })   -- client -> kind -> {at =, names =}

function M.forget() cache = setmetatable({}, { __mode = "k" }) end

local D = require "dagster.documents"

-- one request of at most TAB_BUDGET seconds; the names it gives, or {} on any failure
local FETCH = {
  job = { D.job_names, "DagsterLuaJobNames", function(d)
    local out = { places = {} }   -- places: name -> {location =, repository =}, the first
    for _, repo in ipairs(d.repositoriesOrError.nodes) do
      for _, j in ipairs(repo.jobs) do
        out[#out + 1] = j.name
        out.places[j.name] = out.places[j.name] or
          { location = repo.location.name, repository = repo.name }
      end
    end
    return out
  end },
  location = { D.location_statuses, "DagsterLuaLocationStatuses", function(d)
    local out = {}
    for _, e in ipairs(d.locationStatusesOrError.entries) do out[#out + 1] = e.name end
    return out
  end },
  schedule = { D.schedules, "DagsterLuaSchedules", function(d)
    local out = {}
    for _, repo in ipairs(d.repositoriesOrError.nodes) do
      for _, s in ipairs(repo.schedules) do out[#out + 1] = s.name end
    end
    return out
  end },
  sensor = { D.sensors, "DagsterLuaSensors", function(d)
    local out = {}
    for _, repo in ipairs(d.repositoriesOrError.nodes) do
      for _, s in ipairs(repo.sensors) do out[#out + 1] = s.name end
    end
    return out
  end },
  asset = { D.asset_keys, "DagsterLuaAssetKeys", function(d)
    local out = {}
    for _, node in ipairs(d.assetsOrError.nodes) do out[#out + 1] = concat(node.key.path, "/") end
    return out
  end, { limit = 500 } },
  check = { D.asset_checks, "DagsterLuaAssetChecks", function(d)   -- "asset/key:check_name"
    local out = {}
    for _, node in ipairs(d.assetNodes) do
      local r = node.assetChecksOrError
      for _, c in ipairs(r.checks or {}) do
        out[#out + 1] = concat(node.assetKey.path, "/") .. ":" .. c.name
      end
    end
    return out
  end },
  run = { D.runs, "DagsterLuaRuns", function(d)
    local out = {}
    for _, r in ipairs(d.runsOrError.results) do out[#out + 1] = r.runId end
    return out
  end, { limit = 20 } },
}

-- Dagster+ deployments, asked at the organization's URL (client:deployments says where)
FETCH.deployment = { [[
query CliDeploymentsQuery { fullDeployments { deploymentName } }]], "CliDeploymentsQuery",
  function(d)
    local out = {}
    for _, dep in ipairs(d.fullDeployments) do out[#out + 1] = dep.deploymentName end
    return out
  end, nil, function(c)
    local host = rawget(c, "org_url") or c.url:match("^(https?://[^/]+)/[^/]+/graphql$")
    return host and (host:find("/graphql$") and host or host .. "/graphql")
  end }

local function server_names(c, kind)
  if kind == "instigator" then  -- client:ticks: a schedule's or a sensor's name
    local out = {}
    for _, k in ipairs { "schedule", "sensor" } do
      for _, n in ipairs(server_names(c, k)) do out[#out + 1] = n end
    end
    return out
  end
  local f = FETCH[kind]
  if not f then return {} end
  cache[c] = cache[c] or {}
  local hit = cache[c][kind]
  local now = dagster.now()
  if hit and now - hit.at < (hit.ttl or CACHE_TTL) then return hit.names end
  local ok, names = pcall(function()
    local url = f[5] and f[5](c)
    if f[5] and not url then return {} end
    local data = c:_execute(f[1], f[4], f[2], { once = true, deadline = c:_now() + TAB_BUDGET,
      url = url })
    return f[3](data)
  end)
  -- a failure (a server slower than the budget, or down) is kept FAILED_TTL seconds only:
  -- a Tab pressed again a moment later asks again
  if not (ok and type(names) == "table") then
    cache[c][kind] = { at = now, names = {}, ttl = FAILED_TTL }
    return {}
  end
  cache[c][kind] = { at = now, names = names }
  return names
end

-- The config schema of the job a run config is for, cached per client like the names (a
-- reload forgets it); nil when it cannot be had within the Tab's budget. ctx: the call's
-- context; en: its API entry. The job is the call's job argument (its location the
-- repository_location_name or location option when given as a string); for materialize,
-- the asset job of the location holding the assets given as strings.
local SCHEMA_TTL = 300

local function config_schema(c, ctx, en)
  local job, assets
  for i, a in ipairs(en.args or {}) do
    if a.complete == "job" then job = ctx.strings[i] end
    if a.complete == "asset" then
      assets = ctx.lists[i] or (ctx.strings[i] and { ctx.strings[i] })
    end
  end
  if not job and not assets then return nil end
  local location = ctx.keys.repository_location_name or ctx.keys.location
  local id = job and ("job\0" .. job .. "\0" .. (location or "")) or
    ("assets\0" .. concat(assets, "\0") .. "\0" .. (location or ""))
  cache[c] = cache[c] or {}
  cache[c].schemas = cache[c].schemas or {}
  local hit = cache[c].schemas[id]
  local now = dagster.now()
  if hit and now - hit.at < SCHEMA_TTL then return hit.schema end
  local ok, schema = pcall(function()
    local call = { once = true, deadline = c:_now() + TAB_BUDGET }
    local sel
    if job then
      local names = server_names(c, "job")
      local place = names.places and names.places[job]
      if location and place and place.location ~= location then place = nil end
      if not place then return nil end
      sel = { pipelineName = job, repositoryLocationName = place.location,
              repositoryName = place.repository }
    else
      local keys = {}
      for i, k in ipairs(assets) do
        local path = {}
        for part in k:gmatch("[^/]+") do path[#path + 1] = part end
        keys[i] = { path = path }
      end
      local d = c:_execute(D.asset_nodes, { assetKeys = keys }, "DagsterLuaAssetNodes", call)
      local node = d.assetNodes[1]
      if not node then return nil end
      sel = { pipelineName = "__ASSET_JOB", repositoryLocationName = node.repository.location.name,
              repositoryName = node.repository.name, assetSelection = keys }
    end
    return c:_config_schema(sel, call)
  end)
  schema = ok and schema or nil
  if schema then cache[c].schemas[id] = { at = now, schema = schema } end
  return schema
end

-- the run config path of a context: the keys under the run config (nil when the cursor is
-- not in one); the config is the option or argument whose completion is "run_config"
local function config_path(ctx, en)
  if not (en and ctx.path) then return nil end
  local arg = en.args and en.args[ctx.argn]
  if arg and arg.complete == "run_config" then return ctx.path end
  if en.opts_arg ~= ctx.argn or #ctx.path == 0 then return nil end
  for _, o in ipairs(en.options or {}) do
    if o.name == ctx.path[1] and o.complete == "run_config" then
      return table.move(ctx.path, 2, #ctx.path, 1, {})
    end
  end
end

local T = require "dagster.configtype"

-- repl.complete(before, word) -> list of completions of word
function M.complete(before, word)
  local ok, res = pcall(function()
    local ctx = context(before)
    local en, c
    if ctx then en, c = entry_of(ctx.callee) end
    c = c or (is_client(rawget(_G, "client")) and rawget(_G, "client")) or nil
    local cpath = ctx and config_path(ctx, en)
    if ctx and ctx.in_string then
      local names
      if cpath then               -- an enum's value in a run config
        local schema = c and config_schema(c, ctx, en)
        names = schema and T.enum(schema, cpath) or {}
      else
        local arg = en and en.args and en.args[ctx.argn]
        if ctx.option then        -- an option's value: the option says what it names
          arg = nil
          for _, o in ipairs(en and #ctx.path == 1 and en.opts_arg == ctx.argn and en.options or {}) do
            if o.name == ctx.option then arg = o end
          end
        end
        if not (arg and arg.complete and c) then return {} end
        names = server_names(c, arg.complete)
      end
      -- the names are matched with the string's whole text so far, and each given back as
      -- the part that replaces `word`: the line editor's word starts after the last word
      -- break ("/" in "nested/ta", "-" in a date)
      local tail = word:gsub("^[\"']", "")
      local full = ctx.prefix or tail
      local cut = #full - #tail
      local out = sorted_matches(names, full, ctx.in_string)
      local quote = word:sub(1, 1) == ctx.in_string and ctx.in_string or ""
      for i, s in ipairs(out) do out[i] = quote .. s:sub(cut + 1) end
      return out
    end
    if ctx and ctx.in_table and word:match("^[%a_]*[%w_]*$") then
      if cpath then               -- a run config's keys, from the job's schema
        local schema = c and config_schema(c, ctx, en)
        local names = {}
        for i, f in ipairs(schema and T.fields(schema, cpath) or {}) do names[i] = f.name end
        return sorted_matches(names, word)
      end
      if en and #ctx.path == 0 and en.opts_arg == ctx.argn and en.options then
        local names = {}
        for i, o in ipairs(en.options) do names[i] = o.name end
        return sorted_matches(names, word)
      end
      return {}
    end
    return complete_expr(word)
  end)
  return ok and res or {}
end


return M
