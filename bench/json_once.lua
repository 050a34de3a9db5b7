-- bench (profile): reads FILE and decodes it once with WHICH ("dagster.json" or "cjson"), so
-- that callgrind can count the instructions of each decoder alone.
-- usage: dagster-lua bench/json_once.lua FILE WHICH
local path, which = ...
local f = assert(io.open(path, "rb"))
local s = f:read("a")
f:close()
local decode = require(which).decode
local v = decode(s)
assert(type(v) == "table", "decode failed")
