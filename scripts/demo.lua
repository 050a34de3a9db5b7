-- The summary of `make demo` (scripts/demo): the runs of ingest_job against the Dagster at
-- $DAGSTER_URL (or arg[1]), each with the run it re-executed, and the timeline of the newest.
-- Exits 1 unless the story ended well: a failed run, and a re-execution of it that succeeded.
local dagster = require "dagster"

local url = arg[1] or os.getenv("DAGSTER_URL")
if not url or url == "" then
  io.stderr:write("usage: dagster-lua scripts/demo.lua URL   (or set DAGSTER_URL)\n")
  os.exit(2)
end
local client = dagster.client(url, { timeout = 60 })

local runs = client:runs { job_name = "ingest_job", limit = 20 }
local by_id, failed, recovered = {}, nil, nil
for _, r in ipairs(runs) do by_id[r.run_id] = r end
print(("%-10s %-9s %s"):format("RUN", "STATUS", "RE-EXECUTES"))
for i = #runs, 1, -1 do
  local r = runs[i]
  print(("%-10s %-9s %s"):format(r.run_id:sub(1, 8), r.status,
    r.parent_run_id and r.parent_run_id:sub(1, 8) or "-"))
  if r.status == "FAILURE" and not r.parent_run_id then failed = r end
  if r.status == "SUCCESS" and r.parent_run_id and by_id[r.parent_run_id] then recovered = r end
end
if recovered then
  print()
  print(client:timeline(recovered.run_id))
end
local ok = failed ~= nil and recovered ~= nil and recovered.parent_run_id == failed.run_id
print(ok and "\nThe failed run was recovered from failure: only the step that failed ran again."
  or "\nThe story did not end as it should: no recovered run of ingest_job.")
os.exit(ok and 0 or 1)
