-- dagster.playbook.exit: the exit codes every playbook shares, and the control flow that
-- ends one (pb:exit, a usage error): a Stop object raised as an error and caught by the
-- runner.
--
--   exit.CODES.PARTIAL           -> 6
--   exit.TABLE                   -> {{0, "success"}, ...}: the one table of exit codes
--   exit.stop(code [, message])  raises a Stop
--   exit.usage(name, message)    raises a usage error: "play NAME: message (see --help)"

local fmt = string.format

local M = {}

M.CODES = { OK = 0, FAILURE = 1, CANCELED = 2, TIMEOUT = 3, USAGE = 4, UNREACHABLE = 5,
  PARTIAL = 6, UNSUPPORTED = 7, BUSY = 75, INTERRUPTED = 130, TERMINATED = 143 }

M.TABLE = {
  { 0, "success" },
  { 1, "a run ended FAILURE (or the playbook failed otherwise)" },
  { 2, "a run ended CANCELED" },
  { 3, "a wait timed out" },
  { 4, "usage or configuration error: bad flags, a bad YAML file, an invalid run config, " ..
       "a URL that is not a Dagster GraphQL endpoint" },
  { 5, "the server cannot be reached, or refused the credentials" },
  { 6, "partial: some of the work failed" },
  { 7, "not possible through the API on this deployment (a Dagster+ code location is redeployed by its CI, not reloaded)" },
  { 75, "busy: another process is running this journal; try later (or --wait-lock)" },
  { 130, "interrupted (Ctrl-C); the journal stays consistent: --resume goes on" },
  { 143, "terminated (SIGTERM: a scheduler, systemd or Kubernetes stopped it), as at Ctrl-C: " ..
         "summary, notification and metrics sent, --resume goes on" },
}

local Stop = { __name = "dagster.playbook.Stop" }
Stop.__index = Stop
function Stop.__tostring(s) return s.message or ("exit " .. s.code) end

-- exit.stop(code [, message [, fields]]): ends the playbook with that status
function M.stop(code, message, fields)
  local s = setmetatable({ code = code, message = message }, Stop)
  for k, v in pairs(fields or {}) do s[k] = v end
  error(s, 0)
end

function M.is_stop(v) return getmetatable(v) == Stop end

-- exit.meaning(code) -> the table's words for an exit code ("partial: ...")
function M.meaning(code)
  for _, e in ipairs(M.TABLE) do if e[1] == code then return e[2] end end
  if code == 137 then return "killed (SIGKILL)" end
  return "exit status " .. tostring(code)
end

-- exit.usage(name, message): a usage error, status 4, in the one form every usage error
-- takes; `name` is the playbook's (nil outside a playbook: the message alone)
function M.usage(name, message)
  M.stop(M.CODES.USAGE, name and fmt("play %s: %s (see --help)", name, message) or message,
    { usage = true })
end

return M
