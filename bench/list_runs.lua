-- bench: lists runs through the paging iterator, keeping none of them; stops after LIMIT.
-- usage: dagster-lua bench/list_runs.lua URL LIMIT PAGE_SIZE
local url, limit, page_size = ...
limit = math.tointeger(tonumber(limit))
local dagster = require "dagster"
local client = dagster.client(url)
if type(client.each_run) ~= "function" then
  io.stderr:write("bench: client:each_run does not exist yet (lua/dagster/runs.lua)\n")
  os.exit(3)
end
local n, seen = 0, 0
for run in client:each_run { page_size = math.tointeger(tonumber(page_size)) } do
  n = n + 1
  if type(run) == "table" and (run.run_id or run.runId) then seen = seen + 1 end
  if n >= limit then break end
end
print(("listed=%d with_runId=%d lua_kib=%.0f"):format(n, seen, collectgarbage("count")))
