-- The calls fuzz_methods.c drives, one per public method (and per answer shape worth its
-- own seed), shared with fuzz/seed_methods.lua, which records their real answers as seeds.
--
--   local calls = dofile("fuzz/methods.lua")
--   calls[i].name, calls[i].call(client)
--
-- Each call is short whatever the answers are: waits and listings are bounded, and the
-- fuzz client's clock (see fuzz_methods.c's harness) moves on with every look at it.

local wait = { timeout = 3, interval = 1 }

local function first5(iter, state)
  local out = {}
  for v in iter, state do
    out[#out + 1] = v
    if #out == 5 then break end
  end
  return out
end

local function call(name, f) return { name = name, call = f } end

return {
  call("version", function(c) return c:version() end),
  call("get_run_status", function(c) return c:get_run_status("r1") end),
  call("get_run", function(c) return c:get_run("r1") end),
  call("runs", function(c) return c:runs { limit = 3 } end),
  call("each_run", function(c) return first5(c:each_run { page_size = 2 }) end),
  call("events", function(c) return first5(c:events("r1")) end),
  call("wait_for_run", function(c) return c:wait_for_run("r1", wait) end),
  call("wait_for_run_on_status", function(c)
    return c:wait_for_run("r1", { timeout = 3, interval = 1, on_status = function() end })
  end),
  call("wait_for_runs", function(c) return c:wait_for_runs({ "r1", "r2" }, wait) end),
  call("submit_job_execution", function(c) return c:submit_job_execution("succeed_job") end),
  call("submit_config_error", function(c)
    return c:submit_job_execution("config_job", { run_config = { ops = { config_op = {
      config = { name = 42 } } } } })
  end),
  call("reexecute", function(c) return c:reexecute("r1", { strategy = "FROM_FAILURE" }) end),
  call("find_submission", function(c) return c:find_submission("no-such-submission") end),
  call("partitions", function(c) return c:partitions("region_job") end),
  call("check_partitions", function(c) return c:check_partitions("region_job", { "us" }) end),
  call("terminate_run", function(c) return c:terminate_run("r1") end),
  call("terminate_runs", function(c) return c:terminate_runs({ "r1", "r2" }) end),
  call("reload_repository_location", function(c)
    return c:reload_repository_location("other")
  end),
  call("shutdown_repository_location", function(c)
    return c:shutdown_repository_location("file_loc")
  end),
  call("locations", function(c) return c:locations() end),
  call("location", function(c) return c:location("main") end),
  call("wait_for_location", function(c) return c:wait_for_location("main", wait) end),
  call("repositories", function(c) return c:repositories() end),
  call("jobs", function(c) return c:jobs() end),
  call("assets", function(c) return c:assets { page_size = 2, limit = 3 } end),
  call("materialize", function(c) return c:materialize("asset_one") end),
  call("schedules", function(c) return c:schedules() end),
  call("sensors", function(c) return c:sensors() end),
  call("start_schedule", function(c) return c:start_schedule("other_schedule") end),
  call("stop_schedule", function(c) return c:stop_schedule("other_schedule") end),
  call("start_sensor", function(c) return c:start_sensor("other_sensor") end),
  call("stop_sensor", function(c) return c:stop_sensor("other_sensor") end),
  -- (added later: a call's index is its seeds' first byte, so new calls go at the end)
  call("asset_checks", function(c) return c:asset_checks() end),
  call("execute_checks", function(c) return c:execute_checks("checked_table:has_rows") end),
  call("check_results", function(c) return c:check_results("r1") end),
  call("asset_health", function(c)
    return c:asset_health({ "fragile_asset", "daily_events", "asset_one" }, { failures = true })
  end),
  call("asset", function(c) return c:asset("checked_table") end),
  call("dynamic_partitions", function(c) return c:dynamic_partitions("tenants") end),
  call("add_partition", function(c) return c:add_partition("tenants", { "fuzz_a", "fuzz_b" }) end),
  call("delete_partitions", function(c) return c:delete_partitions("tenants", { "fuzz_a" }) end),
  call("report_materialization", function(c)
    return c:report_materialization("asset_one", { description = "fuzz" })
  end),
  call("concurrency_pools", function(c) return c:concurrency_pools() end),
  call("daemon_health", function(c) return c:daemon_health() end),
  call("instance", function(c) return c:instance() end),
  call("backfills", function(c) return c:backfills { limit = 3 } end),
  call("get_backfill", function(c) return c:get_backfill("b1") end),
  call("ticks", function(c) return c:ticks("other_sensor", { limit = 3 }) end),
  call("schedule", function(c) return c:schedule("other_schedule") end),
  call("sensor", function(c) return c:sensor("other_sensor") end),
  call("unloadable_instigators", function(c) return c:unloadable_instigators() end),
  call("validate_run_config", function(c)
    return c:validate_run_config("config_job", { run_config = { ops = { config_op = {
      config = { name = 42 } } } } })
  end),
  call("runs_in_flight", function(c) return c:runs_in_flight() end),
  call("queue", function(c) return c:queue() end),
  call("permissions", function(c) return c:permissions() end),
  call("timeline", function(c) return c:timeline("r1") end),
  call("scaffold_config", function(c) return c:scaffold_config("config_job") end),
  call("stop_runs", function(c) return c:stop_runs({ "r1", "r2" }, { grace = 2 }) end),
}
