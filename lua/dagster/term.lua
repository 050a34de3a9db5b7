-- dagster.term: what the REPL, timelines and playbooks print the same way.
--
--   term.colour(tty)        -> whether to paint: `tty` (a boolean, or a file descriptor to
--                              ask isatty about: 1 stdout, 2 stderr) and NO_COLOR unset or
--                              empty (https://no-color.org)
--   term.seconds(d)         -> a duration in seconds as "4.2s", "3m05s", "1h30m" or "2d03h"
--   term.width(s)           -> the columns s takes: colour codes count for nothing, a UTF-8
--                              character for one
--   term.pad(s, w [, right]) -> s padded with spaces to w columns (on the left with right)
--   term.cut(s, w)          -> s cut to w columns, its last column "…" when cut (colour
--                              codes kept, and reset after a cut)
--   term.headline(v)        -> the first line of tostring(v), what a line of a summary shows
--                              of a message; a first line that ends in ":" ("invalid run
--                              config:") is joined by the next line, which says what
--   term.table(headers, rows [, {paint =, align =}]) -> the one table printer: an aligned
--                              table of strings, two spaces between columns, the header
--                              line given to paint (bold, say); align[i] = "right" for a
--                              column of numbers
--
-- Widths come from data (a step or job name can be any length), so nothing here builds a
-- format width like "%-100s", which string.format refuses past 99.

local sys = require "dagster.sys"

local fmt, rep, concat = string.format, string.rep, table.concat

local M = {}

function M.colour(tty)
  local no = os.getenv("NO_COLOR")
  if math.type(tty) == "integer" then tty = sys.isatty(tty) end
  return tty and (no == nil or no == "")
end

function M.seconds(d)
  if d < 60 then return fmt("%.1fs", d) end
  if d < 3600 then return fmt("%dm%02ds", d // 60, math.floor(d % 60)) end
  if d < 86400 then return fmt("%dh%02dm", d // 3600, math.floor(d % 3600) // 60) end
  return fmt("%dd%02dh", d // 86400, math.floor(d % 86400) // 3600)
end

function M.headline(v)
  local first, rest = tostring(v):match("^([^\n]*)\n?(.*)$")
  local next_line = rest:match("^%s*([^\n]*)")
  if next_line ~= "" and first:find(":%s*$") then
    first = first:gsub("%s+$", "") .. " " .. next_line
  end
  return first
end

function M.width(s)
  s = s:gsub("\27%[[%d;]*m", "")
  return utf8.len(s) or #s
end
local width = M.width

function M.pad(s, w, right)
  s = tostring(s)
  local n = w - width(s)
  if n <= 0 then return s end
  return right and rep(" ", n) .. s or s .. rep(" ", n)
end
local pad = M.pad

function M.cut(s, w)
  if width(s) <= w then return s end
  local out, n, coloured = {}, 0, false
  local i = 1
  while i <= #s and n < w - 1 do
    local esc = s:match("^\27%[[%d;]*m", i)
    if esc then
      out[#out + 1] = esc
      coloured = true
      i = i + #esc
    else
      local ch = s:match("^[%z\1-\127\194-\244][\128-\191]*", i) or s:sub(i, i)
      out[#out + 1] = ch
      n = n + 1
      i = i + #ch
    end
  end
  return concat(out) .. (coloured and "\27[0m" or "") .. "…"
end

function M.table(headers, rows, o)
  o = o or {}
  local align = o.align or {}
  local w = {}
  for i, h in ipairs(headers) do w[i] = width(h) end
  local cells = {}
  for r, row in ipairs(rows) do
    cells[r] = {}
    for i = 1, #headers do
      local v = row[i]
      v = v == nil and "" or tostring(v)
      cells[r][i] = v
      if width(v) > w[i] then w[i] = width(v) end
    end
  end
  local function line(row)
    local parts = {}
    for i = 1, #headers do
      local v = row[i]
      if i == #headers and align[i] ~= "right" then parts[i] = v
      else parts[i] = pad(v, w[i], align[i] == "right") end
    end
    return (concat(parts, "  "):gsub("%s+$", ""))
  end
  local out = { (o.paint or tostring)(line(headers)) }
  for r = 1, #cells do out[#out + 1] = line(cells[r]) end
  return concat(out, "\n")
end

-- the number of single-character edits (insert, delete, replace) that turn a into b, or
-- limit + 1 as soon as it is certain to be more than `limit` (for "did you mean")
local function edits(a, b, limit)
  if math.abs(#a - #b) > limit then return limit + 1 end
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur, best = { [0] = i }, i
    for j = 1, #b do
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1,
        prev[j - 1] + (a:byte(i) == b:byte(j) and 0 or 1))
      if cur[j] < best then best = cur[j] end
    end
    if best > limit then return limit + 1 end
    prev = cur
  end
  return prev[#b]
end

-- the names of `names` (sorted) that `word` may have meant: within one edit of a word
-- shorter than six characters, two of a longer one; none for a word under three characters
function M.near(word, names)
  local out, limit = {}, #word < 6 and 1 or 2
  if #word < 3 then return out end
  for _, n in ipairs(names) do
    if edits(word, n, limit) <= limit then out[#out + 1] = n end
  end
  table.sort(out)
  return out
end

return M
