-- The backfill playbook as an operator runs it: processes of the host against the real
-- local Dagster and its daemon. region_totals' "apac" partition fails on purpose; each case
-- tags its backfills with a value no other case uses.
local dagster = require "dagster"
local H = require "helper"

local json = dagster.json

local function unique() return ("%d-%d"):format(os.time(), math.random(1, 1e9)) end

describe("the backfill playbook", function()
  local client, dir

  local function play(args, env) return H.play(dir, "backfill " .. args, env) end

  -- the backfills that carry tag spec=value
  local function tagged(value)
    local out = {}
    for _, b in ipairs(client:backfills { limit = 100 }) do
      if b.tags.spec == value then out[#out + 1] = b.id end
    end
    return out
  end

  setup(function()
    client = H.client({ timeout = 60 })
    dir = H.trim(H.run("mktemp -d"))
    os.remove(H.state_dir() .. "/home/region_fixed")
  end)
  teardown(function() os.execute("rm -rf " .. H.quote(dir)) end)

  it("lists the partitions of a range in a dry run, and launches nothing", function()
    local tag = unique()
    local out, err, code = play("--job daily_job --from 2026-11-03 --to 2026-11-05 --dry-run --tag spec=" .. tag)
    assert.equal(0, code, err)
    assert.matches("3 partitions of daily_job: 2026%-11%-03, 2026%-11%-04, 2026%-11%-05", out)
    assert.matches("would backfill job daily_job over 3 partitions", out)
    assert.same({}, tagged(tag))
  end)

  it("refuses a range outside the partitions with status 4, before launching", function()
    local tag = unique()
    local out, err, code = play("--job daily_job --from 2026-11-03 --to 2026-12-05 --tag spec=" .. tag)
    assert.equal(4, code, out .. err)
    assert.matches("PartitionRangeError", err)
    assert.matches("2026%-12%-05 is not a partition of job daily_job", err)
    assert.same({}, tagged(tag))
    out, err, code = play("--asset region_totals --partitions eu,mars --tag spec=" .. tag)
    assert.equal(4, code, out .. err)
    assert.matches("partition keys not found in asset region_totals: mars", err)
    -- what the flag says is what is looked up: a job that does not exist is not taken for an
    -- asset key, nor an asset key that names a job for the job
    out, err, code = play("--job no_such_job --partitions 2026-11-01 --tag spec=" .. tag)
    assert.equal(4, code, out .. err)
    assert.matches("JobNotFoundError: No jobs with the name `no_such_job` exist", err)
    out, err, code = play("--asset daily_job --partitions 2026-11-01 --tag spec=" .. tag)
    assert.equal(4, code, out .. err)
    assert.matches('AssetNotFoundError: Asset key %["daily_job"%] not found', err)
    assert.same({}, tagged(tag))
    out, err, code = play("--job daily_job --all --partitions x")
    assert.equal(4, code)
    assert.matches("give one of %-%-partitions, %-%-from/%-%-to or %-%-all", err)
  end)

  it("follows a backfill with one partition failing to the end: a line per change, the table, status 6", function()
    local tag = unique()
    local out, err, code = play("--asset region_totals --all --tag spec=" .. tag)
    assert.equal(6, code, out .. err)
    local ids = tagged(tag)
    assert.equal(1, #ids)
    assert.matches("REQUESTED: %d+ succeeded", out)
    assert.matches("COMPLETED_FAILED: 2 succeeded, 1 failed, 0 running, 0 pending of 3", out)
    assert.matches("PARTITION%s+RUN%s+STATUS", out)
    assert.matches("\neu%s+%x+%-[%x-]+%s+SUCCESS", out)
    assert.matches("\napac%s+%x+%-[%x-]+%s+FAILURE", out)
    assert.matches("backfill " .. ids[1] .. " COMPLETED_FAILED: 2 succeeded, 1 failed, 0 canceled of 3", out)
  end)

  it("exits 0 when every partition succeeds, with --json events", function()
    local tag = unique()
    local out, err, code = play("--job daily_job --partitions 2026-11-01,2026-11-02 --json --tag spec=" .. tag)
    assert.equal(0, code, out .. err)
    local rows, final = 0, nil
    for line in out:gmatch("[^\n]+") do
      local ev = json.decode(line)
      if ev.event == "row" then rows = rows + 1; assert.equal("SUCCESS", ev.status) end
      if ev.event == "backfill" then final = ev end
    end
    assert.equal(2, rows)
    assert.equal("COMPLETED_SUCCESS", final.status)
    assert.equal(2, final.counts.succeeded)
  end)

  it("killed right after the launch request and resumed, follows the one backfill it launched", function()
    local tag = unique()
    local args = "--job daily_job --partitions 2026-11-06 --tag spec=" .. tag
    local _, _, code = play(args, "DAGSTER_LUA_PLAYBOOK_KILL_AT=after-request")
    assert.equal(137, code)
    local out, err
    out, err, code = play(args)                 -- an unfinished journal is not overwritten
    assert.equal(4, code, out .. err)
    out, err, code = play(args .. " --resume")
    assert.equal(0, code, out .. err)
    assert.matches("found what was launched before the interruption", out)
    assert.equal(1, #tagged(tag))
  end)
end)
