-- `timeout` is a deadline for the whole call: against a server that never answers, stalls
-- mid-body or drips a byte a second (spec/support/fault_server.py), every call ends with a
-- result or a dagster.Error within its timeout plus a small slack, retries and backoff
-- included. The wall time is measured from outside: each call runs in its own host process,
-- with the client's default retries (3) and a 2 s timeout; the limit is 2 s + 1.5 s.
-- The processes are independent and spend their 2 s waiting: the file's setup starts every
-- case's process, PARALLEL at a time, and each case reads its own (a case run alone starts
-- them too). A process's wall time counts from its own start, not from the queue.
local PARALLEL = 12
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

-- Queues one call for a fresh host process (start_calls starts them); its wall time is
-- measured by the shell around it (date before and after). Returns a handle for `result`.
local calls_dir, queued = nil, {}
local function queue_call(url, expr, client_opts)
  local script = ([[
local dagster = require "dagster"
local c = dagster.client(%q, {timeout = %g%s})
local ok, e = pcall(function() return %s end)
if ok then print("ok") return end
print(("%%s|%%s|%%s"):format(dagster.Error.is(e) and e.name or "string", tostring(e),
  tostring(e.submission_id)))
]]):format(url, TIMEOUT, client_opts or "", expr)
  local base = ("%s/%d"):format(calls_dir, #queued + 1)
  local f = assert(io.open(base .. ".lua", "w")); f:write(script); f:close()
  queued[#queued + 1] = base
  return base
end

-- starts the queued calls in the background, PARALLEL at a time
local function start_calls()
  local f = assert(io.open(calls_dir .. "/run.sh", "w"))
  f:write([[
t0=$(date +%s.%N)
"$1" - <"$2.lua" >"$2.out" 2>"$2.err"
rc=$?
t1=$(date +%s.%N)
echo "$rc $t0 $t1" >"$2.tmp"
mv "$2.tmp" "$2.done"
]])
  f:close()
  f = assert(io.open(calls_dir .. "/queue", "w")); f:write(table.concat(queued, "\n"), "\n"); f:close()
  local q = H.quote
  os.execute(("xargs -P %d -n 1 sh %s %s <%s >/dev/null 2>&1 &"):format(PARALLEL,
    q(calls_dir .. "/run.sh"), q(H.bin), q(calls_dir .. "/queue")))
end

-- waits for a queued call to end; returns the "name|message|submission id"
-- line it printed and the wall time its process took
local function result(base)
  local done = H.wait_until("the host process of " .. base .. ".lua to end", function()
    return H.slurp(base .. ".done")
  end, 120, 0.05)
  local code, t0, t1 = done:match("^(%d+) (%S+) (%S+)")
  assert.equal("0", code, "the host failed: " .. (H.slurp(base .. ".err") or ""))
  return H.trim(H.slurp(base .. ".out") or ""), tonumber(t1) - tonumber(t0)
end

local function log_lines(srv, path)
  local n = 0
  for line in (H.slurp(srv.portfile .. ".log") or ""):gmatch("[^\n]+") do
    if dagster.json.decode(line).path == path then n = n + 1 end
  end
  return n
end

local MODES = { "never", "stall", "drip" }

describe("timeout is a deadline for the whole call", function()
  local srv, closed
  local calls = {}   -- the started calls, by name
  setup(function()
    srv = H.start_server("the fault server", FAULT_SERVER, function(p) return p end)
    closed = dagster.json.decode(assert(H.slurp(srv.portfile .. ".ports"))).closed
    calls_dir = H.trim(H.run("mktemp -d"))
    assert(calls_dir ~= "", "mktemp -d failed")
    local function url(path) return ("http://127.0.0.1:%d%s"):format(srv.port, path) end
    for _, mode in ipairs(MODES) do
      for _, expr in ipairs(CALLS) do
        calls[mode .. " " .. expr] = queue_call(url(("/%s/%s"):format(mode,
          expr:match("c:([%w_]+)"))), expr)
      end
    end
    calls.attempts = queue_call(url("/never/attempts"), "c:get_run_status('r')",
      ", attempt_timeout = 0.4, retry_delay = 0.05")
    calls.backoff = queue_call("http://127.0.0.1:" .. closed, "c:get_run_status('r')",
      ", retry_delay = 1, retry_max_delay = 4")
    calls.launch = queue_call(url("/never/launch"),
      "c:submit_job_execution('j', {repository_location_name = 'l', repository_name = 'r'})")
    start_calls()
  end)
  teardown(function()
    -- every call has ended by its deadline (2 s) already: wait for those no case read
    for _, base in pairs(calls) do pcall(result, base) end
    H.stop_server(srv)
    if calls_dir then os.execute("rm -rf " .. H.quote(calls_dir)) end
  end)

  for _, mode in ipairs(MODES) do
    for _, expr in ipairs(CALLS) do
      it(("%s against a server that does %q ends with TimeoutError within %g s + %g s")
          :format(expr, mode, TIMEOUT, SLACK), function()
        local out, elapsed = result(calls[mode .. " " .. expr])
        assert.truthy(out:find("^TimeoutError|"), "expected a TimeoutError, got: " .. out)
        assert.is_true(elapsed < TIMEOUT + SLACK,
          ("the call took %.2f s (limit %g s + %g s): %s"):format(elapsed, TIMEOUT, SLACK, out))
      end)
    end
  end

  it("retries inside the deadline when attempts are shorter (attempt_timeout)", function()
    local path = "/never/attempts"
    local out, elapsed = result(calls.attempts)
    assert.truthy(out:find("^TimeoutError|"), out)
    assert.is_true(elapsed < TIMEOUT + SLACK, ("took %.2f s"):format(elapsed))
    -- four attempts of 0.4 s (one and three retries) fit in 2 s; a fifth was never allowed
    assert.equal(4, log_lines(srv, path .. "/graphql"))
  end)

  it("does not start a retry whose backoff ends past the deadline", function()
    -- nothing listens: every attempt fails at once, and the backoff (1 s, then 2 s, 4 s)
    -- would carry the third retry past the 2 s deadline
    local out, elapsed = result(calls.backoff)
    assert.truthy(out:find("^ConnectionError|"), out)
    assert.is_true(elapsed < TIMEOUT + SLACK, ("took %.2f s"):format(elapsed))
  end)

  it("gives a launch whose outcome is unknown at the deadline its submission id", function()
    local out = result(calls.launch)
    local id = out:match("^TimeoutError|.*|(%x+)$")
    assert.truthy(id, "no submission id in: " .. out)
    assert.equal(32, #id)
  end)
end)
