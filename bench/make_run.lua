-- bench: makes one finished run to query and prints its id: launches succeed_job (location
-- main of spec/fixtures) and waits for it to end; on a deployment without that job, prints
-- the id of the newest finished run instead.
-- usage: dagster-lua bench/make_run.lua URL
local url = ...
local dagster = require "dagster"
local c = dagster.client(url)
local ok, id = pcall(c.submit_job_execution, c, "succeed_job", { repository_location_name = "main" })
if ok then
  local deadline = dagster.now() + 180
  while dagster.now() < deadline do
    local s = c:get_run_status(id)
    if s == "SUCCESS" or s == "FAILURE" or s == "CANCELED" then
      print(id)
      return
    end
    dagster.sleep(0.5)
  end
  error("bench: run " .. id .. " did not finish within 180 s")
end
io.stderr:write("bench: cannot launch succeed_job (", tostring(id), "); using the newest finished run\n")
local d = c:graphql([[query { runsOrError(filter: {statuses: [SUCCESS, FAILURE, CANCELED]}, limit: 1) {
  __typename ... on Runs { results { runId } } } }]])
local r = d.runsOrError
assert(r.__typename == "Runs" and r.results[1], "bench: no finished run on this deployment")
print(r.results[1].runId)
