-- What differs between the Dagster versions dagster-lua supports (1.10 to 1.13), decided on
-- what the server says it has, never on its version string:
--
--   Asset.latestMaterializationTimestamp   from 1.11; before, the newest materialization event
--   RunStatus SUSPENDED                    from 1.13; a filter on it raises UnsupportedError
--   RunFailureEvent.error                  null before 1.13; filled from the step failure
--   Job.isAssetJob                         raises on 1.11; derived from asset nodes instead
--                                          (documents.lua, D.jobs: no probe needed)
--
-- The probe (D.capabilities: one introspection request) is made once per client, by the
-- first call of a method that needs it, and cached on the client; a failed probe is not
-- cached. Calls that need no capability (get_run_status, submit_job_execution, ...) never
-- make it. A server that refuses introspection is taken as saying nothing: then assets() uses
-- the document every supported version takes and a status filter goes to the server as it is.

local E = require "dagster.error"
local D = require "dagster.documents"
local enums = require "dagster.enums"

local fmt, concat = string.format, table.concat

local M = {}

-- The documents a server may lack what they select, and how to tell: documents.lua name ->
-- function(capabilities) -> true when the server can take it (spec/documents_spec.lua
-- validates the others against the server expecting them to fail).
M.document_needs = {
  assets = function(c) return c.asset_latest_materialization end,
}

local function names(list, key)
  local s = {}
  if type(list) == "table" then
    for _, v in ipairs(list) do
      if type(v) == "table" and type(v[key]) == "string" then s[v[key]] = true end
    end
  end
  return s
end

-- The answer of D.capabilities as a capabilities table:
--   version                        the server's Dagster version (for messages only)
--   asset_fields                   set of Asset's field names
--   run_statuses                   set of RunStatus's values, or nil when the server did not
--                                  say (then a filter goes to the server as it is)
--   asset_latest_materialization   Asset has latestMaterializationTimestamp (when the server
--                                  did not say: false, and assets() uses the document every
--                                  supported version takes)
function M.from_answer(data)
  local asset = type(data.asset) == "table" and data.asset or {}
  local status = type(data.runStatus) == "table" and data.runStatus or nil
  local c = {
    version = type(data.version) == "string" and data.version or "unknown",
    asset_fields = names(asset.fields, "name"),
    run_statuses = status and names(status.enumValues, "name"),
  }
  c.asset_latest_materialization = c.asset_fields.latestMaterializationTimestamp == true
  return c
end

-- client -> its capabilities table, probing the server on the first call. Concurrent
-- callers (dagster.spawn tasks) wait for the one probe in flight instead of sending another
-- (for at most the client's timeout: a task abandoned mid-probe cannot block the others).
function M.get(client)
  local c = rawget(client, "_capabilities")
  if c ~= nil then return c end
  local since = rawget(client, "_capabilities_probing")
  while since ~= nil and client:_now() - since < client.timeout do
    client:_sleep(0.005)
    c = rawget(client, "_capabilities")
    if c ~= nil then return c end
    since = rawget(client, "_capabilities_probing")
  end
  local mark = client:_now()
  client._capabilities_probing = mark
  local ok, data = pcall(client._execute, client, D.capabilities, nil, "DagsterLuaCapabilities")
  if rawget(client, "_capabilities_probing") == mark then client._capabilities_probing = nil end
  if not ok then
    -- a server that refuses introspection (a GraphQL error, not a transport failure) is
    -- taken as saying nothing: the choices that work on every supported version are made
    if not E.is(data, "GraphQLError") then error(data, 0) end
    data = {}
  end
  c = M.from_answer(data)
  client._capabilities = c
  return c
end

------------------------------------------------------------------------------------------
-- Run statuses
------------------------------------------------------------------------------------------

-- the run statuses that not every supported server has (the others need no probe)
local NEWER_STATUS = enums.RUN_STATUS_SINCE

-- Raises UnsupportedError when a runs filter names a status the server does not have (the
-- server itself would answer with a GraphQL coercion error). Probes only when the list
-- holds a status newer than the oldest supported server.
function M.check_statuses(client, statuses, fname)
  if statuses == nil then return end
  local newer = false
  for _, s in ipairs(statuses) do if NEWER_STATUS[s] then newer = true end end
  if not newer then return end
  local c = M.get(client)
  if c.run_statuses == nil then return end  -- the server did not say: it will answer itself
  for _, s in ipairs(statuses) do
    if not c.run_statuses[s] then
      local have = {}
      for i = 1, #enums.RunStatus do  -- (not ipairs: the enum raises on a missing key)
        local name = enums.RunStatus[i]
        if c.run_statuses[name] then have[#have + 1] = name end
      end
      error(E.new("UnsupportedError", fmt("%s: the server (Dagster %s) has no run status %s " ..
        "(new in Dagster %s); its statuses: %s", fname, c.version, s, NEWER_STATUS[s] or "?",
        concat(have, ", ")), { url = client.url, feature = "RunStatus." .. s,
        server_version = c.version }), 0)
    end
  end
end

------------------------------------------------------------------------------------------
-- Assets
------------------------------------------------------------------------------------------

-- the assets document this server can take
function M.assets_document(client)
  return M.get(client).asset_latest_materialization and D.assets or D.assets_from_events
end

-- an asset node of either document -> its latest materialization in epoch milliseconds, or nil
function M.latest_materialization(node)
  local ts = node.latestMaterializationTimestamp
  if type(ts) == "number" then return ts end
  local events = node.assetMaterializations
  if type(events) == "table" and type(events[1]) == "table" then
    return tonumber(events[1].timestamp)
  end
  return nil
end

------------------------------------------------------------------------------------------
-- Jobs
------------------------------------------------------------------------------------------

-- a repository node of D.jobs -> the set of its asset jobs' names (those an asset node
-- names: what Job.isAssetJob answers where it works)
function M.asset_jobs(repo)
  local s = {}
  for _, node in ipairs(type(repo.assetNodes) == "table" and repo.assetNodes or {}) do
    for _, name in ipairs(type(node.jobNames) == "table" and node.jobNames or {}) do
      s[name] = true
    end
  end
  return s
end

------------------------------------------------------------------------------------------
-- Events
------------------------------------------------------------------------------------------

-- Before 1.13 a RunFailureEvent comes with error = null; 1.13 gives it the error of the
-- run's first step failure. Returns fill(ev) -> ev, which does the same for the events of
-- one events() iterator: it remembers the first ExecutionStepFailureEvent it passes and
-- copies its error_message and error_class into a RunFailureEvent that has none. When the
-- iterator did not start at the beginning of the log, first_step_failure() (a read of the
-- log from its start, at most once per iterator, only for such an event) finds it.
function M.run_failure_filler(from_start, first_step_failure)
  local step, looked = nil, from_start
  return function(ev)
    if ev.type == "ExecutionStepFailureEvent" then
      if step == nil then step = ev end
    elseif ev.type == "RunFailureEvent" and ev.error_message == nil then
      if step == nil and not looked then
        looked = true
        step = first_step_failure()
      end
      if step ~= nil then
        ev.error_message, ev.error_class = step.error_message, step.error_class
      end
    end
    return ev
  end
end

-- The run's first ExecutionStepFailureEvent, as the events iterator gives it, or nil: reads
-- the log from its start with read_page(cursor) -> {events =, cursor =, more =} (runs.lua's
-- logs_page), until found or the end.
function M.first_step_failure(read_page)
  local cursor
  repeat
    local page = read_page(cursor)
    for _, e in ipairs(page.events) do
      if e.type == "ExecutionStepFailureEvent" then return e end
    end
    cursor = page.cursor
  until not page.more or #page.events == 0
  return nil
end

return M
