-- client:timeline(run_id): a run's steps as bars on one time axis, from one request, against
-- the real local Dagster (timeline_job: prepare -> transform, which fails; side_task).
local dagster = require "dagster"
local H = require "helper"

describe("client:timeline", function()
  local client, id
  setup(function()
    client = H.client()
    id = client:submit_job_execution("timeline_job")
    assert.equal("FAILURE", (client:wait_for_run(id, { timeout = 120 })))
  end)

  it("gives every step of a finished run with its status and times", function()
    local t = client:timeline(id)
    assert.equal(id, t.run_id)
    assert.equal("timeline_job", t.job_name)
    assert.equal("FAILURE", t.status)
    local by = {}
    for _, s in ipairs(t.steps) do by[s.key] = s end
    assert.equal("SUCCESS", by.prepare.status)
    assert.equal("FAILURE", by.transform.status)
    assert.equal("SUCCESS", by.side_task.status)
    for _, s in pairs(by) do
      assert.is_number(s.start_time)
      assert.is_true(s.end_time >= s.start_time)
    end
    -- transform starts after prepare ends: its bar lies to the right
    assert.is_true(by.transform.start_time >= by.prepare.end_time)
  end)

  it("draws one row per step, letters for statuses without colour, within the width", function()
    local t = client:timeline(id)
    for _, width in ipairs { 60, 100 } do
      local text = t:render { width = width, colour = false }
      local rows = {}
      for line in text:gmatch("[^\n]+") do
        assert.is_true(#line <= width, ("a line of %d columns at width %d: %s"):format(#line,
          width, line))
        local name, bar, status = line:match("^(%S+)%s*|([^|]*)|.-(%u+)$")
        if name then rows[name] = { bar = bar, status = status } end
      end
      -- the whole run id, on a line of its own when the head would not fit
      assert.matches("^run " .. id:gsub("%p", "%%%0") .. (width < 70 and "\n" or "  ") ..
        "timeline_job  FAILURE", text)
      assert.equal("FAILURE", rows.transform.status)
      assert.matches("^ *F+ *$", rows.transform.bar)
      assert.matches("^ *S+ *$", rows.prepare.bar)
      assert.matches("^ *S+ *$", rows.side_task.bar)
      -- the failed step's bar starts where prepare's ends, or after
      assert.is_true(rows.transform.bar:find("F") >= rows.prepare.bar:find("S[^S]*$"))
      assert.is_nil(text:find("\27", 1, true))
    end
    assert.truthy(t:render { width = 80, colour = true }:find("\27%[31m#+"), "no red bar")
  end)

  it("shows the running step of a live run as R, from one request", function()
    local live = client:submit_job_execution("slow_job")
    finally(function() pcall(client.terminate_run, client, live, { force = true }) end)
    local t = H.wait_until("slow_op to run", function()
      local t = client:timeline(live)
      return #t.steps > 0 and t.steps[1].status == "IN_PROGRESS" and t
    end, 120, 0.5)
    local text = t:render { width = 80, colour = false }
    assert.matches("slow_op %s*| *R+ *|", text)
  end)

  it("raises RunNotFoundError for an unknown run, and checks its argument", function()
    assert.equal("RunNotFoundError", H.catch(client.timeline, client, "no-such-run").name)
    assert.error_matches(function() client:timeline(42) end,
      "bad argument #1 to 'timeline' (string expected, got number)", 1, true)
  end)
end)
