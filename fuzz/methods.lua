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
}
