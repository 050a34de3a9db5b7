-- dagster.automation: a deployment's automation state as a snapshot file, for the freeze and
-- thaw playbooks (scripts/playbooks/freeze.lua, thaw.lua).
--
--   automation.read_state(client, filter) -> snapshot: the schedules and sensors that match
--       filter ({location =, match = GLOB, schedules = bool, sensors = bool, automation = bool}),
--       each with its status (and a running sensor's cursor), and the auto-materialize switch
--       when filter.automation
--   automation.write(path, snapshot)      writes it as JSON, durably: a temporary file fsynced,
--       then renamed over path
--   automation.read(path)                 -> snapshot, or nil and a message (and "missing"
--       when there is no such file)
--   automation.default_path(url)          -> the snapshot's file in the state directory, one
--       per deployment URL
--   automation.pools(client) / automation.set_pool(client, key, slots or nil)
--                                         the concurrency pools {[key] = slots}
--   automation.diff(want, have [, opts])  -> the changes that make have match want
--   automation.statuses(client [, location]) -> {[automation.key(kind, s)] = status}
--   automation.settle(client, wanted [, location]) -> {[key] = "again" | "failed: ..."}:
--       makes status changes hold (see below)
--   automation.glob(pattern)              -> a Lua pattern that matches what the shell glob
--       matches (* any run of characters, ? one, [abc] a class), anchored
--
-- A snapshot is a JSON object: {kind, version, url, taken (epoch seconds), filter, schedules =
-- {{name, location, repository, status}}, sensors = {{..., cursor}}, auto_materialize_paused
-- (with filter.automation), pools ({[key] = slots}, with filter.pools), thawed (false, then
-- the time of the thaw)}. filter.cursors records every sensor's cursor, not only a running one's.

local json = require "dagster.json"
local file = require "dagster.file"
local journal = require "dagster.playbook.journal"
local concurrent = require "dagster.concurrent"
local E = require "dagster.error"
local term = require "dagster.term"

local fmt = string.format

local M = {}

M.KIND = "dagster-lua automation snapshot"
M.VERSION = 1

function M.glob(pattern)
  local out, i = { "^" }, 1
  while i <= #pattern do
    local c = pattern:sub(i, i)
    if c == "*" then out[#out + 1] = ".*"
    elseif c == "?" then out[#out + 1] = "."
    elseif c == "[" and pattern:find("]", i + 1, true) then
      local j = pattern:find("]", i + 1, true)
      local body = pattern:sub(i + 1, j - 1):gsub("^!", "^"):gsub("%%", "%%%%")
      out[#out + 1] = "[" .. body .. "]"
      i = j
    else
      out[#out + 1] = c:gsub("%p", "%%%0")
    end
    i = i + 1
  end
  out[#out + 1] = "$"
  return table.concat(out)
end

-- automation.key(kind, s) -> "schedule LOCATION/REPOSITORY/NAME": an instigator's key in statuses
function M.key(kind, s) return kind .. " " .. s.location .. "/" .. s.repository .. "/" .. s.name end

-- automation.statuses(client [, location]) -> {[key] = status}: every schedule's and sensor's
-- status now (of that location only, when given)
function M.statuses(client, location)
  local out = {}
  for _, kind in ipairs { "schedule", "sensor" } do
    for _, s in ipairs(client[kind .. "s"](client, { location = location })) do
      out[M.key(kind, s)] = s.status
    end
  end
  return out
end

-- Makes status changes hold. Dagster's daemons write back the status they read when a tick
-- or an iteration began (a sensor's tick under way at a stop, the scheduler's first iteration
-- over a schedule just started), so a change can be undone a moment after the server
-- answered it. Each of `wanted` ({kind, name, location, repository, status = "RUNNING" or
-- "STOPPED"}) is read again a second later and changed again when it is not as wanted,
-- three rounds at most. Returns what was changed again: {[automation.key] = "again"}, or
-- "failed: message" when the change was refused. An interruption is raised.
function M.settle(client, wanted, location)
  local out = {}
  if #wanted == 0 then return out end
  for _ = 1, 3 do
    concurrent.sleep(1)
    local now, flipped = M.statuses(client, location), 0
    for _, w in ipairs(wanted) do
      local key = M.key(w.kind, w)
      if now[key] ~= nil and now[key] ~= w.status then
        flipped = flipped + 1
        local verb = w.status == "RUNNING" and "start_" or "stop_"
        local ok, e = pcall(client[verb .. w.kind], client, w.name,
          { location = w.location, repository = w.repository })
        if not ok and (not E.is(e) or E.is(e, "Interrupted")) then error(e, 0) end
        out[key] = ok and "again" or ("failed: " .. term.headline(e))
      end
    end
    if flipped == 0 then break end
  end
  return out
end

function M.default_path(url)
  local host = (url:match("^%a+://([^/]+)") or "deployment"):gsub("[^%w%.%-]", "_")
  return fmt("%s/snapshots/%s-%s.json", journal.state_dir(), host, journal.hash(url))
end

-- the instigators of one kind that match the filter, sorted by location and name
local function matching(list, filter, pattern)
  local out = {}
  for _, s in ipairs(list) do
    if (filter.location == nil or s.location == filter.location)
       and (pattern == nil or s.name:find(pattern)) then
      out[#out + 1] = s
    end
  end
  table.sort(out, function(a, b)
    if a.location ~= b.location then return a.location < b.location end
    return a.name < b.name
  end)
  return out
end

function M.read_state(client, filter)
  local pattern = filter.match and M.glob(filter.match)
  local both = not filter.schedules and not filter.sensors
  local snap = { kind = M.KIND, version = M.VERSION, url = client.url, taken = os.time(),
                 filter = filter, schedules = json.array(), sensors = json.array(), thawed = false }
  if both or filter.schedules then
    for _, s in ipairs(matching(client:schedules(), filter, pattern)) do
      snap.schedules[#snap.schedules + 1] = { name = s.name, location = s.location,
        repository = s.repository, status = s.status }
    end
  end
  if both or filter.sensors then
    for _, s in ipairs(matching(client:sensors(), filter, pattern)) do
      local t = { name = s.name, location = s.location, repository = s.repository, status = s.status }
      if s.status == "RUNNING" or filter.cursors then  -- thaw --restore-cursors puts it back
        t.cursor = client:sensor(s.name, { location = s.location, repository = s.repository,
                                           ticks = 1 }).cursor
      end
      snap.sensors[#snap.sensors + 1] = t
    end
  end
  if filter.automation then snap.auto_materialize_paused = client:auto_materialize_paused() end
  if filter.pools then snap.pools = M.pools(client) end
  return snap
end

-- the instance's concurrency pools: {[key] = slots}, or nil where the server has none
-- (client:instance, then client:concurrency_pools)
function M.pools(client)
  if client:instance().pools_supported ~= true then return nil end
  local out = {}
  for _, p in ipairs(client:concurrency_pools()) do out[p.pool] = p.slot_count end
  return out
end

function M.set_pool(client, key, slots)
  if slots == nil then return client:delete_concurrency_limit(key) end
  return client:set_concurrency_limit(key, slots)
end

-- automation.diff(want, have [, {cursors = false}]) -> the changes that make `have` (a
-- deployment's state now) match `want` (a file), each {kind, name, location, repository,
-- field, want, have}: kind "schedule", "sensor", "automation" or "pool"; field "status",
-- "cursor", "missing" (in the file, not in the deployment: nothing can make it so),
-- "paused" or "slots". An instigator of the deployment that the file does not name is left
-- alone (the file may be of a subset). In order: instigators by kind, location and name,
-- then auto-materialize, then the pools by key.
function M.diff(want, have, opts)
  local cursors = not (opts and opts.cursors == false)
  local out = {}
  for _, kind in ipairs { "schedule", "sensor" } do
    local now = {}
    for _, s in ipairs(have[kind .. "s"]) do now[s.location .. "/" .. s.name] = s end
    for _, w in ipairs(want[kind .. "s"]) do
      local h = now[w.location .. "/" .. w.name]
      local base = { kind = kind, name = w.name, location = w.location, repository = w.repository }
      local function change(field, a, b)
        local c = { field = field, want = a, have = b }
        for k, v in pairs(base) do c[k] = v end
        out[#out + 1] = c
      end
      if h == nil then
        change("missing", w.status, nil)
      else
        base.repository = h.repository
        if h.status ~= w.status then change("status", w.status, h.status) end
        if kind == "sensor" and cursors and w.cursor ~= h.cursor then change("cursor", w.cursor, h.cursor) end
      end
    end
  end
  if want.auto_materialize_paused ~= nil and have.auto_materialize_paused ~= nil
     and want.auto_materialize_paused ~= have.auto_materialize_paused then
    out[#out + 1] = { kind = "automation", name = "auto-materialize", field = "paused",
                      want = want.auto_materialize_paused, have = have.auto_materialize_paused }
  end
  if type(want.pools) == "table" and type(have.pools) == "table" then
    local keys, seen = {}, {}
    for k in pairs(want.pools) do keys[#keys + 1], seen[k] = k, true end
    for k in pairs(have.pools) do if not seen[k] then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do
      if want.pools[k] ~= have.pools[k] then
        out[#out + 1] = { kind = "pool", name = k, field = "slots", want = want.pools[k],
                          have = have.pools[k] }
      end
    end
  end
  return out
end

-- the snapshot as JSON a person can read and diff: a key per line, an instigator per line
local function encode(snap)
  local keys = {}
  for k in pairs(snap) do keys[#keys + 1] = k end
  table.sort(keys)
  local lines = {}
  for _, k in ipairs(keys) do
    local v = snap[k]
    if type(v) == "table" and (k == "schedules" or k == "sensors") then
      if #v == 0 then
        lines[#lines + 1] = fmt("  %s: []", json.encode(k))
      else
        local items = {}
        for i, s in ipairs(v) do items[i] = "    " .. json.encode(s) end
        lines[#lines + 1] = fmt("  %s: [\n%s\n  ]", json.encode(k), table.concat(items, ",\n"))
      end
    else
      lines[#lines + 1] = fmt("  %s: %s", json.encode(k), json.encode(v))
    end
  end
  return "{\n" .. table.concat(lines, ",\n") .. "\n}\n"
end

function M.write(path, snap)
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then file.mkdirs(dir) end
  local tmp = path .. ".tmp"
  os.remove(tmp)
  file.append(tmp, encode(snap))    -- fsynced, with its directory
  local ok, err = os.rename(tmp, path)
  if not ok then error(fmt("%s: %s", path, err), 0) end
end

function M.read(path)
  local text, err, missing = file.read(path)
  if not text then
    if not missing then return nil, err end
    return nil, fmt("no snapshot at %s: play freeze writes one (or pass --snapshot FILE)", path), "missing"
  end
  local ok, snap
  if path:find("%.ya?ml$") then   -- a file edited as YAML (JSON is YAML too)
    ok, snap = pcall(require("dagster.yaml").decode, text, path)
    if not ok then return nil, tostring(snap) end
  else
    ok, snap = pcall(json.decode, text)
  end
  if not ok or type(snap) ~= "table" or snap.kind ~= M.KIND then
    return nil, fmt("%s: not an automation snapshot (written by play freeze)", path)
  end
  if snap.version ~= M.VERSION then
    return nil, fmt("%s: snapshot version %s, this dagster-lua reads %d", path,
      tostring(snap.version), M.VERSION)
  end
  for _, k in ipairs { "schedules", "sensors" } do
    if type(snap[k]) ~= "table" then return nil, fmt("%s: no %s list", path, k) end
    for i, s in ipairs(snap[k]) do
      if type(s) ~= "table" or type(s.name) ~= "string" or type(s.location) ~= "string"
         or type(s.repository) ~= "string" or type(s.status) ~= "string" then
        return nil, fmt("%s: %s[%d] is not {name, location, repository, status}", path, k, i)
      end
    end
  end
  if type(snap.url) ~= "string" then return nil, fmt("%s: no url", path) end
  return snap
end

return M
