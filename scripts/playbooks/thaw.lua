-- thaw: start again exactly what `play freeze` stopped.
--
--   dagster-lua play thaw [--snapshot FILE] [--restore-cursors] [--force] [--dry-run]
--
-- Reads the snapshot freeze wrote (--snapshot, default this deployment's in the state
-- directory) and starts each schedule and sensor that was running then; unpauses
-- auto-materialize when the freeze paused it. A sensor goes on from where it is now; with
-- --restore-cursors each gets back the cursor it had at the freeze first. It reports the
-- drift since the freeze: one running already (fine), one that was stopped at the freeze and
-- runs now (someone started it: left running), one gone from the code (listed, status 6).
-- A snapshot of another deployment (another URL) is refused unless --force. Once done, the
-- snapshot is marked thawed (a later freeze may overwrite it); each start is a step, so a
-- thaw killed midway and resumed starts the rest.
--
-- Exit status: 0 all restored; 6 some could not be started, or are gone from the code; 4 no
-- snapshot, or one of another deployment.
local playbook = require "dagster.playbook"
local automation = require "dagster.automation"

return playbook.define({
  name = "thaw",
  summary = "Start again what play freeze stopped, and report the drift",
  description = "Starts the schedules and sensors the freeze's snapshot says were running\n" ..
    "(a sensor's cursor put back with --restore-cursors) and unpauses auto-materialize when\n" ..
    "the freeze paused it. Status 6: some could not be started, or are gone from the code.",
  flags = {
    { name = "snapshot", type = "string", metavar = "FILE",
      doc = "the snapshot freeze wrote (default: this deployment's in the state directory)" },
    { name = "restore-cursors", type = "boolean",
      doc = "give each sensor back the cursor it had at the freeze" },
    { name = "force", type = "boolean", doc = "thaw a snapshot of another deployment, or one thawed already" },
  },
}, function(pb)
  local f = pb.flags
  local path = f.snapshot or automation.default_path(pb.client.url)

  -- 1. The snapshot, checked against this deployment
  local snap = pb:step("read the snapshot", { path = path }, function()
    local snap, err = automation.read(path)
    if not snap then pb:usage(err) end
    if snap.url ~= pb.client.url and not f.force then
      pb:usage(("%s is a snapshot of %s, not of %s: pass --force to thaw it here")
        :format(path, snap.url, pb.client.url))
    end
    if snap.thawed and not f.force then
      pb:usage(("%s was thawed already (%s): pass --force to start its instigators again")
        :format(path, os.date("!%Y-%m-%d %H:%M:%SZ", snap.thawed)))
    end
    return snap
  end)
  pb:say("  the freeze of %s", os.date("!%Y-%m-%d %H:%M:%SZ", snap.taken or 0))

  -- 2. What runs now, the instigators of the deployment by kind, location and name
  local now = pb:step("read the automation state", function()
    return automation.statuses(pb.client)
  end)

  -- 3. Each one that ran at the freeze started again; the drift of the others reported
  local rows, bad = {}, 0
  for _, kind in ipairs { "schedule", "sensor" } do
    for _, s in ipairs(snap[kind .. "s"]) do
      local current, result = now[automation.key(kind, s)], nil
      if current == nil then
        if s.status == "RUNNING" then
          result, bad = "GONE from the code", bad + 1
        end
      elseif s.status ~= "RUNNING" then
        if current == "RUNNING" then result = "started during the freeze: left running" end
      elseif current == "RUNNING" then
        result = "running already"
      elseif pb.dry_run then
        result = "would start" .. (kind == "sensor" and f["restore-cursors"] and
          (" at cursor " .. tostring(s.cursor)) or "")
        pb:event { event = "dry_run", action = ("start %s %s"):format(kind, s.name) }
      else
        result = pb:step(("start %s %s"):format(kind, s.name), { location = s.location }, function()
          local where = { location = s.location, repository = s.repository }
          if kind == "sensor" and f["restore-cursors"] then
            local ok, err = pb:try(pb.client.set_sensor_cursor, pb.client, s.name, s.cursor, where)
            if not ok then return "failed: cursor: " .. playbook.headline(err) end
          end
          local ok, st = pb:try(pb.client["start_" .. kind], pb.client, s.name, where)
          return ok and st or ("failed: " .. playbook.headline(st))
        end)
        if result ~= "RUNNING" then bad = bad + 1 end
      end
      if result then rows[#rows + 1] = { kind, s.name, s.location, s.status, result } end
    end
  end
  if snap.auto_materialize_paused == false then  -- the freeze paused it: resume it
    local result
    if pb.dry_run then
      result = "would resume"
      pb:event { event = "dry_run", action = "resume auto-materialize" }
    else
      result = pb:step("resume auto-materialize", function()
        local ok, v = pb:try(pb.client.set_auto_materialize_paused, pb.client, false)
        return ok and (v and "PAUSED" or "RUNNING") or ("failed: " .. tostring(v))
      end)
      if result ~= "RUNNING" then bad = bad + 1 end
    end
    rows[#rows + 1] = { "automation", "auto-materialize", "", "RUNNING", result }
  end

  if #rows > 0 then
    pb:say("")
    pb:table({ "KIND", "NAME", "LOCATION", "AT FREEZE", "NOW" }, rows)
  end
  if pb.dry_run then pb:exit(bad > 0 and playbook.EXIT.PARTIAL or 0) end

  -- 4. The snapshot marked thawed: a later freeze may overwrite it
  pb:step("mark the snapshot thawed", { path = path }, function()
    snap.thawed = os.time()
    automation.write(path, snap)
    return true
  end)
  if bad > 0 then
    pb:exit(playbook.EXIT.PARTIAL, ("%d could not be restored (see the table)"):format(bad))
  end
  pb:say("thawed: %s", path)
  pb:exit(0)
end)
