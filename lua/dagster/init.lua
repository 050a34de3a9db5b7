-- require "dagster": the module scripts use. Everything else in lua/dagster/ hangs off it.
--
--   local dagster = require "dagster"
--   local client = dagster.client("localhost", {port_number = 3000})
--   local run_id = client:submit_job_execution("my_job", {run_config = {...}})
--   print(client:get_run_status(run_id))

local enums = require "dagster.enums"
local errors = require "dagster.error"
local json = require "dagster.json"

local M = {
  VERSION = "0.1.0",
  null = json.null,                 -- JSON null in answers and in what you send
  array = json.array,               -- mark a table as a JSON list (so {} is sent as [])
  json = json,                      -- encode / decode with integers kept and null as dagster.null
  RunStatus = enums.RunStatus,
  ReloadRepositoryLocationStatus = enums.ReloadRepositoryLocationStatus,
  ShutdownRepositoryLocationStatus = enums.ShutdownRepositoryLocationStatus,
  FINAL_RUN_STATUSES = enums.FINAL_RUN_STATUSES,          -- set: SUCCESS, FAILURE, CANCELED
  FINAL_BACKFILL_STATUSES = enums.FINAL_BACKFILL_STATUSES,
  SUBMISSION_TAG = "dagster-lua/submission_id",            -- the tag of a launch's submission id
}

-- dagster.Error: the type of every API failure. dagster.Error.is(e [, name]) tells one;
-- dagster.Error.new(name, message [, fields]) makes one.
M.Error = errors

-- dagster.client(hostname [, opts]) -> client (the client module loads on first use)
function M.client(hostname, opts)
  return require("dagster.client").new(hostname, opts)
end

-- dagster.client_from_env([opts]) -> client, connected as the environment or the
-- dagster-cloud CLI's login says (lua/dagster/cloud.lua)
function M.client_from_env(opts)
  return require("dagster.cloud").client_from_env(opts)
end

-- Concurrency (lua/dagster/concurrent.lua): dagster.spawn(fn, ...) -> task,
-- dagster.gather(tasks [, {errors = "return"}]) -> results, errors, dagster.run(fn, ...).
-- Client calls and dagster.sleep inside tasks overlap instead of blocking.
function M.spawn(...) return require("dagster.concurrent").spawn(...) end
function M.gather(...) return require("dagster.concurrent").gather(...) end
function M.run(...) return require("dagster.concurrent").run(...) end

-- dagster.stats: the transfers started and the most in flight at once (max_in_flight, which
-- a script may reset to 0), counted by dagster.concurrent
M.stats = require("dagster.concurrent").stats

-- dagster.isatty(fd) -> whether the file descriptor (1 stdout, 2 stderr) is a terminal
function M.isatty(fd) return require("dagster.sys").isatty(fd) end

-- dagster.sleep(seconds) and dagster.now() (monotonic seconds): for scripts that poll
function M.sleep(seconds) return require("dagster.concurrent").sleep(seconds) end
function M.now() return require("dagster.sys").now() end

-- dagster.submission_id() -> a new random submission id (32 hex digits): pass it to a
-- launch method (submission_id = ...) and find the launch later with client:find_submission
function M.submission_id()
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(16)
  if f then f:close() end
  if not bytes or #bytes < 16 then
    local t = {}
    for i = 1, 16 do t[i] = string.char(math.random(0, 255)) end
    bytes = table.concat(t)
  end
  return (bytes:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- dagster.yaml: decode(text [, name]) and read(path), YAML errors as YAMLError (lyaml is
-- loaded on first use)
M.yaml = require "dagster.yaml"

-- dagster.inspect(v) -> a readable one-or-more-line rendering of any value
function M.inspect(v, opts)
  return require("dagster.inspect")(v, opts)
end

return M
