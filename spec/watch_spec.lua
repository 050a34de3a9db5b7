-- The watch playbook: piped, one plain line per status change; on a terminal (tmux, on a
-- socket of its own: spec/support/tmux.lua), a view redrawn in place that Ctrl-C leaves
-- without touching any run. Against the real local Dagster, with runs of its own tag.
local H = require "helper"

local server = require("tmux").server("watch")

local function unique() return ("%d-%d"):format(os.time(), math.random(1, 1e9)) end
local FINAL = { SUCCESS = true, FAILURE = true, CANCELED = true }

describe("the watch playbook", function()
  local client, dir
  setup(function()
    client = H.client({ timeout = 120 })
    math.randomseed(os.time() + math.floor(H.now() * 1000))
    dir = H.trim(H.run("mktemp -d"))
  end)
  teardown(function()
    os.execute("rm -rf " .. H.quote(dir))
    server:kill()
  end)

  local function cmd(args) return H.play_cmd(dir, "watch " .. args) end

  it("piped, prints one line per status change of each run, and ends with --until-idle", function()
    local tag = unique()
    -- behind a proxy that counts the requests (bench/count_proxy.py: a JSON line per POST)
    local proxyf = dir .. "/proxy.out"
    local proxy, proxy_pid = H.count_proxy(proxyf)
    -- a run in flight before the watch starts, another started while it watches; both end
    -- (the first canceled), then nothing is in flight and the watch ends
    local slow = client:submit_job_execution("slow_job", { tags = { spec = tag } })
    local outf, rcf = dir .. "/piped.out", dir .. "/piped.rc"
    os.execute(("({ timeout 900 %s; echo $? >%s.tmp; } | cat >%s; mv %s.tmp %s) </dev/null 2>/dev/null &"):format(
      cmd("--until-idle --url " .. proxy .. " --tag spec=" .. tag), H.quote(rcf), H.quote(outf), H.quote(rcf), H.quote(rcf)))
    -- the second run once the watch has seen the first: a run that starts and ends before the
    -- watch's first refresh is never in flight for it (a CI run's fail_job ended before that)
    H.wait_until("the watch's line for the first run", function()
      return (H.slurp(outf) or ""):find(slow, 1, true) or H.slurp(rcf)
    end, 120, 0.1)
    local fail = client:submit_job_execution("fail_job", { tags = { spec = tag } })
    H.wait_run(client, fail, 600)
    H.wait_step_started(client, slow)     -- (Dagster 1.10 can lose a termination sent earlier)
    client:terminate_run(slow)
    local code = tonumber(H.wait_until("the watch to end", function() return H.slurp(rcf) end, 600, 0.5))
    local out = H.slurp(outf)
    os.execute("kill " .. proxy_pid)
    assert.equal(0, code, out)
    -- one request per refresh, the same query, at most one a second
    local posts = H.proxy_posts(proxyf)
    assert.is_true(#posts >= 2, #posts .. " requests")
    for i, p in ipairs(posts) do
      assert.equal("DagsterLuaRunsInFlight", p.op)
      if i > 1 then assert.is_true(p.t - posts[i - 1].t >= 0.9, "requests " .. (p.t - posts[i - 1].t) .. " s apart") end
    end
    local lines = {}
    for line in out:gmatch("[^\n]+") do
      assert.is_nil(line:find("\27", 1, true), "an escape in a plain line: " .. line)
      local t, id, job, status = line:match("^(%d%d:%d%d:%d%d)  (%S+)%s+(%S+)%s+(%u+)%s")
      assert(t, "not a status line: " .. line)
      lines[id] = lines[id] or {}
      table.insert(lines[id], { job = job, status = status })
    end
    for id, job in pairs { [slow] = "slow_job", [fail] = "fail_job" } do
      local seen = assert(lines[id], "no line for " .. id .. " in:\n" .. out)
      assert.is_true(#seen >= 2, out)
      for i, l in ipairs(seen) do
        assert.equal(job, l.job)
        if i > 1 then assert.are_not.equal(seen[i - 1].status, l.status, out) end  -- changes only
        assert.equal(i == #seen, FINAL[l.status] == true, out)  -- final exactly at the end
      end
      assert.equal(client:get_run_status(id), seen[#seen].status)
    end
    -- the last status of each: what the server says
    assert.equal("CANCELED", lines[slow][#lines[slow]].status)
    assert.equal("FAILURE", lines[fail][#lines[fail]].status)
  end)

  it("on a terminal redraws in place, and Ctrl-C leaves with status 130, the run untouched", function()
    local tag = unique()
    local run = client:submit_job_execution("slow_job", { tags = { spec = tag } })
    local t = server:session(cmd("--tag spec=" .. tag) .. "; echo EXIT=$?; sleep 600", 140, 30)
    local ok, e = pcall(function()
      local first = H.wait_until("the run on the view", function()
        local s = t:view()
        return s:find(run, 1, true) and s:find("STARTED", 1, true) and s
      end, 300, 0.2)
      local clock = first:match("dagster%-lua watch  %S+  (%d%d:%d%d:%d%d)  1 in flight")
      assert(clock, first)
      -- redrawn in place: later the clock moved, and the view is still there once
      local later = H.wait_until("a redraw", function()
        local s = t:view()
        local c = s:match("dagster%-lua watch  %S+  (%d%d:%d%d:%d%d)")
        return c and c ~= clock and s
      end, 30, 0.2)
      local _, headers = later:gsub("dagster%-lua watch", "")
      local _, rows = later:gsub(run:gsub("%p", "%%%0"), "")
      assert.same({ 1, 1 }, { headers, rows }, later)
      assert.matches("slow_job%s+STARTED%s+%d+:%d%d%s+0 done, 0 failed", later)
      t:keys("C-c")
      local s = H.wait_until("the exit status", function()
        local s = t:view()
        return s:find("EXIT=%d+") and s
      end, 60, 0.2)
      assert.matches("EXIT=130", s)
      assert.equal("STARTED", client:get_run_status(run))
    end)
    t:close()
    pcall(client.terminate_run, client, run, { force = true })
    assert(ok, e)
  end)
end)
