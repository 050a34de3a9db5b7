-- The client object: URL building, the request/answer mapping shared by every method, the
-- launch identity (submission ids), and the six methods of Dagster's Python
-- DagsterGraphQLClient, name for name. The other methods live in the files of EXTENSIONS
-- below, each a table of methods that only `require`s what it uses.

local http = require "dagster.http"
local json = require "dagster.json"
local E = require "dagster.error"
local D = require "dagster.documents"
local enums = require "dagster.enums"
local concurrent = require "dagster.concurrent"
local check = require "dagster.check"
local answer = require "dagster.answer"
local sys = require "dagster.sys"
local wait = require "dagster.wait"

local concat = table.concat
local fmt = string.format
local argerror, checktype, checkopts, options =
  check.argerror, check.type, check.opts, check.options
local isnull = answer.isnull

local Client = {}
Client.__index = Client
Client.__name = "dagster.Client"

-- the tag every launch carries: its submission id, the caller's idempotency key
Client.SUBMISSION_TAG = require("dagster").SUBMISSION_TAG

------------------------------------------------------------------------------------------
-- Construction
------------------------------------------------------------------------------------------

local CLIENT_OPTS = options("client", { "port_number", "use_https", "timeout", "attempt_timeout", "headers", "path_prefix",
  "connect_timeout", "insecure", "cainfo", "max_response_bytes", "user_agent", "retries",
  "retry_delay", "retry_max_delay", "max_rps" })

-- The URL as the Python client builds it: scheme, hostname verbatim, :port when truthy,
-- path_prefix (must start with "/", trailing "/" stripped), then /graphql. A hostname that
-- is already a full http(s):// URL is taken as it is (plus /graphql when it lacks it).
local function build_url(hostname, o)
  local why = check.url_problem(hostname)
  if why then argerror(1, "client", why) end
  local prefix = o.path_prefix
  if prefix ~= nil then
    checktype(prefix, "string", 2, "client", "path_prefix")
    if prefix ~= "" and prefix:sub(1, 1) ~= "/" then
      argerror(2, "client", fmt('path_prefix must start with "/", got: %s', prefix))
    end
    if prefix:find("[?#]") then
      argerror(2, "client", "path_prefix: a query or a fragment (? or #) is not supported")
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
    local rest_, userinfo = check.without_userinfo(rest)
    rest = rest_
    if o.use_https ~= nil or (port and port ~= 0) then
      argerror(2, "client", "use_https and port_number cannot be given with a full URL")
    end
    rest = rest:gsub("/+$", "")
    if not rest:find("/graphql$") then rest = rest .. prefix .. "/graphql" end
    return scheme .. "://" .. rest, userinfo
  end
  local host, userinfo = check.without_userinfo(hostname)
  local url = (o.use_https and "https://" or "http://") .. host:gsub("/+$", "")
  if port and port ~= 0 then url = url .. ":" .. port end
  return url .. prefix .. "/graphql", userinfo
end

-- A token or a password sent over plain http to another machine can be read on the way:
-- say so, once.
local warned_plain = false
local function warn_plain_http(url, headers, userinfo)
  local has_headers = headers ~= nil and next(headers) ~= nil
  if warned_plain or not (has_headers or userinfo) then return end
  local host = url:match("^http://([^/]+)")
  if not host then return end
  host = host:gsub(":%d+$", ""):lower()
  if host == "localhost" or host:match("^127%.") or host == "[::1]" then return end
  warned_plain = true
  io.stderr:write(fmt("dagster-lua: warning: %s sent unencrypted over http:// to %s; use https\n",
    has_headers and "custom headers (such as an API token) are" or "the URL's user:password is",
    host))
end

-- dagster.client(hostname, opts) -> client
function Client.new(hostname, opts)
  checktype(hostname, "string", 1, "client")
  local o = checkopts(opts, 2, "client", CLIENT_OPTS)
  local url, userinfo = build_url(hostname, o)
  local timeout = check.number(o.timeout, 2, "client", "timeout") or 300
  local attempt_timeout = check.number(o.attempt_timeout, 2, "client", "attempt_timeout") or timeout
  local retry_delay = check.number(o.retry_delay, 2, "client", "retry_delay") or 0.25
  local retry_max_delay = check.number(o.retry_max_delay, 2, "client", "retry_max_delay") or 5
  local retries = o.retries == nil and 3 or o.retries
  if math.type(retries) ~= "integer" or retries < 0 then
    argerror(2, "client", "retries: non-negative integer expected")
  end
  if o.headers ~= nil then checktype(o.headers, "table", 2, "client", "headers") end
  local max_rps = check.number(o.max_rps, 2, "client", "max_rps", "positive")
  warn_plain_http(url, o.headers, userinfo)
  local session = http.session {
    timeout = attempt_timeout, connect_timeout = o.connect_timeout, headers = o.headers,
    userinfo = userinfo,
    insecure = o.insecure, cainfo = o.cainfo, max_response_bytes = o.max_response_bytes,
    user_agent = o.user_agent, encode = json.encode, decode = json.decode,
  }
  -- the headers (tokens) live only inside the C session: never in this table
  return setmetatable({ url = url, timeout = timeout, attempt_timeout = attempt_timeout,
    retries = retries, max_rps = max_rps, _gap = max_rps and 1 / max_rps or false,
    retry_delay = retry_delay, retry_max_delay = retry_max_delay, _session = session }, Client)
end

function Client:__tostring() return fmt("dagster.Client(%s)", self.url) end

function Client:close() self._session:close() end
Client.__close = Client.close

------------------------------------------------------------------------------------------
-- One request: transport, JSON, and the three layers of error (dagster.answer)
------------------------------------------------------------------------------------------

-- The delay before retry number n: capped exponential backoff with jitter.
function Client:_backoff(n)
  local d = math.min(self.retry_max_delay, self.retry_delay * 2 ^ (n - 1))
  return d * (0.5 + math.random() / 2)
end

-- The deadline of a call that starts now: self.timeout from now (none when it is 0), or
-- `limit` (a self:_now() time) when that comes first.
-- Also returns the time it is now, for the caller that needs it.
function Client:_deadline(limit)
  local now = self:_now()
  local d = self.timeout > 0 and now + self.timeout or nil
  if limit and (d == nil or limit < d) then d = limit end
  return d, now
end

-- the last error of _retry, saying how many attempts it ends and how long they took
-- (libcurl's own message speaks of the last attempt alone: "after 0 ms")
local function give_up(self, res, n, t0)
  if n > 0 and E.is(res) and type(res.message) == "string" then
    res.attempts = n + 1
    res.message = fmt("%s (%d attempts in %.1f s)", res.message, n + 1, self:_now() - t0)
  end
  error(res, 0)
end

-- Runs attempt(...) until it succeeds, at most `retries` times more after a transient
-- failure (answer.retryable), with backoff, and never past `deadline` (t0: when the call
-- started, a self:_now() time): a retry whose
-- backoff would end past it is not started and the last error is raised instead.
-- before_retry(err), when given, runs after each backoff and may end the loop with a value
-- (a launch looks up its submission there). Any other error is raised as it is. `first`,
-- when given, is the error of a first attempt made already (see _execute): the loop
-- starts from it instead of calling attempt.
function Client:_retry(t0, deadline, retries, before_retry, first, attempt, ...)
  local n, waits = 0, 0
  while true do
    local ok, res
    if first ~= nil then ok, res, first = false, first, nil else ok, res = pcall(attempt, ...) end
    if ok then return res end
    if not answer.retryable(res) then error(res, 0) end
    if res.rate_limited or res.maintenance then
      -- the server asked to come back later: as often as the deadline allows (not counted
      -- as retries: nothing failed), and at once a named error when it would pass it
      waits = waits + 1
      if res.rate_limited then self:_slow_down() end
      self:_wait_as_asked(res, deadline, waits, t0)
    else
      if n >= retries then give_up(self, res, n, t0) end
      n = n + 1
      local delay = self:_backoff(n)
      if deadline and self:_now() + delay >= deadline then give_up(self, res, n, t0) end
      self:_sleep(delay)
      if before_retry then
        local found = before_retry(res)
        if found ~= nil then return found end
      end
    end
  end
end

-- Sleeps as long as a rate limit (Retry-After) or a maintenance window (its retry interval)
-- asks, the waits-th time in a row; raises RateLimitError or MaintenanceError at once when
-- that would pass `deadline`, or after MAX_WAITS waits without one.
local MAX_WAITS = 1000
function Client:_wait_as_asked(res, deadline, waits, t0)
  local delay = answer.asked_wait(res) or self:_backoff(math.min(waits, 8))
  if res.maintenance then  -- the window's own timeout, from the call's start, bounds it too
    local until_ = t0 + res.maintenance_timeout
    if deadline == nil or until_ < deadline then deadline = until_ end
  end
  if (deadline and self:_now() + delay >= deadline) or waits > MAX_WAITS then
    if res.maintenance then
      error(E.new("MaintenanceError", res.message, { url = self.url, operation = res.operation,
        retry_interval = res.retry_interval, maintenance_timeout = res.maintenance_timeout,
        status = res.status, body = res.body }), 0)
    end
    error(E.new("RateLimitError", fmt("%s: rate limited by %s; it asks to wait %g s%s",
      tostring(res.operation), self.url, delay, deadline and ", past the call's deadline" or ""),
      { url = self.url, operation = res.operation, retry_after = delay, status = res.status }), 0)
  end
  if res.maintenance and not self._told_maintenance and wait.notice then
    self._told_maintenance = true      -- once per client
    wait.notice(fmt("%s is in maintenance: %s; trying again every %g s", self.url,
      tostring(res.message), delay))
  end
  self:_sleep(delay)
end

-- Pacing. Requests leave at least self._gap seconds apart, whichever task makes them: each
-- takes the next free slot of the client's schedule and sleeps (yields, in a task) until it.
-- The gap is 1/max_rps from the start; a rate limit met (429) paces the client too, with or
-- without max_rps: the gap doubles (from GAP_MIN, at most once per GAP_HOLD s: the 429s of
-- requests already under way say nothing new) up to GAP_MAX, and shrinks by GAP_DECAY at each
-- answer that is not a 429, back to 1/max_rps or to no pacing at all. Only the request that
-- met the 429 waits as long as its Retry-After asks (_wait_as_asked); the others go on at the
-- new pace, so that a client of many tasks settles near the server's rate rather than
-- meeting a 429 with each of them.
local GAP_MIN, GAP_MAX, GAP_HOLD, GAP_DECAY = 0.02, 5, 0.5, 0.97

function Client:_pace(deadline)
  local now = self:_now()
  local slot = math.max(now, self._next_slot or now)
  self._next_slot = slot + self._gap
  if slot > now then self:_sleep(deadline and math.min(slot, deadline) - now or slot - now) end
end

function Client:_slow_down()
  local now = self:_now()
  if self._slowed_at and now - self._slowed_at < GAP_HOLD then return end
  self._slowed_at = now
  self._gap = math.min(GAP_MAX, math.max(GAP_MIN, (self._gap or 0) * 2))
end

function Client:_speed_up()
  local floor = self.max_rps and 1 / self.max_rps or 0
  local gap = self._gap * GAP_DECAY
  if gap <= floor or gap < GAP_MIN / 2 then gap = floor end
  self._gap = gap > 0 and gap or false
end

-- One attempt: POST the payload and map the answer, within attempt_timeout and what is
-- left until `deadline`. A mutation goes on a fresh connection, so that libcurl cannot
-- re-send it by itself when a kept-alive connection dies under it.
-- the time limit of one attempt: attempt_timeout, or what is left until `deadline` when
-- that is less (nil: none); raises TimeoutError when nothing is left. `now`: the clock as
-- the caller has just read it (read here when not given)
local function attempt_limit(self, deadline, opname, url, now)
  local limit = self.attempt_timeout > 0 and self.attempt_timeout or nil
  if deadline then
    local left = deadline - (now or self:_now())
    if left <= 0 then
      error(E.new("TimeoutError", fmt("%s: no time left for a request to %s (timeout %g s)",
        opname, url, self.timeout), { url = url, operation = opname,
        transient = true, no_time_left = true }), 0)
    end
    if limit == nil or left < limit then limit = left end
  end
  return limit
end

-- What an attempt's transfer came to: `data`, or the error it raises (a transport error
-- from the session, or one of answer.decode's).
local function outcome(self, opname, url, status, body, retry_after)
  if not status then
    body.operation = opname
    error(body, 0)
  end
  local data = answer.decode(status, body, url, opname, retry_after)
  if self._gap and (not self.max_rps or self._gap > 1 / self.max_rps) then self:_speed_up() end
  return data
end

function Client:_attempt(payload, opname, mutation, deadline, url)
  if self._gap then self:_pace(deadline) end
  url = url or self.url
  local limit = attempt_limit(self, deadline, opname, url)
  local status, body, _, retry_after = concurrent.post(self._session, url, payload,
    mutation, limit)
  return outcome(self, opname, url, status, body, retry_after)
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

local NO_CALL = {}

-- Sends one GraphQL operation and returns what read(data, self) makes of its `data` (the
-- method's result; read is called with the client, so that a method's reader can be a
-- function made once rather than a closure per call; a Lua error inside it is a
-- ProtocolError, as answer.read says), or `data` itself without read; raises a
-- dagster.Error. Queries are read-only and are retried on transient failures (self.retries
-- times, with backoff); a mutation is sent once (launches have their own safe retry, see
-- _launch_once), and so is a query with call.once (a wait's round, whose own loop
-- retries). The call ends by call.deadline when given (a self:_now() time) and within
-- self.timeout in any case. call.url sends it elsewhere than self.url (the organization's
-- URL of a Dagster+ client).
function Client:_query(document, variables, opname, read, call)
  call = call or NO_CALL
  local p = prepared[document] or prepare(document)
  local mutation = p.mutation
  local deadline, t0 = self:_deadline(call.deadline)
  local data, first
  if not self._gap and call.url == nil then
    -- every request's common case, in one call of the transport: one attempt answered with
    -- data (session:graphql encodes, sends and decodes). Anything else goes on in _retry
    -- as the failure of its first attempt, never sent again here; what the session did not
    -- send (inside a task, or variables it could not encode) goes there as it is.
    local url = self.url
    local status, body, _, retry_after
    data, status, body, _, retry_after = self._session:graphql(url, p.head, variables,
      mutation, attempt_limit(self, deadline, opname, url, t0))
    if data == nil then
      local ok
      ok, first = pcall(outcome, self, opname, url, status, body, retry_after)
      if ok then data = first end
    end
  end
  if not data then
    local payload
    if variables == nil then
      payload = p.head .. "}"
    else
      local ok, vars = pcall(json.encode, variables)
      if not ok then error(vars, check.caller_level()) end  -- a value JSON cannot carry: the caller's
      payload = p.head .. ',"variables":' .. vars .. "}"
    end
    data = self:_retry(t0, deadline, (call.once or mutation) and 0 or self.retries, nil,
      first, self._attempt, self, payload, opname, mutation, deadline, call.url)
  end
  if read == nil then return data end
  local ok, res = pcall(read, data, self)  -- answer.read, inline: every method's path
  if ok then return res end
  answer.unreadable(document, opname, data, res, self.url)
end

-- _query without a reader: the operation's `data`. call: {once =, deadline =, url =}.
function Client:_execute(document, variables, opname, call)
  return self:_query(document, variables, opname, nil, call)
end

-- Raises the typed error a union member stands for (see answer.typed_error), from inside a
-- read.
function Client:_typed_error(result, opname, message, body, fields)
  answer.typed_error(result, self.url, opname, message, body, fields)
end

-- the union member r when it is of type `typename`, else the typed error it stands for
function Client:_member(r, typename, opname)
  if type(r) == "table" and r.__typename == typename then return r end
  answer.typed_error(r, self.url, opname)
end

-- client:graphql(document [, variables]) -> data: any query or mutation, errors mapped as
-- for the named methods.
function Client:graphql(document, variables)
  checktype(document, "string", 1, "graphql")
  if variables ~= nil then
    checktype(variables, "table", 2, "graphql")
    if check.is_list(variables) then
      argerror(2, "graphql", "variables: a table of names expected, got a list")
    end
  end
  return (self:_execute(document, variables, document:match("^%s*%a+%s+([%w_]+)")))
end

-- client:version() -> the webserver's Dagster version (a cheap health check)
local function read_version(d)
  return type(d.version) == "string" and d.version or error("version is not a string")
end

function Client:version()
  return self:_query(D.version, nil, "DagsterLuaVersion", read_version)
end

------------------------------------------------------------------------------------------
-- Repository inference (shared with the workflows)
------------------------------------------------------------------------------------------

-- Returns every (location, repository, job) triple the workspace has.
function Client:_job_triples()
  return self:_query(D.job_names, nil, "DagsterLuaJobNames", function(data)
    local r = self:_member(data.repositoriesOrError, "RepositoryConnection", "DagsterLuaJobNames")
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

-- Fills in the location and repository of job_name (from `triples`, the job listing, when
-- the caller has it already). Unlike the Python client, names the caller gave narrow the
-- search instead of being overwritten by the match.
function Client:_infer(job_name, location, repository, triples)
  local matches = {}
  for _, t in ipairs(triples or self:_job_triples()) do
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
      { url = self.url, job_name = job_name }), 0)
  end
  local names = {}
  for i, m in ipairs(matches) do
    names[i] = fmt("%s/%s", m.repository_location_name, m.repository_name)
  end
  error(E.new("AmbiguousJobError", fmt("Must specify repository_location_name and " ..
    "repository_name since there are multiple jobs with the name %s. Choose one of " ..
    "(location/repository): %s", job_name, concat(names, ", ")),
    { body = matches, url = self.url, job_name = job_name, candidates = names }), 0)
end

------------------------------------------------------------------------------------------
-- Launching, once
------------------------------------------------------------------------------------------

-- the oldest of the newest 100 backfills carrying tag key=value and not in `except` (a set
-- of ids), or nil: backfills cannot be filtered by tag on the server
function Client:_backfill_by_tag(key, value, deadline, except)
  return self:_query(D.backfills, { limit = 100 }, "DagsterLuaBackfills", function(d)
    local r = self:_member(d.partitionBackfillsOrError, "PartitionBackfills", "DagsterLuaBackfills")
    local found
    for _, b in ipairs(r.results) do
      if answer.tags(b.tags)[key] == value and not (except and except[b.id]) then
        found = answer.backfill_id(b.id)
      end
    end
    return found
  end, { deadline = deadline })
end

local FIND_OPTS = options("find_submission", { "kind", "wait" })

-- How long a launch may still be under way at the server after its request was cut off (our
-- time limit, a gateway's, a killed process): looked for that long before it is sent again.
-- Dagster's SQLite storage waits up to 30 s for a lock at each write (its busy timeout since
-- 1.13), so a launch held by a busy database can appear that late; 40 s covers it.
Client.SETTLE = 40
local SETTLE_STEP = 0.5

-- find() again every SETTLE_STEP seconds while it returns nil, for up to `seconds` and not
-- past `deadline`: what it found, or nil, and true when the deadline cut the looking short
function Client:_look(find, seconds, deadline)
  local found = find()
  if found ~= nil or seconds <= 0 then return found end
  local until_ = self:_now() + seconds
  local cut = deadline ~= nil and deadline < until_
  if cut then until_ = deadline end
  while found == nil and self:_now() + SETTLE_STEP < until_ do
    self:_sleep(SETTLE_STEP)
    found = find()
  end
  return found, found == nil and cut
end

-- client:find_submission(submission_id [, {kind = "run" | "backfill", wait = seconds}]) ->
-- {kind, id, run_id or backfill_id}, or nil when nothing was launched with that submission
-- id. One request for a run; a backfill is looked for among the newest 100 (one more
-- request). With `wait`, what is not there yet is looked for again every half second for up
-- to that many seconds (a launch whose request was cut off may still be under way at the
-- server). A read-only query, retried as such. `deadline` (internal) ends it by then.
function Client:find_submission(sid, opts, deadline)
  local F = "find_submission"
  checktype(sid, "string", 1, F)
  local o = checkopts(opts, 2, F, FIND_OPTS)
  local kind, wait = o.kind, o.wait
  if kind ~= nil and kind ~= "run" and kind ~= "backfill" then
    argerror(2, F, "kind: \"run\" or \"backfill\" expected, got " .. tostring(kind))
  end
  check.number(wait, 2, F, "wait")
  local function find()
    if kind ~= "backfill" then
      local run = self:_query(D.run_by_tag, { key = Client.SUBMISSION_TAG, value = sid },
        "DagsterLuaRunByTag", function(data)
          local r = self:_member(data.runsOrError, "Runs", "DagsterLuaRunByTag")
          local first = r.results[1]
          return first and { run_id = answer.run_id(first.runId),
                             backfill_id = answer.tags(first.tags)["dagster/backfill"] }
        end, { deadline = deadline })
      if run and run.backfill_id == nil then
        return { kind = "run", id = run.run_id, run_id = run.run_id }
      end
      -- a run of a backfill carries the backfill's tags: the submission is the backfill
      if run and kind == nil then
        return { kind = "backfill", id = run.backfill_id, backfill_id = run.backfill_id }
      end
      if kind == "run" then return nil end
    end
    local id = self:_backfill_by_tag(Client.SUBMISSION_TAG, sid, deadline)
    return id and { kind = "backfill", id = id, backfill_id = id } or nil
  end
  return (self:_look(find, wait or 0, deadline))
end

-- Sends a launch mutation that is never doubled. The launch carries a submission id (the
-- caller's `sid`, or a new one) as the tag SUBMISSION_TAG in `tags` (the mutation's tag
-- list, which variables holds); when a request fails in a way that may have reached the
-- server, find(sid, deadline) looks the launch up (default: the run with that tag) and its
-- id is returned when it exists; only then is the launch sent again (after a time-out, only
-- once it has not appeared for Client.SETTLE seconds). The result field
-- `field` of the answer is read by answer.launch. The whole of it ends within self.timeout;
-- when it ends with the outcome of a launch unknown, or with an answer that could not be
-- read, the error carries `submission_id` for the caller to settle.
function Client:_launch_once(document, variables, opname, field, tags, sid, find)
  if tags then
    for _, t in ipairs(tags) do
      if t.key == Client.SUBMISSION_TAG then sid = sid or t.value; t.value = sid end
    end
    sid = sid or require("dagster").submission_id()
    local has = false
    for _, t in ipairs(tags) do has = has or t.key == Client.SUBMISSION_TAG end
    if not has then tags[#tags + 1] = { key = Client.SUBMISSION_TAG, value = sid } end
  end
  find = find or function(s, deadline)
    local found = self:find_submission(s, { kind = "run" }, deadline)
    return found and found.id
  end
  local deadline, t0 = self:_deadline()
  -- before a launch is sent again: found, or not there after a failure that may have left
  -- it under way at the server (answer.may_be_under_way) once it has had SETTLE seconds to
  -- appear; when the deadline cuts that wait short, the launch is not sent again
  local function settle(err)
    local found, cut = self:_look(function() return find(sid, deadline) end,
      answer.may_be_under_way(err) and Client.SETTLE or 0, deadline)
    if cut then error(err, 0) end
    return found
  end
  local ok, res = pcall(self._retry, self, t0, deadline, self.retries, settle, nil, function()
    local data = self:_execute(document, variables, opname, { once = true, deadline = deadline })
    return answer.read(document, opname, data, function(d)
      return answer.launch(d[field], self.url, opname)
    end, self.url)
  end)
  if ok then return res end
  if E.is(res) and sid and (answer.retryable(res) or res.name == "ProtocolError") then
    res.submission_id = sid
  end
  error(res, 0)
end

-- The launch of a run (submit_job_execution, materialize): params is a complete
-- ExecutionParams; returns the run id.
function Client:_launch(params, sid)
  params.executionMetadata = params.executionMetadata or {}
  local tags = params.executionMetadata.tags or json.array()
  params.executionMetadata.tags = tags
  return self:_launch_once(D.launch_run, { executionParams = params }, "DagsterLuaLaunchRun",
    "launchRun", tags, sid)
end

-- What the launches of a job by name share (validate_run_config, submit_job_execution):
-- the name, the options (checked against `known`), the Python client's location and
-- repository names, the run config and the op selection. Returns the options, the run
-- config and the selector, whose job field is `name_key` (pipelineName or jobName).
local function job_args(job_name, opts, fname, known, name_key, validating)
  checktype(job_name, "string", 1, fname)
  local o = checkopts(opts, 2, fname, known)
  for _, k in ipairs { "repository_location_name", "repository_name" } do
    if o[k] ~= nil then checktype(o[k], "string", 2, fname, k) end
  end
  local run_config = check.run_config(o.run_config, 2, fname, validating)
  local selector = { [name_key] = job_name }
  if o.op_selection ~= nil then
    selector.solidSelection = check.string_list(o.op_selection, 2, fname, "op_selection")
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
  local o, run_config, selector = job_args(job_name, opts, F, VALIDATE_OPTS, "pipelineName", true)
  self:_place(selector, job_name, o)
  return self:_query(D.validate_config, { selector = selector, runConfigData = run_config },
    "DagsterLuaValidateConfig", function(d)
      local r = d.isPipelineConfigValid
      if r.__typename == "PipelineConfigValidationValid" then return true end
      if r.__typename == "RunConfigValidationInvalid" then
        answer.config_invalid(r, self.url, "DagsterLuaValidateConfig")
      end
      self:_typed_error(r, "DagsterLuaValidateConfig")
    end)
end

local SUBMIT_OPTS = options("submit_job_execution", { "repository_location_name",
  "repository_name", "run_config", "tags", "op_selection", "asset_selection", "partition",
  "submission_id" })

-- {yaml =, tags =}: the run config and tags of one partition of a job, as Dagster's UI
-- launches it; PartitionKeysNotFoundError when the job has no such partition.
function Client:_job_partition(selector, key)
  local sel = { repositoryLocationName = selector.repositoryLocationName,
                repositoryName = selector.repositoryName, pipelineName = selector.jobName }
  return self:_query(D.job_partition, { selector = sel, partition = key }, "DagsterLuaJobPartition",
    function(d)
      local r = self:_member(d.pipelineOrError, "Pipeline", "DagsterLuaJobPartition")
      local p, known = answer.value(r.partition), false
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
    for i, k in ipairs(o.asset_selection) do keys[i] = check.asset_key(k, 2, F) end
    selector.assetSelection = keys
  end
  local tags = check.tag_list(o.tags, 2, F)
  local sid = check.submission_id(o.submission_id, 2, F)
  local key = o.partition ~= nil and check.partition_key(o.partition, 2, F, "partition") or nil
  self:_place(selector, job_name, o)
  if key ~= nil then
    -- the partition's own config (when none is given) and tags, under the caller's tags
    local p = self:_job_partition(selector, key)
    if o.run_config == nil then run_config = p.yaml end
    local mine = {}
    for _, t in ipairs(tags) do mine[t.key] = true end
    for _, t in ipairs(p.tags) do
      if not mine[t.key] then tags[#tags + 1] = { key = t.key, value = t.value } end
    end
  end
  return self:_launch({
    selector = selector,
    runConfigData = run_config,
    executionMetadata = { tags = tags },
  }, sid)
end

------------------------------------------------------------------------------------------
-- Runs and locations
------------------------------------------------------------------------------------------

-- client:get_run_status(run_id) -> "SUCCESS" | "FAILURE" | ... (see dagster.RunStatus)
local function read_run_status(d, self)
  local r = d.runOrError
  if r.__typename == "Run" then return enums.RunStatus[r.status] end
  self:_typed_error(r, "DagsterLuaRunStatus")
end

function Client:get_run_status(run_id)
  checktype(run_id, "string", 1, "get_run_status")
  return self:_query(D.run_status, { runId = run_id }, "DagsterLuaRunStatus", read_run_status)
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
  local ids = check.string_list(run_ids, 1, "terminate_runs", "run_ids")
  local o = checkopts(opts, 2, "terminate_runs", TERMINATE_OPTS)
  if #ids == 0 then return end  -- nothing to do (and the server answers [] with an error)
  local failures = self:_query(D.terminate_runs, { runIds = ids, terminatePolicy = policy(o) },
    "DagsterLuaTerminateRuns", function(d)
      local r = self:_member(d.terminateRuns, "TerminateRunsResult", "DagsterLuaTerminateRuns")
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
-- client:_now() is sys.now itself, which ignores its argument: a request reads the clock
-- twice, and a Lua function in between costs as much as the clock
Client._now = sys.now

-- The methods beyond the Python client's six, a file per subject: each returns a table of
-- methods and requires what it uses, so none depends on another's being loaded. They load
-- on the first use of a method the class does not have yet, all at once, so that a script
-- that only calls the six never compiles them.
local EXTENSIONS = { "dagster.runs", "dagster.backfills", "dagster.workspace", "dagster.timeline",
  "dagster.runconfig", "dagster.instance", "dagster.assets" }

-- the public methods (no leading underscore) of a table of functions, sorted
local function public(t)
  local names = {}
  for k, v in pairs(t) do
    if type(v) == "function" and type(k) == "string" and not k:find("^_") then
      names[#names + 1] = k
    end
  end
  table.sort(names)
  return names
end

local loaded = false
setmetatable(Client, { __index = function(_, key)
  if loaded then return nil end
  loaded = true
  for _, name in ipairs(EXTENSIONS) do
    local methods = require(name)
    for k, f in pairs(methods) do
      assert(rawget(Client, k) == nil, name .. " redefines client:" .. k)
      rawset(Client, k, f)
    end
    check.methods(Client, public(methods))  -- client.m(x) with a dot says so
  end
  return rawget(Client, key)
end })

-- client.get_run_status(id), with a dot for a colon, says so
check.methods(Client, (function()
  local static = { new = true }  -- a function, not a method
  local names = public(Client)
  for i = #names, 1, -1 do if static[names[i]] then table.remove(names, i) end end
  return names
end)())

return Client
