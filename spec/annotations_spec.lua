-- types/dagster.lua, the LuaLS definition file (---@meta): generated from lua/dagster/api.lua
-- by scripts/gen-annotations.lua, so it is regenerated here and must equal the committed
-- copy; Lua accepts it; and every function it annotates exists in the module (the playbook
-- module's functions and the pb's methods included) and takes the parameters it names
-- (lua-language-server itself cannot be installed here).
local H = require "helper"
local dagster = require "dagster"
local api = require "dagster.api"
local Client = require "dagster.client"
local playbook = require "dagster.playbook"
local PB = require("dagster.playbook.object").PB
local _ = Client.wait_for_run  -- loads the methods of runs.lua, workspace.lua, timeline.lua

local FILE = H.root .. "/types/dagster.lua"

-- the annotated functions of the file: {owner, sep, name, params, doc = {lines}}
local function annotated()
  local text = assert(H.slurp(FILE), "cannot read " .. FILE)
  local list, doc = {}, {}
  for line in text:gmatch("([^\n]*)\n") do
    local owner, sep, name, params = line:match("^function ([%w_.]+)([.:])([%w_]+)%((.-)%) end$")
    if owner then
      local p = {}
      for n in params:gmatch("[^, ]+") do p[#p + 1] = n end
      list[#list + 1] = { owner = owner, sep = sep, name = name, params = p, doc = doc }
      doc = {}
    elseif line:match("^%-%-%-") then
      doc[#doc + 1] = line
    else
      doc = {}
    end
  end
  return list, text
end

-- the real function an annotation stands for
local function real(f)
  if f.owner == "Client" then return rawget(Client, f.name), "client:" .. f.name end
  if f.owner == "Playbook" then return rawget(PB, f.name), "pb:" .. f.name end
  if f.owner == "playbook" then return rawget(playbook, f.name), "playbook." .. f.name end
  local v = dagster
  for part in f.owner:gmatch("[^.]+") do
    if part ~= "dagster" then v = type(v) == "table" and rawget(v, part) or nil end
  end
  return type(v) == "table" and rawget(v, f.name) or nil, f.owner .. "." .. f.name
end

describe("editor annotations (types/dagster.lua)", function()
  it("are what scripts/gen-annotations.lua makes of lua/dagster/api.lua today", function()
    local out, err, code = H.run("cd " .. H.quote(H.root) .. " && lua5.4 scripts/gen-annotations.lua")
    assert.equal(0, code, err)
    assert.is_true(out == H.slurp(FILE),
      "types/dagster.lua is out of date: run `make annotations` and commit it")
  end)

  it("are a ---@meta file that luac5.4 -p accepts", function()
    local _, text = annotated()
    assert.matches("^%-%-%-@meta dagster\n", text)
    local _, err, code = H.run("luac5.4 -p " .. H.quote(FILE))
    assert.equal(0, code, err)
  end)

  it("annotate every entry of api.lua once, ---@async exactly where it yields", function()
    local list = annotated()
    local seen = {}
    for _, f in ipairs(list) do
      local _, name = real(f)
      assert.is_nil(seen[name], "annotated twice: " .. name)
      seen[name] = f
    end
    local functions = 0
    for _, e in ipairs(api.entries) do
      if e.kind ~= "topic" then
        functions = functions + 1
        local f = seen[e.name]
        assert.truthy(f, "no annotation for " .. e.name)
        local async = false
        for _, l in ipairs(f.doc) do if l == "---@async" then async = true end end
        assert.equal(e.async == true, async, "---@async of " .. e.name)
      end
    end
    assert.equal(functions, #list)
  end)

  it("give the pb object and the declaration's tables a ---@class, as api.lua's topics say", function()
    local _, text = annotated()
    for _, e in ipairs(api.entries) do
      for _, sec in ipairs(e.sections or {}) do
        if sec.class then
          local body = text:match("\n%-%-%-@class " .. sec.class:gsub("%p", "%%%0") .. "\n(.-)\n\n")
          assert.truthy(body, "no ---@class " .. sec.class)
          for _, f in ipairs(sec.fields) do
            assert.truthy(body:find(("---@field %s%s %s"):format(f.name, f.optional and "?" or "",
              f.type), 1, true), sec.class .. "." .. f.name)
          end
        elseif sec.alias then
          assert.truthy(text:find("\n---@alias " .. sec.alias .. " ", 1, true), "no ---@alias " .. sec.alias)
        end
      end
    end
    -- a playbook's body gets a typed pb
    assert.truthy(text:find("---@param body fun(pb: dagster.Playbook): integer?\n", 1, true))
  end)

  it("name functions that exist in the module, with the parameters they take", function()
    local problems = {}
    for _, f in ipairs(annotated()) do
      local fn, name = real(f)
      -- the ---@param lines name the parameters of the signature, in order
      local params = {}
      for _, l in ipairs(f.doc) do
        local p = l:match("^%-%-%-@param ([%w_.]+)%??%s")
        if p then params[#params + 1] = p end
      end
      if table.concat(params, ",") ~= table.concat(f.params, ",") then
        problems[#problems + 1] = name .. ": ---@param lines " .. table.concat(params, ",") ..
          " but signature " .. table.concat(f.params, ",")
      end
      if type(fn) ~= "function" then
        problems[#problems + 1] = name .. ": no such function in the module"
      else
        local info = debug.getinfo(fn, "Su")
        if info.what == "Lua" then
          -- a method's first parameter is self; then the annotated names, in order, as far
          -- as the function names its parameters; any more must go to its vararg
          local names = {}
          for i = 1, info.nparams do names[i] = debug.getlocal(fn, i) end
          if f.sep == ":" then
            if names[1] ~= "self" then problems[#problems + 1] = name .. ": not a method" end
            table.remove(names, 1)
          end
          local want = {}
          for _, p in ipairs(f.params) do if p ~= "..." then want[#want + 1] = p end end
          for i = 1, math.min(#names, #want) do
            if names[i] ~= want[i] then
              problems[#problems + 1] = ("%s: parameter %d is %s, annotated %s"):format(name, i,
                names[i], want[i])
            end
          end
          if #names > #want then
            problems[#problems + 1] = name .. ": takes more parameters than annotated: " ..
              table.concat(names, ",")
          elseif #want + (f.params[#f.params] == "..." and 1 or 0) > #names and not info.isvararg then
            problems[#problems + 1] = name .. ": annotated " .. table.concat(f.params, ",") ..
              " but takes only " .. table.concat(names, ",")
          end
        end
      end
    end
    assert.is_true(#problems == 0, #problems .. " problem(s):\n  " .. table.concat(problems, "\n  "))
  end)

  it("define every dagster.* type they use", function()
    local _, text = annotated()
    local defined = {}
    for name in text:gmatch("%-%-%-@class ([%w_.]+)") do defined[name] = true end
    for name in text:gmatch("%-%-%-@alias ([%w_.]+)") do defined[name] = true end
    local missing = {}
    for line in text:gmatch("([^\n]*)\n") do
      -- the type of a ---@param, ---@field or ---@return line: up to the first space outside
      -- brackets (what follows is its documentation)
      local rest = line:match("^%-%-%-@param [%w_.]+%??%s(.*)") or
        line:match("^%-%-%-@field [%w_]+%??%s(.*)") or line:match("^%-%-%-@return (.*)")
      if rest then
        local depth, stop = 0, #rest
        for i = 1, #rest do
          local c = rest:sub(i, i)
          if c:match("[%(<{%[]") then depth = depth + 1
          elseif c:match("[%)>}%]]") then depth = depth - 1
          elseif c == " " and depth == 0 then stop = i - 1; break end
        end
        for name in rest:sub(1, stop):gmatch("dagster%.[%w_.]*[%w_]") do
          if not defined[name] then missing[name] = true end
        end
      end
    end
    assert.same({}, missing)
  end)
end)
