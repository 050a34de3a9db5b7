-- dagster.inspect(v [, {depth = 4, indent = "  "}]) -> string: a readable rendering of any
-- value for the REPL and for scripts: tables with sorted keys, lists in order, JSON null as
-- `null`, errors and objects with __tostring through it, cycles marked.

local null = require("dagster.json").null

local fmt, rep, concat = string.format, string.rep, table.concat

local function key_repr(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  return "[" .. (type(k) == "string" and fmt("%q", k) or tostring(k)) .. "]"
end

local function scalar(v)
  if v == null then return "null" end
  local t = type(v)
  if t == "string" then return fmt("%q", v):gsub("\\\n", "\\n") end
  if t == "table" or t == "userdata" then
    local mt = getmetatable(v)
    if type(mt) == "table" and mt.__tostring then return tostring(v) end
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
    return tostring(a) < tostring(b)
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
