-- The module in a stock lua5.4 (Debian's interpreter), as a plain Lua library: the Lua files
-- and dagster/{error,http,json}.so found on package.path and package.cpath. Under
-- scripts/test-stock they come from the rock's tree (DAGSTER_LUA_STOCK_TREE); under
-- `make test` from lua/ and build/lib/ (make lib).
local H = require "helper"

local tree = os.getenv("DAGSTER_LUA_STOCK_TREE")
local LUA_DIR = tree and (tree .. "/share/lua/5.4") or (H.root .. "/lua")
local SO_DIR = tree and (tree .. "/lib/lua/5.4") or (H.root .. "/build/lib")
local ENV = ("env -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u LUA_INIT -u LUA_INIT_5_4 LUA_PATH=%s LUA_CPATH=%s ")
  :format(H.quote(LUA_DIR .. "/?.lua;" .. LUA_DIR .. "/?/init.lua;;"), H.quote(SO_DIR .. "/?.so;;"))

-- runs `lua5.4 -e chunk` with the module's paths; returns stdout, stderr, exit code
local function stock(chunk, stdin)
  return H.run(ENV .. "lua5.4 -e " .. H.quote(chunk), stdin)
end

describe("require 'dagster' from a stock lua5.4", function()
  it("finds the Lua files and each C module as its own .so (luaopen_dagster_*)", function()
    local out, err, code = stock([[
local d = require "dagster"
for _, m in ipairs {"dagster.http", "dagster.json", "dagster.error"} do
  require(m)
  print(m, package.searchpath(m, package.cpath))
end
print("dagster", package.searchpath("dagster", package.path))
print("cjson", package.searchpath("cjson", package.cpath))
print(type(d.client), d.VERSION)]])
    assert.equal(0, code, err)
    assert.matches("dagster.http\t" .. SO_DIR:gsub("%p", "%%%0") .. "/dagster/http.so\n", out)
    assert.matches("dagster.json\t" .. SO_DIR:gsub("%p", "%%%0") .. "/dagster/json.so\n", out)
    assert.matches("dagster.error\t" .. SO_DIR:gsub("%p", "%%%0") .. "/dagster/error.so\n", out)
    assert.matches("dagster\t" .. LUA_DIR:gsub("%p", "%%%0") .. "/dagster/init.lua\n", out)
    -- Debian's lua-cjson, found by require "cjson" (the binary dlopens its soname instead)
    assert.matches("cjson\t/usr/lib/[^\n]*/lua/5%.4/cjson%.so\n", out)
    assert.matches("function\t0%.1%.0\n$", out)
  end)

  it("loads no binary-only module: the REPL's dagster.repl stays unloaded", function()
    local out, err, code = stock([[
local d = require "dagster"
d.client("127.0.0.1", {port_number = 1}); d.inspect({}); d.json.encode({1})
print(package.loaded["dagster.repl"], package.loaded["dagster.api"])]])
    assert.equal(0, code, err)
    assert.equal("nil\tnil\n", out)
  end)

  it("talks to the real Dagster: version, a launch and its final status", function()
    local out, err, code = stock(([[
local d = require "dagster"
local c = d.client(%q)
local id = c:submit_job_execution("succeed_job")
print(c:version(), (c:wait_for_run(id, {timeout = 120})))]]):format(H.url()))
    assert.equal(0, code, err)
    assert.matches("^1%.%d+%.%d+\tSUCCESS\n$", out)
  end)

  it("raises dagster.Error objects from C and Lua alike", function()
    local out, err, code = stock([[
local d = require "dagster"
local ok, e = pcall(function() return d.client("127.0.0.1", {port_number = 1, retries = 0}):version() end)
print(ok, d.Error.is(e, "ConnectionError"), getmetatable(e) == getmetatable(d.Error.new("X")))]])
    assert.equal(0, code, err)
    assert.equal("false\ttrue\ttrue\n", out)
  end)

  it("Ctrl-C aborts a hanging transfer: lua5.4 stops with 'interrupted!' within seconds", function()
    local script = [=[
import os, socket, subprocess, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5); s.settimeout(30)
port = s.getsockname()[1]
code = 'local c = require("dagster").client("127.0.0.1", {port_number = %d, timeout = 60, retries = 0}); c:version(); print("not reached")' % port
env = dict(os.environ, LUA_PATH=sys.argv[1], LUA_CPATH=sys.argv[2])
p = subprocess.Popen(["lua5.4", "-e", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
conn, _ = s.accept()          # the request has arrived and will never be answered
time.sleep(0.3)
t0 = time.time()
p.send_signal(2)
out, err = p.communicate(timeout=20)
print(p.returncode, round(time.time() - t0, 1))
print(out.decode() + err.decode())
]=]
    local out, err, code = H.run("python3 - " .. H.quote(LUA_DIR .. "/?.lua;" .. LUA_DIR .. "/?/init.lua;;")
      .. " " .. H.quote(SO_DIR .. "/?.so;;"), script)
    assert.equal(0, code, err)
    local rc, secs = out:match("^(%-?%d+) ([%d.]+)")
    assert.equal("1", rc, out)            -- lua.c reports the error and exits 1
    assert.is_true(tonumber(secs) < 10, out)
    assert.matches("lua5%.4: [^\n]*interrupted!", out)
    assert.is_nil(out:find("not reached", 1, true), out)
  end)
end)
