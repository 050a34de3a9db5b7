-- snapshot: a deployment's automation state as a file; compare it, put it back.
--
--   dagster-lua play snapshot save FILE        the state now, written to FILE
--   dagster-lua play snapshot diff FILE        what differs between FILE and the deployment
--   dagster-lua play snapshot apply FILE       make the deployment match FILE (--dry-run first)
--
-- The state is every schedule's and sensor's status, each sensor's cursor, the
-- auto-materialize switch and the instance's concurrency pools (where the server has them),
-- as readable, diffable JSON (one instigator a line); a FILE named .yaml or .yml may be edited
-- as YAML. `diff` compares against any deployment: the same one later, or another (production
-- against staging or a branch deployment: --url or --deployment), matching instigators by
-- location and name; an instigator the file does not name is left alone. --ignore-cursors
-- leaves the cursors out of diff and apply (they differ between deployments by nature).
-- `apply` makes each change a journaled step: killed and resumed, it does the rest.
--
-- `apply` reads the deployment again after its changes: a status Dagster's daemons undid (a
-- sensor's tick under way at the stop writes back what it read) is changed again, and what
-- still differs is named ("did not hold"), never reported as matching.
--
-- Exit status: diff 0 when they match, 6 when they differ; apply 0 when the deployment
-- matches afterwards, 6 when some change failed or did not hold, or an instigator of the
-- file is gone from the code; 4 a FILE that cannot be read.
local playbook = require "dagster.playbook"
local automation = require "dagster.automation"
local dagster = require "dagster"

local ACTIONS = { save = true, diff = true, apply = true }

return playbook.define({
  name = "snapshot",
  summary = "Save, diff and apply a deployment's automation state",
  description = "save FILE: the schedules' and sensors' status, the sensors' cursors, the\n" ..
    "auto-materialize switch and the concurrency pools. diff FILE: what differs (status 6).\n" ..
    "apply FILE: start, stop, set cursors, pause or resume, set pools until it matches.",
  args = { { name = "action", doc = "save, diff or apply" }, { name = "file", doc = "the snapshot file" } },
  flags = {
    { name = "ignore-cursors", type = "boolean", doc = "leave the sensors' cursors out of diff and apply" },
  },
}, function(pb)
  local action, path = pb.args.action, pb.args.file
  if not ACTIONS[action] then pb:usage(("unknown action '%s': save, diff or apply"):format(action)) end
  local filter = { automation = true, pools = true, cursors = true }

  if action == "save" then
    local snap = pb:step("read the automation state", function()
      return automation.read_state(pb.client, filter)
    end)
    if pb.dry_run then
      pb:say("would write %d schedule(s) and %d sensor(s) to %s", #snap.schedules, #snap.sensors, path)
      pb:exit(0)
    end
    pb:step("write the file", { path = path }, function() automation.write(path, snap) return path end)
    local npools = 0
    for _ in pairs(snap.pools or {}) do npools = npools + 1 end
    pb:say("%d schedule(s), %d sensor(s), %d pool(s) written to %s", #snap.schedules, #snap.sensors,
      npools, path)
    pb:exit(0)
  end

  local want, err = automation.read(path)
  if not want then pb:usage(err) end
  local opts = { cursors = not pb.flags["ignore-cursors"] }
  local changes = pb:step("compare", { path = path }, function()
    return automation.diff(want, automation.read_state(pb.client, filter), opts)
  end)

  local function show(v)
    if v == nil then return "-" end
    if type(v) == "boolean" then return v and "paused" or "running" end
    return tostring(v)
  end
  local function rows_of(list, results)
    local rows = {}
    for i, c in ipairs(list) do
      rows[#rows + 1] = { c.kind, c.name, c.location or "", c.field == "missing" and "GONE from the code" or c.field,
                          show(c.have), show(c.want), results and results[i] or nil }
    end
    return rows
  end

  if action == "diff" or pb.dry_run then
    if #changes == 0 then
      pb:say("%s matches %s", pb.client.url, path)
      pb:exit(0)
    end
    pb:say("")
    pb:table({ "KIND", "NAME", "LOCATION", "DIFFERS IN", "DEPLOYMENT", "FILE" }, rows_of(changes))
    if action == "diff" then
      pb:exit(playbook.EXIT.PARTIAL, ("%d difference(s) between %s and %s"):format(#changes,
        pb.client.url, path))
    end
    pb:say("would make %d change(s)", #changes)
    pb:exit(0)
  end

  -- apply: each change a step of its own
  local results, bad = {}, 0
  for i, c in ipairs(changes) do
    local where = { location = c.location, repository = c.repository }
    local res
    if c.field == "missing" then
      res = "cannot: not in the code"
    else
      res = pb:step(("set %s %s %s"):format(c.kind, c.name, c.field), { location = c.location, want = c.want },
        function()
          local ok, e = pb:try(function()
            if c.field == "status" then
              local verb = c.want == "RUNNING" and "start_" or "stop_"
              return pb.client[verb .. c.kind](pb.client, c.name, where)
            elseif c.field == "cursor" then
              return pb.client:set_sensor_cursor(c.name, c.want, where) or "(none)"
            elseif c.field == "paused" then
              return pb.client:set_auto_materialize_paused(c.want) and "paused" or "running"
            else
              automation.set_pool(pb.client, c.name, c.want)
              return c.want and tostring(c.want) or "(deleted)"
            end
          end)
          return ok and e or ("failed: " .. playbook.headline(e))
        end)
    end
    if type(res) == "string" and (res:find("^failed") or res:find("^cannot")) then bad = bad + 1 end
    results[i] = res
  end

  -- Held: Dagster's daemons can undo a change a moment after the server took it (a sensor's
  -- tick under way writes back the status and cursor it read), so the statuses changed are
  -- made to hold (automation.settle), then the state is read again: what still differs is
  -- named, never reported as matching.
  local wanted = {}
  for i, c in ipairs(changes) do
    if c.field == "status" and results[i] == c.want then
      wanted[#wanted + 1] = { kind = c.kind, name = c.name, location = c.location,
                              repository = c.repository, status = c.want }
    end
  end
  local held = #changes == 0 and { again = {}, left = {} } or pb:step("check the changes held", function()
    local again = automation.settle(pb.client, wanted)
    if #wanted == 0 then dagster.sleep(1) end   -- a cursor's tick under way, as settle waits
    local left = {}
    for _, c in ipairs(automation.diff(want, automation.read_state(pb.client, filter), opts)) do
      if c.field ~= "missing" then left[#left + 1] = c end
    end
    return { again = again, left = left }
  end)
  for i, c in ipairs(changes) do
    local a = c.field == "status" and held.again[automation.key(c.kind, c)]
    if a then results[i] = a == "again" and results[i] .. " (again)" or a end
  end
  for _, l in ipairs(held.left) do
    local found = false
    for i, c in ipairs(changes) do
      if c.kind == l.kind and c.name == l.name and c.location == l.location and c.field == l.field then
        found = true
        if not tostring(results[i]):find("^failed") then
          bad = bad + 1
          results[i] = "did not hold: " .. show(l.have)
        end
      end
    end
    if not found then   -- changed by someone else meanwhile
      bad = bad + 1
      changes[#changes + 1] = l
      results[#changes] = "changed meanwhile"
    end
  end
  if #changes > 0 then
    pb:say("")
    pb:table({ "KIND", "NAME", "LOCATION", "FIELD", "WAS", "FILE", "NOW" }, rows_of(changes, results))
  end
  if bad > 0 then
    pb:exit(playbook.EXIT.PARTIAL, ("%d of %d change(s) could not be made"):format(bad, #changes))
  end
  pb:say("%s matches %s (%d change(s))", pb.client.url, path, #changes)
  pb:exit(0)
end)
