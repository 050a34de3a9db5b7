-- bench: one get_run_status in a fresh dagster-lua process (the cold one-call case).
-- usage: dagster-lua bench/one_status.lua URL RUN_ID
local url, run_id = ...
local dagster = require "dagster"
print(dagster.client(url):get_run_status(run_id))
