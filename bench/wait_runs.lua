-- bench: client:wait_for_runs over the run ids of a file (one a line).
-- usage: dagster-lua bench/wait_runs.lua URL IDS_FILE INTERVAL TIMEOUT
local url, ids_file, interval, timeout = ...
local dagster = require "dagster"
local client = dagster.client(url)
if type(client.wait_for_runs) ~= "function" then
  io.stderr:write("bench: client:wait_for_runs does not exist yet (lua/dagster/runs.lua)\n")
  os.exit(3)
end
local ids = {}
for line in io.lines(ids_file) do
  if line:match("%S") then ids[#ids + 1] = line:match("^%s*(.-)%s*$") end
end
local t0 = dagster.now()
local statuses = client:wait_for_runs(ids, { interval = tonumber(interval), timeout = tonumber(timeout) })
local by = {}
local n = 0
for _, id in ipairs(ids) do
  local s = statuses[id]
  if s == nil then error("no status for " .. id) end
  by[s] = (by[s] or 0) + 1
  n = n + 1
end
local parts = {}
for s, c in pairs(by) do parts[#parts + 1] = s .. "=" .. c end
table.sort(parts)
print(("waited=%d elapsed=%.3f %s"):format(n, dagster.now() - t0, table.concat(parts, " ")))
