-- dagster.answer: reading what the server answers. Pure functions (no I/O), shared by the
-- client and its workflows:
--
--   answer.decode(status, body, url, opname [, retry_after]) -> data, or raises HTTPError
--                                               (rate_limited for a 429, or a 503 with
--                                               Retry-After) / MaintenanceError (maintenance,
--                                               retry_interval) / ProtocolError / GraphQLError
--                                               (the fuzz targets drive it)
--   answer.read(document, opname, data, read, url [, client]) -> read(data, client); a
--                                               Lua error inside read becomes a
--                                               ProtocolError naming the path
--   answer.value(v)        -> v, or nil for JSON null (a nullable field's value)
--   answer.isnull(v)       -> whether v is nil or JSON null
--   answer.tags(list)      -> {key = value} from [{key, value}]
--   answer.run_id(v), answer.backfill_id(v), answer.name(v) -> v, checked
--   answer.event_run_id(v) -> an event's run id, nil for a runless event ("") or null
--   answer.path(v)         -> an asset key's path (a list of strings), checked
--   answer.number(v), answer.boolean(v) -> v, or nil for JSON null, checked
--   answer.key_id(path)    -> a string that names an asset key, for tables keyed by asset
--   answer.common_job(lists) -> the job in every list of job names: __ASSET_JOB when it is,
--                                else the first by name; nil when there is none
--   answer.typed_error(result, url, opname [, message, body]) raises the union member's error
--   answer.launch(result, url, opname) -> the run or backfill id of a launch mutation's
--                                          result, or raises the member's error
--   answer.retryable(e)    -> whether trying the request again could help
--   answer.may_be_under_way(e) -> whether the failed request may still be under way at the
--                                 server (a time-out, a gateway's 504)

local json = require "dagster.json"
local E = require "dagster.error"
local check = require "dagster.check"

local null = json.null
local fmt, concat = string.format, table.concat
local type = type

local M = {}

function M.isnull(v) return v == nil or v == null end
function M.value(v) if v ~= null then return v end end

-- a run id read from an answer: a non-empty string, or a plain error (see answer.read)
function M.run_id(id)
  if type(id) ~= "string" or id == "" then error("a run id is not a non-empty string", 0) end
  return id
end

-- the run id of an event (a materialization, a check's evaluation): nil for JSON null and
-- for a runless one (reported from outside, with run id "")
function M.event_run_id(id)
  if id == nil or id == null or id == "" then return nil end
  return M.run_id(id)
end

function M.backfill_id(id)
  if type(id) ~= "string" or id == "" then error("a backfill id is not a non-empty string", 0) end
  return id
end

-- a name read from an answer: a string, or a plain error
function M.name(v)
  if type(v) ~= "string" then error("a name is not a string", 0) end
  return v
end

function M.number(v)
  if v == nil or v == null then return nil end
  if type(v) ~= "number" then error("not a number", 0) end
  return v
end

function M.boolean(v)
  if v == nil or v == null then return nil end
  if type(v) ~= "boolean" then error("not a boolean", 0) end
  return v
end

-- an asset key's path read from an answer: a list of strings, or a plain error
function M.path(p)
  if type(p) ~= "table" or #p == 0 then error("an asset key is not a list of strings", 0) end
  for _, part in ipairs(p) do M.name(part) end
  return p
end

M.key_id = check.key_id

function M.common_job(lists)
  local common
  for _, jobs in ipairs(lists) do
    local here = check.set(jobs)
    if common == nil then common = here
    else for j in pairs(common) do if not here[j] then common[j] = nil end end end
  end
  if common == nil then return nil end
  if common.__ASSET_JOB then return "__ASSET_JOB" end
  local first
  for j in pairs(common) do if first == nil or j < first then first = j end end
  return first
end

function M.tags(list)
  local t = {}
  for _, p in ipairs(list or {}) do t[p.key] = p.value end
  return t
end

local function snippet(body)
  local s = body:sub(1, 300):gsub("%s+", " ")
  if not utf8.len(s) then s = s:gsub("[\128-\255]", "?") end  -- keep messages valid UTF-8
  if #body > 300 then s = s .. "..." end
  return s
end

-- Maps one HTTP answer to `data`, or raises a dagster.Error:
--   an HTTP error status without a GraphQL answer is HTTPError;
--   a 2xx that is not a GraphQL answer is ProtocolError;
--   top-level `errors` is GraphQLError with the server's own message.
-- A PythonError comes back with HTTP 500 and a valid body: that is data, decided on
-- __typename by the caller, never on the status.
function M.decode(status, body, url, opname, retry_after)
  local doc, jerr = json.decode(body)
  if type(doc) == "table" and doc.errors == nil and type(doc.data) == "table" then
    return doc.data  -- the common case, with nothing else to look at
  end
  local fields = { status = status, url = url, operation = opname }
  -- Dagster+ in maintenance, whatever the status: {"maintenance": {message, timeout,
  -- retry_interval}}, each field optional (the dagster-cloud CLI's defaults: 16 h, 30 s)
  if type(doc) == "table" and doc.maintenance ~= nil and doc.maintenance ~= null then
    local m = type(doc.maintenance) == "table" and doc.maintenance or {}
    local function seconds(v) return type(v) == "number" and v > 0 and v or nil end
    fields.maintenance, fields.body = true, body
    fields.retry_interval = seconds(m.retry_interval) or 30
    fields.maintenance_timeout = seconds(m.timeout) or 57600
    error(E.new("MaintenanceError", type(m.message) == "string" and m.message ~= "" and m.message
      or "the service is in maintenance", fields), 0)
  end
  -- a rate limit (429, or 503 with Retry-After): to be tried again after retry_after
  if status == 429 or (status == 503 and retry_after) then
    fields.body, fields.rate_limited, fields.retry_after = body, true, retry_after
    error(E.new("HTTPError", fmt("HTTP %d from %s: rate limited%s", status, url,
      retry_after and fmt(" (Retry-After: %g s)", retry_after) or ""), fields), 0)
  end
  if type(doc) ~= "table" or (doc.data == nil and doc.errors == nil) then
    fields.body = body
    if status >= 300 then
      local hint = ""
      if status == 404 or status == 405 then
        hint = " (not a Dagster GraphQL endpoint: is the URL, or path_prefix, right?)"
        fields.not_graphql = true
      end
      error(E.new("HTTPError", fmt("HTTP %d from %s%s: %s", status, url, hint,
        snippet(body)), fields), 0)
    end
    fields.not_graphql = true
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

-- Reads an answer: returns read(data). A Lua error inside read (a field that is missing,
-- null, or of another kind than the document selects) becomes a ProtocolError that names
-- the operation and the path of what was wrong (dagster.shape); a dagster.Error raised by
-- read (the typed error of a union member) passes as it is.
function M.read(document, opname, data, read, url, client)
  local ok, res = pcall(read, data, client)
  if ok then return res end
  M.unreadable(document, opname, data, res, url)
end

-- What answer.read raises when read(data) raised `res`: res itself when it is a
-- dagster.Error, else the ProtocolError naming the path.
function M.unreadable(document, opname, data, res, url)
  if E.is(res) then error(res, 0) end
  local lua_error = tostring(res)
  local path, problem = require("dagster.shape").find(document, data)
  local msg = path and fmt("%s: %s: %s", opname, path, problem)
    or fmt("%s: unexpected answer: %s", opname, (lua_error:gsub("^[^:\n]*:%d+: ", "")))
  -- a reader's own check (raised without a position: "a run id is not a non-empty string")
  -- says what it read wrong, which the shape of the answer may not show; Lua's own errors
  -- ("attempt to index...", "bad argument...") say nothing more to a user
  if path and not (lua_error:find("^[^:\n]*:%d+: ") or lua_error:find("^attempt to ")
                   or lua_error:find("^bad argument ")) then
    msg = fmt("%s (%s)", msg, lua_error)
  end
  error(E.new("ProtocolError", msg, { url = url, operation = opname, path = path,
    body = data, lua_error = lua_error }), 0)
end

-- Raises the typed error a union member stands for: (typename, message) as the Python
-- client does, the member itself as `body` unless given. Called from inside a read (see
-- answer.read): what is not a union member at all is a plain error there, which read
-- reports with its path. `fields` are added to the error.
function M.typed_error(result, url, opname, message, body, fields)
  if type(result) ~= "table" or type(result.__typename) ~= "string" then
    error("not a result object", 0)
  end
  local name = result.__typename
  message = message or (type(result.message) == "string" and result.message)
    or fmt("unexpected result type %s", name)
  local f = { body = body or result, url = url, operation = opname }
  for k, v in pairs(fields or {}) do f[k] = v end
  error(E.new(name, message, f), 0)
end
local typed_error = M.typed_error

-- Raises RunConfigValidationInvalid with the server's messages; each error of `body` gets
-- config_path, the list of keys and indexes that lead to the wrong value.
function M.config_invalid(r, url, opname)
  local msgs = {}
  for i, e in ipairs(r.errors) do
    local path = {}
    if type(e.stack) == "table" then
      for _, entry in ipairs(M.value(e.stack.entries) or {}) do
        local p = entry.fieldName or entry.listIndex or entry.mapKey
        if not M.isnull(p) then path[#path + 1] = tostring(p) end
      end
    end
    e.config_path = path
    msgs[i] = e.message
  end
  typed_error(r, url, opname, concat(msgs, "; "), r.errors)
end

-- The result of a launch mutation (launchRun, launchRunReexecution, launchPartitionBackfill,
-- reexecutePartitionBackfill): the new run's or backfill's id, or the error its union
-- member stands for. One reader for every launch, so each error reads the same whatever
-- launched it.
function M.launch(r, url, opname)
  local t = r.__typename
  if t == "LaunchRunSuccess" then return M.run_id(r.run.runId) end
  if t == "LaunchBackfillSuccess" then return M.backfill_id(r.backfillId) end
  if t == "RunConfigValidationInvalid" then
    M.config_invalid(r, url, opname)
  elseif t == "InvalidStepError" then
    typed_error(r, url, opname, fmt("invalid step %s", tostring(r.invalidStepKey)), nil,
      { step_key = r.invalidStepKey })
  elseif t == "InvalidOutputError" then
    typed_error(r, url, opname, fmt("invalid output %s of step %s",
      tostring(r.invalidOutputName), tostring(r.stepKey)), nil,
      { step_key = r.stepKey, invalid_output_name = r.invalidOutputName })
  elseif t == "PartitionKeysNotFoundError" then
    typed_error(r, url, opname, nil, nil, { partition_keys = r.partitionKeys })
  end
  typed_error(r, url, opname)
end

-- Whether trying again could help: transport failures marked transient (refused, reset,
-- timed out) and the gateway statuses a proxy gives while the server restarts.
local RETRY_STATUS = { [502] = true, [503] = true, [504] = true }
function M.retryable(e)
  return E.is(e) and (e.transient == true or e.rate_limited == true or e.maintenance == true
    or (e.name == "HTTPError" and RETRY_STATUS[e.status])) or false
end

-- whether the request that failed with e may still be under way at the server: its time
-- limit ran out while it was in flight (not before it was sent), or a gateway gave up
-- waiting for the server (504). A launch that failed so may yet be made.
function M.may_be_under_way(e)
  return E.is(e) and ((e.name == "TimeoutError" and not e.no_time_left)
    or (e.name == "HTTPError" and e.status == 504)) or false
end

-- the wait a server asked for before the next try (a rate limit's Retry-After, a
-- maintenance window's retry interval), or nil
function M.asked_wait(e)
  if not E.is(e) then return nil end
  if e.rate_limited then return e.retry_after end
  if e.maintenance then return e.retry_interval end
end

return M
