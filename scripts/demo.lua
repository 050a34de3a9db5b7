-- The demo playbook (`make demo`): against the Dagster at $DAGSTER_URL (or arg[1]), submit a
-- job, follow its status to the end, reload a code location, and print a short summary.
-- Copy it and change the names to drive your own deployment.
local dagster = require "dagster"

local url = arg[1] or os.getenv("DAGSTER_URL")
if not url or url == "" then
  io.stderr:write("usage: dagster-lua scripts/demo.lua URL   (or set DAGSTER_URL)\n")
  os.exit(2)
end
local job = os.getenv("DEMO_JOB") or "succeed_job"
local location = os.getenv("DEMO_LOCATION") or "main"

local client = dagster.client(url, { timeout = 60 })
local t0 = dagster.now()
print(("Dagster %s at %s"):format(client:version(), client.url))

local run_id = client:submit_job_execution(job, { tags = { launched_by = "dagster-lua demo" } })
print(("submitted %s: run %s"):format(job, run_id))

local FINAL = { SUCCESS = true, FAILURE = true, CANCELED = true }
local status, last, polls = nil, nil, 0
repeat
  status = client:get_run_status(run_id)
  polls = polls + 1
  if status ~= last then
    print(("  %6.1fs  %s"):format(dagster.now() - t0, status))
    last = status
  end
  if not FINAL[status] then dagster.sleep(0.5) end
until FINAL[status] or dagster.now() - t0 > 300

local reload = client:reload_repository_location(location)
print(("reloaded location %s: %s%s"):format(location, reload.status,
  reload.message and (" (" .. reload.message .. ")") or ""))

print(("summary: run %s of %s ended %s after %.1fs (%d status polls); reload %s")
  :format(run_id, job, status, dagster.now() - t0, polls, reload.status))
os.exit(status == "SUCCESS" and reload.status == "SUCCESS" and 0 or 1)
