-- redeploy: restart a gRPC code location and prove it came back.
--
--   dagster-lua play redeploy LOCATION [--timeout 120] [--allow-removed]
--
-- Records the location's server id and its jobs, schedules and sensors; shuts its code server
-- down (whatever runs it, systemd, Kubernetes or a supervisor, starts it again); waits until
-- a new server has loaded it, reporting the load errors seen meanwhile; reloads it; and
-- compares what it defines with what it defined before. A location that cannot be shut down
-- (a python_file location, which the webserver itself loads) is reloaded instead.
--
-- Exit status: 0 back, with no job removed; 1 a job disappeared (unless --allow-removed), or
-- the reload failed; 3 not back within --timeout (the message names the last load error); 7
-- the deployment cannot reload it through the API (ReloadNotSupported: Dagster+, whose code
-- locations are redeployed by their CI), with what to do and the location's status.
local playbook = require "dagster.playbook"
local dagster = require "dagster"

return playbook.define({
  name = "redeploy",
  summary = "Restart a gRPC code location and check what it defines afterwards",
  description = "Shuts the location's code server down, waits for a new one, reloads it and\n" ..
    "compares its jobs, schedules and sensors with those before. A python_file location is\n" ..
    "reloaded instead. Status 1: a job disappeared (see --allow-removed) or the reload\n" ..
    "failed; 3: not back within --timeout.",
  args = { { name = "location", doc = "the code location" } },
  flags = {
    { name = "timeout", type = "duration", metavar = "DURATION", default = "120s", watch = true,
      doc = "how long the location may stay away (30s, 5m; 0: no limit)" },
    { name = "allow-removed", type = "boolean", doc = "a job that disappeared is not an error" },
  },
}, function(pb)
  local name = pb.args.location
  local timeout = pb.flags.timeout

  -- what the location defines: its jobs, schedules and sensors, each a sorted list of names
  local function definitions()
    local out = {}
    for kind, list in pairs { jobs = pb.client:jobs { location = name },
                              schedules = pb.client:schedules { location = name },
                              sensors = pb.client:sensors { location = name } } do
      local names = dagster.json.array()
      for _, d in ipairs(list) do
        names[#names + 1] = (d.repository == "__repository__" and "" or d.repository .. "/") .. d.name
      end
      table.sort(names)
      out[kind] = names
    end
    return out
  end

  -- 1. What it is now.
  local before = pb:step("record " .. name, function()
    local loc = pb.client:location(name)
    if loc.error then pb:say("  note: %s has a load error now: %s", name, playbook.headline(loc.error)) end
    local defs = definitions()
    pb:say("  server %s; %d jobs, %d schedules, %d sensors", loc.server_id or "none", #defs.jobs,
      #defs.schedules, #defs.sensors)
    return { server_id = loc.server_id, defs = defs }
  end)

  -- 2. Shut its code server down (a python_file location cannot be: it is reloaded instead).
  local t_down = dagster.now()
  local shut = pb:step("shut down " .. name, function()
    local r = pb:shutdown(name)
    if r and r.status ~= "SUCCESS" then
      pb:say("  note: %s cannot be shut down (%s: %s); reloading it instead", name,
        tostring(r.failure_type), playbook.headline(r.message))
      return "reload instead"
    end
    return pb.dry_run and "dry run" or "shut down"
  end)
  if pb.dry_run then
    pb:say("  would wait %s for a new server, reload %s and compare its definitions",
      timeout > 0 and "up to " .. playbook.seconds(timeout) or "without a limit", name)
    pb:exit(0)
  end

  -- 3. Wait until a new server has loaded it, telling each new load error seen meanwhile.
  local back
  if shut == "shut down" then
    back = pb:step("wait for " .. name, function()
      local deadline, last = timeout > 0 and dagster.now() + timeout or math.huge, nil
      while true do
        local slice = math.max(0.5, math.min(5, deadline - dagster.now()))
        local ok, res = pb:try(pb.client.wait_for_location, pb.client, name,
          { not_server_id = before.server_id, timeout = slice })
        if ok then return res end
        if not (dagster.Error.is(res) and res.name == "TimeoutError" and res.location) then
          error(res, 0)
        end
        if res.last_error and res.last_error ~= last then
          last = res.last_error
          pb:say("  load error: %s", playbook.headline(last))
        end
        if dagster.now() >= deadline then
          pb:exit(playbook.EXIT.TIMEOUT, ("location %s did not come back within %s; last load error: %s")
            :format(name, playbook.seconds(timeout), last or ("none (" .. tostring(res.last_status) .. ")")))
        end
      end
    end)
    pb:say("  %s is back after %s, served by %s (was %s)", name, playbook.seconds(dagster.now() - t_down),
      back.server_id or "none", before.server_id or "none")
  end

  -- 4. Reload it, so that the webserver reads its definitions afresh.
  pb:step("reload " .. name, function()
    local r = pb:reload(name)
    if r.status ~= "SUCCESS" and r.failure_type == "ReloadNotSupported" then
      -- Dagster+: a code location is redeployed by its CI, not reloaded through the API;
      -- say so, and how the location is now
      local ok, loc = pb:try(pb.client.location, pb.client, name)
      local now = not ok and "its status could not be read: " .. playbook.headline(loc)
        or loc.error and ("LOADED with a load error: " .. playbook.headline(loc.error))
        or (tostring(loc.load_status) .. (loc.server_id and (", served by " .. loc.server_id) or ""))
      pb:exit(playbook.EXIT.UNSUPPORTED, ("%s cannot be reloaded through this deployment's " ..
        "API (ReloadNotSupported: %s). On Dagster+ a code location is redeployed by its CI/CD " ..
        "(dagster-cloud ci deploy, or dagster-cloud deployment add-location); %s is now %s")
        :format(name, tostring(r.message), name, now))
    elseif r.status ~= "SUCCESS" then
      pb:exit(playbook.EXIT.FAILURE, ("reloading %s failed: %s"):format(name, tostring(r.message)))
    end
    return r.status
  end)
  local away = dagster.now() - t_down

  -- 5. What it is now, beside what it was.
  local after = pb:step("compare " .. name, function()
    local loc = pb.client:location(name)
    return { server_id = loc.server_id, defs = definitions() }
  end)

  local function diff(old, new)
    local in_old, in_new, added, removed = {}, {}, dagster.array(), dagster.array()
    for _, n in ipairs(old) do in_old[n] = true end
    for _, n in ipairs(new) do in_new[n] = true end
    for _, n in ipairs(new) do if not in_old[n] then added[#added + 1] = n end end
    for _, n in ipairs(old) do if not in_new[n] then removed[#removed + 1] = n end end
    return added, removed
  end

  local rows, removed_jobs = {}, dagster.array()
  for _, kind in ipairs { "jobs", "schedules", "sensors" } do
    local added, removed = diff(before.defs[kind], after.defs[kind])
    if kind == "jobs" then removed_jobs = removed end
    rows[#rows + 1] = { kind, tostring(#after.defs[kind]), table.concat(added, ", "),
                        table.concat(removed, ", ") }
  end
  pb:say("")
  pb:table({ "KIND", "NOW", "APPEARED", "DISAPPEARED" }, rows)
  pb:say("server %s -> %s; %s %s %s", before.server_id or "none", after.server_id or "none", name,
    shut == "shut down" and "was away for" or "was reloaded (not shut down) in", playbook.seconds(away))
  pb:event { event = "redeployed", location = name, old_server_id = before.server_id,
             new_server_id = after.server_id, away = away, removed_jobs = removed_jobs,
             reloaded_instead = shut ~= "shut down" }

  if #removed_jobs > 0 then
    if pb.flags["allow-removed"] then
      pb:say("note: %d job(s) disappeared (allowed by --allow-removed)", #removed_jobs)
    else
      pb:exit(playbook.EXIT.FAILURE, ("%d job(s) disappeared from %s: %s (--allow-removed accepts that)")
        :format(#removed_jobs, name, table.concat(removed_jobs, ", ")))
    end
  end
  pb:exit(0)
end)
