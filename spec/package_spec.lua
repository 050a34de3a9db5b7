-- dagster-lua installed like a Unix tool and a Lua library: `make install` into a DESTDIR
-- (the binary, the man page, the module for a stock lua5.4, the annotations, the playbooks,
-- the examples of running playbooks unattended),
-- the module loading from there in lua5.4, `make uninstall` removing exactly that, and the
-- rockspec naming every module. (`make deb-check` installs the Debian packages for real.)
local H = require "helper"

local function make(args)
  return H.run("make -s --no-print-directory -C " .. H.quote(H.root) .. " " .. args)
end

local function files_under(dir)
  local out = H.run("(cd " .. H.quote(dir) .. " && find . -type f | LC_ALL=C sort)")
  local list = {}
  for f in out:gmatch("%./([^\n]+)") do list[#list + 1] = f end
  return list
end

-- the Lua files of lua/dagster/, as "init.lua", "client.lua", ...
-- the Lua files of lua/dagster/, subfolders included ("playbook/cli.lua"), sorted
local function lua_modules()
  local out = H.run("(cd " .. H.quote(H.root .. "/lua/dagster") .. " && find . -name '*.lua' | sed 's|^./||' | LC_ALL=C sort)")
  local list = {}
  for f in out:gmatch("[^\n]+") do list[#list + 1] = f end
  assert.is_true(#list >= 10, "lua/dagster/ looks empty: " .. out)
  return list
end

describe("make install and make uninstall", function()
  local dest, books
  before_each(function()
    dest = H.trim(H.run("mktemp -d"))
    books = H.trim(H.run("mktemp -d"))
    for _, name in ipairs { "alpha.lua", "beta.lua" } do
      local f = assert(io.open(books .. "/" .. name, "w")); f:write("-- " .. name .. "\n"); f:close()
    end
  end)
  after_each(function()
    os.execute("rm -rf " .. H.quote(dest) .. " " .. H.quote(books))
  end)

  local function install(extra)
    local out, err, code = make("install PREFIX=/usr/local DESTDIR=" .. H.quote(dest) .. " " .. (extra or ""))
    assert.equal(0, code, out .. err)
    return out
  end

  it("installs the binary, man page, stock-Lua module, annotations, playbooks and examples, and lists them", function()
    install("PLAYBOOKS=" .. H.quote(books .. "/alpha.lua " .. books .. "/beta.lua"))
    local want = {
      "usr/local/bin/dagster-lua",
      "usr/local/lib/lua/5.4/dagster/error.so",
      "usr/local/lib/lua/5.4/dagster/file.so",
      "usr/local/lib/lua/5.4/dagster/http.so",
      "usr/local/lib/lua/5.4/dagster/json.so",
      "usr/local/lib/lua/5.4/dagster/sys.so",
      "usr/local/share/dagster-lua/examples/crontab",
      "usr/local/share/dagster-lua/examples/dagster-lua-recover.service",
      "usr/local/share/dagster-lua/examples/dagster-lua-recover.timer",
      "usr/local/share/dagster-lua/examples/kubernetes-cronjob.yaml",
      "usr/local/share/dagster-lua/installed-files",
      "usr/local/share/dagster-lua/playbooks/alpha.lua",
      "usr/local/share/dagster-lua/playbooks/beta.lua",
      "usr/local/share/dagster-lua/types/dagster.lua",
    }
    for _, m in ipairs(lua_modules()) do want[#want + 1] = "usr/local/share/lua/5.4/dagster/" .. m end
    want[#want + 1] = "usr/local/share/man/man1/dagster-lua.1"
    table.sort(want)
    assert.same(want, files_under(dest))
    -- the list names every file but itself, as installed (without DESTDIR)
    local listed = {}
    for l in H.slurp(dest .. "/usr/local/share/dagster-lua/installed-files"):gmatch("[^\n]+") do
      listed[#listed + 1] = l:sub(2)
    end
    table.sort(listed)
    local expect = {}
    for _, f in ipairs(want) do
      if not f:match("installed%-files$") then expect[#expect + 1] = f end
    end
    assert.same(expect, listed)
    -- the binary is executable and runs; the man page is a page
    local out, err, code = H.run(H.quote(dest .. "/usr/local/bin/dagster-lua") .. " -v")
    assert.equal(0, code, err)
    assert.matches("^dagster%-lua %d", out)
    assert.matches("^%.TH \"?dagster%-lua\"? \"?1\"?", H.slurp(dest .. "/usr/local/share/man/man1/dagster-lua.1"):match("\n(%.TH[^\n]*)") or "")
  end)

  it("puts the module where Debian's lua5.4 looks under /usr/local, and it loads from there", function()
    install()
    local out = H.run("env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 lua5.4 -e 'print(package.path) print(package.cpath)'")
    assert.truthy(out:find("/usr/local/share/lua/5.4/?/init.lua", 1, true), out)
    assert.truthy(out:find("/usr/local/lib/lua/5.4/?.so", 1, true), out)
    local share, lib = dest .. "/usr/local/share/lua/5.4", dest .. "/usr/local/lib/lua/5.4"
    local got, err, code = H.run(("env -u LUA_PATH_5_4 -u LUA_CPATH_5_4 LUA_PATH=%s LUA_CPATH=%s lua5.4 -e %s"):format(
      H.quote(share .. "/?.lua;" .. share .. "/?/init.lua;;"), H.quote(lib .. "/?.so;;"),
      H.quote([[local d = require "dagster"; print(d.VERSION, package.searchpath("dagster.http", package.cpath))]])))
    assert.equal(0, code, err)
    assert.equal("0.1.0\t" .. lib .. "/dagster/http.so\n", got)
  end)

  it("uninstall removes exactly what install wrote, and nothing of anyone else's", function()
    install("PLAYBOOKS=" .. H.quote(books .. "/alpha.lua"))
    -- files that another package or the user put beside ours
    local theirs = { "usr/local/bin/other-tool", "usr/local/share/lua/5.4/other.lua",
      "usr/local/lib/lua/5.4/dagster/extra.so" }
    for _, f in ipairs(theirs) do
      local h = assert(io.open(dest .. "/" .. f, "w")); h:write("x"); h:close()
    end
    local out, err, code = make("uninstall PREFIX=/usr/local DESTDIR=" .. H.quote(dest))
    assert.equal(0, code, out .. err)
    assert.matches("uninstall: %d+ files removed", out)
    table.sort(theirs)
    assert.same(theirs, files_under(dest))
    -- our own folders are gone when empty, kept when someone else's file is in them
    assert.falsy(H.slurp(dest .. "/usr/local/share/lua/5.4/dagster/init.lua"))
    assert.equal("", (H.run("ls -d " .. H.quote(dest .. "/usr/local/share/dagster-lua") .. " 2>/dev/null")))
  end)

  it("uninstall without an install says so and fails", function()
    local out, err, code = make("uninstall PREFIX=/usr/local DESTDIR=" .. H.quote(dest))
    assert.is_not.equal(0, code)
    assert.matches("installed%-files not found", out .. err)
  end)
end)

describe("the rockspec", function()
  it("builds every Lua module of lua/dagster/ and the five C modules", function()
    local path = H.trim(H.run("ls " .. H.quote(H.root) .. "/dagster-lua-*.rockspec"))
    local env = {}
    assert(loadfile(path, "t", env))()
    assert.equal("3.0", env.rockspec_format)
    assert.equal("builtin", env.build.type)
    assert.equal("curl", env.external_dependencies.CURL.library)
    local mods = env.build.modules
    for _, m in ipairs(lua_modules()) do
      local name = m == "init.lua" and "dagster" or "dagster." .. m:gsub("%.lua$", ""):gsub("/", ".")
      assert.equal("lua/dagster/" .. m, mods[name], name)
    end
    assert.same({ "host/lerror.c" }, mods["dagster.error"].sources)
    assert.same({ "host/lhttp.c", "host/lerror.c" }, mods["dagster.http"].sources)
    assert.same({ "host/ljson.c" }, mods["dagster.json"].sources)
    assert.same({ "host/lfile.c" }, mods["dagster.file"].sources)
    assert.same({ "host/lsys.c" }, mods["dagster.sys"].sources)
    local n = 0
    for _ in pairs(mods) do n = n + 1 end
    assert.equal(#lua_modules() + 5, n)
    local out, err, code = H.run("cd " .. H.quote(H.root) .. " && luarocks-5.4 lint " .. H.quote(path))
    assert.equal(0, code, out .. err)
  end)
end)
