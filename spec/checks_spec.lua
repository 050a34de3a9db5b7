-- Asset checks against the real deployment (issue 27): checked_table (group "checks") has
-- has_rows (passes), no_null_ids (fails, ERROR) and fresh_enough (fails, WARN). Listed with
-- their last execution, run alone (nothing materialized), their outcome read from the run;
-- and the checks playbook, whose exit status is their outcome.
local dagster = require "dagster"
local H = require "helper"

local json = dagster.json

local function catch(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "no error")
  return e
end

local function by_name(list)
  local out = {}
  for _, c in ipairs(list) do out[c.name] = c end
  return out
end

local function unique() return "c-" .. dagster.submission_id():sub(1, 8) end

describe("asset checks", function()
  local client = H.client { timeout = 60 }

  it("are listed for an asset, a group, a job or the whole deployment, by asset then name", function()
    local list = client:asset_checks("checked_table")
    local names = {}
    for i, c in ipairs(list) do names[i] = c.name end
    assert.same({ "fresh_enough", "has_rows", "no_null_ids" }, names)
    local c = by_name(list).no_null_ids
    assert.equal("checked_table", c.asset)
    assert.same({ "checked_table" }, c.key)
    assert.equal("no null ids", c.description)
    assert.equal("checks", c.group)
    assert.equal("main", c.location)
    assert.is_true(c.can_execute)
    assert.is_false(c.blocking)
    assert.is_true(#c.jobs >= 1)
    assert.equal(3, #client:asset_checks { group = "checks" })
    assert.equal(0, #client:asset_checks { group = "no_such_group" })
    assert.equal(3, #client:asset_checks({ "checked_table" }, { location = "main" }))
    assert.equal(0, #client:asset_checks("checked_table", { location = "other" }))
    -- the whole deployment has these three at least; a job without them has none of them
    local all = by_name(client:asset_checks())
    assert.truthy(all.has_rows and all.no_null_ids and all.fresh_enough)
    assert.equal(0, #client:asset_checks { job = "daily_job" })
    assert.equal(3, #client:asset_checks { job = "__ASSET_JOB", location = "main", group = "checks" })
  end)

  it("run alone: nothing is materialized, each outcome read back from the run and its events", function()
    local function latest()
      return client:assets({ prefix = "checked_table" })[1].latest_materialization
    end
    local before = latest()
    local tag = unique()
    local id = client:execute_checks({ "checked_table:has_rows", "checked_table:no_null_ids",
      { asset = "checked_table", name = "fresh_enough" } }, { tags = { spec = tag } })
    assert.equal("SUCCESS", (client:wait_for_run(id, { timeout = 60 })))
    assert.equal(before, latest())
    local results = client:check_results(id)
    assert.equal(3, #results)
    local r = by_name(results)
    assert.same({ asset = "checked_table", name = "has_rows", status = "SUCCEEDED", passed = true,
                  severity = "ERROR" }, r.has_rows)
    assert.same({ asset = "checked_table", name = "no_null_ids", status = "FAILED", passed = false,
                  severity = "ERROR", description = "2 null ids" }, r.no_null_ids)
    assert.same({ asset = "checked_table", name = "fresh_enough", status = "FAILED", passed = false,
                  severity = "WARN", description = "loaded 3 hours ago" }, r.fresh_enough)
    -- the events say the same: planned, then evaluated
    local planned, evaluated, materialized = 0, {}, 0
    for e in client:events(id) do
      if e.event_type == "ASSET_CHECK_EVALUATION_PLANNED" then
        planned = planned + 1
        assert.equal("checked_table", e.check.asset)
      elseif e.event_type == "ASSET_CHECK_EVALUATION" then
        evaluated[e.check.name] = e.check.passed
      elseif e.event_type == "ASSET_MATERIALIZATION" then
        materialized = materialized + 1
      end
    end
    assert.equal(3, planned)
    assert.same({ has_rows = true, no_null_ids = false, fresh_enough = false }, evaluated)
    assert.equal(0, materialized)
    -- the list now carries this run as each check's last execution
    for _, c in ipairs(client:asset_checks("checked_table")) do
      assert.equal(id, c.last.run_id, c.name)
      assert.equal(c.name == "has_rows" and "SUCCEEDED" or "FAILED", c.last.status)
      assert.equal(c.name == "fresh_enough" and "WARN" or "ERROR", c.last.severity)
      assert.is_number(c.last.time)
    end
    assert.equal(1, #client:runs { tags = { spec = tag } })
  end)

  it("carry their launch's identity, and the entries of asset_checks run as they are", function()
    local sid = dagster.submission_id()
    local id = client:execute_checks(client:asset_checks("checked_table"), { submission_id = sid })
    assert.equal(id, client:find_submission(sid, { kind = "run" }).id)
    client:wait_for_run(id, { timeout = 60 })
    assert.equal(3, #client:check_results(id))
  end)

  it("of a materialization are its checks' results too; a run without checks has none", function()
    local id = client:materialize("checked_table")
    assert.equal("SUCCESS", (client:wait_for_run(id, { timeout = 60 })))
    local r = by_name(client:check_results(id))
    assert.equal("SUCCEEDED", r.has_rows.status)
    assert.equal("FAILED", r.no_null_ids.status)
    -- each check's last execution now targets the latest materialization
    for _, c in ipairs(client:asset_checks("checked_table")) do
      assert.equal(id, c.last.run_id)
      assert.is_true(c.last.for_latest, c.name)
    end
    local plain = client:submit_job_execution("succeed_job")
    client:wait_for_run(plain, { timeout = 60 })
    assert.same({}, client:check_results(plain))
  end)

  it("name what is not there, and check their arguments as Lua does", function()
    assert.equal("AssetCheckNotFoundError", catch(client.execute_checks, client, "checked_table:nope").name)
    assert.equal("AssetNotFoundError", catch(client.execute_checks, client, "no_such_asset:x").name)
    assert.equal("AssetNotFoundError", catch(client.asset_checks, client, "no_such_asset").name)
    assert.equal("JobNotFoundError", catch(client.asset_checks, client, { job = "no_such_job" }).name)
    assert.equal("RunNotFoundError", catch(client.check_results, client, "00000000-0000-0000-0000-000000000000").name)
    assert.matches("bad argument #1 to 'execute_checks' %(check \"checked_table\": \"asset/key:check_name\" expected%)",
      catch(client.execute_checks, client, "checked_table"))
    assert.matches("bad argument #1 to 'execute_checks' %(at least one check expected%)",
      catch(client.execute_checks, client, {}))
    assert.matches("bad argument #1 to 'execute_checks' %(check: {asset = key, name = string} expected, got name nil%)",
      catch(client.execute_checks, client, { { asset = "checked_table" } }))
    assert.matches("bad argument #2 to 'execute_checks' %(unknown option 'tag'%)",
      catch(client.execute_checks, client, "checked_table:has_rows", { tag = {} }))
    assert.matches("bad argument #1 to 'asset_checks' %(job: string expected, got number%)",
      catch(client.asset_checks, client, { job = 1 }))
    assert.matches("bad argument #2 to 'asset_checks' %(group: string expected, got boolean%)",
      catch(client.asset_checks, client, "checked_table", { group = true }))
    assert.matches("bad argument #1 to 'check_results' %(string expected, got no value%)",
      catch(client.check_results, client))
  end)
end)

describe("play checks #binary", function()
  local client = H.client { timeout = 60 }
  local dir = os.tmpname(); os.remove(dir)
  teardown(function() os.execute("rm -rf " .. H.quote(dir)) end)

  it("exits by the outcome: 0 all passed, 6 only WARN failed, 1 an ERROR failed; prints a table", function()
    local out, err, code = H.play(dir, "checks --check checked_table:has_rows")
    assert.equal(0, code, err .. out)
    assert.matches("checked_table%s+has_rows%s+SUCCEEDED", out)
    out, err, code = H.play(dir, "checks --check checked_table:has_rows --check checked_table:fresh_enough")
    assert.equal(6, code, err .. out)
    assert.matches("checked_table%s+fresh_enough%s+FAILED%s+WARN%s+loaded 3 hours ago", out)
    out, err, code = H.play(dir, "checks checked_table")
    assert.equal(1, code, err .. out)
    assert.matches("ASSET%s+CHECK%s+STATUS%s+SEVERITY%s+DESCRIPTION", out)
    assert.matches("checked_table%s+no_null_ids%s+FAILED%s+ERROR%s+2 null ids", out)
    assert.matches("1 passed, 1 failed %(ERROR or not run%), 1 failed %(WARN%)", out)
  end)

  it("--failing takes the checks whose last execution failed; --json gives a row per check", function()
    local id = client:execute_checks("checked_table:no_null_ids")
    client:wait_for_run(id, { timeout = 60 })
    local out, err, code = H.play(dir, "checks --failing --group checks --json")
    assert.equal(1, code, err .. out)
    local rows = {}
    for line in out:gmatch("[^\n]+") do
      local ev = json.decode(line)
      if ev.event == "row" then rows[ev.check] = ev.status end
    end
    assert.equal("FAILED", rows.no_null_ids)
    assert.equal("SUCCEEDED", rows.has_rows)        -- --group adds its assets' checks
  end)

  it("says which checks and where with --dry-run, launching nothing", function()
    local tag = unique()
    local out, err, code = H.play(dir, "checks checked_table --dry-run --tag spec=" .. tag)
    assert.equal(0, code, err .. out)
    assert.matches("would run 3 check%(s%) in main/__repository__: checked_table:fresh_enough, " ..
      "checked_table:has_rows, checked_table:no_null_ids", out)
    assert.equal(0, #client:runs { tags = { spec = tag } })
  end)

  it("asks which checks when given none, and names an asset or a check it does not have (status 4)", function()
    local _, err, code = H.play(dir, "checks")
    assert.equal(4, code)
    assert.matches("which checks%?", err)
    _, err, code = H.play(dir, "checks no_such_asset --fresh")
    assert.equal(4, code)
    assert.matches("asset no_such_asset has no checks", err)
    _, err, code = H.play(dir, "checks --check checked_table:nope --fresh")
    assert.equal(4, code)
    assert.matches("%-%-check checked_table:nope: no such check", err)
  end)

  it("killed right after the launch request and resumed, runs the checks once", function()
    local tag = unique()
    local args = "checks checked_table --tag spec=" .. tag
    local _, _, code = H.play(dir, args, "DAGSTER_LUA_PLAYBOOK_KILL_AT=after-request")
    assert.equal(137, code)
    local out, err
    out, err, code = H.play(dir, args .. " --resume")
    assert.equal(1, code, out .. err)
    assert.matches("found what was launched before the interruption", out)
    assert.equal(1, #client:runs { tags = { spec = tag } })
  end)
end)
