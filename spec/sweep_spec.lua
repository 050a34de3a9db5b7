-- dagster-lua play sweep, as an operator runs it: a process of the host against the real local
-- Dagster. The stuck run is real: main's stubborn_job ignores SIGINT (the signal its run worker
-- is told to stop with), so once terminated it stays CANCELING; its op writes the worker's pid
-- to $DAGSTER_HOME/stubborn-<run id>.pid, which lets the spec check the worker is still alive
-- (the run was marked CANCELED, not finished) and kill it afterwards.
local H = require "helper"

local function esc(s) return (s:gsub("%p", "%%%0")) end

local HOME = assert(os.getenv("DAGSTER_HOME"), "DAGSTER_HOME is not set")
local workers = {}                             -- the stubborn workers started, to kill at the end
-- --older-than of the cases below: a run stuck for longer is swept
local OLDER = 1

-- a run of stubborn_job, terminated and stuck in CANCELING; returns its id and worker pid
local function stuck_run(client)
  local id = client:submit_job_execution("stubborn_job")
  local pid = H.wait_until("stubborn_op to start", function()
    return tonumber(H.trim(H.slurp(HOME .. "/stubborn-" .. id .. ".pid") or ""))
  end, 180, 0.5)
  workers[#workers + 1] = pid
  client:terminate_run(id)
  H.wait_until("the run to be CANCELING", function()
    return client:get_run_status(id) == "CANCELING"
  end, 60, 0.2)
  return id, pid
end

-- waits until run `id` has been in its status for longer than `s` seconds, as sweep measures
-- it (from the run's update time, else its start or creation time)
local function stuck_for(client, id, s)
  H.wait_until(("run %s to be stuck for more than %d s"):format(id, s), function()
    local r = client:runs({ run_ids = { id } })[1]
    local since = r and (r.update_time or r.start_time or r.creation_time)
    return since and os.time() - since > s
  end, 60, 0.2)
end

-- the GraphQL operations a playbook sent through a count proxy (bench/count_proxy.py)
local function operations(logfile)
  local ops = {}
  for i, p in ipairs(H.proxy_posts(logfile)) do ops[i] = p.op end
  return ops
end

describe("play sweep", function()
  local client, dir, run_id, pid
  setup(function()
    client = H.client()
    dir = H.trim(H.run("mktemp -d"))
    assert(dir ~= "")
    run_id, pid = stuck_run(client)
    stuck_for(client, run_id, OLDER)          -- longer than --older-than below
    assert.equal("CANCELING", client:get_run_status(run_id))  -- stuck indeed
  end)
  teardown(function()
    for _, p in ipairs(workers) do os.execute("kill -KILL " .. p .. " 2>/dev/null") end
    os.execute("rm -rf " .. H.quote(dir))
  end)

  local function cmd(args) return H.play_cmd(dir, args) end
  local function play(args) return H.play(dir, args) end

  it("leaves a run alone that has been stuck for less than --older-than", function()
    local out, err, code = play("sweep --older-than 1h --grace 1s")
    assert.equal(0, code, out .. err)
    assert.falsy(out:find(run_id, 1, true), out)
    assert.equal("CANCELING", client:get_run_status(run_id))
  end)

  it("--dry-run lists the stuck run and terminates nothing", function()
    -- behind a proxy that logs each request's operation: no terminate reaches the server
    local proxyf = dir .. "/dry-run-proxy.out"
    local proxy, proxy_pid = H.count_proxy(proxyf)
    local out, err, code = play(("sweep --older-than %ds --dry-run --url %s"):format(OLDER, proxy))
    os.execute("kill " .. proxy_pid)
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("would terminate run " .. run_id, 1, true), out)
    assert.matches(esc(run_id) .. "%s+stubborn_job%s+CANCELING%s+[%dm.]+s", out)
    local ops = operations(proxyf)
    assert.is_true(#ops >= 1, "the proxy saw no request")
    for _, op in ipairs(ops) do
      assert.is_nil(op:find("Terminate", 1, true), "sent " .. table.concat(ops, ", "))
    end
    assert.equal("CANCELING", client:get_run_status(run_id))
  end)

  it("rejects a bad duration with status 4", function()
    local _, err, code = play("sweep --older-than 15x")
    assert.equal(4, code)
    assert.matches("%-%-older%-than: \"15x\" is not a duration", err)
  end)

  it("terminates the stuck run, forces it, and it stays CANCELED", function()
    local out, err, code = play(("sweep --older-than %ds --grace 3s"):format(OLDER))
    assert.equal(0, code, out .. err)
    -- Dagster refuses a plain terminate of a CANCELING run; the force marks it CANCELED
    assert.matches(esc(run_id) .. "%s+stubborn_job%s+CANCELING%s+[%dm.]+s%s+refused %(CANCELING%)%s+" ..
      "forced%s+CANCELED\n", out)
    assert.matches("check they stayed canceled%s+ok", out)
    assert.equal("CANCELED", client:get_run_status(run_id))
    -- its worker still runs (it ignores SIGINT): the run was marked CANCELED, and stays so
    -- (the playbook's last step checked it again after the second --grace)
    assert.is_true(os.execute("kill -0 " .. pid) == true, "the stubborn worker is gone")
    -- and a second sweep finds nothing of it
    out, err, code = play(("sweep --older-than %ds --grace 1s"):format(OLDER))
    assert.equal(0, code, out .. err)
    assert.falsy(out:find(run_id, 1, true), out)
    assert.equal("CANCELED", client:get_run_status(run_id))
    assert.is_true(os.execute("kill -0 " .. pid) == true, "the stubborn worker is gone")
  end)

  it("reports a run that flipped from CANCELED back to another status, and exits 6", function()
    local id = stuck_run(client)
    stuck_for(client, id, OLDER)
    local out_f, err_f, rc_f = dir .. "/bg.out", dir .. "/bg.err", dir .. "/bg.rc"
    -- --grace is both the wait before the force and the wait after it in which the flip must
    -- be seen: the run flips about a second after its release (a poll of 0.5 s in the op)
    os.execute(("(%s >%s 2>%s; echo $? >%s) </dev/null >/dev/null 2>&1 &"):format(
      cmd(("sweep --older-than %ds --grace 8s"):format(OLDER)), H.quote(out_f), H.quote(err_f),
      H.quote(rc_f)))
    -- once it is forced CANCELED, let its worker finish: the run then ends SUCCESS
    H.wait_until("the force-terminate step to be done", function()
      return (H.slurp(out_f) or ""):find("> check they stayed canceled", 1, true)
    end, 120, 0.2)
    assert.equal("CANCELED", client:get_run_status(id))
    local f = assert(io.open(HOME .. "/stubborn-" .. id .. ".release", "w")); f:close()
    H.wait_until("the run to flip to SUCCESS", function()
      return client:get_run_status(id) == "SUCCESS"
    end, 25, 0.2)
    local rc = H.wait_until("the playbook to end", function() return tonumber(H.slurp(rc_f)) end, 120, 0.5)
    local out = H.slurp(out_f)
    assert.equal(6, rc, out .. (H.slurp(err_f) or ""))
    assert.matches(esc(id) .. "%s+stubborn_job%s+CANCELING%s+[%dm.]+s%s+refused %(CANCELING%)%s+" ..
      "forced%s+FLIPPED to SUCCESS\n", out)
    assert.matches("stuck run%(s%) did not stay CANCELED", out)
  end)
end)
