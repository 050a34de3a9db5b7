-- The client object: URL building, the request/answer mapping shared by every method, and
-- the six methods of Dagster's Python DagsterGraphQLClient, name for name.

local http = require "dagster.http"
local json = require "dagster.json"
local E = require "dagster.error"
local D = require "dagster.documents"
local enums = require "dagster.enums"
local concurrent = require "dagster.concurrent"

local null = json.null
local concat, insert = table.concat, table.insert
local fmt = string.format

local Client = {}
Client.__index = Client
Client.__name = "dagster.Client"

local function isnull(v) return v == nil or v == null end
local function opt(v) if v ~= null then return v end end  -- JSON null as nil

-- argument errors read like Lua's own: bad argument #n to 'fname' (...), with the
-- position of the caller's code (the first stack level outside lua/dagster/)
-- (the module's own pcalls in between are skipped too)
local function caller_level()
  local level, first = 3, 3
  while true do
    local info = debug.getinfo(level, "S")
    if info == nil then break end
    if info.source:find("dagster/[%w_]+%.lua$") then first = level + 1
    elseif info.what ~= "C" then break end
    level = level + 1
  end
  return first - 1  -- as seen from the function that called caller_level
end

local function argerror(n, fname, msg)
  error(fmt("bad argument #%d to '%s' (%s)", n, fname, msg), caller_level())
end

local function checktype(v, want, n, fname, what)
  if type(v) ~= want then
    argerror(n, fname, fmt("%s%s expected, got %s", what and (what .. ": ") or "", want,
      v == nil and "no value" or type(v)))
  end
end

-- A number option: nil passes (the caller's default applies), NaN never does. kind is
-- "non-negative" (the default), "positive" (0 refused too) or "any".
local function checknumber(v, n, fname, what, kind)
  if v == nil then return nil end
  kind = kind or "non-negative"
  if type(v) ~= "number" or v ~= v
     or (kind ~= "any" and (v < 0 or (kind == "positive" and v == 0))) then
    argerror(n, fname, fmt("%s: %s expected, got %s", what,
      kind == "any" and "number" or kind .. " number",
      type(v) == "number" and tostring(v) or type(v)))
  end
  return v
end

-- A count option (an integer >= 1), or `default` when it is nil.
local function checkcount(v, n, fname, what, default)
  if v == nil then return default end
  if math.type(v) ~= "integer" or v < 1 then
    argerror(n, fname, fmt("%s: positive integer expected, got %s", what, tostring(v)))
  end
  return v
end

-- an options table: nil or a table whose keys are all known
local function checkopts(opts, n, fname, known)
  if opts == nil then return {} end
  checktype(opts, "table", n, fname)
  for k in pairs(opts) do
    if type(k) ~= "string" or not known[k] then
      argerror(n, fname, fmt("unknown option '%s'", tostring(k)))
    end
  end
  return opts
end

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- The option sets of the public functions, by function name ("client" for dagster.client),
-- so that spec/api_spec.lua can hold lua/dagster/api.lua against them. options(fname, list)
-- builds the set and records it under fname (a name, or a list of names sharing the set).
Client._options = {}
local function options(fname, list)
  local s = set(list)
  for _, name in ipairs(type(fname) == "table" and fname or { fname }) do
    Client._options[name] = s
  end
  return s
end
Client._option_set = options

Client._argerror, Client._checktype, Client._checkopts, Client._set =
  argerror, checktype, checkopts, set
Client._checknumber, Client._checkcount, Client._isnull, Client._opt =
  checknumber, checkcount, isnull, opt

------------------------------------------------------------------------------------------
-- Construction
------------------------------------------------------------------------------------------

local CLIENT_OPTS = options("client", { "port_number", "use_https", "timeout", "attempt_timeout", "headers", "path_prefix",
  "connect_timeout", "insecure", "cainfo", "max_response_bytes", "user_agent", "retries",
  "retry_delay", "retry_max_delay" })

-- The URL as the Python client builds it: scheme, hostname verbatim, :port when truthy,
-- path_prefix (must start with "/", trailing "/" stripped), then /graphql. A hostname that
-- is already a full http(s):// URL is taken as it is (plus /graphql when it lacks it).
local function build_url(hostname, o)
  local prefix = o.path_prefix
  if prefix ~= nil then
    checktype(prefix, "string", 2, "client", "path_prefix")
    if prefix ~= "" and prefix:sub(1, 1) ~= "/" then
      argerror(2, "client", fmt('path_prefix must start with "/", got: %s', prefix))
    end
    prefix = prefix:gsub("/+$", "")
  else
    prefix = ""
  end
  local port = o.port_number
  if port ~= nil and port ~= false then
    if math.type(port) ~= "integer" then
      argerror(2, "client", fmt("port_number: integer expected, got %s",
        math.type(port) or type(port)))
    end
    if port < 0 or port > 65535 then argerror(2, "client", "port_number out of range") end
  end
  if o.use_https ~= nil then checktype(o.use_https, "boolean", 2, "client", "use_https") end
  local scheme, rest = hostname:match("^(https?)://(.*)$")
  if scheme then
    if o.use_https ~= nil or (port and port ~= 0) then
      argerror(2, "client", "use_https and port_number cannot be given with a full URL")
    end
    rest = rest:gsub("/+$", "")
    if not rest:find("/graphql$") then rest = rest .. prefix .. "/graphql" end
    return scheme .. "://" .. rest
  end
  if hostname:find("://", 1, true) then
    argerror(1, "client", "only http:// and https:// URLs are supported")
  end
  local url = (o.use_https and "https://" or "http://") .. hostname:gsub("/+$", "")
  if port and port ~= 0 then url = url .. ":" .. port end
  return url .. prefix .. "/graphql"
end

-- A token sent over plain http to another machine can be read on the way: say so, once.
local warned_plain = false
local function warn_plain_http(url, headers)
  if warned_plain or headers == nil or next(headers) == nil then return end
  local host = url:match("^http://([^/]+)")
  if not host then return end
  host = host:gsub(":%d+$", ""):lower()
  if host == "localhost" or host:match("^127%.") or host == "[::1]" then return end
  warned_plain = true
  io.stderr:write(fmt("dagster-lua: warning: custom headers (such as an API token) are sent " ..
    "unencrypted over http:// to %s; use https\n", host))
end

-- dagster.client(hostname, opts) -> client
function Client.new(hostname, opts)
  checktype(hostname, "string", 1, "client")
  if hostname == "" then argerror(1, "client", "hostname is empty") end
  local o = checkopts(opts, 2, "client", CLIENT_OPTS)
  local url = build_url(hostname, o)
  local timeout = checknumber(o.timeout, 2, "client", "timeout") or 300
  local attempt_timeout = checknumber(o.attempt_timeout, 2, "client", "attempt_timeout") or timeout
  local retry_delay = checknumber(o.retry_delay, 2, "client", "retry_delay") or 0.25
  local retry_max_delay = checknumber(o.retry_max_delay, 2, "client", "retry_max_delay") or 5
  local retries = o.retries == nil and 3 or o.retries
  if math.type(retries) ~= "integer" or retries < 0 then
    argerror(2, "client", "retries: non-negative integer expected")
  end
  if o.headers ~= nil then checktype(o.headers, "table", 2, "client", "headers") end
  warn_plain_http(url, o.headers)
  local session = http.session {
    timeout = attempt_timeout, connect_timeout = o.connect_timeout, headers = o.headers,
    insecure = o.insecure, cainfo = o.cainfo, max_response_bytes = o.max_response_bytes,
    user_agent = o.user_agent,
  }
  -- the headers (tokens) live only inside the C session: never in this table
  return setmetatable({ url = url, timeout = timeout, attempt_timeout = attempt_timeout,
    retries = retries,
    retry_delay = retry_delay, retry_max_delay = retry_max_delay, _session = session }, Client)
end

function Client:__tostring() return fmt("dagster.Client(%s)", self.url) end

function Client:close() self._session:close() end
Client.__close = Client.close

------------------------------------------------------------------------------------------
-- One request: transport, JSON, and the three layers of error
------------------------------------------------------------------------------------------

local function snippet(body)
  local s = body:sub(1, 300):gsub("%s+", " ")
  if not utf8.len(s) then s = s:gsub("[\128-\255]", "?") end  -- keep messages valid UTF-8
  if #body > 300 then s = s .. "..." end
  return s
end

-- Maps one HTTP answer to `data`, or raises a dagster.Error. Pure (no I/O), so that the
-- fuzz target can drive it with any bytes:
--   an HTTP error status without a GraphQL answer is HTTPError;
--   a 2xx that is not a GraphQL answer is ProtocolError;
--   top-level `errors` is GraphQLError with the server's own message.
-- A PythonError comes back with HTTP 500 and a valid body: that is data, decided on
-- __typename by the caller, never on the status.
function Client._answer(status, body, url, opname)
  local doc, jerr = json.decode(body)
  if type(doc) == "table" and doc.errors == nil and type(doc.data) == "table" then
    return doc.data  -- the common case, with nothing else to look at
  end
  local fields = { status = status, url = url, operation = opname }
  if type(doc) ~= "table" or (doc.data == nil and doc.errors == nil) then
    fields.body = body
    if status >= 300 then
      local hint = status == 405 and " (is path_prefix right?)" or ""
      error(E.new("HTTPError", fmt("HTTP %d from %s%s: %s", status, url, hint,
        snippet(body)), fields), 0)
    end
    error(E.new("ProtocolError", fmt("HTTP %d from %s is not a GraphQL answer (%s): %s",
      status, url, jerr or "no data or errors", snippet(body)), fields), 0)
  end
  local errors = doc.errors
  if errors ~= nil and errors ~= null then
    if type(errors) ~= "table" or #errors == 0 or type(errors[1]) ~= "table" then
      fields.body = body
      error(E.new("ProtocolError", fmt("HTTP %d from %s has malformed errors: %s", status, url,
        snippet(body)), fields), 0)
    end
    local first = errors[1]
    local msg = type(first.message) == "string" and first.message or "GraphQL error"
    if #errors > 1 then msg = fmt("%s (and %d more)", msg, #errors - 1) end
    fields.body = errors
    local info = type(first.extensions) == "table" and first.extensions.errorInfo
    if type(info) == "table" and type(info.cls_name) == "string" then
      fields.python_class = info.cls_name
    end
    error(E.new("GraphQLError", msg, fields), 0)
  end
  if type(doc.data) ~= "table" then
    fields.body = body
    error(E.new("ProtocolError", fmt("HTTP %d from %s has no data", status, url),
      fields), 0)
  end
  return doc.data
end

-- Whether trying again could help: transport failures marked transient (refused, reset,
-- timed out) and the gateway statuses a proxy gives while the server restarts.
local RETRY_STATUS = { [502] = true, [503] = true, [504] = true }
local function retryable(e)
  return E.is(e) and (e.transient == true or (e.name == "HTTPError" and RETRY_STATUS[e.status]))
    or false
end
Client._retryable = retryable

-- The delay before retry number n: capped exponential backoff with jitter.
function Client:_backoff(n)
  local d = math.min(self.retry_max_delay, self.retry_delay * 2 ^ (n - 1))
  return d * (0.5 + math.random() / 2)
end

-- The deadline of a call that starts now: self.timeout from now (none when it is 0), or
-- `limit` (a self:_now() time) when that comes first.
function Client:_deadline(limit)
  local d = self.timeout > 0 and self:_now() + self.timeout or nil
  if limit and (d == nil or limit < d) then d = limit end
  return d
end

-- One attempt: POST the payload and map the answer, within attempt_timeout and what is
-- left until `deadline`. A mutation goes on a fresh connection, so that libcurl cannot
-- re-send it by itself when a kept-alive connection dies under it.
function Client:_attempt(payload, opname, mutation, deadline)
  local limit = self.attempt_timeout > 0 and self.attempt_timeout or nil
  if deadline then
    local left = deadline - self:_now()
    if left <= 0 then
      error(E.new("TimeoutError", fmt("%s: no time left for a request to %s (timeout %g s)",
        opname, self.url, self.timeout), { url = self.url, operation = opname,
        transient = true, no_time_left = true }), 0)
    end
    if limit == nil or left < limit then limit = left end
  end
  local status, body = concurrent.post(self._session, self.url, payload, mutation, limit)
  if not status then
    body.operation = opname
    error(body, 0)
  end
  return (Client._answer(status, body, self.url, opname))
end

-- Each document's JSON-encoded head ('{"query":"..."') and kind, worked out once: the
-- module's own documents are sent again and again. Bounded, for scripts that send many
-- different documents through client:graphql.
local prepared, nprepared = {}, 0
local function prepare(document)
  local p = prepared[document]
  if p == nil then
    p = { head = '{"query":' .. json.encode(document),
          mutation = document:find("^%s*mutation") ~= nil }
    if nprepared < 256 then prepared[document], nprepared = p, nprepared + 1 end
  end
  return p
end

-- Sends one GraphQL operation; returns `data`, or raises a dagster.Error. Queries are
-- read-only and are retried on transient failures (self.retries times, with backoff);
-- a mutation is sent once (launches have their own safe retry, see _launch), and so is a
-- query with `once`. The call ends by `deadline` when given (a self:_now() time) and
-- within self.timeout in any case: each attempt gets what is left, and a retry whose
-- backoff would end past the deadline is not started (the last error is raised instead).
function Client:_execute(document, variables, opname, once, deadline)
  local p = prepare(document)
  local payload
  if variables == nil then
    payload = p.head .. "}"
  else
    local ok, vars = pcall(json.encode, variables)
    if not ok then error(vars, caller_level()) end  -- a value JSON cannot carry: the caller's
    payload = p.head .. ',"variables":' .. vars .. "}"
  end
  local mutation = p.mutation
  local retries = (once or mutation) and 0 or self.retries
  deadline = self:_deadline(deadline)
  local n = 0
  while true do
    local ok, res = pcall(self._attempt, self, payload, opname, mutation, deadline)
    if ok then return res end
    if n >= retries or not retryable(res) then error(res, 0) end
    n = n + 1
    local delay = self:_backoff(n)
    if deadline and self:_now() + delay >= deadline then error(res, 0) end
    self:_sleep(delay)
  end
end

-- Reads an answer: returns read(data). A Lua error inside read (a field that is missing,
-- null, or of another kind than the document selects) becomes a ProtocolError that names
-- the operation and the path of what was wrong (dagster.shape); a dagster.Error raised by
-- read (the typed error of a union member) passes as it is.
function Client:_read(document, opname, data, read)
  local ok, res = pcall(read, data)
  if ok then return res end
  if E.is(res) then error(res, 0) end
  local lua_error = tostring(res)
  local path, problem = require("dagster.shape").find(document, data)
  local msg = path and fmt("%s: %s: %s", opname, path, problem)
    or fmt("%s: unexpected answer: %s", opname, (lua_error:gsub("^[^:\n]*:%d+: ", "")))
  error(E.new("ProtocolError", msg, { url = self.url, operation = opname, path = path,
    body = data, lua_error = lua_error }), 0)
end

-- _execute, then _read: one operation whose answer read() turns into the method's result
function Client:_query(document, variables, opname, read, once, deadline)
  return self:_read(document, opname,
    self:_execute(document, variables, opname, once, deadline), read)
end

-- Raises the typed error a union member stands for: (typename, message) as the Python
-- client does, the member itself as `body`. Called from inside a read (see _read): what is
-- not a union member at all is a plain error there, which _read reports with its path.
function Client:_typed_error(result, opname, message, body)
  if type(result) ~= "table" or type(result.__typename) ~= "string" then
    error("not a result object", 0)
  end
  local name = result.__typename
  message = message or (type(result.message) == "string" and result.message)
    or fmt("unexpected result type %s", name)
  error(E.new(name, message, { body = body or result, url = self.url, operation = opname }), 0)
end

-- client:graphql(document [, variables]) -> data: any query or mutation, errors mapped as
-- for the named methods.
function Client:graphql(document, variables)
  checktype(document, "string", 1, "graphql")
  if variables ~= nil then checktype(variables, "table", 2, "graphql") end
  return (self:_execute(document, variables, document:match("^%s*%a+%s+([%w_]+)")))
end

-- client:version() -> the webserver's Dagster version (a cheap health check)
function Client:version()
  return self:_query(D.version, nil, "DagsterLuaVersion", function(d)
    return type(d.version) == "string" and d.version or error("version is not a string")
  end)
end

------------------------------------------------------------------------------------------
-- Repository inference (shared with the workflows)
------------------------------------------------------------------------------------------

-- Returns every (location, repository, job) triple the workspace has.
function Client:_job_triples()
  return self:_query(D.job_names, nil, "DagsterLuaJobNames", function(data)
    local r = data.repositoriesOrError
    if r.__typename ~= "RepositoryConnection" then
      self:_typed_error(r, "DagsterLuaJobNames")
    end
    local out = {}
    for _, repo in ipairs(r.nodes) do
      for _, job in ipairs(repo.jobs) do
        out[#out + 1] = { repository_location_name = repo.location.name,
                          repository_name = repo.name, job_name = job.name }
      end
    end
    return out
  end)
end

-- Fills in the location and repository of job_name. Unlike the Python client, names the
-- caller gave narrow the search instead of being overwritten by the match.
function Client:_infer(job_name, location, repository)
  local matches = {}
  for _, t in ipairs(self:_job_triples()) do
    if t.job_name == job_name
      and (location == nil or t.repository_location_name == location)
      and (repository == nil or t.repository_name == repository) then
      matches[#matches + 1] = t
    end
  end
  if #matches == 1 then
    return matches[1].repository_location_name, matches[1].repository_name
  end
  if #matches == 0 then
    local where = ""
    if location then where = fmt(" in location `%s`", location) end
    if repository then where = where .. fmt(" in repository `%s`", repository) end
    error(E.new("JobNotFoundError", fmt("No jobs with the name `%s` exist%s", job_name, where),
      { url = self.url }), 0)
  end
  local names = {}
  for i, m in ipairs(matches) do
    names[i] = fmt("%s/%s", m.repository_location_name, m.repository_name)
  end
  error(E.new("AmbiguousJobError", fmt("Must specify repository_location_name and " ..
    "repository_name since there are multiple jobs with the name %s. Choose one of " ..
    "(location/repository): %s", job_name, concat(names, ", ")),
    { body = matches, url = self.url }), 0)
end

------------------------------------------------------------------------------------------
-- Launching
------------------------------------------------------------------------------------------

-- asset keys: "a/b" or {"a","b"} -> {path = {...}}
local function asset_key_input(key, n, fname)
  if type(key) == "string" then
    local path = {}
    for part in key:gmatch("[^/]+") do path[#path + 1] = part end
    if #path == 0 then argerror(n, fname, "empty asset key") end
    return { path = path }
  elseif type(key) == "table" and #key > 0 then
    local path = {}
    for i, part in ipairs(key) do
      if type(part) ~= "string" then argerror(n, fname, "asset key parts must be strings") end
      path[i] = part
    end
    return { path = path }
  end
  argerror(n, fname, "asset key must be a string \"a/b\" or a list {\"a\",\"b\"}")
end
Client._asset_key_input = asset_key_input

local function string_list(v, n, fname, what)
  checktype(v, "table", n, fname, what)
  local out = json.array()
  for i, s in ipairs(v) do
    if type(s) ~= "string" then argerror(n, fname, fmt("%s[%d]: string expected", what, i)) end
    out[i] = s
  end
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > #out then
      argerror(n, fname, fmt("%s must be a list", what))
    end
  end
  return out
end
Client._string_list = string_list

-- tags {k = v} -> [{key, value}], sorted by key. Values that are not strings are encoded
-- as the Python client does (JSON for tables, tostring for numbers and booleans).
local function tag_list(tags, n, fname)
  local out = json.array()
  if tags == nil then return out end
  checktype(tags, "table", n, fname, "tags")
  local keys = {}
  for k, v in pairs(tags) do
    if type(k) ~= "string" then argerror(n, fname, "tags: keys must be strings") end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v, tv = tags[k], type(tags[k])
    if tv == "number" or tv == "boolean" then v = tostring(v)
    elseif tv == "table" then v = json.encode(v)
    elseif tv ~= "string" then
      argerror(n, fname, fmt('tags: value of "%s" cannot be a %s', k, tv))
    end
    out[#out + 1] = { key = k, value = v }
  end
  return out
end
Client._tag_list = tag_list

-- A random id for one submission (the dagster-lua/submission_id tag of its run).
local function submission_id()
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(16)
  if f then f:close() end
  if not bytes or #bytes < 16 then
    local t = {}
    for i = 1, 16 do t[i] = string.char(math.random(0, 255)) end
    bytes = table.concat(t)
  end
  return (bytes:gsub(".", function(c) return fmt("%02x", c:byte()) end))
end

Client.SUBMISSION_TAG = "dagster-lua/submission_id"
Client._submission_id = submission_id

-- The run that carries a submission id, or nil (a read-only query, retried as such, and
-- ended by `deadline`).
function Client:_find_submission(sid, deadline)
  return self:_query(D.run_by_tag, { key = Client.SUBMISSION_TAG, value = sid },
    "DagsterLuaRunByTag", function(data)
      local r = data.runsOrError
      if r.__typename ~= "Runs" then self:_typed_error(r, "DagsterLuaRunByTag") end
      return r.results[1] and r.results[1].runId
    end, false, deadline)
end

-- Sends a launch mutation that is never doubled: the run is tagged with a fresh submission
-- id; when the request fails in a way that may have reached the server, the run is looked
-- up by that tag and returned if it exists, and only then is the launch sent again.
-- `field` is the mutation's result field; returns read(that result) (see _read). The whole
-- of it ends within self.timeout; when it ends with the outcome of a launch unknown, or
-- with an answer it could not read, the error carries `submission_id` (the tag's value)
-- for the caller to settle.
-- `find(self, sid, deadline)`, when given, looks the launch up instead of the run lookup
-- (backfills carry the tag too) and returns what to read, or nil when nothing was made.
local function find_run(self, sid, deadline)
  local found = self:_find_submission(sid, deadline)
  if found then return { __typename = "LaunchRunSuccess", run = { runId = found }, recovered = true } end
end

function Client:_launch_once(document, variables, opname, field, tags, read, find)
  local sid   -- the caller's own (a playbook settles a resumed launch by it), or a new one
  for _, t in ipairs(tags) do
    if t.key == Client.SUBMISSION_TAG then sid = t.value end
  end
  if sid == nil then
    sid = submission_id()
    tags[#tags + 1] = { key = Client.SUBMISSION_TAG, value = sid }
  end
  local deadline = self:_deadline()
  local n = 0
  while true do
    local ok, res = pcall(self._execute, self, document, variables, opname, true, deadline)
    if ok then
      ok, res = pcall(self._read, self, document, opname, res, function(d)
        return read(d[field])
      end)
      if ok then return res end
      if E.is(res) and res.name == "ProtocolError" then res.submission_id = sid end
      error(res, 0)
    end
    if not retryable(res) then error(res, 0) end
    res.submission_id = sid
    if n >= self.retries then error(res, 0) end
    n = n + 1
    local delay = self:_backoff(n)
    if deadline and self:_now() + delay >= deadline then error(res, 0) end
    self:_sleep(delay)
    local found
    ok, found = pcall(find or find_run, self, sid, deadline)
    if not ok then
      if E.is(found) then found.submission_id = sid end
      error(found, 0)
    end
    if found then return read(found) end
  end
end

-- Raises RunConfigValidationInvalid with the server's messages; each error of `body` gets
-- config_path, the list of keys and indexes that lead to the wrong value.
local function config_invalid(self, r, opname)
  local msgs = {}
  for i, e in ipairs(r.errors) do
    local path = {}
    if type(e.stack) == "table" then
      for _, entry in ipairs(e.stack.entries or {}) do
        local p = entry.fieldName or entry.listIndex or entry.mapKey
        if not isnull(p) then path[#path + 1] = tostring(p) end
      end
    end
    e.config_path = path
    msgs[i] = e.message
  end
  self:_typed_error(r, opname, concat(msgs, "; "), r.errors)
end

-- The launch itself, shared by submit_job_execution and the workflows. params is a
-- complete ExecutionParams; returns the run id.
function Client:_launch(params)
  params.executionMetadata = params.executionMetadata or {}
  local tags = params.executionMetadata.tags or json.array()
  params.executionMetadata.tags = tags
  return self:_launch_once(D.launch_run, { executionParams = params }, "DagsterLuaLaunchRun",
    "launchRun", tags, function(r)
      local t = r.__typename
      if t == "LaunchRunSuccess" then return Client._run_id(r.run.runId) end
      if t == "RunConfigValidationInvalid" then
        config_invalid(self, r, "DagsterLuaLaunchRun")
      elseif t == "InvalidStepError" then
        self:_typed_error(r, "DagsterLuaLaunchRun", r.invalidStepKey)
      elseif t == "InvalidOutputError" then
        self:_typed_error(r, "DagsterLuaLaunchRun",
          fmt("invalid output %s of step %s", tostring(r.invalidOutputName), tostring(r.stepKey)),
          { step_key = r.stepKey, invalid_output_name = r.invalidOutputName })
      end
      self:_typed_error(r, "DagsterLuaLaunchRun")
    end)
end

-- a run id read from an answer: a non-empty string, or a plain error (read by _read)
function Client._run_id(id)
  if type(id) ~= "string" or id == "" then error("a run id is not a non-empty string", 0) end
  return id
end

-- a run config option: a table or a YAML string, {} when none is given
local function run_config_of(v, n, fname)
  if v == nil then return {} end
  if type(v) ~= "table" and type(v) ~= "string" then
    argerror(n, fname, "run_config: table or YAML string expected, got " .. type(v))
  end
  return v
end
Client._run_config_of = run_config_of

-- What the launches of a job by name share (validate_run_config, submit_job_execution):
-- the name, the options (checked against `known`), the Python client's location and
-- repository names, the run config and the op selection. Returns the options, the run
-- config and the selector, whose job field is `name_key` (pipelineName or jobName).
local function job_args(job_name, opts, fname, known, name_key)
  checktype(job_name, "string", 1, fname)
  local o = checkopts(opts, 2, fname, known)
  for _, k in ipairs { "repository_location_name", "repository_name" } do
    if o[k] ~= nil then checktype(o[k], "string", 2, fname, k) end
  end
  local run_config = run_config_of(o.run_config, 2, fname)
  local selector = { [name_key] = job_name }
  if o.op_selection ~= nil then
    selector.solidSelection = string_list(o.op_selection, 2, fname, "op_selection")
  end
  return o, run_config, selector
end

-- fills in the selector's location and repository: the ones given, inferred when not both
function Client:_place(selector, job_name, o)
  local location, repository = o.repository_location_name, o.repository_name
  if location == nil or repository == nil then
    location, repository = self:_infer(job_name, location, repository)
  end
  selector.repositoryLocationName, selector.repositoryName = location, repository
end

local VALIDATE_OPTS = options("validate_run_config",
  { "repository_location_name", "repository_name", "run_config", "op_selection" })

-- client:validate_run_config(job_name [, opts]) -> true, or raises RunConfigValidationInvalid
-- (each error with config_path) as a launch would, without launching anything
function Client:validate_run_config(job_name, opts)
  local F = "validate_run_config"
  local o, run_config, selector = job_args(job_name, opts, F, VALIDATE_OPTS, "pipelineName")
  self:_place(selector, job_name, o)
  return self:_query(D.validate_config, { selector = selector, runConfigData = run_config },
    "DagsterLuaValidateConfig", function(d)
      local r = d.isPipelineConfigValid
      if r.__typename == "PipelineConfigValidationValid" then return true end
      if r.__typename == "RunConfigValidationInvalid" then
        config_invalid(self, r, "DagsterLuaValidateConfig")
      end
      self:_typed_error(r, "DagsterLuaValidateConfig")
    end)
end

local SUBMIT_OPTS = options("submit_job_execution", { "repository_location_name",
  "repository_name", "run_config", "tags", "op_selection", "asset_selection", "partition" })

-- {yaml =, tags =}: the run config and tags of one partition of a job, as Dagster's UI
-- launches it; PartitionKeysNotFoundError when the job has no such partition.
function Client:_job_partition(selector, key)
  local sel = { repositoryLocationName = selector.repositoryLocationName,
                repositoryName = selector.repositoryName, pipelineName = selector.jobName }
  return self:_query(D.job_partition, { selector = sel, partition = key }, "DagsterLuaJobPartition",
    function(d)
      local r = d.pipelineOrError
      if r.__typename ~= "Pipeline" then self:_typed_error(r, "DagsterLuaJobPartition") end
      local p, known = opt(r.partition), false
      for _, k in ipairs(r.partitionKeysOrError.partitionKeys) do known = known or k == key end
      if p == nil or not known then
        error(E.new("PartitionKeysNotFoundError", fmt("partition keys not found in job %s: %s",
          selector.jobName, key), { url = self.url, partition_keys = { key } }), 0)
      end
      if p.runConfigOrError.__typename ~= "PartitionRunConfig" then
        self:_typed_error(p.runConfigOrError, "DagsterLuaJobPartition")
      end
      if p.tagsOrError.__typename ~= "PartitionTags" then
        self:_typed_error(p.tagsOrError, "DagsterLuaJobPartition")
      end
      local tags = {}
      for i, t in ipairs(p.tagsOrError.results) do
        if type(t.key) ~= "string" or type(t.value) ~= "string" then
          error("a partition tag is not a pair of strings", 0)
        end
        tags[i] = { key = t.key, value = t.value }
      end
      return { yaml = p.runConfigOrError.yaml, tags = tags }
    end)
end

-- client:submit_job_execution(job_name, opts) -> run id
function Client:submit_job_execution(job_name, opts)
  local F = "submit_job_execution"
  local o, run_config, selector = job_args(job_name, opts, F, SUBMIT_OPTS, "jobName")
  if o.asset_selection ~= nil then
    checktype(o.asset_selection, "table", 2, F, "asset_selection")
    local keys = json.array()
    for i, k in ipairs(o.asset_selection) do keys[i] = asset_key_input(k, 2, F) end
    selector.assetSelection = keys
  end
  local tags = tag_list(o.tags, 2, F)
  self:_place(selector, job_name, o)
  if o.partition ~= nil then
    -- the partition's own config (when none is given) and tags, under the caller's tags
    local key = self._partition_key(o.partition, 2, F, "partition")
    local p = self:_job_partition(selector, key)
    if o.run_config == nil then run_config = p.yaml end
    local mine = {}
    for _, t in ipairs(tags) do mine[t.key] = true end
    for _, t in ipairs(p.tags) do
      if not mine[t.key] then tags[#tags + 1] = { key = t.key, value = t.value } end
    end
  end
  return self:_launch {
    selector = selector,
    runConfigData = run_config,
    executionMetadata = { tags = tags },
  }
end

------------------------------------------------------------------------------------------
-- Runs and locations
------------------------------------------------------------------------------------------

-- client:get_run_status(run_id) -> "SUCCESS" | "FAILURE" | ... (see dagster.RunStatus)
function Client:get_run_status(run_id)
  checktype(run_id, "string", 1, "get_run_status")
  return self:_query(D.run_status, { runId = run_id }, "DagsterLuaRunStatus", function(d)
    local r = d.runOrError
    if r.__typename == "Run" then return enums.RunStatus[r.status] end
    self:_typed_error(r, "DagsterLuaRunStatus")
  end)
end

-- the FAILURE result of reload and shutdown for a union member other than success
local function location_failure(r)
  return { status = "FAILURE", failure_type = r.__typename,
           message = r.message ~= nil and r.message or ("unexpected result " .. r.__typename) }
end

-- client:reload_repository_location(name) -> {status = "SUCCESS"} or
-- {status = "FAILURE", failure_type = ..., message = ...}; never raises for a failed load.
function Client:reload_repository_location(name)
  checktype(name, "string", 1, "reload_repository_location")
  return self:_query(D.reload_location, { name = name }, "DagsterLuaReloadLocation", function(d)
    local r = d.reloadRepositoryLocation
    if r.__typename == "WorkspaceLocationEntry" then
      local l = r.locationOrLoadError
      if not isnull(l) and l.__typename == "RepositoryLocation" then
        return { status = "SUCCESS" }
      elseif not isnull(l) then
        return { status = "FAILURE", failure_type = l.__typename, message = l.message }
      end
      return { status = "FAILURE", failure_type = "RepositoryLocationLoading",
               message = fmt("location %s is still loading", name) }
    end
    return location_failure(r)
  end)
end

-- client:shutdown_repository_location(name) -> {status = "SUCCESS"} or
-- {status = "FAILURE", failure_type = ..., message = ...}
function Client:shutdown_repository_location(name)
  checktype(name, "string", 1, "shutdown_repository_location")
  return self:_query(D.shutdown_location, { name = name }, "DagsterLuaShutdownLocation",
    function(d)
      local r = d.shutdownRepositoryLocation
      if r.__typename == "ShutdownRepositoryLocationSuccess" then return { status = "SUCCESS" } end
      return location_failure(r)
    end)
end

local TERMINATE_OPTS = options({ "terminate_run", "terminate_runs" }, { "force" })

local function policy(o)
  return o.force and "MARK_AS_CANCELED_IMMEDIATELY" or "SAFE_TERMINATE"
end

-- client:terminate_run(run_id [, {force = true}]) -> nothing; raises on failure
function Client:terminate_run(run_id, opts)
  checktype(run_id, "string", 1, "terminate_run")
  local o = checkopts(opts, 2, "terminate_run", TERMINATE_OPTS)
  self:_query(D.terminate_run, { runId = run_id, terminatePolicy = policy(o) },
    "DagsterLuaTerminateRun", function(d)
      local r = d.terminateRun
      if r.__typename == "TerminateRunSuccess" then return end
      if r.__typename == "RunNotFoundError" then
        self:_typed_error(r, "DagsterLuaTerminateRun", fmt("Run Id %s not found", run_id))
      end
      self:_typed_error(r, "DagsterLuaTerminateRun")
    end)
end

-- client:terminate_runs(run_ids [, {force = true}]) -> nothing; raises TerminateRunsError
-- naming each run that could not be terminated (body: {run_id, name, message} per failure)
function Client:terminate_runs(run_ids, opts)
  local ids = string_list(run_ids, 1, "terminate_runs", "run_ids")
  local o = checkopts(opts, 2, "terminate_runs", TERMINATE_OPTS)
  if #ids == 0 then return end  -- nothing to do (and the server answers [] with an error)
  local failures = self:_query(D.terminate_runs, { runIds = ids, terminatePolicy = policy(o) },
    "DagsterLuaTerminateRuns", function(d)
      local r = d.terminateRuns
      if r.__typename ~= "TerminateRunsResult" then
        self:_typed_error(r, "DagsterLuaTerminateRuns")
      end
      local failures = {}
      for i, res in ipairs(r.terminateRunResults) do
        if res.__typename ~= "TerminateRunSuccess" then
          failures[#failures + 1] = { run_id = ids[i], name = res.__typename,
            message = type(res.message) == "string" and res.message or res.__typename }
        end
      end
      return failures
    end)
  if #failures == 0 then return end
  local parts = {}
  for i, f in ipairs(failures) do parts[i] = fmt("%s: %s", f.name, f.message) end
  local head = #failures == #ids and "All run terminations failed: "
    or "Some runs could not be terminated: "
  error(E.new("TerminateRunsError", head .. concat(parts, "; "),
    { body = failures, url = self.url }), 0)
end

-- Sleeping and the clock go through here, so that inside a dagster.spawn task a wait
-- yields to the other tasks instead of blocking them (see dagster.concurrent).
function Client:_sleep(seconds) return concurrent.sleep(seconds) end
function Client:_now() return http.now() end

-- The workflows beyond the Python client's six methods: each file adds its methods. They
-- load on the first use of a method the class does not have yet, so that a script that only
-- calls the six never compiles them.
local extensions = { "dagster.runs", "dagster.backfills", "dagster.workspace", "dagster.timeline" }
setmetatable(Client, { __index = function(_, key)
  if extensions then
    local list = extensions
    extensions = nil
    for _, name in ipairs(list) do require(name)(Client) end
    return rawget(Client, key)
  end
end })

return Client
