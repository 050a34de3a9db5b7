-- play prune over more than a hundred real runs (120: each launch costs the webserver ~0.1 s): pool_job runs held QUEUED by their pool (limit 0:
-- no process is started for them) and then force-terminated, so they are finished runs of the
-- real deployment made in seconds; one more is left in flight.
local dagster = require "dagster"
local H = require "helper"

local json = dagster.json

local N, KEEP = 120, 5

-- the run ids of the rows a --json prune printed
local function listed(out)
  local ids = {}
  for line in out:gmatch("[^\n]+") do
    local ok, ev = pcall(json.decode, line)
    if ok and type(ev) == "table" and ev.event == "row" and ev.run then ids[#ids + 1] = ev.run end
  end
  table.sort(ids)
  return ids
end

describe("play prune", function()
  local client, dir, tag, ids, flying

  setup(function()
    client = H.client { timeout = 60 }
    dir = os.tmpname(); os.remove(dir)
    tag = "prune-" .. dagster.submission_id()
    assert.is_true(client:set_concurrency_limit("doctor_pool", 0))
    ids = {}
    local tasks, t0 = {}, H.now()
    for i = 1, N do
      tasks[i] = dagster.spawn(function()
        return client:submit_job_execution("pool_job", { tags = { spec = tag } })
      end)
    end
    ids = dagster.gather(tasks)
    io.stderr:write(("prune_spec: %d launches took %.1f s\n"):format(N, H.now() - t0))
    flying = client:submit_job_execution("pool_job", { tags = { spec = tag } })
    client:terminate_runs(ids, { force = true })
    H.wait_until("the runs to be CANCELED", function()
      return #client:runs { tags = { spec = tag }, statuses = { "CANCELED" }, limit = N + 1 } == N
    end, 60, 0.5)
    H.sleep(1.1)   -- every run created more than a second ago: --older-than 1s takes them all
  end)

  teardown(function()
    pcall(client.terminate_run, client, flying, { force = true })
    pcall(client.delete_concurrency_limit, client, "doctor_pool")
    os.execute("rm -rf " .. H.quote(dir))
  end)

  it("deletes exactly what its dry run listed, through a SIGKILL and --resume, keeping the newest and the run in flight", function()
    local args = ("prune --older-than 1s --keep %d --job pool_job --tag spec=%s"):format(KEEP, tag)
    local out, err, code = H.play(dir, args .. " --dry-run --json --sample 1000")
    assert.equal(0, code, err)
    local want = listed(out)
    assert.equal(N - KEEP, #want, err)
    assert.matches(("%d run%%(s%%) to delete"):format(N - KEEP), err)
    -- the newest KEEP are kept: the runs listed are the oldest
    local newest = client:runs { tags = { spec = tag }, statuses = { "CANCELED" }, limit = KEEP }
    local set = {}
    for _, id in ipairs(want) do set[id] = true end
    for _, r in ipairs(newest) do assert.is_nil(set[r.run_id], "a newest run is listed") end
    assert.is_nil(set[flying])
    assert.equal(N + 1, #client:runs { tags = { spec = tag }, limit = 1000 })   -- nothing deleted

    -- the real prune, killed after its list and some deletions, then resumed
    local cmd = H.play_cmd(dir, args .. " --max-rps 40")
    local pid = H.trim(H.run(cmd .. " >/dev/null 2>&1 & echo $!"))
    H.wait_until("some runs deleted", function()
      return #client:runs { tags = { spec = tag }, limit = 1000 } < N - 10
    end, 60, 0.1)
    os.execute("kill -KILL " .. pid)
    local left = #client:runs { tags = { spec = tag }, limit = 1000 }
    assert.is_true(left > KEEP + 1, "the prune ended before it was killed")
    out, err, code = H.play(dir, args .. " --resume --max-rps 40")
    assert.equal(0, code, err)
    assert.matches(("%d run%%(s%%) deleted"):format(N - KEEP), err .. out)

    -- what is left: the newest KEEP and the run in flight, and none of the listed
    local rest = {}
    for _, r in ipairs(client:runs { tags = { spec = tag }, limit = 1000 }) do rest[r.run_id] = r.status end
    for _, id in ipairs(want) do assert.is_nil(rest[id], id .. " was listed and is still there") end
    for _, r in ipairs(newest) do assert.equal("CANCELED", rest[r.run_id]) end
    assert.equal("QUEUED", rest[flying])
    local n = 0
    for _ in pairs(rest) do n = n + 1 end
    assert.equal(KEEP + 1, n)
  end)

  it("needs --older-than, and takes only final statuses (status 4 otherwise)", function()
    local _, err, code = H.play(dir, "prune")
    assert.equal(4, code)
    assert.matches("%-%-older%-than is required", err)
    _, err, code = H.play(dir, "prune --older-than 1d --status STARTED")
    assert.equal(4, code)
    assert.matches("%-%-status STARTED: SUCCESS, FAILURE or CANCELED expected", err)
  end)
end)
