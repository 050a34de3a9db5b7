-- The test deployment runs Dagster as users run it since 1.10 (scripts/dagster-up): the queued run
-- coordinator, and dagster-daemon under scripts/supervise, which launches queued runs and ticks
-- schedules. These specs pin what a client sees of that: a run QUEUED until the daemon takes it, a
-- started schedule that really launches runs, and a wait that outlives a restart of the daemon.
--
-- A run is held in QUEUED deterministically by stopping the daemon's process group (SIGSTOP: the
-- supervisor, the daemon, and the code server the daemon spawned for file_loc) and continuing it
-- (SIGCONT). A daemon stopped in the middle of a write holds SQLite's lock, and the launch made
-- while it is stopped then fails with "database is locked" after SQLite's busy timeout (5 s,
-- 30 s from Dagster 1.13), or runs out of time first: H.launch_while_stopped lets the daemon go
-- on and stops it again, and launches again.
local dagster = require "dagster"
local H = require "helper"

local daemon_group, daemon_pids, signal_group = H.daemon_group, H.daemon_pids, H.signal_group

-- succeed_job launched while the daemon's group g is stopped (H.launch_while_stopped)
local function launch_while_stopped(client, g) return H.launch_while_stopped(client, g, "succeed_job") end

-- the order in which a launched run goes through the statuses a wait can see
local ORDER = { QUEUED = 1, STARTING = 2, STARTED = 3, SUCCESS = 4 }

local function assert_in_order(seen)
  for i, s in ipairs(seen) do
    assert.is_truthy(ORDER[s], "unexpected status " .. s)
    if i > 1 then
      assert.is_true(ORDER[seen[i - 1]] < ORDER[s], "statuses out of order: " .. table.concat(seen, " "))
    end
  end
end

describe("a deployment with dagster-daemon and the queued run coordinator", function()
  local client
  -- tick_schedule ticks on the minute: it is started here, when the file starts, and its case
  -- comes last, so that the other cases run while the scheduler waits for the minute
  local SCHEDULE, schedule_started = "tick_schedule", nil
  setup(function()
    client = H.client({ timeout = 60 })
    -- the daemon is there, running, and unstopped (a spec before may have failed half-way)
    local g = daemon_group()
    signal_group("CONT", g)
    assert.equal(1, #daemon_pids(g))
    schedule_started = os.time()
    assert.equal("RUNNING", client:start_schedule(SCHEDULE))
  end)
  -- stopped at the latest here, so that it does not launch runs under the specs that follow
  teardown(function() pcall(client.stop_schedule, client, SCHEDULE) end)

  it("wait_for_run reports a run QUEUED until the daemon takes it, then its way to SUCCESS", function()
    local g = daemon_group()
    finally(function() signal_group("CONT", g) end)
    local run_id = launch_while_stopped(client, g)
    local seen, resumed_at = {}, nil

    local resumer = dagster.spawn(function()
      local probe = dagster.client(H.url(), { timeout = 60 })
      dagster.sleep(3)
      -- 3 s later it is still queued: only the daemon launches runs. The daemon goes on
      -- whatever the probe got: a failed probe must not leave the waiter waiting 240 s
      local ok, before = pcall(probe.get_run_status, probe, run_id)
      resumed_at = os.time()
      assert.is_true(signal_group("CONT", g))
      assert(ok, before)
      return before
    end)
    local waiter = dagster.spawn(client.wait_for_run, client, run_id, { timeout = 240,
      interval = 0.2, on_status = function(s) seen[#seen + 1] = s end })

    local results = dagster.gather({ waiter, resumer })
    assert.equal("QUEUED", results[2])
    assert.equal("SUCCESS", results[1])
    assert.equal("QUEUED", seen[1])
    assert.equal("SUCCESS", seen[#seen])
    assert_in_order(seen)
    -- the run started once the daemon was back, not before
    local run = client:get_run(run_id)
    assert.is_true(run.start_time >= resumed_at - 1,
      ("started at %s, daemon resumed at %d"):format(tostring(run.start_time), resumed_at))
  end)

  it("wait_for_run keeps waiting for a QUEUED run across a daemon restart and returns SUCCESS", function()
    local g = daemon_group()
    local old = daemon_pids(g)
    assert.equal(1, #old)
    finally(function() signal_group("CONT", g) end)
    local run_id = launch_while_stopped(client, g)
    local seen, killed_at = {}, nil

    local restarter = dagster.spawn(function()
      local probe = dagster.client(H.url(), { timeout = 60 })
      dagster.sleep(2)
      local ok, before = pcall(probe.get_run_status, probe, run_id)
      -- kill the stopped daemon (it never sees the run), then let the supervisor start another
      -- (whatever the probe got, as above)
      killed_at = os.time()
      assert.is_true(os.execute("kill -KILL " .. old[1]))
      assert.is_true(signal_group("CONT", g))
      assert(ok, before)
      local deadline = dagster.now() + 120
      local new
      repeat
        dagster.sleep(0.5)
        new = daemon_pids(g)[1]
      until (new and new ~= old[1]) or dagster.now() > deadline
      return { before = before, new = new }
    end)
    local waiter = dagster.spawn(client.wait_for_run, client, run_id, { timeout = 300,
      on_status = function(s) seen[#seen + 1] = s end })

    local results = dagster.gather({ waiter, restarter })
    assert.equal("QUEUED", results[2].before)
    assert.is_truthy(results[2].new, "the supervisor started no new daemon within 120 s")
    assert.are_not.equal(old[1], results[2].new)
    assert.matches("exited with status 137; restarting",
      H.slurp(H.state_dir() .. "/logs/daemon.log") or "", 1, true)
    assert.equal("SUCCESS", results[1])
    assert.equal("QUEUED", seen[1])
    assert.equal("SUCCESS", seen[#seen])
    assert_in_order(seen)
    local run = client:get_run(run_id)
    assert.is_true(run.start_time >= killed_at - 1,
      ("started at %s, old daemon killed at %d"):format(tostring(run.start_time), killed_at))
  end)

  it("runs a started schedule: tick_schedule launches a tick_job run within two minutes", function()
    local name, t0 = SCHEDULE, schedule_started
    finally(function() pcall(client.stop_schedule, client, name) end)
    assert.equal("RUNNING", client:start_schedule(name))   -- started in setup: it stays so
    -- cron "* * * * *": the scheduler evaluates on the minute; allow for a busy machine.
    -- (Only runs from the start on: the spec may run twice against one deployment.)
    local runs = H.wait_until("tick_schedule to launch a run", function()
      local rs = client:runs({ tags = { ["dagster/schedule_name"] = name }, created_after = t0 })
      return #rs > 0 and rs
    end, 150, 1)
    -- stopped at once, so that it does not launch runs under the specs that follow
    assert.equal("STOPPED", client:stop_schedule(name))
    local run = runs[#runs]
    assert.equal("tick_job", run.job_name)
    assert.equal(name, run.tags["dagster/schedule_name"])
    assert.is_true(run.creation_time >= t0, "a run from before the schedule was started")
    assert.equal("SUCCESS", (client:wait_for_run(run.run_id, { timeout = 240 })))
  end)
end)
