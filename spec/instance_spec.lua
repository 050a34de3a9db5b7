-- The instance methods on the real deployment: settings, daemons, pools, deleting runs, and a
-- backfill's cancel that terminates its runs, made twice.
local dagster = require "dagster"
local H = require "helper"

local function catch(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "no error")
  return e
end

describe("the instance", function()
  local client = H.client { timeout = 60 }

  it("instance() and daemon_health() read the test deployment as scripts/dagster-up made it", function()
    local i = client:instance()
    assert.is_true(i.run_queuing)              -- the queued run coordinator
    assert.equal(10, i.max_concurrent_runs)    -- Dagster's default
    assert.is_true(i.pools_supported)
    assert.is_boolean(i.auto_materialize_paused)
    local types = {}
    for _, d in ipairs(client:daemon_health()) do
      types[d.type] = d
      assert.is_table(d.errors)
    end
    for _, t in ipairs { "SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "BACKFILL" } do
      assert.is_table(types[t], t)
      assert.is_true(types[t].required, t)
      assert.is_number(types[t].last_heartbeat, t)
    end
  end)

  it("sets, lists and deletes a pool's limit; checks the limit as Lua does", function()
    local pool = "spec_pool_" .. dagster.submission_id():sub(1, 6)
    finally(function() pcall(client.delete_concurrency_limit, client, pool) end)
    assert.is_true(client:set_concurrency_limit(pool, 3))
    local found
    for _, p in ipairs(client:concurrency_pools()) do if p.pool == pool then found = p end end
    assert.same({ pool = pool, limit = 3, slot_count = 3, using_default_limit = false,
                  claimed = {}, pending = {} }, found)
    assert.is_true(client:delete_concurrency_limit(pool))
    for _, p in ipairs(client:concurrency_pools()) do assert.are_not.equal(pool, p.pool) end
    assert.matches("bad argument #2 to 'set_concurrency_limit' %(integer expected, got number%)",
      catch(client.set_concurrency_limit, client, pool, 1.5))
    assert.matches("bad argument #2 to 'set_concurrency_limit' %(non%-negative integer expected, got %-1%)",
      catch(client.set_concurrency_limit, client, pool, -1))
  end)

  it("delete_run refuses a run in flight, deletes a finished one, and then names it not found", function()
    local slow = client:submit_job_execution("nap_job", { run_config = { ops = { nap_op = {
      config = { seconds = 30 } } } } })
    finally(function() pcall(client.terminate_run, client, slow, { force = true }) end)
    local e = catch(client.delete_run, client, slow)
    assert.equal("RunInProgressError", e.name)
    assert.equal(slow, e.run_id)
    local done = client:submit_job_execution("succeed_job")
    assert.equal("SUCCESS", H.wait_run(client, done, 60))
    assert.is_true(client:delete_run(done))
    assert.equal("RunNotFoundError", catch(client.get_run_status, client, done).name)
    assert.equal("RunNotFoundError", catch(client.delete_run, client, done).name)
  end)

  it("queue() reads the instance, the daemons and the pools at once, then the runs in flight", function()
    local concurrent = require "dagster.concurrent"
    local pool = "spec_queue_" .. dagster.submission_id():sub(1, 6)
    finally(function() pcall(client.delete_concurrency_limit, client, pool) end)
    assert.is_true(client:set_concurrency_limit(pool, 2))
    local stats = concurrent.stats
    local transfers = stats.transfers
    stats.max_in_flight = 0
    local q = client:queue()
    assert.equal(4, stats.transfers - transfers, "requests")
    assert.equal(3, stats.max_in_flight, "requests at once")
    assert.same(client:instance(), q.instance)
    assert.equal("QUEUED_RUN_COORDINATOR", q.daemon.type)
    assert.is_table(q.daemons)
    local found
    for _, p in ipairs(q.pools) do if p.pool == pool then found = p end end
    assert.same({ pool = pool, limit = 2, slot_count = 2, using_default_limit = false,
                  claimed = {}, pending = {}, ended = {} }, found)
    assert.is_table(q.queued)
    assert.is_table(q.in_progress)
    -- the same from a task, and from a coroutine that is not one (its requests block)
    local from_task = dagster.run(client.queue, client)
    local from_co = coroutine.wrap(function() return client:queue() end)()
    for _, x in ipairs { from_task, from_co } do
      assert.same(q.instance, x.instance)
      assert.same(found, (function()
        for _, p in ipairs(x.pools) do if p.pool == pool then return p end end
      end)())
    end
  end)

  it("queue() names a tag limit that holds a run: scripts/dagster-up's dagster-lua/hold, limit 0", function()
    local lim
    for _, l in ipairs(client:instance().tag_concurrency_limits or {}) do
      if l.key == "dagster-lua/hold" then lim = l end
    end
    assert.same({ key = "dagster-lua/hold", limit = 0 }, lim)
    local id = client:submit_job_execution("succeed_job", { tags = { ["dagster-lua/hold"] = "1" } })
    finally(function() pcall(client.terminate_run, client, id) end)
    H.sleep(2.5)   -- the coordinator dequeues every second: it has looked at the run twice
    assert.equal("QUEUED", client:get_run_status(id))
    local mine
    for _, r in ipairs(client:queue().queued) do if r.run_id == id then mine = r end end
    assert.is_table(mine, "the held run is not in the queue")
    assert.same({ { kind = "tag_limit", key = "dagster-lua/hold", value = "1", limit = 0,
                    text = "the tag limit dagster-lua/hold=1: 0 of 0 runs" } }, mine.held_by)
    -- a queued run is canceled at once, without a process to stop
    client:terminate_run(id)
    assert.equal("CANCELED", client:get_run_status(id))
  end)

  it("cancel_backfill{terminate_runs} ends the backfill's runs, and can be made twice", function()
    local b = client:backfill { assets = { "region_slow" }, partitions = { "eu" } }
    H.wait_until("the backfill's run", function()
      local x = client:get_backfill(b)
      return x.runs and x.runs[1] and x.runs[1].run_id
    end, 60, 0.5)
    local ok, r = client:cancel_backfill(b, { terminate_runs = true, grace = 5 })
    assert.is_true(ok)
    assert.is_true(#r.terminated + #r.forced >= 1)
    assert.same({}, r.left)
    for _, run in ipairs(client:get_backfill(b).runs) do
      assert.is_true(dagster.FINAL_RUN_STATUSES[client:get_run_status(run.run_id)] == true)
    end
    ok, r = client:cancel_backfill(b, { terminate_runs = true, grace = 5 })
    assert.is_true(ok)
    assert.same({ terminated = {}, forced = {}, left = {} }, r)
  end)
end)
