-- Dagster+ as a target (issue 24), through spec/support/cloud_front.py: a loopback HTTPS front
-- with its own CA that behaves as the service does where it matters, over two real
-- deployments: "prod" is the suite's Dagster (DAGSTER_URL) and "staging" a second, light
-- webserver started here (spec/support/cloud_up: one python_file location with staging_job).
-- The cases pin what the client does against each behaviour (429 and 503 with Retry-After,
-- maintenance answers, ReloadNotSupported, the organization's base).
-- spec/support/CLOUD_NOTES.md says where each answer's shape comes from.
local dagster = require "dagster"
local H = require "helper"

local TOKEN = "tok-cloud-front-SECRET"
local FRONT = H.root .. "/spec/support/cloud_front.py"
local CLOUD_UP = H.root .. "/spec/support/cloud_up"
local TOKEN_HEADER = "Dagster-Cloud-Api-Token"

local JOBS = [[
query CloudFrontJobs {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { location { name } jobs { name } } }
  }
}]]

-- the dagster-cloud CLI's own query (dagster_cloud_cli/gql.py, FULL_DEPLOYMENTS_QUERY)
local CLI_DEPLOYMENTS = [[
query CliDeploymentsQuery {
    fullDeployments {
        deploymentName
        deploymentId
        deploymentType
    }
}]]

-- the set of job names a client's deployment has
local function jobs_of(c)
  local r = c:graphql(JOBS).repositoriesOrError
  assert.equal("RepositoryConnection", r.__typename)
  local names = {}
  for _, repo in ipairs(r.nodes) do
    for _, j in ipairs(repo.jobs) do names[j.name] = true end
  end
  return names
end

-- calls fn(), which must raise a dagster.Error named `name`; returns it
local function expect_error(name, fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, ("expected %s, the call returned %s"):format(name, dagster.inspect(e)))
  assert.is_true(dagster.Error.is(e), "expected a dagster.Error, got " .. tostring(e))
  assert.equal(name, e.name, tostring(e))
  assert.is_nil(tostring(e):find(TOKEN, 1, true), "the token appears in the error")
  return e
end

describe("the Dagster+ front", function()
  local staging  -- {state =, url =}

  setup(function()
    local t0 = H.now()
    local out, err, code = H.run("bash " .. H.quote(CLOUD_UP))
    assert(code == 0, "spec/support/cloud_up failed:\n" .. err)
    staging = { state = out:match("DAGSTER_LUA_STATE=(%S+)"), url = out:match("DAGSTER_URL=(%S+)") }
    assert(staging.state and staging.url, "cloud_up printed no state or URL:\n" .. out)
    io.stderr:write(("cloud_front_spec: the second webserver took %.1f s to start\n")
      :format(H.now() - t0))
  end)

  teardown(function()
    if staging then
      local _, err, code = H.run("bash " .. H.quote(CLOUD_UP) .. " stop " .. H.quote(staging.state))
      assert(code == 0, "cloud_up stop failed:\n" .. err)
    end
  end)

  -- Starts a front over prod and staging; `extra` adds command-line words. Its files live in
  -- srv.dir: ca.pem, log, and the control files maintenance and unavailable.
  local function start_front(extra)
    local srv = H.start_server("the Dagster+ front", FRONT, function(portfile)
      local dir = portfile:gsub("/port'$", "'")
      return ("--port-file %s --token %s --deployment prod=%s --deployment staging=%s " ..
        "--log %s/log --maintenance-file %s/maintenance --unavailable-file %s/unavailable " ..
        "--lifetime 600 %s"):format(portfile, H.quote(TOKEN), H.quote(H.url()),
        H.quote(staging.url), dir, dir, dir, extra or "")
    end)
    srv.ca = srv.dir .. "/ca.pem"
    return srv
  end

  -- a client of the front at `path` ("/prod", "/staging", "" for the organization's base),
  -- trusting the front's CA and sending the token; opts override (headers = {}: no token;
  -- cainfo = false: the system's CAs)
  local function client(srv, path, opts)
    local o = { cainfo = srv.ca, timeout = 30, headers = { [TOKEN_HEADER] = TOKEN } }
    for k, v in pairs(opts or {}) do o[k] = v end
    if o.cainfo == false then o.cainfo = nil end
    return dagster.client(("https://127.0.0.1:%d%s"):format(srv.port, path), o)
  end

  -- the front's log, one table per request, from entry `from` (1-based) on
  local function log(srv, from)
    local out, i = {}, 0
    for line in (H.slurp(srv.dir .. "/log") or ""):gmatch("[^\n]+") do
      i = i + 1
      if i >= (from or 1) then out[#out + 1] = assert(dagster.json.decode(line)) end
    end
    return out
  end
  local function mark(srv) return #log(srv) + 1 end

  local function write(path, text)
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
  end

  describe("without a rate limit", function()
    local srv
    setup(function() srv = start_front() end)
    teardown(function() H.stop_server(srv) end)

    it("serves each deployment at /DEPLOYMENT/graphql, over HTTPS with its own CA", function()
      local from = mark(srv)
      local prod, stg = client(srv, "/prod"), client(srv, "/staging")
      assert.equal(H.client():version(), prod:version())
      local pj, sj = jobs_of(prod), jobs_of(stg)
      assert.is_true(pj.succeed_job, "prod is the main deployment")
      assert.is_nil(pj.staging_job)
      assert.is_true(sj.staging_job, "staging is the second webserver")
      assert.is_nil(sj.succeed_job)
      local seen = {}
      for _, e in ipairs(log(srv, from)) do
        assert.equal(200, e.status)
        assert.is_true(e.forwarded)
        seen[e.deployment .. " " .. e.op] = true
      end
      assert.is_true(seen["prod DagsterLuaVersion"] and seen["prod CloudFrontJobs"]
        and seen["staging CloudFrontJobs"] or false, dagster.inspect(seen))
    end)

    it("is not trusted without cainfo: TLSError", function()
      local c = client(srv, "/prod", { cainfo = false })
      expect_error("TLSError", c.version, c)
    end)

    it("answers 401 without the token or with another one: HTTPError 401, not retried", function()
      local from = mark(srv)
      local e = expect_error("HTTPError", function()
        return client(srv, "/prod", { headers = {} }):version()
      end)
      assert.equal(401, e.status)
      e = expect_error("HTTPError", function()
        return client(srv, "/prod", { headers = { [TOKEN_HEADER] = "tok-wrong" } }):version()
      end)
      assert.equal(401, e.status)
      local entries = log(srv, from)
      assert.equal(2, #entries, "one request each: a 401 is not retried")
      for _, x in ipairs(entries) do
        assert.equal("unauthorized", x.answer)
        assert.is_false(x.forwarded)
      end
    end)

    it("answers every request with the maintenance shape while the file exists; the client waits", function()
      local file = srv.dir .. "/maintenance"
      finally(function() os.remove(file) end)
      write(file, '{"message": "upgrading the control plane", "timeout": 60, "retry_interval": 1}')
      local from = mark(srv)
      -- longer than the call's deadline: MaintenanceError with the service's message, once
      -- the deadline is near, having tried again every retry_interval
      local t0 = H.now()
      local e = expect_error("MaintenanceError", function()
        return client(srv, "/prod", { timeout = 2.5 }):version()
      end)
      assert.equal("upgrading the control plane", e.message)
      assert.equal(1, e.retry_interval)
      assert.is_true(H.now() - t0 < 2.6, "raised by the deadline")
      local entries = log(srv, from)
      assert.is_true(#entries >= 2 and #entries <= 3, #entries .. " requests")
      for _, x in ipairs(entries) do
        assert.is_true(x.maintenance)
        assert.equal(503, x.status)
      end
      -- shorter than the deadline: waited out, and the call succeeds
      from = mark(srv)
      local c = client(srv, "/prod", { timeout = 30 })
      local lift = dagster.spawn(function() dagster.sleep(1.5); os.remove(file) end)
      local v = dagster.spawn(c.version, c)
      local got = dagster.gather({ v, lift })
      assert.equal(H.client():version(), got[1])
      entries = log(srv, from)
      assert.is_true(entries[1].maintenance)
      assert.is_false(entries[#entries].maintenance)
      assert.equal(200, entries[#entries].status)
    end)

    it("answers 503 with Retry-After on demand; the client waits as long as it asks", function()
      local file = srv.dir .. "/unavailable"
      finally(function() os.remove(file) end)
      write(file, '{"count": 1, "retry_after": 2}')
      local from = mark(srv)
      assert.equal(H.client():version(), client(srv, "/prod", { retry_delay = 0.05 }):version())
      local entries = log(srv, from)
      assert.equal(2, #entries, dagster.inspect(entries))
      assert.equal(503, entries[1].status)
      assert.equal("2", entries[1].retry_after)
      assert.equal(200, entries[2].status)
      assert.is_true(entries[2].t - entries[1].t >= 1.9, "the retry came before Retry-After")
      assert.is_nil(io.open(file), "the front removes the file after `count` answers")
    end)

    it("answers a reload with ReloadNotSupported, without forwarding it", function()
      local from = mark(srv)
      assert.same({ status = "FAILURE", failure_type = "ReloadNotSupported",
                    message = "Location staging_loc does not support reloading." },
        client(srv, "/staging"):reload_repository_location("staging_loc"))
      assert.same({ status = "FAILURE", failure_type = "ReloadNotSupported",
                    message = "Location file_loc does not support reloading." },
        client(srv, "/prod"):reload_repository_location("file_loc"))
      local r = client(srv, "/staging"):reload_repository_location("no_such_location")
      assert.equal("RepositoryLocationNotFound", r.failure_type)
      local answers = {}
      for _, e in ipairs(log(srv, from)) do
        assert.equal("DagsterLuaReloadLocation", e.op)
        assert.is_false(e.forwarded)
        answers[#answers + 1] = e.answer
      end
      assert.same({ "reload_not_supported", "reload_not_supported", "location_not_found" },
        answers)
    end)

    it("lists the deployments at the organization's base, as the CLI asks", function()
      local org = client(srv, "")
      assert.equal(("https://127.0.0.1:%d/graphql"):format(srv.port), org.url)
      assert.same({
        { deploymentName = "prod", deploymentId = 1, deploymentType = "PRODUCTION" },
        { deploymentName = "staging", deploymentId = 2, deploymentType = "PRODUCTION" },
      }, org:graphql(CLI_DEPLOYMENTS).fullDeployments)
      local cur = client(srv, "/staging"):graphql(
        "query Current { currentDeployment { __typename deploymentName } }").currentDeployment
      assert.same({ __typename = "DagsterCloudDeployment", deploymentName = "staging" }, cur)
    end)

    it("answers a deployment's query at the organization's base with a GraphQL error", function()
      local e = expect_error("GraphQLError", function() return client(srv, ""):version() end)
      assert.truthy(e.message:find("No deployment selected", 1, true), e.message)
    end)

    it("picks the deployment from Dagster-Cloud-Deployment at the organization's base", function()
      local c = client(srv, "", { headers = { [TOKEN_HEADER] = TOKEN,
                                              ["Dagster-Cloud-Deployment"] = "staging" } })
      assert.is_true(jobs_of(c).staging_job)
    end)

    it("answers 404 for an unknown deployment: HTTPError that says the URL is wrong", function()
      local e = expect_error("HTTPError", function()
        return client(srv, "/nope", { retries = 0 }):version()
      end)
      assert.equal(404, e.status)
      assert.is_true(e.not_graphql)
    end)
  end)

  describe("with a rate limit", function()
    it("answers 429 past the burst; the client waits as Retry-After asks, or raises RateLimitError at once", function()
      local srv = start_front("--rate 0.5 --burst 2")
      finally(function() H.stop_server(srv) end)
      local c = client(srv, "/prod")
      c:version()
      c:version()
      local t0 = H.now()
      assert.equal(H.client():version(), c:version())      -- the third waits for its token
      local entries = log(srv)
      assert.equal(4, #entries)
      assert.same({ false, false, true, false },
        { entries[1].limited, entries[2].limited, entries[3].limited, entries[4].limited })
      local ra = tonumber(entries[3].retry_after)
      assert.is_true(ra and ra >= 1 and ra <= 2, entries[3].retry_after)  -- a token in 2 s
      assert.is_true(entries[4].t - entries[3].t >= ra - 0.05, "came back before Retry-After")
      assert.is_true(H.now() - t0 >= ra - 0.05)
      -- a deadline shorter than the wait: RateLimitError at once, carrying retry_after
      c:version()
      local short = client(srv, "/prod", { timeout = 0.5 })
      t0 = H.now()
      local e = expect_error("RateLimitError", short.version, short)
      assert.is_true(H.now() - t0 < 0.5, "not after sleeping")
      assert.is_number(e.retry_after)
      assert.equal(429, e.status)
    end)

    it("slows a client of many tasks down to its rate: every call answered, few 429s", function()
      local srv = start_front("--rate 20 --burst 2")
      finally(function() H.stop_server(srv) end)
      local c = client(srv, "/prod")
      local tasks = {}
      for i = 1, 10 do
        tasks[i] = dagster.spawn(function()
          for _ = 1, 8 do c:version() end
          return true
        end)
      end
      assert.same({ true, true, true, true, true, true, true, true, true, true }, dagster.gather(tasks))
      local answered, limited = 0, 0
      for _, e in ipairs(log(srv)) do
        if e.limited then limited = limited + 1 else answered = answered + 1 end
      end
      assert.equal(80, answered)
      -- the 429s paced the whole client (25 here); each task meeting the limit on its own,
      -- waiting out its Retry-After and coming back at full speed, met more than one a call
      -- (85 and 119 in two runs without the pacing)
      assert.is_true(limited <= 40, ("%d requests answered 429 for 80 calls"):format(limited))
    end)

    it("sends Retry-After as an HTTP date with --retry-after-date", function()
      local srv = start_front("--rate 0.2 --burst 1 --retry-after-date")
      finally(function() H.stop_server(srv) end)
      local c = client(srv, "/staging", { timeout = 0.5 })
      c:version()
      local e = expect_error("RateLimitError", c.version, c)
      assert.is_true(e.retry_after > 0.5 and e.retry_after <= 5, tostring(e.retry_after))
      local ra = log(srv)[2].retry_after
      assert.truthy(ra:match("^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d GMT$"), ra)
    end)
  end)

  -- The client's side of Dagster+ (issue 24): its login, deployments, and the playbooks, as
  -- processes of the host with only the dagster-cloud CLI's settings in their environment
  describe("with only the dagster-cloud login", function()
    local srv, home
    setup(function()
      srv = start_front()
      home = H.trim(H.run("mktemp -d"))
    end)
    teardown(function()
      H.stop_server(srv)
      os.execute("rm -rf " .. H.quote(home))
    end)

    -- the environment of a user logged in through variables (no DAGSTER_URL): the front is
    -- the organization's base, its CA named by DAGSTER_LUA_CAINFO
    local function login_env(extra)
      return ("env -u DAGSTER_URL HOME=%s XDG_STATE_HOME=%s DAGSTER_CLOUD_URL=https://127.0.0.1:%d " ..
        "DAGSTER_CLOUD_ORGANIZATION=hooli DAGSTER_CLOUD_DEPLOYMENT=prod DAGSTER_CLOUD_API_TOKEN=%s " ..
        "DAGSTER_LUA_CAINFO=%s %s"):format(H.quote(home), H.quote(home), srv.port, H.quote(TOKEN),
        H.quote(srv.ca), extra or "")
    end
    local function host(envs, args, stdin)
      return H.run(envs .. " " .. H.quote(H.bin) .. " " .. args, stdin)
    end

    it("client_from_env reaches the deployment the variables name, with the token and deployment headers", function()
      local code = [[
local c = require("dagster").client_from_env()
local d = require("dagster").client_from_env{deployment = "staging"}
print(c.url, c.deployment, d.url, d.deployment)
local names = {}
for _, j in ipairs(d:jobs()) do names[#names + 1] = j.name end
print(table.concat(names, ","))
for _, dep in ipairs(c:deployments()) do io.write(dep.name, " ") end print()]]
      local from = mark(srv)
      local out, err, rc = host(login_env(), "-e " .. H.quote(code))
      assert.equal(0, rc, err)
      local base = ("https://127.0.0.1:%d"):format(srv.port)
      assert.matches("^" .. base:gsub("%p", "%%%0") .. "/prod/graphql\tprod\t" ..
        base:gsub("%p", "%%%0") .. "/staging/graphql\tstaging\n", out)
      assert.matches("\nstaging_job\n", out)
      assert.matches("\nprod staging \n$", out)
      assert.is_nil((out .. err):find(TOKEN, 1, true))
      local paths = {}
      for _, e in ipairs(log(srv, from)) do paths[e.path] = true end
      assert.is_true(paths["/staging/graphql"] and paths["/graphql"], dagster.inspect(paths))
    end)

    it("reads the CLI's config file alone, and warns when others can read it #binary", function()
      local dir = home .. "/cli"
      os.execute("mkdir -p " .. H.quote(dir))
      local path = dir .. "/config"
      write(path, ("organization: hooli\ndefault_deployment: staging\nuser_token: %s\n" ..
        "url: https://127.0.0.1:%d\n"):format(TOKEN, srv.port))
      os.execute("chmod 644 " .. H.quote(path))
      local envs = ("env -u DAGSTER_URL -u DAGSTER_CLOUD_API_TOKEN HOME=%s DAGSTER_CLOUD_CLI_CONFIG=%s " ..
        "DAGSTER_LUA_CAINFO=%s"):format(H.quote(home), H.quote(path), H.quote(srv.ca))
      -- the REPL's client
      local out, err, rc = host(envs, "-i", "client.deployment\nclient:version()\n")
      assert.equal(0, rc, err)
      assert.matches("client = 127%.0%.0%.1:%d+/staging", out)
      assert.matches('"staging"', out)
      assert.matches('"' .. H.client():version():gsub("%p", "%%%0") .. '"', out)
      assert.matches("warning: " .. path:gsub("%p", "%%%0") .. " can be read by other users", err)
      assert.is_nil((out .. err):find(TOKEN, 1, true))
      os.execute("chmod 600 " .. H.quote(path))
      out, err, rc = host(envs, "-i", "client:version()\n")
      assert.equal(0, rc, err)
      assert.is_nil(err:find("warning", 1, true), err)
    end)

    it("play recover --deployment staging --dry-run reaches staging with no other setting #binary", function()
      local from = mark(srv)
      local out, err, rc = host(login_env(), "play recover --deployment staging --dry-run --since 1h")
      assert.equal(0, rc, out .. err)
      local deployments = {}
      for _, e in ipairs(log(srv, from)) do deployments[e.deployment or "?"] = true end
      assert.same({ staging = true }, deployments)
    end)

    it("play backfill through the front checks the partitions with prod #binary", function()
      local out, err, rc = host(login_env(), "play backfill --job daily_job --from 2026-11-01 " ..
        "--to 2026-11-03 --dry-run")
      assert.equal(0, rc, out .. err)
      assert.matches("3 partitions of daily_job", out)
      assert.matches("would backfill job daily_job over 3 partitions", out)
    end)

    it("play redeploy says a location cannot be reloaded there, and what to do: status 7 #binary", function()
      local out, err, rc = host(login_env(), "play redeploy staging_loc --deployment staging")
      assert.equal(7, rc, out .. err)
      assert.matches("staging_loc cannot be reloaded through this deployment's API " ..
        "%(ReloadNotSupported: Location staging_loc does not support reloading%.%)%. On " ..
        "Dagster%+ a code location is redeployed by its CI/CD", out)
      assert.matches("staging_loc is now LOADED", out)
    end)

    it("--max-rps keeps a playbook under the front's rate: no 429 #binary", function()
      local limited = start_front("--rate 4 --burst 1")
      finally(function() H.stop_server(limited) end)
      local envs = login_env():gsub("127%.0%.0%.1:%d+", "127.0.0.1:" .. limited.port)
        :gsub(H.quote(srv.ca):gsub("%p", "%%%0"), H.quote(limited.ca))
      -- a playbook of its own, six calls in a row: unpaced, the front's bucket of one at 4 a
      -- second would answer most of them 429
      local book = home .. "/six_calls.lua"
      write(book, [[
local playbook = require "dagster.playbook"
return playbook.define({ name = "six_calls", summary = "six calls", journal = false }, function(pb)
  pb:step("six calls", function() for _ = 1, 6 do pb.client:version() end end)
end)
]])
      -- (at 2 a second, half the front's rate: the front reads the times requests arrive,
      -- and on a loaded machine, under the sanitizers, two of them can arrive closer than
      -- they left; at 3 a second one 429 was seen in CI's asan step)
      local out, err, rc = host(envs, "play " .. H.quote(book) .. " --max-rps 2")
      assert.equal(0, rc, out .. err)
      local entries = log(limited)
      local n429 = 0
      for _, e in ipairs(entries) do if e.limited then n429 = n429 + 1 end end
      assert.equal(0, n429)
      assert.is_true(#entries >= 6, out .. err .. dagster.inspect(entries))
      for i = 2, #entries do  -- half a second apart, give or take the front's clock
        assert.is_true(entries[i].t - entries[i - 1].t >= 0.25, dagster.inspect(entries))
      end
    end)

    it("a read-only token: a dry run says what it may not do and exits 5, the real run names it #binary", function()
      -- staging's webserver runs --read-only, as a viewer's token sees a deployment
      local out, err, rc = host(login_env(), "play run staging_job --deployment staging --dry-run")
      assert.equal(5, rc, out .. err)
      assert.matches("would launch job staging_job with no config and no tags, but the token " ..
        "may not %(launch_pipeline_execution", out)
      assert.matches("the token may not do all this dry run would do %(launch_pipeline_execution%)", err)
      out, err, rc = host(login_env(), "play run staging_job --deployment staging")
      assert.equal(5, rc, out .. err)
      assert.matches("UnauthorizedError: the token may not launch runs here %(DagsterLuaLaunchRun%)", err)
      -- the same on prod, where the token may: the dry run exits 0
      out, err, rc = host(login_env(), "play run succeed_job --dry-run")
      assert.equal(0, rc, out .. err)
    end)
  end)
end)
