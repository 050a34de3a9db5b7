-- dagster.playbook.config: the run config files of a playbook, as `dagster job launch -c`
-- reads them.
--
--   config.read_yaml(path [, name])  -> the document; a syntax error is a usage error of
--                                       playbook `name` (status 4), naming file, line, column;
--                                       "-" reads standard input (named <stdin>)
--   config.glob(pattern [, name])    -> the paths a pattern names, sorted
--   config.deep_merge(onto, from)    -> Dagster's deep_merge_dicts

local json = require "dagster.json"
local yaml = require "dagster.yaml"
local E = require "dagster.error"
local exit = require "dagster.playbook.exit"

local M = {}

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- a YAML file as a table; its errors (syntax, a missing file, no lyaml) end the playbook
-- with a usage error, or, outside a playbook (name nil), are raised as they are
function M.read_yaml(path, name)
  local ok, doc
  if path == "-" then        -- as kubectl's -f - and dagster's own -c /dev/stdin
    ok, doc = pcall(yaml.decode, io.stdin:read("a") or "", "<stdin>")
  else
    ok, doc = pcall(yaml.read, path)
  end
  if ok then return doc end
  if name == nil then error(doc, 0) end
  exit.usage(name, E.is(doc) and doc.message or tostring(doc))
end

-- the paths a pattern names: itself when it has no wildcard, else the matching files of its
-- folder, sorted (Dagster takes glob.glob's order, which is the file system's)
function M.glob(pattern, name)
  if not pattern:find("[*?%[]") then return { pattern } end
  local dir, base = pattern:match("^(.*)/([^/]*)$")
  if not dir then dir, base = ".", pattern end
  if dir:find("[*?%[]") then exit.usage(name, "a wildcard only in the file name: " .. pattern) end
  local lp = "^" .. base:gsub("[%^%$%(%)%%%.%+%-]", "%%%0"):gsub("%*", "[^/]*"):gsub("%?", "[^/]")
    .. "$"
  local out = {}
  local p = io.popen("ls -1A -- " .. shell_quote(dir) .. " 2>/dev/null")
  for file in p:lines() do
    if file:match(lp) then out[#out + 1] = (dir == "." and not pattern:find("^%./")) and file
      or dir .. "/" .. file end
  end
  p:close()
  table.sort(out)
  if #out == 0 then exit.usage(name, "no file matches " .. pattern) end
  return out
end

-- Dagster's deep_merge_dicts: objects merge key by key, recursively; anything else (lists
-- included) is replaced by the later value
function M.deep_merge(onto, from)
  local out = {}
  for k, v in pairs(onto) do out[k] = v end
  for k, v in pairs(from) do
    local a = out[k]
    if type(a) == "table" and type(v) == "table" and not json.is_array(a)
        and not json.is_array(v) then
      out[k] = M.deep_merge(a, v)
    else
      out[k] = v
    end
  end
  return out
end

return M
