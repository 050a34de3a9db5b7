-- The REPL as a person uses it: on a terminal (tmux, on a socket of its own), against the real
-- local Dagster. Keys are typed with send-keys and the screen is read with capture-pane.
local dagster = require "dagster"
local H = require "helper"

local server = require("tmux").server("repl")

local function enter(t, line, timeout) return t:enter(line, timeout) end

-- t:close() of a REPL: ends its session and removes its history file
local function close(t)
  getmetatable(t).close(t)
  os.remove(t.hist)
end

-- A REPL on a fresh terminal of 120 x 40 (a tmux session); env is a string of NAME=value words.
-- When the REPL exits, the shell around it prints "[exit STATUS]".
local function start(env, width, history)
  local hist = history or os.tmpname()
  if not history then os.remove(hist) end
  local cmd = ("env %s DAGSTER_LUA_HISTORY=%s %s; echo \"[exit $?]\"; sleep 600"):format(env or "",
    H.quote(hist), H.quote(H.bin))
  local t = server:session(cmd, width or 120, 40)
  t.hist, t.close = hist, close
  t:wait_for(">$")
  return t
end

describe("the REPL on a terminal", function()
  local url = H.url()
  local env = "DAGSTER_URL=" .. url
  local host = url:match("^http://(.*)$")
  local t
  -- a session that lives as long as this block: the tmux server exits with its last session,
  -- and a new session started while it exits fails ("server exited unexpectedly")
  setup(function() server:keep() end)
  after_each(function() if t then t:close(); t = nil end end)
  teardown(function() server:kill() end)

  it("starts connected: the prompt names the deployment, a banner says how to get help", function()
    t = start(env)
    local lines = t:lines()
    assert.matches("help%(%)", lines[1])
    assert.equal(("dagster %s> "):format(host), lines[2] .. " ")
    enter(t, "client.url")
    assert.truthy(t:screen():find('"' .. url .. '/graphql"', 1, true), t:screen())
  end)

  it("starts without a client when DAGSTER_URL is no URL it takes, saying so without its query", function()
    t = start("DAGSTER_URL=" .. H.quote("http://127.0.0.1:1/graphql?token=SECRET-Q"), 200)
    local lines = t:lines()
    assert.equal("dagster-lua: DAGSTER_URL http://127.0.0.1:1/graphql?...: a URL with a query or a " ..
      "fragment (? or #) is not supported (a token goes in the headers option); no client", lines[1])
    assert.matches("^dagster%-lua %S+; type help%(%) for help$", lines[2])
    assert.is_nil(t:screen():find("SECRET-Q", 1, true))
    t:type("client"); t:keys("Enter")         -- the prompt without a client is "> "
    H.wait_until("nil for client", function() return t:screen():find("\n> client\nnil\n> ?\n") end, 20, 0.05)
  end)

  it("completes client:wa<Tab> to client:wait_for_ (the lazily loaded methods included)", function()
    t = start(env)
    t:type("client:wa"); t:keys("Tab")
    t:wait_for("client:wait_for_$")
  end)

  it("completes a location name inside the string argument of reload_repository_location", function()
    t = start(env)
    t:type('client:reload_repository_location("ma'); t:keys("Tab")
    t:wait_for('client:reload_repository_location%("main"$')
  end)

  it("completes the option keys of a known method: {ru<Tab> gives run_config", function()
    t = start(env)
    t:type('client:submit_job_execution("succeed_job", {ru'); t:keys("Tab")
    t:wait_for('{run_config$')
  end)

  it("answers a Tab within half a second when the server is stopped", function()
    -- a port that refuses: the client is built, but nothing answers there
    t = start("DAGSTER_URL=http://127.0.0.1:9")
    t:type('client:reload_repository_location("')
    local t0 = H.now()
    t:keys("Tab")
    t:type("x")   -- typed after the Tab: shows once the Tab has been handled
    t:wait_for('location%("x$', 5)
    assert.is_true(H.now() - t0 < 0.5, ("the Tab took %.2f s"):format(H.now() - t0))
  end)

  it("shows a function's options with help \"submit_job_execution\"", function()
    t = start(env)
    enter(t, 'help "submit_job_execution"')
    local s = t:screen()
    for _, o in ipairs { "run_config", "tags", "op_selection", "asset_selection",
        "repository_location_name", "Returns:", "Example:" } do
      assert.truthy(s:find(o, 1, true), o .. " is missing from:\n" .. s)
    end
    -- a name with no entry: what it may have meant (a typo away, or names that hold it)
    for line, says in pairs {
      ['help "wait_fr_run"'] = "help: no entry for wait_fr_run; did you mean client:wait_for_run, client:wait_for_runs?",
      ['help "backfil"'] = "help: no entry for backfil; did you mean client:backfill, client:backfills, client:cancel_backfill",
      ['help "zzzz"'] = "help: no entry for zzzz (help() lists them all)",
    } do
      enter(t, line)
      s = t:screen()
      assert.truthy(s:find(says, 1, true), says .. " is missing from:\n" .. s)
    end
  end)

  it("prints an API error in one line and keeps it in _err", function()
    t = start(env)
    enter(t, 'client:get_run_status("no-such-run")')
    local lines = t:lines()
    assert.matches("^RunNotFoundError: .*no%-such%-run.* %(get_run_status%)", lines[#lines - 1])
    assert.matches("> client:get_run_status", lines[#lines - 2])
    enter(t, "_err.name")
    lines = t:lines()
    assert.equal('"RunNotFoundError"', lines[#lines - 1])
  end)

  it("keeps the traceback of an error in the user's own code", function()
    t = start(env)
    enter(t, 'local function f() error("boom") end f()')
    local s = t:screen()
    assert.truthy(s:find("stdin:1: boom", 1, true), s)
    assert.truthy(s:find("stack traceback:", 1, true), s)
  end)

  it("clears the line at Ctrl-C and does not exit; Ctrl-D exits", function()
    t = start(env)
    t:type("x = 1 +")
    t:wait_for("x = 1 %+$")
    t:keys("C-c")
    t:wait_for(("^dagster %s>$"):format(host:gsub("%p", "%%%0")))
    enter(t, "40 + 2")
    local lines = t:lines()
    assert.equal("42", lines[#lines - 1])
    t:keys("C-d")
    assert.equal("[exit 0]", t:wait_for("^%[exit %d+%]$", 10))
  end)

  it("interrupts a wait at Ctrl-C within a second, and the run goes on", function()
    local c = H.client()
    local id = c:submit_job_execution("slow_job")
    finally(function() pcall(c.terminate_run, c, id, { force = true }) end)
    H.wait_until("the run to start", function()
      return c:get_run_status(id) == "STARTED"
    end, 120, 0.5)
    t = start(env)
    t:type(("client:wait_for_run(%q)"):format(id)); t:keys("Enter")
    -- the wait is under way: its live status line shows (after half a second)
    t:wait_for("^run " .. id:gsub("%p", "%%%0") .. "  STARTED  %d+s")
    local t0 = H.now()
    t:keys("C-c")
    H.wait_until("Interrupted", function() return t:screen():find("Interrupted") end, 5, 0.05)
    assert.is_true(H.now() - t0 < 1, ("Ctrl-C took %.2f s"):format(H.now() - t0))
    t:wait_for(">$")
    assert.equal("STARTED", c:get_run_status(id))
  end)

  it("ends at a SIGTERM during a line: the line stopped, the history kept, status 143", function()
    t = start(env)
    enter(t, "x = 41")
    t:type("dagster.sleep(60)"); t:keys("Enter")
    local shell = H.trim(server:run(("display -p -t %s '#{pane_pid}'"):format(t.name)))
    local pid = H.wait_until("the REPL's process", function()
      local p = H.trim(H.run("pgrep -P " .. shell .. " -x dagster-lua"))
      return p ~= "" and p
    end, 10, 0.05)
    H.sleep(0.3)                                  -- in the sleep, not at the prompt
    os.execute("kill -TERM " .. pid)
    assert.equal("[exit 143]", t:wait_for("^%[exit %d+%]$", 10))
    assert.truthy(t:screen():find("Interrupted: terminated (SIGTERM)", 1, true), t:screen())
    local hist = H.slurp(t.hist) or ""
    assert.truthy(hist:find("dagster.sleep(60)", 1, true), hist)
  end)

  it("uses no escape sequences with NO_COLOR=1, and colours statuses without it", function()
    local c = H.client()
    local id = c:submit_job_execution("succeed_job")
    c:wait_for_run(id, { timeout = 120 })
    t = start(env .. " NO_COLOR=1")
    enter(t, ("client:runs{run_ids = {%q}}"):format(id))
    local plain = t:screen(true)
    assert.truthy(plain:find("SUCCESS", 1, true), plain)
    assert.is_nil(plain:find("\27[", 1, true), "an escape sequence with NO_COLOR=1")
    t:close()
    t = start(env)
    enter(t, ("client:runs{run_ids = {%q}}"):format(id))
    assert.truthy(t:screen(true):find("\27%[32mSUCCESS"), "SUCCESS is not green")
  end)

  it("shows a wait's live status line, updated in place and erased when the wait ends", function()
    local c = H.client()
    -- a nap of 3 s: the wait lasts several seconds, the status line is seen and then erased
    local id = c:submit_job_execution("nap_job",
      { run_config = { ops = { nap_op = { config = { seconds = 3 } } } } })
    t = start(env)
    t:type(("client:wait_for_run(%q)"):format(id)); t:keys("Enter")
    local line = H.wait_until("the status line", function()
      local last = t:last_line()
      return last:find("^run " .. id:gsub("%p", "%%%0") .. "  %u+  %d+s") and last
    end, 60, 0.1)
    assert.matches("steps: %d+ done, %d+ failed", line)
    t:wait_for(">$", 120)
    local s = t:screen()
    assert.truthy(s:find('"SUCCESS"', 1, true), s)
    assert.is_nil(s:find("steps: %d+ done"), "the status line was not erased:\n" .. s)
  end)

  it("draws a run's timeline at the prompt, every step with its status, within the terminal", function()
    local c = H.client()
    local id = c:submit_job_execution("timeline_job")
    c:wait_for_run(id, { timeout = 120 })
    t = start(env .. " NO_COLOR=1", 90)
    enter(t, ("client:timeline(%q)"):format(id))
    local lines = t:lines()
    local rows = {}
    for _, l in ipairs(lines) do
      local name, bar, status = l:match("^(%S+)%s*|([^|]*)|.-(%u+)$")
      if name then rows[name] = { bar = bar, status = status } end
      if name or l:find("^run ") then
        assert.is_true(#l < 90, "a line fills the terminal (wrapped?): " .. l)
      end
    end
    assert.equal("SUCCESS", rows.prepare and rows.prepare.status, table.concat(lines, "\n"))
    assert.equal("FAILURE", rows.transform.status)
    assert.equal("SUCCESS", rows.side_task.status)
    assert.matches("F", rows.transform.bar)
  end)

  it("keeps a long history file working: its header, the oldest lines cut at 1000", function()
    local hist = os.tmpname()
    local f = assert(io.open(hist, "w"))
    f:write("_HiStOrY_V2_\n")
    for i = 1, 1200 do f:write(("x\\040=\\040%d\n"):format(i)) end
    f:close()
    t = start(env, nil, hist)
    t:keys("Up")
    t:wait_for("x = 1200$")              -- the newest line of the file is the first Up
    t:keys("C-u")
    t:wait_for(">$")
    enter(t, "y = 7")
    t:keys("C-d")
    H.wait_until("the history file to be written", function()
      local h = H.slurp(hist) or ""
      return h:find("y\\040=\\0407") ~= nil
    end, 10, 0.1)
    local lines = {}
    for l in H.slurp(hist):gmatch("[^\n]+") do lines[#lines + 1] = l end
    os.remove(hist)
    assert.equal("_HiStOrY_V2_", lines[1])
    assert.is_true(#lines - 1 <= 1000, (#lines - 1) .. " lines kept")
    assert.equal("y\\040=\\0407", lines[#lines])
    assert.equal("x\\040=\\0401200", lines[#lines - 1])
  end)

  it("never writes a line holding a token to the history file, but keeps it for the Up arrow", function()
    t = start(env)
    enter(t, 'x = 1')
    enter(t, 'tok = "sekrit-TOKEN-value"')
    enter(t, 'u = "http://ops:hunter2@127.0.0.1:1/x"')   -- a URL's user:password too
    enter(t, 'y = 2')
    t:keys("Up", "Up", "Up")
    t:wait_for('tok = "sekrit%-TOKEN%-value"$')
    t:keys("C-u", "C-d")
    -- the REPL writes the file as it exits: wait for the whole of it, not its first bytes
    local hist = H.wait_until("the history file, written whole (y = 2 is its last line)", function()
      local h = H.slurp(t.hist)
      return h and (h:find("y\\040=\\0402", 1, true) or h:find("y = 2", 1, true)) and h
    end, 10, 0.1)
    assert.truthy(hist:find("x\\040=\\0401", 1, true) or hist:find("x = 1", 1, true), hist)
    assert.is_nil(hist:find("sekrit", 1, true), "the token reached the history file")
    assert.is_nil(hist:find("hunter2", 1, true), "the URL's password reached the history file")
    local mode = H.trim(H.run("stat -c %a " .. H.quote(t.hist)))
    assert.equal("600", mode)
  end)
end)

-- help(), as the REPL binds it, run in the binary without a terminal: the playbook entries
-- of lua/dagster/api.lua (the topics "playbook" and "pb", playbook.*, pb:*)
describe("help at the REPL", function()
  local api = require "dagster.api"

  -- what help(...) prints; `arg` is Lua source for help's argument
  local function help(arg)
    local out, err, code = H.host("-e " .. H.quote("require('dagster.repl').setup{}; help(" .. arg .. ")"))
    assert.equal(0, code, err)
    return out
  end

  it('shows the declaration format, flag types, common flags and exit codes with help "playbook"', function()
    local out = help('"playbook"')
    assert.matches("^playbook\n  Playbooks: ", out)
    for _, sec in ipairs(api.by_name.playbook.sections) do
      assert.truthy(out:find("\n" .. sec.title .. ":\n", 1, true), sec.title .. " missing from:\n" .. out)
      for _, f in ipairs(sec.fields) do
        local left = f.code and tostring(f.code) or f.name
        assert.truthy(out:find("\n  " .. left .. " ", 1, true), left .. " missing from:\n" .. out)
      end
    end
    assert.matches("\n  duration +seconds, from 90, 30s", out)
    assert.matches("\n  watch +how the run is watched", out)
    assert.matches("\n  130 +INTERRUPTED: ", out)
    assert.matches("\nFunctions %(help \"playbook.define\" shows one%):\n  define +Checks a declaration", out)
    assert.matches("\nExample:\n  local playbook = require \"dagster.playbook\"\n  return playbook.define", out)
  end)

  it('shows the pb\'s fields and methods with help "pb"', function()
    local out = help('"pb"')
    assert.matches("^pb\n", out)
    for _, f in ipairs(api.by_name.pb.sections[1].fields) do
      assert.matches("\n  " .. f.name .. " +%S", out)
    end
    for _, e in ipairs(api.entries) do
      local m = e.name:match("^pb:(.+)$")
      if m then assert.matches("\n  " .. m .. " +" .. e.summary:sub(1, 20):gsub("%p", "%%%0"), out) end
    end
  end)

  it('shows a pb method in full with help "pb:step" (and help "pb.step")', function()
    local out = help('"pb:step"')
    assert.matches("^pb:step%(name, %[inputs%], fn%)\n  Runs a named step once", out)
    assert.matches("\n  A step is keyed by its name, its occurrence", out)
    assert.matches("\nReturns: any: ", out)
    assert.matches("\nExample:\n  local found = pb:step%(", out)
    assert.equal(out, help('"pb.step"'))
    out = help('"pb:launch"')
    assert.matches("^pb:launch%(what, fn, %[o%]%)\n", out)
    assert.matches("\nOptions:\n  key +names the launch", out)
  end)

  it("shows a playbook function by name or by value, and lists the playbook entries in help()", function()
    local out = help('"playbook.define"')
    assert.matches("^playbook%.define%(decl, body%)\n  Checks a declaration", out)
    assert.equal(out, help('"dagster.playbook.define"'))
    assert.equal(out, help('require("dagster.playbook").define'))
    assert.equal(help('"pb:tags"'), help('require("dagster.playbook.object").PB.tags'))
    local all = help("")
    local section = assert(all:match("\nPlaybooks [^\n]*:\n(.-)\n\n"), all)
    for _, e in ipairs(api.entries) do
      if e.name:find("^pb[:]") or e.name:find("^playbook") or e.kind == "topic" then
        assert.truthy(section:find("\n  " .. e.name .. " ", 1, true) or section:find("^  " .. e.name .. " "),
          e.name .. " missing from help()'s playbook section:\n" .. section)
      end
    end
  end)
end)
