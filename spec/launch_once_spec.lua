-- Launches are never doubled: through spec/support/drop_proxy.py, a proxy in front of the
-- real local Dagster that forwards a launch and then loses its answer (RST), the client's
-- retry must find the run by its dagster-lua/submission_id tag instead of launching again.
-- The runs that carry a submission id are counted on the real server, directly.
local dagster = require "dagster"
local H = require "helper"

local PROXY = H.root .. "/spec/support/drop_proxy.py"
local TAG = "dagster-lua/submission_id"

local slurp = H.slurp

local function start_proxy()
  return H.start_server("the drop proxy", PROXY, function(portfile)
    return H.quote(H.url()) .. " " .. portfile
  end)
end

local stop_proxy = H.stop_server

-- the launch requests the proxy saw on one path segment
local function launches(p, segment)
  local out = {}
  for line in (slurp(p.portfile .. ".log") or ""):gmatch("[^\n]+") do
    local r = assert(dagster.json.decode(line))
    if r.segment == segment and r.launch then out[#out + 1] = r end
  end
  return out
end

local RUN_TAGS = [[
query RunTags($id: ID!) {
  runOrError(runId: $id) { __typename ... on Run { tags { key value } } }
}]]

local RUNS_WITH_TAG = [[
query RunsWithTag($key: String!, $value: String!) {
  runsOrError(filter: {tags: [{key: $key, value: $value}]}) {
    __typename
    ... on Runs { results { runId } }
    ... on Error { message }
  }
}]]

-- the submission id a run was launched with (asked of the real server)
local function submission_of(direct, run_id)
  local r = direct:graphql(RUN_TAGS, { id = run_id }).runOrError
  assert.equal("Run", r.__typename)
  for _, t in ipairs(r.tags) do
    if t.key == TAG then return t.value end
  end
  error("run " .. run_id .. " has no " .. TAG .. " tag")
end

-- the ids of every run that carries the submission id, on the real server
local function runs_with(direct, sid)
  local r = direct:graphql(RUNS_WITH_TAG, { key = TAG, value = sid }).runsOrError
  assert.equal("Runs", r.__typename)
  local ids = {}
  for i, run in ipairs(r.results) do ids[i] = run.runId end
  return ids
end

local UUID = "^%x+%-%x+%-%x+%-%x+%-%x+$"

-- (the runs are held in the queue, H.HOLD: that a run exists is what counts, not its work)
describe("a launch whose answer is lost", function()
  local proxy, direct
  setup(function()
    proxy = start_proxy()
    direct = H.client({ timeout = 60 })
  end)
  teardown(function()
    stop_proxy(proxy)
    H.cancel_held(direct)
  end)

  local function through(segment)
    return dagster.client(("http://127.0.0.1:%d/%s"):format(proxy.port, segment),
      { retries = 3, retry_delay = 0.2, timeout = 60 })
  end

  it("returns the run, and exactly one run carries its submission id, when the first answer is dropped", function()
    local run_id = through("first"):submit_job_execution("succeed_job", { tags = H.HOLD })
    assert.matches(UUID, run_id)
    local seen = launches(proxy, "first")
    assert.is_true(#seen >= 1, "the proxy saw no launch")
    assert.is_true(seen[1].dropped and seen[1].forwarded, "the first launch was not dropped after forwarding")
    local sid = submission_of(direct, run_id)
    for _, l in ipairs(seen) do assert.equal(sid, l.submission_id) end
    assert.same({ run_id }, runs_with(direct, sid),
      ("%d launch requests reached the server for one submit"):format(#seen))
  end)

  it("returns the one run it finds by tag when every launch answer is dropped", function()
    local run_id = through("all"):submit_job_execution("succeed_job", { tags = H.HOLD })
    assert.matches(UUID, run_id)
    local seen = launches(proxy, "all")
    local sid = submission_of(direct, run_id)
    for _, l in ipairs(seen) do assert.equal(sid, l.submission_id) end
    assert.same({ run_id }, runs_with(direct, sid),
      ("%d launch requests reached the server for one submit"):format(#seen))
  end)

  it("waits for a launch that timed out to be made, rather than sending it again, when the server is slow", function()
    -- the `late` path holds each launch 3 s before the server gets it, and forwards it
    -- whether the client is still there or not: every attempt of 1 s times out while the
    -- first is still on its way to being made
    local c = dagster.client(("http://127.0.0.1:%d/late1"):format(proxy.port),
      { retries = 3, retry_delay = 0.2, timeout = 60, attempt_timeout = 1 })
    local run_id = c:submit_job_execution("succeed_job", { tags = H.HOLD })
    assert.matches(UUID, run_id)
    local sid = submission_of(direct, run_id)
    local held = 0
    for _, l in ipairs(launches(proxy, "late1")) do
      assert.equal(sid, l.submission_id)
      if l.held then held = held + 1 end
    end
    assert.equal(1, held, "launch requests sent for one submit")
    -- the held launch has reached the server (it made the run): one run carries the id
    assert.same({ run_id }, runs_with(direct, sid))
  end)

  it("is found by find_submission with wait once the server has made it, after a launch that timed out", function()
    -- no retries: the launch gives up after its 1 s attempt, while the proxy still holds it
    -- (3 s) before the server gets it; the error carries its submission id
    local c = dagster.client(("http://127.0.0.1:%d/late2"):format(proxy.port),
      { retries = 0, timeout = 60, attempt_timeout = 1 })
    local ok, e = pcall(c.submit_job_execution, c, "succeed_job", { tags = H.HOLD })
    assert.is_false(ok, "the launch did not time out")
    assert.equal("TimeoutError", e.name, tostring(e))
    local sid = e.submission_id
    assert.is_string(sid)
    -- looked up through the proxy too (a path segment without a launch to hold), so the
    -- lookups are counted
    local looker = through("first-look")
    assert.is_nil(looker:find_submission(sid, { kind = "run" }), "found while the proxy held it")
    local found = looker:find_submission(sid, { kind = "run", wait = 10 })
    assert.is_table(found, "not found within 10 s")
    assert.equal("run", found.kind)
    assert.same({ found.run_id }, runs_with(direct, sid))
    local looks = 0
    for line in (slurp(proxy.portfile .. ".log") or ""):gmatch("[^\n]+") do
      local r = assert(dagster.json.decode(line))
      if r.segment == "first-look" and r.op == "DagsterLuaRunByTag" then looks = looks + 1 end
    end
    assert.is_true(looks >= 3, looks .. " lookups: the wait did not look again")
    -- what is never launched: nil once the wait is over, having looked more than once
    local never = dagster.submission_id()
    assert.is_nil(looker:find_submission(never, { kind = "run", wait = 1 }))
  end)

  it("raises ConnectionError after its retries when no launch gets through, and no run exists", function()
    local c = through("refuse")
    local ok, e = pcall(c.submit_job_execution, c, "succeed_job")
    assert.is_false(ok, "expected ConnectionError, got run " .. tostring(e))
    assert.is_true(dagster.Error.is(e), tostring(e))
    assert.equal("ConnectionError", e.name, tostring(e))
    local seen = launches(proxy, "refuse")
    assert.is_true(#seen >= 4, ("%d launch attempts for retries = 3"):format(#seen))
    local sid = seen[1].submission_id
    assert.is_string(sid)
    for _, l in ipairs(seen) do
      assert.equal(sid, l.submission_id)   -- every retry is the same submission
      assert.is_false(l.forwarded)
    end
    assert.same({}, runs_with(direct, sid))
  end)
end)

describe("a playbook killed while the server still holds its launch #binary", function()
  local proxy, direct, dir
  setup(function()
    proxy = start_proxy()
    direct = H.client({ timeout = 60 })
    dir = H.trim(H.run("mktemp -d"))
  end)
  teardown(function()
    stop_proxy(proxy)
    os.execute("rm -rf " .. H.quote(dir))
  end)

  it("resumed at once, finds that launch when the server makes it, and makes no other", function()
    -- the proxy's `late` path holds each launch 3 s before the server gets it, and forwards it
    -- whether the client is still there or not (as a server goes on with a request whose
    -- client died); the resume asks for the run before it exists
    local url = ("http://127.0.0.1:%d/late"):format(proxy.port)
    local args = ("run succeed_job --url %s --journal %s"):format(url, H.quote(dir .. "/run.jsonl"))
    local pid = H.trim(H.run(H.play_cmd(dir, args) .. " >/dev/null 2>&1 & echo $!"))
    local held = H.wait_until("the launch to be held by the proxy", function()
      for _, l in ipairs(launches(proxy, "late")) do if l.held then return l end end
    end, 30, 0.05)
    os.execute("kill -KILL " .. pid)
    -- at once, but after the killed process is gone (its lock goes with it; until then a
    -- second process would exit 75)
    local out, err, code = H.play(dir, args .. " --resume --wait-lock 10s")
    assert.equal(0, code, out .. err)
    assert.matches("looking for what the interrupted run may have launched", out .. err)
    assert.matches("found what was launched before the interruption", out .. err)
    -- one run carries the submission id: the held launch, which the server made after all
    local ids = runs_with(direct, held.submission_id)
    assert.equal(1, #ids, out .. err)
    -- and one launch request reached it (the proxy logs it once the server has answered)
    local function forwarded()
      local n = 0
      for _, l in ipairs(launches(proxy, "late")) do if l.forwarded then n = n + 1 end end
      return n
    end
    H.wait_until("the held launch to be answered", function() return forwarded() > 0 end, 30, 0.1)
    assert.equal(1, forwarded(), "launch requests that reached the server")
  end)
end)

