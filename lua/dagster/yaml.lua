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
--
-- The client checks a run config given as a YAML string with it before sending anything,
-- and the playbooks read their -c files with it, so a YAML mistake reads the same
-- everywhere.

local json = require "dagster.json"
local E = require "dagster.error"

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
  return convert(doc, l.null)
end

function M.read(path)
  if type(path) ~= "string" then
    error(("bad argument #1 to 'read' (string expected, got %s)"):format(type(path)), 2)
  end
  local f, err = io.open(path, "rb")
  if not f then error(E.new("YAMLError", tostring(err), { file = path }), 0) end
  local text = f:read("a")
  f:close()
  return M.decode(text, path)
end

return M
