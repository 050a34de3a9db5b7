-- Partitions and backfills against the real local Dagster, whose dagster-daemon runs the
-- backfills (scripts/dagster-up; its backfill loop pauses 1 s instead of 30 s). Fixtures in
-- spec/fixtures/defs_main.py: daily_job and daily_events (a fixed week of days),
-- region_job (static partitions with partitioned config), region_totals (its "apac"
-- partition fails until $DAGSTER_HOME/region_fixed exists), region_slow (holds each run up
-- to 60 s), daily_rollup (takes a range in one run), tenant_asset (dynamic) and grid_asset
-- (days x regions).
local dagster = require "dagster"
local H = require "helper"

local DAYS = { "2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05",
               "2026-11-06", "2026-11-07" }
local FIXED = H.state_dir() .. "/home/region_fixed"
-- how the cases clean up after a region_slow backfill: its run ended at once
local STOP = { terminate_runs = true, grace = 5 }
-- (a cancel can be lost to the backfill daemon's iteration, and the backfill go on: the cases
-- cancel with H.cancel_backfill_for_good)

local function count(list, pred)
  local n = 0
  for _, v in ipairs(list) do if pred(v) then n = n + 1 end end
  return n
end

local function ids_of(list)
  local s = {}
  for _, b in ipairs(list) do s[b.id] = true end
  return s
end

describe("partitions", function()
  local client
  setup(function() client = H.client({ timeout = 60 }) end)

  it("lists a partitioned job's keys in the definition's order", function()
    assert.same(DAYS, client:partitions("daily_job"))
    assert.same({ "eu", "us", "apac" }, client:partitions("region_job"))
  end)

  it("lists an asset's keys, by name or as a key list", function()
    assert.same(DAYS, client:partitions("daily_events"))
    assert.same(DAYS, client:partitions({ "daily_events" }))
  end)

  it("gives multi-dimensional keys as tables by dimension, printing as Dagster's string", function()
    local keys = client:partitions("grid_asset")
    assert.equal(#DAYS * 3, #keys)
    local seen = {}
    for _, k in ipairs(keys) do
      assert.is_table(k)
      assert.is_string(k.day)
      assert.is_string(k.region)
      assert.equal(k.day .. "|" .. k.region, tostring(k))
      seen[tostring(k)] = true
    end
    assert.is_true(seen["2026-11-07|apac"])
    -- a key in another order, or of one dimension, is named with the order it should take
    for _, bad in ipairs { "apac|2026-11-03", { region = "apac" } } do
      local ok, e = pcall(client.check_partitions, client, "grid_asset", { bad })
      assert.is_false(ok)
      assert.equal("PartitionKeysNotFoundError", e.name)
      assert.matches('its keys join the keys of day and region, in this order, with "|": ' ..
        "2026%-11%-01|eu, ...%)$", e.message)
    end
  end)

  it("includes the dynamic partitions added at run time", function()
    local key = "tenant-" .. os.time() .. "-" .. math.random(1000, 9999)
    local r = client:graphql([[
      mutation Add($key: String!) {
        addDynamicPartition(partitionKey: $key, partitionsDefName: "tenants",
          repositorySelector: {repositoryLocationName: "main", repositoryName: "__repository__"}) {
          __typename ... on Error { message } } }]], { key = key }).addDynamicPartition
    assert.equal("AddDynamicPartitionSuccess", r.__typename, r.message)
    local found = false
    for _, k in ipairs(client:partitions("tenant_asset")) do found = found or k == key end
    assert.is_true(found, key .. " not listed")
  end)

  it("is empty for what is not partitioned, and names an unknown asset", function()
    assert.same({}, client:partitions("succeed_job"))
    assert.same({}, client:partitions("asset_one"))
    local e = H.catch(client.partitions, client, "no_such_asset_or_job")
    assert.equal("AssetNotFoundError", e.name)
  end)

  it("takes {job =} or {asset =} for what a bare name would guess, as check_partitions returns it", function()
    -- a job that does not exist is a JobNotFoundError, never looked up as an asset key
    local e = H.catch(client.check_partitions, client, { job = "no_such_job" }, { "2026-11-01" })
    assert.equal("JobNotFoundError", e.name)
    assert.equal("no_such_job", e.job_name)
    -- a job's name given as an asset key is an asset key (daily_job names no asset)
    e = H.catch(client.partitions, client, { asset = "daily_job" })
    assert.equal("AssetNotFoundError", e.name)
    assert.same(DAYS, client:partitions({ job = "daily_job" }))
    assert.same(DAYS, client:partitions({ asset = "daily_events" }))
    -- the location narrows the search, from the table or from the options
    e = H.catch(client.partitions, client, { job = "daily_job", location = "other" })
    assert.equal("JobNotFoundError", e.name)
    assert.matches("in location `other`", e.message)
    e = H.catch(client.partitions, client, { job = "daily_job" }, { location = "other" })
    assert.equal("JobNotFoundError", e.name)
    -- what check_partitions returns goes back in as it is, for a job and for an asset
    local keys, where = client:check_partitions({ job = "daily_job" }, { from = "2026-11-02", to = "2026-11-03" })
    assert.same({ "2026-11-02", "2026-11-03" }, keys)
    assert.same({ job = "daily_job", location = "main", repository = "__repository__" }, where)
    assert.same({ "2026-11-03" }, (client:check_partitions(where, { "2026-11-03" })))
    keys, where = client:check_partitions("grid_asset", { "2026-11-01|eu" })
    assert.same({ asset = "grid_asset", dimensions = { "day", "region" } }, where)
    assert.same(keys, (client:check_partitions(where, { "2026-11-01|eu" })))
  end)

  it("reads argument errors like Lua's own", function()
    local ok, e = pcall(client.partitions, client, { job = 1 })
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'partitions' %(job: string expected, got number%)", e)
    ok, e = pcall(client.check_partitions, client, { job = "daily_job", asset = "daily_events" }, true)
    assert.matches("bad argument #1 to 'check_partitions' %(a job or an asset, not both%)", e)
    ok, e = pcall(client.partitions, client, { job = "daily_job", location = 7 })
    assert.matches("bad argument #1 to 'partitions' %(location: string expected, got number%)", e)
    ok, e = pcall(client.partitions, client, 42)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'partitions' %(job name or asset key expected, got number%)", e)
    ok, e = pcall(client.partitions, client, "daily_job", { where = 1 })
    assert.matches("bad argument #2 to 'partitions' %(unknown option 'where'%)", e)
  end)
end)

describe("runs of one partition", function()
  local client
  setup(function() client = H.client({ timeout = 60 }) end)

  it("submit_job_execution takes the partition's own config and tags", function()
    -- region_job has no config but its partitioned config: without the partition the
    -- launch is refused, with it the run gets region = us
    local e = H.catch(client.submit_job_execution, client, "region_job")
    assert.equal("RunConfigValidationInvalid", e.name)
    local id = client:submit_job_execution("region_job", { partition = "us", tags = { spec = "part" } })
    assert.equal("SUCCESS", client:wait_for_run(id, { timeout = 120 }))
    local run = client:get_run(id)
    assert.equal("us", run.tags["dagster/partition"])
    assert.equal("part", run.tags.spec)
    assert.same({ ops = { region_op = { config = { region = "us" } } } }, run.run_config)
  end)

  it("refuses a partition the job does not have, before launching", function()
    local before = #client:runs { job_name = "region_job", limit = 1000 }
    local e = H.catch(client.submit_job_execution, client, "region_job", { partition = "mars" })
    assert.equal("PartitionKeysNotFoundError", e.name)
    assert.matches("mars", e.message)
    assert.same({ "mars" }, e.partition_keys)
    assert.equal(before, #client:runs { job_name = "region_job", limit = 1000 })
  end)

  it("materialize runs one key, a multi-dimensional key, and a range in one run", function()
    local one = client:materialize("daily_events", { partition = "2026-11-03" })
    local grid = client:materialize("grid_asset", { partition = { region = "us", day = "2026-11-02" } })
    local range = client:materialize("daily_rollup", { partition = { from = "2026-11-02", to = "2026-11-04" } })
    local st = client:wait_for_runs({ one, grid, range }, { timeout = 180 })
    assert.same({ [one] = "SUCCESS", [grid] = "SUCCESS", [range] = "SUCCESS" }, st)
    assert.equal("2026-11-03", client:get_run(one).tags["dagster/partition"])
    local gt = client:get_run(grid).tags
    assert.equal("2026-11-02|us", gt["dagster/partition"])
    -- Dagster's own tags for a multi-dimensional key (grid_asset reads it by dimension)
    assert.equal("2026-11-02", gt["dagster/partition/day"])
    assert.equal("us", gt["dagster/partition/region"])
    local tags = client:get_run(range).tags
    assert.equal("2026-11-02", tags["dagster/asset_partition_range_start"])
    assert.equal("2026-11-04", tags["dagster/asset_partition_range_end"])
    assert.is_nil(tags["dagster/partition"])
  end)

  it("materialize refuses a key or a range outside the definition", function()
    local e = H.catch(client.materialize, client, "daily_events", { partition = "2027-01-01" })
    assert.equal("PartitionKeysNotFoundError", e.name)
    e = H.catch(client.materialize, client, "daily_rollup", { partition = { from = "2026-11-05", to = "2026-11-09" } })
    assert.equal("PartitionRangeError", e.name)
    assert.matches("2026%-11%-09 is not a partition of asset daily_rollup", e.message)
  end)
end)

describe("backfills", function()
  local client
  setup(function()
    client = H.client({ timeout = 60 })
    os.remove(FIXED)
  end)
  teardown(function() os.remove(FIXED) end)

  it("runs a job backfill over a range to the end, its counts matching its runs", function()
    local id = client:backfill { job = "daily_job", partitions = { from = "2026-11-02", to = "2026-11-04" },
                                 tags = { spec = "range" } }
    assert.is_string(id)
    local seen = {}
    local status, b = client:wait_for_backfill(id, { timeout = 180, on_progress = function(p)
      seen[#seen + 1] = p.status
    end })
    assert.equal("COMPLETED_SUCCESS", status)
    assert.is_true(#seen >= 1)
    assert.equal("job", b.kind)
    assert.equal("daily_job", b.job_name)
    assert.same({ "2026-11-02", "2026-11-03", "2026-11-04" }, b.partitions)
    assert.equal("range", b.tags.spec)
    assert.equal(3, b.counts.requested)
    assert.equal(count(b.runs, function(r) return r.status == "SUCCESS" end), b.counts.succeeded)
    assert.equal(3, b.counts.succeeded)
    assert.equal(0, b.counts.failed + b.counts.in_progress + b.counts.pending)
    local parts = {}
    for _, r in ipairs(b.runs) do parts[#parts + 1] = r.partition end
    table.sort(parts)
    assert.same(b.partitions, parts)
    for _, p in ipairs(b.partitions) do assert.equal("SUCCESS", b.partition_statuses[p].status) end
    assert.is_number(b.created)
    assert.is_number(b.ended)
    assert.is_nil(b.error)
  end)

  it("reports one failed partition, and re-executes only that one", function()
    local id = client:backfill { assets = { "region_totals" }, all_partitions = true }
    local status, b = client:wait_for_backfill(id, { timeout = 180 })
    assert.equal("COMPLETED_FAILED", status)
    assert.equal("assets", b.kind)
    assert.same({ "region_totals" }, b.asset_keys)
    assert.same({ requested = 3, succeeded = 2, failed = 1, in_progress = 0 }, b.assets.region_totals)
    assert.equal(2, b.counts.succeeded)
    assert.equal(1, b.counts.failed)
    assert.equal(count(b.runs, function(r) return r.status == "SUCCESS" end), b.counts.succeeded)
    assert.equal(count(b.runs, function(r) return r.status == "FAILURE" end), b.counts.failed)
    for _, r in ipairs(b.runs) do
      assert.equal(r.partition == "apac" and "FAILURE" or "SUCCESS", r.status)
    end

    -- FROM_FAILURE: Dagster's re-execution, of apac alone (still broken: it fails again)
    local again = client:reexecute_backfill(id)
    assert.is_true(again ~= id)
    local s2, b2 = client:wait_for_backfill(again, { timeout = 180 })
    assert.equal("COMPLETED_FAILED", s2)
    assert.equal(id, b2.parent_id)
    assert.equal(1, #b2.runs)
    assert.equal("apac", b2.runs[1].partition)

    -- fixed, ALL_STEPS: a new backfill over the partitions that did not succeed, apac alone
    assert(io.open(FIXED, "w")):close()
    local third = client:reexecute_backfill(id, { strategy = "ALL_STEPS", tags = { spec = "fixed" } })
    local s3, b3 = client:wait_for_backfill(third, { timeout = 180 })
    assert.equal("COMPLETED_SUCCESS", s3)
    assert.same({ "apac" }, b3.partitions)
    assert.equal(1, #b3.runs)
    assert.equal("SUCCESS", b3.runs[1].status)
    assert.equal(id, b3.parent_id)
    assert.equal(id, b3.tags["dagster/root_backfill_id"])
    assert.equal("fixed", b3.tags.spec)
    os.remove(FIXED)

    local e = H.catch(client.reexecute_backfill, client, third, { strategy = "ALL_STEPS" })
    assert.equal("NothingToReexecuteError", e.name)
  end)

  it("cancels: the runs in flight are canceled and nothing more is launched", function()
    local id = client:backfill { assets = { "region_slow" }, all_partitions = true }
    -- its three runs (the daemon launches them together) each with its step started: Dagster
    -- 1.10 can lose a termination sent as a run starts (H.wait_step_started)
    local runs = H.wait_until("the backfill's three runs", function()
      local rs = client:get_backfill(id).runs
      return #rs == 3 and rs
    end, 120)
    for _, r in ipairs(runs) do H.wait_step_started(client, r.run_id, 120) end
    local t0 = H.now()
    H.cancel_backfill_for_good(client, id)  -- (a lost cancel was seen under make asan)
    local status, b = client:wait_for_backfill(id, { timeout = 120 })
    assert.equal("CANCELED", status)
    assert.is_true(H.now() - t0 < 55, "the runs were not stopped (they hold 60 s)")
    assert.is_true(#b.runs >= 1)
    for _, r in ipairs(b.runs) do assert.equal("CANCELED", r.status) end
    assert.equal(0, b.counts.succeeded)
    -- resume sets it going again; cancel it once more so that nothing is left running
    if not H.version_at_least("1.11") then
      assert.equal("UnsupportedError", H.catch(client.resume_backfill, client, id).name)
      return
    end
    assert.is_true(client:resume_backfill(id))
    assert.equal("REQUESTED", client:get_backfill(id).status)
    H.cancel_backfill_for_good(client, id, STOP)
    client:wait_for_backfill(id, { timeout = 120 })
  end)

  it("refuses a bad key or range before anything is launched", function()
    local before = ids_of(client:backfills { limit = 100 })
    local e = H.catch(client.backfill, client, { job = "daily_job", partitions = { "2026-11-02", "2026-12-25" } })
    assert.equal("PartitionKeysNotFoundError", e.name)
    assert.same({ "2026-12-25" }, e.partition_keys)
    e = H.catch(client.backfill, client, { job = "daily_job", partitions = { from = "2026-11-05", to = "2026-11-02" } })
    assert.equal("PartitionRangeError", e.name)
    e = H.catch(client.backfill, client, { assets = { "region_totals" }, partitions = { "mars" } })
    assert.equal("PartitionKeysNotFoundError", e.name)
    e = H.catch(client.backfill, client, { assets = { "asset_one" }, partitions = { "x" } })
    assert.equal("PartitionKeysNotFoundError", e.name)
    assert.matches("not partitioned", e.message)
    for id in pairs(ids_of(client:backfills { limit = 100 })) do
      assert.is_true(before[id], "backfill " .. id .. " was launched")
    end
  end)

  it("lists backfills newest first, by status and by page", function()
    -- three backfills and a canceled one at least: the cases above leave them, and a case
    -- run alone makes them
    local mine = {}
    for i = #client:backfills { limit = 3 } + 1, 3 do
      mine[#mine + 1] = client:backfill { job = "daily_job", partitions = { DAYS[i] } }
    end
    if #client:backfills { status = "CANCELED", limit = 1 } == 0 then
      local id = client:backfill { assets = { "region_slow" }, partitions = { "eu" } }
      H.cancel_backfill_for_good(client, id, STOP)
      mine[#mine + 1] = id
    end
    for _, id in ipairs(mine) do client:wait_for_backfill(id, { timeout = 180 }) end
    local all = client:backfills { limit = 100 }
    assert.is_true(#all >= 3)
    for i = 2, #all do assert.is_true(all[i - 1].created >= all[i].created) end
    local page, cursor = client:backfills { limit = 2 }
    assert.equal(2, #page)
    assert.equal(all[1].id, page[1].id)
    local next_page = client:backfills { limit = 2, cursor = cursor }
    assert.equal(all[3].id, next_page[1].id)
    local canceled = client:backfills { status = "CANCELED" }
    assert.is_true(#canceled >= 1, "no CANCELED backfill listed")
    for _, b in ipairs(canceled) do assert.equal("CANCELED", b.status) end
  end)

  it("names what does not exist, and reads argument errors like Lua's own", function()
    assert.equal("BackfillNotFoundError", H.catch(client.get_backfill, client, "nosuchbf").name)
    assert.equal("BackfillNotFoundError", H.catch(client.cancel_backfill, client, "nosuchbf").name)
    assert.equal("BackfillNotFoundError", H.catch(client.wait_for_backfill, client, "nosuchbf").name)
    local ok, e = pcall(client.backfill, client, { partitions = { "eu" } })
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'backfill' %(give either job or assets%)", e)
    ok, e = pcall(client.backfill, client, { job = "daily_job" })
    assert.matches("give either partitions or all_partitions = true", e)
    ok, e = pcall(client.backfill, client, { assets = { "region_totals" }, all_partitions = true, from_failure = true })
    assert.matches("from_failure: only for a job backfill", e)
    ok, e = pcall(client.reexecute_backfill, client, "x", { strategy = "SOME" })
    assert.matches("strategy: FROM_FAILURE or ALL_STEPS expected", e)
  end)

  it("times out with the backfill's id and last status", function()
    -- its run held in the queue (H.HOLD): the backfill stays REQUESTED
    local id = client:backfill { assets = { "region_slow" }, partitions = { "eu" }, tags = H.HOLD }
    local e = H.catch(client.wait_for_backfill, client, id, { timeout = 1 })
    assert.equal("TimeoutError", e.name)
    assert.equal(id, e.backfill_id)
    assert.equal("REQUESTED", e.last_status)
    H.cancel_backfill_for_good(client, id, STOP)
    client:wait_for_backfill(id, { timeout = 120 })
  end)
end)

describe("wait_for_backfill's requests", function()
  it("makes one request per poll round, and one for the whole backfill at the end", function()
    local direct = H.client({ timeout = 60 })
    local dir = H.trim(H.run("mktemp -d"))
    local proxyf = dir .. "/proxy.out"
    local url, pid = H.count_proxy(proxyf)
    local id = direct:backfill { job = "daily_job", partitions = { "2026-11-05", "2026-11-06" } }
    local c = dagster.client(url, { timeout = 60 })
    local rounds, sleep = 0, c._sleep
    c._sleep = function(self, s) rounds = rounds + 1; return sleep(self, s) end
    local status = c:wait_for_backfill(id, { timeout = 180 })
    os.execute("kill " .. pid)
    assert.equal("COMPLETED_SUCCESS", status)
    local ops = {}
    for _, r in ipairs(H.proxy_posts(proxyf)) do ops[r.op] = (ops[r.op] or 0) + 1 end
    os.execute("rm -rf " .. H.quote(dir))
    assert.equal(rounds + 1, ops.DagsterLuaBackfillState, "state queries per round")
    assert.equal(1, ops.DagsterLuaBackfill)
    local n = 0
    for _ in pairs(ops) do n = n + 1 end
    assert.equal(2, n, "other operations: " .. dagster.inspect(ops))
  end)
end)

describe("a backfill launch whose answer is lost", function()
  it("is found by its submission tag: one backfill, not two", function()
    local proxy = H.start_server("the drop proxy", H.root .. "/spec/support/drop_proxy.py",
      function(portfile) return H.quote(H.url()) .. " " .. portfile end)
    local ok, res = pcall(function()
      local c = dagster.client(("http://127.0.0.1:%d/first"):format(proxy.port),
        { retries = 3, retry_delay = 0.2, timeout = 60 })
      -- (its run held in the queue, H.HOLD: the backfill is what counts, not its work)
      local tags = { spec = "once" }
      for k, v in pairs(H.HOLD) do tags[k] = v end
      local id = c:backfill { job = "daily_job", partitions = { "2026-11-07" }, tags = tags }
      local launches = {}
      for line in (H.slurp(proxy.portfile .. ".log") or ""):gmatch("[^\n]+") do
        local r = dagster.json.decode(line)
        if r.launch then launches[#launches + 1] = r end
      end
      return { id = id, launches = launches }
    end)
    H.stop_server(proxy)
    assert(ok, tostring(res))
    assert.is_true(#res.launches >= 1 and res.launches[1].dropped and res.launches[1].forwarded,
      "the first launch was not dropped after forwarding")
    local sid = res.launches[1].submission_id
    assert.is_string(sid)
    local direct = H.client({ timeout = 60 })
    local with = {}
    for _, b in ipairs(direct:backfills { limit = 100 }) do
      if b.tags["dagster-lua/submission_id"] == sid then with[#with + 1] = b.id end
    end
    assert.same({ res.id }, with)
    H.cancel_backfill_for_good(direct, res.id, STOP)
    direct:wait_for_backfill(res.id, { timeout = 180 })
  end)
end)
