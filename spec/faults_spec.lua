-- Transport and answer faults, against spec/support/fault_server.py (a local server that
-- misbehaves on purpose, one fault per path): each row pins the dagster.Error a fault maps
-- to, that the error names the URL on one line, that no header value ever appears in it, and
-- that the call comes back within its timeout instead of hanging.
local dagster = require "dagster"
local H = require "helper"

local SECRET = "tok-FAULT-SECRET"
local FAULT_SERVER = H.root .. "/spec/support/fault_server.py"

local slurp = H.slurp

-- starts fault_server.py in the background; returns a handle with port, ports, pid, dir
local function start_server(extra_args)
  local srv = H.start_server("the fault server", FAULT_SERVER, function(portfile)
    return portfile .. " " .. (extra_args or "")
  end)
  srv.ports = dagster.json.decode(assert(slurp(srv.portfile .. ".ports")))
  return srv
end

local stop_server = H.stop_server

local function log_entries(path)
  local out = {}
  for line in (slurp(path) or ""):gmatch("[^\n]+") do
    out[#out + 1] = assert(dagster.json.decode(line))
  end
  return out
end

-- the requests the server logged for one exact path
local function requests_to(srv, path)
  local out = {}
  for _, r in ipairs(log_entries(srv.portfile .. ".log")) do
    if r.path == path then out[#out + 1] = r end
  end
  return out
end

local function base(srv, scheme)
  return (scheme or "http") .. "://127.0.0.1:" .. srv.port
end

-- a client for one fault: a token header, a small timeout and no retries unless overridden
local function client_for(url, opts)
  local o = { timeout = 2, retries = 0, headers = { ["Dagster-Cloud-Api-Token"] = SECRET } }
  for k, v in pairs(opts or {}) do o[k] = v end
  return dagster.client(url, o)
end

-- fails unless no string anywhere in v (keys, values, nested tables) holds the secret
local function assert_no_secret(v, seen, where)
  seen = seen or {}
  where = where or "error"
  if type(v) == "string" then
    assert.is_nil(v:find(SECRET, 1, true), "the header value appears in " .. where)
  elseif type(v) == "table" and not seen[v] then
    seen[v] = true
    for k, x in pairs(v) do
      assert_no_secret(k, seen, where .. " (a key)")
      assert_no_secret(x, seen, where .. "." .. tostring(k))
    end
  end
end

-- Calls fn(client, ...) expecting a dagster.Error called `name`; checks what every failure
-- must hold and returns the error and the seconds the call took. `url_in_message = false`
-- for errors whose message is the server's own (GraphQLError): then e.url names the URL.
local function expect_error(name, client, fn, opts)
  opts = opts or {}
  local t0 = dagster.now()
  local ok, e = pcall(fn, client)
  local elapsed = dagster.now() - t0
  assert.is_false(ok, ("expected %s, the call returned %s"):format(name, dagster.inspect(e)))
  assert.is_true(dagster.Error.is(e), "expected a dagster.Error, got " .. tostring(e))
  local s = tostring(e)
  assert.equal(name, e.name, s)
  assert.is_nil(s:find("\n", 1, true), "tostring(e) is not one line: " .. s)
  assert.is_nil(s:find(SECRET, 1, true), "the header value appears in tostring(e)")
  assert_no_secret(e)
  if opts.url_in_message == false then
    assert.equal(client.url, e.url)
  else
    assert.truthy(e.message:find(client.url, 1, true),
      ("the message does not name %s: %s"):format(client.url, e.message))
  end
  local bound = opts.bound or (client.timeout + 3)
  assert.is_true(elapsed < bound, ("the call took %.2f s (bound %.1f s)"):format(elapsed, bound))
  return e, elapsed
end

local function version(c) return c:version() end

describe("transport failures", function()
  local srv
  setup(function() srv = start_server() end)
  teardown(function() stop_server(srv) end)

  it("raises a transient ConnectionError when nothing listens on the port", function()
    local c = client_for("http://127.0.0.1:" .. srv.ports.closed)
    local e = expect_error("ConnectionError", c, version)
    assert.is_true(e.transient)
    assert.equal(7, e.curl_code)  -- CURLE_COULDNT_CONNECT
  end)

  it("raises DNSError when the host name does not resolve", function()
    -- https, so that the plain-http token warning (pinned below) stays out of this output
    local c = client_for("no-such-host.invalid", { use_https = true })
    local e = expect_error("DNSError", c, version)
    assert.equal(6, e.curl_code)  -- CURLE_COULDNT_RESOLVE_HOST
  end)

  it("raises a transient TimeoutError when the server never answers", function()
    local c = client_for(base(srv) .. "/never")
    local e, elapsed = expect_error("TimeoutError", c, version)
    assert.is_true(e.transient)
    assert.is_true(elapsed >= 1.5, ("gave up after %.2f s, before the 2 s timeout"):format(elapsed))
  end)

  it("raises TimeoutError when the body stalls after 10 of 1000 bytes", function()
    local c = client_for(base(srv) .. "/stall")
    expect_error("TimeoutError", c, version)
  end)

  it("raises TimeoutError when a valid answer drips one byte a second (whole-call timeout)", function()
    local c = client_for(base(srv) .. "/drip")
    expect_error("TimeoutError", c, version)
  end)

  it("raises a transient ConnectionError when the connection is reset mid-body", function()
    local c = client_for(base(srv) .. "/reset")
    local e = expect_error("ConnectionError", c, version)
    assert.is_true(e.transient)
  end)

  it("reconnects when the server closes a keep-alive connection after an answer", function()
    local c = client_for(base(srv) .. "/closeafter")
    assert.equal("fault", c:version())
    assert.equal("fault", c:version())
    local reqs = requests_to(srv, "/closeafter/graphql")
    assert.equal(2, #reqs)
    assert.are_not.equal(reqs[1].conn, reqs[2].conn)
    -- the header was really sent, so its absence from the errors above means something
    assert.equal(SECRET, reqs[1].headers["Dagster-Cloud-Api-Token"])
  end)

  it("sends a mutation on a fresh connection, so a dying keep-alive connection cannot double it", function()
    -- libcurl silently re-sends a request whose reused connection dies before any answer;
    -- this server resets every request that arrives on a reused connection. A mutation must
    -- not ride one: it goes out once, on its own connection.
    local c = client_for(base(srv) .. "/dropreused", { retries = 3, retry_delay = 0.05 })
    assert.equal("fault", c:version())  -- opens the keep-alive connection
    local ok, e = pcall(c.graphql, c, "mutation DagsterLuaFaultOnce { x }")
    local sent, conns = 0, {}
    for _, r in ipairs(requests_to(srv, "/dropreused/graphql")) do
      conns[#conns + 1] = r.conn
      if r.body:find("DagsterLuaFaultOnce", 1, true) then sent = sent + 1 end
    end
    assert.equal(1, sent, ("the mutation was sent %d times (the call %s)"):format(sent,
      ok and "returned" or "raised " .. tostring(e)))
    assert.is_true(ok, tostring(e))
    assert.are_not.equal(conns[1], conns[2])
  end)

  it("raises TLSError for use_https against a plain-http server (it answers 400 in clear)", function()
    local c = client_for("127.0.0.1", { use_https = true, port_number = srv.port, path_prefix = "/ok" })
    expect_error("TLSError", c, version)
  end)
end)

describe("TLS", function()
  local srv, cert
  setup(function()
    local dir = H.trim(H.run("mktemp -d"))
    cert = dir .. "/cert.pem"
    local key = dir .. "/key.pem"
    local _, err, code = H.run(("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 " ..
      "-addext subjectAltName=IP:127.0.0.1 -days 1 -keyout %s -out %s"):format(H.quote(key), H.quote(cert)))
    assert(code == 0, "openssl failed: " .. err)
    srv = start_server(("--tls %s %s"):format(H.quote(cert), H.quote(key)))
    srv.certdir = dir
  end)
  teardown(function()
    stop_server(srv)
    if srv then os.execute("rm -rf " .. H.quote(srv.certdir)) end
  end)

  it("raises TLSError for a self-signed certificate by default", function()
    local c = client_for(base(srv, "https") .. "/ok")
    local e = expect_error("TLSError", c, version)
    assert.is_false(e.transient)
  end)

  it("succeeds with insecure = true", function()
    local c = client_for(base(srv, "https") .. "/ok", { insecure = true })
    assert.equal("fault", c:version())
  end)

  it("succeeds with cainfo naming the server's certificate", function()
    local c = client_for(base(srv, "https") .. "/ok", { cainfo = cert })
    assert.equal("fault", c:version())
    local reqs = requests_to(srv, "/ok/graphql")
    assert.equal(SECRET, reqs[#reqs].headers["Dagster-Cloud-Api-Token"])
  end)
end)

describe("HTTP error statuses", function()
  local srv
  setup(function() srv = start_server() end)
  teardown(function() stop_server(srv) end)

  it("raises HTTPError 502 with the proxy's HTML page in the message", function()
    local c = client_for(base(srv) .. "/html502")
    local e = expect_error("HTTPError", c, version)
    assert.equal(502, e.status)
    assert.truthy(e.message:find("<h1>502 Bad Gateway</h1>", 1, true), e.message)
  end)

  it("raises HTTPError 503 with the HTML page in the message", function()
    local c = client_for(base(srv) .. "/html503")
    local e = expect_error("HTTPError", c, version)
    assert.equal(503, e.status)
    assert.truthy(e.message:find("503 Service Unavailable", 1, true), e.message)
  end)

  it("retries a read-only call through two 502s and succeeds on the third request", function()
    local c = client_for(base(srv) .. "/count502/a", { retries = 2, retry_delay = 0.05 })
    assert.equal("fault", c:version())
    assert.equal(3, #requests_to(srv, "/count502/a/graphql"))
  end)

  it("gives up on a read-only call after retries + 1 requests", function()
    local c = client_for(base(srv) .. "/html502/ro", { retries = 2, retry_delay = 0.05 })
    local e = expect_error("HTTPError", c, version)
    assert.equal(502, e.status)
    assert.equal(3, #requests_to(srv, "/html502/ro/graphql"))
  end)

  it("does not retry a mutation on 502", function()
    local c = client_for(base(srv) .. "/html502/mut", { retries = 3, retry_delay = 0.05 })
    local e = expect_error("HTTPError", c, function(cl) return cl:graphql("mutation M { x }") end)
    assert.equal(502, e.status)
    assert.equal(1, #requests_to(srv, "/html502/mut/graphql"))
  end)

  it("raises HTTPError 401 for a plain-text 401", function()
    local c = client_for(base(srv) .. "/401text")
    local e = expect_error("HTTPError", c, version)
    assert.equal(401, e.status)
    assert.truthy(e.message:find("Unauthorized", 1, true), e.message)
  end)

  it("raises HTTPError 403 for a 403 whose JSON is not a GraphQL answer", function()
    local c = client_for(base(srv) .. "/403json")
    local e = expect_error("HTTPError", c, version)
    assert.equal(403, e.status)
    assert.truthy(e.message:find("forbidden", 1, true), e.message)
  end)

  it("raises GraphQLError with the server's message and status 401 for a 401 with errors", function()
    local c = client_for(base(srv) .. "/401errors")
    local e = expect_error("GraphQLError", c, version, { url_in_message = false })
    assert.equal("Invalid token", e.message)
    assert.equal(401, e.status)
  end)

  it("does not follow a 307: HTTPError, and the other listener receives no request", function()
    -- the redirect target works: a request sent to it directly is logged there
    local control = dagster.client("http://127.0.0.1:" .. srv.ports.redirect .. "/ok",
      { timeout = 2, retries = 0, headers = { ["X-Control"] = "1" } })
    assert.equal("fault", control:version())
    local redirect_log = srv.portfile .. ".redirect.log"
    assert.equal(1, #log_entries(redirect_log))
    local c = client_for(base(srv) .. "/redirect")
    local e = expect_error("HTTPError", c, version)
    assert.equal(307, e.status)
    assert.equal(1, #log_entries(redirect_log), "the redirect was followed")
    assert.is_nil((slurp(redirect_log) or ""):find(SECRET, 1, true))
  end)
end)

describe("answers that are not GraphQL", function()
  local srv
  setup(function() srv = start_server() end)
  teardown(function() stop_server(srv) end)

  local function protocol_error(mode)
    local c = client_for(base(srv) .. "/" .. mode)
    local e = expect_error("ProtocolError", c, version)
    assert.equal(200, e.status)
    return e
  end

  it("raises ProtocolError for invalid JSON", function() protocol_error("badjson") end)
  it("raises ProtocolError for an empty body", function() protocol_error("empty") end)
  it("raises ProtocolError for JSON without data or errors", function() protocol_error("nodata") end)

  it("raises a transient ConnectionError (not ProtocolError) for a body shorter than its Content-Length", function()
    local c = client_for(base(srv) .. "/truncated")
    local e = expect_error("ConnectionError", c, version)
    assert.equal(18, e.curl_code)  -- CURLE_PARTIAL_FILE
    assert.is_true(e.transient)
  end)

  it("raises GraphQLError with the server's message for top-level errors with data null", function()
    local c = client_for(base(srv) .. "/topgqlerr")
    local e = expect_error("GraphQLError", c, version, { url_in_message = false })
    assert.equal("Cannot query field 'x' on type 'Query'.", e.message)
    assert.equal(200, e.status)
  end)

  it("raises ProtocolError for a string that is not valid UTF-8", function()
    local c = client_for(base(srv) .. "/badutf8")
    expect_error("ProtocolError", c, version)
  end)

  it("raises ProtocolError (no crash) for JSON nested 100,000 deep", function()
    local c = client_for(base(srv) .. "/deep")
    expect_error("ProtocolError", c, version)
  end)

  it("keeps integers beyond 2^53 exact, and beyond 64 bits as their digits", function()
    local c = client_for(base(srv) .. "/bigint")
    local data = c:graphql("query { big neg huge }")
    assert.equal("integer", math.type(data.big))
    assert.equal("9007199254740993", tostring(data.big))  -- as text: busted prints numbers as floats
    assert.equal(9007199254740993, data.big)
    assert.equal("integer", math.type(data.neg))
    assert.equal(math.mininteger, data.neg)
    assert.equal("123456789012345678901234567890", data.huge)
  end)
end)

describe("answers larger than max_response_bytes", function()
  local srv
  setup(function() srv = start_server() end)
  teardown(function() stop_server(srv) end)

  it("raises ResponseTooLarge with e.limit, quickly, past a 1 MiB limit", function()
    local c = client_for(base(srv) .. "/huge", { max_response_bytes = 1048576 })
    local e, elapsed = expect_error("ResponseTooLarge", c, version)
    assert.equal(1048576, e.limit)
    assert.is_true(elapsed < 1.5, ("took %.2f s"):format(elapsed))
  end)

  it("raises ResponseTooLarge for 200 MB under the default 64 MiB limit, peak RSS under 150 MB", function()
    local c = client_for(base(srv) .. "/huge", { timeout = 20 })
    local e = expect_error("ResponseTooLarge", c, version)
    assert.equal(64 * 1024 * 1024, e.limit)
    -- the peak of a fresh process that does only this (this one's peak holds every spec
    -- that ran before it)
    local out, err, code = H.host("-", ([[
local c = require("dagster").client(%q, {timeout = 20, retries = 0})
local ok, e = pcall(c.version, c)
local f = io.open("/proc/self/status"); local s = f:read("a"); f:close()
print(e.name, s:match("VmHWM:%%s*(%%d+)%%s*kB"))
]]):format(base(srv) .. "/huge"))
    assert.equal(0, code, err)
    local name, kb = out:match("^(%S+)%s+(%d+)")
    assert.equal("ResponseTooLarge", name, out)
    assert.is_true(tonumber(kb) < 150 * 1024, ("peak RSS %s kB"):format(kb))
  end)
end)

describe("custom headers over plain http", function()
  local function lines(s)
    local out = {}
    for l in s:gmatch("[^\n]+") do out[#out + 1] = l end
    return out
  end

  it("warns once on stderr, without the token, for a host that is not loopback", function()
    local out, err, code = H.host([[-e 'local d=require"dagster"; d.client("example.invalid", {headers={["Dagster-Cloud-Api-Token"]="tok-SECRET"}}); d.client("example.invalid", {headers={X="1"}})']])
    assert.equal(0, code, err)
    assert.equal("", out)
    local l = lines(err)
    assert.equal(1, #l, err)
    assert.matches("^dagster%-lua: warning: ", l[1])
    assert.is_nil(err:find("tok-SECRET", 1, true), err)
  end)

  it("does not warn for loopback hosts, nor for https", function()
    local _, err, code = H.host([[-e 'local d=require"dagster"; local h={headers={["Dagster-Cloud-Api-Token"]="tok-SECRET"}}; d.client("127.0.0.1", h); d.client("localhost", h); d.client("http://[::1]:3000", h); d.client("example.invalid", {use_https=true, headers=h.headers})']])
    assert.equal(0, code, err)
    assert.equal("", err)
  end)
end)

-- session:graphql, the transport's one call for a request's common case (the client's
-- every first attempt): what it sends, that only a clean answer comes back as data, and
-- that everything else comes back as session:post gives it, for the client's readers.
describe("session:graphql", function()
  local http = require "dagster.http"
  local json = dagster.json
  local srv, session
  setup(function()
    srv = start_server()
    session = http.session { timeout = 5, encode = json.encode, decode = json.decode }
  end)
  teardown(function() session:close(); stop_server(srv) end)

  local function url(path) return base(srv) .. path .. "/graphql" end

  it("sends head, the variables and the closing brace, and returns a clean answer's data", function()
    local data = session:graphql(url("/ok/gq1"), '{"query":"q"', { runId = "r-1", n = 2 })
    assert.same({ version = "fault" }, data)
    data = session:graphql(url("/ok/gq2"), '{"query":"q"', nil, true, 3)
    assert.same({ version = "fault" }, data)
    assert.equal('{"query":"q","variables":{"n":2,"runId":"r-1"}}', requests_to(srv, "/ok/gq1/graphql")[1].body)
    assert.equal('{"query":"q"}', requests_to(srv, "/ok/gq2/graphql")[1].body)
  end)

  it("gives back any other answer after a nil, as session:post gives it", function()
    for _, mode in ipairs { "topgqlerr", "badjson", "nodata", "empty", "html502", "401errors" } do
      local got = table.pack(session:graphql(url("/" .. mode), '{"query":"q"', { a = 1 }))
      local want = table.pack(session:post(url("/" .. mode), '{"query":"q","variables":{"a":1}}'))
      assert.equal(nil, got[1], mode)
      assert.equal(want.n + 1, got.n, mode)
      for i = 1, want.n do assert.equal(want[i], got[i + 1], mode .. " value " .. i) end
      assert.is_number(got[2], mode)
    end
  end)

  it("gives back a transport failure after a nil: nil, nil, the dagster.Error", function()
    local dead = http.session { timeout = 2, encode = json.encode, decode = json.decode }
    local got = table.pack(dead:graphql("http://127.0.0.1:" .. srv.ports.closed .. "/graphql",
      '{"query":"q"', nil))
    dead:close()
    assert.equal(3, got.n)
    assert.is_nil(got[1])
    assert.is_nil(got[2])
    assert.is_true(dagster.Error.is(got[3], "ConnectionError"), tostring(got[3]))
  end)

  it("sends nothing from a coroutine, nor for variables its encoder refuses: false", function()
    local co = coroutine.wrap(function() return session:graphql(url("/ok/gq3"), '{"query":"q"', nil) end)
    assert.equal(false, co())
    assert.equal(false, session:graphql(url("/ok/gq4"), '{"query":"q"', { f = print }))
    assert.equal(false, session:graphql(url("/ok/gq4"), '{"query":"q"', { s = "\xff" }))
    assert.same({}, requests_to(srv, "/ok/gq3/graphql"))
    assert.same({}, requests_to(srv, "/ok/gq4/graphql"))
  end)

  it("needs the session's encode and decode options", function()
    local bare = http.session { timeout = 2 }
    local ok, e = pcall(bare.graphql, bare, url("/ok/gq5"), '{"query":"q"', { a = 1 })
    assert.is_false(ok)
    assert.matches("no 'encode' option", e)
    ok, e = pcall(bare.graphql, bare, url("/ok/gq5"), '{"query":"q"', nil)
    assert.is_false(ok)
    assert.matches("no 'decode' option", e)
    bare:close()
    assert.same({}, requests_to(srv, "/ok/gq5/graphql"))
    ok, e = pcall(http.session, { encode = "json" })
    assert.is_false(ok)
    assert.matches("bad option 'encode' to 'session' %(function expected, got string%)", e)
  end)
end)
