-- bench: N get_run_status calls over one client (one keep-alive connection), timed inside the
-- process exactly as bench/floor.c times its loop of N POSTs: from the first call to the end of
-- the last, wall (monotonic) and CPU (os.clock: process CPU time, user + sys).
-- usage: dagster-lua bench/loop_status.lua URL RUN_ID N
local url, run_id, n = ...
n = math.tointeger(tonumber(n)) or 300
local dagster = require "dagster"
local client = dagster.client(url)
local w0, c0 = dagster.now(), os.clock()
for _ = 1, n do
  local s = client:get_run_status(run_id)
  if s == nil then error("no status") end
end
local w1, c1 = dagster.now(), os.clock()
print(("loop_wall=%.6f loop_cpu=%.6f n=%d"):format(w1 - w0, c1 - c0, n))
