-- bench: N POSTs of the get_run_status payload through the host's own transport
-- (dagster.http's session:post, as the client sets it up) and cjson.decode, from a Lua loop:
-- what dagster-lua costs before any of the client's layers (arguments, deadline, retry,
-- answer checks). Timed as bench/loop_status.lua and bench/floor.c time theirs.
-- usage: dagster-lua bench/loop_transport.lua URL BODY_FILE N
local url, body_file, n = ...
n = math.tointeger(tonumber(n)) or 300
local dagster = require "dagster"
local http = require "dagster.http"
local cjson = require "cjson"
local f = assert(io.open(body_file, "rb"))
local body = f:read("a")
f:close()
local session = http.session { timeout = 300 }   -- the client's defaults
local gql = url:gsub("/+$", "") .. "/graphql"
local w0, c0 = dagster.now(), os.clock()
for _ = 1, n do
  local status, answer = session:post(gql, body)
  if status ~= 200 then error("HTTP " .. tostring(status) .. ": " .. tostring(answer)) end
  local d = cjson.decode(answer)
  if d.data.runOrError.__typename ~= "Run" then error("not a run: " .. answer) end
end
local w1, c1 = dagster.now(), os.clock()
print(("loop_wall=%.6f loop_cpu=%.6f n=%d"):format(w1 - w0, c1 - c0, n))
