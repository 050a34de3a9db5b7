-- The workspace methods against the real local Dagster under test (scripts/dagster-up): locations
-- and their load errors, waiting for a location to come back, repositories and jobs,
-- materializing and listing assets, and starting and stopping schedules and sensors.
local dagster = require "dagster"
local H = require "helper"

local catch = H.catch

local function slurp(path) return (assert(H.slurp(path), "cannot read " .. path)) end

local function spit(path, s)
  local f = assert(io.open(path, "wb")); f:write(s); f:close()
end

local function by_name(list)
  local t = {}
  for _, v in ipairs(list) do t[v.name] = v end
  return t
end

local LOCATIONS = { "main", "other", "victim", "file_loc" }
local BROKEN = "import dagster\nraise RuntimeError('dagster-lua spec: file_loc broken on purpose')\n"

local RUN = [[
query DagsterLuaSpecRun($id: ID!) {
  runOrError(runId: $id) { __typename ... on Run { jobName tags { key value } assetSelection { path } } }
}]]
local RUN_COUNT = "query DagsterLuaSpecRunCount { runsOrError { __typename ... on Runs { count } } }"

describe("workspace methods against a real Dagster", function()
  local client
  setup(function()
    client = H.client({ timeout = 60 })
    -- another spec may have shut `victim` down just before: start from a settled workspace
    for _, name in ipairs(LOCATIONS) do client:wait_for_location(name, { timeout = 60 }) end
  end)

  describe("locations", function()
    it("lists all four locations as LOADED, each with a server id and no error", function()
      local locs = client:locations()
      local names = {}
      for i, l in ipairs(locs) do names[i] = l.name end
      table.sort(names)
      assert.same({ "file_loc", "main", "other", "victim" }, names)
      for _, l in ipairs(locs) do
        assert.equal("LOADED", l.load_status, l.name)
        assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", l.server_id, nil, false, l.name)
        assert.is_nil(l.error, l.name)
        assert.is_string(l.version_key)
        assert.is_number(l.update_time)
        assert.is_true(math.abs(l.update_time - os.time()) < 7 * 24 * 3600, "update_time in seconds")
      end
    end)

    it("reads one location by name, the same as in the list", function()
      local main = client:location("main")
      assert.equal("main", main.name)
      assert.equal(by_name(client:locations()).main.server_id, main.server_id)
    end)

    it("raises RepositoryLocationNotFound for an unknown name (the server answers null)", function()
      local e = catch(client.location, client, "nope")
      assert.equal("RepositoryLocationNotFound", e.name)
      assert.equal("Location nope does not exist.", e.message)
      assert.equal("nope", e.location)
      e = catch(client.wait_for_location, client, "nope", { timeout = 30 })
      assert.equal("RepositoryLocationNotFound", e.name)
    end)

    it("shows the user's exception while file_loc is broken, times out waiting for it, " ..
       "and returns it once fixed", function()
      local path = H.state_dir() .. "/file_loc/defs_file.py"
      local original = slurp(path)
      local restored = false
      finally(function()
        if not restored then
          spit(path, original)
          client:reload_repository_location("file_loc")
        end
      end)
      spit(path, BROKEN)
      assert.equal("FAILURE", client:reload_repository_location("file_loc").status)

      local loc = client:location("file_loc")
      assert.equal("LOADED", loc.load_status)  -- a failed load is LOADED plus an error
      assert.equal("RuntimeError: dagster-lua spec: file_loc broken on purpose", loc.error)
      assert.equal("RuntimeError", loc.error_class)
      assert.matches("DagsterUserCodeLoadError", loc.error_message, 1, true)
      assert.is_nil(loc.server_id)
      assert.matches("broken on purpose", by_name(client:locations()).file_loc.error, 1, true)
      assert.is_nil(by_name(client:locations()).main.error)

      local t0 = H.now()
      local e = catch(client.wait_for_location, client, "file_loc", { timeout = 1.5, interval = 0.2 })
      assert.equal("TimeoutError", e.name)
      assert.matches("broken on purpose", e.message, 1, true)
      assert.equal("file_loc", e.location)
      assert.equal(loc.error, e.last_error)
      assert.is_true(H.now() - t0 >= 1.4 and H.now() - t0 < 15, "waited about the timeout")

      -- a wait started while broken returns as soon as a reload has fixed the code
      local waiter = dagster.spawn(client.wait_for_location, client, "file_loc", { timeout = 60 })
      local fixer = dagster.spawn(function()
        dagster.sleep(1)
        spit(path, original)
        local r = client:reload_repository_location("file_loc")
        restored = r.status == "SUCCESS"
        return r.status
      end)
      local fixed, status = table.unpack(dagster.gather({ waiter, fixer }))
      assert.equal("SUCCESS", status)
      assert.is_nil(fixed.error)
      assert.equal("LOADED", fixed.load_status)
      assert.matches("^%x+%-", fixed.server_id)
      assert.is_nil(client:location("file_loc").error)
    end)

    it("waits for a shut-down location to come back with a new server", function()
      local old = client:location("victim").server_id
      assert.is_string(old)
      assert.equal("SUCCESS", client:shutdown_repository_location("victim").status)
      local loc = client:wait_for_location("victim", { not_server_id = old, timeout = 60 })
      assert.equal("victim", loc.name)
      assert.is_nil(loc.error)
      assert.is_string(loc.server_id)
      assert.are_not.equal(old, loc.server_id)
      assert.equal(loc.server_id, client:location("victim").server_id)
    end)

    it("does not return a location still served by the server not_server_id names", function()
      local id = client:location("main").server_id
      local e = catch(client.wait_for_location, client, "main", { not_server_id = id, timeout = 1 })
      assert.equal("TimeoutError", e.name)
      assert.matches("still served by server " .. id, e.message, 1, true)
      assert.equal("main", client:wait_for_location("main", { timeout = 5 }).name)
    end)

    it("takes a timeout of 0 for no limit: still waiting two seconds later", function()
      -- (in a process of its own, which timeout(1) ends: 124; a wait that gave up at once
      -- would exit 1 with its TimeoutError)
      local id = client:location("main").server_id
      local _, err, code = H.run(("DAGSTER_URL=%s timeout 2 %s -e %s"):format(H.quote(H.url()),
        H.quote(H.bin), H.quote(([[local c = require("dagster").client(os.getenv("DAGSTER_URL"))
          c:wait_for_location("main", { not_server_id = %q, timeout = 0 })]]):format(id))))
      assert.equal(124, code, err)
    end)

    it("keeps polling through transport errors until its timeout, then names the last one", function()
      local down = dagster.client("http://127.0.0.1:1", { connect_timeout = 2 })
      local t0 = H.now()
      local e = catch(down.wait_for_location, down, "main", { timeout = 1, interval = 0.2 })
      assert.equal("TimeoutError", e.name)
      assert.matches("^ConnectionError: ", e.last_error)
      assert.matches("ConnectionError", e.message, 1, true)
      assert.is_true(H.now() - t0 >= 0.9, "gave up before the timeout")
    end)

    it("checks its arguments like Lua does", function()
      assert.error_matches(function() client:wait_for_location(42) end,
        "bad argument #1 to 'wait_for_location' (string expected, got number)", 1, true)
      assert.error_matches(function() client:wait_for_location("main", { timout = 1 }) end,
        "unknown option 'timout'", 1, true)
      assert.error_matches(function() client:wait_for_location("main", { interval = 0 }) end,
        "interval: positive number", 1, true)
    end)
  end)

  describe("repositories and jobs", function()
    it("lists one __repository__ per loaded location", function()
      local got = {}
      for i, r in ipairs(client:repositories()) do got[i] = r.location .. "/" .. r.name end
      table.sort(got)
      assert.same({ "file_loc/__repository__", "main/__repository__", "other/__repository__",
                    "victim/__repository__" }, got)
    end)

    it("lists shared_job in both main and other, and asset jobs as such", function()
      local shared, main = {}, {}
      for _, j in ipairs(client:jobs()) do
        if j.name == "shared_job" then shared[#shared + 1] = j.location end
        if j.location == "main" then main[j.name] = j end
        assert.equal("__repository__", j.repository)
      end
      table.sort(shared)
      assert.same({ "main", "other" }, shared)
      assert.is_true(main.__ASSET_JOB.is_asset_job)
      assert.is_false(main.succeed_job.is_asset_job)
    end)

    it("filters jobs by location, and gives nothing for an unknown one", function()
      local names = {}
      for _, j in ipairs(client:jobs({ location = "other" })) do
        assert.equal("other", j.location)
        names[#names + 1] = j.name
      end
      table.sort(names)
      assert.same({ "other_only_job", "shared_job" }, names)
      assert.same({}, client:jobs({ location = "nope" }))
      assert.same({}, client:jobs({ location = "main", repository = "nope" }))
    end)
  end)

  describe("assets", function()
    -- {started = os.time() before the launch} of a successful run that materialized asset_one
    -- and nested/asset_three: the case that materializes them records its run; a case that
    -- needs one and finds none (run alone) launches it
    local both
    local function materialized()
      if not both then
        local started = os.time()
        local id = client:materialize({ "asset_one", { "nested", "asset_three" } })
        assert.equal("SUCCESS", H.wait_run(client, id))
        both = { started = started }
      end
      return both
    end

    it("materializes one key; the run selects it through __ASSET_JOB and succeeds", function()
      local run_id = client:materialize("asset_one")
      local run = client:graphql(RUN, { id = run_id }).runOrError
      assert.equal("__ASSET_JOB", run.jobName)
      assert.same({ { path = { "asset_one" } } }, run.assetSelection)
      assert.equal("SUCCESS", H.wait_run(client, run_id))
    end)

    it("materializes several keys in one run, with tags, and a partition of partitioned ones", function()
      local function run_of(id)
        local run = client:graphql(RUN, { id = id }).runOrError
        local paths, tags = {}, {}
        for i, k in ipairs(run.assetSelection) do paths[i] = table.concat(k.path, "/") end
        table.sort(paths)
        for _, t in ipairs(run.tags) do tags[t.key] = t.value end
        return paths, tags
      end
      local started = os.time()
      local run_id = client:materialize({ "asset_one", { "nested", "asset_three" } },
        { tags = { team = "ws" } })
      local paths, tags = run_of(run_id)
      assert.same({ "asset_one", "nested/asset_three" }, paths)
      assert.equal("ws", tags.team)
      local day = client:materialize({ "daily_events", "daily_rollup" },
        { tags = { team = "ws" }, partition = "2026-11-05" })
      paths, tags = run_of(day)
      assert.same({ "daily_events", "daily_rollup" }, paths)
      assert.equal("ws", tags.team)
      assert.equal("2026-11-05", tags["dagster/partition"])
      assert.same({ SUCCESS = true }, { [H.wait_run(client, run_id)] = true, [H.wait_run(client, day)] = true })
      both = { started = started }
      -- a partition of assets that have none is refused before anything is launched
      local e = catch(client.materialize, client, "asset_one", { partition = "p1" })
      assert.equal("PartitionKeysNotFoundError", e.name)
      assert.matches("asset asset_one is not partitioned", e.message, 1, true)
    end)

    it("raises AssetNotFoundError naming the unknown key, without launching a run", function()
      local before = client:graphql(RUN_COUNT).runsOrError.count
      local e = catch(client.materialize, client, { "asset_one", "no_such/asset" })
      assert.equal("AssetNotFoundError", e.name)
      assert.equal("No asset with the key `no_such/asset` exists", e.message)
      assert.same({ { "no_such", "asset" } }, e.body)
      e = catch(client.materialize, client, "no_such_asset")
      assert.matches("`no_such_asset`", e.message, 1, true)
      assert.equal(before, client:graphql(RUN_COUNT).runsOrError.count)
    end)

    it("takes a list of strings as a list of keys, and says so when one is unknown", function()
      local e = catch(client.materialize, client, { "nested", "asset_three" })
      assert.equal("AssetNotFoundError", e.name)
      assert.matches("`nested`, `asset_three`", e.message, 1, true)
      assert.matches('"a/b"', e.message, 1, true)
      assert.error_matches(function() client:materialize({}) end, "no asset keys given", 1, true)
      assert.error_matches(function() client:materialize() end,
        "bad argument #1 to 'materialize'", 1, true)
    end)

    it("lists the assets with the latest materialization in epoch seconds", function()
      local started = materialized().started
      local list = client:assets()
      local by_path = {}
      for _, a in ipairs(list) do by_path[a.path] = a end
      assert.same({ "nested", "asset_three" }, by_path["nested/asset_three"].key)
      assert.is_not_nil(by_path.asset_two)
      local t = by_path.asset_one.latest_materialization
      assert.is_number(t)
      assert.is_true(t >= started - 5 and t <= os.time() + 5,
        ("latest_materialization %s is not between %d and now"):format(t, started))
      assert.is_number(by_path["nested/asset_three"].latest_materialization)
    end)

    it("filters by prefix and pages through assetsOrError's cursor", function()
      local nested = client:assets({ prefix = "nested" })
      assert.equal(1, #nested)
      assert.equal("nested/asset_three", nested[1].path)
      assert.same(nested, client:assets({ prefix = { "nested" } }))
      local all = client:assets()
      assert.is_true(#all >= 3)
      assert.same(all, client:assets({ page_size = 1 }))
      local two = client:assets({ limit = 2, page_size = 1 })
      assert.same({ all[1], all[2] }, two)
    end)
  end)

  for _, kind in ipairs { "schedule", "sensor" } do
    local Kind = kind:sub(1, 1):upper() .. kind:sub(2)
    local name = "other_" .. kind

    describe(kind .. "s", function()
      local function list(opts) return by_name(client[kind .. "s"](client, opts)) end
      local function start(...) return client["start_" .. kind](client, ...) end
      local function stop(...) return client["stop_" .. kind](client, ...) end

      it("lists other_" .. kind .. " as STOPPED in location other", function()
        -- stopped, as the fixture starts it (a file before this one on the deployment may
        -- have started it; a sensor stopped during its tick is RUNNING again after the tick)
        H.wait_until(name .. " to be STOPPED", function()
          if list()[name].status == "STOPPED" then return true end
          stop(name)
        end, 30, 0.5)
        local s = list()[name]
        assert.is_table(s)
        assert.equal("STOPPED", s.status)
        assert.equal("other", s.location)
        assert.equal("__repository__", s.repository)
        assert.equal("other_only_job", s.job_name)
        assert.matches("^%x+::%x+$", s.id)
        if kind == "schedule" then assert.equal("0 0 * * *", s.cron_schedule) end
        assert.is_nil(list({ location = "main" })[name])
        assert.is_table(list({ location = "other", repository = "__repository__" })[name])
      end)

      it("starts and stops other_" .. kind .. " by name, idempotently", function()
        finally(function() pcall(stop, name) end)
        -- Dagster's daemons write back the state they read when their pass began: the
        -- scheduler's first pass after a start (at the minute) writes RUNNING with its
        -- checkpoint (dagster/_scheduler/scheduler.py, _write_and_get_next_checkpoint_
        -- timestamp), the sensor daemon with its tick (every 30 s for other_sensor, the
        -- first at once). A stop made during that pass is undone: a race of the server's, not
        -- of the client's. So the schedule starts away from the minute, and the sensor is
        -- stopped once its first tick has ended.
        if kind == "schedule" then
          local sec = tonumber(os.date("%S"))
          if sec < 8 or sec > 50 then dagster.sleep((68 - sec) % 60) end
        end
        local t0 = os.time()
        assert.equal("RUNNING", start(name))
        assert.equal("RUNNING", list()[name].status)
        assert.equal("RUNNING", start(name))
        assert.equal("RUNNING", list()[name].status)
        if kind == "sensor" then
          H.wait_until("other_sensor's first tick to end", function()
            local t = client:sensor(name, { ticks = 1 }).ticks[1]
            return t and t.timestamp >= t0 - 1 and t.status ~= "STARTED"
          end, 60, 0.2)
        end
        assert.equal("STOPPED", stop(name, { location = "other" }))
        assert.equal("STOPPED", list()[name].status)
        assert.equal("STOPPED", stop(name))
        assert.equal("STOPPED", list()[name].status)
      end)

      it("raises " .. Kind .. "NotFoundError for an unknown name or the wrong location", function()
        local e = catch(start, "no_such_" .. kind)
        assert.equal(Kind .. "NotFoundError", e.name)
        assert.equal(("No %ss with the name `no_such_%s` exist"):format(kind, kind), e.message)
        e = catch(stop, name, { location = "main" })
        assert.equal(Kind .. "NotFoundError", e.name)
        assert.matches("in location `main`", e.message, 1, true)
        assert.equal("STOPPED", list()[name].status)
      end)
    end)
  end
end)
