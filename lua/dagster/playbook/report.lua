-- dagster.playbook.report: what a playbook tells the world when it ends, for the runs nobody
-- watches: a notification (--notify URL, --notify-env NAME) and Prometheus metrics
-- (--metrics FILE).
--
--   report.document(pb, code, message, summary) -> the JSON document of a notification
--   report.notify(pb, doc)                       POSTs it where --notify says, when --notify-on
--                                                says; a failure is a warning line, never an
--                                                exit status
--   report.metrics(pb, doc, path)                writes the metrics, pb:gauge's after the
--                                                common ones (a temporary file, then
--                                                rename, as node_exporter's textfile
--                                                collector wants)
--
-- A webhook URL may hold a secret (Slack's do): it is never printed, journaled or put in a
-- document; a notification that fails names it as scheme://host, or as $NAME.

local json = require "dagster.json"
local http = require "dagster.http"
local E = require "dagster.error"
local check = require "dagster.check"
local term = require "dagster.term"
local sys = require "dagster.sys"
local exit = require "dagster.playbook.exit"

local fmt, concat = string.format, table.concat

local M = {}

M.TIMEOUT = 10        -- seconds for all the attempts of one notification
M.ATTEMPTS = 3

-- the summary rows of the steps, as the summary table shows them
local function rows_of(pb)
  local rows = json.array()
  for i, s in ipairs(pb.steps) do
    local r = s.status == "failed" and s.error or s.result
    if type(r) == "table" and not E.is(r) then r = json.encode(r) end
    rows[i] = { step = s.name, result = s.status or "stopped", time = s.duration,
                detail = r ~= nil and term.headline(r):sub(1, 200) or nil }
  end
  return rows
end

local function ids(s, pick)
  local out = json.array()
  for _, l in ipairs(s.launches or {}) do
    if pick(l) then out[#out + 1] = l.id end
  end
  return out
end

-- report.document(pb, code, message, summary): summary is the journal's (journal.summary),
-- or nil for a run that keeps no journal
function M.document(pb, code, message, summary)
  local s = summary or { launches = {}, terminated_runs = {} }
  local launched = ids(s, function(l) return l.action ~= "reexecute" and l.kind ~= "backfill" end)
  local reexecuted = ids(s, function(l) return l.action == "reexecute" end)
  local backfills = ids(s, function(l) return l.kind == "backfill" end)
  local terminated = json.array()
  for i, id in ipairs(s.terminated_runs or {}) do terminated[i] = id end
  local duration = os.time() - (pb.started or os.time())
  local meaning = exit.meaning(code)
  local words = {}
  if #launched > 0 then words[#words + 1] = fmt("%d launched", #launched) end
  if #reexecuted > 0 then words[#words + 1] = fmt("%d re-executed", #reexecuted) end
  if #backfills > 0 then words[#words + 1] = fmt("%d backfill(s)", #backfills) end
  if #terminated > 0 then words[#words + 1] = fmt("%d terminated", #terminated) end
  local text = fmt("dagster-lua play %s on %s: exit %d (%s) after %s%s%s", pb.name,
    tostring(pb.host), code, meaning, term.seconds(duration),
    #words > 0 and "; " .. concat(words, ", ") or "",
    message and ("; " .. term.headline(message)) or "")
  return {
    playbook = pb.name, argv = pb.argv, host = pb.host, journal = pb.journal.off and json.null
      or pb.journal.path, exit_status = code, meaning = meaning, message = message,
    started = pb.started, duration = duration, dry_run = pb.dry_run or nil,
    steps = rows_of(pb), runs_launched = launched, runs_reexecuted = reexecuted,
    backfills_launched = backfills, runs_terminated = terminated, text = text,
  }
end

-- the notification targets: {url, shown} each (shown: how a message may name it)
local function targets(pb)
  local out = {}
  for _, url in ipairs(pb.flags.notify) do
    -- scheme and host: never the path (a webhook's secret) nor a user:password@
    local bare = check.without_userinfo(url)
    out[#out + 1] = { url = url, shown = bare:match("^(https?://[^/?#]+)") or "a URL" }
  end
  for _, var in ipairs(pb.flags["notify-env"]) do
    out[#out + 1] = { url = os.getenv(var) or "", shown = "$" .. var }
  end
  return out
end

-- whether --notify-on says to notify for this exit status
local function wanted(pb, code)
  local on = pb.flags["notify-on"]
  if on == "always" then return true end
  if on == "failure" then return code ~= 0 end
  return pb.previous_code ~= code      -- change: the first run counts as one
end

local RETRY_STATUS = { [429] = true, [502] = true, [503] = true, [504] = true }

-- one POST, tried up to ATTEMPTS times within TIMEOUT: true, or false and why (no URL in it)
local function post(session, url, body)
  local t0, why, tried = sys.now(), nil, 0
  for n = 1, M.ATTEMPTS do
    local left = M.TIMEOUT - (sys.now() - t0)
    if left <= 0 then break end
    tried = n
    local status, res = session:post(url, body, true, left)
    if status and status >= 200 and status < 300 then return true end
    if status then
      why = fmt("HTTP %d", status)
      if not RETRY_STATUS[status] then return false, why end
    else
      why = E.is(res) and res.name or "a transport error"
      if not (E.is(res) and res.transient) then return false, why end
    end
    if n < M.ATTEMPTS then http.sleep(math.min(0.5 * n, math.max(0, M.TIMEOUT - (sys.now() - t0)))) end
  end
  -- (a timeout can take all the time there is: then fewer attempts were made)
  return false, fmt("%s, after %d attempt%s", why or "no time left", tried, tried == 1 and "" or "s")
end

function M.notify(pb, doc)
  local list = targets(pb)
  if #list == 0 or not wanted(pb, doc.exit_status) then return end
  local body = json.encode(doc)
  local session = http.session { timeout = M.TIMEOUT, connect_timeout = 5,
    user_agent = "dagster-lua-notify" }
  for _, t in ipairs(list) do
    local ok, sent, why = pcall(post, session, t.url, body)
    if not ok then sent, why = false, E.is(sent) and sent.name or "an error" end
    if not sent then
      io.stderr:write(fmt("play %s: warning: the notification to %s was not sent (%s)\n",
        pb.name, t.shown, why))
      io.stderr:flush()
    end
  end
  session:close()
end

-- a label value in the exposition format: backslash, quote and newline escaped
local function label(v)
  return '"' .. tostring(v):gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n") .. '"'
end

local METRICS = {
  { "last_exit_status", "gauge", "The exit status of the playbook's last run.", "exit_status" },
  { "last_start_timestamp_seconds", "gauge", "When the last run started, in Unix time.", "started" },
  { "last_duration_seconds", "gauge", "How long the last run took.", "duration" },
  { "last_success", "gauge", "1 when the last run exited 0.", "success" },
  { "runs_launched", "gauge", "Runs the last run launched.", "runs_launched" },
  { "runs_reexecuted", "gauge", "Runs the last run re-executed.", "runs_reexecuted" },
  { "runs_terminated", "gauge", "Runs the last run terminated.", "runs_terminated" },
  { "backfills_launched", "gauge", "Backfills the last run launched.", "backfills_launched" },
}

function M.metrics(pb, doc, path)
  local journal = pb.journal.path:match("([^/]*)$"):gsub("%.jsonl$", "")
  local labels = fmt("playbook=%s,journal=%s", label(pb.name), label(journal))
  local values = { exit_status = doc.exit_status, started = doc.started, duration = doc.duration,
    success = doc.exit_status == 0 and 1 or 0, runs_launched = #doc.runs_launched,
    runs_reexecuted = #doc.runs_reexecuted, runs_terminated = #doc.runs_terminated,
    backfills_launched = #doc.backfills_launched }
  local out = {}
  for _, m in ipairs(METRICS) do
    local name = "dagster_lua_playbook_" .. m[1]
    out[#out + 1] = fmt("# HELP %s %s", name, m[3])
    out[#out + 1] = fmt("# TYPE %s %s", name, m[2])
    out[#out + 1] = fmt("%s{%s} %s", name, labels, fmt("%.17g", values[m[4]] or 0))
  end
  -- the playbook's own gauges (pb:gauge), HELP and TYPE once per name
  local seen = {}
  for _, g in ipairs(pb.gauges or {}) do
    local name = "dagster_lua_" .. g.name
    if not seen[name] then
      seen[name] = true
      out[#out + 1] = fmt("# HELP %s %s", name, g.help)
      out[#out + 1] = fmt("# TYPE %s gauge", name)
    end
    local ls = { labels }
    local keys = {}
    for k in pairs(g.labels or {}) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do ls[#ls + 1] = fmt("%s=%s", k, label(g.labels[k])) end
    out[#out + 1] = fmt("%s{%s} %s", name, concat(ls, ","), fmt("%.17g", g.value))
  end
  local tmp = fmt("%s.tmp.%d", path, sys.pid())
  local f, err = io.open(tmp, "w")
  if f then
    f:write(concat(out, "\n"), "\n")
    f:close()
    local ok
    ok, err = os.rename(tmp, path)
    if ok then return true end
    os.remove(tmp)
  end
  io.stderr:write(fmt("play %s: warning: --metrics %s was not written: %s\n", pb.name, path,
    tostring(err)))
  return false
end

return M
