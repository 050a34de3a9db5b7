-- bench: writes the exact bytes dagster-lua POSTs for client:get_run_status(RUN_ID)
-- (Client:_execute encodes {query = document, variables = variables}).
-- usage: dagster-lua bench/payload.lua RUN_ID > payload.json
local run_id = ...
local json = require "dagster.json"
local D = require "dagster.documents"
io.write(json.encode { query = D.run_status, variables = { runId = run_id } })
