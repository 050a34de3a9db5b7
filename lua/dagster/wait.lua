-- dagster.wait: what the waits share (wait_for_run, wait_for_runs, wait_for_backfill): their
-- options, the poll loop with backoff and a deadline, and the live progress line.
--
--   local w = wait.options(opts, 2, "wait_for_run")      -- {timeout, interval, max_interval,
--                                                        --  on_status, progress}
--   wait.run(w, progress_fn, poll_args...)                -- the progress line erased at the end
--   wait.poll(client, w, observe, apply, on_timeout)      -- the loop itself
--
-- A timeout of 0 is no limit, as the client's own timeout (and timeout(1), curl -m) has it.
--
-- wait.progress is the default of the `progress` option (the REPL sets it to true).
-- wait.notice, when set (the REPL and the playbooks set it), is called with a line to show
-- once when a call starts waiting for the server's sake (a maintenance window).

local check = require "dagster.check"
local answer = require "dagster.answer"
local sys = require "dagster.sys"

local fmt = string.format

local M = {}

M.progress = false
M.notice = nil

-- One status line on stderr, rewritten in place and erased at the end; only when stderr is
-- a terminal.
function M.progress_line()
  local t0, shown = sys.now(), false
  return {
    show = function(text)
      io.stderr:write("\r\27[K", text)
      io.stderr:flush()
      shown = true
    end,
    clear = function() if shown then io.stderr:write("\r\27[K"); io.stderr:flush() end end,
    elapsed = function() return sys.now() - t0 end,
  }
end

local WAIT_OPTS = check.options({ "wait_for_run", "wait_for_runs" },
  { "timeout", "interval", "max_interval", "on_status", "progress" })

-- wait.options(opts, n, fname [, known, callback]) -> w: the polling options of a wait,
-- checked. `known` and `callback` (the name of the option called at a change) let each wait
-- have its own set: wait_for_backfill's has on_progress.
function M.options(opts, n, fname, known, callback)
  local o = check.opts(opts, n, fname, known or WAIT_OPTS)
  callback = callback or "on_status"
  local w = {
    timeout = check.number(o.timeout, n, fname, "timeout"),
    interval = check.number(o.interval, n, fname, "interval", "positive") or 0.5,
    max_interval = check.number(o.max_interval, n, fname, "max_interval", "positive") or 5,
    [callback] = check.callable(o[callback], n, fname, callback),
  }
  if w.max_interval < w.interval then w.max_interval = w.interval end
  if w.timeout == 0 then w.timeout = nil end
  local progress = o.progress
  if progress ~= nil then check.type(progress, "boolean", n, fname, "progress") end
  if progress == nil then progress = M.progress end
  if progress and sys.isatty(2) then w.progress = M.progress_line() end
  return w
end

-- wait.run(w, f, ...): f(...), then the progress line erased, whether it ended well or not
function M.run(w, f, ...)
  if not w.progress then return f(...) end
  local ok, err = pcall(f, ...)
  w.progress.clear()
  if not ok then error(err, 0) end
end

-- "msg; last error: ..." when a transient error was the last thing seen
function M.with_error(msg, last_error)
  if last_error then msg = fmt("%s; last error: %s", msg, tostring(last_error)) end
  return msg
end

local BACKOFF = 1.5
M.BACKOFF = BACKOFF

-- wait.poll(client, w, observe, apply, on_timeout): the loop behind the waits.
-- observe() does the requests of one round and returns what it saw; a transient failure
-- (answer.retryable) is retried on the same schedule until the deadline, any other error
-- propagates. apply(seen) runs outside the protected call (so that errors of the caller's
-- callbacks are never retried) and returns done, changed. Delays: w.interval after the
-- first round and after every change, then x1.5 per round up to w.max_interval. At the
-- deadline, on_timeout(last transient error) raises. observe's requests end by the
-- deadline too (w.deadline, a client:_now() time). Sleeps and the clock go through the
-- client, so that inside a dagster task a wait yields.
function M.poll(client, w, observe, apply, on_timeout)
  local deadline = w.timeout and client:_now() + w.timeout
  w.deadline = deadline
  local delay = w.interval
  local last_error
  while true do
    local ok, seen = pcall(observe)
    if ok then
      last_error = nil
      local done, changed = apply(seen)
      if done then return end
      if changed then delay = w.interval end
    elseif answer.retryable(seen) then
      -- a round at the deadline, with no time left, says less than the one before it
      if not seen.no_time_left then last_error = seen end
    else
      error(seen, 0)
    end
    local now = client:_now()
    if deadline and now >= deadline then on_timeout(last_error) end
    -- a rate limit or a maintenance window says how long to keep away: at least that
    local pause = math.max(delay, not ok and answer.asked_wait(seen) or 0)
    client:_sleep(deadline and math.min(pause, deadline - now) or pause)
    delay = math.min(delay * BACKOFF, w.max_interval)
  end
end

return M
