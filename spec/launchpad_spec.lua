-- The REPL as a launchpad (issue 28): every list a table, run configs completed from the
-- job's schema, scaffolded and edited in $EDITOR. The module's side against the real local
-- Dagster, then the REPL on a terminal (tmux) as a person uses it.
local dagster = require "dagster"
local H = require "helper"

local yaml = dagster.yaml
local json = dagster.json

describe("client:scaffold_config", function()
  local client = H.client()

  it("gives the job's defaults with each required field without one as a placeholder", function()
    local c = client:scaffold_config("config_job")
    -- name: a required String without a default (the placeholder Dagster's UI writes);
    -- mode: an enum with a default, as the server's default config has it
    assert.same({ ops = { config_op = { config = { name = "", mode = "fast" } } } }, c)
    -- a String placeholder is valid config: the server takes the scaffold as it is
    assert.is_true(client:validate_run_config("config_job", { run_config = c }))
  end)

  it("writes YAML with a comment above each placeholder, that reads back as the table", function()
    local text = client:scaffold_config("config_job", { yaml = true })
    assert.truthy(text:find('      # required: String, no default: fill it in\n      name: ""\n', 1, true),
      text)
    assert.same(client:scaffold_config("config_job"), yaml.decode(text))
  end)

  it("starts from a partition's config, and names a partition the job does not have", function()
    local c = client:scaffold_config("region_job", { partition = "eu" })
    assert.equal("eu", c.ops.region_op.config.region)
    local e = H.catch(client.scaffold_config, client, "region_job", { partition = "mars" })
    assert.equal("PartitionKeysNotFoundError", e.name)
  end)

  it("names an unknown job, and checks its arguments as Lua does", function()
    local e = H.catch(client.scaffold_config, client, "no_such_job")
    assert.equal("JobNotFoundError", e.name)
    local ok, err = pcall(client.scaffold_config, client, 42)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'scaffold_config' %(string expected, got number%)", err)
    ok, err = pcall(client.scaffold_config, client, "config_job", { yml = true })
    assert.is_false(ok)
    assert.matches("yml", err)
    ok, err = pcall(client.scaffold_config, client, "config_job", { location = 1 })
    assert.is_false(ok)
    assert.matches("bad argument #2 to 'scaffold_config' %(location: string expected, got number%)", err)
    -- checked before the terminal is: the same message off a terminal
    ok, err = pcall(client.edit_config, client, "config_job", nil, { repository = true })
    assert.is_false(ok)
    assert.matches("bad argument #3 to 'edit_config' %(repository: string expected, got boolean%)", err)
  end)

  it("edit_config off a terminal says it needs one, and opens no editor", function()
    local marker = os.tmpname()
    os.remove(marker)
    local out, err, code = H.run(("env DAGSTER_URL=%s EDITOR=%s %s -e %s"):format(H.url(),
      H.quote("touch " .. marker), H.quote(H.bin),
      H.quote('local c = require("dagster").client(os.getenv("DAGSTER_URL")); ' ..
        'local ok, e = pcall(c.edit_config, c, "config_job"); print(e.name, e.message)')))
    assert.equal(0, code, err)
    assert.matches("^UnsupportedError\tedit_config needs a terminal", out)
    assert.is_nil(io.open(marker))
  end)
end)

describe("dagster.yaml.decode", function()
  -- lyaml loads [] and {} alike; JSON must still tell them apart
  it("gives empty sequences as JSON arrays and empty mappings as objects, through anchors and merges", function()
    for text, want in pairs {
      ["items: []\ntags: {}\n"] = '{"items":[],"tags":{}}',
      ["[]"] = "[]",
      ["- {a: []}\n- []\n- {}\n"] = '[{"a":[]},[],{}]',
      ["x: [[], {}]\n"] = '{"x":[[],{}]}',
      ["a: &e []\nb: *e\nc: [*e]\n"] = '{"a":[],"b":[],"c":[[]]}',
      -- a merge key: the mapping's own keys after it win, the first merged mapping before the next
      ["base: &b {l: [], m: {}}\nc:\n  <<: *b\n  m: []\n"] =
        '{"base":{"l":[],"m":{}},"c":{"l":[],"m":[]}}',
      ["<<: [{a: []}, {a: {}, b: {}}]\n"] = '{"a":[],"b":{}}',
      -- keys that are also the words the shapes are read with
      ["seq: {}\nat: []\nmap: {}\n"] = '{"at":[],"map":{},"seq":{}}',
      ["a: !!seq []\nb: !!map {}\n"] = '{"a":[],"b":{}}',
    } do
      assert.equal(want, json.encode(yaml.decode(text)), text)
    end
  end)

  it("reads a file the way the server reads its text: an empty list sent as a list", function()
    local client = H.client()
    local function refusal(run_config)
      local e = H.catch(client.validate_run_config, client, "config_job", { run_config = run_config })
      assert.equal("RunConfigValidationInvalid", e.name)
      return e.message
    end
    local text = "ops: []\n"
    local m = refusal(text)      -- the YAML text itself, read by the server
    assert.matches("root:ops must be dict", m)
    assert.equal(m, refusal(yaml.decode(text)))
  end)
end)

describe("dagster.yaml.encode", function()
  it("writes what decode reads back the same, quoting strings that would read otherwise", function()
    local v = {
      plain = "hello", yes = "yes", number = "1", colon = "a: b", empty = "", dash = "-x",
      lines = "one\ntwo", quote = 'say "hi" \\ bye', utf8 = "épée", null = json.null,
      int = 3, float = 2.0, small = 0.1, big = 1e300, t = true, f = false,
      list = json.array { 1, "two", { three = 3, four = { 4 } } },
      nested = { a = { b = { c = "d" } } }, none = {}, nothing = json.array(),
    }
    local text = yaml.encode(v)
    local back = yaml.decode(text)
    assert.same(v, back)
    assert.equal("float", math.type(back.float))
    assert.equal("yes", back.yes)
    assert.equal(json.encode(v), json.encode(back))   -- the empty list stays a list
  end)

  it("puts comments above the key at their path, or its nearest present ancestor", function()
    local text = yaml.encode({ ops = { x = { config = { count = 1 } } } }, {
      [""] = "top", ["ops/x/config"] = { "one", "two" }, ["ops/y/config"] = "gone",
    })
    assert.equal(table.concat({
      "# top",
      "# gone",
      "ops:",
      "  x:",
      "    # one",
      "    # two",
      "    config:",
      "      count: 1",
      "",
    }, "\n"), text)
  end)
end)

------------------------------------------------------------------------------------------
-- On a terminal
------------------------------------------------------------------------------------------

local server = require("tmux").server("launchpad")

local function enter(t, line, timeout) return t:enter(line, timeout) end

-- the lines between the prompt of `line` and the next prompt
local function output_of(t, line)
  local lines, out, inside = t:lines(), {}, false
  for _, l in ipairs(lines) do
    if l:find("^dagster %S+>") then
      if inside then break end
      inside = l:sub(-#line) == line
    elseif inside then
      out[#out + 1] = l
    end
  end
  -- the time a call took, which the REPL adds below its value from half a second on (a
  -- loaded machine), is not part of the value
  if out[#out] and out[#out]:find("^%(%d+%.%d+ s%)$") then out[#out] = nil end
  return out
end

local function start(env, width)
  local hist = os.tmpname()
  os.remove(hist)
  local cmd = ("env %s DAGSTER_LUA_HISTORY=%s %s; echo \"[exit $?]\"; sleep 600"):format(env,
    H.quote(hist), H.quote(H.bin))
  local t = server:session(cmd, width or 120, 50)
  t.hist = hist
  t:wait_for(">$")
  return t
end

local function close(t)
  t:close()
  os.remove(t.hist)
end

describe("the REPL as a launchpad #binary", function()
  local url = H.url()
  local env = "DAGSTER_URL=" .. url
  local client = H.client()
  local t
  setup(function() server:keep() end)
  after_each(function() if t then close(t); t = nil end end)
  teardown(function() server:kill() end)

  it("prints schedules, sensors, jobs, assets, asset checks and asset health as tables: a header and a line each", function()
    t = start(env)
    local cases = {
      { "client:schedules()", "^SCHEDULE%s+LOCATION%s+STATUS%s+CRON%s+LAST TICK$", client:schedules(),
        function(x) return "^" .. x.name .. "%s+" .. x.location .. "%s+" .. x.status .. "%s+" ..
          x.cron_schedule:gsub("%*", "%%*") end },
      { "client:sensors()", "^SENSOR%s+LOCATION%s+STATUS%s+INTERVAL%s+LAST TICK$", client:sensors(),
        function(x) return "^" .. x.name .. "%s+" .. x.location .. "%s+" .. x.status end },
      { 'client:jobs{location = "other"}', "^JOB%s+LOCATION%s+ASSET JOB%s+PARTITIONED$",
        client:jobs { location = "other" },
        function(x) return "^" .. x.name .. "%s+other%s+no%s+no$" end },
      { 'client:assets{prefix = "nested"}', "^ASSET%s+GROUP%s+LAST MATERIALIZATION%s+HEALTH$",
        client:assets { prefix = "nested" },
        function(x) return "^" .. x.path .. "%s+" .. x.group end },
      { 'client:asset_checks("checked_table")', "^ASSET%s+CHECK%s+LAST%s+SEVERITY%s+WHEN%s+DESCRIPTION$",
        client:asset_checks("checked_table"),
        function(x) return "^checked_table%s+" .. x.name .. "%s+" end },
      { 'client:asset_health{group = "fragile"}', "^ASSET%s+GROUP%s+PARTITIONS%s+LATEST RUN%s+STATE$",
        client:asset_health { group = "fragile" },
        function(x) return "^" .. x.asset .. "%s+fragile%s+" end },
    }
    for _, case in ipairs(cases) do
      local line, header, list, row = case[1], case[2], case[3], case[4]
      assert.is_true(#list > 0, line)
      enter(t, line)
      local out = output_of(t, line)
      assert.matches(header, out[1])
      assert.equal(#list + 1, #out, table.concat(out, "\n"))
      for i, x in ipairs(list) do assert.matches(row(x), out[i + 1]) end
    end
  end)

  it("prints a partitioned job's partitions in columns, and `_` keeps the list", function()
    t = start(env)
    enter(t, 'client:partitions("region_job")')
    local out = output_of(t, 'client:partitions("region_job")')
    assert.same({ "PARTITIONS (3)", "eu    us    apac" }, out)
    enter(t, "#_")
    assert.same({ "3" }, output_of(t, "#_"))
  end)

  it("prints a run's events as a table cut to the terminal's width, `_` the list of them", function()
    local run_id = client:submit_job_execution("config_job",
      { run_config = { ops = { config_op = { config = { name = string.rep("long", 30) } } } } })
    assert.equal("SUCCESS", H.wait_run(client, run_id, 60))
    t = start(env, 80)
    local line = ('client:events("%s")'):format(run_id)
    enter(t, line)
    local out = output_of(t, line)
    assert.matches("^TIME%s+TYPE%s+STEP%s+MESSAGE$", out[1])
    local success, cut = false, false
    for _, l in ipairs(out) do
      assert.is_true(utf8.len(l) <= 80, l)
      success = success or l:find("^%d%d:%d%d:%d%d%s+STEP_SUCCESS%s+config_op%s") ~= nil
      cut = cut or l:find("config_op: name=longlong.*…$") ~= nil
    end
    assert.is_true(success, table.concat(out, "\n"))
    assert.is_true(cut, table.concat(out, "\n"))
    enter(t, "_[#_].type")
    assert.matches('"[%a]+"', output_of(t, "_[#_].type")[1])
    -- the same when the run id comes from another call of the line: the table, not the
    -- iterator and its state
    enter(t, ("id = %q"):format(run_id))
    line = "client:events(client:get_run(id).run_id)"
    enter(t, line)
    out = output_of(t, line)
    assert.matches("^TIME%s+TYPE%s+STEP%s+MESSAGE$", out[1], table.concat(out, "\n"))
    enter(t, "#_ == " .. (#out - 1))
    assert.same({ "true" }, output_of(t, "#_ == " .. (#out - 1)))
  end)

  it("prints a listing's table without the nil cursor that ends it, and a cursor that is not", function()
    if #client:backfills { limit = 1 } == 0 then   -- one to list, when no file before made one
      local id = client:backfill { job = "daily_job", partitions = { "2026-11-01" } }
      client:wait_for_backfill(id, { timeout = 120 })
    end
    local all = client:backfills()
    t = start(env)
    enter(t, "client:backfills()")
    local out = output_of(t, "client:backfills()")
    assert.matches("^BACKFILL%s+STATUS", out[1])
    assert.equal(#all + 1, #out, table.concat(out, "\n"))   -- no "nil" line after the rows
    local line = ("client:backfills{limit = %d}"):format(#all)
    enter(t, line)
    out = output_of(t, line)
    assert.equal(#all + 2, #out, table.concat(out, "\n"))
    assert.equal(("%q"):format(all[#all].id), out[#out])   -- the cursor of the next page
  end)

  it("prints an empty listing as its header and (0 rows), not {}", function()
    t = start(env)
    local line = 'client:runs{tags = {nobody = "launchpad-empty"}}'
    enter(t, line)
    assert.same({ "RUN  JOB  STATUS  STARTED  DURATION", "(0 rows)" }, output_of(t, line))
    enter(t, "#_")
    assert.same({ "0" }, output_of(t, "#_"))
  end)

  it("prints the queue and one asset as a summary and tables, not a dump", function()
    t = start(env)
    enter(t, "client:queue()")
    local out = output_of(t, "client:queue()")
    assert.matches("^%d+ queued, %d+ in progress; run coordinator healthy %(heartbeat [%d.]+m?s ago%); " ..
      "at most 10 runs at once$", out[1], 1)
    enter(t, "_.instance.max_concurrent_runs")   -- `_` is the record itself
    assert.same({ "10" }, output_of(t, "_.instance.max_concurrent_runs"))
    local line = 'client:asset("checked_table")'
    enter(t, line)
    out = output_of(t, line)
    assert.matches("^ASSET%s+GROUP%s+PARTITIONS%s+LATEST RUN%s+STATE$", out[1])
    assert.matches("^checked_table%s+checks%s+", out[2])
    assert.equal("", out[3])
    assert.matches("^ASSET%s+CHECK%s+LAST%s+SEVERITY%s+WHEN%s+DESCRIPTION$", out[4])
    assert.equal(7, #out, table.concat(out, "\n"))   -- its three checks
    assert.matches("^checked_table%s+fresh_enough%s", out[5])
  end)

  it("names the method a call that does not exist may have meant", function()
    t = start(env)
    enter(t, "client:daemons()")
    local out = output_of(t, "client:daemons()")
    assert.equal("client has no method daemons; did you mean client:daemon_health?", out[#out])
    enter(t, 'dagster.clent("x")')
    out = output_of(t, 'dagster.clent("x")')
    assert.equal("dagster has no function clent; did you mean dagster.client?", out[#out])
    enter(t, "client:zzzzzz()")
    out = output_of(t, "client:zzzzzz()")
    assert.equal("client has no method zzzzzz (help() lists them all)", out[#out])
  end)

  it("completes a run config from the job's schema: ops, an op's config fields, enum values", function()
    t = start(env, 200)   -- the whole line on one terminal line
    t:type('client:submit_job_execution("config_job", {run_config = {'); t:keys("Tab", "Tab")
    H.wait_until("the root's keys", function()   -- listed under the line, which is drawn again
      return t:screen():find("\nexecution%s+loggers%s+ops%s+resources%s*\n") ~= nil
    end, 10, 0.05)
    t:keys("C-u")
    t:type('client:submit_job_execution("config_job", {run_config = {ops = {'); t:keys("Tab")
    t:wait_for("ops = {config_op$")
    t:type(" = {config = {"); t:keys("Tab", "Tab")
    H.wait_until("the op's config fields", function()
      return t:screen():find("\nmode%s+name%s*\n") ~= nil
    end, 10, 0.05)
    t:type('mode = "c'); t:keys("Tab")
    t:wait_for('mode = "careful"$')
  end)

  it("completes names inside a list argument: assets, and asset checks as asset:check", function()
    t = start(env, 200)
    -- Tab until the line shows `pattern`, as a person presses it again: a Tab waits at most
    -- 0.3 s for the server, and a loaded server (the ASan build, CI) can take longer once
    local function complete(pattern)
      for _ = 1, 5 do
        t:keys("Tab")
        if pcall(t.wait_for, t, pattern, 3) then return end
      end
      t:wait_for(pattern, 1)
    end
    t:type('client:materialize({"asset_o'); complete('materialize%({"asset_one"$')
    t:type(', "asset_t'); complete('"asset_one", "asset_two"$')
    t:keys("C-u")
    t:type('client:execute_checks({"checked_table:no'); complete('{"checked_table:no_null_ids"$')
    t:keys("C-u")
    t:type('client:execute_checks("checked_table:h'); complete('%("checked_table:has_rows"$')
    -- past a "/" in a key (a word break of the line editor's)
    t:keys("C-u")
    t:type('client:materialize({"nested/as'); complete('materialize%({"nested/asset_three"$')
  end)

  it("edit_config reopens the editor once with the error at its path, then returns the valid config", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. H.quote(dir)))
    local editor = dir .. "/editor.sh"
    local f = assert(io.open(editor, "w"))
    f:write([[#!/bin/sh
# a scripted editor: a wrong field the first time, a right one the second; keeps what it saw
dir=$(dirname "$0")
n=$(ls "$dir"/seen.* 2>/dev/null | wc -l)
n=$((n + 1))
cp "$1" "$dir/seen.$n"
if [ "$n" = 1 ]; then
  printf 'ops:\n  config_op:\n    config:\n      whom: lua\n' > "$1"
else
  printf 'ops:\n  config_op:\n    config:\n      name: lua\n      mode: careful\n' > "$1"
fi
]])
    f:close()
    assert(os.execute("chmod +x " .. H.quote(editor)))
    t = start(env .. " EDITOR=" .. H.quote(editor))
    enter(t, 'cfg = client:edit_config("config_job")')
    enter(t, "cfg.ops.config_op.config.name, cfg.ops.config_op.config.mode")
    local shown = output_of(t, "cfg.ops.config_op.config.name, cfg.ops.config_op.config.mode")
    assert.equal(1, #shown)
    assert.matches('^"lua"%s+"careful"$', shown[1])
    local first, second = H.slurp(dir .. "/seen.1"), H.slurp(dir .. "/seen.2")
    assert.is_nil(H.slurp(dir .. "/seen.3"))
    -- the scaffold first; then the saved config, each error above the key at its path
    assert.truthy(first:find('      # required: String, no default: fill it in\n      name: ""\n', 1, true), first)
    assert.truthy(second:find('  config_op:\n    # error: Received unexpected config entry "whom" ' ..
      'at path root:ops:config_op:config', 1, true), second)
    assert.truthy(second:find('\n    config:\n      whom: lua\n', 1, true), second)
    -- and the config launches as it is
    enter(t, 'client:wait_for_run(client:submit_job_execution("config_job", {run_config = cfg}))', 60)
    assert.matches('^"SUCCESS"', output_of(t, 'client:wait_for_run(client:submit_job_execution("config_job", {run_config = cfg}))')[1])
    os.execute("rm -rf " .. H.quote(dir))
  end)

  it("edit_config left unchanged on an invalid config gives up with the server's errors", function()
    t = start(env .. " EDITOR=true")
    enter(t, 'client:edit_config("config_job", {ops = {config_op = {config = {whom = 1}}}})')
    enter(t, "_err.name, #_err.body")
    local shown = output_of(t, "_err.name, #_err.body")
    assert.equal(1, #shown)
    assert.matches('^"RunConfigValidationInvalid"%s+2$', shown[1])
  end)

  it("edit_config whose editor removes the file raises EditorError, the file named", function()
    t = start(env .. " EDITOR=rm")
    enter(t, 'client:edit_config("config_job")')
    enter(t, "_err.name, _err.message")
    local shown = output_of(t, "_err.name, _err.message")
    assert.equal(1, #shown)
    assert.matches('^"EditorError"%s+"the editor %(rm%) left nothing to read %(/tmp/[^:]+: No such file or directory%)"$', shown[1])
  end)
end)
