-- Load: 50 coroutine clients polling the real webserver for 60 seconds, bounded in time and
-- count, loopback only. No error, a bounded number of connections (the shared multi handle
-- keeps at most 8 per host), and peak memory flat after the first 10 seconds.
local dagster = require "dagster"
local H = require "helper"

local function status_kb(field)
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a"); f:close()
  return tonumber(s:match(field .. ":%s+(%d+) kB"))
end

-- established TCP connections to the webserver's port (from any process on this machine:
-- only this spec talks to this deployment while it runs)
local function connections(port)
  local n = 0
  for _, file in ipairs { "/proc/net/tcp", "/proc/net/tcp6" } do
    local f = io.open(file)
    if f then
      for line in f:lines() do
        local rport, st = line:match("^%s*%d+: %x+:%x+ %x+:(%x+) (%x%x)")
        if rport and tonumber(rport, 16) == port and st == "01" then n = n + 1 end
      end
      f:close()
    end
  end
  return n
end

describe("50 concurrent clients for 60 seconds", function()
  it("poll without error, with bounded connections and flat memory", function()
    local port = tonumber(H.url():match(":(%d+)$"))
    -- the clients and task handles of the spec files before this one keep their keep-alive
    -- connections until they are collected: collect them, and count from what is left
    collectgarbage(); collectgarbage()
    local baseline = connections(port)
    local seed = H.client()
    local run_id = seed:submit_job_execution("succeed_job")
    H.wait_run(seed, run_id)
    local duration, clients, calls, errors = 60, 50, 0, {}
    local max_sockets, rss_at_10, peak_at_10 = 0, nil, nil
    local t0 = dagster.now()
    local tasks = {}
    for i = 1, clients do
      tasks[i] = dagster.spawn(function()
        local c = dagster.client(H.url(), { timeout = 30 })
        while dagster.now() - t0 < duration do
          local ok, s = pcall(c.get_run_status, c, run_id)
          if ok and s == "SUCCESS" then calls = calls + 1
          else errors[#errors + 1] = tostring(s) end
          dagster.sleep(0.05)
        end
      end)
    end
    tasks[#tasks + 1] = dagster.spawn(function()
      while dagster.now() - t0 < duration do
        dagster.sleep(2)
        max_sockets = math.max(max_sockets, connections(port))
        if not rss_at_10 and dagster.now() - t0 >= 10 then
          collectgarbage()
          rss_at_10, peak_at_10 = status_kb("VmRSS"), status_kb("VmHWM")
        end
      end
    end)
    dagster.gather(tasks)
    collectgarbage()
    local peak_end = status_kb("VmHWM")
    assert.same({}, { table.unpack(errors, 1, math.min(#errors, 5)) })
    assert.is_true(calls > clients * 10, "only " .. calls .. " calls")
    assert.is_true(max_sockets >= 1, "no connection seen: the count is broken")
    -- bounded by the multi handle's limit (8 per host) and the seed client's one kept
    -- connection, not by the 50 clients. (11 were seen before sessions kept a single
    -- connection: the seed's launch, sent on a fresh connection, left a third one cached.)
    assert.is_true(max_sockets - baseline <= 9,
      ("connections reached %d (%d before the spec)"):format(max_sockets, baseline))
    assert.is_truthy(rss_at_10)
    assert.is_true(peak_end - peak_at_10 < 4096,
      ("peak RSS grew by %d kB after the first 10 s (%d calls)"):format(peak_end - peak_at_10, calls))
  end)
end)
