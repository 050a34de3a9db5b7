-- build/dagster-lua as a process: lua.c's command line, errors, embedding, --dev, the REPL.
local H = require "helper"

local function tmpdir()
  local out = H.run("mktemp -d")
  return (out:gsub("%s+$", ""))
end

describe("dagster-lua command line", function()
  it("-v names dagster-lua, Lua 5.4 and libcurl", function()
    local out, _, code = H.host("-v")
    assert.equal(0, code)
    assert.matches("^dagster%-lua %d+%.%d+%.%d+ %(Lua 5%.4%.%d+; libcurl/%d", out)
  end)

  it("-e runs a chunk and the exit status is 0", function()
    local out, _, code = H.host("-e 'print(1 + 1)'")
    assert.equal(0, code)
    assert.equal("2\n", out)
  end)

  it("builds arg as lua does: script at 0, its arguments at 1..n, options below", function()
    local dir = tmpdir()
    local f = assert(io.open(dir .. "/s.lua", "w"))
    f:write("print(arg[-1], arg[0], arg[1], arg[2], #arg, ...)\n"); f:close()
    local out, err, code = H.host("-e 'x=1' " .. dir .. "/s.lua a 'b c'")
    assert.equal(0, code, err)
    assert.equal("x=1\t" .. dir .. "/s.lua\ta\tb c\t2\ta\tb c\n", out)
    os.execute("rm -rf " .. dir)
  end)

  it("-l mod and -l g=mod require into globals", function()
    local out, err, code = H.host("-l dagster -l d=dagster.json -e 'print(type(dagster.client), d.encode({1}))'")
    assert.equal(0, code, err)
    assert.equal("function\t[1]\n", out)
  end)

  it("runs stdin with '-' and when stdin is not a terminal", function()
    assert.equal("7\n", (H.host("-", "print(7)")))
    assert.equal("8\n", (H.host("", "print(8)")))
    assert.equal("9\targ\n", (H.host("- arg", "print(9, ...)")))
  end)

  it("stops options at --: what follows is the script, even if it starts with '-'", function()
    local dir = tmpdir()
    local f = assert(io.open(dir .. "/-s.lua", "w")); f:write("print('dash script', ...)\n"); f:close()
    local out, err, code = H.run("cd " .. dir .. " && " .. H.bin .. " -- -s.lua x")
    os.execute("rm -rf " .. dir)
    assert.equal(0, code, err)
    assert.equal("dash script\tx\n", out)
  end)

  it("prints usage and fails on an unknown option", function()
    local _, err, code = H.host("-z")
    assert.equal(1, code)
    assert.matches("unrecognized option '%-z'", err)
    assert.matches("usage: dagster%-lua", err)
  end)

  it("--help prints the short usage on stdout, names the manual, and exits 0", function()
    local out, err, code = H.host("--help")
    assert.equal(0, code, err)
    assert.equal("", err)
    assert.matches("^usage: dagster%-lua %[options%] %[script %[args%]%]\n", out)
    for _, opt in ipairs { "-e stat", "-i", "-l g=mod", "-v", "-E", "-W", "--dev", "--help" } do
      assert.truthy(out:find("\n  " .. opt, 1, true), opt)
    end
    assert.matches("man dagster%-lua", out)
    local _, err2, code2 = H.host("--helpme")
    assert.equal(1, code2)
    assert.matches("unrecognized option '%-%-helpme'", err2)
  end)

  it("the man page (doc/dagster-lua.1.scd) has every section and every option of --help", function()
    local scd = assert(H.slurp(H.root .. "/doc/dagster-lua.1.scd"))
    for _, section in ipairs { "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "THE REPL", "PLAYBOOKS",
        "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO" } do
      assert.truthy(scd:find("\n# " .. section .. "\n", 1, true), section)
    end
    for _, code in ipairs { "0", "1", "2", "3", "4", "5", "6", "130" } do
      assert.truthy(scd:find("\n*" .. code .. "*\n", 1, true), "exit status " .. code)
    end
    local out = H.host("--help")
    for opt in out:gmatch("\n  (%-%-?[%a-]*)") do
      assert.truthy(scd:find("\n*" .. opt .. "*", 1, true), "option " .. opt .. " missing from the man page")
    end
    -- and scdoc turns it into a page man can read
    local page = os.tmpname()
    local man, err, code = H.run("scdoc < " .. H.quote(H.root .. "/doc/dagster-lua.1.scd") .. " > " ..
      page .. " && MANWIDTH=80 man -l " .. page)
    os.remove(page)
    assert.equal(0, code, err)
    assert.matches("EXIT STATUS", man)
    assert.matches("dagster%-lua play %-%-list", man)
  end)

  it("reports an uncaught error as 'dagster-lua: message' with a traceback, exit 1", function()
    local _, err, code = H.host("-e 'error(\"boom\")'")
    assert.equal(1, code)
    assert.matches("^dagster%-lua: %(command line%):1: boom\nstack traceback:", err)
  end)

  it("prints an uncaught dagster.Error through its __tostring", function()
    local _, err, code = H.host([[-e 'error(require("dagster").Error.new("JobNotFoundError", "No jobs"))']])
    assert.equal(1, code)
    assert.matches("^dagster%-lua: JobNotFoundError: No jobs\nstack traceback:", err)
  end)

  it("never prints a token in an uncaught error's message or traceback", function()
    local _, err, code = H.host([[-e 'local c = require("dagster").client("127.0.0.1", {port_number = 1,
      retries = 0, headers = {["Dagster-Cloud-Api-Token"] = "tok-TRACE-SECRET"}}); c:get_run_status("x")']])
    assert.equal(1, code)
    assert.matches("^dagster%-lua: ConnectionError: could not connect to http://127%.0%.0%.1:1/graphql", err)
    assert.matches("stack traceback:", err, 1, true)
    assert.falsy(err:find("TRACE-SECRET", 1, true))
  end)

  it("shows tracebacks with the real file names of the embedded sources", function()
    -- an error inside the module (not an argument error, whose traceback starts at the
    -- caller's line)
    local _, err = H.host([[-e 'require("dagster.playbook").run({})']])
    assert.matches("playbook%.run: a playbook definition expected", err)
    assert.matches("lua/dagster/playbook%.lua:%d+: in function", err)
  end)

  it("runs DAGSTER_LUA_INIT first, and -E ignores it", function()
    assert.equal("init\nmain\n", (H.run("DAGSTER_LUA_INIT='print(\"init\")' " .. H.bin .. " -e 'print(\"main\")'")))
    assert.equal("main\n", (H.run("DAGSTER_LUA_INIT='print(\"init\")' " .. H.bin .. " -E -e 'print(\"main\")'")))
  end)

  it("works copied alone into an empty folder (the Lua sources are embedded)", function()
    local dir = tmpdir()
    os.execute("cp " .. H.bin .. " " .. dir .. "/")
    local out, err, code = H.run("cd " .. dir .. " && ./dagster-lua -e 'print(type(require(\"dagster\").client(\"h\")))'")
    os.execute("rm -rf " .. dir)
    assert.equal(0, code, err)
    assert.equal("table\n", out)
  end)

  it("--dev=DIR and DAGSTER_LUA_DEV load the Lua modules from disk instead", function()
    local dir = tmpdir()
    os.execute("mkdir -p " .. dir .. "/dagster")
    local f = assert(io.open(dir .. "/dagster/init.lua", "w"))
    f:write("return { from_disk = true }\n"); f:close()
    assert.equal("true\n", (H.host("--dev=" .. dir .. " -e 'print(require(\"dagster\").from_disk)'")))
    assert.equal("true\n", (H.run("DAGSTER_LUA_DEV=" .. dir .. " " .. H.bin .. " -e 'print(require(\"dagster\").from_disk)'")))
    assert.equal("nil\n", (H.host("-e 'print(require(\"dagster\").from_disk)'")))
    os.execute("rm -rf " .. dir)
  end)

  it("loads nothing it is not asked for at start-up (no dagster module, no libcurl init)", function()
    local out = H.host("-e 'print(package.loaded.dagster, package.loaded[\"dagster.http\"], package.loaded.cjson)'")
    assert.equal("nil\tnil\tnil\n", out)
  end)

  it("maps lua-cjson and libedit only when they are used", function()
    local probe = [[
local function mapped(lib)
  for line in io.lines("/proc/self/maps") do
    if line:find(lib, 1, true) then return true end
  end
  return false
end
io.write(tostring(mapped("cjson")), " ", tostring(mapped("libedit")), " ")
require("dagster").json.decode("[]")
io.write(tostring(mapped("cjson")), "\n")
]]
    assert.equal("false false true\n", (H.host("-", probe)))
  end)
end)

describe("Ctrl-C", function()
  it("aborts a request that hangs and stops the script with 'interrupted!' and status 130", function()
    local script = [=[
import socket, subprocess, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5); s.settimeout(30)
port = s.getsockname()[1]
code = 'local c = require("dagster").client("127.0.0.1", {port_number = %d, timeout = 60, retries = 0}); c:version()' % port
p = subprocess.Popen([sys.argv[1], "-e", code], stderr=subprocess.PIPE)
conn, _ = s.accept()          # the request has arrived and will never be answered
time.sleep(0.3)
t0 = time.time()
p.send_signal(2)
err = p.communicate(timeout=20)[1].decode()
print(p.returncode, round(time.time() - t0, 1))
print(err)
]=]
    local out, err, code = H.run("python3 - " .. H.quote(H.bin), script)
    assert.equal(0, code, err)
    local rc, secs = out:match("^(%-?%d+) ([%d.]+)")
    assert.equal("130", rc, out)
    assert.is_true(tonumber(secs) < 10, out)
    assert.matches("dagster%-lua: .*interrupted", out)
  end)
end)

describe("SIGTERM", function()
  -- runs code in the host, sends SIGTERM once it has printed "ready", and returns the status
  -- and what it wrote after that (stdout and stderr). PORT in the code is the port of a
  -- listener that takes a request and never answers it.
  local function terminate(code)
    local script = [=[
import socket, subprocess, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
code = sys.argv[2].replace("PORT", str(s.getsockname()[1]))
p = subprocess.Popen([sys.argv[1], "-e", code], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
assert p.stdout.readline() == b"ready\n"
if "PORT" in sys.argv[2]:
    s.settimeout(20); conn, _ = s.accept()   # the request has arrived
time.sleep(0.2)
p.send_signal(15)
out = p.communicate(timeout=20)[0].decode()
print(p.returncode)
print(out, end="")
]=]
    local out, err, rc = H.run(("python3 - %s %s"):format(H.quote(H.bin), H.quote(code)), script)
    assert.equal(0, rc, err)
    local status, text = out:match("^(%-?%d+)\n(.*)$")
    return tonumber(status), text
  end

  it("stops a sleep, a blocked read and running Lua code with Interrupted (signal SIGTERM) and status 143", function()
    for _, code in ipairs {
      'print("ready"); io.stdout:flush(); require("dagster").sleep(60)',
      'print("ready"); io.stdout:flush(); io.read()',
      'print("ready"); io.stdout:flush(); while true do end',
    } do
      local status, out = terminate(code)
      assert.equal(143, status, out)
      assert.matches("^dagster%-lua: Interrupted: terminated %(SIGTERM%)\nstack traceback:", out)
    end
    -- caught, it says which signal; the script still exits 143
    local status, out = terminate([[
local dagster = require "dagster"
print("ready"); io.stdout:flush()
local ok, e = pcall(dagster.sleep, 60)
print(ok, dagster.Error.is(e, "Interrupted"), e.signal)]])
    assert.equal(143, status, out)
    assert.equal("false\ttrue\tSIGTERM\n", out)
  end)

  it("aborts a request that hangs (its timeout is 60 s; the driver waits 20): Interrupted, signal SIGTERM", function()
    local status, out = terminate([[
local dagster = require "dagster"
local c = dagster.client("127.0.0.1", {port_number = PORT, timeout = 60, retries = 0})
print("ready"); io.stdout:flush()
local ok, e = pcall(c.version, c)
print(ok, e.name, e.signal, e.message)]])
    assert.equal(143, status, out)
    assert.matches("^false\tInterrupted\tSIGTERM\tterminated %(SIGTERM%)", out)
  end)
end)

describe("dagster-lua REPL", function()
  it("-i evaluates expressions and prints results, keeping going after errors", function()
    local out, _, code = H.host("-i", "1 + 1\nerror('x')\nreturn 'a', 3\nlocal t = {\nk = 1 }\n")
    assert.equal(0, code)
    assert.matches("> 2\n", out, 1, true)
    assert.matches('"a"\t3', out, 1, true)
    assert.matches(">> ", out, 1, true)
  end)

  it("prints tables readably, with JSON null as null", function()
    local out = H.host("-i", "{a = 1, b = require('dagster').null, 'x'}\n")
    assert.matches('{ "x", a = 1, b = null }', out, 1, true)
  end)

  it("prints bytes that are not UTF-8 as \\xHH (UTF-8 as it is), and values and errors whose __tostring fails", function()
    local out, err, code = H.host("-i", table.concat({
      [["caf\xC3\xA9 \xFF\xE2\x82 \27"]],
      [[bad = setmetatable({}, {__name = "Thing", __tostring = function() error("boom", 0) end})]],
      [[{bad}]],
      [[{[bad] = 1}]],
      [[error(bad)]],
      [[error({code = 1})]],
      [[print("still here")]],
    }, "\n") .. "\n")
    assert.equal(0, code, err)
    assert.matches('> "café \\xFF\\xE2\\x82 \\27"\n', out, 1, true)
    assert.matches("> { <Thing: __tostring failed: boom> }\n", out, 1, true)
    assert.matches("> { [<Thing: __tostring failed: boom>] = 1 }\n", out, 1, true)
    assert.matches("> <Thing: __tostring failed: boom>\nstack traceback:", out, 1, true)
    assert.matches("> { code = 1 }\nstack traceback:", out, 1, true)
    assert.matches("still here", out, 1, true)
    assert.is_nil(out:find("attempt to", 1, true), out)
  end)

  it("on a terminal keeps history, but never a line that holds a token", function()
    local dir = tmpdir()
    local lines = dir .. "/lines"
    local f = assert(io.open(lines, "w"))
    f:write("x = 40 + 2\n", "c = require('dagster').client('h', {headers = {['Dagster-Cloud-Api-Token'] = 'abc'}})\n",
            "tok = 'Bearer xyz'\n", "print(x)\n")
    f:close()
    local hist = dir .. "/hist"
    local out, err, code = H.run("DAGSTER_LUA_HISTORY=" .. hist .. " python3 " .. H.root ..
      "/spec/support/pty_run.py " .. lines .. " " .. H.bin)
    assert.equal(0, code, err)
    assert.matches("42", out)
    local hf = assert(io.open(hist)); local h = hf:read("a"); hf:close()
    h = h:gsub("\\(%d%d%d)", function(d) return string.char(tonumber(d, 8)) end)  -- libedit's vis encoding
    os.execute("rm -rf " .. dir)
    assert.matches("x = 40 + 2", h, 1, true)
    assert.matches("print(x)", h, 1, true)
    assert.falsy(h:find("abc", 1, true))
    assert.falsy(h:find("xyz", 1, true))
  end)
end)
