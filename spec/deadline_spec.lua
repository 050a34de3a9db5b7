-- `timeout` is a deadline for the whole call: against a server that never answers, stalls
-- mid-body or drips a byte a second (spec/support/fault_server.py), every call ends with a
-- result or a dagster.Error within its timeout plus a small slack, retries and backoff
-- included. The wall time is measured from outside: each call runs in its own host process,
-- with the client's default retries (3) and a 2 s timeout; the limit is 2 s + 1.5 s.
local dagster = require "dagster"
local H = require "helper"

local FAULT_SERVER = H.root .. "/spec/support/fault_server.py"
local TIMEOUT, SLACK = 2, 1.5

-- the calls, each as a Lua expression on the client `c`: a plain query, each workflow that
-- loops (with its own longer timeout, so that the client's is what must bound it), a launch
-- and a re-execution (settled by their tag), a mutation and a paged listing
local CALLS = {
  "c:get_run_status('r')",
  "c:get_run('r')",
  "c:runs{}",
  "c:locations()",
  "c:reload_repository_location('main')",
  "c:submit_job_execution('j', {repository_location_name = 'l', repository_name = 'r'})",
  "c:reexecute('r')",
  "c:wait_for_run('r', {timeout = " .. TIMEOUT .. "})",
  "c:wait_for_runs({'r', 's'}, {timeout = " .. TIMEOUT .. "})",
  "c:wait_for_location('main', {timeout = " .. TIMEOUT .. "})",
}

-- runs one call in a fresh host process; returns the "name|message|submission id" line it
-- prints and the wall time the process took, measured here
local function timed_call(url, expr, client_opts)
  local script = ([[
local dagster = require "dagster"
local c = dagster.client(%q, {timeout = %g%s})
local ok, e = pcall(function() return %s end)
if ok then print("ok") return end
print(("%%s|%%s|%%s"):format(dagster.Error.is(e) and e.name or "string", tostring(e),
  tostring(e.submission_id)))
]]):format(url, TIMEOUT, client_opts or "", expr)
  local t0 = H.now()
  local out, err, code = H.host("-", script)
  local elapsed = H.now() - t0
  assert.equal(0, code, "the host failed: " .. err)
  return H.trim(out), elapsed
end

local function log_lines(srv, path)
  local n = 0
  for line in (H.slurp(srv.portfile .. ".log") or ""):gmatch("[^\n]+") do
    if dagster.json.decode(line).path == path then n = n + 1 end
  end
  return n
end

describe("timeout is a deadline for the whole call", function()
  local srv
  setup(function()
    srv = H.start_server("the fault server", FAULT_SERVER, function(p) return p end)
  end)
  teardown(function() H.stop_server(srv) end)

  for _, mode in ipairs { "never", "stall", "drip" } do
    for _, expr in ipairs(CALLS) do
      it(("%s against a server that does %q ends with TimeoutError within %g s + %g s")
          :format(expr, mode, TIMEOUT, SLACK), function()
        local url = ("http://127.0.0.1:%d/%s/%s"):format(srv.port, mode, expr:match("c:([%w_]+)"))
        local out, elapsed = timed_call(url, expr)
        assert.truthy(out:find("^TimeoutError|"), "expected a TimeoutError, got: " .. out)
        assert.is_true(elapsed < TIMEOUT + SLACK,
          ("the call took %.2f s (limit %g s + %g s): %s"):format(elapsed, TIMEOUT, SLACK, out))
      end)
    end
  end

  it("retries inside the deadline when attempts are shorter (attempt_timeout)", function()
    local path = "/never/attempts"
    local out, elapsed = timed_call("http://127.0.0.1:" .. srv.port .. path,
      "c:get_run_status('r')", ", attempt_timeout = 0.4, retry_delay = 0.05")
    assert.truthy(out:find("^TimeoutError|"), out)
    assert.is_true(elapsed < TIMEOUT + SLACK, ("took %.2f s"):format(elapsed))
    -- four attempts of 0.4 s (one and three retries) fit in 2 s; a fifth was never allowed
    assert.equal(4, log_lines(srv, path .. "/graphql"))
  end)

  it("does not start a retry whose backoff ends past the deadline", function()
    -- nothing listens: every attempt fails at once, and the backoff (1 s, then 2 s, 4 s)
    -- would carry the third retry past the 2 s deadline
    local closed = dagster.json.decode(assert(H.slurp(srv.portfile .. ".ports"))).closed
    local out, elapsed = timed_call("http://127.0.0.1:" .. closed,
      "c:get_run_status('r')", ", retry_delay = 1, retry_max_delay = 4")
    assert.truthy(out:find("^ConnectionError|"), out)
    assert.is_true(elapsed < TIMEOUT + SLACK, ("took %.2f s"):format(elapsed))
  end)

  it("gives a launch whose outcome is unknown at the deadline its submission id", function()
    local out = timed_call(("http://127.0.0.1:%d/never/launch"):format(srv.port),
      "c:submit_job_execution('j', {repository_location_name = 'l', repository_name = 'r'})")
    local id = out:match("^TimeoutError|.*|(%x+)$")
    assert.truthy(id, "no submission id in: " .. out)
    assert.equal(32, #id)
  end)
end)
