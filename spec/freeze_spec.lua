-- dagster-lua play freeze and play thaw (issue 25), as an operator runs them: processes of the
-- host against the real local Dagster and its daemon. tick_schedule and pulse_sensor (location
-- main), other_schedule and other_sensor (location other) start stopped; each case sets the
-- state it needs, and the teardown leaves all four stopped and auto-materialize as it was.
local H = require "helper"
local dagster = require "dagster"

local function esc(s) return (s:gsub("%p", "%%%0")) end

describe("play freeze and play thaw", function()
  local c, dir, paused_before

  -- name -> status of the instigators
  local function state()
    local out = {}
    for _, s in ipairs(c:schedules()) do out[s.name] = s.status end
    for _, s in ipairs(c:sensors()) do out[s.name] = s.status end
    return out
  end

  -- every instigator stopped, and kept stopped (a sensor stopped during a tick comes back)
  local function stop_all()
    H.wait_until("the schedules and sensors to stay STOPPED", function()
      local st = state()
      local running = false
      for _, kind in ipairs { "schedule", "sensor" } do
        for _, s in ipairs(c[kind .. "s"](c)) do
          if st[s.name] == "RUNNING" then running = true; c["stop_" .. kind](c, s.name) end
        end
      end
      if running then return false end
      dagster.sleep(0.5)
      for _, v in pairs(state()) do if v == "RUNNING" then return false end end
      return true
    end, 60, 0.2)
  end

  local function slurp_json(path) return assert(dagster.json.decode(assert(H.slurp(path)))) end

  setup(function()
    c = H.client()
    dir = H.trim(H.run("mktemp -d"))
    paused_before = c:auto_materialize_paused()
  end)
  teardown(function()
    stop_all()
    pcall(c.set_sensor_cursor, c, "other_sensor", nil)
    c:set_auto_materialize_paused(paused_before)
    os.execute("rm -rf " .. H.quote(dir))
  end)
  before_each(function() stop_all() end)

  it("freeze stops what runs and records it; thaw starts exactly that again, cursors and drift included", function()
    local snap = dir .. "/incident.json"
    c:start_schedule("other_schedule")
    -- the cursor before the start, as thaw does: the sensor daemon writes back the state it
    -- read when a tick began, so a cursor set during the first tick would be lost
    c:set_sensor_cursor("other_sensor", "cursor-at-freeze")
    c:start_sensor("other_sensor")
    c:set_auto_materialize_paused(false)

    -- a dry run lists and changes nothing
    local out, err, rc = H.play(dir, "freeze --automation --snapshot " .. H.quote(snap) .. " --dry-run")
    assert.equal(0, rc, out .. err)
    assert.matches("sensor%s+other_sensor%s+other%s+cursor%-at%-freeze", out)
    assert.matches("automation%s+auto%-materialize", out)
    assert.is_nil(H.slurp(snap))
    assert.equal("RUNNING", state().other_sensor)

    out, err, rc = H.play(dir, "freeze --automation --snapshot " .. H.quote(snap))
    assert.equal(0, rc, out .. err)
    assert.same({ tick_schedule = "STOPPED", other_schedule = "STOPPED", other_sensor = "STOPPED",
                  pulse_sensor = "STOPPED", broken_sensor = "STOPPED" }, state())
    assert.is_true(c:auto_materialize_paused())
    assert.matches("schedule%s+other_schedule%s+other%s+RUNNING%s+STOPPED", out)
    assert.matches("3 stopped", out)
    local s = slurp_json(snap)
    assert.equal(c.url, s.url)
    assert.equal(false, s.thawed)
    assert.equal(false, s.auto_materialize_paused)
    local by = {}
    for _, kind in ipairs { "schedules", "sensors" } do
      for _, x in ipairs(s[kind]) do by[x.name] = x end
    end
    assert.equal("RUNNING", by.other_schedule.status)
    assert.equal("STOPPED", by.tick_schedule.status)
    assert.equal("RUNNING", by.other_sensor.status)
    assert.equal("cursor-at-freeze", by.other_sensor.cursor)

    -- a second freeze would record nothing running: it is refused while this one is not thawed
    out, err, rc = H.play(dir, "freeze --snapshot " .. H.quote(snap))
    assert.equal(4, rc, out .. err)
    assert.matches("not thawed yet", err)

    -- during the incident: the sensor moves on, someone starts tick_schedule
    c:set_sensor_cursor("other_sensor", "cursor-later")
    c:start_schedule("tick_schedule")

    out, err, rc = H.play(dir, "thaw --restore-cursors --snapshot " .. H.quote(snap))
    assert.equal(0, rc, out .. err)
    assert.same({ tick_schedule = "RUNNING", other_schedule = "RUNNING", other_sensor = "RUNNING",
                  pulse_sensor = "STOPPED", broken_sensor = "STOPPED" }, state())
    assert.equal("cursor-at-freeze", c:sensor("other_sensor").cursor)
    assert.is_false(c:auto_materialize_paused())
    assert.matches("tick_schedule%s+main%s+STOPPED%s+started during the freeze: left running", out)
    assert.is_number(slurp_json(snap).thawed)

    -- thawed once: a second thaw is refused, a new freeze may write over it
    out, err, rc = H.play(dir, "thaw --snapshot " .. H.quote(snap))
    assert.equal(4, rc, out .. err)
    assert.matches("thawed already", err)
    out, err, rc = H.play(dir, "freeze --sensors --snapshot " .. H.quote(snap))
    assert.equal(0, rc, out .. err)
    assert.same({}, slurp_json(snap).schedules)
  end)

  it("a freeze stops what the daemon launches: no run of a 5 s sensor for two intervals; thaw brings them back", function()
    -- pulse_sensor requests a run of pulse_job at every evaluation, at most every 5 s
    local function pulse_runs()
      return #c:runs { job_name = "pulse_job", limit = 1000 }
    end
    finally(function()
      stop_all()
      H.wait_until("pulse_job's runs to end", function()
        return #c:runs { job_name = "pulse_job", statuses = { "QUEUED", "STARTING", "STARTED" } } == 0
      end, 120, 0.5)
    end)
    local snap = dir .. "/pulse.json"
    local before = pulse_runs()
    c:start_sensor("pulse_sensor")
    H.wait_until("pulse_sensor's first run", function() return pulse_runs() > before end, 60, 0.5)

    local out, err, rc = H.play(dir, "freeze --sensors --match 'pulse_*' --snapshot " .. H.quote(snap))
    assert.equal(0, rc, out .. err)
    assert.matches("sensor%s+pulse_sensor%s+main%s+RUNNING%s+STOPPED", out)
    local frozen = pulse_runs()
    dagster.sleep(10)                                            -- two intervals
    assert.equal(frozen, pulse_runs(), "a run was launched during the freeze")
    assert.equal("STOPPED", state().pulse_sensor)

    out, err, rc = H.play(dir, "thaw --snapshot " .. H.quote(snap))
    assert.equal(0, rc, out .. err)
    H.wait_until("a run of pulse_sensor after the thaw", function() return pulse_runs() > frozen end, 60, 0.5)
    assert.equal("RUNNING", state().pulse_sensor)
  end)

  it("a freeze killed after its second stop and resumed stops the rest; thaw restores them all", function()
    local snap = dir .. "/killed.json"
    c:start_schedule("other_schedule")
    c:start_sensor("other_sensor")
    c:set_auto_materialize_paused(false)
    -- steps: read the state, write the snapshot, stop #1, stop #2 (killed there), check, pause
    local out, err, rc = H.play(dir, "freeze --automation --snapshot " .. H.quote(snap), "DAGSTER_LUA_PLAYBOOK_KILL_AT=after-step:4")
    assert.equal(137, rc, out .. err)
    assert.same({ tick_schedule = "STOPPED", other_schedule = "STOPPED", other_sensor = "STOPPED",
                  pulse_sensor = "STOPPED", broken_sensor = "STOPPED" }, state())
    assert.is_false(c:auto_materialize_paused())               -- not reached
    assert.equal(2, #slurp_json(snap).schedules)               -- on disk before the first stop

    -- resumed: the state it read before its first stop is what it keeps
    out, err, rc = H.play(dir, "freeze --automation --resume --snapshot " .. H.quote(snap))
    assert.equal(0, rc, out .. err)
    assert.matches("= stop sensor other_sensor %(done before%)", out)
    assert.is_true(c:auto_materialize_paused())
    local s = slurp_json(snap)
    for _, x in ipairs(s.sensors) do
      assert.equal(x.name == "other_sensor" and "RUNNING" or "STOPPED", x.status)
    end

    out, err, rc = H.play(dir, "thaw --snapshot " .. H.quote(snap))
    assert.equal(0, rc, out .. err)
    assert.same({ tick_schedule = "STOPPED", other_schedule = "RUNNING", other_sensor = "RUNNING",
                  pulse_sensor = "STOPPED", broken_sensor = "STOPPED" }, state())
    assert.is_false(c:auto_materialize_paused())
  end)

  it("snapshot save, diff and apply: a changed deployment's differences listed exactly, then put back", function()
    local file = dir .. "/state.json"
    c:set_sensor_cursor("other_sensor", "saved-cursor")
    local automation = require "dagster.automation"
    local pools = automation.pools(c)
    finally(function() if pools then automation.set_pool(c, "spec_pool", nil) end end)
    local out, err, rc = H.play(dir, "snapshot save " .. H.quote(file))
    assert.equal(0, rc, out .. err)
    local s = slurp_json(file)
    local saved
    for _, x in ipairs(s.sensors) do if x.name == "other_sensor" then saved = x end end
    assert.equal(3, #s.sensors)   -- other_sensor, pulse_sensor and broken_sensor
    assert.equal("saved-cursor", saved.cursor)
    assert.equal(c:auto_materialize_paused(), s.auto_materialize_paused)
    out, err, rc = H.play(dir, "snapshot diff " .. H.quote(file))
    assert.equal(0, rc, out .. err)
    assert.matches("matches", out)

    -- the deployment changes: a schedule started, the sensor's cursor moved, a pool added
    c:start_schedule("other_schedule")
    c:set_sensor_cursor("other_sensor", "moved-cursor")
    if pools then assert.is_true(c:graphql([[mutation DagsterLuaSpecPool { setConcurrencyLimit(concurrencyKey: "spec_pool", limit: 3) }]]).setConcurrencyLimit) end
    out, err, rc = H.play(dir, "snapshot diff " .. H.quote(file))
    assert.equal(6, rc, out .. err)
    assert.matches("schedule%s+other_schedule%s+other%s+status%s+RUNNING%s+STOPPED", out)
    assert.matches("sensor%s+other_sensor%s+other%s+cursor%s+moved%-cursor%s+saved%-cursor", out)
    if pools then assert.matches("pool%s+spec_pool%s+slots%s+3%s+%-", out) end
    assert.is_nil(out:find("tick_schedule", 1, true))
    assert.matches((pools and 3 or 2) .. " difference%(s%) between", out .. err)
    out, err, rc = H.play(dir, "snapshot diff --ignore-cursors " .. H.quote(file))
    assert.equal(6, rc, out .. err)
    assert.is_nil(out:find("moved-cursor", 1, true))

    -- apply: a dry run changes nothing; the real one makes diff match
    out, err, rc = H.play(dir, "snapshot apply --dry-run " .. H.quote(file))
    assert.equal(0, rc, out .. err)
    assert.matches("would make " .. (pools and 3 or 2) .. " change", out)
    assert.equal("RUNNING", state().other_schedule)
    out, err, rc = H.play(dir, "snapshot apply " .. H.quote(file))
    assert.equal(0, rc, out .. err)
    -- read again after the changes (a daemon's write-back would be changed again, or named)
    assert.matches("check the changes held%s+ok", out .. err)
    assert.equal("STOPPED", state().other_schedule)
    assert.equal("saved-cursor", c:sensor("other_sensor").cursor)
    if pools then assert.is_nil(automation.pools(c).spec_pool) end
    out, err, rc = H.play(dir, "snapshot diff " .. H.quote(file))
    assert.equal(0, rc, out .. err)

    out, err, rc = H.play(dir, "snapshot merge " .. H.quote(file))
    assert.equal(4, rc, out .. err)
    assert.matches("unknown action 'merge'", err)
  end)

  it("automation.settle changes again a status that did not hold, and only that one", function()
    local automation = require "dagster.automation"
    assert.same({}, automation.settle(c, {}))   -- nothing to settle: no wait, no request
    -- other_schedule RUNNING where STOPPED was wanted (as a stop a daemon's write-back undid);
    -- tick_schedule STOPPED as wanted
    assert.equal("RUNNING", c:start_schedule("other_schedule"))
    local wanted = {}
    for _, s in ipairs(c:schedules()) do
      if s.name == "other_schedule" or s.name == "tick_schedule" then
        wanted[#wanted + 1] = { kind = "schedule", name = s.name, location = s.location,
                                repository = s.repository, status = "STOPPED" }
      end
    end
    assert.equal(2, #wanted)
    local again = automation.settle(c, wanted)
    local keys = {}
    for k, v in pairs(again) do keys[#keys + 1] = k .. "=" .. v end
    assert.same({ "schedule other/" .. c:schedule("other_schedule").repository ..
      "/other_schedule=again" }, keys)
    assert.equal("STOPPED", state().other_schedule)
    assert.equal("STOPPED", state().tick_schedule)
  end)

  it("thaw refuses another deployment's snapshot without --force, and reports what is gone from the code", function()
    local snap = dir .. "/gone.json"
    c:start_schedule("other_schedule")
    local out, err, rc = H.play(dir, "freeze --schedules --snapshot " .. H.quote(snap))
    assert.equal(0, rc, out .. err)
    -- the snapshot also names a schedule the code no longer has
    local text = assert(H.slurp(snap))
    local f = assert(io.open(snap, "w"))
    f:write((text:gsub('"schedules": %[\n', '"schedules": [\n    {"location":"other","name":"gone_schedule",' ..
      '"repository":"__repository__","status":"RUNNING"},\n')))
    f:close()

    -- the same server under another name is another URL: refused
    local port = H.url():match(":(%d+)")
    out, err, rc = H.run(("env XDG_STATE_HOME=%s %s play thaw --url http://localhost:%s --snapshot %s")
      :format(H.quote(dir), H.quote(H.bin), port, H.quote(snap)))
    assert.equal(4, rc, out .. err)
    assert.matches("is a snapshot of " .. esc(c.url) .. ", not of http://localhost:" .. port, err)
    assert.equal("STOPPED", state().other_schedule)

    out, err, rc = H.play(dir, "thaw --snapshot " .. H.quote(snap))
    assert.equal(6, rc, out .. err)
    assert.matches("gone_schedule%s+other%s+RUNNING%s+GONE from the code", out)
    assert.matches("other_schedule%s+other%s+RUNNING%s+RUNNING", out)
    assert.equal("RUNNING", state().other_schedule)

    out, err, rc = H.play(dir, "thaw --snapshot " .. H.quote(dir .. "/none.json"))
    assert.equal(4, rc, out .. err)
    assert.matches("no snapshot at " .. esc(dir) .. "/none%.json: play freeze writes one", err)
  end)
end)
