-- lua/dagster/api.lua, the one description of the public API, held against the code: every
-- public function has an entry and every entry a function; each entry's options are the
-- set its function checks (check.option_sets, filled by the option sets of client.lua,
-- runs.lua, workspace.lua and the playbook object); every entry is complete and its example
-- compiles. The playbook entries too: dagster.playbook's functions ("playbook.x"), the
-- methods of the pb a body is given ("pb:x", dagster.playbook.object's PB), and the topics
-- "playbook" and "pb", whose declaration format, flag types, common flags, exit codes and
-- pb fields are held against cli.lua, exit.lua and a real pb. No server is needed.
local dagster = require "dagster"
local api = require "dagster.api"
local Client = require "dagster.client"
local check = require "dagster.check"
local playbook = require "dagster.playbook"
local object = require "dagster.playbook.object"
local cli = require "dagster.playbook.cli"
local exit = require "dagster.playbook.exit"
local fmt = string.format
local _ = Client.wait_for_run  -- loads the methods of runs.lua and workspace.lua
local PB = object.PB

-- fails with every problem found, one a line
local function none(problems)
  assert.is_true(#problems == 0,
    #problems .. " problem(s):\n  " .. table.concat(problems, "\n  "))
end

-- the function an entry's name stands for, or nil
local function resolve(name)
  local method = name:match("^client:([%w_]+)$")
  if method then return rawget(Client, method) end
  method = name:match("^pb:([%w_]+)$")
  if method then return rawget(PB, method) end
  local fn = name:match("^playbook%.([%w_]+)$")
  if fn then return rawget(playbook, fn) end
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

-- the public functions of a table (names not starting with _), named prefix .. name
local function public_functions(t, prefix)
  local out = {}
  for k, v in pairs(t) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" and type(v) == "function" then
      out[prefix .. k] = v
    end
  end
  return out
end

local function public_methods() return public_functions(Client, "client:") end

-- Client.new is what dagster.client calls
local DESCRIBED_AS = { ["client:new"] = "dagster.client" }

-- the public functions that have no entry, on purpose
local NOT_DESCRIBED = {
  ["playbook.new"] = "what playbooks called before playbook.define: it says it is gone",
  ["playbook.play"] = "`dagster-lua play` itself (main.c calls it with the command line)",
}

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
    if not (api.by_name[name] or described[f] or (alias and api.by_name[alias])
        or NOT_DESCRIBED[name]) then
      missing[#missing + 1] = name .. " has no entry in lua/dagster/api.lua"
    end
  end
  table.sort(missing)
  return missing
end

-- the key an entry's option set is registered under in check.option_sets, or nil when its
-- function is not one of the client's (dagster.gather, dagster.inspect: no registry); and
-- the options of that set it does not take (pb:submit passes its options on to the
-- client's submit_job_execution, with the journal's submission_id in place of any given)
local FORWARDED = {
  ["pb:submit"] = "submit_job_execution", ["pb:reexecute"] = "reexecute",
  ["pb:backfill"] = "backfill", ["pb:terminate"] = "terminate_run", ["pb:stop_runs"] = "stop_runs",
}
local function registry_key(e)
  if e.name == "dagster.client" then return "client" end
  if FORWARDED[e.name] then return FORWARDED[e.name], { submission_id = true } end
  if e.name:find("^pb:") then return e.name end
  return e.name:match("^client:([%w_]+)$")
end

local COMPLETE = { job = true, location = true, schedule = true, sensor = true, asset = true,
                   run = true, deployment = true, instigator = true, run_config = true,
                   check = true }

describe("lua/dagster/api.lua", function()
  it("has an entry for every public module function", function()
    none(undescribed(public_module_functions()))
  end)

  it("has an entry for every public client method", function()
    none(undescribed(public_methods()))
  end)

  it("has an entry for every public function of dagster.playbook", function()
    none(undescribed(public_functions(playbook, "playbook.")))
  end)

  it("has an entry for every public method of a playbook's pb", function()
    none(undescribed(public_functions(PB, "pb:")))
  end)

  it("names only functions that exist, with the kind their name says", function()
    local problems = {}
    for _, e in ipairs(api.entries) do
      local name = tostring(e.name)
      local want = (name:find("^client:") or name:find("^pb:")) and "method"
        or name:find("^[%a_]+$") and "topic" or "function"
      if want ~= "topic" and type(resolve(name)) ~= "function" then
        problems[#problems + 1] = name .. ": no such function"
      end
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
      if e.kind ~= "function" and e.kind ~= "method" and e.kind ~= "topic" then
        bad(e, "kind missing or unknown")
      end
      if type(e.summary) ~= "string" or e.summary == "" then bad(e, "summary missing")
      elseif #e.summary > 70 or e.summary:find("\n") then
        bad(e, "summary longer than one line of 70 characters")
      end
      if e.doc ~= nil and (type(e.doc) ~= "string" or e.doc == "") then bad(e, "doc is not text") end
      if e.kind == "topic" then
        if not is_list(e.sections) or #e.sections == 0 then bad(e, "a topic without sections") end
        for j, sec in ipairs(type(e.sections) == "table" and e.sections or {}) do
          if type(sec.title) ~= "string" or not is_list(sec.fields) or #sec.fields == 0 then
            bad(e, "section #" .. j .. " lacks a title or fields")
          end
          for k, f in ipairs(type(sec.fields) == "table" and sec.fields or {}) do
            if type(f.name) ~= "string" or type(f.doc) ~= "string" then
              bad(e, fmt("section #%d field #%d lacks a name or a doc", j, k))
            end
            if sec.class and type(f.type) ~= "string" then
              bad(e, fmt("section #%d (class %s): field %s lacks a type", j, sec.class, tostring(f.name)))
            end
          end
        end
        if e.args ~= nil or e.returns ~= nil or e.options ~= nil then
          bad(e, "a topic has no args, returns or options")
        end
      else
        if not is_list(e.args) then bad(e, "args missing (a list; {} when none)") end
        if not is_list(e.returns) then bad(e, "returns missing (a list; {} when nothing)") end
      end
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
      local key, left_out = registry_key(e)
      left_out = left_out or {}
      if key then
        described[key] = true
        local registered = check.option_sets[key]
        local names = {}
        for _, o in ipairs(e.options or {}) do
          if names[o.name] then
            problems[#problems + 1] = fmt("%s: option '%s' described twice", e.name, o.name)
          end
          names[o.name] = true
          if not (registered and registered[o.name]) or left_out[o.name] then
            problems[#problems + 1] = fmt("%s: option '%s' is described but not accepted",
              e.name, o.name)
          end
        end
        for name in pairs(registered or {}) do
          if not names[name] and not left_out[name] then
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

  it("completes only kinds the REPL knows (job, location, schedule, sensor, instigator, asset, check, run, deployment, run_config)", function()
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

-- the section of a topic entry whose title starts with `title`
local function section(topic, title)
  for _, sec in ipairs(api.by_name[topic].sections) do
    if sec.title:sub(1, #title) == title then return sec end
  end
  error(fmt("topic %s has no section %q", topic, title))
end

local function set_of(list, key)
  local s = {}
  for _, x in ipairs(list) do s[key and x[key] or x] = true end
  return s
end

local function keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = tostring(k) end
  table.sort(out)
  return out
end

-- playbook.define's error for decl, as text (it must refuse it)
local function refused(decl)
  local ok, e = pcall(playbook.define, decl, function() end)
  assert.is_false(ok, "playbook.define accepted " .. require("dagster.inspect")(decl))
  return tostring(e)
end

-- the Lua type a documented field type stands for (nil: any value)
local function lua_type(t)
  if t == "any" then return nil end
  if t:find("%[%]$") or t:find("^table") then return "table" end
  if t == "dagster.PlaybookFlagType" then return "string" end
  return t
end

describe("lua/dagster/api.lua's playbook topics", function()
  -- where each documented table of the declaration sits in a declaration: the smallest
  -- declaration that holds it, with `t` in its place
  local PLACES = {
    { "The declaration", function(t) return t end, { name = "x" } },
    { "An argument", function(t) return { name = "x", args = { t } } end, { name = "a" } },
    { "A flag", function(t) return { name = "x", flags = { t } } end, { name = "f", type = "string" } },
  }

  for _, place in ipairs(PLACES) do
    local title, wrap, minimal = place[1], place[2], place[3]

    it(("describes exactly the fields playbook.define takes in %s"):format(title:lower()), function()
      local with_unknown = {}
      for k, v in pairs(minimal) do with_unknown[k] = v end
      with_unknown.no_such_field = 1
      local msg = refused(wrap(with_unknown))
      local list = assert(msg:match("unknown field 'no_such_field' %(.- has: ([%w_, ]+)%)"), msg)
      local known = {}
      for name in list:gmatch("[%w_]+") do known[name] = true end
      assert.same(keys(known), keys(set_of(section("playbook", title).fields, "name")))
    end)

    it(("gives the type and whether each field of %s is needed as define checks them"):format(
        title:lower()), function()
      assert.is_true(playbook.is_definition(playbook.define(wrap(minimal), function() end)))
      for _, f in ipairs(section("playbook", title).fields) do
        local want = lua_type(f.type)
        if want then
          local t = {}
          for k, v in pairs(minimal) do t[k] = v end
          t[f.name] = want == "boolean" and "yes" or true
          local msg = refused(wrap(t))
          assert.truthy(msg:find(("field '%s': %s expected"):format(f.name, want), 1, true),
            f.name .. ": " .. msg)
        end
        local t = {}
        for k, v in pairs(minimal) do t[k] = v end
        t[f.name] = nil
        local ok = pcall(playbook.define, wrap(t), function() end)
        assert.equal(f.optional == true, ok,
          f.name .. (ok and " can be left out" or " cannot be left out"))
      end
    end)
  end

  it("names every flag type cli.lua reads, and only those", function()
    assert.same(keys(cli.TYPES), keys(set_of(section("playbook", "Flag types").fields, "name")))
  end)

  it("names every playbook's common flags (cli.COMMON)", function()
    local documented = {}
    for _, f in ipairs(section("playbook", "Every playbook's flags").fields) do
      documented[assert(f.name:match("%-%-([%w-]+)"), f.name)] = f.name
    end
    assert.same(keys(set_of(cli.COMMON, "name")), keys(documented))
    for _, f in ipairs(cli.COMMON) do
      if f.short then assert.truthy(documented[f.name]:find("-" .. f.short .. ",", 1, true), f.name) end
    end
  end)

  it("gives the exit codes of exit.TABLE, in order, with playbook.EXIT's names", function()
    local fields = section("playbook", "Exit status").fields
    assert.equal(#exit.TABLE, #fields)
    for i, row in ipairs(exit.TABLE) do
      assert.equal(row[1], fields[i].code)
      assert.equal(row[2], fields[i].doc)
      assert.equal(row[1], playbook.EXIT[fields[i].name], fields[i].name)
    end
    assert.same(keys(playbook.EXIT), keys(set_of(fields, "name")))
  end)

  it("describes the fields a real pb has, of their types", function()
    local journal = os.tmpname()
    os.remove(journal)
    local decl = { name = "x", args = { { name = "a", optional = true } } }
    local base = { "--url", "http://127.0.0.1:9", "--journal", journal }
    local first = object.new(decl, base)
    first.lock:close()           -- one process per journal: this one lets go before the next
    local again = object.new(decl, { base[1], base[2], base[3], base[4], "--resume" })
    again.lock:close()
    os.remove(journal)
    assert.is_nil(first.resumed)
    assert.is_true(again.resumed)
    for _, f in ipairs(section("pb", "Fields").fields) do
      for _, pb in ipairs { first, again } do
        local v = rawget(pb, f.name)
        if not (v == nil and f.optional) then
          local want = f.type == "dagster.Client" and "table" or lua_type(f.type)
          assert.equal(want, type(v), "pb." .. f.name)
        end
      end
    end
    assert.equal(Client, getmetatable(first.client))
  end)
end)
