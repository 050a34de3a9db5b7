-- The recover playbook as an operator runs it: processes of the host against the real local
-- Dagster. Each case has runs of its own (a tag value no other spec uses); flaky_job fails
-- on a first run and succeeds when re-executed, fail_job always fails.
local dagster = require "dagster"
local H = require "helper"

local json = dagster.json

local function unique() return ("%d-%d"):format(os.time(), math.random(1, 1e9)) end

describe("the recover playbook", function()
  local client, dir

  local function play(args, env) return H.play(dir, "recover " .. args, env) end

  -- launches the given {job, tags} one after the other (side by side, a busy machine's code
  -- server times out) and waits until they have all finished
  local function runs_of(list)
    local ids = {}
    for i, r in ipairs(list) do
      ids[i] = client:submit_job_execution(r[1], { tags = r[2] })
    end
    client:wait_for_runs(ids, { timeout = 900 })
    return ids
  end

  -- run id -> how many runs of the tag name it as their dagster/parent_run_id
  local function children(tag)
    local n = {}
    for _, r in ipairs(client:runs { tags = { spec = tag }, limit = 1000 }) do
      if r.parent_run_id then n[r.parent_run_id] = (n[r.parent_run_id] or 0) + 1 end
    end
    return n
  end

  local function count(tag) return #client:runs { tags = { spec = tag }, limit = 1000 } end

  local function sorted(t) table.sort(t); return t end

  local function json_events(out)
    local by = {}
    for line in out:gmatch("[^\n]+") do
      local ev = json.decode(line)
      by[ev.event] = ev
    end
    return by
  end

  setup(function()
    client = H.client({ timeout = 120 })
    math.randomseed(os.time() + math.floor(H.now() * 1000))
    dir = H.trim(H.run("mktemp -d"))
  end)
  teardown(function() os.execute("rm -rf " .. H.quote(dir)) end)

  describe("over a window of failed, succeeded, retried and re-executed runs", function()
    -- a window under a tag of its own: {tag =, flaky = {3 ids}, ok =, retried =, parent =, child =}
    local function new_window()
      local w = { tag = unique() }
      local t = { spec = w.tag }
      local ids = runs_of {
        { "flaky_job", t }, { "flaky_job", t }, { "flaky_job", t }, { "succeed_job", t },
        { "fail_job", { spec = w.tag, ["dagster/will_retry"] = "true" } }, { "fail_job", t },
      }
      w.flaky = { ids[1], ids[2], ids[3] }
      w.ok, w.retried, w.parent = ids[4], ids[5], ids[6]
      -- a failed run re-executed already, its re-execution failed too
      w.child = client:reexecute(w.parent, { strategy = "FROM_FAILURE" })
      assert.equal("FAILURE", client:wait_for_run(w.child, { timeout = 900 }))
      return w
    end
    -- Each case gets a window as it was made: the cases that only read it (dry runs, which
    -- launch nothing) share one; a case that re-executes takes it for itself (take = true),
    -- and a case after it gets a new one. So each case runs alone, and the file makes one.
    local kept
    local function window(take)
      local w = kept or new_window()
      kept = not take and w or nil
      return w
    end

    it("--dry-run lists exactly the runs it would re-execute, and launches nothing", function()
      local w = window()
      local tag, flaky, child = w.tag, w.flaky, w.child
      local before = count(tag)
      -- behind a proxy that counts the requests (bench/count_proxy.py: a JSON line per POST)
      local proxyf = dir .. "/proxy.out"
      local proxy, proxy_pid = H.count_proxy(proxyf)
      local out, err, code = play("--dry-run --url " .. proxy .. " --tag spec=" .. tag)
      os.execute("kill " .. proxy_pid)
      assert.equal(0, code, err)
      -- the window and the lineages from one listing page (7 runs), not a request per run,
      -- and the token's permissions once (a dry run says what it may not do)
      local ops = {}
      for i, p in ipairs(H.proxy_posts(proxyf)) do ops[i] = p.op end
      assert.same({ "DagsterLuaRuns", "DagsterLuaPermissions" }, ops)
      local would = {}
      for id in out:gmatch("would re%-execute run (%S+) %(FROM_FAILURE%)") do would[#would + 1] = id end
      -- not the succeeded run, not the one Dagster retries, not the parent of a re-execution:
      -- the newest failed run of each lineage
      assert.same(sorted { flaky[1], flaky[2], flaky[3], child }, sorted(would))
      assert.matches("6 failed runs since .*: 4 to re%-execute, 1 re%-executed already, 1 left to Dagster's retries", out)
      assert.equal(before, count(tag))
    end)

    it("--since leaves out the runs older than the window", function()
      local tag = window().tag
      -- every run of the window was last updated more than 1 s ago
      H.wait_until("the window's runs to be more than 1 s old", function()
        local newest = 0
        for _, r in ipairs(client:runs { tags = { spec = tag }, limit = 1000 }) do
          newest = math.max(newest, r.update_time or r.creation_time)
        end
        return os.time() - 1 > newest
      end, 30, 0.2)
      local out, err, code = play("--dry-run --since 1s --tag spec=" .. tag)
      assert.equal(0, code, err)
      assert.matches("nothing to re%-execute", out)
      assert.is_nil(out:find("would re-execute", 1, true))
    end)

    it("re-executes them with at most --concurrency launches in flight; run again, it launches nothing", function()
      local w = window(true)
      local tag, flaky, ok, retried, parent, child = w.tag, w.flaky, w.ok, w.retried, w.parent, w.child
      local out, err, code = play("--concurrency 2 --json --tag spec=" .. tag)
      assert.equal(0, code, err)
      local ev = json_events(out)
      assert.equal(4, ev.recover.candidates)
      assert.equal(4, ev.recover.recovered)
      assert.equal(2, ev.recover.max_in_flight)     -- transfers in flight, counted by dagster.concurrent
      local n = children(tag)
      for _, id in ipairs { flaky[1], flaky[2], flaky[3], child, parent } do
        assert.equal(1, n[id], "re-executions of " .. id)
      end
      assert.is_nil(n[ok]); assert.is_nil(n[retried])
      -- the table: failed run, job, new run, status
      for _, r in ipairs(ev.recover.runs) do
        assert.matches(r.run_id:gsub("%p", "%%%0") .. "%s+%S+%s+" .. r.new_run:gsub("%p", "%%%0")
          .. "%s+launched", err)
      end
      -- again, once the re-executions have ended: the flaky ones succeeded, nothing is
      -- launched for them; the fail_job lineage failed again, its newest run is next
      local news, again = {}, nil
      for _, r in ipairs(ev.recover.runs) do
        news[#news + 1] = r.new_run
        if r.run_id == child then again = r.new_run end
      end
      client:wait_for_runs(news, { timeout = 900 })
      local before = count(tag)
      local out2, err2, code2 = play("--job flaky_job --tag spec=" .. tag)
      assert.equal(0, code2, err2)
      assert.matches("3 failed runs since .*: 0 to re%-execute, 3 re%-executed already", out2)
      assert.matches("nothing to re%-execute", out2)
      out2, err2, code2 = play("--dry-run --tag spec=" .. tag)
      assert.equal(0, code2, err2)
      local would = {}
      for id in out2:gmatch("would re%-execute run (%S+)") do would[#would + 1] = id end
      assert.same({ again }, would)
      assert.equal(before, count(tag))
    end)
  end)

  it("stops launching once --max-errors re-executions have failed, with status 6", function()
    local tag = unique()
    local ids = runs_of { { "fail_job", { spec = tag } }, { "fail_job", { spec = tag } },
      { "fail_job", { spec = tag } } }
    local out, err, code = play("--wait --concurrency 1 --max-errors 1 --tag spec=" .. tag)
    assert.equal(6, code, err)
    local n, launched = children(tag), 0
    for _, id in ipairs(ids) do launched = launched + (n[id] or 0) end
    assert.equal(1, launched)
    local _, failures = out:gsub("\n%x+%-[%x-]+%s+fail_job%s+%x+%-[%x-]+%s+FAILURE", "")
    local _, skipped = out:gsub("\n%x+%-[%x-]+%s+fail_job%s+%-%s+not launched", "")
    assert.same({ 1, 2 }, { failures, skipped })
  end)

  it("killed with SIGKILL at its second launch and resumed, re-executes each run once", function()
    local tag = unique()
    local ids = runs_of { { "flaky_job", { spec = tag } }, { "flaky_job", { spec = tag } },
      { "flaky_job", { spec = tag } } }
    local journal = dir .. "/recover-kill.jsonl"
    local args = ("--concurrency 2 --journal %s --tag spec=%s"):format(journal, tag)
    local _, _, code = play(args, "DAGSTER_LUA_PLAYBOOK_KILL_AT=after-request:2")
    assert.equal(137, code)
    local intents, launched = 0, 0
    for line in H.slurp(journal):gmatch("[^\n]+") do
      local r = json.decode(line)
      if r.event == "intent" then intents = intents + 1 end
      if r.event == "launched" then launched = launched + 1 end
    end
    assert.is_true(intents >= 2 and launched < intents, ("%d intents, %d launched"):format(intents, launched))
    local out, err
    out, err, code = play(args .. " --resume --wait")
    assert.equal(0, code, err)
    local n = children(tag)
    for _, id in ipairs(ids) do assert.equal(1, n[id], "re-executions of " .. id) end
    local _, succeeded = out:gsub("flaky_job%s+%x+%-[%x-]+%s+SUCCESS", "")
    assert.equal(3, succeeded)
    -- once more with --resume: the last run finished, so this is a new one, which finds
    -- every lineage recovered and launches nothing
    out, err, code = play(args .. " --resume")
    assert.equal(0, code, err)
    assert.matches("nothing to re%-execute", out)
    n = children(tag)
    for _, id in ipairs(ids) do assert.equal(1, n[id], "re-executions of " .. id) end
  end)
end)
