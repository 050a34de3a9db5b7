-- bench: the cost of the module's JSON layer. Decodes the same bytes (a large runs answer)
-- with require("dagster.json").decode and with a bare require("cjson").decode, in this one
-- process, K rounds after a warm-up round, alternating which goes first; a full GC before
-- every decode (not timed). Prints one line per round.
-- usage: dagster-lua bench/json_cost.lua FILE [K]
local path, k = ...
k = math.tointeger(tonumber(k)) or 15
local f = assert(io.open(path, "rb"))
local s = f:read("a")
f:close()
local djson = require("dagster.json").decode
local cjson = require("cjson").decode
local now = require("dagster.sys").now

local function timed(decode)
  collectgarbage("collect")
  local w0, c0 = now(), os.clock()
  local v = decode(s)
  local w1, c1 = now(), os.clock()
  assert(type(v) == "table", "decode failed")
  return w1 - w0, c1 - c0, v
end

-- the two must agree on what they read
local _, _, a = timed(djson)
local _, _, b = timed(cjson)
local na, nb = #a.data.runsOrError.results, #b.data.runsOrError.results
assert(na == nb and na > 0, "decoders disagree")
a, b = nil, nil
print(("bytes=%d results=%d"):format(#s, na))

for round = 0, k do
  local r = {}
  local order = round % 2 == 0 and { "dj", "cj" } or { "cj", "dj" }
  for _, which in ipairs(order) do
    local w, c = timed(which == "dj" and djson or cjson)
    r[which .. "_wall"], r[which .. "_cpu"] = w, c
  end
  print(("round=%d dj_wall=%.6f dj_cpu=%.6f cj_wall=%.6f cj_cpu=%.6f"):format(round,
    r.dj_wall, r.dj_cpu, r.cj_wall, r.cj_cpu))
end
