-- Runs against the real local Dagster under test: waiting (one run and many), reading a run,
-- listing and paging, the event log (paged, resumed, followed), and re-execution. The runs
-- are launched once in `setup` and shared; each carries a tag unique to this spec run, so
-- that the runs of other specs on the same deployment never get in the way. A case that needs
-- them finished (or `slow` canceled) says so (settled()), so that each case runs alone.
local dagster = require "dagster"
local H = require "helper"

local catch = H.catch

-- the operations a client sends, recorded around Client._query, every request's way (the
-- real server answers)
local function record(client)
  local calls = {}
  local Client = getmetatable(client)
  client._query = function(self, doc, vars, opname, read, call)
    calls[#calls + 1] = { opname = opname, vars = vars }
    return Client._query(self, doc, vars, opname, read, call)
  end
  return calls
end

-- a port where nothing listens
local function dead_port()
  return tonumber((H.run([[python3 -c 'import socket; s=socket.socket(); ]] ..
    [[s.bind(("127.0.0.1",0)); print(s.getsockname()[1])']])))
end

-- no two neighbours equal (on_status is called once per change)
local function assert_changes(list)
  for i = 2, #list do assert.are_not.equal(list[i - 1], list[i]) end
end

local function key(ev) return table.concat({ ev.type, tostring(ev.timestamp), ev.message or "" }, "|") end

local function read_all(client, run_id, opts)
  local out = {}
  local it, st = client:events(run_id, opts)
  for ev in it, st do out[#out + 1] = ev end
  return out, st
end

local FINAL = { SUCCESS = true, FAILURE = true, CANCELED = true }
local TAG = "dagster-lua-spec/runs"

describe("runs against a real Dagster", function()
  local client, mark
  local ok, fail, sel, cfg, slow, ok2   -- run ids

  local function submit(job, kind, opts)
    opts = opts or {}
    opts.tags = { [TAG] = mark, kind = kind }
    return client:submit_job_execution(job, opts)
  end

  setup(function()
    client = H.client({ timeout = 60 })
    math.randomseed(os.time())
    mark = ("%d-%06d"):format(os.time(), math.random(0, 999999))
    -- launched side by side (dagster tasks): a launch takes seconds on a busy machine
    local ids = dagster.gather {
      dagster.spawn(submit, "slow_job", "slow"),
      dagster.spawn(submit, "fail_job", "fail"),
      dagster.spawn(submit, "select_job", "select"),
      dagster.spawn(submit, "config_job", "config",
        { run_config = { ops = { config_op = { config = { name = "lua" } } } } }),
      dagster.spawn(submit, "succeed_job", "ok2"),
    }
    slow, fail, sel, cfg, ok2 = table.unpack(ids, 1, 5)
    -- launched after all of them: the newest of the tag
    ok = submit("succeed_job", "ok")
  end)

  -- the setup's runs finished, `slow` canceled (for the cases that read them so)
  local function settled()
    if not FINAL[client:get_run_status(slow)] then
      H.wait_step_started(client, slow, 90)
      client:terminate_run(slow)
    end
    local want = { [ok] = "SUCCESS", [fail] = "FAILURE", [sel] = "SUCCESS", [cfg] = "SUCCESS",
                   [ok2] = "SUCCESS", [slow] = "CANCELED" }
    assert.same(want, client:wait_for_runs({ ok, fail, sel, cfg, ok2, slow }, { timeout = 120 }))
  end

  teardown(function()
    if slow and not FINAL[client:get_run_status(slow)] then
      pcall(client.terminate_run, client, slow, { force = true })
    end
  end)

  describe("wait_for_run", function()
    it("returns SUCCESS and the run, calling on_status once per change, the first included", function()
      -- a run of its own (not of the tag), waited for from its launch
      local id = client:submit_job_execution("succeed_job")
      local seen = {}
      local status, run = client:wait_for_run(id, { timeout = 120, on_status = function(s, r)
        seen[#seen + 1] = s
        assert.equal(s, r.status)
        assert.equal(id, r.run_id)
      end })
      assert.equal("SUCCESS", status)
      assert.equal("SUCCESS", run.status)
      assert.equal(id, run.run_id)
      assert.equal("succeed_job", run.job_name)
      assert.is_number(run.end_time)
      assert.is_true(#seen >= 2, "expected an unfinished status first, saw " .. table.concat(seen, ","))
      assert.is_nil(FINAL[seen[1]])
      assert.equal("SUCCESS", seen[#seen])
      assert_changes(seen)
    end)

    it("returns FAILURE with the run's failure message", function()
      local seen = {}
      local status, run = client:wait_for_run(fail, { timeout = 120, interval = 0.2,
        on_status = function(s, r) seen[#seen + 1] = s; assert.equal(s, r.status) end })
      assert.equal("FAILURE", status)
      assert.equal("FAILURE", seen[#seen])
      assert_changes(seen)
      assert.equal(fail, run.run_id)
      assert.matches("boom: intentional failure", run.failure_message, 1, true)
    end)

    it("raises TimeoutError naming the run and its last status; wait_for_runs lists what is pending", function()
      local t0 = H.now()
      local seen = {}
      -- 3 s: the requests of a wait end by its deadline, so on a busy machine a 1 s wait
      -- could end before its first answer, with no status to name
      local e = catch(client.wait_for_run, client, slow, { timeout = 3, interval = 0.2,
        on_status = function(s) seen[#seen + 1] = s end })
      local took = H.now() - t0
      assert.equal(e.last_status, seen[#seen])
      assert_changes(seen)   -- about 5 polls, one call per status
      assert.equal("TimeoutError", e.name)
      assert.equal(slow, e.run_id)
      assert.is_truthy(({ QUEUED = 1, STARTING = 1, STARTED = 1 })[e.last_status], e.last_status)
      assert.matches(slow, e.message, 1, true)
      assert.matches("last status: " .. e.last_status, e.message, 1, true)
      assert.is_true(took >= 3 and took < 3 + 1.5, "took " .. took)   -- the deadline holds

      assert.equal("SUCCESS", client:wait_for_run(ok2, { timeout = 60 }))
      local e2 = catch(client.wait_for_runs, client, { ok2, slow }, { timeout = 3 })
      assert.equal("TimeoutError", e2.name)
      assert.same({ slow }, e2.pending)
      assert.equal("SUCCESS", e2.last_statuses[ok2])
      assert.is_truthy(({ QUEUED = 1, STARTING = 1, STARTED = 1 })[e2.last_statuses[slow]])
      assert.matches("1 of 2 runs did not finish within 3 s: " .. slow, e2.message, 1, true)
    end)

    it("follows a terminated run to CANCELED", function()
      H.wait_step_started(client, slow, 90)
      client:terminate_run(slow)
      local status, run = client:wait_for_run(slow, { timeout = 60 })
      assert.equal("CANCELED", status)
      assert.is_false(run.can_terminate)
    end)

    it("raises RunNotFoundError at once for an unknown id", function()
      local t0 = H.now()
      local e = catch(client.wait_for_run, client, "00000000-0000-0000-0000-000000000000", { timeout = 30 })
      assert.equal("RunNotFoundError", e.name)
      assert.matches("could not be found", e.message)
      assert.is_true(H.now() - t0 < 5)
    end)

    it("retries a refused connection until the timeout, then raises TimeoutError with the last error", function()
      local dead = dagster.client("127.0.0.1", { port_number = dead_port() })
      local t0 = H.now()
      local e = catch(dead.wait_for_run, dead, "some-run", { timeout = 1, interval = 0.2 })
      assert.equal("TimeoutError", e.name)
      assert.is_nil(e.last_status)
      assert.equal("ConnectionError", e.last_error.name)
      assert.is_true(H.now() - t0 >= 1)
    end)

    describe("behind a server that answers a fixed HTTP status", function()
      local port, dir
      setup(function()
        dir = os.tmpname(); os.remove(dir); os.execute("mkdir " .. H.quote(dir))
        local f = assert(io.open(dir .. "/server.py", "w"))
        f:write([[
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        code = int(self.path.strip("/").split("/")[0])
        with open(sys.argv[1] + "/requests", "a") as log:
            log.write(f"{code}\n")
        body = b"upstream says no"
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + "/port.tmp", "w") as p:
    p.write(str(server.server_address[1]))
import os; os.rename(sys.argv[1] + "/port.tmp", sys.argv[1] + "/port")
server.serve_forever()
]])
        f:close()
        os.execute(("python3 %s/server.py %s >/dev/null 2>&1 & echo $! > %s/pid"):format(
          H.quote(dir), H.quote(dir), H.quote(dir)))
        port = H.wait_until("the status server", function()
          local p = io.open(dir .. "/port"); if not p then return nil end
          local n = tonumber(p:read("a")); p:close(); return n
        end, 20, 0.1)
      end)
      teardown(function()
        local p = io.open(dir .. "/pid")
        if p then
          local pid = tonumber(p:read("a")); p:close()
          if pid then os.execute("kill " .. pid .. " 2>/dev/null") end
        end
        os.execute("rm -rf " .. H.quote(dir))
      end)
      local function requests(code)
        local f = io.open(dir .. "/requests"); if not f then return 0 end
        local n = 0
        for line in f:lines() do if line == tostring(code) then n = n + 1 end end
        f:close(); return n
      end

      it("retries HTTP 503 until the timeout", function()
        local c = dagster.client("127.0.0.1", { port_number = port, path_prefix = "/503" })
        local e = catch(c.wait_for_run, c, "some-run", { timeout = 1, interval = 0.1 })
        assert.equal("TimeoutError", e.name)
        assert.equal("HTTPError", e.last_error.name)
        assert.equal(503, e.last_error.status)
        assert.is_true(requests(503) >= 3, "only " .. requests(503) .. " requests")
      end)

      it("does not retry HTTP 500 without a GraphQL answer: HTTPError at once", function()
        local c = dagster.client("127.0.0.1", { port_number = port, path_prefix = "/500" })
        local e = catch(c.wait_for_run, c, "some-run", { timeout = 30 })
        assert.equal("HTTPError", e.name)
        assert.equal(500, e.status)
        assert.equal(1, requests(500))
      end)
    end)
  end)

  describe("get_run", function()
    it("reads a failed run: tags, step counts, the user's exception, ordered times", function()
      client:wait_for_run(fail, { timeout = 120 })
      local run = client:get_run(fail)
      assert.equal(fail, run.run_id)
      assert.equal("fail_job", run.job_name)
      assert.equal("FAILURE", run.status)
      assert.equal(mark, run.tags[TAG])
      assert.equal("fail", run.tags.kind)
      assert.same({ 0, 1, 0 }, { run.steps_succeeded, run.steps_failed, run.steps_skipped })
      assert.equal("Exception: boom: intentional failure", run.failure_message)
      assert.is_true(run.creation_time <= run.start_time and run.start_time <= run.end_time)
      assert.is_false(run.can_terminate)
      assert.is_nil(run.parent_run_id)
      assert.same({}, run.run_config)
    end)

    it("reads a successful run: run_config as launched, one count per step, no failure message", function()
      local statuses = client:wait_for_runs({ sel, cfg }, { timeout = 120 })
      assert.same({ [sel] = "SUCCESS", [cfg] = "SUCCESS" }, statuses)
      local s = client:get_run(sel)
      assert.same({ 3, 0, 0 }, { s.steps_succeeded, s.steps_failed, s.steps_skipped })
      assert.is_nil(s.failure_message)
      local c = client:get_run(cfg)
      assert.same({ ops = { config_op = { config = { name = "lua" } } } }, c.run_config)
      assert.equal("float", math.type(c.end_time))
    end)

    it("raises RunNotFoundError for an unknown id", function()
      local e = catch(client.get_run, client, "no-such-run")
      assert.equal("RunNotFoundError", e.name)
      assert.equal("Pipeline run no-such-run could not be found.", e.message)
    end)
  end)

  describe("runs and each_run", function()
    local mine = function(extra)
      local f = { tags = { [TAG] = mark } }
      for k, v in pairs(extra or {}) do f[k] = v end
      return f
    end
    local function ids(list)
      local out = {}
      for i, r in ipairs(list) do out[i] = r.run_id end
      return out
    end
    local function sorted(t) table.sort(t); return t end

    it("filters by tags, newest first, with a summary of each run", function()
      settled()
      local list = client:runs(mine())
      local at = {}
      for i, r in ipairs(list) do
        at[r.run_id] = i
        assert.equal(mark, r.tags[TAG])
        assert.is_string(r.status)
        assert.is_number(r.creation_time)
        assert.is_boolean(r.can_terminate)
      end
      assert.equal(6, #list)
      -- the order is the server's storage order (the setup's side-by-side launches may be
      -- stored in any order); `ok` was launched after all of them
      assert.equal(1, at[ok])
      for _, id in ipairs { fail, sel, cfg, slow, ok2 } do assert.is_true(at[id] > 1, id) end
      local s = list[at[fail]]
      assert.same({ "fail_job", "FAILURE", "fail" }, { s.job_name, s.status, s.tags.kind })
      assert.is_nil(s.run_config)   -- a summary: get_run has the rest
    end)

    it("filters by job, status and run ids, and honours limit", function()
      settled()
      assert.same({ fail }, ids(client:runs(mine { job_name = "fail_job" })))
      assert.same({ fail }, ids(client:runs(mine { statuses = { "FAILURE" } })))
      assert.same(sorted { slow, fail }, sorted(ids(client:runs(mine { statuses = { "FAILURE", "CANCELED" } }))))
      assert.same(sorted { ok, sel }, sorted(ids(client:runs { run_ids = { ok, sel, "no-such-run" } })))
      local all = ids(client:runs(mine()))
      assert.same({ all[1], all[2] }, ids(client:runs(mine { limit = 2 })))
      assert.same({ all[3], all[4] }, ids(client:runs(mine { limit = 2, cursor = all[2] })))
      local latest = 0   -- of the setup's runs: only `ok` was created after them
      for _, r in ipairs(client:runs { run_ids = { fail, sel, cfg, slow, ok2 } }) do
        latest = math.max(latest, r.creation_time)
      end
      assert.same({ ok }, ids(client:runs(mine { created_after = latest })))
      assert.equal(6, #client:runs(mine { created_after = latest - 3600 }))
    end)

    it("takes an empty run_ids or statuses list as no runs, without a request (the server takes it as no filter)", function()
      local server = client:graphql("{ runsOrError(filter: {runIds: []}, limit: 1) { ... on Runs { results { runId } } } }")
      assert.equal(1, #server.runsOrError.results)
      local dead = dagster.client("127.0.0.1", { port_number = dead_port() })
      assert.same({}, dead:runs { run_ids = {} })
      assert.same({}, dead:runs { statuses = {} })
      assert.is_nil(dead:each_run { run_ids = {} }())
      assert.same({}, dead:wait_for_runs({}))
    end)

    it("rejects an unknown status or option as a bad argument", function()
      local ok1, e1 = pcall(client.runs, client, { statuses = { "DONE" } })
      assert.is_false(ok1)
      assert.matches("bad argument #1 to 'runs' (statuses: unknown run status 'DONE')", e1, 1, true)
      local ok2_, e2 = pcall(client.each_run, client, { limit = 3 })
      assert.is_false(ok2_)
      assert.matches("bad argument #1 to 'each_run' (unknown option 'limit')", e2, 1, true)
      local ok3, e3 = pcall(client.wait_for_run, client, "x", { interval = 0 })
      assert.is_false(ok3)
      assert.matches("interval: positive number expected", e3, 1, true)
    end)

    it("gives every run of a last page that is not full, not only its first", function()
      local order = {}
      for run in client:each_run(mine()) do order[#order + 1] = run.run_id end   -- one page
      assert.same(ids(client:runs(mine { limit = 1000 })), order)
      order = {}
      for run in client:each_run(mine { page_size = 4 }) do order[#order + 1] = run.run_id end
      assert.same(ids(client:runs(mine { limit = 1000 })), order)
    end)

    it("pages through every matching run with each_run: no duplicates, the same runs as one query, a request per page and no empty page at the end", function()
      local paging = H.client()
      local calls = record(paging)
      local seen, order = {}, {}
      for run in paging:each_run(mine { page_size = 2 }) do
        assert.is_nil(seen[run.run_id], "twice: " .. run.run_id)
        seen[run.run_id] = true
        order[#order + 1] = run.run_id
      end
      local all = ids(client:runs(mine { limit = 1000 }))
      assert.is_true(#all >= 5)
      assert.same(all, order)
      local pages = 0
      for _, c in ipairs(calls) do
        if c.opname == "DagsterLuaRuns" then
          pages = pages + 1
          assert.equal(3, c.vars.limit)         -- a page of 2, asked with one more
        end
        assert.not_equal("DagsterLuaRunStatuses", c.opname)
      end
      assert.equal(math.ceil(#all / 2), pages)
    end)
  end)

  describe("events", function()
    it("reads a finished run's events in order, from RUN_ENQUEUED to the run's success", function()
      client:wait_for_run(ok, { timeout = 120 })
      local events, st = read_all(client, ok)
      local types, at = {}, {}
      for i, ev in ipairs(events) do
        types[ev.type] = true
        if ev.event_type then at[ev.event_type] = at[ev.event_type] or i end
        assert.equal(ok, ev.run_id)
        assert.is_number(ev.timestamp)
        assert.is_string(ev.level)
        if i > 1 then assert.is_true(ev.timestamp >= events[i - 1].timestamp) end
      end
      assert.is_true(types.RunStartEvent and types.RunSuccessEvent and types.ExecutionStepSuccessEvent)
      -- the queued coordinator (dagster-up's, Dagster's default): the run waits in the queue
      -- until the daemon hands it to the run launcher (Dagster 1.13 logs no RUN_DEQUEUED event)
      assert.equal("RunEnqueuedEvent", events[1].type)
      assert.equal("RUN_ENQUEUED", events[1].event_type)
      local lifecycle = { "RUN_ENQUEUED", "RUN_STARTING", "RUN_START", "RUN_SUCCESS" }
      for i = 2, #lifecycle do
        local a, b = lifecycle[i - 1], lifecycle[i]
        assert.is_true(at[a] ~= nil and at[b] ~= nil and at[a] < at[b],
          ("%s (event %s) before %s (event %s)"):format(a, tostring(at[a]), b, tostring(at[b])))
      end
      local run = client:get_run(ok)
      assert.is_true(events[1].timestamp >= run.creation_time - 1)
      assert.is_true(math.abs(events[#events].timestamp - run.end_time) < 10)
      assert.is_true(st.done)
      assert.is_string(st.cursor)
    end)

    it("gives the same events with limit = 3 as with limit = 1000 (nothing twice, nothing skipped)", function()
      client:wait_for_run(ok, { timeout = 120 })
      local paging = H.client()
      local calls = record(paging)
      local small = read_all(paging, ok, { limit = 3 })
      local big = read_all(client, ok, { limit = 1000 })
      assert.is_true(#big > 6)
      local a, b = {}, {}
      for i, ev in ipairs(small) do a[i] = key(ev) end
      for i, ev in ipairs(big) do b[i] = key(ev) end
      assert.same(b, a)
      assert.is_true(#calls >= math.ceil(#big / 3))
    end)

    it("resumes from state.cursor taken in the middle of a page", function()
      client:wait_for_run(ok, { timeout = 120 })
      local full = read_all(client, ok)
      local it, st = client:events(ok, { limit = 3 })
      local first = {}
      for ev in it, st do
        first[#first + 1] = ev
        if #first == 4 then break end
      end
      assert.is_false(st.done)
      local rest = read_all(client, ok, { cursor = st.cursor, limit = 3 })
      assert.equal(#full, #first + #rest)
      for i, ev in ipairs(full) do
        assert.equal(key(ev), key(i <= 4 and first[i] or rest[i - 4]))
      end
    end)

    it("gives failure events the user's exception as error_message", function()
      client:wait_for_run(fail, { timeout = 120 })
      local step, run
      for _, ev in ipairs((read_all(client, fail))) do
        if ev.type == "ExecutionStepFailureEvent" then step = ev end
        if ev.type == "RunFailureEvent" then run = ev end
      end
      assert.equal("Exception: boom: intentional failure", step.error_message)
      assert.equal("Exception", step.error_class)
      assert.equal("fail_op", step.step_key)
      assert.equal("ERROR", step.level)
      assert.is_string(run.error_message)
    end)

    it("with follow = true yields events as they come and ends once the run has finished", function()
      local id = submit("succeed_job", "follow")
      assert.is_nil(FINAL[client:get_run_status(id)])
      local t0 = H.now()
      local followed, st = read_all(client, id, { follow = true, interval = 0.2 })
      assert.is_true(H.now() - t0 < 90)
      assert.is_true(st.done)
      assert.is_true(FINAL[client:get_run_status(id)] ~= nil)
      local after = read_all(client, id)
      local a, b = {}, {}
      for i, ev in ipairs(followed) do a[i] = key(ev) end
      for i, ev in ipairs(after) do b[i] = key(ev) end
      assert.same(b, a)
      local success
      for _, ev in ipairs(followed) do success = success or ev.type == "RunSuccessEvent" end
      assert.is_true(success)
    end)

    it("raises RunNotFoundError for an unknown run, and PythonError for a garbage cursor", function()
      local e = catch(client.events, client, "no-such-run")
      assert.equal("RunNotFoundError", e.name)
      local e2 = catch(client.events, client, ok, { cursor = "garbage" })
      assert.equal("PythonError", e2.name)
      assert.matches("binascii", e2.message)
    end)
  end)

  describe("reexecute and wait_for_runs", function()
    local re_fail, re_all
    setup(function()
      -- cfg too: the first case below expects it final from the start
      client:wait_for_runs({ fail, sel, cfg }, { timeout = 120 })
      re_fail = client:reexecute(fail, { strategy = "FROM_FAILURE", tags = { [TAG] = mark .. "-re" } })
      re_all = client:reexecute(sel, { strategy = "ALL_STEPS", tags = { [TAG] = mark .. "-re" } })
    end)

    it("wait_for_runs returns each final status with one runsOrError query per round", function()
      local waiting = H.client()
      local calls = record(waiting)
      local seen = {}
      local statuses = waiting:wait_for_runs({ re_fail, re_all, cfg, re_fail }, { timeout = 120,
        on_status = function(id, s) seen[id] = seen[id] or {}; table.insert(seen[id], s) end })
      assert.same({ [re_fail] = "FAILURE", [re_all] = "SUCCESS", [cfg] = "SUCCESS" }, statuses)
      assert.equal("FAILURE", seen[re_fail][#seen[re_fail]])
      assert.equal("SUCCESS", seen[re_all][#seen[re_all]])
      assert.same({ "SUCCESS" }, seen[cfg])
      for _, list in pairs(seen) do assert_changes(list) end
      assert.is_true(#calls >= 2)
      for i, c in ipairs(calls) do
        assert.equal("DagsterLuaRunStatuses", c.opname)
        if i == 1 then
          assert.same({ re_fail, re_all, cfg }, c.vars.runIds)   -- each id once
        else
          for _, id in ipairs(c.vars.runIds) do assert.are_not.equal(cfg, id) end   -- final at once
        end
      end
    end)

    it("FROM_FAILURE of the failed run launches a linked run that fails again", function()
      assert.are_not.equal(fail, re_fail)
      local status, run = client:wait_for_run(re_fail, { timeout = 120 })
      assert.equal("FAILURE", status)
      assert.equal(fail, run.parent_run_id)
      assert.equal(fail, run.root_run_id)
      assert.equal(fail, run.tags["dagster/parent_run_id"])
      assert.equal(mark .. "-re", run.tags[TAG])
      assert.equal("fail", run.tags.kind)   -- the parent's tags come along
      assert.equal("Exception: boom: intentional failure", run.failure_message)
    end)

    it("ALL_STEPS of a successful run runs every step again to SUCCESS", function()
      local status, run = client:wait_for_run(re_all, { timeout = 120 })
      assert.equal("SUCCESS", status)
      assert.equal(sel, run.parent_run_id)
      assert.equal(3, run.steps_succeeded)
    end)

    it("refuses FROM_FAILURE of a successful run (PythonError from the server)", function()
      assert.equal("SUCCESS", client:wait_for_run(ok, { timeout = 120 }))
      local e = catch(client.reexecute, client, ok, { strategy = "FROM_FAILURE" })
      assert.equal("PythonError", e.name)
      assert.equal("dagster._core.errors.DagsterInvariantViolationError: Cannot reexecute " ..
        "from failure a run that is not failed or canceled", e.message:gsub("%s+$", ""))
    end)

    it("raises PythonError 'Could not find parent run' for an unknown parent", function()
      local e = catch(client.reexecute, client, "no-such-run")
      assert.equal("PythonError", e.name)
      assert.matches("Could not find parent run with id: no-such-run", e.message, 1, true)
      assert.equal("CheckError", e.body.className)
    end)

    it("wait_for_runs raises RunNotFoundError naming the ids the server does not know", function()
      local e = catch(client.wait_for_runs, client, { ok, "no-such-run-1", "no-such-run-2" }, { timeout = 30 })
      assert.equal("RunNotFoundError", e.name)
      assert.same({ "no-such-run-1", "no-such-run-2" }, e.run_ids)
      assert.matches("no-such-run-1, no-such-run-2", e.message, 1, true)
    end)
  end)

  -- last: it deletes one of the runs above
  describe("each_run when runs are deleted while it iterates", function()
    it("goes on after the cursor run is deleted (the server then answers an empty page)", function()
      local before = {}
      for i, r in ipairs(client:runs { tags = { [TAG] = mark } }) do before[i] = r.run_id end
      assert.is_true(#before >= 5)
      local it = client:each_run { tags = { [TAG] = mark }, page_size = 2 }
      assert.equal(before[1], it().run_id)
      assert.equal(before[2], it().run_id)
      local d = client:graphql([[mutation($id: String!) { deleteRun(runId: $id) { __typename } }]], { id = before[2] })
      assert.equal("DeletePipelineRunSuccess", d.deleteRun.__typename)
      assert.same({}, client:runs { tags = { [TAG] = mark }, cursor = before[2] })
      local rest = {}
      for run in it do rest[#rest + 1] = run.run_id end
      assert.same({ table.unpack(before, 3) }, rest)
    end)
  end)
end)
