-- Coroutine concurrency over libcurl's multi interface.
--
--   local t1 = dagster.spawn(function() return client:wait_for_run(a) end)
--   local t2 = dagster.spawn(client.get_run_status, client, b)
--   local ra, rb = table.unpack(dagster.gather({t1, t2}))
--
-- A task is a coroutine. When a task's client call needs the network, the call starts a
-- non-blocking transfer (dagster.http.Multi) and the task yields; when a task sleeps it
-- yields with a wake-up time. gather() runs every live task until the ones it was given
-- have finished, driving all transfers at once. C never yields: only this file does.
-- Outside a task everything blocks as usual, so the same client code works both ways.

local http = require "dagster.http"
local sys = require "dagster.sys"

local running_co = coroutine.running

local M = {}

local tasks = {}          -- coroutine -> task, for every task not yet finished
local multi               -- the shared multi handle, made on first use
local by_transfer = {}    -- transfer id -> task waiting for it
local running = false     -- a gather loop is driving the tasks

-- counters a script (or a spec) can read: transfers started, most in flight at once
M.stats = { transfers = 0, max_in_flight = 0 }

local Task = {}
Task.__index = Task
Task.__name = "dagster.Task"
function Task:__tostring()
  return ("dagster.Task(%s)"):format(self.done and (self.ok and "done" or "failed") or "running")
end

local function current()
  local co, main = running_co()
  if main then return nil end
  return tasks[co]
end

-- true when called from inside a dagster task (so network calls and sleeps yield)
function M.in_task() return current() ~= nil end

-- dagster.spawn(fn, ...) -> task: fn(...) runs as a task once gather() drives the tasks
local function checkfn(fn, fname)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error(("bad argument #1 to '%s' (function expected, got %s)"):format(fname, type(fn)), 3)
  end
end

function M.spawn(fn, ...)
  checkfn(fn, "spawn")
  local args = table.pack(...)
  local task = { ready = true, resume_with = {} }
  task.co = coroutine.create(function() return fn(table.unpack(args, 1, args.n)) end)
  tasks[task.co] = task
  return setmetatable(task, Task)
end

-- the transport for one POST: blocking outside a task, a yield inside one; `fresh` asks for
-- a new connection (mutations: libcurl never silently re-sends those); `timeout` (seconds)
-- bounds this transfer instead of the session's own limit
function M.post(session, url, body, fresh, timeout)
  local co, main = running_co()  -- current(), inline: every request comes through here
  local task = not main and tasks[co] or nil
  if not task then return session:post(url, body, fresh, timeout) end
  multi = multi or http.multi { max_connections = M.max_connections }
  local id = multi:add(session, url, body, fresh, timeout)
  by_transfer[id] = task
  local n = multi:count()
  if n > M.stats.max_in_flight then M.stats.max_in_flight = n end
  M.stats.transfers = M.stats.transfers + 1
  task.ready = false
  local r = coroutine.yield()
  if r.err then return nil, r.err end
  return r.status, r.body, r.content_type, r.retry_after
end

-- sleeping: blocking outside a task, a yield (other tasks go on) inside one
function M.sleep(seconds)
  local task = current()
  if not task then return http.sleep(seconds) end
  task.ready = false
  task.wake = sys.now() + seconds
  coroutine.yield()
end

-- resumes one task with the values it waited for; records its end
local function step(task)
  local args = task.resume_with
  task.resume_with, task.ready, task.wake = {}, false, nil
  local res = table.pack(coroutine.resume(task.co, args))
  if coroutine.status(task.co) == "dead" then
    tasks[task.co] = nil
    task.done, task.ok = true, res[1]
    if res[1] then
      task.results = table.pack(table.unpack(res, 2, res.n))
    else
      task.err = res[2]
      if type(task.err) == "string" then task.err = debug.traceback(task.co, task.err) end
    end
  end
end

local function all_done(list)
  for _, t in ipairs(list) do if not t.done then return false end end
  return true
end

-- runs every task until all of `targets` are done
local function loop(targets)
  while not all_done(targets) do
    local progressed = false
    local wake
    local now = sys.now()
    local ready = {}
    for _, task in pairs(tasks) do  -- collect first: stepping may spawn or end tasks
      if task.wake and task.wake <= now then task.ready = true end
      if task.ready then ready[#ready + 1] = task
      elseif task.wake and (not wake or task.wake < wake) then wake = task.wake end
    end
    for _, task in ipairs(ready) do step(task); progressed = true end
    if not progressed then
      local inflight = multi and multi:count() > 0
      if not inflight and not wake then
        error("dagster.gather: tasks are waiting for something that never comes", 0)
      end
      local timeout = wake and math.max(0, wake - sys.now()) or 1
      if inflight then
        for _, r in ipairs(multi:perform(math.min(timeout, 1))) do
          local task = by_transfer[r.id]
          by_transfer[r.id] = nil
          if task then task.resume_with, task.ready = r, true end
        end
      else
        http.sleep(timeout)
      end
    end
  end
end

-- dagster.gather(tasks [, {errors = "raise" | "return"}]) -> results [, errors]: the tasks'
-- first results, in order. By default the first failed task's error is raised once all have
-- finished; with errors = "return", results[i] is nil for a failed task and errors[i] holds
-- its error (a dagster.Error, or the message and traceback of a plain Lua error), so a
-- task that returned a string is never taken for one that failed.
-- Inside a task, gather waits (yielding) while the outer loop drives everything.
function M.gather(list, opts)
  if type(list) ~= "table" then
    error(("bad argument #1 to 'gather' (table of tasks expected, got %s)"):format(type(list)), 2)
  end
  for i, t in ipairs(list) do
    if getmetatable(t) ~= Task then
      error(("bad argument #1 to 'gather' (item %d is not a task)"):format(i), 2)
    end
  end
  local mode = opts and opts.errors or "raise"
  if mode ~= "raise" and mode ~= "return" then
    error(("bad argument #2 to 'gather' (errors: \"raise\" or \"return\" expected, got %s)")
      :format(tostring(mode)), 2)
  end
  local me = current()
  if me then
    while not all_done(list) do M.sleep(0.01) end
  elseif running then
    error("dagster.gather: already running (call it from a task or the main script)", 2)
  else
    running = true
    local ok, err = pcall(loop, list)
    running = false
    if not ok then error(err, 0) end
  end
  local out, errors = {}, {}
  for i, t in ipairs(list) do
    if t.ok then out[i] = t.results[1]
    elseif mode == "return" then errors[i] = t.err
    else error(t.err, 0) end
  end
  if mode == "return" then return out, errors end
  return out          -- one value: table.unpack(dagster.gather(tasks)) gives the results
end

-- dagster.run(fn, ...) -> fn's results, running fn as a task (so everything it spawns overlaps)
function M.run(fn, ...)
  checkfn(fn, "run")
  local t = M.spawn(fn, ...)
  M.gather({ t })
  return table.unpack(t.results, 1, t.results.n)
end

return M
