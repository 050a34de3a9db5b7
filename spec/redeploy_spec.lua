-- dagster-lua play redeploy, as an operator runs it: a process of the host against the real
-- local Dagster. The `victim` code server runs under scripts/supervise, which starts it again
-- when it exits; while $DAGSTER_HOME/victim_broken exists its code raises on import
-- (spec/fixtures/defs_victim.py), so the server exits at once and the location stays away.
local H = require "helper"

local function esc(s) return (s:gsub("%p", "%%%0")) end

describe("play redeploy", function()
  local client, dir, flag, file_path, file_original
  setup(function()
    client = H.client()
    dir = H.trim(H.run("mktemp -d"))
    assert(dir ~= "")
    flag = assert(os.getenv("DAGSTER_HOME"), "DAGSTER_HOME is not set") .. "/victim_broken"
    file_path = H.state_dir() .. "/file_loc/defs_file.py"
    file_original = assert(H.slurp(H.root .. "/spec/fixtures/defs_file.py"))
  end)

  -- victim and file_loc loaded without error, with their fixture code, for what follows
  local function settle()
    os.remove(flag)
    local f = assert(io.open(file_path, "w")); f:write(file_original); f:close()
    H.wait_until("file_loc to reload", function()
      return client:reload_repository_location("file_loc").status == "SUCCESS"
    end, 120, 1)
    H.wait_until("victim to be back", function()
      local ok = pcall(client.wait_for_location, client, "victim", { timeout = 10 })
      if not ok then pcall(client.reload_repository_location, client, "victim") end
      return ok
    end, 240, 0.5)
  end

  teardown(function()
    settle()
    os.execute("rm -rf " .. H.quote(dir))
  end)

  local function cmd(args) return H.play_cmd(dir, args) end
  local function play(args) return H.play(dir, args) end

  -- starts `dagster-lua play ARGS` in the background; returns the files that get its stdout,
  -- its stderr and, once it has ended, its exit status
  local function background(args)
    local out_f, err_f, rc_f = dir .. "/bg.out", dir .. "/bg.err", dir .. "/bg.rc"
    for _, f in ipairs { out_f, err_f, rc_f } do os.remove(f) end
    os.execute(("(%s >%s 2>%s; echo $? >%s) </dev/null >/dev/null 2>&1 &"):format(
      cmd(args), H.quote(out_f), H.quote(err_f), H.quote(rc_f)))
    return out_f, err_f, rc_f
  end

  -- Waits until the playbook, waiting for the broken victim, has reported a load error. The
  -- webserver marks a vanished code server as an error only after ten failed reconnects (some
  -- 15 s); once the playbook has shut victim down, a reload makes it look at once, as an
  -- operator's reload would, and the playbook sees the error at its next poll.
  local function until_load_error(out_f)
    return H.wait_until("the playbook to report a load error", function()
      local out = H.slurp(out_f) or ""
      if out:find("load error:", 1, true) then return out end
      if out:find("> wait for victim", 1, true) then
        pcall(client.reload_repository_location, client, "victim")
      end
    end, 180, 0.5)
  end

  -- the code server starts the supervisor has logged for a location
  local function starts(loc)
    local n = 0
    for _ in (H.slurp(H.state_dir() .. "/logs/" .. loc .. ".log") or ""):gmatch("supervise: %S+ start #") do
      n = n + 1
    end
    return n
  end

  it("restarts victim: a new server id, the same jobs, status 0", function()
    settle()
    local old = assert(client:location("victim").server_id)
    local njobs = #client:jobs { location = "victim" }
    assert.is_true(njobs >= 1)
    local starts_before = starts("victim")
    local out, err, code = play("redeploy victim --timeout 180s")
    assert.equal(0, code, out .. err)
    local new = assert(client:location("victim").server_id)
    assert.not_equal(old, new)
    assert.truthy(starts("victim") > starts_before, "the code server was not restarted")
    assert.matches("server " .. esc(old) .. " %-> " .. esc(new) .. "; victim was away for [%d.]+s", out)
    -- as many jobs as before, nothing appeared or disappeared
    assert.matches("\njobs%s+" .. njobs .. "%s*\n", out)
    assert.equal(njobs, #client:jobs { location = "victim" })
    assert.falsy(out:find("disappeared from", 1, true), out)
  end)

  it("--dry-run prints the shutdown and shuts nothing down", function()
    settle()
    local old = client:location("victim").server_id
    local starts_before = starts("victim")
    -- behind a proxy that logs each request's operation: no shutdown reaches the server
    local proxyf = dir .. "/dry-run-proxy.out"
    local proxy, proxy_pid = H.count_proxy(proxyf)
    local out, err, code = play("redeploy victim --dry-run --url " .. proxy)
    os.execute("kill " .. proxy_pid)
    assert.equal(0, code, out .. err)
    assert.truthy(out:find("would shut down location victim", 1, true), out)
    local ops = {}
    for i, p in ipairs(H.proxy_posts(proxyf)) do ops[i] = p.op end
    assert.is_true(#ops >= 1, "the proxy saw no request")
    for _, op in ipairs(ops) do
      assert.is_nil(op:find("Shutdown", 1, true), "sent " .. table.concat(ops, ", "))
    end
    assert.equal(starts_before, starts("victim"))
    assert.equal(old, client:location("victim").server_id)
  end)

  it("reports the load errors seen while the code is broken, and exits 0 once it is fixed", function()
    settle()
    local old = client:location("victim").server_id
    local f = assert(io.open(flag, "w")); f:close()
    local out_f, err_f, rc_f = background("redeploy victim --timeout 240s")
    -- once the playbook has seen the broken location, fix the code
    until_load_error(out_f)
    os.remove(flag)
    local rc = H.wait_until("the playbook to end", function() return tonumber(H.slurp(rc_f)) end, 300, 0.2)
    local out = H.slurp(out_f)
    assert.equal(0, rc, out .. (H.slurp(err_f) or ""))
    assert.matches("load error: [^\n]*Could not reach user code server", out)
    local new = client:location("victim").server_id
    assert.not_equal(old, new)
    assert.matches("victim is back after [%dm.]+s, served by " .. esc(new), out)
  end)

  it("exits 3 naming the last load error when the location is not back within --timeout", function()
    settle()
    local f = assert(io.open(flag, "w")); f:close()
    local ok, err = pcall(function()
      -- (the old server can keep answering the webserver's reloads for a while after its
      -- shutdown on a loaded machine: one CI run still saw it serving after 15 s)
      local out_f, err_f, rc_f = background("redeploy victim --timeout 30s")
      until_load_error(out_f)
      local code = H.wait_until("the playbook to end", function() return tonumber(H.slurp(rc_f)) end,
        120, 0.2)
      local out = H.slurp(out_f)
      assert.equal(3, code, out .. (H.slurp(err_f) or ""))
      assert.matches("location victim did not come back within 30%.0s; last load error: [^\n]*" ..
        "Could not reach user code server", out)
      assert.matches("wait for victim%s+failed", out)
    end)
    settle()
    assert(ok, err)
  end)

  it("reloads a python_file location instead of shutting it down, with a note", function()
    settle()
    local out, err, code = play("redeploy file_loc")
    assert.equal(0, code, out .. err)
    assert.matches("note: file_loc cannot be shut down %([^\n]*%); reloading it instead", out)
    assert.matches("reload file_loc%s+ok", out)
    assert.matches("file_loc was reloaded %(not shut down%) in", out)
  end)

  it("exits 1 when a job disappeared, and 0 with --allow-removed", function()
    settle()
    local ok, err = pcall(function()
      local renamed = file_original:gsub("file_job", "file_job_v2")
      local f = assert(io.open(file_path, "w")); f:write(renamed); f:close()
      local out, stderr, code = play("redeploy file_loc")
      assert.equal(1, code, out .. stderr)
      assert.matches("\njobs%s+1%s+file_job_v2%s+file_job%s*\n", out)
      assert.truthy(out:find("1 job(s) disappeared from file_loc: file_job (--allow-removed", 1, true), out)
      -- and back: file_job_v2 disappears, which --allow-removed accepts
      f = assert(io.open(file_path, "w")); f:write(file_original); f:close()
      out, stderr, code = play("redeploy file_loc --allow-removed")
      assert.equal(0, code, out .. stderr)
      assert.matches("\njobs%s+1%s+file_job%s+file_job_v2%s*\n", out)
      assert.truthy(out:find("disappeared (allowed by --allow-removed)", 1, true), out)
    end)
    settle()
    assert(ok, err)
    local names = {}
    for _, j in ipairs(client:jobs { location = "file_loc" }) do names[#names + 1] = j.name end
    assert.same({ "file_job" }, names)
  end)
end)
