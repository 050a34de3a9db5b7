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
}

-- dagster.Error: the type of every API failure. dagster.Error.is(e [, name]) tells one;
-- dagster.Error.new(name, message [, fields]) makes one.
M.Error = errors

-- dagster.client(hostname [, opts]) -> client (the client module loads on first use)
function M.client(hostname, opts)
  return require("dagster.client").new(hostname, opts)
end

-- Concurrency (lua/dagster/concurrent.lua): dagster.spawn(fn, ...) -> task,
-- dagster.gather(tasks [, {errors = "return"}]) -> results, dagster.run(fn, ...).
-- Client calls and dagster.sleep inside tasks overlap instead of blocking.
function M.spawn(...) return require("dagster.concurrent").spawn(...) end
function M.gather(...) return require("dagster.concurrent").gather(...) end
function M.run(...) return require("dagster.concurrent").run(...) end

-- dagster.sleep(seconds) and dagster.now() (monotonic seconds): for scripts that poll
function M.sleep(seconds) return require("dagster.concurrent").sleep(seconds) end
function M.now() return require("dagster.http").now() end

-- dagster.inspect(v) -> a readable one-or-more-line rendering of any value
function M.inspect(v, opts)
  return require("dagster.inspect")(v, opts)
end

return M
