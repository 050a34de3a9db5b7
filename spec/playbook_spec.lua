-- dagster-lua play, and the run playbook, as a user runs them: each a process of the host
-- against the real local Dagster, its exit status, its output, its journal and the runs it
-- made read back from the server.
local dagster = require "dagster"
local H = require "helper"

local json = dagster.json

local function tmpdir()
  local d = H.trim(H.run("mktemp -d"))
  assert(d ~= "")
  return d
end

-- a tag value no other spec uses, to count this case's runs
local function unique() return ("%d-%d"):format(os.time(), math.random(1, 1e9)) end

describe("dagster-lua play", function()
  local client, dir
  setup(function()
    client = H.client()
    dir = tmpdir()
  end)
  teardown(function() os.execute("rm -rf " .. H.quote(dir)) end)

  -- runs `dagster-lua play ARGS` with the local Dagster and the state under dir; returns
  -- stdout, stderr, exit status
  local function play(args, env) return H.play(dir, args, env) end

  local function runs_tagged(k, v)
    return client:runs { tags = { [k] = v } }
  end

  local function records(path)
    local out = {}
    for line in (H.slurp(path) or ""):gmatch("[^\n]+") do out[#out + 1] = json.decode(line) end
    return out
  end

  describe("the runner", function()
    it("lists the shipped playbooks, a line each", function()
      local out, _, code = play("--list")
      assert.equal(0, code)
      assert.matches("\n?%s*run%s+Launch a job", out)
    end)

    it("generates --help from the declaration, with the exit codes", function()
      local out, _, code = play("run --help")
      assert.equal(0, code)
      for _, s in ipairs { "usage: dagster-lua play run JOB", "-c, --config FILE", "--tag K=V",
          "--dry-run", "--resume", "--token-env NAME", "Exit status:", "130" } do
        assert.truthy(out:find(s, 1, true), s .. " is missing from:\n" .. out)
      end
    end)

    it("runs a playbook from a file, with its own arguments", function()
      local f = dir .. "/hello.lua"
      local h = assert(io.open(f, "w"))
      h:write([[
return require("dagster.playbook").define({
  name = "hello", summary = "says hello", args = { { name = "who" } } }, function(pb)
  local v = pb:step("ask the server", function() return pb.client:version() end)
  pb:say("hello %s from %s", pb.args.who, v)
end)
]])
      h:close()
      local out, err, code = play(H.quote(f) .. " world")
      assert.equal(0, code, err)
      assert.matches("hello world from " .. H.trim(client:version()):gsub("%p", "%%%0"), out)
      assert.matches("ask the server%s+ok", out)
    end)

    it("pb:try gives an error back as pcall does, and lets pb:exit end the playbook", function()
      local f = dir .. "/try.lua"
      local h = assert(io.open(f, "w"))
      h:write([[
return require("dagster.playbook").define({ name = "try", summary = "pb:try" }, function(pb)
  local ok, e = pb:try(pb.client.get_run_status, pb.client, "no-such-run")
  pb:say("status: %s %s", tostring(ok), tostring(e))
  local r = table.pack(pb:try(function(a, b) return a, nil, b end, "x", "y"))
  pb:say("values: %d %s %s %s %s", r.n, tostring(r[1]), tostring(r[2]), tostring(r[3]), tostring(r[4]))
  pb:try(pb.exit, pb, 6, "ended inside pb:try")
  pb:say("went on")
end)
]])
      h:close()
      local out, err, code = play(H.quote(f))
      assert.equal(6, code, err)
      assert.matches("status: false RunNotFoundError: ", out)
      assert.truthy(out:find("values: 4 true x nil y", 1, true), out)
      assert.matches("ended inside pb:try", out .. err)
      assert.is_nil(out:find("went on", 1, true), out)
    end)

    it("refuses an unknown playbook and a bad flag with status 4", function()
      local _, err, code = play("no_such_playbook")
      assert.equal(4, code)
      assert.matches("no playbook named no_such_playbook %(dagster%-lua play %-%-list names them%)", err)
      _, err, code = play("recovr --dry-run")   -- a typo: the playbook it may have meant
      assert.equal(4, code)
      assert.matches("no playbook named recovr %(did you mean recover%?%)", err)
      _, err, code = play("run succeed_job --no-such-flag")
      assert.equal(4, code)
      assert.matches("unknown flag %-%-no%-such%-flag %(see %-%-help%)", err)
      _, err, code = play("run succeed_job --dryrun")   -- a typo: the flag it may have meant
      assert.equal(4, code)
      assert.matches("unknown flag %-%-dryrun; did you mean %-%-dry%-run%? %(see %-%-help%)", err)
      _, err, code = play("run")
      assert.equal(4, code)
      assert.matches("missing JOB", err)
    end)
  end)

  describe("exit codes, produced for real", function()
    it("0 when the run succeeds, 1 when it fails", function()
      local _, err, code = play("run succeed_job --wait")
      assert.equal(0, code, err)
      -- --timeout 0 is no limit (it timed out at once, 3), bounded here by timeout(1)
      _, err, code = H.run("timeout 300 " .. H.play_cmd(dir, "run succeed_job --wait --timeout 0"))
      assert.equal(0, code, err)
      _, err, code = play("run fail_job --wait")
      assert.equal(1, code, err)
    end)

    it("2 when the run is canceled", function()
      local tag = unique()
      local out, codefile = dir .. "/cancel.out", dir .. "/cancel.code"
      -- its exit status, once it ends, from a shell around it
      H.run(("(%s >%s 2>&1; echo $? >%s) </dev/null >/dev/null 2>&1 &"):format(
        H.play_cmd(dir, "run slow_job --wait --tag spec=" .. tag), H.quote(out), H.quote(codefile)))
      local run = H.wait_until("the run to be launched", function()
        return runs_tagged("spec", tag)[1]
      end, 120, 0.2)
      H.wait_step_started(client, run.run_id)
      client:terminate_run(run.run_id)
      local code = H.wait_until("the playbook to end", function()
        return tonumber(H.slurp(codefile) or "")
      end, 120, 0.2)
      assert.equal(2, code, H.slurp(out))
      assert.matches("exit 2 after", H.slurp(out))
    end)

    it("3 when the wait times out", function()
      local tag = unique()
      local _, err, code = play("run slow_job --wait --timeout 3 --tag spec=" .. tag)
      local r = runs_tagged("spec", tag)[1]
      if r then pcall(client.terminate_run, client, r.run_id, { force = true }) end
      assert.equal(3, code, err)
      assert.matches("did not finish within 3 s", err)
    end)

    it("130 at Ctrl-C, with the journal consistent: --resume goes on and launches nothing", function()
      local tag = unique()
      local journal = dir .. "/ctrlc.jsonl"
      local pidfile, codefile = dir .. "/ctrlc.pid", dir .. "/ctrlc.code"
      -- a nap of 2 s: the run is still queued or starting at the Ctrl-C, and --resume waits
      -- for it to end
      local config = dir .. "/nap.yaml"
      local f = assert(io.open(config, "w"))
      f:write("ops:\n  nap_op:\n    config:\n      seconds: 2\n")
      f:close()
      -- the playbook's own pid, and its exit status once it ends, from a shell around it
      H.run(("env XDG_STATE_HOME=%s DAGSTER_URL=%s sh -c %s %s >%s 2>&1 &"):format(H.quote(dir),
        H.quote(H.url()), H.quote(('"$0" play run nap_job -c %s --wait --journal %s --tag spec=%s & ' ..
          'echo $! > %s; wait $!; echo $? > %s'):format(config, journal, tag, pidfile, codefile)),
        H.quote(H.bin), H.quote(dir .. "/ctrlc.out")))
      H.wait_until("the launch to be journaled", function()
        return (H.slurp(journal) or ""):find('"launched"')
      end, 120, 0.1)
      -- and the playbook to wait for the run: Ctrl-C interrupts the wait
      H.wait_until("the playbook to wait for the run", function()
        return (H.slurp(dir .. "/ctrlc.out") or ""):find("> wait for ", 1, true)
      end, 30, 0.05)
      H.run("kill -INT " .. H.trim(H.slurp(pidfile)))
      local code = H.wait_until("the playbook to end", function()
        return tonumber(H.slurp(codefile) or "")
      end, 30, 0.1)
      assert.equal(130, code, H.slurp(dir .. "/ctrlc.out"))
      assert.matches("interrupted; %-%-resume goes on", H.slurp(dir .. "/ctrlc.out"))
      local recs = records(journal)
      assert.are_not.equal("end", recs[#recs].event)
      local _, err
      _, err, code = play(("run nap_job -c %s --wait --journal %s --tag spec=%s --resume"):format(
        config, journal, tag))
      assert.equal(0, code, err)
      assert.equal(1, #runs_tagged("spec", tag))
    end)

    it("--logs streams the run's events and ends with the run's outcome", function()
      local out, err, code = play("run fail_job --logs")
      assert.equal(1, code, err)
      assert.matches("fail_op", out)
      assert.matches("RUN_FAILURE", out)
    end)

    it("5 when the server cannot be reached", function()
      local _, err, code = play("run succeed_job --url http://127.0.0.1:9")
      assert.equal(5, code, err)
      assert.matches("ConnectionError", err)
    end)
  end)

  describe("the run playbook", function()
    it("merges -c files in order, as Dagster merges them", function()
      local a, b = dir .. "/a.yaml", dir .. "/b.yaml"
      local fa = assert(io.open(a, "w"))
      fa:write("ops:\n  config_op:\n    config:\n      name: first\n" ..
        "loggers:\n  console:\n    config:\n      log_level: DEBUG\n")
      fa:close()
      local fb = assert(io.open(b, "w"))
      fb:write("ops:\n  config_op:\n    config:\n      name: second\n")
      fb:close()
      local tag = unique()
      local _, err, code = play(("run config_job -c %s -c %s --tag spec=%s --wait"):format(a, b, tag))
      assert.equal(0, code, err)
      local run = client:get_run(runs_tagged("spec", tag)[1].run_id)
      -- Dagster's own rule, from the files: dagster_shared.yaml_utils.merge_yamls
      local want = H.run(("%s -c %s %s %s"):format(H.quote(H.python()), H.quote(
        "import json, sys; from dagster_shared.yaml_utils import merge_yamls; " ..
        "print(json.dumps(merge_yamls(sys.argv[1:])))"), a, b))
      assert.same(json.decode(want), run.run_config)
      assert.equal("second", run.run_config.ops.config_op.config.name)
      assert.equal("DEBUG", run.run_config.loggers.console.config.log_level)
    end)

    it("reads -c - from standard input, merged in its place; its syntax errors name <stdin>", function()
      local b = dir .. "/stdin-b.yaml"
      local fb = assert(io.open(b, "w"))
      fb:write("ops:\n  config_op:\n    config:\n      name: second\n")
      fb:close()
      local out, err, code = H.run(H.play_cmd(dir, "run config_job -c - -c " .. b .. " --dry-run --json"),
        "ops:\n  config_op:\n    config:\n      name: first\nloggers:\n  console:\n    config:\n      log_level: DEBUG\n")
      assert.equal(0, code, err)
      local action
      for line in out:gmatch("[^\n]+") do
        local ev = json.decode(line)
        if ev.event == "dry_run" then action = ev.action end
      end
      assert.equal('launch job config_job with config {"loggers":{"console":{"config":{"log_level":"DEBUG"}}},' ..
        '"ops":{"config_op":{"config":{"name":"second"}}}} and no tags', action)
      _, err, code = H.run(H.play_cmd(dir, "run config_job -c - --dry-run"), "ops: [1\n")
      assert.equal(4, code, err)
      assert.matches("^play run: <stdin>:%d+:%d+: did not find expected ',' or ']' %(see %-%-help%)\n$", err)
    end)

    it("reports a YAML syntax error with the file, line and column, and launches nothing", function()
      local bad = dir .. "/bad.yaml"
      local f = assert(io.open(bad, "w")); f:write("ops:\n  config_op: [1, 2\n"); f:close()
      local before = #client:runs { job_name = "config_job", limit = 1000 }
      local _, err, code = play("run config_job -c " .. bad)
      assert.equal(4, code)
      assert.matches(bad:gsub("%p", "%%%0") .. ":%d+:%d+: ", err)
      -- a folder for a file: named, not a Lua error
      _, err, code = play("run config_job -c " .. dir)
      assert.equal(4, code)
      assert.equal("play run: " .. dir .. ": Is a directory (see --help)\n", err)
      assert.equal(before, #client:runs { job_name = "config_job", limit = 1000 })
    end)

    it("prints the server's validation errors with their paths for an invalid config", function()
      local before = #client:runs { job_name = "config_job", limit = 1000 }
      local out, err, code = play([[run config_job --config-json '{"ops":{"config_op":{"config":{"name":42}}}}']])
      assert.equal(4, code)
      assert.matches("invalid run config:\n%s+ops%.config_op%.config%.name: ", err)
      -- the summary's line says what is wrong, not only "invalid run config:"
      assert.matches("launch config_job%s+failed%s+[%d.]+s%s+invalid run config: ops%.config_op%.config%.name: ",
        out .. err)
      assert.equal(before, #client:runs { job_name = "config_job", limit = 1000 })
    end)

    it("--dry-run launches nothing, says what it would launch, and catches a config error", function()
      local before = #client:runs { job_name = "config_job", limit = 1000 }
      local out, err, code = play([[run config_job --dry-run --tag a=b --config-json '{"ops":{"config_op":{"config":{"name":"x"}}}}']])
      assert.equal(0, code, err)
      assert.matches('would launch job config_job with config {"ops":{"config_op":{"config":{"name":"x"}}}} and tags a=b', out, 1, true)
      _, err, code = play([[run config_job --dry-run --config-json '{"ops":{"config_op":{"config":{"name":42}}}}']])
      assert.equal(4, code)
      assert.matches("ops%.config_op%.config%.name", err)
      assert.equal(before, #client:runs { job_name = "config_job", limit = 1000 })
    end)

    it("--json writes one JSON object per event on stdout, and the text on stderr", function()
      local out, err, code = play("run succeed_job --wait --json")
      assert.equal(0, code, err)
      local events = {}
      for line in out:gmatch("[^\n]+") do
        local ok, ev = pcall(json.decode, line)
        assert(ok and type(ev) == "table", "not a JSON object: " .. line)
        events[#events + 1] = ev.event
      end
      assert.same({ "step", "launched", "step", "step", "step", "summary" }, events)
      assert.matches("launch succeed_job", err)
    end)
  end)

  describe("the journal", function()
    -- one launch killed at `point`, then resumed: exactly one run with that tag
    for _, point in ipairs { "before-intent", "after-request", "after-result" } do
      it("resumes a playbook killed " .. point .. " and launches the run exactly once", function()
        local tag = unique()
        local journal = ("%s/kill-%s.jsonl"):format(dir, point)
        local _, _, code = play(("run succeed_job --journal %s --tag spec=%s"):format(journal, tag),
          "DAGSTER_LUA_PLAYBOOK_KILL_AT=" .. point)
        assert.equal(137, code)                 -- SIGKILL, at that point
        local recs = records(journal)
        local last = recs[#recs].event
        assert.equal(({ ["before-intent"] = "start", ["after-request"] = "intent",
          ["after-result"] = "launched" })[point], last)
        -- without --resume an unfinished journal is refused
        local _, err
        _, err, code = play(("run succeed_job --journal %s --tag spec=%s"):format(journal, tag))
        assert.equal(4, code)
        assert.matches("unfinished run", err)
        local out
        out, err, code = play(("run succeed_job --journal %s --tag spec=%s --resume --wait"):format(
          journal, tag))
        assert.equal(0, code, err)
        local runs = runs_tagged("spec", tag)
        assert.equal(1, #runs, "runs with the tag: " .. #runs)
        local sid
        for _, r in ipairs(records(journal)) do if r.event == "intent" then sid = r.sid end end
        assert.equal(runs[1].run_id, runs_tagged("dagster-lua/submission_id", sid)[1].run_id)
        assert.matches(runs[1].run_id, out, 1, true)
      end)
    end

    it("starts anew with --resume once the last run finished, keeping that run as history", function()
      local tag = unique()
      local journal = dir .. "/twice.jsonl"
      local _, err, code = play(("run succeed_job --journal %s --tag spec=%s --wait"):format(journal, tag))
      assert.equal(0, code, err)
      local out
      out, err, code = play(("run succeed_job --journal %s --tag spec=%s --wait --resume"):format(journal, tag))
      assert.equal(0, code, err)
      assert.is_nil(out:find("done before", 1, true), out)   -- a finished run is not replayed
      assert.equal(2, #runs_tagged("spec", tag))
      local _, kept = H.run("ls " .. H.quote(dir .. "/history")):gsub("twice%.%d+%.jsonl", "")
      assert.equal(1, kept)
    end)

    -- A crash while a record is written leaves a prefix of it as the last line, without its
    -- newline. The intent is written (and fsynced) before the request, the result after it.
    for _, case in ipairs {
      { point = "before-intent", cut = '{"event":"intent","launch":"launch succ' },
      { point = "after-request", cut = '{"event":"launched","launch":"launch s' },
    } do
      it("takes a truncated last line for the record in doubt (" .. case.cut:match('"(%a+)",') ..
          " cut short)", function()
        local tag = unique()
        local journal = ("%s/cut-%s.jsonl"):format(dir, case.point)
        local _, _, code = play(("run succeed_job --journal %s --tag spec=%s"):format(journal, tag),
          "DAGSTER_LUA_PLAYBOOK_KILL_AT=" .. case.point)
        assert.equal(137, code)
        local f = assert(io.open(journal, "a")); f:write(case.cut); f:close()
        local err
        _, err, code = play(("run succeed_job --journal %s --tag spec=%s --resume --wait"):format(
          journal, tag))
        assert.equal(0, code, err)
        assert.equal(1, #runs_tagged("spec", tag))
        -- the cut record was dropped: the journal reads whole, and a playbook reads it again
        -- (the run finished, so --resume now starts a new one, and keeps this one as history)
        for line in H.slurp(journal):gmatch("[^\n]+") do assert.is_table(json.decode(line)) end
        _, err, code = play(("run succeed_job --journal %s --tag spec=%s --resume --wait"):format(
          journal, tag))
        assert.equal(0, code, err)
        assert.equal(2, #runs_tagged("spec", tag))
      end)
    end

    it("refuses a damaged line and a journal of another playbook, naming the file and line", function()
      local journal = dir .. "/other.jsonl"
      local f = assert(io.open(journal, "w"))
      f:write(json.encode { kind = "dagster-lua playbook journal", version = 1,
        playbook = "redeploy" }, "\n")
      f:close()
      local _, err, code = play(("run succeed_job --journal %s --resume"):format(journal))
      assert.equal(4, code)
      assert.matches("journal " .. journal:gsub("%p", "%%%0") .. ": line 1: written by playbook redeploy", err)
      f = assert(io.open(journal, "w"))
      f:write(json.encode { kind = "dagster-lua playbook journal", version = 1, playbook = "run" },
        "\n", "{not json\n", '{"event":"resume"}\n')
      f:close()
      _, err, code = play(("run succeed_job --journal %s --resume"):format(journal))
      assert.equal(4, code)
      assert.matches("line 2 is damaged", err)
      -- NUL bytes where records were (blocks a crashed file system lost; they may have held a
      -- launch): damage, never taken for the cut last record and started over
      for _, tail in ipairs { ("\0"):rep(300), '{"event":"intent"' .. ("\0"):rep(10) } do
        f = assert(io.open(journal, "w"))
        f:write(json.encode { kind = "dagster-lua playbook journal", version = 1, playbook = "run" },
          "\n", tail)
        f:close()
        local before = H.slurp(journal)
        _, err, code = play(("run succeed_job --journal %s --resume"):format(journal))
        assert.equal(4, code)
        assert.matches("journal " .. journal:gsub("%p", "%%%0") .. ": line 2 is damaged %(NUL bytes", err)
        assert.equal(before, H.slurp(journal))
      end
      -- a folder where the journal should be: named, not a Lua error (it opens, but does not read)
      local folder = dir .. "/a-folder"
      assert(os.execute("mkdir -p " .. H.quote(folder)))
      for _, resume in ipairs { "", " --resume" } do
        local out
        out, err, code = play(("run succeed_job --journal %s%s"):format(folder, resume))
        assert.equal(4, code, out .. err)
        assert.equal("play run: journal " .. folder .. ": Is a directory (see --help)\n", err)
      end
    end)

    it("keeps its default journal under XDG_STATE_HOME with mode 0600, and no token in it", function()
      local _, err, code = play("run succeed_job --tag spec=" .. unique(),
        "DAGSTER_CLOUD_API_TOKEN=tok-PLAYBOOK-SECRET")
      assert.equal(0, code, err)
      local files = H.run("ls " .. H.quote(dir .. "/dagster-lua"))
      local name = files:match("(run%-succeed_job%-%x+%.jsonl)")
      assert(name, files)
      local path = dir .. "/dagster-lua/" .. name
      assert.equal("600", H.trim(H.run("stat -c %a " .. H.quote(path))))
      assert.is_nil(H.slurp(path):find("PLAYBOOK-SECRET", 1, true))
    end)
  end)
end)
