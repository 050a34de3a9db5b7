-- Playbooks nobody watches (issue 23), run as a scheduler runs them: processes of the host
-- against the real local Dagster, their journals under a temporary XDG_STATE_HOME. One process
-- per journal (75 for the other, --wait-lock), --resume from a scheduler, play history and
-- play show, notifications to a loopback receiver, metrics read with prometheus_client's
-- parser, and the shipped examples (doc/examples/) run as they are written.
--
-- The job etl (spec/fixtures/defs_main.py) fails on a first run and succeeds re-executed. The
-- examples run `recover --job etl`, which takes every failed etl run of the deployment: this
-- file is the only one that makes etl runs, and each case that makes some recovers them all
-- (and starts by recovering what an earlier, failed, case may have left). The lock, history,
-- notification and metrics cases use spec/fixtures/probe_playbook.lua, which launches nothing.
local dagster = require "dagster"
local sys = require "dagster.sys"
local H = require "helper"

local json = dagster.json

local PROBE = H.root .. "/spec/fixtures/probe_playbook.lua"
local RECEIVER = H.root .. "/spec/support/webhook_receiver.py"
local EXAMPLES = H.root .. "/doc/examples/"
local BIN_AS_WRITTEN = "/usr/bin/dagster-lua"

-- what to undo when the case ends, newest first (the after_each below; busted's finally
-- keeps one function only)
local cleanups = {}
local function later(fn) cleanups[#cleanups + 1] = fn end

-- a temporary directory, removed when the case ends
local function tmpdir()
  local d = H.trim(H.run("mktemp -d"))
  assert(d ~= "", "mktemp -d failed")
  later(function() os.execute("rm -rf " .. H.quote(d)) end)
  return d
end

local function unique() return ("%d-%d"):format(os.time(), math.random(1, 1e9)) end

-- s with every occurrence of the plain string `from` replaced by `to`
local function replace(s, from, to)
  return (s:gsub(from:gsub("%p", "%%%0"), (to:gsub("%%", "%%%%"))))
end

local function records(path)
  local out = {}
  for line in (H.slurp(path) or ""):gmatch("[^\n]+") do out[#out + 1] = json.decode(line) end
  return out
end

-- the head records of a journal's records (the first record of each run)
local function heads(recs)
  local out = {}
  for _, r in ipairs(recs) do
    if r.kind == "dagster-lua playbook journal" then out[#out + 1] = r end
  end
  return out
end

local function events(recs, name)
  local out = {}
  for _, r in ipairs(recs) do if r.event == name then out[#out + 1] = r end end
  return out
end

-- Starts the shell command `cmd` in the background with the variables of env (name ->
-- value), from a shell that records its pid and, once it ends, how long it took and its exit
-- status. Returns {pid, code() (nil while it runs), wait(), took() (seconds), output(), kill()}.
local function spawn(cmd, env, base)
  local words = {}
  for k, v in pairs(env) do words[#words + 1] = k .. "=" .. H.quote(v) end
  H.run(("env %s sh -c %s >%s 2>&1 &"):format(table.concat(words, " "),
    H.quote(("t=$(date +%%s%%N); %s & echo $! >%s; wait $!; c=$?; echo $(( ($(date +%%s%%N) - t) / 1000000 )) >%s; echo $c >%s")
      :format(cmd, H.quote(base .. ".pid"), H.quote(base .. ".ms"), H.quote(base .. ".code"))),
    H.quote(base .. ".out")))
  local p = {}
  p.pid = H.wait_until(base .. " to start", function()
    return tonumber(H.slurp(base .. ".pid") or "")
  end, 20, 0.01)
  function p.code() return tonumber(H.slurp(base .. ".code") or "") end
  function p.wait(timeout) return H.wait_until(base .. " to end", p.code, timeout or 300, 0.05) end
  function p.output() return H.slurp(base .. ".out") or "" end
  function p.took() return tonumber(H.slurp(base .. ".ms") or "") / 1000 end
  function p.kill() os.execute("kill -9 " .. p.pid .. " 2>/dev/null") end
  later(function() if not p.code() then p.kill() end end)   -- none left behind a failure
  return p
end

-- `dagster-lua play ARGS` as a shell command, and the environment it runs in (the journals
-- under dir)
local function play_cmd(args) return H.quote(H.bin) .. " play " .. args end
local function play_env(dir, more)
  local env = { XDG_STATE_HOME = dir, DAGSTER_URL = H.url() }
  for k, v in pairs(more or {}) do env[k] = v end
  return env
end

-- runs `dagster-lua play ARGS` to its end; returns stdout, stderr, status and how long it took
local function play(dir, args, env)
  local words = {}
  for k, v in pairs(env or {}) do words[#words + 1] = k .. "=" .. H.quote(v) end
  local t0 = H.now()
  local out, err, code = H.play(dir, args, table.concat(words, " "))
  return out, err, code, H.now() - t0
end

-- the metric families of a Prometheus text file, as prometheus_client's parser reads them
local PARSE = [[
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
with open(sys.argv[1]) as f:
    for fam in text_string_to_metric_families(f.read()):
        out.append({"name": fam.name, "type": fam.type, "help": fam.documentation,
                    "samples": [{"name": s.name, "labels": s.labels, "value": s.value}
                                for s in fam.samples]})
print(json.dumps(out))
]]
local function metrics(path)
  local out, err, code = H.run(("%s -c %s %s"):format(H.quote(H.python()), H.quote(PARSE), H.quote(path)))
  assert(code == 0, "prometheus_client could not parse " .. path .. ": " .. err)
  local by = {}
  for _, fam in ipairs(json.decode(out)) do by[fam.name] = fam end
  return by
end

describe("unattended playbooks", function()
  local client, host, srv

  setup(function()
    client = H.client({ timeout = 120 })
    host = sys.hostname()
    math.randomseed(os.time() + math.floor(H.now() * 1000))
    srv = H.start_server("the webhook receiver", RECEIVER, function(p) return p end)
  end)
  teardown(function() H.stop_server(srv) end)
  after_each(function()
    for i = #cleanups, 1, -1 do pcall(cleanups[i]) end
    cleanups = {}
  end)

  -- what the receiver got on paths starting with prefix: {path, content_type, doc} each
  local function received(prefix)
    local out = {}
    for line in (H.slurp(srv.portfile .. ".log") or ""):gmatch("[^\n]+") do
      local r = json.decode(line)
      if r.path:sub(1, #prefix) == prefix then
        out[#out + 1] = { path = r.path, content_type = r.content_type, body = r.body,
                          doc = json.decode(r.body) }
      end
    end
    return out
  end
  local function hook(path) return ("http://127.0.0.1:%d%s"):format(srv.port, path) end

  -- n etl runs launched with the tag (their ids); wait_failed waits until they have ended,
  -- each FAILURE (a first run of etl fails)
  local function failed_etl(n, tag)
    local ids = {}
    for i = 1, n do ids[i] = client:submit_job_execution("etl", { tags = { spec = tag } }) end
    return ids
  end
  local function wait_failed(ids)
    for id, status in pairs(client:wait_for_runs(ids, { timeout = 600 })) do
      assert.equal("FAILURE", status, "etl run " .. id)
    end
  end

  -- run id -> how many runs of the tag name it as their parent, and the re-executions' ids
  local function children(tag)
    local n, kids = {}, {}
    for _, r in ipairs(client:runs { tags = { spec = tag }, limit = 1000 }) do
      if r.parent_run_id then
        n[r.parent_run_id] = (n[r.parent_run_id] or 0) + 1
        kids[#kids + 1] = r.run_id
      end
    end
    return n, kids
  end

  -- recovers the failed etl runs an earlier case may have left, so that a case's own counts
  -- are its own
  local function settle_etl()
    local d = tmpdir()
    local _, err, code = play(d, "recover --job etl --since 1h --wait")
    assert(code == 0, "recovering the etl runs left before this case: " .. err)
  end

  -- the journal (not the history) of state dir `state` ($XDG_STATE_HOME/dagster-lua)
  local function journal_of(state)
    return H.trim(H.run("ls " .. H.quote(state) .. "/*.jsonl 2>/dev/null"))
  end

  -- play history PLAYBOOK --json, decoded, newest first
  local function history(dir, name)
    local out, err, code = play(dir, "history " .. name .. " --json")
    assert.equal(0, code, err)
    local list = {}
    for line in out:gmatch("[^\n]+") do list[#list + 1] = json.decode(line) end
    return list
  end

  describe("one process per journal", function()
    it("exits 75 at once for a second process, --resume or --fresh or neither, naming the holder; one run, one process's journal", function()
      local dir, tag = tmpdir(), unique()
      local journal = dir .. "/nap.jsonl"
      local args = ([[run nap_job --wait --tag spec=%s --config-json '{"ops":{"nap_op":{"config":{"seconds":1}}}}' --journal %s]])
        :format(tag, journal)
      local first = spawn(play_cmd(args), play_env(dir), dir .. "/first")
      -- once the first holds the lock and has written its first record
      H.wait_until("the first process's journal", function()
        local h = heads(records(journal))[1]
        return first.code() or (h and h.pid == first.pid)
      end, 60, 0.02)
      assert.is_nil(first.code(), first.output())
      local took = {}
      for _, extra in ipairs { "", "--resume", "--fresh" } do
        local _, err, code, t = play(dir, args .. " " .. extra)
        took[extra] = t
        assert.equal(75, code, err)
        assert.matches(("play run: the journal %s is in use by pid %d on %s since %%d+%%-%%d+%%-%%d+ [%%d:]+: play run nap_job %%-%%-wait %%-%%-tag spec=%s %%-%%-config%%-json .* %%-%%-journal %s; try later, or pass %%-%%-wait%%-lock DURATION")
          :format(journal:gsub("%p", "%%%0"), first.pid, host:gsub("%p", "%%%0"), tag:gsub("%p", "%%%0"),
            journal:gsub("%p", "%%%0")), err)
      end
      -- a dry run takes no lock: it goes on while the first runs, and writes nothing. Its time
      -- is what a process costs here (over a second under make asan, both cores busy): each
      -- 75 came at once, not after waiting for the lock
      local _, err, code, dry = play(dir, args .. " --dry-run")
      assert.equal(0, code, err)
      for extra, t in pairs(took) do
        assert.is_true(t < dry + 1, ("%q: %.2f s, a dry run %.2f s"):format(extra, t, dry))
      end
      assert.equal(0, first.wait(), first.output())
      assert.equal(1, #client:runs { tags = { spec = tag } })
      local recs = records(journal)
      local hs = heads(recs)
      assert.equal(1, #hs)
      assert.equal(first.pid, hs[1].pid)
      assert.same({}, events(recs, "resume"))
      assert.equal("end", recs[#recs].event)
      assert.equal(1, #events(recs, "launched"))
      -- --fresh rotated nothing
      assert.equal("", H.run("ls " .. H.quote(dir .. "/history") .. " 2>/dev/null"))
    end)

    it("lets one of two processes started at any moment of each other's run go on; the other exits 75, or runs after it", function()
      local dir = tmpdir()
      local journal = dir .. "/probe.jsonl"
      local args = ("%s --hold 0.4 --resume --journal %s"):format(PROBE, journal)
      local ok, busy, plan, went_on = 0, 0, {}, {}
      for i = 1, 6 do
        local offset = math.random() * 0.7
        plan[#plan + 1] = ("%.2f"):format(offset)
        local a = spawn(play_cmd(args), play_env(dir), ("%s/a%d"):format(dir, i))
        H.sleep(offset)
        local b = spawn(play_cmd(args), play_env(dir), ("%s/b%d"):format(dir, i))
        local ca, cb = a.wait(30), b.wait(30)
        local what = ("pair %d, offsets %s: %d and %d\n%s\n%s"):format(i, table.concat(plan, " "),
          ca, cb, a.output(), b.output())
        assert.is_true((ca == 0 or ca == 75) and (cb == 0 or cb == 75) and ca + cb <= 75, what)
        -- the one that did not go on said who did, within a second
        if ca == 75 then assert.matches("in use by pid " .. b.pid .. " ", a.output(), 1, true) end
        if cb == 75 then assert.matches("in use by pid " .. a.pid .. " ", b.output(), 1, true) end
        for _, x in ipairs { { ca, a }, { cb, b } } do
          if x[1] == 75 then assert.is_true(x[2].took() < 1, what .. ("\ntook %.2f s"):format(x[2].took())) end
        end
        for _, x in ipairs { { ca, a }, { cb, b } } do
          if x[1] == 0 then ok, went_on[#went_on + 1] = ok + 1, x[2].pid else busy = busy + 1 end
        end
      end
      -- every run that went on is one journal of one process, start to end, each after the other
      local files = { journal }
      for f in H.run("ls " .. H.quote(dir .. "/history")):gmatch("[^\n]+") do
        files[#files + 1] = dir .. "/history/" .. f
      end
      assert.equal(ok, #files, "offsets " .. table.concat(plan, " "))
      local runs, pids = {}, {}
      for _, f in ipairs(files) do
        local recs = records(f)
        assert.equal(1, #heads(recs), f)
        assert.same({}, events(recs, "resume"))
        assert.equal("end", recs[#recs].event, f)
        runs[#runs + 1] = { from = recs[1].t, to = recs[#recs].time }
        pids[#pids + 1] = recs[1].pid
      end
      -- each run is the journal of one of the processes that went on, and began once the one
      -- before had ended (its end is in whole seconds)
      table.sort(pids)
      table.sort(went_on)
      assert.same(went_on, pids)
      table.sort(runs, function(x, y) return x.from < y.from end)
      for i = 2, #runs do assert.is_true(runs[i].from >= runs[i - 1].to, "offsets " .. table.concat(plan, " ")) end
    end)

    it("--wait-lock waits for the holder and then goes on (a finished journal: a new run); a shorter wait ends in 75", function()
      local dir = tmpdir()
      local journal = dir .. "/probe.jsonl"
      local holder = spawn(play_cmd(("%s --hold 2.5 --journal %s"):format(PROBE, journal)),
        play_env(dir), dir .. "/holder")
      H.wait_until("the holder's journal", function()
        local h = heads(records(journal))[1]
        return holder.code() or (h and h.pid == holder.pid)
      end, 30, 0.02)
      local waiter = spawn(play_cmd(("%s --code 6 --wait-lock 1m --journal %s"):format(PROBE, journal)),
        play_env(dir), dir .. "/waiter")
      local _, err, code, took = play(dir, ("%s --wait-lock 0.5s --journal %s"):format(PROBE, journal))
      assert.equal(75, code, err)
      -- it waited its half second, and gave up before the holder let go (which a process
      -- start, over a second under make asan, would make a bound in seconds flaky)
      assert.is_true(took >= 0.5, took)
      assert.matches("in use by pid " .. holder.pid .. " .*%(waited 0%.5s%)", err)
      assert.is_nil(holder.code())
      assert.is_nil(waiter.code(), waiter.output())   -- it waits
      assert.equal(0, holder.wait(), holder.output())
      assert.equal(6, waiter.wait(30), waiter.output())
      -- the holder's run went to the history whole, the waiter's is a new run after it
      local old = H.trim(H.run("ls " .. H.quote(dir .. "/history")))
      local before, now = records(dir .. "/history/" .. old), records(journal)
      assert.equal(holder.pid, before[1].pid)
      assert.equal("end", before[#before].event)
      assert.equal(1, #heads(now))
      assert.equal(waiter.pid, now[1].pid)
      assert.is_true(now[1].time >= before[#before].time)
      assert.equal(6, now[#now].code)
    end)
  end)

  describe("the examples of doc/examples, run as written", function()
    -- doc/examples/crontab: {env = {NAME = value}, schedule, command}
    local function crontab()
      local c = { env = {} }
      for line in assert(H.slurp(EXAMPLES .. "crontab")):gmatch("[^\n]+") do
        if not line:find("^%s*#") and line:find("%S") then
          local k, v = line:match("^([%a_][%w_]*)=(.*)$")
          if k then c.env[k] = v
          else
            assert.is_nil(c.command, "one command line only")
            c.schedule, c.command = line:match("^(%S+%s+%S+%s+%S+%s+%S+%s+%S+)%s+(.+)$")
          end
        end
      end
      return c
    end

    -- a systemd unit's [Service] settings: name -> list of values (a line ending in \ goes on)
    local function unit(name)
      local text = assert(H.slurp(EXAMPLES .. name)):gsub("\\\n", " ")
      local out, section = {}, nil
      for line in text:gmatch("[^\n]+") do
        section = line:match("^%[(.-)%]") or section
        local k, v = line:match("^(%w+)=(.*)$")
        if k and section == "Service" then
          out[k] = out[k] or {}
          table.insert(out[k], v)
        end
      end
      return out
    end

    -- the words of a command line without shell quoting (the examples need none)
    local function words(s)
      local out = {}
      for w in s:gmatch("%S+") do out[#out + 1] = w end
      return out
    end

    it("run the same command: the crontab line, the service's ExecStart and the CronJob's command", function()
      local cron = crontab()
      local service = unit("dagster-lua-recover.service")
      local yaml = assert(H.slurp(EXAMPLES .. "kubernetes-cronjob.yaml"))
      local job = dagster.yaml.decode(yaml, "kubernetes-cronjob.yaml")
      local c = job.spec.jobTemplate.spec.template.spec.containers[1]
      local k8s = {}
      for _, w in ipairs(c.command) do k8s[#k8s + 1] = w end
      for _, w in ipairs(c.args) do k8s[#k8s + 1] = w end
      local want = words(cron.command)
      assert.same({ BIN_AS_WRITTEN, "play", "recover", "--since", "1h", "--job", "etl", "--wait",
        "--resume" }, { table.unpack(want, 1, 9) })
      assert.same(want, words(service.ExecStart[1]))
      assert.same(want, k8s)
      -- nothing a scheduler would read its own way: % is a newline to cron, a specifier to
      -- systemd; no quoting, no variables
      assert.is_nil(cron.command:find("[%%$\"'\\]"), cron.command)
      assert.is_nil(service.ExecStart[1]:find("[%%$\"'\\]"), service.ExecStart[1])
      assert.equal("Forbid", job.spec.concurrencyPolicy)
      assert.same({ "75" }, service.SuccessExitStatus)
      -- the journals where each keeps them from one start to the next
      assert.same({ "XDG_STATE_HOME=/var/lib" }, service.Environment)
      assert.same({ "dagster-lua" }, service.StateDirectory)
      local mounted = {}
      for _, m in ipairs(c.volumeMounts) do mounted[m.mountPath] = m.name end
      local env = {}
      for _, e in ipairs(c.env) do env[e.name] = e.value or e.valueFrom end
      assert.equal("/var/lib", env.XDG_STATE_HOME)
      assert.equal("state", mounted["/var/lib/dagster-lua"])
      assert.is_table(env.DAGSTER_LUA_WEBHOOK.secretKeyRef)
    end)

    it("the crontab line, run five times with SIGKILLs at random moments, re-executes each failed etl run once and recovers those that failed in between", function()
      settle_etl()
      local cron = crontab()
      local names = {}
      for k in pairs(cron.env) do names[#names + 1] = k end
      table.sort(names)
      assert.same({ "DAGSTER_LUA_WEBHOOK", "DAGSTER_URL" }, names)
      local dir, tag = tmpdir(), unique()
      -- the line as written, but for the binary's path and the textfile collector's
      -- directory (under a root of our own); the state directory is XDG_STATE_HOME
      local root = dir .. "/root"
      os.execute("mkdir -p " .. H.quote(root .. "/var/lib/prometheus/node-exporter"))
      local cmd = replace(replace(cron.command, BIN_AS_WRITTEN, H.quote(H.bin)), "/var/lib/", root .. "/var/lib/")
      local env = { XDG_STATE_HOME = dir, DAGSTER_URL = H.url(), DAGSTER_LUA_WEBHOOK = hook("/cron/" .. tag) }
      local state = dir .. "/dagster-lua"

      local plan, all = {}, {}
      local function failing(n)
        local ids = failed_etl(n, tag)
        for _, id in ipairs(ids) do all[#all + 1] = id end
        return ids
      end
      wait_failed(failing(2))
      local between = {}
      local pids = {}
      for i = 1, 5 do
        local how, extra = nil, {}
        if i <= 3 then
          local r = math.random(1, 5)
          if r <= 3 then how = ("kill -9 after %.2f s"):format(math.random() * 3)
          else
            how = ({ "before-intent", "after-request", "after-result" })[math.random(1, 3)]
            extra.DAGSTER_LUA_PLAYBOOK_KILL_AT = how
          end
        end
        if i == 5 then wait_failed(between) end   -- the last run, a new one, finds them
        local e = {}
        for k, v in pairs(env) do e[k] = v end
        for k, v in pairs(extra) do e[k] = v end
        local p = spawn(cmd, e, ("%s/cron%d"):format(dir, i))
        pids[i] = p.pid
        if i == 1 or i == 3 then   -- a failure appears while the runs go on
          for _, id in ipairs(failing(1)) do between[#between + 1] = id end
        end
        if how and how:find("^kill") then
          -- a random moment of its run, once it has written its first record
          H.wait_until("run " .. i .. " to start its journal", function()
            if p.code() then return true end
            for _, r in ipairs(records(journal_of(state))) do if r.pid == p.pid then return true end end
          end, 60, 0.01)
          H.sleep(tonumber(how:match("after ([%d.]+)")))
          if not p.code() then p.kill() end
        end
        local code = p.wait()
        plan[i] = ("run %d: %s -> %d"):format(i, how or "to its end", code)
        local what = table.concat(plan, "; ") .. "\n" .. p.output()
        if how then assert.is_true(code == 137 or code == 0, what)
        else assert.equal(0, code, what) end
      end
      local story = table.concat(plan, "; ")
      -- each failed run re-executed exactly once, the re-executions succeeded
      local n, kids = children(tag)
      assert.equal(4, #all)
      for _, id in ipairs(all) do assert.equal(1, n[id], "re-executions of " .. id .. " (" .. story .. ")") end
      assert.equal(4, #kids, story)
      for id, status in pairs(client:wait_for_runs(kids, { timeout = 300 })) do
        assert.equal("SUCCESS", status, id)
      end
      -- the history: five processes, newest first; the last a new run that ended 0 (it found
      -- the failures of the second half)
      local h = history(dir, "recover")
      assert.equal(5, #h, story)
      for i, e in ipairs(h) do assert.equal(pids[6 - i], e.pid, story) end
      assert.equal(0, h[1].exit_status)
      assert.is_false(h[1].resumed)
      assert.equal(0, h[2].exit_status)
      local reexecuted = 0
      for i, e in ipairs(h) do
        reexecuted = reexecuted + e.runs_reexecuted
        -- a process killed midway left its run to the next one, which resumed it
        if e.exit_status == json.null and i > 1 then assert.is_true(h[i - 1].resumed, story) end
      end
      assert.equal(4, reexecuted, story)
      -- the metrics of the last run, where the line puts them
      local m = metrics(root .. "/var/lib/prometheus/node-exporter/dagster_lua_recover.prom")
      assert.equal(0, m.dagster_lua_playbook_last_exit_status.samples[1].value)
    end)

    it("the systemd service's ExecStart, run three times, the first killed mid-run: the second resumes, the third starts anew; the history shows three runs", function()
      settle_etl()
      local service = unit("dagster-lua-recover.service")
      local dir, tag = tmpdir(), unique()
      local root = dir .. "/root"
      os.execute("mkdir -p " .. H.quote(root .. "/var/lib/prometheus/node-exporter"))
      -- ExecStart is not read by a shell: each word is one argument
      local argv = {}
      for i, w in ipairs(words(service.ExecStart[1])) do
        if i == 1 then assert.equal(BIN_AS_WRITTEN, w); w = H.bin end
        argv[i] = H.quote(replace(w, "/var/lib/", root .. "/var/lib/"))
      end
      local cmd = table.concat(argv, " ")
      -- the service's Environment= (under our root), and what its EnvironmentFile holds
      local env = { DAGSTER_URL = H.url(), DAGSTER_LUA_WEBHOOK = hook("/systemd/" .. tag) }
      for _, e in ipairs(service.Environment) do
        local k, v = e:match("^([%w_]+)=(.*)$")
        env[k] = replace(v, "/var/lib", root .. "/var/lib")
      end
      local state = env.XDG_STATE_HOME .. "/" .. service.StateDirectory[1]
      local first = failed_etl(1, tag)
      wait_failed(first)

      local p1 = spawn(cmd, env, dir .. "/start1")
      H.wait_until("the first start to re-execute the failed run", function()
        return p1.code() or #events(records(journal_of(state)), "launched") > 0
      end, 60, 0.02)
      local second = failed_etl(1, tag)       -- fails while the first two starts go on
      p1.kill()
      assert.equal(137, p1.wait(), p1.output())
      local p2 = spawn(cmd, env, dir .. "/start2")
      assert.equal(0, p2.wait(), p2.output())
      assert.matches("find the failed runs (done before)", p2.output(), 1, true)
      wait_failed(second)
      local p3 = spawn(cmd, env, dir .. "/start3")
      assert.equal(0, p3.wait(), p3.output())
      assert.is_nil(p3.output():find("done before", 1, true), p3.output())

      local n, kids = children(tag)
      assert.equal(1, n[first[1]])
      assert.equal(1, n[second[1]])
      assert.equal(2, #kids)
      local h = history(env.XDG_STATE_HOME, "recover")
      assert.equal(3, #h)
      assert.same({ p3.pid, p2.pid, p1.pid }, { h[1].pid, h[2].pid, h[3].pid })
      assert.same({ 0, 0, json.null }, { h[1].exit_status, h[2].exit_status, h[3].exit_status })
      assert.same({ false, true, false }, { h[1].resumed, h[2].resumed, h[3].resumed })
      assert.matches("^killed or lost", h[3].meaning)
      assert.same({ 1, 0, 1 }, { h[1].runs_reexecuted, h[2].runs_reexecuted, h[3].runs_reexecuted })
      assert.equal(h[2].journal, h[3].journal)
      assert.are_not.equal(h[1].journal, h[2].journal)
      local m = metrics(root .. "/var/lib/prometheus/node-exporter/dagster_lua_recover.prom")
      assert.equal(0, m.dagster_lua_playbook_last_exit_status.samples[1].value)
      assert.equal(1, m.dagster_lua_playbook_runs_reexecuted.samples[1].value)
      assert.equal(h[1].started, m.dagster_lua_playbook_last_start_timestamp_seconds.samples[1].value)
      assert.same({}, received("/systemd/" .. tag))   -- --notify-on failure: nothing failed
    end)
  end)

  describe("play history and play show", function()
    -- three processes on one journal: killed, resumed (exit 6), a new run (exit 0); and a run
    -- of another playbook
    local function three(dir)
      local _, _, code = play(dir, PROBE .. " --die")
      assert.equal(137, code)
      local err
      _, err, code = play(dir, PROBE .. " --resume --code 6")
      assert.equal(6, code, err)
      _, err, code = play(dir, PROBE .. " --resume")
      assert.equal(0, code, err)
      local other = dir .. "/other.lua"
      local f = assert(io.open(other, "w"))
      f:write(([[return require("dagster.playbook").define({ name = "other", summary = "x" },
        function(pb) pb:step("one", function() return 1 end) pb:exit(2) end)]]))
      f:close()
      _, err, code = play(dir, other)
      assert.equal(2, code, err)
    end

    it("history lists each process's run newest first, with status and meaning, as text and JSON", function()
      local dir = tmpdir()
      three(dir)
      local out, err, code = play(dir, "history probe")
      assert.equal(0, code, err)
      local lines = {}
      for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
      assert.equal(4, #lines, out)
      assert.matches("^STARTED%s+PLAYBOOK%s+ARGUMENTS%s+EXIT%s+TIME%s+LAUNCHED%s+RE%-EXECUTED%s+TERMINATED%s+MEANING$", lines[1])
      assert.matches("^%d+%-%d+%-%d+ [%d:]+%s+probe%s+%-%-resume%s+0%s+%S+%s+0%s+0%s+0%s+success$", lines[2])
      assert.matches("%-%-resume %-%-code 6%s+6%s+%S+%s+0%s+0%s+0%s+partial %(resumed%)$", lines[3])
      assert.matches("%-%-die%s+%-%s+%S+%s+0%s+0%s+0%s+killed or lost$", lines[4])
      local h = history(dir, "probe")
      assert.equal(3, #h)
      assert.same({ 0, 6, json.null }, { h[1].exit_status, h[2].exit_status, h[3].exit_status })
      assert.same({ "success", "partial: some of the work failed" }, { h[1].meaning, h[2].meaning })
      assert.matches("^killed or lost", h[3].meaning)
      assert.same({ false, true, false }, { h[1].resumed, h[2].resumed, h[3].resumed })
      for _, e in ipairs(h) do
        assert.equal("probe", e.playbook)
        assert.equal(host, e.host)
        assert.is_number(e.started)
        assert.is_number(e.duration)
        assert.equal(0, e.runs_launched)
      end
      assert.same({ "--resume", "--code", "6" }, h[2].argv)
      assert.equal(h[2].journal, h[3].journal)         -- the killed run and its resumption
      assert.matches("/history/", h[2].journal)
      -- every playbook, --limit
      local all = history(dir, "")
      assert.equal(4, #all)
      out = play(dir, "history --limit 2")
      assert.matches("^[^\n]+\n[^\n]+\n[^\n]+\n%(2 more: %-%-limit%)\n$", out)
      out = play(dir, "history other")
      assert.matches("other%s+2%s+%S+%s+0%s+0%s+0%s+a run ended CANCELED\n", out)
      out = play(dir, "history nothing")
      assert.matches("^no runs of nothing in ", out)
    end)

    it("show prints one run in full, the last by default, a playbook's last, or a journal's, as text and JSON", function()
      local dir = tmpdir()
      three(dir)
      local out, err, code = play(dir, "show")
      assert.equal(0, code, err)
      assert.matches("^playbook  other ", out)
      out, err, code = play(dir, "show probe")
      assert.equal(0, code, err)
      assert.matches("^playbook  probe %-%-resume\n", out)
      assert.matches("\nexit      0 %(success%) after ", out)
      assert.matches("\nhold%s+ok%s+%S+%s+0\nfinish%s+ok%s+%S+%s+done\n", out)
      local old = H.trim(H.run("ls " .. H.quote(dir .. "/dagster-lua/history") .. "/probe-*"))
      out, err, code = play(dir, "show " .. old)
      assert.equal(0, code, err)
      assert.matches("%(2 attempts%)", out)
      assert.matches("\nexit      6 %(partial: some of the work failed%)", out)
      assert.matches("\nATTEMPT%s+STARTED%s+PID%s+HOST%s+EXIT%s+TIME%s+LAUNCHED%s+RE%-EXECUTED%s+MEANING\n%s*1 .- %-%s.-killed or lost.-\n%s*2 .- 6 .-partial", out)
      out, err, code = play(dir, "show --json " .. old)
      assert.equal(0, code, err)
      local s = json.decode(out)
      assert.equal(6, s.exit_status)
      assert.equal("probe", s.playbook)
      assert.equal(2, #s.attempts)
      assert.equal(json.null, s.attempts[1].exit_status)
      assert.equal(6, s.attempts[2].exit_status)
      assert.same({ "hold", "finish" }, { s.steps[1].name, s.steps[2].name })
      assert.same({ "ok", "ok" }, { s.steps[1].status, s.steps[2].status })
      _, err, code = play(dir, "show nothing")
      assert.equal(4, code)
      assert.matches("no runs of nothing", err)
    end)
  end)

  describe("notifications", function()
    it("POST one JSON document at the end: playbook, arguments, host, status, start, duration, steps, the runs launched, re-executed and terminated, a text line", function()
      local dir, tag = tmpdir(), unique()
      local book = dir .. "/launcher.lua"
      local f = assert(io.open(book, "w"))
      f:write([[
local playbook = require "dagster.playbook"
return playbook.define({ name = "launcher", summary = "launch, terminate, re-execute",
  args = { { name = "tag" } } }, function(pb)
  local cfg = { ops = { nap_op = { config = { seconds = 30 } } } }
  local id = pb:step("launch", function()
    return pb:submit("nap_job", { run_config = cfg, tags = { spec = pb.args.tag } })
  end)
  pb:step("terminate", function() pb:terminate(id, { force = true }) end)
  local again = pb:step("re-execute", function() return pb:reexecute(id, { strategy = "ALL_STEPS" }) end)
  pb:step("terminate again", function() pb:terminate(again, { force = true }) end)
  pb:exit(0)
end)
]])
      f:close()
      local path = "/fields/" .. tag
      local _, err, code = play(dir, ("%s %s --notify %s --notify-on always"):format(book, tag, hook(path)))
      assert.equal(0, code, err)
      local got = received(path)
      assert.equal(1, #got)
      assert.equal("application/json", got[1].content_type)
      local doc = got[1].doc
      local runs = client:runs { tags = { spec = tag } }
      assert.equal(2, #runs)
      local id, again
      for _, r in ipairs(runs) do
        if r.parent_run_id then again = r.run_id else id = r.run_id end
      end
      assert.equal(id, client:get_run(again).parent_run_id)
      assert.equal("launcher", doc.playbook)
      assert.same({ tag, "--notify", "<url>", "--notify-on", "always" }, doc.argv)
      assert.equal(host, doc.host)
      assert.equal(0, doc.exit_status)
      assert.equal("success", doc.meaning)
      local head = records(doc.journal)[1]
      assert.equal(head.time, doc.started)
      assert.is_true(doc.duration >= 0 and doc.duration < 60)
      local steps = {}
      for i, s in ipairs(doc.steps) do steps[i] = s.step .. ":" .. s.result end
      assert.same({ "launch:ok", "terminate:ok", "re-execute:ok", "terminate again:ok" }, steps)
      assert.same({ id }, doc.runs_launched)
      assert.same({ again }, doc.runs_reexecuted)
      assert.same({ id, again }, doc.runs_terminated)
      assert.equal(("dagster-lua play launcher on %s: exit 0 (success) after %s; 1 launched, 1 re-executed, 2 terminated")
        :format(host, require("dagster.playbook").seconds(doc.duration)), doc.text)
    end)

    it("--notify-on failure (the default) for a status not 0, always at every end, change when the status differs from the last run's", function()
      local dir, tag = tmpdir(), unique()
      -- path -> the sequence of exit statuses, one run each on one journal per path
      local function runs(on, codes)
        local path = ("/on/%s/%s"):format(tag, on)
        local sent = {}
        for i, c in ipairs(codes) do
          local _, err, code = play(dir, ("%s --code %d --journal %s/%s.jsonl --notify %s%s"):format(PROBE, c,
            dir, on, hook(path), on == "default" and "" or " --notify-on " .. on))
          assert.equal(c, code, err)
          sent[i] = #received(path)
        end
        return sent
      end
      assert.same({ 0, 1, 1, 2 }, runs("default", { 0, 6, 0, 1 }))
      assert.same({ 0, 1, 1 }, runs("failure", { 0, 6, 0 }))
      assert.same({ 1, 2, 3 }, runs("always", { 0, 6, 0 }))
      -- the first run is a change; then each status that is not the last one's
      assert.same({ 1, 1, 2, 2, 3 }, runs("change", { 0, 0, 6, 6, 0 }))
      local got = received(("/on/%s/change"):format(tag))
      assert.same({ 0, 6, 0 }, { got[1].doc.exit_status, got[2].doc.exit_status, got[3].doc.exit_status })
    end)

    it("never shows a URL from --notify-env, nor a --notify URL: not in the output, the journal, the history, the lock or the document", function()
      local dir, tag = tmpdir(), unique()
      local secret, secret2, secret3 = "s3cr3t-" .. tag, "t0ken-" .. tag, "pa55-" .. tag
      local env = { HOOK = hook("/secret/" .. secret), BAD_HOOK = hook("/status/500/" .. secret) }
      -- and one with a user:password, whose failure the warning names by scheme and host alone
      local with_password = hook("/status/500/u-" .. tag):gsub("^http://", "http://hook:" .. secret3 .. "@")
      local args = ("%s --code 6 --notify-env HOOK --notify-env BAD_HOOK --notify %s --notify %s"):format(PROBE,
        hook("/query/" .. tag .. "?token=" .. secret2), with_password)
      local out, err, code = play(dir, args, env)
      assert.equal(6, code, err)
      assert.matches("warning: the notification to $BAD_HOOK was not sent (HTTP 500)", err, 1, true)
      assert.matches(("warning: the notification to http://127.0.0.1:%d was not sent (HTTP 500)"):format(srv.port), err, 1, true)
      assert.equal(1, #received("/status/500/u-" .. tag))
      local got = received("/secret/" .. secret)
      assert.equal(1, #got)
      assert.equal(1, #received("/query/" .. tag))
      assert.equal(1, #received("/status/500/" .. secret))
      local seen = { out, err, got[1].body }
      for _, cmd in ipairs { "history", "history --json", "show", "show --json" } do
        local o, e, c = play(dir, cmd)
        assert.equal(0, c, e)
        seen[#seen + 1] = o .. e
      end
      seen[#seen + 1] = H.run("cat " .. H.quote(dir) .. "/dagster-lua/*")   -- journal and lock
      local all = table.concat(seen, "\n")
      assert.matches("--notify-env HOOK --notify-env BAD_HOOK --notify <url> --notify <url>", all, 1, true)
      for _, s in ipairs { secret, secret2, "token=", secret3, "hook:" } do
        assert.is_nil(all:find(s, 1, true), s .. " was shown")
      end
    end)

    it("a receiver that fails, or fails again and again, is a warning; the exit status and the journal stay", function()
      local dir, tag = tmpdir(), unique()
      local _, err, code, took = play(dir, ("%s --code 0 --notify-on always --notify %s --notify %s --notify http://127.0.0.1:9/x")
        :format(PROBE, hook("/status/503/" .. tag), hook("/status/404/" .. tag)))
      assert.equal(0, code, err)
      assert.equal(3, #received("/status/503/" .. tag))          -- retried
      assert.equal(1, #received("/status/404/" .. tag))          -- not retried
      assert.matches(("warning: the notification to http://127.0.0.1:%d was not sent (HTTP 503, after 3 attempts)"):format(srv.port), err, 1, true)
      assert.matches(("warning: the notification to http://127.0.0.1:%d was not sent (HTTP 404)"):format(srv.port), err, 1, true)
      assert.matches("warning: the notification to http://127.0.0.1:9 was not sent (", err, 1, true)
      assert.is_true(took < 35, took)          -- each within its 10 s
      local recs = records(journal_of(dir .. "/dagster-lua"))
      assert.equal("end", recs[#recs].event)
      assert.equal(0, recs[#recs].code)
      _, err, code = play(dir, ("%s --code 6 --notify %s"):format(PROBE, hook("/status/500/" .. tag)))
      assert.equal(6, code, err)
    end)

    it("a receiver that does not answer takes the notification's time limit, and the warning counts the attempts made", function()
      -- in this process, with a shorter limit than the playbooks' 10 s
      local report = require "dagster.playbook.report"
      local tag, limit = unique(), report.TIMEOUT
      local errf = os.tmpname()
      local saved = io.stderr
      report.TIMEOUT, io.stderr = 1.5, assert(io.open(errf, "w"))
      local t0 = H.now()
      local ok, e = pcall(report.notify, { name = "probe", flags = { notify = { hook("/hang/" .. tag) },
        ["notify-env"] = {}, ["notify-on"] = "always" } }, { exit_status = 0 })
      local took = H.now() - t0
      io.stderr:close()
      report.TIMEOUT, io.stderr = limit, saved
      local err = H.slurp(errf)
      os.remove(errf)
      assert(ok, e)
      assert.equal(1, #received("/hang/" .. tag))
      assert.equal(("play probe: warning: the notification to http://127.0.0.1:%d was not sent " ..
        "(TimeoutError, after 1 attempt)\n"):format(srv.port), err)
      assert.is_true(took >= 1.4 and took < 5, took)
    end)
  end)

  describe("metrics", function()
    it("--metrics writes what prometheus_client parses: the last run's status, start, duration and runs, labelled by playbook and journal", function()
      local dir = tmpdir()
      local a, b = dir .. "/a.prom", dir .. "/b.prom"
      local _, err, code = play(dir, ("%s --code 6 --hold 1 --journal %s/dagster-lua/nightly.jsonl --metrics %s"):format(PROBE, dir, a))
      assert.equal(6, code, err)
      _, err, code = play(dir, ("%s --journal %s/dagster-lua/hourly.jsonl --metrics %s"):format(PROBE, dir, b))
      assert.equal(0, code, err)
      -- a dry run writes none
      _, err, code = play(dir, ("%s --dry-run --metrics %s/c.prom"):format(PROBE, dir))
      assert.equal(0, code, err)
      assert.equal("a.prom\nb.prom\ndagster-lua\n", H.run("ls " .. H.quote(dir)))   -- no temporary file left
      local ma, mb = metrics(a), metrics(b)
      local head = records(dir .. "/dagster-lua/nightly.jsonl")[1]
      local want = {
        dagster_lua_playbook_last_exit_status = 6,
        dagster_lua_playbook_last_start_timestamp_seconds = head.time,
        dagster_lua_playbook_last_success = 0,
        dagster_lua_playbook_runs_launched = 0,
        dagster_lua_playbook_runs_reexecuted = 0,
        dagster_lua_playbook_runs_terminated = 0,
        dagster_lua_playbook_backfills_launched = 0,
      }
      local names = {}
      for name, fam in pairs(ma) do
        names[#names + 1] = name
        assert.equal("gauge", fam.type, name)
        assert.equal(1, #fam.samples, name)
        assert.same({ playbook = "probe", journal = "nightly" }, fam.samples[1].labels)
        assert.same({ playbook = "probe", journal = "hourly" }, mb[name].samples[1].labels)
        if want[name] then assert.equal(want[name], fam.samples[1].value, name) end
      end
      table.sort(names)
      assert.same({ "dagster_lua_playbook_backfills_launched", "dagster_lua_playbook_last_duration_seconds",
        "dagster_lua_playbook_last_exit_status", "dagster_lua_playbook_last_start_timestamp_seconds",
        "dagster_lua_playbook_last_success", "dagster_lua_playbook_runs_launched",
        "dagster_lua_playbook_runs_reexecuted", "dagster_lua_playbook_runs_terminated" }, names)
      local d = ma.dagster_lua_playbook_last_duration_seconds.samples[1].value
      assert.is_true(d >= 1 and d < 10, d)
      assert.equal(0, mb.dagster_lua_playbook_last_exit_status.samples[1].value)
      assert.equal(1, mb.dagster_lua_playbook_last_success.samples[1].value)
    end)
  end)

  describe("SIGTERM, a scheduler's stop", function()
    it("ends as Ctrl-C does, with 143: the summary, a stopped journal, the notification and the metrics; --resume goes on", function()
      local dir, tag = tmpdir(), unique()
      local journal, prom, path = dir .. "/dagster-lua/term.jsonl", dir .. "/term.prom", "/term/" .. tag
      local p = spawn(play_cmd(("%s --hold 60 --journal %s --metrics %s --notify %s"):format(PROBE,
        journal, prom, hook(path))), play_env(dir), dir .. "/term")
      -- in the hold step's sleep, as a playbook is in a wait when systemd stops it
      H.wait_until("the probe to hold", function()
        return p.code() or p.output():find("> hold", 1, true)
      end, 30, 0.02)
      os.execute("kill -TERM " .. p.pid)
      assert.equal(143, p.wait(20), p.output())
      assert.is_true(p.took() < 30, p.took())
      local out = p.output()
      assert.matches("dagster-lua play: terminated (SIGTERM); --resume goes on (journal " .. journal .. ")", out, 1, true)
      assert.matches("\nexit 143 after ", out, 1, true)                 -- the summary
      assert.matches("\nhold%s+stopped%s+%S+%s+terminated %(SIGTERM%)\n", out)   -- not "failed"
      local recs = records(journal)
      assert.equal("stopped", recs[#recs].event)
      assert.equal(143, recs[#recs].code)
      assert.same({ "interrupted", "hold#1" }, { recs[#recs - 1].event, recs[#recs - 1].step })
      local shown = play(dir, "show probe")
      assert.matches("\nexit      143 %(terminated %(SIGTERM", shown)
      assert.matches("\nhold%s+stopped%s", shown)
      local got = received(path)                      -- the default --notify-on failure
      assert.equal(1, #got)
      assert.equal(143, got[1].doc.exit_status)
      assert.matches("^terminated %(SIGTERM", got[1].doc.meaning)
      assert.equal(143, metrics(prom).dagster_lua_playbook_last_exit_status.samples[1].value)
      -- the next start goes on where it stopped: the hold step again, then the rest
      local _, err, code = play(dir, ("%s --hold 0 --journal %s --resume"):format(PROBE, journal))
      assert.equal(0, code, err)
      recs = records(journal)
      assert.equal("end", recs[#recs].event)
      local h = history(dir, "probe")
      assert.same({ 0, 143 }, { h[1].exit_status, h[2].exit_status })
      assert.matches("^terminated %(SIGTERM", h[2].meaning)
    end)

    it("a SIGTERM the parent ignored stays ignored", function()
      local dir = tmpdir()
      local p = spawn("trap '' TERM; " .. play_cmd(("%s --hold 2"):format(PROBE)), play_env(dir), dir .. "/ign")
      H.wait_until("the probe to hold", function()
        return p.code() or p.output():find("> hold", 1, true)
      end, 30, 0.02)
      os.execute("kill -TERM " .. p.pid)   -- the playbook itself, started with TERM ignored
      assert.equal(0, p.wait(30), p.output())
      assert.is_nil(p.output():find("terminated", 1, true), p.output())
    end)
  end)

  it("has one table of exit codes, with 75: --help, play history --help, the README and the man page", function()
    local codes = {}
    for _, e in ipairs(require("dagster.playbook").EXIT_CODES) do codes[#codes + 1] = e[1] end
    assert.is_truthy(table.concat(codes, " "):find(" 75 ", 1, true))
    -- the numbers that start the lines of text (as pattern finds them in each line)
    local function listed(text, pattern)
      local out = {}
      for line in assert(text, "no table found"):gmatch("[^\n]+") do
        local n = line:match(pattern)
        if n then out[#out + 1] = tonumber(n) end
      end
      return out
    end
    local out = H.host("play recover --help")
    assert.same(codes, listed(out:match("Exit status:\n(.*)$"), "^  (%d+)%s"))
    out = H.host("play history --help")
    assert.same(codes, listed(out:match("Exit status of a playbook:\n(.*)$"), "^  (%d+)%s"))
    local readme = assert(H.slurp(H.root .. "/README.md"))
    assert.same(codes, listed(readme:match("\n| exit status | meaning |\n|%-%-%-|%-%-%-|\n(.-)\n\n"), "^| (%d+) |"))
    local man = assert(H.slurp(H.root .. "/doc/dagster-lua.1.scd"))
    assert.same(codes, listed(man:match("\n# EXIT STATUS\n(.-)\n# "), "^%*(%d+)%*$"))
  end)
end)
