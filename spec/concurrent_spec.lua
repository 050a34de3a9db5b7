-- dagster.spawn / dagster.gather: coroutine tasks whose client calls overlap over libcurl's
-- multi interface, against the real local Dagster. No timing is asserted: overlap is seen in
-- the number of transfers in flight at once and in the order tasks finish.
local dagster = require "dagster"
local concurrent = require "dagster.concurrent"
local H = require "helper"

describe("dagster.spawn and dagster.gather", function()
  it("returns each task's result in the order the tasks were given", function()
    local tasks = {}
    for i = 1, 5 do tasks[i] = dagster.spawn(function(x) return x * 10 end, i) end
    assert.same({ 10, 20, 30, 40, 50 }, dagster.gather(tasks))
  end)

  it("lets a sleeping task yield to the others", function()
    local order = {}
    local a = dagster.spawn(function() dagster.sleep(0.2); order[#order + 1] = "a" end)
    local b = dagster.spawn(function() order[#order + 1] = "b" end)
    dagster.gather({ a, b })
    assert.same({ "b", "a" }, order)
  end)

  it("overlaps the requests of many tasks on the real server", function()
    local client = H.client()
    local before = concurrent.stats.transfers
    concurrent.stats.max_in_flight = 0
    local tasks = {}
    for i = 1, 8 do tasks[i] = dagster.spawn(client.version, client) end
    for _, v in ipairs(dagster.gather(tasks)) do assert.equal(H.version(), v) end
    assert.equal(8, concurrent.stats.transfers - before)
    assert.is_true(concurrent.stats.max_in_flight >= 2, "max in flight " .. concurrent.stats.max_in_flight)
  end)

  it("raises the first failed task's error object once all have finished", function()
    local client = H.client()
    local ok_task = dagster.spawn(client.version, client)
    local bad = dagster.spawn(client.get_run_status, client, "no-such-run")
    local ok, e = pcall(dagster.gather, { ok_task, bad })
    assert.is_false(ok)
    assert.equal("RunNotFoundError", e.name)
    assert.is_true(ok_task.done)
  end)

  it("returns errors apart from results with errors = 'return'", function()
    local client = H.client()
    local r, errs = dagster.gather({ dagster.spawn(client.version, client),
      dagster.spawn(client.get_run_status, client, "no-such-run"),
      dagster.spawn(function() return "a string result" end),
      dagster.spawn(function() error("a plain Lua error") end) }, { errors = "return" })
    assert.equal(H.version(), r[1])
    assert.is_nil(errs[1])
    assert.is_nil(r[2])
    assert.is_true(dagster.Error.is(errs[2], "RunNotFoundError"))
    assert.equal("a string result", r[3])     -- a result, told apart from an error
    assert.is_nil(errs[3])
    assert.is_nil(r[4])
    assert.matches("a plain Lua error", errs[4])
  end)

  it("lets tasks spawn and gather tasks of their own", function()
    local client = H.client()
    local outer = dagster.spawn(function()
      local inner = {}
      for i = 1, 3 do inner[i] = dagster.spawn(client.version, client) end
      return #dagster.gather(inner)
    end)
    assert.same({ 3 }, dagster.gather({ outer }))
  end)

  it("blocks as usual outside tasks, and dagster.run runs a function as a task", function()
    local client = H.client()
    assert.is_false(concurrent.in_task())
    assert.equal(H.version(), client:version())
    local a, b = dagster.run(function() return concurrent.in_task(), client:version() end)
    assert.is_true(a)
    assert.equal(H.version(), b)
  end)

  it("rejects what is not a task or a function like Lua's own argument errors", function()
    assert.has_error(function() dagster.spawn(42) end, "bad argument #1 to 'spawn' (function expected, got number)")
    -- dagster.run names itself, at the caller's line
    local ok, e = pcall(function() dagster.run(nil) end)
    assert.is_false(ok)
    assert.matches("^[^:]*concurrent_spec%.lua:%d+: bad argument #1 to 'run' %(function expected, got nil%)$", e)
    assert.has_error(function() dagster.gather({ 1 }) end, "bad argument #1 to 'gather' (item 1 is not a task)")
  end)
end)
