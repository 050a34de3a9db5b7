-- An answer of an unexpected shape is a named dagster.Error, never a Lua error. Every
-- method's real answers are recorded from the live server through a loopback server
-- (spec/support/mutate_server.py), which then serves mutated copies of them: each field
-- removed, set to null, and set to a value of another type, one at a time. For each, the
-- method must give a result or raise a dagster.Error; a string error (such as "attempt to
-- index a nil value") fails the sweep, naming the method and the mutation.
local dagster = require "dagster"
local H = require "helper"

local MUTATE_SERVER = H.root .. "/spec/support/mutate_server.py"

-- an HTTP GET to the mutate server, as decoded JSON
local function get(srv, path)
  local out, err, code = H.run(("curl -s http://127.0.0.1:%d%s"):format(srv.port, path))
  assert(code == 0, "curl failed: " .. err)
  return assert(dagster.json.decode(out))
end

-- The launches the recording makes are held QUEUED for good (H.HOLD): only their answers
-- are wanted, not their runs. The teardown cancels them, and the backfill the recording
-- launched (recorded in held_backfills).
local HOLD = H.HOLD
local recorder, held_backfills = nil, {}

-- What each method is called with. Runs and names come from the live deployment; each call
-- is short whatever the answer (waits have small timeouts), and never raises a string error
-- on a good answer (the recording pass checks that too).
local function calls(ids)
  local quick = { timeout = 0.3, interval = 0.05 }
  local function each(iter, state)   -- the first 5 items of an iterator
    local out = {}
    for v in iter, state do
      out[#out + 1] = v
      if #out == 5 then break end
    end
    return out
  end
  return {
    { "version", function(c) return c:version() end },
    { "get_run_status", function(c) return c:get_run_status(ids.ok) end },
    { "get_run", function(c) return c:get_run(ids.ok) end },
    { "get_run (failed)", function(c) return c:get_run(ids.failed) end },
    { "runs", function(c) return c:runs { limit = 3 } end },
    { "each_run", function(c) return each(c:each_run { page_size = 2 }) end },
    { "events", function(c) return each(c:events(ids.failed)) end },
    { "wait_for_run", function(c) return c:wait_for_run(ids.ok, quick) end },
    { "wait_for_run (on_status)", function(c)
      return c:wait_for_run(ids.failed, { timeout = 0.3, interval = 0.05,
        on_status = function() end })
    end },
    { "wait_for_runs", function(c) return c:wait_for_runs({ ids.ok, ids.failed }, quick) end },
    { "submit_job_execution", function(c) return c:submit_job_execution("succeed_job", { tags = HOLD }) end },
    { "submit_job_execution (config error)", function(c)
      return c:submit_job_execution("config_job", { run_config = { ops = { config_op = {
        config = { name = 42 } } } } })
    end },
    { "reexecute", function(c) return c:reexecute(ids.failed, { strategy = "FROM_FAILURE", tags = HOLD }) end },
    { "terminate_run", function(c) return c:terminate_run(ids.ok) end },
    { "terminate_runs", function(c) return c:terminate_runs({ ids.ok, "no-such-run" }) end },
    { "reload_repository_location", function(c) return c:reload_repository_location("other") end },
    { "shutdown_repository_location", function(c)
      return c:shutdown_repository_location("file_loc")
    end },
    { "locations", function(c) return c:locations() end },
    { "location", function(c) return c:location("main") end },
    { "wait_for_location", function(c) return c:wait_for_location("main", quick) end },
    { "repositories", function(c) return c:repositories() end },
    { "jobs", function(c) return c:jobs() end },
    { "assets", function(c) return c:assets { page_size = 2, limit = 3 } end },
    { "materialize", function(c) return c:materialize("asset_one", { tags = HOLD }) end },
    { "schedules", function(c) return c:schedules() end },
    { "sensors", function(c) return c:sensors() end },
    { "start_schedule", function(c) return c:start_schedule("other_schedule") end },
    { "stop_schedule", function(c) return c:stop_schedule("other_schedule") end },
    { "start_sensor", function(c) return c:start_sensor("other_sensor") end },
    { "stop_sensor", function(c) return c:stop_sensor("other_sensor") end },
    { "partitions (job)", function(c) return c:partitions("daily_job") end },
    { "partitions (multi-dimensional asset)", function(c) return c:partitions("grid_asset") end },
    { "submit_job_execution (partition)", function(c)
      return c:submit_job_execution("region_job", { partition = "eu", tags = HOLD })
    end },
    { "materialize (range)", function(c)
      return c:materialize("daily_rollup", { partition = { from = "2026-11-01", to = "2026-11-02" },
        tags = HOLD })
    end },
    { "backfill", function(c)
      local id = c:backfill { assets = { "region_totals" }, partitions = { "eu" }, tags = HOLD }
      if c == recorder then held_backfills[#held_backfills + 1] = id end
      return id
    end },
    { "get_backfill", function(c) return c:get_backfill(ids.backfill) end },
    { "backfills", function(c) return c:backfills { limit = 3 } end },
    { "wait_for_backfill", function(c) return c:wait_for_backfill(ids.backfill, quick) end },
    { "wait_for_backfill (on_progress)", function(c)
      return c:wait_for_backfill(ids.backfill, { timeout = 0.3, interval = 0.05,
        on_progress = function() end })
    end },
    { "cancel_backfill", function(c) return c:cancel_backfill("no-such-backfill") end },
    { "resume_backfill", function(c) return c:resume_backfill("no-such-backfill") end },
    { "reexecute_backfill", function(c) return c:reexecute_backfill(ids.backfill) end },
    { "asset_checks", function(c) return c:asset_checks("checked_table") end },
    { "execute_checks", function(c) return c:execute_checks("checked_table:has_rows") end },
    { "check_results", function(c) return c:check_results(ids.checks) end },
    { "asset_health", function(c)
      return c:asset_health({ "fragile_asset", "fragile_plain", "daily_events", "fragile_grid" },
        { failures = true })
    end },
    { "asset", function(c) return c:asset("checked_table") end },
    { "instance", function(c) return c:instance() end },
    { "daemon_health", function(c) return c:daemon_health() end },
    { "concurrency_pools", function(c) return c:concurrency_pools() end },
    { "queue", function(c) return c:queue() end },
    { "dynamic_partitions", function(c) return c:dynamic_partitions("tenants") end },
    { "add_partition", function(c) return c:add_partition("tenants", { "answers-a", "answers-b" }) end },
    { "report_materialization", function(c) return c:report_materialization("ops_plain") end },
    { "scaffold_config", function(c) return c:scaffold_config("config_job") end },
  }
end

describe("answers of an unexpected shape", function()
  local srv, ids, list
  local used = {}   -- call name -> the operations it sent while recording
  local problems = {}  -- what went wrong while recording

  setup(function()
    srv = H.start_server("the mutate server", MUTATE_SERVER, function(p)
      return p .. " " .. H.quote(H.url() .. "/graphql")
    end)
    local live = H.client()
    -- a finished run of each kind, and a finished backfill with one partition failed
    -- (region_totals' apac), launched together and waited for together
    ids = {
      ok = live:submit_job_execution("succeed_job"),
      failed = live:submit_job_execution("fail_job"),
      backfill = live:backfill { assets = { "region_totals" }, partitions = { "us", "apac" } },
      checks = live:execute_checks { "checked_table:has_rows", "checked_table:no_null_ids" },
      -- a failed partition, for asset_health's failed_runs
      fragile = live:materialize("fragile_asset", { partition = "y" }),
      -- and one of a multi-partitioned asset (its 2-D statuses and its dimensions' keys)
      grid = live:materialize("fragile_grid", { partition = { day = "2026-11-02", region = "apac" } }),
    }
    live:wait_for_runs({ ids.ok, ids.failed, ids.checks, ids.fragile, ids.grid }, { timeout = 120 })
    live:wait_for_backfill(ids.backfill, { timeout = 180 })
    list = calls(ids)
    -- every method's answers, recorded once for the cases below (each of which needs them)
    local c = dagster.client(("http://127.0.0.1:%d/record"):format(srv.port), { timeout = 60 })
    recorder = c
    for _, call in ipairs(list) do
      local before = #get(srv, "/log")
      local ok, e = pcall(call[2], c)
      if not (ok or dagster.Error.is(e)) then
        problems[#problems + 1] = call[1] .. " raised a string error: " .. tostring(e)
      end
      local log, ops, seen = get(srv, "/log"), {}, {}
      for i = before + 1, #log do
        if not seen[log[i]] then seen[log[i]] = true; ops[#ops + 1] = log[i] end
      end
      if #ops == 0 then problems[#problems + 1] = call[1] .. " sent nothing" end
      used[call[1]] = ops
    end
  end)
  teardown(function()
    H.stop_server(srv)
    -- the held launches: never started, canceled while QUEUED
    local live = H.client()
    for _, id in ipairs(held_backfills) do live:cancel_backfill(id, { terminate_runs = true }) end
    H.cancel_held(live)
    -- the recording started and stopped other_schedule and other_sensor on the live server;
    -- a sensor tick under way at the stop writes the sensor's RUNNING state back (Dagster's
    -- sensor daemon keeps the state it read): leave both stopped for the files after this one
    for _, kind in ipairs { "schedule", "sensor" } do
      pcall(H.wait_until, "other_" .. kind .. " to be STOPPED", function()
        for _, x in ipairs(live[kind .. "s"](live, { location = "other" })) do
          if x.name == "other_" .. kind and x.status == "STOPPED" then return true end
        end
        live["stop_" .. kind](live, "other_" .. kind)
      end, 30, 0.5)
    end
  end)

  it("records every method's answers from the live server, each read without error", function()
    assert(#problems == 0, table.concat(problems, "\n"))
    for _, call in ipairs(list) do
      assert(used[call[1]] and #used[call[1]] > 0, call[1] .. " recorded nothing")
    end
  end)

  it("raises a named dagster.Error or gives a result for every mutation, never a Lua error", function()
    assert(next(used), "nothing was recorded")
    local failures, cases, named = {}, 0, 0
    for _, call in ipairs(list) do
      for _, op in ipairs(used[call[1]]) do
        local m = get(srv, "/mutations/" .. op)
        for k = 1, m.count do
          local c = dagster.client(("http://127.0.0.1:%d/replay/%s/%d"):format(srv.port, op, k),
            { timeout = 10, retries = 0 })
          local ok, e = pcall(call[2], c)
          cases = cases + 1
          if not ok then
            if dagster.Error.is(e) then
              named = named + 1
              if e.name == "ProtocolError" then
                -- it names the operation, and its message has no Lua source position
                if not e.message:find(op, 1, true) or e.message:find("%.lua:%d+:") then
                  failures[#failures + 1] = ("%s, %s: %s"):format(call[1], m.names[k], e.message)
                end
              end
            else
              failures[#failures + 1] = ("%s, %s: string error: %s"):format(call[1], m.names[k],
                tostring(e))
            end
          end
          c:close()
        end
      end
    end
    assert(#failures == 0, ("%d of %d mutated answers went wrong:\n%s"):format(#failures, cases,
      table.concat(failures, "\n", 1, math.min(#failures, 40))))
    assert.is_true(cases > 300, "only " .. cases .. " mutations were tried")
    assert.is_true(named > cases / 3, ("only %d of %d raised an error"):format(named, cases))
  end)

  it("names the operation and the path, as in the missing `jobs` of a listing", function()
    -- the repositories of the job listing lack `jobs` (as when they carry `pipelines`)
    local m = get(srv, "/mutations/DagsterLuaJobNames")
    local k
    for i, n in ipairs(m.names) do
      if n == "repositoriesOrError.nodes.0.jobs: removed" then k = i end
    end
    assert(k, "no mutation removes repositoriesOrError.nodes[1].jobs")
    local c = dagster.client(("http://127.0.0.1:%d/replay/DagsterLuaJobNames/%d"):format(srv.port, k))
    local e = H.catch(c.submit_job_execution, c, "succeed_job")
    assert.equal("ProtocolError", e.name)
    assert.equal("DagsterLuaJobNames: repositoriesOrError.nodes[1].jobs: expected an object " ..
      "or a list, got nil", e.message)
    assert.equal("DagsterLuaJobNames", e.operation)
    assert.equal("repositoriesOrError.nodes[1].jobs", e.path)
  end)
end)

describe("an answer a reader cannot read", function()
  local answer, json = require "dagster.answer", require "dagster.json"
  local DOC = "query Q { info { latestRun { runId } latestMaterialization { runId } } }"
  local data = { info = { latestRun = json.null, latestMaterialization = { runId = "" } } }

  local function read_error(read)
    local ok, e = pcall(answer.read, DOC, "Q", data, read, "http://x/graphql")
    assert.is_false(ok)
    assert.equal("ProtocolError", e.name)
    return e.message
  end

  it("says what the reader's own check found, beside where the shape breaks", function()
    local msg = read_error(function(d) return answer.run_id(d.info.latestMaterialization.runId) end)
    assert.equal("Q: info.latestRun: expected an object or a list, got null " ..
      "(a run id is not a non-empty string)", msg)
  end)

  it("keeps Lua's own runtime errors out of the message", function()
    local msg = read_error(function(d) return d.info.latestRun.runId end)
    assert.equal("Q: info.latestRun: expected an object or a list, got null", msg)
  end)
end)
