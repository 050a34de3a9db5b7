-- Asset health and `recover --assets` (issue 27), against the real deployment: partition "y"
-- of fragile_asset (static partitions x, y), fragile_plain and fragile_grid's region "apac"
-- (days x regions) fail until $DAGSTER_HOME/fragile_fixed exists; checked_table's no_null_ids check always fails (ERROR).
local dagster = require "dagster"
local H = require "helper"

local FIXED = H.state_dir() .. "/home/fragile_fixed"

local function catch(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "no error")
  return e
end

local function by_asset(list)
  local out = {}
  for _, a in ipairs(list) do out[a.asset] = a end
  return out
end

-- fragile_asset x (succeeds), y and fragile_plain (fail while not fixed); their run ids
local function break_them(client)
  os.remove(FIXED)
  local x = client:materialize("fragile_asset", { partition = "x" })
  local y = client:materialize("fragile_asset", { partition = "y" })
  local plain = client:materialize("fragile_plain")
  local finals = client:wait_for_runs({ x, y, plain }, { timeout = 60 })
  assert.same({ [x] = "SUCCESS", [y] = "FAILURE", [plain] = "FAILURE" }, finals)
  return x, y, plain
end

describe("asset health", function()
  local client = H.client { timeout = 60 }
  teardown(function() os.remove(FIXED) end)

  it("gives partition counts, the failed partitions with their runs, and an unpartitioned asset's failure", function()
    local x, y, plain = break_them(client)
    local h = by_asset(client:asset_health { group = "fragile", failures = true })
    local a = h.fragile_asset
    assert.equal("STATIC", a.partitioned)
    assert.same({ total = 2, materialized = 1, failed = 1, in_progress = 0, missing = 0 }, a.partitions)
    assert.same({ "y" }, a.failed_partitions)
    assert.same({}, a.in_progress_partitions)
    assert.equal(y, a.failed_runs.y.run_id)
    assert.equal("FAILURE", a.failed_runs.y.status)
    assert.is_true(a.failed)
    assert.equal(x, a.latest_materialization.run_id)
    assert.equal("fragile", a.group)
    assert.equal("main", a.location)
    assert.is_true(a.materializable)
    local p = h.fragile_plain
    assert.is_nil(p.partitioned)
    assert.is_nil(p.partitions)
    assert.is_true(p.failed)
    assert.is_false(p.in_progress)
    assert.equal(plain, p.latest_run.run_id)
    assert.equal("FAILURE", p.latest_run.status)
    assert.is_number(p.latest_run.time)
    -- fixed and materialized again: no longer failed
    assert.is_true(io.open(FIXED, "w"):close())
    client:wait_for_runs({ client:materialize("fragile_asset", { partition = "y" }),
                           client:materialize("fragile_plain") }, { timeout = 60 })
    h = by_asset(client:asset_health { "fragile_asset", "fragile_plain" })
    assert.same({}, h.fragile_asset.failed_partitions)
    assert.is_false(h.fragile_asset.failed)
    assert.is_false(h.fragile_plain.failed)
    assert.equal("SUCCESS", h.fragile_plain.latest_run.status)
  end)

  it("of one asset comes with its checks (client:asset)", function()
    local a = client:asset("checked_table")
    assert.equal("checked_table", a.asset)
    assert.is_nil(a.partitioned)
    assert.is_boolean(a.failed)
    local names = {}
    for i, c in ipairs(a.checks) do names[i] = c.name end
    assert.same({ "fresh_enough", "has_rows", "no_null_ids" }, names)
    assert.equal("AssetNotFoundError", catch(client.asset, client, "no_such_asset").name)
    assert.matches("bad argument #1 to 'asset' %(asset key must be", catch(client.asset, client, 42))
  end)

  it("counts a time-partitioned and a multi-partitioned asset's partitions", function()
    local h = by_asset(client:asset_health({ "daily_events", "grid_asset" }))
    assert.equal("TIME_WINDOW", h.daily_events.partitioned)
    assert.is_table(h.daily_events.failed_partitions)
    assert.equal("MULTIPARTITIONED", h.grid_asset.partitioned)
    assert.equal(21, h.grid_asset.partitions.total)
    assert.same({}, h.grid_asset.failed_partitions)   -- grid_asset never fails
    assert.same({}, h.grid_asset.in_progress_partitions)
  end)

  it("asks the server for the partitions of the assets a filter keeps, not of every asset", function()
    local logf = os.tmpname()
    local url, pid = H.count_proxy(logf)
    finally(function() os.execute("kill " .. pid); os.remove(logf) end)
    local h = dagster.client(url, { timeout = 60 }):asset_health { group = "fragile" }
    local all = client:asset_health()
    assert.is_true(#h > 0 and #h < #all, ("%d fragile assets of %d"):format(#h, #all))
    for _, a in ipairs(h) do assert.equal("fragile", a.group) end
    -- the listing, then the statuses of the keys it kept, once (then the latest runs, and
    -- the keys of failed ranges when the cases before this one left some)
    local posts = H.proxy_posts(logf)
    assert.equal("DagsterLuaAssetNodes", posts[1].op)
    assert.equal("DagsterLuaAssetHealth", posts[2].op)
    assert.equal(#h, posts[2].ids, "asset keys in the health request")
    for i = 3, #posts do
      assert.is_true(posts[i].op ~= "DagsterLuaAssetHealth" and posts[i].op ~= "DagsterLuaAssetNodes",
        posts[i].op .. " again")
    end
    -- nothing passes the filter: the listing alone
    local before = #H.proxy_posts(logf)
    assert.same({}, dagster.client(url):asset_health { group = "no_such_group" })
    assert.equal(before + 1, #H.proxy_posts(logf))
  end)

  it("takes a materialization reported from outside after a failed run for a success", function()
    os.remove(FIXED)
    local plain = client:materialize("fragile_plain")
    assert.equal("FAILURE", client:wait_for_run(plain, { timeout = 60 }))
    assert.is_true(client:asset_health("fragile_plain")[1].failed)
    assert.is_true(client:report_materialization("fragile_plain", { description = "loaded by hand" }))
    local a = client:asset_health("fragile_plain")[1]
    assert.equal(plain, a.latest_run.run_id)
    assert.is_nil(a.latest_materialization.run_id)
    assert.is_false(a.failed)
  end)

  it("names an unknown asset, and checks its arguments as Lua does", function()
    assert.equal("AssetNotFoundError", catch(client.asset_health, client, "no_such_asset").name)
    assert.matches("bad argument #1 to 'asset_health' %(unknown option 'grup'%)",
      catch(client.asset_health, client, { grup = "x" }))
    assert.matches("bad argument #2 to 'asset_health' %(group: string expected, got number%)",
      catch(client.asset_health, client, "fragile_plain", { group = 1 }))
  end)
end)

describe("play recover --assets #binary", function()
  local client = H.client { timeout = 60 }
  local dir = os.tmpname(); os.remove(dir)
  teardown(function()
    os.remove(FIXED)
    os.execute("rm -rf " .. H.quote(dir))
  end)

  local function asset_runs_since(t0)
    local n = 0
    for _, r in ipairs(client:runs { job_name = "__ASSET_JOB", created_after = t0, limit = 100 }) do
      if not r.tags["dagster/partition"] or r.tags["dagster/partition"] == "y" then n = n + 1 end
    end
    return n
  end

  it("killed right after a launch and resumed, materializes each failed set once; then nothing is left", function()
    break_them(client)
    local dry, derr, dcode = H.play(dir, "recover --assets --group fragile --since 1h --dry-run")
    assert.equal(0, dcode, derr)
    assert.matches("would materialize fragile_plain", dry)
    assert.matches("would materialize fragile_asset partition y", dry)
    assert.is_nil(dry:find("partition x", 1, true))
    assert.is_true(io.open(FIXED, "w"):close())
    local t0 = os.time() - 1
    local args = "recover --assets --group fragile --since 1h --concurrency 1 --wait"
    local _, _, code = H.play(dir, args, "DAGSTER_LUA_PLAYBOOK_KILL_AT=after-request")
    assert.equal(137, code)
    local out, err
    out, err, code = H.play(dir, args .. " --resume")
    assert.equal(0, code, out .. err)
    assert.matches("found what was launched before the interruption", out)
    assert.matches("fragile_asset%s+y%s+%S+%s+SUCCESS", out)
    assert.matches("fragile_plain%s+%-%s+%S+%s+SUCCESS", out)
    assert.equal(2, asset_runs_since(t0))
    -- materialized again: not taken again
    out, err, code = H.play(dir, "recover --assets --group fragile --since 1h --fresh")
    assert.equal(0, code, err)
    assert.matches("nothing to materialize again", out)
    assert.equal(2, asset_runs_since(t0))
  end)

  it("names a multi-partitioned asset's and a failed time range's keys, and materializes each again", function()
    os.remove(FIXED)
    -- two days of region apac fail: one range of primary (day) keys in Dagster's statuses;
    -- the same two days of fragile_daily: one failed time range of two keys
    local ids, daily = {}, {}
    for _, day in ipairs { "2026-11-03", "2026-11-04" } do
      ids[day] = client:materialize("fragile_grid", { partition = { day = day, region = "apac" } })
      daily[#daily + 1] = client:materialize("fragile_daily", { partition = day })
    end
    local finals = client:wait_for_runs({ ids["2026-11-03"], ids["2026-11-04"], daily[1], daily[2] },
      { timeout = 60 })
    assert.same({ [ids["2026-11-03"]] = "FAILURE", [ids["2026-11-04"]] = "FAILURE",
                  [daily[1]] = "FAILURE", [daily[2]] = "FAILURE" }, finals)
    local d = client:asset_health("fragile_daily", { failures = true })[1]
    assert.same({ "2026-11-03", "2026-11-04" }, d.failed_partitions)
    assert.equal(daily[2], d.failed_runs["2026-11-04"].run_id)
    local a = client:asset_health("fragile_grid", { failures = true })[1]
    assert.equal("MULTIPARTITIONED", a.partitioned)
    assert.equal(2, a.partitions.failed)
    assert.same({ "2026-11-03|apac", "2026-11-04|apac" }, a.failed_partitions)
    assert.same({}, a.in_progress_partitions)
    assert.equal(ids["2026-11-03"], a.failed_runs["2026-11-03|apac"].run_id)
    assert.equal("FAILURE", a.failed_runs["2026-11-04|apac"].status)
    assert.is_true(a.failed)
    -- recover takes them (before, it left multi-partitioned assets out)
    assert.is_true(io.open(FIXED, "w"):close())
    local out, err, code = H.play(dir, "recover --assets --group fragile --since 1h --wait --fresh")
    assert.equal(0, code, out .. err)
    assert.matches("fragile_grid%s+2026%-11%-03|apac%s+%S+%s+SUCCESS", out)
    assert.matches("fragile_grid%s+2026%-11%-04|apac%s+%S+%s+SUCCESS", out)
    assert.matches("fragile_daily%s+2026%-11%-03%s+%S+%s+SUCCESS", out)
    assert.is_nil(out:find("left out", 1, true))
    a = client:asset_health("fragile_grid")[1]
    assert.same({}, a.failed_partitions)
    assert.is_false(a.failed)
    assert.same({}, client:asset_health("fragile_daily")[1].failed_partitions)
  end)

  it("--checks takes an asset whose latest materialization failed an ERROR check", function()
    assert.equal("SUCCESS", (client:wait_for_run(client:materialize("checked_table"), { timeout = 60 })))
    local out, err, code = H.play(dir, "recover --assets --group checks --checks --dry-run --fresh")
    assert.equal(0, code, err)
    assert.matches("would materialize checked_table", out)
    out, err, code = H.play(dir, "recover --assets --group checks --dry-run --fresh")
    assert.equal(0, code, err)
    assert.matches("nothing to materialize again", out)
  end)

  it("refuses the run filters with --assets, and the asset filters without it (status 4)", function()
    local _, err, code = H.play(dir, "recover --assets --job etl --fresh")
    assert.equal(4, code)
    assert.matches("%-%-job and %-%-tag choose runs: not with %-%-assets", err)
    _, err, code = H.play(dir, "recover --group fragile --fresh")
    assert.equal(4, code)
    assert.matches("%-%-prefix, %-%-group and %-%-checks go with %-%-assets", err)
  end)
end)
