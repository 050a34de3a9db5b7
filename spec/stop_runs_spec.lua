-- client:stop_runs and pb:stop_runs against the real local Dagster: a run of nap_job stops
-- when terminated; a run of stubborn_job ignores SIGINT (the signal its run worker is told to
-- stop with), so it stays CANCELING until forced. stubborn_op writes its worker's pid to
-- $DAGSTER_HOME/stubborn-<run id>.pid: the spec sees that the worker still runs (the run was
-- marked CANCELED, not finished) and kills it afterwards.
local H = require "helper"
local dagster = require "dagster"
local json = require "dagster.json"

local HOME = assert(os.getenv("DAGSTER_HOME"), "DAGSTER_HOME is not set")
local NAP = { ops = { nap_op = { config = { seconds = 300 } } } }

describe("client:stop_runs", function()
  local client, dir
  local workers = {}                           -- the stubborn workers started, to kill at the end
  setup(function()
    client = H.client()
    dir = H.trim(H.run("mktemp -d"))
    assert(dir ~= "")
  end)
  teardown(function()
    for _, p in ipairs(workers) do os.execute("kill -KILL " .. p .. " 2>/dev/null") end
    os.execute("rm -rf " .. H.quote(dir))
  end)

  -- a run whose nap_op has started (a termination sent as soon as a run is STARTED can be
  -- lost by Dagster 1.10: H.wait_step_started)
  local function started(id)
    H.wait_step_started(client, id, 180)
    return id
  end

  -- a run of stubborn_job whose op has started (its worker ignores SIGINT from now on)
  local function stubborn()
    local id = client:submit_job_execution("stubborn_job")
    workers[#workers + 1] = H.wait_until("stubborn_op to start", function()
      return tonumber(H.trim(H.slurp(HOME .. "/stubborn-" .. id .. ".pid") or ""))
    end, 180, 0.5)
    return id, workers[#workers]
  end

  it("terminates a run that stops, within the grace and without forcing it", function()
    local id = started(client:submit_job_execution("nap_job", { run_config = NAP }))
    local t0 = dagster.now()
    -- a grace far longer than the run takes to stop (a few seconds; over 60 s once in CI's
    -- sanitizer suite, both cores busy): it ends when the run is CANCELED, not at its end
    local r = client:stop_runs({ id }, { grace = 180 })
    assert.same({ terminated = { id }, forced = {}, left = {} }, r)
    assert.is_true(dagster.now() - t0 < 180, "waited the whole grace")
    assert.equal("CANCELED", client:get_run_status(id))
  end)

  it("forces a run that ignores its termination once the grace is over", function()
    local id, pid = stubborn()
    local t0 = dagster.now()
    local r = client:stop_runs({ id }, { grace = 3 })
    assert.same({ terminated = { id }, forced = { id }, left = {} }, r)
    assert.is_true(dagster.now() - t0 >= 3, "forced before the grace was over")
    assert.equal("CANCELED", client:get_run_status(id))
    -- marked CANCELED, not finished: its worker still runs
    assert.is_true(os.execute("kill -0 " .. pid) == true, "the stubborn worker is gone")
  end)

  it("forces a run CANCELING already (its termination is refused), and leaves an ended run alone", function()
    local id = stubborn()
    client:terminate_run(id)
    H.wait_until("the run to be CANCELING", function()
      return client:get_run_status(id) == "CANCELING"
    end, 60, 0.2)
    local done = client:submit_job_execution("succeed_job")
    assert.equal("SUCCESS", H.wait_run(client, done, 180))
    local r = client:stop_runs({ done, id, id }, { grace = 1 })
    assert.same({ terminated = { id }, forced = { id }, left = {} }, r)
    assert.equal("CANCELED", client:get_run_status(id))
    assert.equal("SUCCESS", client:get_run_status(done))
    assert.same({ terminated = {}, forced = {}, left = {} }, client:stop_runs({}))
    assert.same({ terminated = {}, forced = {}, left = {} }, client:stop_runs({ done }))
  end)

  it("checks its arguments", function()
    assert.matches("bad argument #2 to 'stop_runs' %(grace: non%-negative number expected, got %-1%)",
      tostring(select(2, pcall(client.stop_runs, client, {}, { grace = -1 }))))
    assert.matches("bad argument #2 to 'stop_runs' %(unknown option 'force'",
      tostring(select(2, pcall(client.stop_runs, client, {}, { force = true }))))
  end)

  describe("pb:stop_runs #binary", function()
    local book
    setup(function()
      book = dir .. "/stopper.lua"
      local f = assert(io.open(book, "w"))
      f:write([[
local playbook = require "dagster.playbook"
return playbook.define({ name = "stopper", summary = "stop runs", args = { { name = "ids" } } },
  function(pb)
    local ids = {}
    for id in pb.args.ids:gmatch("[^,]+") do ids[#ids + 1] = id end
    local r = pb:step("stop", function() return pb:stop_runs(ids, { grace = 2 }) end)
    if r then pb:say("terminated %s; forced %s; left %s", table.concat(r.terminated, ","),
      table.concat(r.forced, ","), table.concat(r.left, ",")) end
    return 0
  end)
]])
      f:close()
    end)

    it("prints instead of stopping under --dry-run", function()
      local id = started(client:submit_job_execution("nap_job", { run_config = NAP }))
      local out, err, code = H.play(dir, ("%s %s --dry-run"):format(H.quote(book), id))
      assert.equal(0, code, out .. err)
      assert.truthy(out:find("would stop run " .. id, 1, true), out)
      assert.equal("STARTED", client:get_run_status(id))
      client:terminate_run(id, { force = true })
    end)

    it("journals each run terminated, and each run forced, as pb:terminate does", function()
      local nap = started(client:submit_job_execution("nap_job", { run_config = NAP }))
      local id = stubborn()
      local journal = dir .. "/stopper.jsonl"
      local out, err, code = H.play(dir, ("%s %s,%s --journal %s"):format(H.quote(book), nap, id,
        H.quote(journal)))
      assert.equal(0, code, out .. err)
      local sorted = { nap, id }
      table.sort(sorted)
      assert.truthy(out:find(("terminated %s; forced %s; left \n"):format(table.concat(sorted, ","), id),
        1, true), out)
      out, err, code = H.play(dir, "show --json " .. H.quote(journal))
      assert.equal(0, code, err)
      local s = json.decode(out)
      local want = { nap, id, id }
      table.sort(want)
      local got = { table.unpack(s.runs_terminated_ids) }
      table.sort(got)
      assert.same(want, got)
      assert.equal("CANCELED", client:get_run_status(nap))
      assert.equal("CANCELED", client:get_run_status(id))
    end)
  end)
end)
