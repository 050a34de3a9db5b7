-- dagster.client: URL building as the Python client builds it, and argument errors that
-- read like Lua's own. Building a client never connects, so no server is needed here.
local dagster = require "dagster"
local H = require "helper"

local function url(host, opts) return dagster.client(host, opts).url end

describe("dagster.client URL", function()
  it("has no default port, like DagsterGraphQLClient('localhost')", function()
    assert.equal("http://localhost/graphql", url("localhost"))
  end)

  it("adds the port, the https scheme and the path prefix in the Python client's order", function()
    assert.equal("https://h:1/p/graphql", url("h", { port_number = 1, use_https = true, path_prefix = "/p" }))
    assert.equal("http://localhost:3000/dagster/graphql", url("localhost", { port_number = 3000, path_prefix = "/dagster" }))
  end)

  it("strips trailing slashes of the prefix and treats '/' and '' as no prefix", function()
    assert.equal("http://h/dagster/graphql", url("h", { path_prefix = "/dagster/" }))
    assert.equal("http://h/graphql", url("h", { path_prefix = "/" }))
    assert.equal("http://h/graphql", url("h", { path_prefix = "" }))
    assert.equal("http://h/a/b/graphql", url("h", { path_prefix = "/a/b" }))
  end)

  it("treats port 0 as no port, as the Python client does", function()
    assert.equal("http://h/graphql", url("h", { port_number = 0 }))
  end)

  it("takes a Dagster+ deployment URL with a path inside the hostname", function()
    assert.equal("https://yourorg.dagster.cloud/prod/graphql",
      url("yourorg.dagster.cloud/prod", { use_https = true, headers = { ["Dagster-Cloud-Api-Token"] = "x" } }))
  end)

  it("accepts a full http(s) URL, with or without /graphql", function()
    assert.equal("http://127.0.0.1:3000/graphql", url("http://127.0.0.1:3000"))
    assert.equal("http://127.0.0.1:3000/graphql", url("http://127.0.0.1:3000/"))
    assert.equal("https://x.example/prefix/graphql", url("https://x.example/prefix"))
    assert.equal("https://x.example/p/graphql", url("https://x.example/p/graphql"))
    assert.equal("http://h:1/pre/graphql", url("http://h:1", { path_prefix = "/pre" }))
  end)

  it("does not paste a scheme twice (the Python client gives http://http://x)", function()
    assert.equal("http://x/graphql", url("http://x"))
  end)

  it("prints as dagster.Client(url) and never shows its headers", function()
    local c = dagster.client("h", { headers = { ["Dagster-Cloud-Api-Token"] = "sekrit-token-value" } })
    assert.equal("dagster.Client(http://h/graphql)", tostring(c))
    assert.falsy(dagster.inspect(c):find("sekrit", 1, true))
    for k, v in pairs(c) do
      assert.falsy(tostring(k):find("sekrit", 1, true))
      assert.falsy(tostring(v):find("sekrit", 1, true))
    end
  end)
end)

describe("dagster.client argument errors", function()
  local function err(f)
    local ok, e = pcall(f)
    assert.is_false(ok)
    assert.is_string(e)
    return e
  end

  it("rejects a missing hostname like Lua's own functions", function()
    assert.matches("bad argument #1 to 'client' %(string expected, got no value%)", err(function() dagster.client() end))
  end)

  it("rejects a query or a fragment in the URL (/graphql would go after it), never showing it", function()
    for _, u in ipairs { "http://h/graphql?token=SECRET-Q", "https://h/x#SECRET-Q", "h?SECRET-Q" } do
      local e = err(function() dagster.client(u) end)
      assert.matches("bad argument #1 to 'client' %(a URL with a query or a fragment %(%? or #%) is not supported", e)
      assert.is_nil(e:find("SECRET-Q", 1, true), e)
    end
    assert.matches("bad argument #2 to 'client' %(path_prefix: a query or a fragment",
      err(function() dagster.client("h", { path_prefix = "/p?x" }) end))
  end)

  it("client_from_env: a URL it does not take is its url option's argument error, or a ConfigurationError naming DAGSTER_URL, never showing a secret", function()
    local cases = {
      { "http://u:SECRET-P@h/graphql?token=SECRET-Q", "http://h/graphql?...",
        "a URL with a query or a fragment %(%? or #%) is not supported" },
      { "ftp://h", "ftp://h", "only http:// and https:// URLs are supported" },
      { "http://u:SECRET-P@/x", "http:///x", "URL has no host: http:///x" },
    }
    for _, c in ipairs(cases) do
      local e = err(function() dagster.client_from_env { url = c[1] } end)
      assert.matches("bad argument #1 to 'client_from_env' %(url: " .. c[3], e)
      assert.is_nil(e:find("SECRET", 1, true), e)
      local code = ("local ok, e = pcall(require('dagster').client_from_env) " ..
        "io.write(e.name, '|', e.source, '|', e.message)")
      local out, stderr, rc = H.run(("env DAGSTER_URL=%s %s -e %s"):format(H.quote(c[1]), H.quote(H.bin), H.quote(code)))
      assert.equal(0, rc, stderr)
      assert.matches("^ConfigurationError|DAGSTER_URL|DAGSTER_URL " .. c[2]:gsub("%p", "%%%0") .. ": " .. c[3], out)
      assert.is_nil(out:find("SECRET", 1, true), out)
    end
  end)

  it("rejects a port given as a string, as the Python client does", function()
    assert.matches("bad argument #2 to 'client' %(port_number: integer expected, got string%)",
      err(function() dagster.client("h", { port_number = "3000" }) end))
  end)

  it("rejects a path_prefix without a leading slash with the Python client's message", function()
    assert.matches('path_prefix must start with "/", got: dagster',
      err(function() dagster.client("h", { path_prefix = "dagster" }) end))
  end)

  it("rejects unknown options by name (a typo is not silently ignored)", function()
    assert.matches("unknown option 'prot_number'", err(function() dagster.client("h", { prot_number = 1 }) end))
  end)

  it("points at the caller's line, not inside the module", function()
    local e = err(function() dagster.client(42) end)
    assert.matches("client_args_spec%.lua:%d+: bad argument #1 to 'client'", e)
  end)

  it("refuses, before any request and at the caller's line, a value JSON cannot carry", function()
    -- port 1 on loopback: nothing listens, so a request would be a ConnectionError instead
    local c = dagster.client("127.0.0.1", { port_number = 1, retries = 0 })
    local e = err(function() local _ = c:get_run_status("run\xff") end)
    assert.equal("string", type(e))
    assert.matches("^[^:]*client_args_spec%.lua:%d+: bad argument #1 to 'get_run_status' " ..
      "%(invalid UTF%-8 at byte 4%)$", e)
    e = err(function()
      local _ = c:submit_job_execution("j", { repository_location_name = "l", repository_name = "r",
                                               run_config = { ops = { x = { config = { f = print } } } } })
    end)
    assert.matches("^[^:]*client_args_spec%.lua:%d+: json%.encode: cannot encode value of type function " ..
                   "at %$%.executionParams%.runConfigData%.ops%.x%.config%.f$", e)
    e = err(function() local _ = c:graphql("query Q($v: String) { version }", { v = "\xc0\xaf" }) end)
    assert.matches("client_args_spec%.lua:%d+: json%.encode: invalid UTF%-8 in string at byte 1 at %$%.v$", e)
  end)

  it("refuses NaN wherever a number of seconds is taken", function()
    local nan = 0 / 0
    assert.matches("timeout: non%-negative number expected", err(function() dagster.client("h", { timeout = nan }) end))
    assert.matches("retry_delay: non%-negative number expected",
      err(function() dagster.client("h", { retry_delay = nan }) end))
    local c = dagster.client("127.0.0.1", { port_number = 1, retries = 0 })
    assert.matches("timeout: non%-negative number expected",
      err(function() c:wait_for_location("main", { timeout = nan }) end))
    assert.matches("interval: positive number expected", err(function() c:wait_for_run("r", { interval = nan }) end))
    assert.matches("created_after: number expected", err(function() c:runs({ created_after = nan }) end))
    assert.matches("bad argument #2 to 'find_submission' %(wait: non%-negative number expected, got %-?nan",
      err(function() c:find_submission("s", { wait = nan }) end))
    assert.matches("wait: non%-negative number expected, got %-1", err(function() c:find_submission("s", { wait = -1 }) end))
    assert.matches("wait: non%-negative number expected, got string",
      err(function() c:find_submission("s", { wait = "10" }) end))
  end)

  it("rejects header values with line breaks without echoing them", function()
    local e = err(function() dagster.client("h", { headers = { X = "a\r\nInjected: yes" } }) end)
    assert.matches("invalid header 'X'", e)
    assert.falsy(e:find("Injected", 1, true))
  end)

  it("checks method arguments before any request", function()
    local c = dagster.client("127.0.0.1", { port_number = 1 })
    assert.matches("bad argument #1 to 'get_run_status' %(string expected, got no value%)", err(function() c:get_run_status() end))
    assert.matches("bad argument #2 to 'submit_job_execution' %(unknown option 'runconfig'%)",
      err(function() c:submit_job_execution("j", { runconfig = {} }) end))
    assert.matches("tags: value of \"k\" cannot be a function",
      err(function() c:submit_job_execution("j", { tags = { k = print } }) end))
    assert.matches("op_selection%[2%]: string expected",
      err(function() c:submit_job_execution("j", { op_selection = { "a", 3 } }) end))
    assert.matches("bad argument #1 to 'terminate_runs' %(run_ids: table expected, got string%)",
      err(function() c:terminate_runs("abc") end))
    -- an empty job name, which the server would read as no filter (every job's runs)
    for _, call in ipairs {
      function() c:runs { job_name = "" } end,
      function() c:each_run { job_name = "" } end,
      function() c:runs_in_flight { job_name = "" } end,
    } do
      assert.matches("job_name: a job name expected, got an empty string", err(call))
    end
    -- what JSON would send as a list where the server takes an object
    assert.matches("bad argument #2 to 'graphql' %(variables: a table of names expected, got a list%)",
      err(function() c:graphql("query Q($a: Int) { version }", { 1 }) end))
    assert.matches("variables: a table of names expected, got a list",
      err(function() c:graphql("query { version }", dagster.json.array()) end))
    assert.matches("bad argument #2 to 'submit_job_execution' %(run_config: a table of names " ..
      "%(ops =, resources =, ...%) expected, got a list%)",
      err(function() c:submit_job_execution("j", { run_config = { { ops = {} } } }) end))
    assert.matches("run_config: a YAML mapping expected, got a string",
      err(function() c:submit_job_execution("j", { run_config = "ops" }) end))
    assert.matches("bad argument #2 to 'materialize' %(run_config: a YAML mapping expected, got null%)",
      err(function() c:materialize("a", { run_config = "~" }) end))
  end)
end)

describe("dagster enums", function()
  it("lists every RunStatus of the 1.13 server, SUSPENDED included", function()
    assert.same({ "QUEUED", "NOT_STARTED", "MANAGED", "STARTING", "STARTED", "SUSPENDED",
      "SUCCESS", "FAILURE", "CANCELING", "CANCELED" }, { table.unpack(dagster.RunStatus) })
    assert.equal("SUCCESS", dagster.RunStatus.SUCCESS)
  end)

  it("raises on a misspelt member instead of giving nil", function()
    assert.has_error(function() return dagster.RunStatus.SUCESS end, "RunStatus has no member 'SUCESS'")
    assert.equal("FAILURE", dagster.ReloadRepositoryLocationStatus.FAILURE)
    assert.equal("SUCCESS", dagster.ShutdownRepositoryLocationStatus.SUCCESS)
  end)
end)

describe("dagster.Error", function()
  it("prints as one line 'Name: message' and keeps its fields", function()
    local e = dagster.Error.new("PythonError", "line one\n  line two\n", { body = { x = 1 }, status = 500 })
    assert.equal("PythonError: line one line two", tostring(e))
    assert.equal("PythonError", e.name)
    assert.equal(500, e.status)
    assert.same({ x = 1 }, e.body)
    assert.is_true(dagster.Error.is(e))
    assert.is_true(dagster.Error.is(e, "PythonError"))
    assert.is_false(dagster.Error.is(e, "Other"))
    assert.is_false(dagster.Error.is({ name = "PythonError" }))
  end)
end)
