-- dagster.check: the argument checks and converters every public function shares, so that a
-- bad argument reads like Lua's own ("bad argument #2 to 'runs' (limit: positive integer
-- expected, got 0)") and points at the caller's line, never at a line of this module.
--
--   local check = require "dagster.check"
--   check.type(v, "string", 1, "get_run")           -- raises unless type(v) == "string"
--   local o = check.opts(opts, 2, "runs", KNOWN)    -- nil -> {}; unknown keys refused
--   local KNOWN = check.options("runs", {"limit", ...})  -- a set, recorded for the API table
--
-- Every function takes the argument's position `n` and the public name `fname` of the
-- function that checks it. None of them does I/O.

local json = require "dagster.json"
local yaml = require "dagster.yaml"

local fmt, concat = string.format, table.concat
local utf8len = utf8.len
local type, getmetatable = type, getmetatable

local M = {}

-- The stack level of the first function outside lua/dagster/ (the caller's code), as seen
-- from the function that called caller_level; the module's own pcalls in between (C
-- frames) are skipped too. An error raised at that level carries the caller's position.
local function caller_level()
  local level, first = 3, 3
  while true do
    local info = debug.getinfo(level, "S")
    if info == nil then break end
    if info.source:find("dagster/[%w_/]+%.lua$") then first = level + 1
    elseif info.what ~= "C" then break end
    level = level + 1
  end
  return first - 1
end
M.caller_level = caller_level

-- check.argerror(n, fname, msg): raises "bad argument #n to 'fname' (msg)" at the caller's
-- position
function M.argerror(n, fname, msg)
  error(fmt("bad argument #%d to '%s' (%s)", n, fname, msg), caller_level())
end
local argerror = M.argerror

local function typename(v) return v == nil and "no value" or type(v) end

-- check.type(v, want, n, fname [, what]): v must be of Lua type `want`; `what` names the
-- option ("timeout: number expected, got string")
-- A string must also be valid UTF-8: JSON cannot carry anything else to the server.
-- Short strings found valid are remembered (a poll checks the same run id again and again,
-- and utf8.len reads every byte each time), at most VALID_MAX of them.
local valid, nvalid, VALID_MAX = {}, 0, 256
function M.type(v, want, n, fname, what)
  if type(v) ~= want then
    argerror(n, fname, fmt("%s%s expected, got %s", what and (what .. ": ") or "", want,
      typename(v)))
  end
  if want == "string" and not valid[v] then
    if not utf8len(v) then M.utf8(v, n, fname, what) end
    if #v <= 64 then
      if nvalid >= VALID_MAX then valid, nvalid = {}, 0 end
      valid[v], nvalid = true, nvalid + 1
    end
  end
end

-- check.utf8(s, n, fname [, what]): s must be valid UTF-8
function M.utf8(s, n, fname, what)
  local ok, bad = utf8.len(s)
  if not ok then
    argerror(n, fname, fmt("%sinvalid UTF-8 at byte %d", what and (what .. ": ") or "", bad))
  end
end
local checktype = M.type

-- check.number(v, n, fname, what [, kind]) -> v: nil passes (the caller's default applies),
-- NaN never does. kind is "non-negative" (the default), "positive" (0 refused too) or "any".
function M.number(v, n, fname, what, kind)
  if v == nil then return nil end
  kind = kind or "non-negative"
  if type(v) ~= "number" or v ~= v
     or (kind ~= "any" and (v < 0 or (kind == "positive" and v == 0))) then
    argerror(n, fname, fmt("%s: %s expected, got %s", what,
      kind == "any" and "number" or kind .. " number",
      type(v) == "number" and tostring(v) or type(v)))
  end
  return v
end

-- check.count(v, n, fname, what [, default]) -> an integer >= 1, or default when v is nil
function M.count(v, n, fname, what, default)
  if v == nil then return default end
  if math.type(v) ~= "integer" or v < 1 then
    argerror(n, fname, fmt("%s: positive integer expected, got %s", what, tostring(v)))
  end
  return v
end

-- check.callable(v, n, fname, what) -> v: nil, a function, or a table with __call
function M.callable(v, n, fname, what)
  if v ~= nil and type(v) ~= "function" and not (getmetatable(v) or {}).__call then
    argerror(n, fname, fmt("%s: function expected, got %s", what, type(v)))
  end
  return v
end

-- check.without_userinfo(url) -> url without the "user:password@" of its authority, and that
-- userinfo (nil when none, or empty): a secret, which no message or error may show. url may
-- start with its scheme ("https://") or with the host.
function M.without_userinfo(url)
  local scheme, rest = url:match("^(%a[%w+.-]*://)(.*)$")
  if not scheme then scheme, rest = "", url end
  local userinfo = rest:match("^[^/?#]*"):match("^(.*)@")     -- up to the last "@"
  if userinfo == nil then return url end
  return scheme .. rest:sub(#userinfo + 2), userinfo ~= "" and userinfo or nil
end

-- check.shown_url(url) -> url as a message may show it: without its user:password@, and
-- with "?..." for a query or a fragment (a token, perhaps)
function M.shown_url(url)
  return (M.without_userinfo(url):gsub("[?#].*$", "?..."))
end

-- check.url_problem(hostname) -> why dagster.client does not take hostname (a host name,
-- or a whole http(s):// URL) whatever its options, or nil: what dagster.client,
-- client_from_env and the playbooks' --url say of it
function M.url_problem(hostname)
  if hostname == "" then return "hostname is empty" end
  -- "/graphql" goes at the end of the path, and a query (often a token) would be shown in
  -- every message that names the URL: neither is taken (nor shown)
  if hostname:find("[?#]") then
    return "a URL with a query or a fragment (? or #) is not supported (a token goes in " ..
      "the headers option)"
  end
  local scheme, rest = hostname:match("^(https?)://(.*)$")
  if scheme then
    rest = M.without_userinfo(rest)
    local host = rest:match("^[^/]*")
    if host == "" or host:match("^:") then return fmt("URL has no host: %s://%s", scheme, rest) end
    return nil
  end
  if hostname:find("://", 1, true) then return "only http:// and https:// URLs are supported" end
  if M.without_userinfo(hostname) == "" then return "hostname is empty" end
  return nil
end

-- check.key_id(path) -> a string that names an asset key's path (a list of strings), for
-- tables keyed by asset
function M.key_id(path) return json.encode(path) end

-- check.set(list) -> {[v] = true} for each v of list
function M.set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- The option sets of the public functions, by function name ("client" for dagster.client):
-- spec/api_spec.lua holds lua/dagster/api.lua against them. check.options(fname, list)
-- builds the set and records it under fname (a name, or a list of names sharing the set).
M.option_sets = {}
function M.options(fname, list)
  local s = M.set(list)
  for _, name in ipairs(type(fname) == "table" and fname or { fname }) do
    M.option_sets[name] = s
  end
  return s
end

-- check.opts(opts, n, fname, known) -> opts, or {} for nil: a table whose keys are all known
function M.opts(opts, n, fname, known)
  if opts == nil then return {} end
  checktype(opts, "table", n, fname)
  for k in pairs(opts) do
    if type(k) ~= "string" or not known[k] then
      argerror(n, fname, fmt("unknown option '%s'", tostring(k)))
    end
  end
  return opts
end

-- check.place(o, n, fname) -> o.location, o.repository: the two options that narrow a
-- name to one code location and repository, each a string when given
function M.place(o, n, fname)
  if o.location ~= nil then M.type(o.location, "string", n, fname, "location") end
  if o.repository ~= nil then M.type(o.repository, "string", n, fname, "repository") end
  return o.location, o.repository
end

-- check.string_list(v, n, fname, what) -> a JSON array of the strings of list v
function M.string_list(v, n, fname, what)
  checktype(v, "table", n, fname, what)
  local out = json.array()
  for i, s in ipairs(v) do
    if type(s) ~= "string" then argerror(n, fname, fmt("%s[%d]: string expected", what, i)) end
    M.utf8(s, n, fname, fmt("%s[%d]", what, i))
    out[i] = s
  end
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > #out then
      argerror(n, fname, fmt("%s must be a list", what))
    end
  end
  return out
end

-- check.tag_list(tags, n, fname) -> [{key, value}], sorted by key, from {k = v}. Values
-- that are not strings are encoded as the Python client does (JSON for tables, tostring
-- for numbers and booleans).
function M.tag_list(tags, n, fname)
  local out = json.array()
  if tags == nil then return out end
  checktype(tags, "table", n, fname, "tags")
  local keys = {}
  for k in pairs(tags) do
    if type(k) ~= "string" then argerror(n, fname, "tags: keys must be strings") end
    M.utf8(k, n, fname, "tags")
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local v, tv = tags[k], type(tags[k])
    if tv == "number" or tv == "boolean" then v = tostring(v)
    elseif tv == "table" then v = json.encode(v)
    elseif tv ~= "string" then
      argerror(n, fname, fmt('tags: value of "%s" cannot be a %s', k, tv))
    else
      M.utf8(v, n, fname, fmt('tags: value of "%s"', k))
    end
    out[#out + 1] = { key = k, value = v }
  end
  return out
end

-- check.asset_key(key, n, fname) -> {path = {...}} (an AssetKeyInput) from "a/b" or {"a","b"}
function M.asset_key(key, n, fname)
  if type(key) == "string" then
    local path = {}
    for part in key:gmatch("[^/]+") do path[#path + 1] = part end
    if #path == 0 then argerror(n, fname, "empty asset key") end
    return { path = path }
  elseif type(key) == "table" and #key > 0 then
    local path = {}
    for i, part in ipairs(key) do
      if type(part) ~= "string" then argerror(n, fname, "asset key parts must be strings") end
      path[i] = part
    end
    return { path = path }
  end
  argerror(n, fname, "asset key must be a string \"a/b\" or a list {\"a\",\"b\"}")
end

-- check.asset_keys(v, n, fname) -> keys, given_strings: one key ("a/b") or a list of keys
-- (each "a/b" or {"a", "b"}) as a list of AssetKeyInputs, each key once, in order;
-- given_strings: a list of several one-part strings, perhaps meant as one key's parts
function M.asset_keys(v, n, fname)
  local given_strings = false
  if type(v) == "string" then
    v = { v }
  elseif type(v) == "table" then
    local len = #v
    if len == 0 then argerror(n, fname, "no asset keys given") end
    for k in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > len then
        argerror(n, fname, "asset key string or list of asset keys expected")
      end
    end
    given_strings = len > 1
  else
    argerror(n, fname, "asset key string or list of asset keys expected, got " ..
      (v == nil and "no value" or type(v)))
  end
  local keys, seen = json.array(), {}
  for _, k in ipairs(v) do
    if type(k) ~= "string" or k:find("/", 1, true) then given_strings = false end
    local input = M.asset_key(k, n, fname)
    local id = M.key_id(input.path)
    if not seen[id] then
      seen[id] = true
      keys[#keys + 1] = input
    end
  end
  return keys, given_strings
end

-- check.keys_or_opts(keys, opts) -> keys, opts, n for a function called as
-- f([keys | opts] [, opts]): a table of options alone (no keys[1]) is the options; n is the
-- options' argument number
function M.keys_or_opts(keys, opts)
  if opts == nil and type(keys) == "table" and keys[1] == nil then return nil, keys, 1 end
  return keys, opts, keys == nil and 1 or 2
end

-- what a run config that is not a mapping is, for the message ("a list", "a string")
local function kind_of(v)
  if v == json.null then return "null" end
  if type(v) == "table" then return "a list" end
  return "a " .. type(v)
end

-- check.is_list(t) -> whether JSON would write table t as a list (marked, or with items 1..)
local function is_list(v) return json.is_array(v) or rawlen(v) > 0 end
M.is_list = is_list

-- check.run_config(v, n, fname [, validating]) -> a run config: a table or a YAML string, {}
-- for nil. A YAML string is parsed here first (when lyaml is installed), so that a syntax
-- error reads as everywhere else ("run_config: <yaml>:4:13: ...") instead of as the
-- server's Python traceback; the string itself is what the server gets. A launch's config
-- must be a mapping (a list, or YAML text of a scalar, the server refuses with a Python
-- traceback; an empty YAML document is the server's to judge); one to validate goes as it
-- is, the server's answer being what is asked.
function M.run_config(v, n, fname, validating)
  if v == nil then return {} end
  if type(v) ~= "table" and type(v) ~= "string" then
    argerror(n, fname, "run_config: table or YAML string expected, got " .. type(v))
  end
  local doc = v
  if type(v) == "string" then
    doc = nil
    if yaml.available() then
      local ok, d = pcall(yaml.decode, v, "run_config")
      if not ok then argerror(n, fname, tostring(d.message or d)) end
      doc = d
    end
  end
  if not validating and doc ~= nil and (type(doc) ~= "table" or is_list(doc)) then
    argerror(n, fname, type(v) == "table"
      and "run_config: a table of names (ops =, resources =, ...) expected, got a list"
      or "run_config: a YAML mapping expected, got " .. kind_of(doc))
  end
  return v
end

-- check.submission_id(v, n, fname) -> v: nil, or a caller's idempotency key (a non-empty
-- string of at most 255 characters, as a tag value)
function M.submission_id(v, n, fname)
  if v == nil then return nil end
  if type(v) ~= "string" or v == "" or #v > 255 or v:find("[%c]") then
    argerror(n, fname, "submission_id: a non-empty string of printable characters expected, got " ..
      (type(v) == "string" and fmt("%q", v:sub(1, 40)) or type(v)))
  end
  return v
end

------------------------------------------------------------------------------------------
-- Partition keys
------------------------------------------------------------------------------------------

-- A multi-dimensional partition key: a table {dimension = key} whose tostring is Dagster's
-- string for it (the keys in the order of the dimension names, joined with "|").
local PartitionKey = { __name = "dagster.PartitionKey" }
PartitionKey.__index = PartitionKey
function PartitionKey.__tostring(k)
  local dims = {}
  for d in pairs(k) do dims[#dims + 1] = d end
  table.sort(dims)
  for i, d in ipairs(dims) do dims[i] = k[d] end
  return concat(dims, "|")
end
M.PartitionKey = PartitionKey

-- check.split_partition_key(s, dims) -> the PartitionKey that Dagster's string s of a
-- multi-dimensional key stands for: its parts by dimension (dims: the names, sorted, as s
-- joins them; a part past them is kept by its rank)
function M.split_partition_key(s, dims)
  local k, j = setmetatable({}, PartitionKey), 0
  for part in (s .. "|"):gmatch("([^|]*)|") do j = j + 1; k[dims[j] or j] = part end
  return k
end

-- check.partition_key(k, n, fname, what) -> the key as Dagster spells it: a string, or a
-- table {dimension = key} of strings joined as PartitionKey's tostring does
function M.partition_key(k, n, fname, what)
  if type(k) == "string" and k ~= "" then return k end
  if type(k) == "table" and next(k) ~= nil then
    for d, v in pairs(k) do
      if type(d) ~= "string" or type(v) ~= "string" then
        argerror(n, fname, fmt("%s: a multi-dimensional key maps dimension names to strings", what))
      end
    end
    return PartitionKey.__tostring(k)
  end
  argerror(n, fname, fmt("%s: partition key (a string or a table of dimension keys) expected, got %s",
    what, k == "" and "an empty string" or type(k)))
end

-- check.partitions(spec, n, fname) -> {from =, to =} (a range, both ends included) or a
-- list of key strings, from a list of keys or a range table
function M.partitions(spec, n, fname)
  if type(spec) ~= "table" then
    argerror(n, fname, "partitions: a list of keys or a range {from =, to =} expected, got " ..
      typename(spec))
  end
  if spec.from ~= nil or spec.to ~= nil then
    for k in pairs(spec) do
      if k ~= "from" and k ~= "to" then argerror(n, fname, "partitions: a range has only from and to") end
    end
    return { from = M.partition_key(spec.from, n, fname, "partitions.from"),
             to = M.partition_key(spec.to, n, fname, "partitions.to") }
  end
  if #spec == 0 then argerror(n, fname, "partitions: no partition keys given") end
  for k in pairs(spec) do
    if math.type(k) ~= "integer" or k < 1 or k > #spec then
      argerror(n, fname, "partitions: a list of keys or a range {from =, to =} expected")
    end
  end
  local out = {}
  for i, k in ipairs(spec) do out[i] = M.partition_key(k, n, fname, fmt("partitions[%d]", i)) end
  return out
end

------------------------------------------------------------------------------------------
-- Methods called with a dot
------------------------------------------------------------------------------------------

-- check.methods(class, names): wraps each named function of class so that a call whose
-- first argument is not an instance of class (client.get_run(id): a dot for a colon) raises
--   bad argument #1 to 'get_run' (a dagster.Client expected, got string: call it with a
--   colon, client:get_run(...))
-- instead of a confusing error about the next argument.
function M.methods(class, names)
  local kind = class.__name or "object"
  for _, name in ipairs(names) do
    local f = rawget(class, name)
    if type(f) == "function" then
      rawset(class, name, function(self, ...)
        if getmetatable(self) ~= class then
          argerror(1, name, fmt("%s expected, got %s: call it with a colon, client:%s(...)",
            kind, typename(self), name))
        end
        return f(self, ...)
      end)
    end
  end
end

return M
