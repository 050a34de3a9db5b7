-- freeze: stop a deployment's automation, recording exactly what was running.
--
--   dagster-lua play freeze [--snapshot FILE] [--location L] [--match GLOB] [--schedules]
--       [--sensors] [--automation] [--dry-run]
--
-- For an incident, a migration or an outage: it records which schedules and sensors are
-- running (each running sensor with its cursor), and with --automation whether
-- auto-materialize runs, in a snapshot file (--snapshot, default one per deployment in the
-- state directory), written and fsynced before the first stop; then it stops each. `play
-- thaw` restores from that file exactly what was running. --location, --match (a glob on
-- the name) and --schedules / --sensors (default both) narrow what is frozen.
--
-- The state read first is journaled with the snapshot, and each stop is a step: a freeze
-- killed midway and resumed stops the rest and loses nothing (the snapshot still holds what
-- was running before the first stop). A snapshot not thawed yet is never overwritten: thaw
-- it first, or pass another --snapshot (or --force).
--
-- Exit status: 0 everything that was running is stopped; 6 some could not be stopped (the
-- table says which, and why); 4 a snapshot not thawed yet is in the way.
local playbook = require "dagster.playbook"
local automation = require "dagster.automation"

return playbook.define({
  name = "freeze",
  summary = "Stop the schedules and sensors, recording what ran for thaw",
  description = "Records the running schedules and sensors (with sensor cursors) and, with\n" ..
    "--automation, the auto-materialize switch in a snapshot file, then stops them.\n" ..
    "`play thaw` starts again exactly what was running. Status 6: some could not be stopped.",
  flags = {
    { name = "snapshot", type = "string", metavar = "FILE",
      doc = "where the snapshot goes (default: one per deployment in the state directory)" },
    { name = "location", type = "string", metavar = "L", doc = "only this code location's" },
    { name = "match", type = "string", metavar = "GLOB", doc = "only names matching this glob" },
    { name = "schedules", type = "boolean", doc = "only schedules (default: both)" },
    { name = "sensors", type = "boolean", doc = "only sensors (default: both)" },
    { name = "automation", type = "boolean", doc = "pause auto-materialize too" },
    { name = "force", type = "boolean", doc = "overwrite a snapshot not thawed yet" },
  },
}, function(pb)
  local f = pb.flags
  local path = f.snapshot or automation.default_path(pb.client.url)

  -- 1. What runs now (journaled: a resumed freeze keeps what it saw before its first stop)
  local snap = pb:step("read the automation state", function()
    local old = automation.read(path)
    if old and not old.thawed and not f.force then
      pb:usage(("%s holds a freeze of %s not thawed yet (taken %s): run play thaw --snapshot %s " ..
        "first, or pass another --snapshot, or --force"):format(path, old.url,
        os.date("!%Y-%m-%d %H:%M:%SZ", old.taken or 0), path))
    end
    return automation.read_state(pb.client, { location = f.location, match = f.match,
      schedules = f.schedules or nil, sensors = f.sensors or nil, automation = f.automation or nil })
  end)

  local todo = {}
  for _, kind in ipairs { "schedule", "sensor" } do
    for _, s in ipairs(snap[kind .. "s"]) do
      if s.status == "RUNNING" then todo[#todo + 1] = { kind = kind, s = s } end
    end
  end
  local pause = f.automation and snap.auto_materialize_paused == false
  local n_sched, n_sens = #snap.schedules, #snap.sensors
  pb:say("  %d schedule(s) and %d sensor(s) match; %d running%s", n_sched, n_sens, #todo,
    f.automation and (", auto-materialize " .. (pause and "running" or "paused already")) or "")

  if pb.dry_run then
    local rows = {}
    for _, t in ipairs(todo) do
      rows[#rows + 1] = { t.kind, t.s.name, t.s.location, t.s.cursor or "" }
      pb:event { event = "dry_run", action = ("stop %s %s"):format(t.kind, t.s.name) }
    end
    if pause then
      rows[#rows + 1] = { "automation", "auto-materialize", "", "" }
      pb:event { event = "dry_run", action = "pause auto-materialize" }
    end
    if #rows > 0 then pb:say(""); pb:table({ "KIND", "NAME", "LOCATION", "CURSOR" }, rows) end
    pb:say("would write the snapshot to %s, then stop %d", path, #rows)
    pb:exit(0)
  end

  -- 2. The snapshot, on disk before anything is stopped
  pb:step("write the snapshot", { path = path }, function()
    automation.write(path, snap)
    pb:say("  %s", path)
    return path
  end)

  -- 3. Each stop a step of its own: a resumed freeze does the rest
  local rows, failed = {}, 0
  for _, t in ipairs(todo) do
    local s = t.s
    local res = pb:step(("stop %s %s"):format(t.kind, s.name), { location = s.location }, function()
      local ok, st = pb:try(pb.client["stop_" .. t.kind], pb.client, s.name,
        { location = s.location, repository = s.repository })
      return ok and st or ("failed: " .. playbook.headline(st))
    end)
    if res ~= "STOPPED" then failed = failed + 1 end
    rows[#rows + 1] = { t.kind, s.name, s.location, "RUNNING", res }
  end
  -- 4. Stopped for good: Dagster's sensor daemon writes back the state it read when a tick
  -- was under way at the stop (the sensor is RUNNING again once the tick ends), so each is
  -- read again a second later and stopped again, three times at most (automation.settle)
  local again = #todo == 0 and {} or pb:step("check they stayed stopped", function()
    local wanted = {}
    for i, t in ipairs(todo) do
      wanted[i] = { kind = t.kind, name = t.s.name, location = t.s.location,
                    repository = t.s.repository, status = "STOPPED" }
    end
    return automation.settle(pb.client, wanted, f.location)
  end)
  for i, t in ipairs(todo) do
    local a = again[automation.key(t.kind, t.s)]
    if a then
      local held = a == "again" or a == "STOPPED (again)"   -- (the latter: a journal of before)
      if rows[i][5] == "STOPPED" and not held then failed = failed + 1 end
      rows[i][5] = held and "STOPPED (again)" or "RUNNING"
    end
  end

  if pause then
    local res = pb:step("pause auto-materialize", function()
      local ok, v = pb:try(pb.client.set_auto_materialize_paused, pb.client, true)
      return ok and (v and "PAUSED" or "RUNNING") or ("failed: " .. tostring(v))
    end)
    if res ~= "PAUSED" then failed = failed + 1 end
    rows[#rows + 1] = { "automation", "auto-materialize", "", "RUNNING", res }
  end

  if #rows > 0 then
    pb:say("")
    pb:table({ "KIND", "NAME", "LOCATION", "WAS", "NOW" }, rows)
  end
  if failed > 0 then
    pb:exit(playbook.EXIT.PARTIAL, ("%d of %d could not be stopped; the snapshot %s holds them all")
      :format(failed, #rows, path))
  end
  pb:say("%d stopped; thaw with: dagster-lua play thaw%s", #rows,
    f.snapshot and (" --snapshot " .. f.snapshot) or "")
  pb:exit(0)
end)
