-- bench: client:wait_for_backfill through a counting proxy. Launches a backfill of daily_job
-- over all its partitions on DIRECT_URL, then waits for it through PROXY_URL, counting its
-- poll rounds (one pause of the client between two rounds); prints key=value words.
--   dagster-lua bench/wait_backfill.lua DIRECT_URL PROXY_URL
local dagster = require "dagster"
local direct, proxied = assert(arg[1], "DIRECT_URL"), assert(arg[2], "PROXY_URL")
local id = dagster.client(direct, { timeout = 60 }):backfill {
  job = "daily_job", all_partitions = true, tags = { bench = "wait_for_backfill" } }
local c = dagster.client(proxied, { timeout = 60 })
local rounds, sleep = 1, c._sleep
c._sleep = function(self, s) rounds = rounds + 1; return sleep(self, s) end
local t0 = dagster.now()
local status, b = c:wait_for_backfill(id, { timeout = 600, interval = 0.5, max_interval = 2 })
io.write(("id=%s status=%s rounds=%d partitions=%d succeeded=%d elapsed=%.1f\n"):format(
  id, status, rounds, b.counts.requested, b.counts.succeeded, dagster.now() - t0))
