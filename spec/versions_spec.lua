-- What differs between the Dagster versions dagster-lua supports (1.10 to 1.13), pinned against
-- the real server under test (DAGSTER_VERSION=x.y.z make test picks it): the capability probe
-- (one request per client, only for the methods that need it), run statuses an old server
-- lacks (UnsupportedError), assets before Asset.latestMaterializationTimestamp, jobs without
-- Job.isAssetJob (it raises on 1.11), and RunFailureEvent's error (null before 1.13).
-- Each spec says what the server under test should answer, by its version, and checks both
-- the server's own answer and the module's.
local dagster = require "dagster"
local H = require "helper"

local catch = H.catch

local PROXY = H.root .. "/spec/support/drop_proxy.py"

-- the server's own RunStatus values, asked directly (not through dagster.capabilities)
local function server_run_statuses(client)
  local t = client:graphql([[query DagsterLuaSpecStatuses {
    __type(name: "RunStatus") { enumValues(includeDeprecated: true) { name } } }]]).__type
  local s = {}
  for _, v in ipairs(t.enumValues) do s[v.name] = true end
  return s
end

-- a proxy in front of the real server that logs every request's operation name
-- (spec/support/drop_proxy.py forwards everything that is not under /first, /all, /refuse)
local proxy
local function through()
  return dagster.client(("http://127.0.0.1:%d"):format(proxy.port), { timeout = 60 })
end

-- the operation names the proxy has logged so far
local function ops()
  local out = {}
  for line in (H.slurp(proxy.portfile .. ".log") or ""):gmatch("[^\n]+") do
    out[#out + 1] = assert(dagster.json.decode(line)).op
  end
  return out
end

local function count(list, op, from)
  local n = 0
  for i = (from or 0) + 1, #list do if list[i] == op then n = n + 1 end end
  return n
end

local PROBE = "DagsterLuaCapabilities"

describe("on the Dagster version under test", function()
  local client
  setup(function()
    client = H.client({ timeout = 60 })
    proxy = H.start_server("the drop proxy", PROXY, function(portfile)
      return H.quote(H.url()) .. " " .. portfile
    end)
  end)
  teardown(function() H.stop_server(proxy) end)

  describe("the capability probe", function()
    it("is not made by the calls that need no capability", function()
      local c = through()
      local before = #ops()
      assert.equal(H.version(), c:version())
      assert.equal("RunNotFoundError", catch(c.get_run_status, c, "no-such-run").name)
      assert.is_table(c:runs { statuses = { "FAILURE", "SUCCESS" }, limit = 1 })
      assert.is_table(c:jobs())
      assert.is_table(c:repositories())
      assert.is_table(c:locations())
      local seen = ops()
      assert.equal(6, #seen - before, "requests: " .. table.concat(seen, ", ", before + 1))
      assert.equal(0, count(seen, PROBE, before))
    end)

    it("is made once per client, by the first call that needs it, before that call's own request", function()
      local c = through()
      local before = #ops()
      assert.is_table(c:assets())
      local seen = ops()
      assert.same({ PROBE, "DagsterLuaAssets" }, { table.unpack(seen, before + 1) })
      assert.is_table(c:assets { limit = 1 })
      pcall(c.runs, c, { statuses = { "SUSPENDED" } })
      pcall(c.each_run, c, { statuses = { "SUSPENDED", "FAILURE" } })
      assert.is_table(c:assets { prefix = "nested" })
      assert.equal(1, count(ops(), PROBE, before))
      -- another client asks again
      local c2 = through()
      assert.is_table(c2:assets { limit = 1 })
      assert.equal(2, count(ops(), PROBE, before))
    end)

    it("is made once by a client's tasks that all need it at the same time", function()
      local c = through()
      local before = #ops()
      local tasks = {}
      for i = 1, 4 do tasks[i] = dagster.spawn(c.assets, c, { limit = 1 }) end
      for _, list in ipairs(dagster.gather(tasks)) do assert.is_table(list) end
      local seen = ops()
      assert.equal(1, count(seen, PROBE, before))
      assert.equal(4, count(seen, "DagsterLuaAssets", before))
    end)

    it("that says nothing (introspection refused) leaves the choices to what every version takes", function()
      local caps = require "dagster.capabilities"
      local c = through()
      c._capabilities = caps.from_answer({})  -- what a refused probe leaves
      assert.is_false(c._capabilities.asset_latest_materialization)
      assert.is_nil(c._capabilities.run_statuses)
      local before = #ops()
      local by_path = {}
      for _, a in ipairs(c:assets()) do by_path[a.path] = a end
      assert.is_table(by_path.asset_one)
      if server_run_statuses(client).SUSPENDED then
        assert.is_table(c:runs { statuses = { "SUSPENDED" }, limit = 1 })
      else  -- the server answers for itself
        assert.equal("GraphQLError", catch(c.runs, c, { statuses = { "SUSPENDED" } }).name)
      end
      local seen = ops()
      assert.equal(0, count(seen, PROBE, before))
      assert.equal(1, count(seen, "DagsterLuaRuns", before))
    end)

    it("reads the server's version, asset fields and run statuses", function()
      local caps = require("dagster.capabilities").get(H.client())
      assert.equal(H.version(), caps.version)
      assert.is_true(caps.asset_fields.key)
      assert.equal(H.version_at_least("1.11"), caps.asset_latest_materialization)
      assert.same(server_run_statuses(client), caps.run_statuses)
      assert.is_true(caps.run_statuses.SUCCESS)
    end)
  end)

  describe("run statuses", function()
    it("SUSPENDED exists from 1.13 on", function()
      assert.equal(H.version_at_least("1.13"), server_run_statuses(client).SUSPENDED == true)
    end)

    it("runs{statuses = {'SUSPENDED'}} lists SUSPENDED runs where the server has the status, " ..
       "and raises UnsupportedError where it does not", function()
      if server_run_statuses(client).SUSPENDED then
        local list = client:runs { statuses = { "SUSPENDED" }, limit = 5 }
        assert.is_table(list)
        for _, r in ipairs(list) do assert.equal("SUSPENDED", r.status) end
        local n = 0
        for r in client:each_run { statuses = { "SUSPENDED", "FAILURE" }, page_size = 2 } do
          assert.is_truthy(r.status == "SUSPENDED" or r.status == "FAILURE", r.status)
          n = n + 1
          if n == 4 then break end
        end
      else
        -- the server itself would answer with a variable coercion error
        local raw = catch(client.graphql, client, [[query DagsterLuaSpecSuspended {
          runsOrError(filter: {statuses: [SUSPENDED]}) { __typename } }]])
        assert.equal("GraphQLError", raw.name)
        for _, call in ipairs { client.runs, client.each_run } do
          local e = catch(call, client, { statuses = { "FAILURE", "SUSPENDED" } })
          assert.equal("UnsupportedError", e.name)
          assert.matches("has no run status SUSPENDED", e.message, 1, true)
          assert.matches("Dagster " .. H.version(), e.message, 1, true)
          assert.equal("RunStatus.SUSPENDED", e.feature)
          assert.equal(H.version(), e.server_version)
        end
      end
    end)

    it("a misspelt status is still an argument error, with no request", function()
      local c = through()
      local before = #ops()
      assert.error_matches(function() c:runs { statuses = { "SUSPENDEDD" } } end,
        "unknown run status 'SUSPENDEDD'", 1, true)
      assert.equal(before, #ops())
    end)
  end)

  describe("assets", function()
    it("give the latest materialization as the server records it, with or without " ..
       "Asset.latestMaterializationTimestamp", function()
      local run_id = client:materialize({ "asset_one", "asset_two" })  -- two needs one
      assert.equal("SUCCESS", H.wait_run(client, run_id))
      local t
      for _, a in ipairs(client:assets()) do
        if a.path == "asset_two" then t = a.latest_materialization end
      end
      assert.is_number(t)
      assert.is_true(math.abs(t - os.time()) < 600, "latest_materialization " .. tostring(t))
      -- the newest materialization event (what servers before 1.11 are asked)
      local nodes = client:graphql([[query DagsterLuaSpecEvents {
        assetsOrError(prefix: ["asset_two"]) { __typename ... on AssetConnection {
          nodes { key { path } assetMaterializations(limit: 1) { timestamp runId } } } } }]])
        .assetsOrError.nodes
      assert.equal(run_id, nodes[1].assetMaterializations[1].runId)
      assert.is_true(math.abs(tonumber(nodes[1].assetMaterializations[1].timestamp) / 1000 - t)
        < 0.002)
      local LATEST = [[query DagsterLuaSpecLatest {
        assetsOrError(prefix: ["asset_two"]) { __typename ... on AssetConnection {
          nodes { latestMaterializationTimestamp } } } }]]
      if H.version_at_least("1.11") then
        local latest = client:graphql(LATEST).assetsOrError.nodes[1].latestMaterializationTimestamp
        assert.is_true(math.abs(latest / 1000 - t) < 0.002, ("%s vs %s"):format(latest, t))
      else
        local e = catch(client.graphql, client, LATEST)
        assert.equal("GraphQLError", e.name)
        assert.matches("latestMaterializationTimestamp", e.message, 1, true)
      end
    end)
  end)

  describe("jobs and repositories", function()
    local ASSET_JOBS = [[query DagsterLuaSpecIsAssetJob {
      repositoriesOrError { __typename ... on RepositoryConnection {
        nodes { name location { name } jobs { name isAssetJob } } } } }]]

    it("is_asset_job is what the server's Job.isAssetJob answers, where that works", function()
      local mine = {}
      for _, j in ipairs(client:jobs()) do
        mine[j.location .. "/" .. j.repository .. "/" .. j.name] = j.is_asset_job
      end
      assert.is_true(mine["main/__repository__/__ASSET_JOB"])
      assert.is_false(mine["main/__repository__/succeed_job"])
      local ok, data = pcall(client.graphql, client, ASSET_JOBS)
      if not ok then
        -- Dagster 1.11's resolver raises for every job that is not the implicit asset job
        assert.equal("GraphQLError", data.name)
        assert.matches("'GrapheneJob' object has no attribute '_batch_loader'", data.message, 1, true)
        assert.matches("^1%.11%.", H.version())
        return
      end
      local n = 0
      for _, repo in ipairs(data.repositoriesOrError.nodes) do
        for _, job in ipairs(repo.jobs) do
          local k = repo.location.name .. "/" .. repo.name .. "/" .. job.name
          assert.equal(job.isAssetJob, mine[k], k)
          n = n + 1
        end
      end
      assert.is_true(n >= 10, "jobs compared: " .. n)
    end)

    it("repositories() lists every loaded repository", function()
      local got = {}
      for _, r in ipairs(client:repositories()) do got[#got + 1] = r.location .. "/" .. r.name end
      table.sort(got)
      assert.same({ "file_loc/__repository__", "main/__repository__", "other/__repository__",
                    "victim/__repository__" }, got)
    end)
  end)

  describe("a failed run's events", function()
    local run_id
    setup(function()
      run_id = client:submit_job_execution("fail_job", {
        tags = { ["dagster-lua-spec/versions"] = tostring(os.time()) } })
      assert.equal("FAILURE", H.wait_run(client, run_id))
    end)

    local LOGS = [[query DagsterLuaSpecRunFailure($id: ID!) {
      logsForRun(runId: $id) { __typename ... on EventConnection { events { __typename
        ... on RunFailureEvent { error { message } } } } } }]]

    it("the server gives RunFailureEvent an error from 1.13 on, null before", function()
      local found
      for _, e in ipairs(client:graphql(LOGS, { id = run_id }).logsForRun.events) do
        if e.__typename == "RunFailureEvent" then found = e end
      end
      assert.is_table(found)
      assert.equal(H.version_at_least("1.13"), found.error ~= dagster.null)
    end)

    it("give the RunFailureEvent the failed step's error on every version", function()
      local step, run
      for ev in client:events(run_id) do
        if ev.type == "ExecutionStepFailureEvent" then step = ev end
        if ev.type == "RunFailureEvent" then run = ev end
      end
      assert.equal("Exception: boom: intentional failure", step.error_message)
      assert.equal(step.error_message, run.error_message)
      assert.equal(step.error_class, run.error_class)
    end)

    it("do so from a cursor past the step failure, with at most one more read of the log", function()
      local c = through()
      local it, st = c:events(run_id, { limit = 2 })
      local cursor
      for ev in it, st do
        if ev.type == "ExecutionStepFailureEvent" then cursor = st.cursor; break end
      end
      assert.is_string(cursor)
      local before = #ops()
      local run
      for ev in c:events(run_id, { cursor = cursor, limit = 1000 }) do
        if ev.type == "RunFailureEvent" then run = ev end
      end
      assert.equal("Exception: boom: intentional failure", run.error_message)
      assert.equal("Exception", run.error_class)
      -- one page from the cursor; before 1.13 one more read from the start
      local reads = count(ops(), "DagsterLuaLogsForRun", before)
      assert.equal(H.version_at_least("1.13") and 1 or 2, reads)
    end)
  end)
end)
