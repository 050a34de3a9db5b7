-- dagster.yaml: YAML text to Lua values, through Debian's lua-yaml (lyaml, over libyaml),
-- loaded on first use like lua-cjson.
--
--   local yaml = require("dagster").yaml
--   yaml.decode(text [, name]) -> the first document: mappings as tables, sequences as
--                                 JSON arrays (dagster.json.is_array), ~ and null as
--                                 dagster.null; a syntax error raises a dagster.Error
--                                 YAMLError "name:LINE:COLUMN: problem" (name defaults to
--                                 "<yaml>"), with fields file, line and column
--   yaml.read(path)            -> yaml.decode of the file's text, the path as its name
--   yaml.encode(v [, comments]) -> YAML text of a JSON-like value (keys sorted, strings
--                                 quoted when plain text would read as something else,
--                                 dagster.null as null); comments maps a path ("ops/x/config",
--                                 "" for the top) to lines written as "# ..." above the key
--                                 at that path (or above its nearest present ancestor)
--
-- The client checks a run config given as a YAML string with it before sending anything,
-- and the playbooks read their -c files with it, so a YAML mistake reads the same
-- everywhere.

local json = require "dagster.json"
local E = require "dagster.error"
local file = require "dagster.file"

local fmt = string.format

local M = {}

local lyaml
local function lib()
  if lyaml == nil then
    local ok, l = pcall(require, "lyaml")
    if not ok then
      error(E.new("UnsupportedError", "reading YAML needs Debian's lua-yaml (lyaml): " ..
        tostring(l):gsub("\n.*", "")), 0)
    end
    lyaml = l
  end
  return lyaml
end

-- whether YAML can be read here (lyaml is installed)
function M.available() return (pcall(lib)) end

-- lyaml's nulls (its own sentinel, or a bare ~) become dagster.null; sequences JSON arrays
local function convert(v, null)
  if v == null then return json.null end
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = convert(x, null) end
  if #v > 0 then json.array(out) end
  return out
end

-- lyaml loads [] and {} alike, as an empty table, which JSON would then write as {}: the
-- shape of the first document, read again from libyaml's events, says which tables were
-- sequences. A shape is {seq = true, at = {shapes}} or {at = {[key] = shape}} (a scalar:
-- nil); an alias stands for its anchor's shape, a merge key ("<<") adds its mappings' keys
-- that the mapping does not have yet, as lyaml's load does. Keys are the scalars' text, so a
-- key lyaml reads as a number or a boolean (no JSON key either) matches nothing.
local function shape_of(text)
  local nextevent = require("yaml").parser(text)   -- lyaml's own binding, loaded by lib()
  local anchors, ev = {}, nil
  local function event() ev = nextevent(); return ev.type end
  local function merge(into, from)
    if from == nil then return end
    if from.seq then
      for _, m in ipairs(from.at) do if m then merge(into, m) end end
    else
      for k, v in pairs(from.at) do if into[k] == nil then into[k] = v end end
    end
  end
  local node
  function node(kind)      -- the node whose first event was just read
    local anchor = ev.anchor
    if kind == "ALIAS" then return anchors[anchor] end
    local shape
    if kind == "SEQUENCE_START" then
      shape = { seq = true, at = {} }
      while event() ~= "SEQUENCE_END" do shape.at[#shape.at + 1] = node(ev.type) or false end
    elseif kind == "MAPPING_START" then
      shape = { at = {} }
      while event() ~= "MAPPING_END" do
        local key = ev.type == "SCALAR" and ev.value or nil
        if key == nil then node(ev.type) end   -- a complex key: no JSON key
        local value = node(event())
        if key == "<<" then merge(shape.at, value)
        elseif key ~= nil then shape.at[key] = value end
      end
    end
    if anchor then anchors[anchor] = shape end
    return shape
  end
  if event() ~= "STREAM_START" or event() ~= "DOCUMENT_START" then return nil end
  return node(event())
end

-- marks the tables of v that `shape` says were sequences as JSON arrays
local function mark(v, shape)
  if type(v) ~= "table" or not shape then return end
  if shape.seq then json.array(v) end
  for k, x in pairs(v) do
    if type(x) == "table" then mark(x, shape.at[k]) end
  end
end

function M.decode(text, name)
  if type(text) ~= "string" then
    error(("bad argument #1 to 'decode' (string expected, got %s)"):format(type(text)), 2)
  end
  name = name or "<yaml>"
  local l = lib()
  local ok, doc = pcall(l.load, text)
  if not ok then
    local msg = tostring(doc)
    local line, col, problem = msg:match("(%d+):(%d+): (.*)$")
    if line then
      error(E.new("YAMLError", fmt("%s:%s:%s: %s", name, line, col, problem),
        { file = name, line = tonumber(line), column = tonumber(col) }), 0)
    end
    error(E.new("YAMLError", fmt("%s: %s", name, msg), { file = name }), 0)
  end
  doc = convert(doc, l.null)
  if type(doc) == "table" then
    local shaped, shape = pcall(shape_of, text)
    if shaped then mark(doc, shape) end
  end
  return doc
end

-- Writing YAML (no lyaml needed)

-- plain scalars YAML would read as something else than a string
local SPECIAL = {}
for w in ("true false yes no on off null y n ~"):gmatch("%S+") do
  SPECIAL[w], SPECIAL[w:upper()], SPECIAL[w:sub(1, 1):upper() .. w:sub(2)] = true, true, true
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }

local function str(s)
  if s:match("^[%a_][%w_%-%./]*$") and not SPECIAL[s] and not s:find("[%-%.]$") then return s end
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESC[c] or fmt("\\x%02x", c:byte())
  end) .. '"'
end

local function scalar(v)
  local t = type(v)
  if t == "string" then return str(v) end
  if v == json.null or v == nil then return "null" end
  if t == "boolean" then return tostring(v) end
  if math.type(v) == "integer" then return tostring(v) end
  if t == "number" then
    if v ~= v then return ".nan" end
    if v == math.huge then return ".inf" elseif v == -math.huge then return "-.inf" end
    local s = fmt("%.17g", v)
    for p = 15, 17 do  -- the shortest that reads back the same
      local x = fmt("%." .. p .. "g", v)
      if tonumber(x) == v then s = x; break end
    end
    return s:find("[.eEn]") and s or s .. ".0"
  end
  error(fmt("cannot write a %s as YAML", t), 0)
end

local function is_list(v)
  return json.is_array(v) or (#v > 0 and next(v, #v) == nil)
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then error(fmt("cannot write a %s key as YAML", type(k)), 0) end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  return keys
end

-- the path of comments[p] that is present in v, or its nearest present ancestor
local function present(v, path)
  local parts, here, at = {}, v, ""
  for part in path:gmatch("[^/]+") do parts[#parts + 1] = part end
  for i, part in ipairs(parts) do
    if type(here) ~= "table" then break end
    local nxt
    if is_list(here) then
      local n = math.tointeger(tonumber(part))
      nxt = n and here[n + 1]
    else
      nxt = here[part]
    end
    if nxt == nil then break end
    here, at = nxt, i == 1 and part or at .. "/" .. part
  end
  return at
end

function M.encode(value, comments)
  local v = value
  local notes = {}
  for path, lines in pairs(comments or {}) do
    local at = present(v, path)
    notes[at] = notes[at] or {}
    for _, l in ipairs(type(lines) == "table" and lines or { lines }) do
      table.insert(notes[at], l)
    end
  end
  local out = {}
  local function note(path, indent)
    for _, l in ipairs(notes[path] or {}) do
      for piece in (tostring(l) .. "\n"):gmatch("(.-)\n") do
        out[#out + 1] = indent .. "# " .. piece
      end
    end
  end
  local function child(path, k) return path == "" and k or path .. "/" .. k end
  -- writes the entries of table t at `indent`; the first line may start with `lead`
  local function block(t, path, indent, lead)
    local first = true
    local function put(line)
      if first and lead then out[#out] = out[#out] .. line else out[#out + 1] = indent .. line end
      first = false
    end
    if is_list(t) then
      for i, x in ipairs(t) do
        local p = child(path, tostring(i - 1))
        if not (first and lead) then note(p, indent) end
        if type(x) == "table" and next(x) ~= nil then
          put("- ")
          block(x, p, indent .. "  ", true)
        else
          put("- " .. (type(x) == "table" and (is_list(x) and "[]" or "{}") or scalar(x)))
        end
      end
      return
    end
    for _, k in ipairs(sorted_keys(t)) do
      local x, p = t[k], child(path, k)
      if not (first and lead) then note(p, indent) end
      if type(x) == "table" and next(x) ~= nil then
        put(str(k) .. ":")
        block(x, p, indent .. "  ", false)
      else
        put(str(k) .. ": " .. (type(x) == "table" and (json.is_array(x) and "[]" or "{}") or scalar(x)))
      end
    end
  end
  note("", "")
  if type(v) ~= "table" then
    out[#out + 1] = scalar(v)
  elseif next(v) == nil then
    out[#out + 1] = json.is_array(v) and "[]" or "{}"
  else
    block(v, "", "", false)
  end
  return table.concat(out, "\n") .. "\n"
end

function M.read(path)
  if type(path) ~= "string" then
    error(("bad argument #1 to 'read' (string expected, got %s)"):format(type(path)), 2)
  end
  local text, err = file.read(path)
  if text == nil then error(E.new("YAMLError", err, { file = path }), 0) end
  return M.decode(text, path)
end

return M
