-- dagster.inspect(v [, {depth = 4, indent = "  "}]) -> string: a readable rendering of any
-- value for the REPL and for scripts: tables with sorted keys, lists in order, JSON null as
-- `null`, errors and objects with __tostring through it, cycles marked; strings as Lua
-- literals, a byte that is not UTF-8 as \xHH.

local null = require("dagster.json").null

local fmt, rep, concat = string.format, string.rep, table.concat

-- tostring(v), or what it says when v's __tostring raises (or gives no string): an object
-- that cannot say what it is must not take the REPL's printing down with it
local function safe_tostring(v)
  local ok, s = pcall(tostring, v)
  if ok then return s end
  local mt = getmetatable(v)
  local name = type(mt) == "table" and type(mt.__name) == "string" and mt.__name or type(v)
  return fmt("<%s: __tostring failed: %s>", name, tostring(s))
end

-- s as a Lua string literal (%q) whose bytes that are not UTF-8 are written \xHH, so that a
-- terminal shows every byte and never a broken character
local function quote(s)
  local q = fmt("%q", s):gsub("\\\n", "\\n")
  if utf8.len(q) then return q end
  local out, i = {}, 1
  while i <= #q do
    local ok, bad = utf8.len(q, i)
    if ok then out[#out + 1] = q:sub(i); break end
    out[#out + 1] = q:sub(i, bad - 1)
    out[#out + 1] = fmt("\\x%02X", q:byte(bad))
    i = bad + 1
  end
  return concat(out)
end

local function key_repr(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  return "[" .. (type(k) == "string" and quote(k) or safe_tostring(k)) .. "]"
end

local function scalar(v)
  if v == null then return "null" end
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "table" or t == "userdata" then
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__tostring then return safe_tostring(v) end
  end
  if t ~= "table" then return tostring(v) end
  return nil
end

local function sorted_keys(t)
  local keys, n = {}, #t
  for k in pairs(t) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return safe_tostring(a) < safe_tostring(b)
  end)
  return keys, n
end

local function render(v, depth, maxdepth, indent, seen)
  local s = scalar(v)
  if s then return s end
  if seen[v] then return "<cycle>" end
  if depth >= maxdepth then return "{...}" end
  seen[v] = true
  local keys, n = sorted_keys(v)
  local items = {}
  for i = 1, n do items[#items + 1] = render(v[i], depth + 1, maxdepth, indent, seen) end
  for _, k in ipairs(keys) do
    items[#items + 1] = key_repr(k) .. " = " .. render(v[k], depth + 1, maxdepth, indent, seen)
  end
  seen[v] = nil
  if #items == 0 then return "{}" end
  local one = "{ " .. concat(items, ", ") .. " }"
  if #one <= 72 and not one:find("\n") then return one end
  local pad = rep(indent, depth + 1)
  return "{\n" .. pad .. concat(items, ",\n" .. pad) .. "\n" .. rep(indent, depth) .. "}"
end

return function(v, opts)
  opts = opts or {}
  return render(v, 0, opts.depth or 4, opts.indent or "  ", {})
end
