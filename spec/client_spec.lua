-- The official client's six methods against the real local Dagster under test (started once for
-- the suite by scripts/dagster-up): launching, inference, config errors, tags and selections,
-- reload and shutdown, terminate, and the failure paths, each as the server really answers.
local dagster = require "dagster"
local H = require "helper"

local catch = H.catch

local RUN_DETAILS = [[
query Details($id: ID!) {
  runOrError(runId: $id) {
    __typename
    ... on Run { jobName status tags { key value } resolvedOpSelection stepKeysToExecute
                 assetSelection { path } runConfigYaml }
  }
}]]

local function details(client, run_id)
  return client:graphql(RUN_DETAILS, { id = run_id }).runOrError
end

describe("submit_job_execution against a real Dagster", function()
  local client
  setup(function() client = H.client({ timeout = 60 }) end)

  it("infers a unique job's location and repository, and the run reaches SUCCESS", function()
    local run_id = client:submit_job_execution("succeed_job")
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", run_id)
    assert.equal("SUCCESS", H.wait_run(client, run_id))
  end)

  it("follows a failing job to FAILURE", function()
    local run_id = client:submit_job_execution("fail_job")
    assert.equal(dagster.RunStatus.FAILURE, H.wait_run(client, run_id))
  end)

  it("raises JobNotFoundError with the Python client's message for an unknown job", function()
    local e = catch(client.submit_job_execution, client, "no_such_job")
    assert.equal("JobNotFoundError", e.name)
    assert.equal("No jobs with the name `no_such_job` exist", e.message)
  end)

  it("raises AmbiguousJobError listing every location and repository for a shared name", function()
    local e = catch(client.submit_job_execution, client, "shared_job")
    assert.equal("AmbiguousJobError", e.name)
    assert.matches("multiple jobs with the name shared_job", e.message)
    assert.matches("main/__repository__", e.message, 1, true)
    assert.matches("other/__repository__", e.message, 1, true)
    assert.equal(2, #e.body)
    local locs = { e.body[1].repository_location_name, e.body[2].repository_location_name }
    table.sort(locs)
    assert.same({ "main", "other" }, locs)
  end)

  it("lets a given location narrow an ambiguous name, then launches there", function()
    local run_id = client:submit_job_execution("shared_job", { repository_location_name = "other" })
    assert.equal("SUCCESS", H.wait_run(client, run_id))
  end)

  it("does not move a job to another location than the one given (the Python client does)", function()
    local e = catch(client.submit_job_execution, client, "other_only_job", { repository_location_name = "main" })
    assert.equal("JobNotFoundError", e.name)
    assert.matches("in location `main`", e.message, 1, true)
  end)

  it("raises PipelineNotFoundError from the server when both names are given", function()
    local e = catch(client.submit_job_execution, client, "no_such_job",
      { repository_location_name = "main", repository_name = "__repository__" })
    assert.equal("PipelineNotFoundError", e.name)
    assert.equal("Could not find Pipeline main.__repository__.no_such_job", e.message)
  end)

  it("raises RunConfigValidationInvalid with the validation errors in body", function()
    local e = catch(client.submit_job_execution, client, "config_job")
    assert.equal("RunConfigValidationInvalid", e.name)
    assert.is_table(e.body)
    assert.equal("MissingFieldConfigError", e.body[1].__typename)
    assert.equal("MISSING_REQUIRED_FIELD", e.body[1].reason)
    assert.matches('Missing required config entry "ops"', e.message, 1, true)
  end)

  it("gives each config error the path of the offending field", function()
    local e = catch(client.submit_job_execution, client, "config_job",
      { run_config = { ops = { config_op = { config = { name = 42 } } } } })
    assert.equal("RunConfigValidationInvalid", e.name)
    assert.equal("RuntimeMismatchConfigError", e.body[1].__typename)
    assert.same({ "ops", "config_op", "config", "name" }, e.body[1].config_path)
  end)

  it("refuses a run config that is no mapping before launching; validate_run_config asks the server", function()
    local before = #client:runs { job_name = "succeed_job", limit = 1000 }
    for _, rc in ipairs { "just text", "- a\n- b\n", "42", { "ops" } } do
      local ok, e = pcall(client.submit_job_execution, client, "succeed_job", { run_config = rc })
      assert.is_false(ok)
      assert.matches("^bad argument #2 to 'submit_job_execution' %(run_config: a ", e)
    end
    assert.equal(before, #client:runs { job_name = "succeed_job", limit = 1000 })
    -- what the server says of such a config is what validation asks: its typed answer
    local e = catch(client.validate_run_config, client, "succeed_job", { run_config = "just text" })
    assert.equal("RunConfigValidationInvalid", e.name)
    assert.matches("Value at the root must be dict", e.message, 1, true)
    e = catch(client.validate_run_config, client, "succeed_job", { run_config = { "ops" } })
    assert.equal("RunConfigValidationInvalid", e.name)
  end)

  it("sends run_config as a table, or as a YAML string", function()
    local a = client:submit_job_execution("config_job",
      { run_config = { ops = { config_op = { config = { name = "lua" } } } } })
    local b = client:submit_job_execution("config_job",
      { run_config = "ops:\n  config_op:\n    config:\n      name: yaml\n" })
    assert.equal("SUCCESS", H.wait_run(client, a))
    assert.equal("SUCCESS", H.wait_run(client, b))
    assert.matches("name: yaml", details(client, b).runConfigYaml, 1, true)
  end)

  it("puts the tags on the run", function()
    local run_id = client:submit_job_execution("succeed_job",
      { tags = { team = "data", attempt = 2, meta = { a = 1 } } })
    local tags = {}
    for _, t in ipairs(details(client, run_id).tags) do tags[t.key] = t.value end
    assert.equal("data", tags.team)
    assert.equal("2", tags.attempt)
    assert.equal('{"a":1}', tags.meta)
    H.wait_run(client, run_id)
  end)

  it("runs only the selected ops", function()
    local run_id = client:submit_job_execution("select_job", { op_selection = { "step_c" } })
    local d = details(client, run_id)
    assert.same({ "step_c" }, d.resolvedOpSelection)
    assert.equal("SUCCESS", H.wait_run(client, run_id))
  end)

  it("raises InvalidSubsetError for an unknown op (the Python client crashes with KeyError)", function()
    local e = catch(client.submit_job_execution, client, "select_job", { op_selection = { "no_such_op" } })
    assert.equal("InvalidSubsetError", e.name)
    assert.matches("no_such_op", e.message)
  end)

  it("materializes selected assets, with keys as 'a/b' or {'a','b'}", function()
    local run_id = client:submit_job_execution("__ASSET_JOB", {
      repository_location_name = "main", repository_name = "__repository__",
      asset_selection = { "asset_one", "nested/asset_three" } })
    local paths = {}
    for _, k in ipairs(details(client, run_id).assetSelection) do paths[#paths + 1] = table.concat(k.path, "/") end
    table.sort(paths)
    assert.same({ "asset_one", "nested/asset_three" }, paths)
    assert.equal("SUCCESS", H.wait_run(client, run_id))
  end)

  it("raises InvalidSubsetError for an asset that does not exist", function()
    local e = catch(client.submit_job_execution, client, "__ASSET_JOB", {
      repository_location_name = "main", repository_name = "__repository__",
      asset_selection = { { "no", "such_asset" } } })
    assert.equal("InvalidSubsetError", e.name)
  end)
end)

describe("get_run_status", function()
  it("raises RunNotFoundError with the server's message for an unknown id", function()
    local client = H.client()
    local e = catch(client.get_run_status, client, "00000000-0000-0000-0000-000000000000")
    assert.equal("RunNotFoundError", e.name)
    assert.matches("could not be found", e.message)
  end)
end)

describe("terminate_run and terminate_runs", function()
  local client
  setup(function() client = H.client() end)

  local function started_slow_run()
    local run_id = client:submit_job_execution("slow_job")
    H.wait_step_started(client, run_id, 90)
    return run_id
  end

  it("terminates a started run until it is CANCELED", function()
    local run_id = started_slow_run()
    assert.is_nil(client:terminate_run(run_id))
    assert.equal("CANCELED", H.wait_run(client, run_id, 60))
  end)

  it("raises RunNotFoundError 'Run Id X not found' for an unknown run, as the Python client", function()
    local e = catch(client.terminate_run, client, "nope")
    assert.equal("RunNotFoundError", e.name)
    assert.equal("Run Id nope not found", e.message)
  end)

  it("raises TerminateRunFailure for a finished run", function()
    local run_id = client:submit_job_execution("succeed_job")
    H.wait_run(client, run_id)
    local e = catch(client.terminate_run, client, run_id)
    assert.equal("TerminateRunFailure", e.name)
    assert.matches("could not be terminated due to having status SUCCESS", e.message, 1, true)
  end)

  it("reports which runs could not be terminated and terminates the others", function()
    local slow = started_slow_run()
    local e = catch(client.terminate_runs, client, { slow, "missing-run" })
    assert.equal("TerminateRunsError", e.name)
    assert.matches("^Some runs could not be terminated: RunNotFoundError", e.message)
    assert.same({ run_id = "missing-run", name = "RunNotFoundError" },
      { run_id = e.body[1].run_id, name = e.body[1].name })
    assert.equal("CANCELED", H.wait_run(client, slow, 60))
    local e2 = catch(client.terminate_runs, client, { "missing-a", "missing-b" })
    assert.matches("^All run terminations failed:", e2.message)
    assert.equal(2, #e2.body)
  end)

  it("sends nothing for an empty list (the server answers [] with a PythonError)", function()
    local refused = dagster.client("127.0.0.1", { port_number = 1 })
    assert.is_nil(refused:terminate_runs({}))
  end)

  it("force-cancels with MARK_AS_CANCELED_IMMEDIATELY", function()
    local run_id = started_slow_run()
    client:terminate_run(run_id, { force = true })
    assert.equal("CANCELED", client:get_run_status(run_id))
  end)
end)

describe("reload_repository_location and shutdown_repository_location", function()
  local client
  setup(function() client = H.client() end)

  it("reloads a location: SUCCESS", function()
    assert.same({ status = "SUCCESS" }, client:reload_repository_location("main"))
  end)

  it("reports an unknown location as FAILURE RepositoryLocationNotFound without raising", function()
    local r = client:reload_repository_location("nope")
    assert.equal(dagster.ReloadRepositoryLocationStatus.FAILURE, r.status)
    assert.equal("RepositoryLocationNotFound", r.failure_type)
    assert.equal("Location nope does not exist.", r.message)
  end)

  it("reports broken code as FAILURE PythonError, and recovers once the code is fixed", function()
    local path = H.state_dir() .. "/file_loc/defs_file.py"
    local f = assert(io.open(path)); local good = f:read("a"); f:close()
    f = assert(io.open(path, "w")); f:write('raise Exception("broken on purpose")\n'); f:close()
    local ok, r = pcall(client.reload_repository_location, client, "file_loc")
    f = assert(io.open(path, "w")); f:write(good); f:close()
    assert.is_true(ok, tostring(r))
    assert.equal("FAILURE", r.status)
    assert.equal("PythonError", r.failure_type)
    assert.matches("DagsterUserCodeLoadError", r.message)
    assert.same({ status = "SUCCESS" }, client:reload_repository_location("file_loc"))
  end)

  it("shuts down a gRPC location (SUCCESS); the supervised server comes back", function()
    assert.same({ status = "SUCCESS" }, client:shutdown_repository_location("victim"))
    H.wait_until("victim to come back", function()
      return client:reload_repository_location("victim").status == "SUCCESS"
        and client:submit_job_execution("victim_job")
    end, 90, 1)
  end)

  it("reports FAILURE with the server's message for a python_file location (HTTP 500)", function()
    local r = client:shutdown_repository_location("file_loc")
    assert.equal("FAILURE", r.status)
    assert.equal("PythonError", r.failure_type)
    assert.matches("does not support shutting down via GraphQL", r.message, 1, true)
    local r2 = client:shutdown_repository_location("not_real")
    assert.same({ status = "FAILURE", failure_type = "RepositoryLocationNotFound",
                  message = "Location not_real does not exist." }, r2)
  end)
end)

describe("errors from the transport and the server", function()
  it("raises ConnectionError naming the URL when nothing listens", function()
    local port = tonumber((H.run([[python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])']])))
    local client = dagster.client("127.0.0.1", { port_number = port,
      headers = { ["Dagster-Cloud-Api-Token"] = "tok-SECRET-123" } })
    local e = catch(client.get_run_status, client, "x")
    assert.equal("ConnectionError", e.name)
    assert.matches("http://127.0.0.1:" .. port .. "/graphql", e.message, 1, true)
    assert.equal("http://127.0.0.1:" .. port .. "/graphql", e.url)
    local line = tostring(e)
    assert.falsy(line:find("\n"))
    assert.falsy(line:find("SECRET", 1, true))
    assert.matches("^ConnectionError: could not connect to", line)
  end)

  it("raises HTTPError 405 for a wrong path_prefix (the webserver's plain-text answer)", function()
    local client = dagster.client(H.url(), { path_prefix = "/wrong" })
    local e = catch(client.get_run_status, client, "x")
    assert.equal("HTTPError", e.name)
    assert.equal(405, e.status)
    assert.matches("Method Not Allowed", e.message)
    assert.matches("path_prefix", e.message)
  end)

  it("keeps the server's own message for GraphQL validation errors (HTTP 400)", function()
    local client = H.client()
    local e = catch(client.graphql, client, "query { nosuchfield }")
    assert.equal("GraphQLError", e.name)
    assert.equal(400, e.status)
    assert.equal("Cannot query field 'nosuchfield' on type 'Query'.", e.message)
    assert.is_table(e.body)
  end)

  it("decodes JSON integers as Lua integers and null as dagster.null", function()
    local client = H.client()
    local data = client:graphql("{ runsOrError(limit: 1, filter: {statuses: [SUCCESS]}) { __typename ... on Runs { count results { endTime parentRunId } } } }")
    assert.equal("integer", math.type(data.runsOrError.count))
    assert.equal(dagster.null, data.runsOrError.results[1].parentRunId)
    assert.equal("float", math.type(data.runsOrError.results[1].endTime))
  end)

  it("sends an empty list as [] (the server rejects {} for a list variable)", function()
    local client = H.client()
    local doc = "query($ids: [String]) { runsOrError(filter: {runIds: $ids}, limit: 1) { __typename } }"
    assert.equal("Runs", client:graphql(doc, { ids = dagster.array() }).runsOrError.__typename)
    local e = catch(client.graphql, client, doc, { ids = {} })
    assert.equal("GraphQLError", e.name)
    assert.matches("Variable '$ids' got invalid value", e.message, 1, true)
  end)

  it("keeps one connection per client, across mutations sent on fresh connections", function()
    local port = tonumber(H.url():match(":(%d+)$"))
    local before = H.own_connections(port)
    local function new_ones()
      local n = 0
      for inode in pairs(H.own_connections(port)) do
        if not before[inode] then n = n + 1 end
      end
      return n
    end
    local client = H.client()
    local run_id = client:submit_job_execution("succeed_job")   -- a query, then a mutation
    assert.equal(1, new_ones())
    assert.equal("SUCCESS", client:reload_repository_location("main").status)  -- a mutation
    assert.equal(1, new_ones())
    assert.is_string(client:get_run_status(run_id))              -- a query on the kept one
    assert.equal(1, new_ones())
    H.wait_run(client, run_id)
  end)

  -- runs fn(port) with spec/fixtures/header_proxy.py in front of the deployment on that port;
  -- returns the proxy's log, a JSON line per request with its headers as sent
  local function through_proxy(fn)
    local portfile = os.tmpname()
    os.remove(portfile)
    os.execute(("python3 %s/spec/fixtures/header_proxy.py %s %s >/dev/null 2>&1 & echo $! > %s.pid")
      :format(H.root, H.quote(H.url()), H.quote(portfile), H.quote(portfile)))
    local port = H.wait_until("the proxy to listen", function()
      local f = io.open(portfile); if not f then return nil end
      local p = tonumber(f:read("a")); f:close(); return p
    end, 20, 0.1)
    local ok, err = pcall(fn, port)
    local log = H.slurp(portfile .. ".log") or ""
    os.execute("kill $(cat " .. H.quote(portfile .. ".pid") .. ") 2>/dev/null")
    os.remove(portfile); os.remove(portfile .. ".log"); os.remove(portfile .. ".pid")
    assert.is_true(ok, tostring(err))
    return log
  end

  -- the value of header `name` (lower case) in each request of a proxy's log (false: none)
  local function header_values(log, name)
    local out = {}
    for line in log:gmatch("[^\n]+") do
      local value = false
      for _, pair in ipairs(dagster.json.decode(line).headers) do
        if pair[1]:lower() == name then value = pair[2] end
      end
      out[#out + 1] = value
    end
    return out
  end

  it("sends custom headers such as Dagster-Cloud-Api-Token (seen by a loopback proxy)", function()
    local log = through_proxy(function(port)
      local client = dagster.client("127.0.0.1", { port_number = port,
        headers = { ["Dagster-Cloud-Api-Token"] = "user:token-abc" } })
      assert.equal(H.version(), client:version())
      assert.equal(H.version(), client:version())
    end)
    local values = header_values(log, "dagster-cloud-api-token")
    assert.same({ "user:token-abc", "user:token-abc" }, values)
  end)

  it("sends a URL's user:password as Basic auth, and shows the URL without it everywhere", function()
    local shown = {}
    local log = through_proxy(function(port)
      -- percent-encoded in the URL ("p@ss:w%rd"), sent decoded
      local client = dagster.client(("http://ops:p%%40ss%%3Aw%%25rd@127.0.0.1:%d"):format(port))
      shown[#shown + 1] = tostring(client)
      shown[#shown + 1] = client.url
      assert.equal(H.version(), client:version())
      -- a task's request (the multi interface) carries them too
      assert.equal(H.version(), dagster.run(function() return client:version() end))
      local bad = H.catch(client.get_run, client, "no-such-run")
      shown[#shown + 1] = tostring(bad)
      shown[#shown + 1] = dagster.json.encode { url = bad.url, message = bad.message }
      local wrong = dagster.client(("http://ops:p%%40ss%%3Aw%%25rd@127.0.0.1:%d/nope"):format(port),
        { retries = 0 })
      local e = H.catch(wrong.version, wrong)
      assert.equal("HTTPError", e.name)
      shown[#shown + 1] = tostring(e)
      shown[#shown + 1] = tostring(e.url)
      local okc, empty = pcall(dagster.client, "http://ops:p%40ss@/x")
      assert.is_false(okc)
      assert.matches("URL has no host", empty)
      shown[#shown + 1] = tostring(empty)
    end)
    for _, text in ipairs(shown) do
      assert.is_nil(text:find("p%40ss", 1, true), text)
      assert.is_nil(text:find("ops:", 1, true), text)
      assert.is_nil(text:find("@", 1, true), text)
    end
    assert.matches("^dagster%.Client%(http://127%.0%.0%.1:%d+/graphql%)$", shown[1])
    local values = header_values(log, "authorization")
    assert.is_true(#values >= 4, log)   -- version twice (once in a task), get_run, the wrong path
    for _, v in pairs(values) do
      assert.equal("Basic b3BzOnBAc3M6dyVyZA==", v)   -- base64 of "ops:p@ss:w%rd"
    end
  end)
end)
