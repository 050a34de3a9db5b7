-- Shared by the specs: where the real local Dagster is, how to run the host binary as a
-- process, and small polling helpers. The deployment is started once per suite by
-- scripts/test (scripts/dagster-up); a spec that needs it and finds it missing fails loudly.
local system = require "system"

local H = {}

H.root = os.getenv("DAGSTER_LUA_ROOT") or os.getenv("PWD") or "."
H.bin = os.getenv("DAGSTER_LUA_BIN") or (H.root .. "/build/dagster-lua")

-- the webserver URL (http://127.0.0.1:PORT), or an error that says how to get one
function H.url()
  local url = os.getenv("DAGSTER_URL")
  if url == nil or url == "" then
    error("DAGSTER_URL is not set: run the specs with `make test`, which starts a real Dagster", 2)
  end
  return url
end

-- the Dagster version under test (scripts/test exports DAGSTER_VERSION, read from the
-- virtualenv it set up)
function H.version()
  local v = os.getenv("DAGSTER_VERSION")
  if v == nil or v == "" then
    error("DAGSTER_VERSION is not set: run the specs with `make test`", 2)
  end
  return v
end

-- whether the version under test is at least `want` ("1.11", "1.13.2"), compared
-- number by number
function H.version_at_least(want)
  local have = {}
  for n in H.version():gmatch("%d+") do have[#have + 1] = tonumber(n) end
  local i = 0
  for n in want:gmatch("%d+") do
    i = i + 1
    local h, w = have[i] or 0, tonumber(n)
    if h ~= w then return h > w end
  end
  return true
end

function H.state_dir()
  local d = os.getenv("DAGSTER_LUA_STATE")
  if d == nil or d == "" then error("DAGSTER_LUA_STATE is not set: run `make test`", 2) end
  return d
end

function H.client(opts)
  return require("dagster").client(H.url(), opts)
end

function H.sleep(s) system.sleep(s) end
function H.now() return system.gettime() end

-- Makes change(), then makes it again until holds() is still true a second and a half after
-- it, within `timeout` seconds (default 30). Dagster's daemons write back the state they read
-- when an iteration began (the backfill daemon a backfill's status, the scheduler a
-- schedule's state on its first iteration over it), so a change made during one is lost.
function H.make_it_hold(what, change, holds, timeout)
  change()
  H.wait_until(what .. " to hold", function()
    H.sleep(1.5)
    if holds() then return true end
    change()
  end, timeout or 30, 0)
end

-- Tags of a launch whose run is never started: scripts/dagster-up holds runs tagged
-- dagster-lua/hold in the queue (a tag limit of 0). For a spec that needs a launch, or the
-- run it makes, but not the run's work (each run costs the machine about 2 s of CPU).
H.HOLD = { ["dagster-lua/hold"] = "1" }

-- the held runs still QUEUED, canceled (at once: a queued run has no process to stop)
function H.cancel_held(client)
  local ids = {}
  for _, r in ipairs(client:runs { tags = H.HOLD, statuses = { "QUEUED" }, limit = 1000 }) do
    ids[#ids + 1] = r.run_id
  end
  if #ids > 0 then client:terminate_runs(ids) end
end

-- Cancels backfill `id` (opts as for cancel_backfill) so that the cancel holds: CANCELING or
-- CANCELED (H.make_it_hold)
function H.cancel_backfill_for_good(client, id, opts)
  H.make_it_hold("the cancel of backfill " .. id,
    function() assert(client:cancel_backfill(id, opts) == true, "cancel_backfill did not answer true") end,
    function()
      local st = client:get_backfill(id).status
      return st == "CANCELING" or st == "CANCELED"
    end)
end

-- polls fn() every `interval` seconds until it returns a truthy value; returns that value,
-- or fails with `what` after `timeout` seconds
function H.wait_until(what, fn, timeout, interval)
  local deadline = H.now() + (timeout or 60)
  local last
  repeat
    local ok, v = pcall(fn)
    if ok and v then return v end
    last = ok and tostring(v) or tostring(v)
    H.sleep(interval or 0.5)
  until H.now() > deadline
  error(("timed out waiting for %s (last: %s)"):format(what, last), 2)
end

-- waits until run_id's first step has started (its STEP_START event), for a spec that then
-- terminates the run: Dagster 1.10.21 can lose a termination sent as soon as a run reports
-- STARTED, the run going on in CANCELING to its end (seen in CI three times, and in 1 of 8
-- tries here), where one sent once a step ran was never lost (8 of 8)
function H.wait_step_started(client, run_id, timeout)
  local cursor                                 -- where the last poll's events ended
  H.wait_until("a step of run " .. run_id .. " to start", function()
    local each, state = client:events(run_id, { cursor = cursor })
    for ev in each, state do
      if ev.event_type == "STEP_START" then return true end
    end
    cursor = state.cursor or cursor
  end, timeout or 120, 0.2)
end

-- polls a run until it is finished; returns its final status
local FINAL = { SUCCESS = true, FAILURE = true, CANCELED = true }
function H.wait_run(client, run_id, timeout)
  return H.wait_until("run " .. run_id .. " to finish", function()
    local s = client:get_run_status(run_id)
    return FINAL[s] and s
  end, timeout or 120, 0.5)
end

-- calls f(...), which must raise a dagster.Error; returns that error
function H.catch(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "expected an error")
  assert(require("dagster").Error.is(e), "expected a dagster.Error, got " .. tostring(e))
  return e
end

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
H.quote = shell_quote

-- runs a shell command; returns its stdout, stderr, and exit code
function H.run(cmd, stdin)
  local tmp = os.tmpname()
  local errf = os.tmpname()
  local full = cmd .. " 2>" .. errf
  if stdin then
    local inf = os.tmpname()
    local f = assert(io.open(inf, "w")); f:write(stdin); f:close()
    full = full .. " <" .. inf
  else
    full = full .. " </dev/null"
  end
  local p = assert(io.popen(full .. " >" .. tmp .. "; echo $?"))
  local code = tonumber(p:read("a"))
  p:close()
  local function slurp(path)
    local f = io.open(path, "rb"); local s = f and f:read("a") or ""; if f then f:close() end
    os.remove(path); return s
  end
  return slurp(tmp), slurp(errf), code
end

-- a file's contents, or nil when it cannot be read
function H.slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- s without its trailing white space
function H.trim(s) return (s:gsub("%s+$", "")) end

-- Starts a loopback helper server (a Python script under spec/support/) in the background.
-- args(portfile) gives its quoted arguments; the script writes the port it listens on to
-- portfile. Returns {dir, portfile, pid, port}; H.stop_server removes it all.
function H.start_server(label, script, args)
  local dir = H.trim(H.run("mktemp -d"))
  assert(dir ~= "", "mktemp -d failed")
  local portfile = dir .. "/port"
  local pid = H.trim(H.run(("python3 %s %s >%s 2>&1 & echo $!"):format(H.quote(script),
    args(H.quote(portfile)), H.quote(dir .. "/server.out"))))
  local srv = { dir = dir, portfile = portfile, pid = assert(tonumber(pid), "no pid: " .. pid) }
  srv.port = H.wait_until(label .. " to listen", function()
    local s = H.slurp(portfile)
    return s and tonumber(s)
  end, 15, 0.05)
  return srv
end

function H.stop_server(srv)
  if srv then
    os.execute("kill " .. srv.pid .. " 2>/dev/null")
    os.execute("rm -rf " .. H.quote(srv.dir))
  end
end

-- the inodes of this process's established TCP connections to `port` on this machine, as a
-- set (from /proc: the process's socket descriptors, matched in /proc/net/tcp{,6})
function H.own_connections(port)
  local pid = assert(H.slurp("/proc/self/stat")):match("^(%d+)")
  local mine = {}
  local ls = assert(io.popen("ls -l /proc/" .. pid .. "/fd 2>/dev/null"))
  for inode in ls:read("a"):gmatch("socket:%[(%d+)%]") do mine[inode] = true end
  ls:close()
  local out = {}
  for _, file in ipairs { "/proc/net/tcp", "/proc/net/tcp6" } do
    for line in (H.slurp(file) or ""):gmatch("[^\n]+") do
      local rport, st, inode =
        line:match("^%s*%d+: %x+:%x+ %x+:(%x+) (%x%x)%s+%S+%s+%S+%s+%S+%s+%S+%s+%S+%s+(%d+)")
      if rport and tonumber(rport, 16) == port and st == "01" and mine[inode] then
        out[inode] = true
      end
    end
  end
  return out
end

-- runs build/dagster-lua with the given argument string
function H.host(args, stdin)
  return H.run(shell_quote(H.bin) .. " " .. args, stdin)
end

-- the shell command that runs `dagster-lua play ARGS` against the local Dagster, with its
-- state (the journals) under dir; env is more NAME=value words for it
function H.play_cmd(dir, args, env)
  return ("env XDG_STATE_HOME=%s DAGSTER_URL=%s %s %s play %s"):format(shell_quote(dir),
    shell_quote(H.url()), env or "", shell_quote(H.bin), args)
end

-- runs that command; returns its stdout, stderr and exit status
function H.play(dir, args, env) return H.run(H.play_cmd(dir, args, env)) end

-- Starts bench/count_proxy.py in front of the local Dagster: it forwards every request and
-- writes a JSON line per POST ({op =, t =, ...}) to logfile. Returns its URL and its pid.
function H.count_proxy(logfile)
  local pid = H.trim(H.run(("python3 %s %s >%s 2>&1 & echo $!"):format(
    shell_quote(H.root .. "/bench/count_proxy.py"), shell_quote(H.url()), shell_quote(logfile))))
  local url = H.wait_until("the proxy", function()
    return (H.slurp(logfile) or ""):match("PROXY_URL=(%S+)")
  end, 30, 0.1)
  return url, pid
end

-- the POSTs a count proxy logged to logfile, decoded, in order
function H.proxy_posts(logfile)
  local json, posts = require "dagster.json", {}
  for line in (H.slurp(logfile) or ""):gmatch("[^\n]+") do
    if line:sub(1, 1) == "{" then posts[#posts + 1] = json.decode(line) end
  end
  return posts
end

-- the test virtualenv's python (with dagster, graphql-core and the official client)
function H.python()
  local venv = os.getenv("DAGSTER_LUA_VENV")
  if venv == nil or venv == "" then error("DAGSTER_LUA_VENV is not set: run `make test`", 2) end
  return venv .. "/bin/python"
end

-- The daemon (spec/daemon_spec.lua, spec/doctor_spec.lua): its process group is its
-- supervisor's pid, from scripts/dagster-up's pids/daemon.pid
function H.daemon_group()
  local path = H.state_dir() .. "/pids/daemon.pid"
  local g = tonumber((H.slurp(path) or ""):match("%d+"))
  assert(g and g > 1, "no daemon pid in " .. path .. ": scripts/dagster-up started no daemon")
  return g
end

-- pids of the dagster-daemon processes of the group (not the supervisor, whose command line
-- names the daemon's too)
function H.daemon_pids(g)
  local pids = {}
  for pid in H.run("pgrep -g " .. g .. " -f " .. H.quote("dagster-daemon(\\.py)? run")):gmatch("%d+") do
    local cmd = H.slurp("/proc/" .. pid .. "/cmdline") or ""
    if not cmd:find("supervise", 1, true) and cmd:find("dagster-daemon", 1, true) then
      pids[#pids + 1] = pid
    end
  end
  return pids
end

-- sends a signal to a process group (os.execute runs sh, dash here: its kill takes
-- `kill -SIG -PGID`, and no `--`)
function H.signal_group(sig, g)
  return os.execute(("kill -%s -%d"):format(sig, g))
end

-- The instance's SQLite databases whose write lock some process holds (the stopped daemon,
-- in the middle of a write), a line each with SQLite's message, or "": each is asked for its
-- write lock without waiting, and let go at once. (They are in WAL mode: reads never wait for
-- a writer, so only a write would meet such a lock.)
local LOCK_PROBE = [[
import glob, os, sqlite3
for p in sorted(glob.glob(os.environ["DAGSTER_HOME"] + "/**/*.db", recursive=True)):
    c = sqlite3.connect(p, timeout=0, isolation_level=None)
    try:
        c.execute("BEGIN IMMEDIATE")
        c.execute("ROLLBACK")
    except sqlite3.OperationalError as e:
        print(p, e)
    finally:
        c.close()
]]
function H.locked_databases()
  local out, err, code = H.run("python3 -", LOCK_PROBE)
  assert(code == 0, "the lock probe failed: " .. err)
  return out
end

-- Stops the daemon's group g and launches `job` while it is stopped; returns the run id, the
-- group left stopped. A daemon stopped in the middle of a write holds that database's lock
-- (the runs', the event log's, or the schedules' and sensors' while a tick is written), which
-- every later write would meet: the webserver waits for SQLite's busy timeout (5 s before
-- Dagster 1.13, 30 s since) and fails with "database is locked", or the request runs out of
-- its time first. So the group is let go on and stopped again, up to 5 times, while a
-- database is locked (H.locked_databases) or the launch fails so; a launch whose answer was
-- lost so may still be made once the lock is let go: it is found by its submission id and
-- canceled.
function H.launch_while_stopped(client, g, job)
  local dagster = require "dagster"
  local quick = dagster.client(client.url, { timeout = 10 })
  local last
  for _ = 1, 5 do
    assert(H.signal_group("STOP", g), "the daemon's group could not be stopped")
    local held = H.locked_databases()
    if held == "" then
      local sid = dagster.submission_id()
      local ok, res = pcall(quick.submit_job_execution, quick, job, { submission_id = sid })
      if ok then return res end
      H.signal_group("CONT", g)
      local timed_out = dagster.Error.is(res, "TimeoutError")
      if not (timed_out or tostring(res):find("database is locked", 1, true)) then error(res, 0) end
      -- (a request cut off can still be under way at the server)
      local lost = client:find_submission(sid, { kind = "run", wait = timed_out and 35 or 1 })
      if lost then pcall(client.terminate_run, client, lost.run_id, { force = true }) end
      last = res
    else
      H.signal_group("CONT", g)
      last = "locked: " .. held
    end
    H.sleep(0.2)   -- for the daemon to end its write before it is stopped again
  end
  error("the daemon held a database's lock at each of 5 stops; last: " .. tostring(last), 0)
end

return H
