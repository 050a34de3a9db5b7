-- client:timeline(run_id): a run's steps as bars on one time axis, from one request.
--
--   local t = client:timeline(run_id)   -- {run_id, job_name, status, start_time, end_time,
--   print(t)                            --  steps = {{key, status, start_time, end_time}}}
--   print(t:render { width = 100, colour = false })
--
-- Each step is a row: its name, a bar from its start to its end (to now while it runs), its
-- duration and status. With colour the bar is painted by status; without, it is drawn with
-- the status's letter (S success, F failure, R running, K skipped, ? anything else), so the
-- picture reads the same in a log file. It answers "where did the time go" for a finished run
-- and "what is still running" for a live one.

local term = require "dagster.term"
local D = require "dagster.documents"
local check = require "dagster.check"
local answer = require "dagster.answer"

local fmt, rep, concat = string.format, string.rep, table.concat

local Timeline = {}
Timeline.__index = Timeline
Timeline.__name = "dagster.Timeline"

local LETTER = { SUCCESS = "S", FAILURE = "F", IN_PROGRESS = "R", SKIPPED = "K" }
local COLOUR = { SUCCESS = "32", FAILURE = "31", IN_PROGRESS = "36", SKIPPED = "90" }

local seconds = term.seconds

-- t:render([{width =, colour =}]) -> the picture, one line per step under a header line
function Timeline:render(o)
  o = o or {}
  local width = math.max(o.width or tonumber(os.getenv("COLUMNS")) or 80, 40)
  local colour = o.colour
  if colour == nil then colour = term.colour(1) end
  local now = self.fetched_at
  local t0, t1 = self.start_time, self.end_time
  for _, s in ipairs(self.steps) do
    if s.start_time and (t0 == nil or s.start_time < t0) then t0 = s.start_time end
    local e = s.end_time or (s.start_time and now)
    if e and (t1 == nil or e > t1) then t1 = e end
  end
  -- the head names the whole run id (it can be pasted); on a narrow terminal the id has a
  -- line of its own
  local function header(rest)
    local line = fmt("run %s  %s", tostring(self.run_id), rest)
    if #line <= width then return line end
    return fmt("run %s\n%s", tostring(self.run_id), rest)
  end
  local what = fmt("%s  %s", tostring(self.job_name), tostring(self.status))
  if t0 == nil then return header(what) .. "\n(no step has started)" end
  t1 = math.max(t1 or now, t0)
  local span = t1 - t0
  local head = header(what .. "  " .. seconds(span))
  local namew = 4
  for _, s in ipairs(self.steps) do namew = math.max(namew, #s.key) end
  namew = math.min(namew, math.max(10, width // 3))
  local tailw = 20                                  -- " 12m03s  IN_PROGRESS"
  local barw = math.max(width - namew - tailw - 3, 10)
  local lines = { head }
  for _, s in ipairs(self.steps) do
    local name = #s.key > namew and s.key:sub(1, namew - 1) .. "~" or s.key
    local cells = rep(" ", barw)
    local dur = "-"
    if s.start_time then
      local e = s.end_time or now
      local a = math.floor((s.start_time - t0) / (span > 0 and span or 1) * barw)
      local b = math.floor((e - t0) / (span > 0 and span or 1) * barw + 0.5)
      a = math.min(math.max(a, 0), barw - 1)
      b = math.min(math.max(b, a + 1), barw)
      local ch = colour and "#" or (LETTER[s.status] or "?")
      local bar = rep(ch, b - a)
      if colour then bar = "\27[" .. (COLOUR[s.status] or "33") .. "m" .. bar .. "\27[0m" end
      cells = rep(" ", a) .. bar .. rep(" ", barw - b)
      dur = seconds(e - s.start_time)
    end
    lines[#lines + 1] = fmt("%s |%s| %7s  %s", term.pad(name, namew), cells, dur,
      tostring(s.status))
  end
  lines[#lines + 1] = rep(" ", namew + 2) .. term.pad("0s", barw - #seconds(span)) .. seconds(span)
  return concat(lines, "\n")
end

function Timeline:__tostring() return self:render() end

local M = {}

-- client:timeline(run_id) -> a dagster.Timeline (print it, or t:render{width =, colour =})
function M:timeline(run_id)
  check.type(run_id, "string", 1, "timeline")
  local value = answer.value
  local t = self:_query(D.run_timeline, { runId = run_id }, "DagsterLuaRunTimeline", function(d)
    local r = self:_member(d.runOrError, "Run", "DagsterLuaRunTimeline")
    local steps = {}
    for i, s in ipairs(r.stepStats) do
      local key = s.stepKey
      if type(key) ~= "string" then error("a step key is not a string", 0) end
      steps[i] = { key = key, status = value(s.status) or "?",
                   start_time = value(s.startTime), end_time = value(s.endTime) }
      for _, f in ipairs { "start_time", "end_time" } do
        if steps[i][f] ~= nil and type(steps[i][f]) ~= "number" then
          error("a step time is not a number", 0)
        end
      end
    end
    table.sort(steps, function(a, b)
      return (a.start_time or math.huge) < (b.start_time or math.huge)
    end)
    return { run_id = answer.run_id(r.runId), job_name = value(r.jobName),
             status = value(r.status), start_time = value(r.startTime),
             end_time = value(r.endTime), steps = steps }
  end)
  t.fetched_at = os.time()
  return setmetatable(t, Timeline)
end

return M
