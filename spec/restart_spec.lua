-- A wait survives the webserver being stopped and started again in the middle of it, and
-- returns the right final status. The webserver of the test deployment runs under
-- scripts/supervise, so stopping its process brings it back on the same port.
local dagster = require "dagster"
local H = require "helper"

-- pids of the webserver process itself (not its supervisor) serving this deployment's port
local function webserver_pids(port)
  local out = H.run("pgrep -f " .. H.quote("dagster-webserver -h 127.0.0.1 -p " .. port))
  local pids = {}
  for pid in out:gmatch("%d+") do
    local f = io.open("/proc/" .. pid .. "/cmdline", "rb")
    local cmd = f and f:read("a") or ""
    if f then f:close() end
    if not cmd:find("supervise", 1, true) and cmd:find("dagster-webserver", 1, true) then
      pids[#pids + 1] = pid
    end
  end
  return pids
end

describe("wait_for_run across a webserver restart", function()
  it("keeps waiting while the webserver is down and returns the run's final status", function()
    local client = H.client({ retries = 3 })
    local port = assert(H.url():match(":(%d+)$"))
    local run_id = client:submit_job_execution("nap_job")
    local seen_down, seen_statuses = false, {}

    local restarter = dagster.spawn(function()
      local probe = dagster.client(H.url(), { retries = 0, timeout = 5 })
      local pids = webserver_pids(port)
      assert.is_true(#pids >= 1, "no webserver process found for port " .. port)
      os.execute("kill -TERM " .. table.concat(pids, " "))
      -- it is really down: a direct request fails (until the supervisor brings it back)
      local deadline = dagster.now() + 30
      repeat
        local ok = pcall(probe.version, probe)
        if not ok then seen_down = true end
        if not seen_down then dagster.sleep(0.1) end
      until seen_down or dagster.now() > deadline
      -- and back, with every location loaded, for the specs that follow
      deadline = dagster.now() + 120
      while true do
        local ok, locs = pcall(probe.locations, probe)
        local loaded = ok and #locs == 4
        if loaded then
          for _, l in ipairs(locs) do
            if l.load_status ~= "LOADED" or l.error then loaded = false end
          end
        end
        if loaded then return true end
        assert(dagster.now() < deadline, "the webserver did not come back within 120 s")
        dagster.sleep(0.5)
      end
    end)

    local waiter = dagster.spawn(client.wait_for_run, client, run_id, { timeout = 240,
      on_status = function(s) seen_statuses[#seen_statuses + 1] = s end })

    local results = dagster.gather({ waiter, restarter })
    assert.is_true(seen_down, "the webserver never went down")
    assert.equal("SUCCESS", results[1])
    assert.equal("SUCCESS", seen_statuses[#seen_statuses])
    assert.equal("SUCCESS", client:get_run_status(run_id))
  end)
end)
