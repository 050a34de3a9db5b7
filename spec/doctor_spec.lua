-- play doctor against the real deployment, each pathology made for real:
--   - a pool of limit 1 whose slot is held by a run that ended: pool_job's worker killed
--     (SIGKILL) in its step; on every supported version the run ends FAILURE and the slot
--     stays claimed (nothing frees it without free_slots_after_run_end_seconds), so the next
--     run of the pool stays QUEUED;
--   - a backfill canceled while its run is in flight: stubborn_part_job's op ignores SIGINT,
--     so the run stays CANCELING and the backfill CANCELING;
--   - a sensor that raises at every tick (broken_sensor);
--   - a schedule whose code was removed while it ran, and a location whose code is broken
--     (file_loc's file rewritten and reloaded);
--   - the daemon stopped (SIGSTOP of its process group), with a run launched behind it.
-- doctor finds each, --fix repairs the fixable ones, and what is left is what the API cannot
-- fix. Everything is put back at the end.
local dagster = require "dagster"
local H = require "helper"

local json = dagster.json
local HOME = os.getenv("DAGSTER_HOME")

-- the JSON events of a doctor run's stdout, split at each "examined" event: a list of
-- rounds, each {title =, findings =, rows = the rows of its table}
local function rounds_of(out)
  local rounds, rows = {}, {}
  for line in out:gmatch("[^\n]+") do
    local ok, ev = pcall(json.decode, line)
    if ok and type(ev) == "table" then
      if ev.event == "examined" then
        rows = {}
        rounds[#rounds + 1] = { title = ev.title, findings = ev.findings, rows = rows }
      elseif ev.event == "row" and ev.check then
        rows[#rows + 1] = ev
      end
    end
  end
  return rounds
end

-- the rows of a round whose check is `check` and whose subject matches `subject` (a plain
-- string)
local function rows(round, check, subject)
  local out = {}
  for _, r in ipairs(round.rows) do
    if r.check == check and (subject == nil or r.subject:find(subject, 1, true)) then
      out[#out + 1] = r
    end
  end
  return out
end

local function wait_pid(path, what)
  return H.wait_until(what, function()
    return tonumber(H.trim(H.slurp(path) or ""))
  end, 60, 0.2)
end

describe("play doctor", function()
  local client, dir, g
  local workers, restore = {}, {}
  local file_path, file_good

  setup(function()
    client = H.client { timeout = 60 }
    dir = os.tmpname(); os.remove(dir)
    g = H.daemon_group()
    H.signal_group("CONT", g)
    file_path = H.state_dir() .. "/file_loc/defs_file.py"
    file_good = assert(H.slurp(file_path))
  end)

  -- put back, newest first (a pool's limit is deleted only once no slot of it is claimed:
  -- deleting it under a claimed slot leaves a slot without its limit row, after which
  -- Dagster 1.13's SQLite storage fails every setConcurrencyLimit)
  teardown(function()
    H.signal_group("CONT", g)
    local f = io.open(file_path, "w"); f:write(file_good); f:close()
    pcall(client.reload_repository_location, client, "file_loc")
    for i = #restore, 1, -1 do pcall(restore[i]) end
    for _, pid in ipairs(workers) do os.execute("kill -KILL " .. pid .. " 2>/dev/null") end
    os.execute("rm -rf " .. H.quote(dir))
  end)

  it("finds each pathology, --fix repairs the fixable ones, and a second look shows only the rest", function()
    local metrics = dir .. "-metrics.prom"
    -- (busted keeps one finally per case, the last given: this case's is the daemon's below)
    table.insert(restore, function() os.remove(metrics) end)

    -- a pool of one slot, held by a run that ended
    assert.is_true(client:set_concurrency_limit("doctor_pool", 1))
    table.insert(restore, function() client:delete_concurrency_limit("doctor_pool") end)
    local held = client:submit_job_execution("pool_job")
    table.insert(restore, function() client:free_concurrency_slots(held) end)
    local pid = wait_pid(HOME .. "/pool-" .. held .. ".pid", "pool_op to hold the slot")
    os.execute("kill -KILL " .. pid)
    local ended = H.wait_run(client, held, 60)
    assert.equal("FAILURE", ended)
    local pool
    for _, p in ipairs(client:concurrency_pools()) do if p.pool == "doctor_pool" then pool = p end end
    assert.same({ { run_id = held, step_key = "pool_op" } }, pool.claimed)   -- still claimed
    local blocked = client:submit_job_execution("pool_job")
    table.insert(restore, function()
      pcall(client.terminate_run, client, blocked, { force = true })
      client:free_concurrency_slots(blocked)
    end)

    -- a backfill canceled while its run is in flight: the run stays CANCELING
    local backfill = client:backfill { job = "stubborn_part_job", partitions = { "one" } }
    local stuck = H.wait_until("the backfill's run", function()
      local b = client:get_backfill(backfill)
      return b.runs and b.runs[1] and b.runs[1].run_id
    end, 60, 0.5)
    workers[#workers + 1] = wait_pid(HOME .. "/stubborn-" .. stuck .. ".pid", "stubborn_op to start")
    -- canceled again until it holds: the backfill daemon writes back the status it read
    -- when its iteration began, so a cancel made during one is lost
    H.cancel_backfill_for_good(client, backfill)
    H.wait_until("the stubborn run to be CANCELING", function()
      if client:get_run_status(stuck) == "STARTED" then pcall(client.terminate_run, client, stuck) end
      return client:get_run_status(stuck) == "CANCELING"
    end, 60, 0.5)

    -- a sensor whose ticks fail
    assert.equal("RUNNING", client:start_sensor("broken_sensor"))
    table.insert(restore, function() client:stop_sensor("broken_sensor") end)
    H.wait_until("two failed ticks of broken_sensor", function()
      local t = client:sensor("broken_sensor", { ticks = 2 }).ticks
      return #t == 2 and t[1].status == "FAILURE" and t[2].status == "FAILURE"
    end, 60, 0.5)

    -- file_loc: a schedule started, then its code gone
    local function write(code)
      local f = assert(io.open(file_path, "w")); f:write(code); f:close()
      return client:reload_repository_location("file_loc").status
    end
    assert.equal("SUCCESS", write(file_good:gsub("defs = dg%.Definitions%(jobs=%[file_job%]%)",
      'file_schedule = dg.ScheduleDefinition(name="doctor_schedule", job=file_job, cron_schedule="0 0 1 1 *")\n' ..
      "defs = dg.Definitions(jobs=[file_job], schedules=[file_schedule])")))
    assert.equal("RUNNING", client:start_schedule("doctor_schedule"))
    table.insert(restore, function() client:stop_schedule("doctor_schedule", { location = "file_loc" }) end)
    assert.equal("SUCCESS", write(file_good))

    -- the daemon stopped, a run queued behind it (and the daemon let go on whatever happens:
    -- stopped, it may hold a database's lock every later case would meet)
    finally(function() H.signal_group("CONT", g) end)
    local queued = H.launch_while_stopped(client, g, "succeed_job")
    H.sleep(3.5)   -- past --heartbeat 3s

    local flags = "--heartbeat 3s --queued-for 1s --stuck-for 1s --ticks 2 --grace 3s --json"
    local out, err, code = H.play(dir, "doctor " .. flags .. " --metrics " .. H.quote(metrics))
    assert.equal(6, code, err)
    local r = rounds_of(out)
    assert.equal(1, #r, out)
    local first = r[1]
    local pools = rows(first, "pools", "pool doctor_pool")
    assert.equal(1, #pools, err)
    assert.truthy(pools[1].finding:find(held, 1, true))
    assert.equal("would free the run's slots", pools[1].fix)
    local q = rows(first, "queued", "run " .. blocked)
    assert.equal(1, #q, err)
    assert.truthy(q[1].evidence:find("pool doctor_pool: 1 of 1 slots claimed, 1 by runs that have ended (" ..
      held .. ")", 1, true), q[1].evidence)
    q = rows(first, "queued", "run " .. queued)
    assert.equal(1, #q, err)
    assert.truthy(q[1].evidence:find("queued run coordinator daemon has not beaten", 1, true), q[1].evidence)
    local b = rows(first, "backfills", "backfill " .. backfill)
    assert.equal(1, #b, err)
    assert.truthy(b[1].evidence:find(stuck .. " CANCELING", 1, true), b[1].evidence)
    assert.equal(1, #rows(first, "stuck", "run " .. stuck), err)
    assert.equal(1, #rows(first, "daemons", "daemon QUEUED_RUN_COORDINATOR"), err)
    assert.equal(1, #rows(first, "daemons", "daemon SENSOR"), err)
    local t = rows(first, "ticks", "sensor broken_sensor (main)")
    assert.equal(1, #t, err)
    assert.truthy(t[1].evidence:find("broken_sensor: broken on purpose", 1, true), t[1].evidence)
    assert.equal(1, #rows(first, "unloadable", "schedule doctor_schedule (file_loc)"), err)
    -- the metrics: a gauge per check and the health gauge
    local m = assert(H.slurp(metrics))
    assert.matches('\ndagster_lua_doctor_findings{playbook="doctor",journal="[^"]+",check="pools"} 1\n', m)
    assert.matches('\ndagster_lua_doctor_findings{playbook="doctor",journal="[^"]+",check="ticks"} 1\n', m)
    assert.matches('\ndagster_lua_doctor_healthy{playbook="doctor",journal="[^"]+"} 0\n', m)
    -- nothing changed without --fix
    assert.equal("CANCELING", client:get_run_status(stuck))
    assert.equal("QUEUED", client:get_run_status(blocked))

    -- --fix: the fixable ones are fixed, and the second look shows the rest
    out, err, code = H.play(dir, "doctor --fix " .. flags)
    assert.equal(6, code, err)
    r = rounds_of(out)
    assert.equal(2, #r, out)
    local after = r[2]
    for _, gone in ipairs { "pools", "backfills", "stuck", "unloadable" } do
      assert.same({}, rows(after, gone), gone .. " left after --fix:\n" .. err)
    end
    assert.equal(1, #rows(after, "ticks", "sensor broken_sensor (main)"), err)
    assert.equal(1, #rows(after, "daemons", "daemon QUEUED_RUN_COORDINATOR"), err)
    assert.equal(1, #rows(after, "queued", "run " .. queued), err)
    assert.equal("CANCELED", client:get_run_status(stuck))
    for _, p in ipairs(client:concurrency_pools()) do
      for _, c in ipairs(p.claimed) do assert.are_not.equal(held, c.run_id) end
    end
    assert.same({}, client:unloadable_instigators { location = "file_loc" })

    -- a location whose code is broken: the user's own exception, not Dagster's wrapper
    assert.equal("FAILURE", write('raise Exception("doctor: broken on purpose")\n'))
    out, err, code = H.play(dir, "doctor --check locations --json")
    assert.equal(6, code, err)
    local l = rows(rounds_of(out)[1], "locations", "location file_loc")
    assert.equal(1, #l, err)
    assert.equal("Exception: doctor: broken on purpose", l[1].evidence)
    assert.equal("SUCCESS", write(file_good))

    -- put back: the daemon goes on and takes the queued runs
    H.signal_group("CONT", g)
    assert.equal("SUCCESS", H.wait_run(client, queued, 60))
    -- its op running (a termination sent as the run starts can be lost by Dagster 1.10)
    wait_pid(HOME .. "/pool-" .. blocked .. ".pid", "the freed pool to let the blocked run's op start")
    client:terminate_run(blocked)
    H.wait_run(client, blocked, 60)
    out, err, code = H.play(dir, "doctor --check pools --check backfills --check unloadable " .. flags)
    assert.equal(0, code, err)
    assert.matches("healthy\n$", err)
  end)

  it("costs the same requests with 3 and with 43 runs queued (every check)", function()
    local proxyf = dir .. "-proxy.log"
    local url, pid = H.count_proxy(proxyf)
    -- runs held QUEUED by their pool (limit 0), then canceled (one finally: busted keeps
    -- only the last one a case gives)
    local held = {}
    finally(function()
      os.execute("kill " .. pid); os.remove(proxyf)
      pcall(client.terminate_runs, client, held, { force = true })
      client:delete_concurrency_limit("doctor_pool")
    end)
    assert.is_true(client:set_concurrency_limit("doctor_pool", 0))
    local function queue(n)
      local tasks = {}
      for i = 1, n do tasks[i] = dagster.spawn(client.submit_job_execution, client, "pool_job") end
      for _, id in ipairs(dagster.gather(tasks)) do held[#held + 1] = id end
    end
    local function requests()
      local before = #H.proxy_posts(proxyf)
      local _, err, code = H.play(dir, "doctor --url " .. H.quote(url) .. " --queued-for 1h")
      assert.is_true(code == 0 or code == 6, err)
      return #H.proxy_posts(proxyf) - before
    end
    -- what the cases before this one left (a canceled backfill whose runs are still
    -- ending) may cost a check a request more for a few seconds: count until two doctors
    -- in a row agree, with 3 runs queued and then with 43
    local function settled()
      local last = requests()
      for _ = 1, 5 do
        local n = requests()
        if n == last then return n end
        last = n
      end
      error("doctor's requests did not settle: " .. last)
    end
    queue(3)
    local few = settled()
    queue(40)
    local many = settled()
    assert.equal(few, many)
    assert.is_true(few <= 12, ("doctor made %d requests"):format(few))
  end)

  it("refuses an unknown --check with status 4, naming the checks", function()
    local _, err, code = H.play(dir, "doctor --check nope")
    assert.equal(4, code)
    assert.matches("%-%-check nope: one of pools, backfills, daemons, ticks, unloadable, locations, queued, stuck expected", err)
  end)

  it("stops at the first check that cannot reach the deployment: status 5, said once", function()
    -- a port nothing listens on: each check would retry on its own, and each say the same
    local metrics = dir .. "/unreachable.prom"
    -- (with a password in the URL, which nothing shows)
    local out, err, code = H.play(dir, "doctor --url http://ops:p%40ss@127.0.0.1:1 --metrics " .. H.quote(metrics))
    assert.equal(5, code, err)
    local _, n = err:gsub("ConnectionError", "")
    assert.equal(1, n, err)
    assert.matches("^dagster%-lua play: ConnectionError: could not connect to http://127%.0%.0%.1:1/graphql", err)
    assert.is_nil(out:find("could not run", 1, true), out)
    local prom = assert(H.slurp(metrics))
    for _, check in ipairs { "pools", "backfills", "daemons", "ticks", "unloadable", "locations", "queued", "stuck" } do
      assert.matches('dagster_lua_doctor_findings{[^}]*check="' .. check .. '"} %-1\n', prom)
    end
    assert.matches("dagster_lua_doctor_healthy{[^}]*} 0\n", prom)
    assert.matches("dagster_lua_playbook_last_exit_status{[^}]*} 5\n", prom)
    local _, err2, code2 = H.play(dir, "doctor --url http://ops:p%40ss@")
    assert.equal(4, code2, err2)
    for _, text in ipairs { out, err, prom, err2 } do
      assert.is_nil(text:find("p%40ss", 1, true), text)
    end
  end)
end)
