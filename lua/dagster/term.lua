-- dagster.term: what the REPL, timelines and playbooks print the same way.
--
--   term.colour(tty)           -> whether to paint: `tty` (a boolean, or a file descriptor to
--                                 ask isatty about: 1 stdout, 2 stderr) and NO_COLOR unset or
--                                 empty (https://no-color.org)
--   term.seconds(d[, minutes]) -> a duration in seconds as "4.2s", "3m05s" or "1h30m"; with
--                                 `minutes`, an hour and more stays in minutes ("90m00s")

local http = require "dagster.http"

local fmt = string.format

local M = {}

function M.colour(tty)
  local no = os.getenv("NO_COLOR")
  if math.type(tty) == "integer" then tty = http.isatty(tty) end
  return tty and (no == nil or no == "")
end

function M.seconds(d, minutes)
  if d < 60 then return fmt("%.1fs", d) end
  if d < 3600 or minutes then return fmt("%dm%02ds", d // 60, math.floor(d % 60)) end
  return fmt("%dh%02dm", d // 3600, math.floor(d % 3600) // 60)
end

return M
