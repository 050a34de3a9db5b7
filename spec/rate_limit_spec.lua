-- Rate limits, maintenance and pacing (issue 24): a 429, or a 503 with Retry-After, is tried again after
-- the time the server asks for, inside the call's deadline, and RateLimitError comes at once
-- when that wait would pass it; max_rps holds a client's requests under a rate. The 429s
-- come from the loopback fault server (spec/support/fault_server.py): the real webserver
-- never limits.
local H = require "helper"
local dagster = require "dagster"
local json = dagster.json

local FAULT_SERVER = H.root .. "/spec/support/fault_server.py"

local function requests_to(srv, path)
  local out = {}
  for line in (H.slurp(srv.portfile .. ".log") or ""):gmatch("[^\n]+") do
    local r = json.decode(line)
    if r and r.path == path then out[#out + 1] = r end
  end
  return out
end

describe("a rate limit", function()
  local srv
  setup(function()
    srv = H.start_server("the fault server", FAULT_SERVER, function(portfile)
      return portfile
    end)
  end)
  teardown(function() H.stop_server(srv) end)

  local function client(path, opts)
    local o = { timeout = 10, retries = 0 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return dagster.client("http://127.0.0.1:" .. srv.port .. path, o)
  end

  it("is waited out as Retry-After asks, more times than retries, and the call succeeds", function()
    local c = client("/count429/q")
    local t0 = dagster.now()
    assert.equal("fault", c:version())
    local took = dagster.now() - t0
    assert.equal(5, #requests_to(srv, "/count429/q/graphql"))   -- 4 answered 429, then 200
    assert.is_true(took >= 4 * 0.3 - 0.05, ("waited %.2f s for four Retry-After: 0.3"):format(took))
  end)

  it("reads Retry-After as an HTTP date too", function()
    local c = client("/date429/q")
    local t0 = dagster.now()
    assert.equal("fault", c:version())
    assert.is_true(dagster.now() - t0 >= 0.9, "waited for the date")
    assert.equal(2, #requests_to(srv, "/date429/q/graphql"))
  end)

  it("raises RateLimitError at once, with retry_after, when the wait would pass the deadline", function()
    local c = client("/always429/q", { timeout = 3 })
    local t0 = dagster.now()
    local e = H.catch(c.version, c)
    assert.is_true(dagster.now() - t0 < 1.5, "raised at once, not after sleeping")
    assert.equal("RateLimitError", e.name)
    assert.equal(30, e.retry_after)
    assert.equal(429, e.status)
    assert.matches("asks to wait 30 s, past the call's deadline", e.message)
    assert.equal(1, #requests_to(srv, "/always429/q/graphql"))
  end)

  it("holds for launches: a 429 on a launch is sent again after the wait, once accepted", function()
    local c = client("/count429/launch")
    local ok, e = pcall(c.graphql, c, "mutation DagsterLuaX { x }")
    -- the fault server's OK body is not a launch's answer; what counts is the requests
    assert.is_true(ok or dagster.Error.is(e), tostring(e))
    assert.equal(5, #requests_to(srv, "/count429/launch/graphql"))
  end)

  it("takes a 503 with Retry-After as a rate limit too", function()
    local c = client("/ra503/q")
    assert.equal("fault", c:version())
    assert.equal(3, #requests_to(srv, "/ra503/q/graphql"))
  end)

  it("ends a wait at once with RateLimitError when Retry-After passes the wait's deadline", function()
    local c = client("/always429/w", { timeout = 10 })
    local t0 = dagster.now()
    local e = H.catch(c.wait_for_run, c, "r1", { timeout = 2, interval = 0.1 })
    assert.equal("RateLimitError", e.name)
    assert.is_true(dagster.now() - t0 < 1.5, "at once")
    -- polls every 0.1 s would have made ~20 requests in 2 s
    assert.equal(1, #requests_to(srv, "/always429/w/graphql"))
  end)

  it("makes a wait's poll rounds wait as Retry-After asks", function()
    local c = client("/count429/w", { timeout = 10 })
    local e = H.catch(c.wait_for_run, c, "r1", { timeout = 5, interval = 0.1 })
    -- four 429s waited out (0.3 s each), then the fault server's answer, which is no run
    assert.equal("ProtocolError", e.name)
    assert.equal(5, #requests_to(srv, "/count429/w/graphql"))
  end)
end)

describe("a maintenance window", function()
  local srv
  setup(function()
    srv = H.start_server("the fault server", FAULT_SERVER, function(portfile) return portfile end)
  end)
  teardown(function() H.stop_server(srv) end)

  local function client(path, opts)
    local o = { timeout = 10, retries = 0 }
    for k, v in pairs(opts or {}) do o[k] = v end
    return dagster.client("http://127.0.0.1:" .. srv.port .. path, o)
  end

  it("shorter than the deadline is waited out at its retry interval, said once", function()
    local said = {}
    local wait = require "dagster.wait"
    local before = wait.notice
    wait.notice = function(line) said[#said + 1] = line end
    finally(function() wait.notice = before end)
    local c = client("/maint/short")
    local t0 = dagster.now()
    assert.equal("fault", c:version())
    assert.is_true(dagster.now() - t0 >= 3 * 0.2 - 0.05)
    assert.equal(4, #requests_to(srv, "/maint/short/graphql"))
    assert.equal(1, #said)
    assert.matches("is in maintenance: Dagster%+ is down for scheduled maintenance; trying " ..
      "again every 0%.2 s", said[1])
  end)

  it("longer than the deadline raises MaintenanceError with the service's message", function()
    local c = client("/maintlong/q", { timeout = 1.2 })
    local t0 = dagster.now()
    local e = H.catch(c.version, c)
    assert.equal("MaintenanceError", e.name)
    assert.equal("Dagster+ is down for scheduled maintenance", e.message)
    assert.equal(0.5, e.retry_interval)
    assert.is_true(dagster.now() - t0 < 1.3, "ended by the deadline")
    local n = #requests_to(srv, "/maintlong/q/graphql")
    assert.is_true(n >= 2 and n <= 3, n .. " requests")   -- at 0 s, 0.5 s (1.0 s: no time left)
  end)
end)

describe("max_rps", function()
  local srv
  setup(function()
    srv = H.start_server("the fault server", FAULT_SERVER, function(portfile)
      return portfile
    end)
  end)
  teardown(function() H.stop_server(srv) end)

  it("holds a client's requests, from every task, under the rate", function()
    local c = dagster.client("http://127.0.0.1:" .. srv.port .. "/ok/paced", { max_rps = 10 })
    local tasks = {}
    for i = 1, 4 do
      tasks[i] = dagster.spawn(function()
        for _ = 1, 5 do c:version() end
      end)
    end
    local t0 = dagster.now()
    dagster.gather(tasks)
    local took = dagster.now() - t0
    local reqs = requests_to(srv, "/ok/paced/graphql")
    assert.equal(20, #reqs)
    -- 20 requests at 10 a second: the last leaves 1.9 s after the first
    assert.is_true(took >= 1.85, ("20 requests took %.2f s"):format(took))
    -- The server notes when a request arrives, not when it left: on a loaded machine one
    -- may come in tens of milliseconds after its slot and the next on time. Unpaced, the 20
    -- arrive within a few tens of milliseconds; paced, any 11 of them span about a second.
    table.sort(reqs, function(a, b) return a.t < b.t end)
    assert.is_true(reqs[#reqs].t - reqs[1].t >= 1.7,
      ("the 20 requests arrived within %.3f s"):format(reqs[#reqs].t - reqs[1].t))
    for i = 11, #reqs do
      assert.is_true(reqs[i].t - reqs[i - 10].t >= 0.8,
        ("requests %d and %d only %.3f s apart"):format(i - 10, i, reqs[i].t - reqs[i - 10].t))
    end
  end)

  it("is checked like the other options", function()
    local ok, e = pcall(dagster.client, "http://127.0.0.1:9", { max_rps = 0 })
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'client' %(max_rps: positive number expected, got 0%)", e)
  end)
end)
