-- Enumerations, by the names Dagster and its Python client use. Each is a table from name
-- to name (dagster.RunStatus.SUCCESS == "SUCCESS") with the names in order at 1..n;
-- reading a name that does not exist raises an error instead of giving nil.

local M = {}

local function enum(kind, names)
  local t = {}
  for i, n in ipairs(names) do t[i] = n; t[n] = n end
  return setmetatable(t, {
    __name = "dagster." .. kind,
    __index = function(_, k)
      error(string.format("%s has no member '%s'", kind, tostring(k)), 2)
    end,
    __newindex = function() error(kind .. " is read-only", 2) end,
  })
end

-- GraphQL RunStatus of the 1.13 server (SUSPENDED is new in 1.13)
M.RunStatus = enum("RunStatus", { "QUEUED", "NOT_STARTED", "MANAGED", "STARTING", "STARTED",
  "SUSPENDED", "SUCCESS", "FAILURE", "CANCELING", "CANCELED" })
-- the RunStatus values that not every supported server has (Dagster 1.10 to 1.13), with the
-- version that brought them: a runs filter naming one asks the server first (capabilities.lua)
M.RUN_STATUS_SINCE = { SUSPENDED = "1.13" }
-- a read-only set: set[name] is true for its members, nil for anything else
local function set(kind, names)
  local t = {}
  for _, n in ipairs(names) do t[n] = true end
  return setmetatable({}, { __name = "dagster." .. kind, __index = t,
    __newindex = function() error(kind .. " is read-only", 2) end,
    __pairs = function() return next, t, nil end })
end

-- the run statuses after which a run never changes again (dagster.FINAL_RUN_STATUSES)
M.FINAL_RUN_STATUSES = set("FINAL_RUN_STATUSES", { "SUCCESS", "FAILURE", "CANCELED" })
-- the run statuses of a run in flight: launched and not yet final (NOT_STARTED and MANAGED
-- runs are left out: nothing moves them on)
M.IN_FLIGHT_RUN_STATUSES = { "QUEUED", "STARTING", "STARTED", "CANCELING" }
-- the run statuses of a run not ended that terminating can stop: in flight, or NOT_STARTED
-- (made, e.g. by the backfill daemon, and not yet submitted to the queue)
M.NOT_ENDED_RUN_STATUSES = { "NOT_STARTED", table.unpack(M.IN_FLIGHT_RUN_STATUSES) }
-- a backfill's statuses after which it does not change by itself (resume_backfill can
-- still set it going again)
M.FINAL_BACKFILL_STATUSES = set("FINAL_BACKFILL_STATUSES", { "COMPLETED", "COMPLETED_SUCCESS",
  "COMPLETED_FAILED", "FAILED", "CANCELED" })

M.ReloadRepositoryLocationStatus = enum("ReloadRepositoryLocationStatus",
  { "SUCCESS", "FAILURE" })
M.ShutdownRepositoryLocationStatus = enum("ShutdownRepositoryLocationStatus",
  { "SUCCESS", "FAILURE" })

return M
