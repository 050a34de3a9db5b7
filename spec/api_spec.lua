-- lua/dagster/api.lua, the one description of the public API, held against the code: every
-- public function has an entry and every entry a function; each entry's options are the
-- set its function checks (check.option_sets, filled by the option sets of client.lua,
-- runs.lua and workspace.lua); every entry is complete and its example compiles.
-- No server is needed.
local dagster = require "dagster"
local api = require "dagster.api"
local Client = require "dagster.client"
local check = require "dagster.check"
local fmt = string.format
local _ = Client.wait_for_run  -- loads the methods of runs.lua and workspace.lua

-- fails with every problem found, one a line
local function none(problems)
  assert.is_true(#problems == 0,
    #problems .. " problem(s):\n  " .. table.concat(problems, "\n  "))
end

-- the function an entry's name stands for, or nil
local function resolve(name)
  local method = name:match("^client:([%w_]+)$")
  if method then return rawget(Client, method) end
  local path = name:match("^dagster%.([%w_.]+)$")
  if not path then return nil end
  local v = dagster
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = rawget(v, part)
  end
  return v
end

-- The public functions by the name an entry would give them: the module's functions, those
-- of its tables one level down (dagster.Error.is, dagster.json.encode, ...), and the client's
-- methods; names starting with _ are private.
local function public_module_functions()
  local out = {}
  for k, v in pairs(dagster) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" then
      if type(v) == "function" then
        out["dagster." .. k] = v
      elseif type(v) == "table" then
        for k2, v2 in pairs(v) do
          if type(k2) == "string" and k2:sub(1, 1) ~= "_" and type(v2) == "function" then
            out["dagster." .. k .. "." .. k2] = v2
          end
        end
      end
    end
  end
  return out
end

local function public_methods()
  local out = {}
  for k, v in pairs(Client) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" and type(v) == "function" then
      out["client:" .. k] = v
    end
  end
  return out
end

-- Client.new is what dagster.client calls
local DESCRIBED_AS = { ["client:new"] = "dagster.client" }

-- a function is described when an entry names it, or names the very same function under
-- another name (dagster.json.array is dagster.array)
local function undescribed(functions)
  local described = {}
  for _, e in ipairs(api.entries) do
    local f = resolve(e.name)
    if f ~= nil then described[f] = true end
  end
  local missing = {}
  for name, f in pairs(functions) do
    local alias = DESCRIBED_AS[name]
    if not (api.by_name[name] or described[f] or (alias and api.by_name[alias])) then
      missing[#missing + 1] = name .. " has no entry in lua/dagster/api.lua"
    end
  end
  table.sort(missing)
  return missing
end

-- the key an entry's option set is registered under in check.option_sets, or nil when its
-- function is not one of the client's (dagster.gather, dagster.inspect: no registry)
local function registry_key(e)
  if e.name == "dagster.client" then return "client" end
  return e.name:match("^client:([%w_]+)$")
end

local COMPLETE = { job = true, location = true, schedule = true, sensor = true, asset = true,
                   run = true }

describe("lua/dagster/api.lua", function()
  it("has an entry for every public module function", function()
    none(undescribed(public_module_functions()))
  end)

  it("has an entry for every public client method", function()
    none(undescribed(public_methods()))
  end)

  it("names only functions that exist, with the kind their name says", function()
    local problems = {}
    for _, e in ipairs(api.entries) do
      local name = tostring(e.name)
      if type(resolve(name)) ~= "function" then
        problems[#problems + 1] = name .. ": no such function"
      end
      local want = name:find("^client:") and "method" or "function"
      if e.kind ~= want then
        problems[#problems + 1] = fmt("%s: kind is %s, expected %s", name, tostring(e.kind), want)
      end
    end
    none(problems)
  end)

  it("gives every entry a name, kind, one-line summary, args, returns and example", function()
    local problems = {}
    local function bad(e, what) problems[#problems + 1] = tostring(e.name) .. ": " .. what end
    local function is_list(v)
      if type(v) ~= "table" then return false end
      local n = 0
      for _ in pairs(v) do n = n + 1 end
      return n == #v
    end
    for i, e in ipairs(api.entries) do
      if type(e.name) ~= "string" or e.name == "" then bad(e, "entry #" .. i .. " has no name") end
      if e.kind ~= "function" and e.kind ~= "method" then bad(e, "kind missing or unknown") end
      if type(e.summary) ~= "string" or e.summary == "" then bad(e, "summary missing")
      elseif #e.summary > 70 or e.summary:find("\n") then
        bad(e, "summary longer than one line of 70 characters")
      end
      if not is_list(e.args) then bad(e, "args missing (a list; {} when none)") end
      if not is_list(e.returns) then bad(e, "returns missing (a list; {} when nothing)") end
      if type(e.example) ~= "string" or e.example == "" then bad(e, "example missing") end
      if e.errors ~= nil and not is_list(e.errors) then bad(e, "errors is not a list") end
      for j, a in ipairs(type(e.args) == "table" and e.args or {}) do
        if type(a.name) ~= "string" or type(a.type) ~= "string" then
          bad(e, "argument #" .. j .. " lacks a name or a type")
        end
      end
      for j, r in ipairs(type(e.returns) == "table" and e.returns or {}) do
        if type(r.type) ~= "string" then bad(e, "return #" .. j .. " lacks a type") end
      end
      for j, o in ipairs(type(e.options) == "table" and e.options or {}) do
        if type(o.name) ~= "string" or type(o.type) ~= "string" or type(o.doc) ~= "string" then
          bad(e, "option #" .. j .. " lacks a name, a type or a doc")
        end
      end
    end
    none(problems)
  end)

  it("indexes every entry by its name in by_name, each name once", function()
    local problems, seen = {}, {}
    for _, e in ipairs(api.entries) do
      if seen[e.name] then problems[#problems + 1] = tostring(e.name) .. ": two entries" end
      seen[e.name] = true
      if api.by_name[e.name] ~= e then
        problems[#problems + 1] = tostring(e.name) .. ": not in by_name"
      end
    end
    for name in pairs(api.by_name) do
      if not seen[name] then problems[#problems + 1] = name .. ": in by_name but not in entries" end
    end
    none(problems)
  end)

  it("describes exactly the options each function accepts (check.option_sets)", function()
    local problems, described = {}, {}
    for _, e in ipairs(api.entries) do
      local key = registry_key(e)
      if key then
        described[key] = true
        local registered = check.option_sets[key]
        local names = {}
        for _, o in ipairs(e.options or {}) do
          if names[o.name] then
            problems[#problems + 1] = fmt("%s: option '%s' described twice", e.name, o.name)
          end
          names[o.name] = true
          if not (registered and registered[o.name]) then
            problems[#problems + 1] = fmt("%s: option '%s' is described but not accepted",
              e.name, o.name)
          end
        end
        for name in pairs(registered or {}) do
          if not names[name] then
            problems[#problems + 1] = fmt("%s: option '%s' is accepted but not described",
              e.name, name)
          end
        end
      end
    end
    for key in pairs(check.option_sets) do
      if not described[key] then
        problems[#problems + 1] = fmt("options registered under '%s', which has no entry", key)
      end
    end
    table.sort(problems)
    none(problems)
  end)

  it("points opts_arg at an argument of type table, and has options only with it", function()
    local problems = {}
    for _, e in ipairs(api.entries) do
      if e.opts_arg ~= nil then
        local a = type(e.args) == "table" and e.args[e.opts_arg]
        if not a then
          problems[#problems + 1] = fmt("%s: opts_arg %s is not an argument", e.name,
            tostring(e.opts_arg))
        elseif a.type ~= "table" then
          problems[#problems + 1] = fmt("%s: opts_arg %d is '%s', of type %s, not table", e.name,
            e.opts_arg, tostring(a.name), tostring(a.type))
        end
        if type(e.options) ~= "table" or #e.options == 0 then
          problems[#problems + 1] = e.name .. ": opts_arg without options"
        end
      elseif e.options ~= nil then
        problems[#problems + 1] = e.name .. ": options without opts_arg"
      end
    end
    none(problems)
  end)

  it("has examples that compile as chunks", function()
    local problems = {}
    for _, e in ipairs(api.entries) do
      if type(e.example) == "string" then
        local f, err = load(e.example, "=" .. e.name .. " example", "t")
        if not f then problems[#problems + 1] = err end
      end
    end
    none(problems)
  end)

  it("completes only kinds the REPL knows (job, location, schedule, sensor, asset, run)", function()
    local problems = {}
    for _, e in ipairs(api.entries) do
      for _, list in ipairs { e.args or {}, e.options or {} } do
        for _, a in ipairs(list) do
          if a.complete ~= nil and not COMPLETE[a.complete] then
            problems[#problems + 1] = fmt("%s: %s completes unknown kind '%s'", e.name,
              tostring(a.name), tostring(a.complete))
          end
        end
      end
    end
    none(problems)
  end)
end)
