-- What a new user found (issue 21), each pinned as the user met it: a process of the host,
-- against the real local Dagster where a server is needed.
local H = require "helper"
local dagster = require "dagster"
local json = dagster.json

local function tmpdir()
  local d = H.trim(H.run("mktemp -d"))
  assert(d ~= "")
  return d
end

local function unique() return ("%d-%d"):format(os.time(), math.random(1, 1e9)) end

-- the records of a journal, decoded
local function records(path)
  local out = {}
  for line in (H.slurp(path) or ""):gmatch("[^\n]+") do out[#out + 1] = json.decode(line) end
  return out
end

-- the JSON objects of a --json output, in order
local function events(out)
  local list = {}
  for line in out:gmatch("[^\n]+") do
    if line:sub(1, 1) == "{" then list[#list + 1] = json.decode(line) end
  end
  return list
end

-- a file of the given text under dir
local function write(dir, name, text)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

describe("a resumed playbook", function()
  local client, dir
  setup(function() client = H.client(); dir = tmpdir() end)
  teardown(function() os.execute("rm -rf " .. H.quote(dir)) end)

  it("finds its journal when only how it is watched changed (--timeout, --json, the URL's form)", function()
    local tag = unique()
    local base = ("run succeed_job --tag spec=%s --wait"):format(tag)
    local _, _, code = H.play(dir, base .. " --timeout 100", "DAGSTER_LUA_PLAYBOOK_KILL_AT=after-request")
    assert.equal(137, code)
    -- another timeout, --json, and the same server as --url with a trailing slash
    local out, err
    out, err, code = H.play(dir, base .. " --timeout 200 --json --resume --url " .. H.quote(H.url() .. "/"))
    assert.equal(0, code, out .. err)
    assert.matches("found what was launched before the interruption", err)
    assert.equal(1, #client:runs { tags = { spec = tag } })
    assert.is_nil(err:find("no journal for this run", 1, true), err)
  end)

  it("says so when --resume finds no journal, names the unfinished ones, and still starts", function()
    local tag, other = unique(), unique()
    -- an unfinished journal of another run of the same playbook
    local _, _, code = H.play(dir, ("run succeed_job --tag spec=%s"):format(other),
      "DAGSTER_LUA_PLAYBOOK_KILL_AT=after-request")
    assert.equal(137, code)
    local out, err
    out, err, code = H.play(dir, ("run succeed_job --tag spec=%s --resume"):format(tag))
    assert.equal(0, code, out .. err)
    assert.matches("play run: %-%-resume: no journal for this run %(.-%); starting a new run", err)
    assert.matches("unfinished: .-run%-succeed_job%-%x+%.jsonl .-dagster%-lua play run succeed_job " ..
      "%-%-tag spec=" .. other:gsub("%p", "%%%0") .. " %-%-journal .- %-%-resume", err)
    assert.equal(1, #client:runs { tags = { spec = tag } })
  end)
end)

describe("odd input to a playbook", function()
  local dir
  setup(function() dir = tmpdir() end)
  teardown(function() os.execute("rm -rf " .. H.quote(dir)) end)

  -- exits 4 with one line on stderr, of the one form every usage error has
  local function usage_error(args, pattern)
    local out, err, code = H.play(dir, args)
    assert.equal(4, code, out .. err)
    local name = args:match("^(%S+)")
    assert.matches("^play " .. name .. ": " .. pattern .. " %(see %-%-help%)\n$", err)
    assert.is_nil(err:find("traceback", 1, true))
    return err
  end

  it("summarizes a step name of 100 characters and more, and ends its journal", function()
    local job = ("j"):rep(120)
    local journal = dir .. "/long.jsonl"
    local out, err, code = H.play(dir, ("run %s --journal %s"):format(job, journal))
    assert.equal(4, code, out .. err)
    assert.matches("launch " .. job .. "%s+failed%s+[%d.]+s%s+JobNotFoundError", out)
    local recs = records(journal)
    assert.equal("end", recs[#recs].event)
    assert.equal(4, recs[#recs].code)
  end)

  it("refuses a flag's empty value (an unset variable) instead of taking it for no filter", function()
    -- prune --job "" listed the runs of every job: the server reads an empty name as none
    usage_error("prune --older-than 0s --keep 0 --job '' --dry-run", "%-%-job: a value expected, got an empty one")
    usage_error("watch --job= --until-idle", "%-%-job: a value expected, got an empty one")
    usage_error("run succeed_job --tag ''", "%-%-tag: a value expected, got an empty one")
  end)

  it("refuses an argument that is not UTF-8 as a usage error", function()
    usage_error([[run "$(printf 'a\377')"]], "argument 1 is not valid UTF%-8: a\\xff")
    usage_error([[run succeed_job --tag "$(printf 'k=\377')"]], "argument 3 is not valid UTF%-8: k=\\xff")
  end)

  it("refuses a URL without a host before any request, and names a URL that is not Dagster's", function()
    usage_error("run succeed_job --url http://", "%-%-url http://: URL has no host: http://")
    -- a query or a fragment would go after /graphql, and may hold a token: refused, not shown
    local err = usage_error("run succeed_job --url 'http://u:pw@127.0.0.1:1/graphql?token=SECRET-Q'",
      "%-%-url http://127%.0%.0%.1:1/graphql%?%.%.%.: a URL with a query or a fragment %(%? or #%) is not supported %(a token goes in the headers option%)")
    assert.is_nil(err:find("SECRET-Q", 1, true), err)
    assert.is_nil(err:find("pw", 1, true), err)
    local out, err, code = H.play(dir, "run succeed_job --url " .. H.quote(H.url() .. "/prefix"))
    assert.equal(4, code, out .. err)
    assert.matches(H.url():gsub("%p", "%%%0") .. "/prefix/graphql is not a Dagster GraphQL " ..
      "endpoint %(HTTP 405%); check %-%-url or DAGSTER_URL", err)
  end)

  it("gives every usage error one form, with its real cause", function()
    usage_error("run succeed_job --tag novalue", "%-%-tag novalue: K=V expected")
    usage_error("recover --since banana", '%-%-since: "banana" is not a duration %(e%.g%. 30s, 15m, 2h, 1h30m%)')
    usage_error([[run succeed_job --config-json '{ops:']],
      "%-%-config%-json: Expected object key string but found invalid token at character 2")
    usage_error([[run succeed_job --config-json '[1]']], "%-%-config%-json: a JSON object expected, got a list")
    usage_error("recover --concurrency 1.5", '%-%-concurrency: a whole number expected, got "1%.5"')
    -- an empty list would be no filter at all to the server, or a bad argument inside
    usage_error("run succeed_job --op-selection ,", "%-%-op%-selection: no names in ,")
    usage_error("backfill --job daily_job --partitions ,", "%-%-partitions: no partition keys in ,")
    usage_error([[backfill --job daily_job --from '' --to 2026-11-02]],
      "%-%-from: a value expected, got an empty one")
  end)

  it("names --location, not the module's option names, for a job in two locations", function()
    local out, err, code = H.play(dir, "run shared_job")
    assert.equal(4, code, out .. err)
    assert.matches("job shared_job is defined in several code locations %(.-main.-other.-%): " ..
      "pass %-%-location", err)
    assert.is_nil(err:find("repository_location_name", 1, true))
  end)

  it("refuses a --job the deployment does not have (recover)", function()
    usage_error("recover --job nope_job", "%-%-job nope_job: the deployment has no job of that name")
  end)

  it("reads a YAML syntax error the same from a run config string, a script and a -c file", function()
    local bad = write(dir, "bad.yaml", "a: 1\nb: [1, 2\n")
    local e = H.catch(dagster.yaml.read, bad)
    assert.equal("YAMLError", e.name)
    assert.equal(bad .. ":2:8: did not find expected ',' or ']'", e.message)
    assert.same({ 2, 8 }, { e.line, e.column })
    -- from a script: raised as it is, not as a playbook's usage error
    local ok, e2 = pcall(require("dagster.playbook").read_yaml, bad)
    assert.is_false(ok)
    assert.equal(e.message, e2.message)
    -- a run config string is parsed before anything is sent: an argument error
    local c = dagster.client("http://127.0.0.1:9", { retries = 0 })
    local ok3, e3 = pcall(c.submit_job_execution, c, "succeed_job", { run_config = "a: [1" })
    assert.is_false(ok3)
    assert.matches("bad argument #2 to 'submit_job_execution' %(run_config:1:5: did not find expected", e3)
    usage_error("run succeed_job -c " .. H.quote(bad), bad:gsub("%p", "%%%0") .. ":2:8: did not find expected ',' or ']'")
  end)

  it("says a folder given as a file is a folder: file.read, a YAML file, a snapshot, the dagster-cloud config", function()
    local file = require "dagster.file"
    local bytes = "a\0b\255\n" .. ("x"):rep(100000)
    local path = write(dir, "bytes.bin", bytes)
    assert.equal(bytes, file.read(path))
    assert.equal("", file.read("/dev/null"))
    assert.same({ nil, dir .. ": Is a directory", false }, { file.read(dir) })
    assert.same({ nil, dir .. "/none: No such file or directory", true }, { file.read(dir .. "/none") })
    assert.same({ nil, path .. "/x: Not a directory", true }, { file.read(path .. "/x") })
    local e = H.catch(dagster.yaml.read, dir)
    assert.same({ "YAMLError", dir .. ": Is a directory", dir }, { e.name, e.message, e.file })
    usage_error("thaw --snapshot " .. H.quote(dir), dir:gsub("%p", "%%%0") .. ": Is a directory")
    local out, err, code = H.run(("env -u DAGSTER_URL DAGSTER_CLOUD_CLI_CONFIG=%s %s -e %s"):format(H.quote(dir),
      H.quote(H.bin), H.quote("require('dagster').client_from_env()")))
    assert.equal(1, code, out)
    assert.matches("ConfigurationError: the dagster-cloud config " .. dir .. ": Is a directory", err, 1, true)
  end)
end)

describe("Ctrl-C", function()
  -- Runs code in the host and sends it one SIGINT: once a request has reached a server that
  -- accepts it and never answers (PORT in the code is its port), or with ready = true once
  -- the code has printed "ready". Returns the exit status and the output after "ready".
  local function interrupt(code, ready)
    local driver = [=[
import socket, subprocess, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5); s.settimeout(30)
port = s.getsockname()[1]
p = subprocess.Popen([sys.argv[1], "-e", sys.argv[2].replace("PORT", str(port))],
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
if sys.argv[3] == "ready":
    assert p.stdout.readline() == b"ready\n"
else:
    conn, _ = s.accept()
time.sleep(0.3)
p.send_signal(2)
try:
    out = p.communicate(timeout=20)[0].decode()
finally:
    p.kill()              # never leave it running when it did not stop
print(p.returncode)
print(out)
]=]
    local out, err, rc = H.run(("python3 - %s %s %s"):format(H.quote(H.bin), H.quote(code),
      ready and "ready" or "accept"), driver)
    assert.equal(0, rc, err)
    local status, text = out:match("^(%-?%d+)\n(.*)$")
    return tonumber(status), text
  end

  it("is a dagster.Error named Interrupted, and a script that catches it still exits 130", function()
    local status, out = interrupt([[
local dagster = require "dagster"
local c = dagster.client("127.0.0.1", {port_number = PORT, timeout = 60, retries = 0})
local ok, e = pcall(c.version, c)
print(ok, dagster.Error.is(e, "Interrupted"), tostring(e))]])
    assert.equal(130, status, out)
    assert.matches("^false\ttrue\tInterrupted: ", out)
    assert.is_nil(out:find("lua/dagster/", 1, true), out)
  end)

  it("stops a playbook whose pb:try was in a request: 130, the step not recorded as failed", function()
    -- pb:try is a pcall for what the playbook reports and goes on from; Ctrl-C is not that
    local journal = os.tmpname()
    local status, out = interrupt(([[
local playbook = require "dagster.playbook"
local def = playbook.define({ name = "tryer", summary = "a request under pb:try" }, function(pb)
  local r = pb:step("ask", function()
    local ok, e = pb:try(pb.client.version, pb.client)
    print("went on", ok, tostring(e))
    return ok and "asked" or "failed"
  end)
  print("after the step", r)
  return 0
end)
os.exit(playbook.run(def, { "--url", "http://127.0.0.1:PORT", "--journal", %q }))]]):format(journal))
    local text = H.slurp(journal) or ""
    os.remove(journal)
    assert.equal(130, status, out)
    assert.is_nil(out:find("went on", 1, true), out)
    assert.is_nil(out:find("after the step", 1, true), out)
    assert.matches("dagster%-lua play: interrupted; %-%-resume goes on", out)
    assert.is_nil(text:find('"done"', 1, true), text)   -- --resume asks again
    assert.matches('"event":"stopped"', text)
  end)

  it("stops Lua code that runs on with the same error", function()
    local status, out = interrupt([[
local dagster = require "dagster"
io.write("ready\n"); io.flush()
local ok, e = pcall(function() local n = 0 while true do n = n + 1 end end)
print(ok, dagster.Error.is(e, "Interrupted"), tostring(e))]], true)
    assert.equal(130, status, out)
    assert.matches("^false\ttrue\tInterrupted: interrupted %(Ctrl%-C%)\n", out)
  end)
end)

describe("argument errors", function()
  it("have a traceback that starts at the caller's line, not inside the module", function()
    local dir = tmpdir()
    local script = write(dir, "bad.lua", [[
local c = require("dagster").client("http://127.0.0.1:9")
local function list() local runs = c:runs { limit = 0 }; return runs end
list()
]])
    local _, err, code = H.host(H.quote(script))
    os.execute("rm -rf " .. H.quote(dir))
    assert.equal(1, code)
    assert.matches("bad%.lua:2: bad argument #1 to 'runs' %(limit: positive integer expected, got 0%)", err)
    assert.matches("stack traceback:\n\t[^\n]*bad%.lua:2: in ", err)
    assert.is_nil(err:find("lua/dagster/", 1, true), err)
  end)

  it("say that a method was called with a dot instead of a colon", function()
    local c = dagster.client("http://127.0.0.1:9")
    local ok, e = pcall(c.get_run_status, "x")
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'get_run_status' %(dagster%.Client expected, got string: " ..
      "call it with a colon, client:get_run_status%(%.%.%.%)%)", e)
    ok, e = pcall(function() return c.locations() end)
    assert.is_false(ok)
    assert.matches("call it with a colon, client:locations", e)
  end)

  it("name a string that is not UTF-8, which JSON cannot carry to the server", function()
    local c = dagster.client("http://127.0.0.1:9", { retries = 0 })
    local ok, e = pcall(c.get_run_status, c, "a\255")
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'get_run_status' %(invalid UTF%-8 at byte 2%)", e)
    ok, e = pcall(c.submit_job_execution, c, "j", { tags = { k = "\255" } })
    assert.is_false(ok)
    assert.matches([[bad argument #2 to 'submit_job_execution' %(tags: value of "k": invalid UTF%-8 at byte 1%)]], e)
  end)

  it("a refused connection says how many attempts it made, and how long they took", function()
    local c = dagster.client("http://127.0.0.1:9", { retries = 2, retry_delay = 0.05 })
    local e = H.catch(c.version, c)
    assert.equal("ConnectionError", e.name)
    assert.equal(3, e.attempts)
    assert.matches("%(3 attempts in [%d.]+ s%)$", e.message)
  end)
end)

describe("the playbook declaration", function()
  local playbook = require "dagster.playbook"

  it("refuses an unknown field or type, naming it", function()
    local ok, e = pcall(playbook.define, { name = "x", flags = {
      { name = "job", type = "list", repeatable = true } } }, function() end)
    assert.is_false(ok)
    assert.matches("playbook%.define: flags%[1%]: unknown field 'repeatable'", e)
    ok, e = pcall(playbook.define, { name = "x", flags = { { name = "n", type = "float" } } }, function() end)
    assert.is_false(ok)
    assert.matches("flags%[1%] %(%-%-n%): type: one of .*duration.* expected, got float", e)
    ok, e = pcall(playbook.define, { name = "x", flags = { { name = "t", type = "duration",
      default = "forever" } } }, function() end)
    assert.is_false(ok)
    assert.matches('default: "forever" is not a duration', e)
  end)

  it("reads a duration flag as seconds, and playbook.duration raises on what is not one", function()
    local dir = tmpdir()
    local f = write(dir, "d.lua", [[
return require("dagster.playbook").define({ name = "d", journal = false,
  flags = { { name = "wait", type = "duration", default = "1m" }, { name = "n", type = "integer" } } },
  function(pb) pb:say("%s %s", pb.flags.wait, tostring(pb.flags.n)) end)
]])
    local out, err, code = H.play(dir, H.quote(f) .. " --wait 1h30m --n 3")
    assert.equal(0, code, err)
    assert.matches("^5400 3\n", out)
    out, err, code = H.play(dir, H.quote(f))
    assert.equal(0, code, err)
    assert.matches("^60 nil\n", out)
    os.execute("rm -rf " .. H.quote(dir))
    assert.equal(5400, playbook.duration("1h30m"))
    local ok, e = pcall(playbook.duration, "forever")
    assert.is_false(ok)
    assert.matches('"forever" is not a duration', e)
  end)

  it("writes durations past an hour in hours and days", function()
    assert.equal("1h00m", playbook.seconds(3600))
    assert.equal("2d00h", playbook.seconds(172800))
    assert.equal("3m05s", playbook.seconds(185))
  end)
end)

describe("--json", function()
  local client, dir
  setup(function() client = H.client(); dir = tmpdir() end)
  teardown(function() os.execute("rm -rf " .. H.quote(dir)) end)

  it("puts pb:exit's message in the summary event", function()
    local f = write(dir, "bye.lua", [[
return require("dagster.playbook").define({ name = "bye", journal = false }, function(pb)
  pb:step("one", function() return 1 end)
  pb:exit(6, "some of it failed")
end)
]])
    local out, err, code = H.play(dir, H.quote(f) .. " --json")
    assert.equal(6, code, err)
    local ev = events(out)
    assert.equal("summary", ev[#ev].event)
    assert.equal("some of it failed", ev[#ev].message)
    assert.equal(6, ev[#ev].code)
  end)

  it("emits --logs events as JSON, and an empty list as []", function()
    local tag = unique()
    local out, err, code = H.play(dir, ("run succeed_job --logs --json --tag spec=%s"):format(tag))
    assert.equal(0, code, err)
    local logs = 0
    for _, ev in ipairs(events(out)) do
      if ev.event == "log" then
        logs = logs + 1
        assert.is_string(ev.run_id)
      end
    end
    assert.is_true(logs > 3, out)
    out, err, code = H.play(dir, "sweep --older-than 30d --json")
    assert.equal(0, code, err)
    assert.matches('"result":%[%]', out)
  end)

  it("reports recover --dry-run as nothing recovered", function()
    local tag = unique()
    local id = client:submit_job_execution("fail_job", { tags = { spec = tag } })
    client:wait_for_run(id, { timeout = 120 })
    local out, err, code = H.play(dir, ("recover --dry-run --json --tag spec=%s"):format(tag))
    assert.equal(0, code, err)
    local rec
    for _, ev in ipairs(events(out)) do if ev.event == "recover" then rec = ev end end
    assert.equal(1, rec.candidates)
    assert.equal(0, rec.recovered)
    assert.is_true(rec.dry_run)
    assert.matches("FAILED RUN%s+JOB%s+NEW RUN%s+STATUS\n" .. id:gsub("%p", "%%%0") ..
      "%s+fail_job%s+%-%s+dry run", err)
  end)
end)

describe("the command line and the REPL", function()
  it("dagster-lua --help mentions play", function()
    local out, _, code = H.host("--help")
    assert.equal(0, code)
    assert.matches("dagster%-lua play NAME|FILE %[args%]", out)
  end)

  it("plain make builds the man page", function()
    local out, err, code = H.run("make -C " .. H.quote(H.root) .. " -n -W doc/dagster-lua.1.scd all")
    assert.equal(0, code, err)
    assert.matches("scdoc", out)
  end)

  it("prints run ids that can be pasted, and help without two defaults", function()
    local repl = require "dagster.repl"
    local id = "0b7e4c1a-3f2d-4e5a-9b8c-7d6e5f4a3b2c"
    local text = repl.render({ { run_id = id, job_name = "j", status = "SUCCESS" } })
    assert.matches(id, text, 1, true)
    local help = H.host("-e " .. H.quote('require("dagster.repl").setup{}; help("wait_for_run")'))
    assert.is_nil(help:find("(default true at the REPL) (default false)", 1, true), help)
  end)
end)
