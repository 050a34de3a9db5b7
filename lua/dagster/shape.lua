-- dagster.shape: what is wrong with an answer the client could not read.
--
-- A GraphQL server answers exactly the fields a document selects, so the document itself
-- says what shape the answer has: every selected field is there, and a field with a
-- selection of its own holds an object or a list of objects. When reading an answer fails
-- (a proxy, another Dagster version or a bug handed over something else), find() walks the
-- answer against the document's selection and names the first place that breaks it:
--
--   shape.find(document, data) -> "repositoriesOrError.nodes[1].jobs", "expected an object
--                                 or a list, got nil"   (or nil when the shape is right)
--
-- It runs only after a failure, so answers that read well cost nothing. Inline fragments
-- (`... on Run { }`) apply when __typename names their type; fragments on an interface
-- (`... on Error`) are not checked, since the document alone cannot tell who implements it.

local json = require "dagster.json"
local null, is_array = json.null, json.is_array

local fmt = string.format

local M = {}

-- The tokens of a document: names, "...", punctuation; strings and comments dropped.
local function tokens(doc)
  local out, i, n = {}, 1, #doc
  while i <= n do
    local c = doc:sub(i, i)
    if c:find("^[%s,]") then
      i = i + 1
    elseif c == "#" then
      i = (doc:find("\n", i, true) or n) + 1
    elseif c == '"' then
      local j = i + 1
      while j <= n and doc:sub(j, j) ~= '"' do
        if doc:sub(j, j) == "\\" then j = j + 1 end
        j = j + 1
      end
      out[#out + 1], i = '"', j + 1
    elseif doc:sub(i, i + 2) == "..." then
      out[#out + 1], i = "...", i + 3
    else
      local name = doc:match("^[_%a][_%w]*", i)
      out[#out + 1] = name or c
      i = i + (name and #name or 1)
    end
  end
  return out
end

-- The selection of the document's first operation: a list of {key =, sub =} (a field, sub
-- its own selection or nil) and {on =, sub =} (an inline fragment).
local function parse(doc)
  local t, pos = tokens(doc), 1
  local function skip_group()            -- at "(": past its ")"
    local depth = 0
    repeat
      if t[pos] == "(" then depth = depth + 1 elseif t[pos] == ")" then depth = depth - 1 end
      pos = pos + 1
    until depth == 0 or pos > #t
  end
  local function selection()             -- at "{": past its "}"
    local out = {}
    pos = pos + 1
    while t[pos] ~= nil and t[pos] ~= "}" do
      if t[pos] == "..." then
        local on
        if t[pos + 1] == "on" then on, pos = t[pos + 2], pos + 3 else pos = pos + 1 end
        while t[pos] ~= nil and t[pos] ~= "{" do pos = pos + 1 end  -- directives
        out[#out + 1] = { on = on, sub = selection() }
      else
        local key = t[pos]
        pos = pos + 1
        if t[pos] == ":" then pos = pos + 2 end            -- alias: name
        if t[pos] == "(" then skip_group() end
        while t[pos] == "@" do                             -- directives
          pos = pos + 2
          if t[pos] == "(" then skip_group() end
        end
        local sub
        if t[pos] == "{" then sub = selection() end
        out[#out + 1] = { key = key, sub = sub }
      end
    end
    pos = pos + 1
    return out
  end
  while t[pos] ~= nil and t[pos] ~= "{" do
    if t[pos] == "(" then skip_group() else pos = pos + 1 end
  end
  return t[pos] and selection() or {}
end

local parsed, nparsed = {}, 0
local function selection_of(doc)
  local s = parsed[doc]
  if s == nil then
    s = parse(doc)
    if nparsed < 256 then parsed[doc], nparsed = s, nparsed + 1 end
  end
  return s
end
M._parse = selection_of

local function what(v)
  if v == nil then return "nil" end
  if v == null then return "null" end
  local t = type(v)
  if t == "table" then return is_array(v) and "a list" or "an object" end
  return fmt("a %s (%s)", t, tostring(v):sub(1, 40))
end

-- Walks the object v against sel. A field that is missing or of the wrong kind is recorded
-- in found.hard, a null where an object or list was selected in found.soft (it may be
-- allowed there), each only the first time.
local function walk(v, sel, path, found)
  local typename = rawget(v, "__typename")
  for _, item in ipairs(sel) do
    if found.hard then return end
    if item.on then
      if item.on == typename then walk(v, item.sub, path, found) end
    else
      local x = rawget(v, item.key)
      local p = path == "" and item.key or path .. "." .. item.key
      if x == nil then
        found.hard = { p, item.sub and "expected an object or a list, got nil"
                                    or "expected a value, got nil" }
      elseif item.sub then
        if x == null then
          found.soft = found.soft or { p, "expected an object or a list, got null" }
        elseif type(x) ~= "table" then
          found.hard = { p, "expected an object or a list, got " .. what(x) }
        elseif is_array(x) then            -- a list: each item is an object
          for i, el in ipairs(x) do
            local pi = fmt("%s[%d]", p, i)
            if el == null then
              found.soft = found.soft or { pi, "expected an object, got null" }
            elseif type(el) ~= "table" then
              found.hard = { pi, "expected an object, got " .. what(el) }
            else
              walk(el, item.sub, pi, found)
            end
            if found.hard then return end
          end
        else
          walk(x, item.sub, p, found)
        end
      end
    end
  end
end

-- shape.find(document, data) -> path, problem; or nil when data has the document's shape
function M.find(document, data)
  if type(data) ~= "table" then return "data", "expected an object, got " .. what(data) end
  local found = {}
  walk(data, selection_of(document), "", found)
  local f = found.hard or found.soft
  if f then return f[1], f[2] end
end

return M
