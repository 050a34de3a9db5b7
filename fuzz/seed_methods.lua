-- Records the seeds of fuzz_methods.c: the real answers each call of fuzz/methods.lua gets
-- from a live Dagster, one file per call in fuzz/corpus/methods/ (the call's index as the
-- first byte, then the answers, NUL-separated). Run inside the host, against the local
-- deployment of `make test` (scripts/dagster-up), from the project root:
--
--   DAGSTER_URL=http://127.0.0.1:PORT build/dagster-lua fuzz/seed_methods.lua
--
-- Run ids in the calls ("r1", "r2") are replaced by real ones: a succeeded and a failed run;
-- "b1" by a backfill's.
local dagster = require "dagster"

local url = assert(os.getenv("DAGSTER_URL"), "DAGSTER_URL is not set")
local live = dagster.client(url)
local ok_id = live:submit_job_execution("succeed_job")
local failed_id = live:submit_job_execution("fail_job")
live:wait_for_runs({ ok_id, failed_id }, { timeout = 120 })
local backfill_id = live:backfill { job = "region_job", partitions = { "us" } }

local captured
local answer = require "dagster.answer"
local decode = answer.decode
answer.decode = function(status, body, ...)
  if captured then captured[#captured + 1] = body end
  return decode(status, body, ...)
end

-- the client the calls use: run ids r1 and r2 stand for the real ones
local c = dagster.client(url)
local execute = c._execute
function c:_execute(document, variables, ...)
  local function real(v)
    if v == "r1" then return ok_id elseif v == "r2" then return failed_id end
    if v == "b1" then return backfill_id end
    if type(v) == "table" then
      local t = getmetatable(v) and dagster.array() or {}
      for k, x in pairs(v) do t[k] = real(x) end
      return t
    end
    return v
  end
  return execute(self, document, variables and real(variables), ...)
end
-- get_run, events and reexecute are recorded on the failed run (its failure message and
-- error events are the richer answers)
local failed = { get_run = true, events = true, reexecute = true }

os.execute("mkdir -p fuzz/corpus/methods")
for i, call in ipairs(dofile("fuzz/methods.lua")) do
  captured = {}
  local saved = ok_id
  if failed[call.name] then ok_id = failed_id end
  local ok, e = pcall(call.call, c)
  ok_id = saved
  if not ok and not dagster.Error.is(e) then error(call.name .. ": " .. tostring(e)) end
  local f = assert(io.open(("fuzz/corpus/methods/%02d_%s"):format(i, call.name), "wb"))
  f:write(string.char(i - 1), table.concat(captured, "\0"))
  f:close()
  print(("%-30s %d answer(s)%s"):format(call.name, #captured,
    ok and "" or " (" .. tostring(e.name) .. ")"))
end
