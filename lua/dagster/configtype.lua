-- dagster.configtype: a job's run config schema as the server gives it
-- (runConfigSchemaOrError: the root type's key and allConfigTypes), read without requests.
-- The REPL completes run configs from it and client:scaffold_config fills one in with it.
--
--   local T = require "dagster.configtype"
--   T.read(r)                 -> schema {root =, types = {key -> type}, default_yaml =}, from
--                                a RunConfigSchema answer; a type the server names but does
--                                not list reads as Any
--   T.at(schema, path)        -> the type at a path of keys into the config ({"ops", "x"}),
--                                or nil when the path leaves the schema
--   T.fields(schema, path)    -> the fields of the mapping at path: list of {name, type,
--                                required, default (JSON text or nil), description}, sorted
--   T.enum(schema, path)      -> the values of the enum at path, or nil
--   T.placeholder(schema, key) -> what stands for a required value of type key that has no
--                                default, as Dagster's UI scaffolds it: "" for a String, 0
--                                for Int and Float, true for Bool, "AnyType" for Any,
--                                "A|B" for an enum, {} or [] for maps and lists, the
--                                required fields of a mapping, "<selector>" for a selector
--   T.fill(schema, config)    -> config with every missing required field that has no
--                                default set to its placeholder (config is changed in place),
--                                and the list of {path =, type =} filled
--   T.describe(schema, key)   -> a type as a person reads it: "String", "Int?", "[String]",
--                                "one of A|B", "mapping", "selector: a|b"

local json = require "dagster.json"

local concat = table.concat

local M = {}

local ANY = { __typename = "RegularConfigType", key = "Any", typeParamKeys = {} }

-- the answer's parts, checked: a plain error names what is wrong (answer.read makes it a
-- ProtocolError), so that what reads a schema later can trust its shape
local function str(v, what)
  if type(v) ~= "string" then error(what .. " is not a string", 0) end
  return v
end

local function list(v, what)
  if v == nil or v == json.null then return {} end
  if type(v) ~= "table" then error(what .. " is not a list", 0) end
  return v
end

local function opt_str(v) return type(v) == "string" and v or nil end

local function read_type(t)
  if type(t) ~= "table" then error("a config type is not an object", 0) end
  local out = { __typename = str(t.__typename, "a config type's __typename"),
                key = str(t.key, "a config type's key"), isSelector = t.isSelector == true,
                typeParamKeys = {} }
  for i, k in ipairs(list(t.typeParamKeys, "typeParamKeys")) do
    out.typeParamKeys[i] = str(k, "a type parameter key")
  end
  if t.fields ~= nil and t.fields ~= json.null then
    out.fields = {}
    for i, f in ipairs(list(t.fields, "fields")) do
      if type(f) ~= "table" then error("a config field is not an object", 0) end
      out.fields[i] = { name = str(f.name, "a config field's name"),
                        configTypeKey = str(f.configTypeKey, "a config field's configTypeKey"),
                        isRequired = f.isRequired == true,
                        defaultValueAsJson = opt_str(f.defaultValueAsJson),
                        description = opt_str(f.description) }
    end
  end
  if t.values ~= nil and t.values ~= json.null then
    out.values = {}
    for i, v in ipairs(list(t.values, "values")) do
      out.values[i] = { value = str(type(v) == "table" and v.value, "an enum value") }
    end
  end
  if out.__typename == "ScalarUnionConfigType" then
    out.scalarTypeKey = str(t.scalarTypeKey, "scalarTypeKey")
    out.nonScalarTypeKey = str(t.nonScalarTypeKey, "nonScalarTypeKey")
  end
  return out
end

function M.read(r)
  local types = {}
  for _, t in ipairs(list(r.allConfigTypes, "allConfigTypes")) do
    t = read_type(t)
    types[t.key] = t
  end
  local root = r.rootConfigType
  if root ~= nil and root ~= json.null then
    root = str(type(root) == "table" and root.key, "rootConfigType.key")
  else
    root = nil
  end
  return { root = root, types = types, default_yaml = opt_str(r.rootDefaultYaml) }
end

local function get(s, key) return s.types[key] or ANY end

-- the type a value of type key is checked against: a Nullable's inner type, a scalar
-- union's non-scalar side (the mapping a value may be given as)
local function unwrap(s, key)
  for _ = 1, 16 do
    local t = get(s, key)
    if t.__typename == "NullableConfigType" and t.typeParamKeys[1] then
      key = t.typeParamKeys[1]
    else
      return t
    end
  end
  return ANY
end

local function field(t, name)
  for _, f in ipairs(t.fields or {}) do
    if f.name == name then return f end
  end
end

function M.at(s, path)
  if not s.root then return nil end
  local t = unwrap(s, s.root)
  for _, k in ipairs(path) do
    local tn = t.__typename
    if tn == "CompositeConfigType" then
      local f = field(t, k)
      if not f then return nil end
      t = unwrap(s, f.configTypeKey)
    elseif tn == "ScalarUnionConfigType" then
      local f = field(unwrap(s, t.nonScalarTypeKey), k)
      if not f then return nil end
      t = unwrap(s, f.configTypeKey)
    elseif tn == "MapConfigType" then
      t = unwrap(s, t.typeParamKeys[2] or "Any")
    elseif tn == "ArrayConfigType" and math.tointeger(k) then
      t = unwrap(s, t.typeParamKeys[1] or "Any")
    else
      return nil
    end
  end
  return t
end

function M.fields(s, path)
  local t = M.at(s, path)
  if t and t.__typename == "ScalarUnionConfigType" then t = unwrap(s, t.nonScalarTypeKey) end
  if not (t and t.__typename == "CompositeConfigType") then return {} end
  local out = {}
  for i, f in ipairs(t.fields or {}) do
    out[i] = { name = f.name, type = f.configTypeKey, required = f.isRequired == true,
               default = type(f.defaultValueAsJson) == "string" and f.defaultValueAsJson or nil,
               description = type(f.description) == "string" and f.description or nil }
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

function M.enum(s, path)
  local t = M.at(s, path)
  if not (t and t.__typename == "EnumConfigType") then return nil end
  local out = {}
  for i, v in ipairs(t.values or {}) do out[i] = v.value end
  return out
end

local SCALAR = { String = "", Int = 0, Float = 0.0, Bool = true, Any = "AnyType" }

function M.placeholder(s, key, depth)
  depth = (depth or 0) + 1
  local t = unwrap(s, key)
  local tn = t.__typename
  if depth > 32 then return {} end
  if tn == "CompositeConfigType" then
    if t.isSelector then return "<selector>" end
    local out = {}
    for _, f in ipairs(t.fields or {}) do
      if f.isRequired then out[f.name] = M.placeholder(s, f.configTypeKey, depth) end
    end
    return out
  elseif tn == "ArrayConfigType" then return json.array()
  elseif tn == "MapConfigType" then return {}
  elseif tn == "EnumConfigType" then
    local vals = {}
    for i, v in ipairs(t.values or {}) do vals[i] = v.value end
    return concat(vals, "|")
  elseif tn == "ScalarUnionConfigType" then return M.placeholder(s, t.scalarTypeKey, depth)
  end
  local v = SCALAR[t.key]
  if v == nil then return "AnyType" end
  return v
end

function M.fill(s, config)
  local filled = {}
  local function walk(v, key, path, depth)
    local t = unwrap(s, key)
    if depth > 32 or type(v) ~= "table" then return end
    if t.__typename == "ScalarUnionConfigType" then t = unwrap(s, t.nonScalarTypeKey) end
    if t.__typename ~= "CompositeConfigType" then return end
    for _, f in ipairs(t.fields or {}) do
      local here = path == "" and f.name or path .. "/" .. f.name
      if v[f.name] == nil then
        if f.isRequired and not (t.isSelector and next(v) ~= nil) then
          v[f.name] = M.placeholder(s, f.configTypeKey)
          filled[#filled + 1] = { path = here, type = f.configTypeKey }
        end
      else
        walk(v[f.name], f.configTypeKey, here, depth + 1)
      end
    end
  end
  if s.root then walk(config, s.root, "", 0) end
  -- a filled mapping's own required fields were filled by placeholder: name them too
  local more = {}
  for _, f in ipairs(filled) do
    local function inner(key, path, depth)
      local t = unwrap(s, key)
      if depth > 32 or t.__typename ~= "CompositeConfigType" or t.isSelector then return end
      for _, g in ipairs(t.fields or {}) do
        if g.isRequired then
          local p = path .. "/" .. g.name
          more[#more + 1] = { path = p, type = g.configTypeKey }
          inner(g.configTypeKey, p, depth + 1)
        end
      end
    end
    inner(f.type, f.path, 0)
  end
  for _, f in ipairs(more) do filled[#filled + 1] = f end
  return config, filled
end

function M.describe(s, key)
  local t = get(s, key)
  local tn = t.__typename
  if tn == "NullableConfigType" then return M.describe(s, t.typeParamKeys[1] or "Any") .. "?" end
  if tn == "ArrayConfigType" then return "[" .. M.describe(s, t.typeParamKeys[1] or "Any") .. "]" end
  if tn == "MapConfigType" then
    return "{" .. M.describe(s, t.typeParamKeys[1] or "String") .. ": " ..
      M.describe(s, t.typeParamKeys[2] or "Any") .. "}"
  end
  if tn == "EnumConfigType" then
    local vals = {}
    for i, v in ipairs(t.values or {}) do vals[i] = v.value end
    return "one of " .. concat(vals, "|")
  end
  if tn == "ScalarUnionConfigType" then return M.describe(s, t.scalarTypeKey) end
  if tn == "CompositeConfigType" then
    if t.isSelector then
      local names = {}
      for i, f in ipairs(t.fields or {}) do names[i] = f.name end
      return "selector: " .. concat(names, "|")
    end
    return "mapping"
  end
  return tostring(t.key)
end

return M
