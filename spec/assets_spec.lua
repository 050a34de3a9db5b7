-- Assets as operators handle them, against the real deployment: the dynamic partitions of
-- `tenants` (tenant_asset), runless reports and wipes of ops_asset (static partitions a, b,
-- c) and ops_plain, and the partition playbook.
local dagster = require "dagster"
local H = require "helper"

local json = dagster.json

-- ops_asset's partitions by status, from the server (assetPartitionStatuses)
local function statuses(client, key)
  local d = client:graphql([[
    query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode {
      assetPartitionStatuses { ... on DefaultPartitionStatuses { materializedPartitions } } } } }]],
    { k = { path = { key } } })
  local out = {}
  for _, p in ipairs(d.assetNodeOrError.assetPartitionStatuses.materializedPartitions) do out[p] = true end
  return out
end

local function catch(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "no error")
  return e
end

describe("dynamic partitions", function()
  local client = H.client()
  local k1, k2 = "t-" .. dagster.submission_id():sub(1, 8), "t-" .. dagster.submission_id():sub(1, 8)

  it("adds keys (a key already there is no error), lists them, and deletes them", function()
    local added, existing = client:add_partition("tenants", { k1, k2 })
    assert.same({ k1, k2 }, added)
    assert.same({}, existing)
    added, existing = client:add_partition("tenants", k1)
    assert.same({}, added)
    assert.same({ k1 }, existing)
    local keys = client:dynamic_partitions("tenants")
    local set = {}
    for _, k in ipairs(keys) do set[k] = true end
    assert.is_true(set[k1] and set[k2])
    -- client:partitions of an asset over the definition sees them too
    set = {}
    for _, k in ipairs(client:partitions("tenant_asset")) do set[k] = true end
    assert.is_true(set[k1] and set[k2])
    -- a key that is not there is named, and nothing is deleted
    local e = catch(client.delete_partitions, client, "tenants", { k1, "no-such-tenant" })
    assert.equal("PartitionKeysNotFoundError", e.name)
    assert.same({ "no-such-tenant" }, e.partition_keys)
    assert.matches("no%-such%-tenant", e.message)
    set = {}
    for _, k in ipairs(client:dynamic_partitions("tenants")) do set[k] = true end
    assert.is_true(set[k1])
    assert.is_true(client:delete_partitions("tenants", { k1, k2 }))
    set = {}
    for _, k in ipairs(client:dynamic_partitions("tenants")) do set[k] = true end
    assert.is_nil(set[k1])
    assert.is_nil(set[k2])
  end)

  it("names a definition no asset uses, and checks its arguments", function()
    assert.equal("DynamicPartitionsDefinitionNotFound",
      catch(client.dynamic_partitions, client, "no_such_def").name)
    assert.matches("bad argument #2 to 'add_partition' %(keys: at least one partition key expected%)",
      catch(client.add_partition, client, "tenants", {}))
    assert.matches("bad argument #1 to 'delete_partitions' %(string expected, got number%)",
      catch(client.delete_partitions, client, 1, { "x" }))
  end)
end)

describe("runless reports and wipes", function()
  local client = H.client { timeout = 60 }

  it("a runless materialization is the asset's latest, a partition's marks it materialized", function()
    local t0 = os.time()
    assert.is_true(client:report_materialization("ops_plain", { description = "loaded outside Dagster" }))
    local a = client:assets { prefix = "ops_plain" }
    assert.equal(1, #a)
    assert.is_true(a[1].latest_materialization >= t0 - 1, tostring(a[1].latest_materialization))
    -- its run id is "" at the server: asset_health reads it as no run
    local h = client:asset_health("ops_plain")[1]
    assert.is_nil(h.latest_materialization.run_id)
    assert.is_true(h.latest_materialization.time >= t0 - 1)
    assert.is_false(h.failed)
    assert.is_true(client:report_materialization("ops_asset", { partitions = { "a", "b", "c" } }))
    assert.same({ a = true, b = true, c = true }, statuses(client, "ops_asset"))
    assert.is_true(client:report_observation("ops_plain", { description = "seen" }))
    local d = client:graphql([[{ assetOrError(assetKey: {path: ["ops_plain"]}) { ... on Asset {
      assetObservations(limit: 1) { description } } } }]])
    assert.equal("seen", d.assetOrError.assetObservations[1].description)
  end)

  it("wipes a whole asset and a run rebuilds it; a partition range is refused by OSS storage", function()
    assert.is_true(client:report_materialization("ops_asset", { partitions = { "a", "b", "c" } }))
    -- Dagster's SQL event log storage cannot wipe partitions (Dagster+'s can): the server's
    -- own error, nothing wiped
    local e = catch(client.wipe, client, { "ops_asset" }, { partitions = { from = "a", to = "b" } })
    assert.equal("UnsupportedOperationError", e.name)
    assert.matches("Partitioned asset wipe is not supported", e.message)
    assert.same({ a = true, b = true, c = true }, statuses(client, "ops_asset"))
    assert.is_true(client:wipe { "ops_asset" })
    assert.same({}, statuses(client, "ops_asset"))
    local run = client:materialize("ops_asset", { partition = "a" })
    assert.equal("SUCCESS", H.wait_run(client, run, 60))
    assert.same({ a = true }, statuses(client, "ops_asset"))
  end)

  it("wipe has no default: no keys is an argument error", function()
    assert.matches("bad argument #1 to 'wipe' %(at least one asset key expected",
      catch(client.wipe, client, {}))
    assert.matches("bad argument #1 to 'wipe' %(table expected, got no value%)", catch(client.wipe, client))
  end)
end)

describe("play partition #binary", function()
  local client = H.client { timeout = 60 }
  local dir = os.tmpname(); os.remove(dir)
  local k3, k4 = "p-" .. dagster.submission_id():sub(1, 8), "p-" .. dagster.submission_id():sub(1, 8)
  teardown(function()
    pcall(client.delete_partitions, client, "tenants", { k3 })
    pcall(client.delete_partitions, client, "tenants", { k4 })
    os.execute("rm -rf " .. H.quote(dir))
  end)

  it("adds keys and backfills them, then deletes them (a key not there: status 4, nothing deleted)", function()
    local out, err, code = H.play(dir, ("partition add %s %s --def tenants --backfill tenant_asset --wait --timeout 2m"):format(k3, k4))
    assert.equal(0, code, err .. out)
    assert.matches("added 2 partition%(s%) to tenants", out)
    assert.matches("succeeded", out)
    local set = {}
    for _, k in ipairs(client:dynamic_partitions("tenants")) do set[k] = true end
    assert.is_true(set[k3] and set[k4])
    -- again: nothing new, nothing launched
    out, err, code = H.play(dir, ("partition add %s --def tenants --backfill tenant_asset --fresh"):format(k3))
    assert.equal(0, code, err)
    assert.truthy(out:find("already there: " .. k3, 1, true), out)
    assert.matches("nothing to backfill", out)
    -- delete: a key not there is named, nothing deleted
    _, err, code = H.play(dir, ("partition delete %s no-such-key --def tenants"):format(k3))
    assert.equal(4, code)
    assert.matches("tenants has no partition no%-such%-key %(nothing deleted%)", err)
    out, err, code = H.play(dir, ("partition delete %s %s --def tenants --dry-run"):format(k3, k4))
    assert.equal(0, code, err)
    assert.matches("would delete 2 partition", out)
    out, err, code = H.play(dir, ("partition delete %s %s --def tenants"):format(k3, k4))
    assert.equal(0, code, err)
    set = {}
    for _, k in ipairs(client:dynamic_partitions("tenants")) do set[k] = true end
    assert.is_nil(set[k3])
    assert.is_nil(set[k4])
  end)

  it("a definition no asset uses is status 4", function()
    local _, err, code = H.play(dir, "partition add x --def no_such_def")
    assert.equal(4, code)
    assert.matches("no asset uses a dynamic partitions definition named no_such_def", err)
  end)
end)
