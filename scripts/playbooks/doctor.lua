-- doctor: find what is silently wrong with a deployment, and fix what is safe to fix.
--
--   dagster-lua play doctor [--fix] [--check NAME]... [--queued-for 10m] [--stuck-for 15m]
--       [--ticks 3] [--heartbeat 5m] [--grace 10s] [--json] [--metrics FILE]
--
-- The checks (--check picks some; default all):
--   pools       slots of a concurrency pool claimed by runs that have ended: every later run
--               of the pool waits forever (fix: free them)
--   backfills   backfills canceled or canceling with runs still queued or in flight (fix:
--               terminate those runs, forcing those that do not stop)
--   daemons     daemons unhealthy, or silent for longer than --heartbeat (Dagster calls a
--               daemon healthy for minutes after it died), or reporting errors
--   ticks       running schedules and sensors whose last --ticks ticks all failed (with the
--               last error; a tick under way is passed over), or that have not ticked for
--               more than two of their intervals
--   unloadable  running schedules and sensors whose code is gone (fix: stop them)
--   locations   code locations that fail to load, with the user code's own exception
--   queued      runs QUEUED for longer than --queued-for, with what holds them
--   stuck       runs STARTING or CANCELING for longer than --stuck-for (fix: terminate,
--               then force, as sweep does: pb:stop_runs)
--
-- Without --fix nothing changes. --fix makes the safe fixes, each a journaled step (a doctor
-- killed midway and resumed does not fix twice), and checks again (after min(--grace, 5s),
-- for the daemons to act on what was freed). A dozen requests in all,
-- whatever the number of runs (at most 1000 runs in flight are read).
--
-- Exit status: 0 healthy; 6 findings are left (after --fix: what it could not fix); 1 a
-- check could not run (the table says which and why); 5 the deployment cannot be reached
-- (the first check that meets it stops the others).
local playbook = require "dagster.playbook"
local dagster = require "dagster"

local fmt, concat = string.format, table.concat

local CHECKS = { "pools", "backfills", "daemons", "ticks", "unloadable", "locations", "queued",
  "stuck" }

local function age(t) return t and math.max(0, os.time() - t) or nil end
local function ago(t) return t and playbook.seconds(age(t)) .. " ago" or "never" end

-- Each check: function(ctx) -> list of findings {check, severity ("error" or "warning"),
-- subject, finding, evidence, fix = {action =, ...} or nil}. ctx: the client, the flags and
-- what several checks read (read once, on first use).
local check = {}

function check.pools(ctx)
  local out = {}
  for _, p in ipairs(ctx.queue().pools) do
    for _, e in ipairs(p.ended) do
      local steps = {}
      for _, c in ipairs(p.claimed) do if c.run_id == e.run_id then steps[#steps + 1] = c.step_key end end
      out[#out + 1] = { check = "pools", severity = "error", subject = "pool " .. p.pool,
        finding = fmt("%d slot(s) held by run %s, which has ended%s", #steps, e.run_id,
          e.status and " " .. e.status or " (deleted)"),
        evidence = fmt("steps %s; limit %s, %d claimed, %d pending", concat(steps, ", "),
          tostring(p.limit), #p.claimed, #p.pending),
        fix = { action = "free_slots", run_id = e.run_id, text = "free the run's slots" } }
    end
  end
  return out
end

function check.backfills(ctx)
  local out, by_backfill = {}, {}
  local q = ctx.queue()
  for _, list in ipairs { q.in_progress, q.queued } do
    for _, r in ipairs(list) do
      local b = r.tags["dagster/backfill"]
      if b then
        by_backfill[b] = by_backfill[b] or {}
        table.insert(by_backfill[b], { run_id = r.run_id, status = r.status or "QUEUED" })
      end
    end
  end
  if next(by_backfill) == nil then return out end
  for _, status in ipairs { "CANCELING", "CANCELED" } do
    for _, b in ipairs(ctx.client:backfills { status = status, limit = 100 }) do
      local runs = by_backfill[b.id]
      if runs then
        local ids = {}
        for i, r in ipairs(runs) do ids[i] = r.run_id .. " " .. r.status end
        out[#out + 1] = { check = "backfills", severity = "error", subject = "backfill " .. b.id,
          finding = fmt("%s, with %d run(s) still queued or in flight", status, #runs),
          evidence = fmt("%s; %s", concat(ids, ", "), b.job_name or concat(b.asset_keys, ",")),
          fix = { action = "cancel_backfill", backfill_id = b.id,
                  text = "terminate its runs, forcing those that do not stop" } }
      end
    end
  end
  return out
end

function check.daemons(ctx)
  local out = {}
  for _, d in ipairs(ctx.daemons()) do
    if d.required then
      local silent = not d.last_heartbeat or age(d.last_heartbeat) > ctx.flags.heartbeat
      if d.healthy == false or silent then
        out[#out + 1] = { check = "daemons", severity = "error", subject = "daemon " .. d.type,
          finding = d.healthy == false and "unhealthy" or
            fmt("no heartbeat for longer than %s", playbook.seconds(ctx.flags.heartbeat)),
          evidence = fmt("last heartbeat %s; Dagster says healthy = %s", ago(d.last_heartbeat),
            tostring(d.healthy)) }
      elseif #d.errors > 0 then
        out[#out + 1] = { check = "daemons", severity = "warning", subject = "daemon " .. d.type,
          finding = fmt("%d error(s) at its last heartbeat", #d.errors),
          evidence = playbook.headline(d.errors[1]) }
      end
    end
  end
  return out
end

function check.ticks(ctx)
  local out, n = {}, ctx.flags.ticks
  for _, kind in ipairs { "schedule", "sensor" } do
    -- one tick more than needed: the newest may be under way (STARTED), which says nothing
    -- yet (a daemon stopped or slow keeps it so), and is passed over
    for _, s in ipairs(ctx.client[kind .. "s"](ctx.client, { ticks = math.max(n, 2) + 1 })) do
      if s.status == "RUNNING" then
        local ticks = s.ticks or (s.last_tick and { s.last_tick }) or {}
        if ticks[1] and ticks[1].status == "STARTED" then ticks = { table.unpack(ticks, 2) } end
        local failed = 0
        for i = 1, math.min(n, #ticks) do
          if ticks[i].status == "FAILURE" then failed = failed + 1 end
        end
        local subject = fmt("%s %s (%s)", kind, s.name, s.location)
        if #ticks >= n and failed == n then
          out[#out + 1] = { check = "ticks", severity = "error", subject = subject,
            finding = fmt("its last %d tick(s) failed", n),
            evidence = "last error: " .. playbook.headline(ticks[1].error or "?") }
        elseif #ticks >= 2 then
          -- the interval: a sensor's minimum, a schedule's last two ticks apart
          local interval = kind == "sensor" and s.min_interval or (ticks[1].timestamp - ticks[2].timestamp)
          local since = age(ticks[1].timestamp)
          if interval and interval > 0 and since > 2 * math.max(interval, 30) then
            out[#out + 1] = { check = "ticks", severity = "warning", subject = subject,
              finding = fmt("no tick for %s, more than two of its intervals (%s)",
                playbook.seconds(since), playbook.seconds(interval)),
              evidence = fmt("last tick %s %s", ago(ticks[1].timestamp), ticks[1].status) }
          end
        end
      end
    end
  end
  return out
end

function check.unloadable(ctx)
  local out = {}
  for _, s in ipairs(ctx.client:unloadable_instigators()) do
    out[#out + 1] = { check = "unloadable", severity = "warning",
      subject = fmt("%s %s (%s)", s.kind, s.name, s.location),
      finding = "RUNNING, but its code is gone",
      evidence = fmt("instigator state %s in %s/%s", s.selector_id, s.location, s.repository),
      fix = { action = "stop", kind = s.kind, name = s.name, location = s.location,
              text = "stop it" } }
  end
  return out
end

function check.locations(ctx)
  local out = {}
  for _, l in ipairs(ctx.client:locations()) do
    if l.error then
      out[#out + 1] = { check = "locations", severity = "error", subject = "location " .. l.name,
        finding = "its code fails to load",
        evidence = (tostring(l.error):gsub("%s+$", ""):gsub("\n.*\n", " ... ")) }
    end
  end
  return out
end

function check.queued(ctx)
  local out = {}
  for _, r in ipairs(ctx.queue().queued) do
    if r.queued_for and r.queued_for > ctx.flags["queued-for"] then
      local why = {}
      for i, h in ipairs(r.held_by) do why[i] = h.text end
      out[#out + 1] = { check = "queued", severity = "warning", subject = "run " .. r.run_id,
        finding = fmt("QUEUED for %s (%s)", playbook.seconds(r.queued_for), r.job_name),
        evidence = #why > 0 and ("held by " .. concat(why, "; "))
          or "nothing the API shows holds it" }
    end
  end
  return out
end

function check.stuck(ctx)
  local out = {}
  for _, r in ipairs(ctx.queue().in_progress) do
    if r.status == "STARTING" or r.status == "CANCELING" then
      local since = r.update_time or r.start_time or r.creation_time
      if since and age(since) > ctx.flags["stuck-for"] then
        out[#out + 1] = { check = "stuck", severity = "error", subject = "run " .. r.run_id,
          finding = fmt("%s for %s (%s)", r.status, playbook.seconds(age(since)), r.job_name),
          evidence = fmt("last update %s", ago(since)),
          fix = { action = "sweep", run_id = r.run_id, text = "terminate it, then force" } }
      end
    end
  end
  return out
end

return playbook.define({
  name = "doctor",
  summary = "Find what is silently wrong with a deployment; --fix what is safe to fix",
  description = "Checks: " .. concat(CHECKS, ", ") .. ".\n" ..
    "Prints each finding with its evidence and the fix it would make; --fix makes the safe\n" ..
    "fixes (freeing pool slots, terminating runs, stopping instigators whose code is gone)\n" ..
    "and checks again. Status 0 healthy, 6 findings left, 1 a check could not run, 5 the\n" ..
    "deployment cannot be reached.",
  flags = {
    { name = "fix", type = "boolean", doc = "make the safe fixes, then check again" },
    { name = "check", type = "list", metavar = "NAME", doc = "only this check" },
    { name = "queued-for", type = "duration", metavar = "DURATION", default = "10m",
      doc = "a run QUEUED longer than this is a finding" },
    { name = "stuck-for", type = "duration", metavar = "DURATION", default = "15m",
      doc = "a run STARTING or CANCELING longer than this is a finding" },
    { name = "ticks", type = "integer", metavar = "N", default = "3",
      doc = "a schedule or sensor whose last N ticks failed is a finding" },
    { name = "heartbeat", type = "duration", metavar = "DURATION", default = "5m",
      doc = "a daemon silent for longer than this is a finding" },
    { name = "grace", type = "duration", metavar = "DURATION", default = "10s",
      doc = "how long a terminated run gets before it is forced" },
  },
}, function(pb)
  local f = pb.flags
  if f.ticks < 1 then pb:usage("--ticks: a positive integer expected") end
  local wanted = {}
  for _, name in ipairs(f.check) do
    if not check[name] then
      pb:usage(("--check %s: one of %s expected"):format(name, concat(CHECKS, ", ")))
    end
    wanted[name] = true
  end
  local names = {}
  for _, name in ipairs(CHECKS) do
    if next(wanted) == nil or wanted[name] then names[#names + 1] = name end
  end

  -- the gauges of --metrics: findings by check (-1: it could not run), and healthy
  local function gauges(counts, healthy)
    for _, name in ipairs(names) do
      pb:gauge("doctor_findings", "Findings of a doctor check (-1: the check could not run).",
        counts[name], { check = name })
    end
    pb:gauge("doctor_healthy", "1 when the last doctor found nothing.", healthy and 1 or 0)
  end

  -- an error that says the deployment itself cannot be examined, rather than one check
  local function cannot_examine(e)
    local code = playbook.code_of_error(e)
    return code == playbook.EXIT.UNREACHABLE or (code == playbook.EXIT.USAGE and e.not_graphql)
  end

  -- runs every check; returns findings, failures ({check, error}) and counts by check
  local function examine()
    -- one client:queue for every check that reads it; it carries the daemons' health, which
    -- the daemons check reads from it when it was made, else on its own
    local q
    local ctx = { client = pb.client, flags = f,
      queue = function()
        q = q or pb.client:queue { heartbeat = f.heartbeat }
        return q
      end,
      daemons = function() return q and q.daemons or pb.client:daemon_health() end }
    local findings, failures, counts = {}, {}, {}
    for _, name in ipairs(names) do
      local ok, res = pb:try(check[name], ctx)
      if ok then
        counts[name] = #res
        for _, x in ipairs(res) do findings[#findings + 1] = x end
      elseif cannot_examine(res) then
        -- the deployment cannot be reached (or is no Dagster): no other check would get
        -- further, each after its own retries; the runner says why once (status 5 or 4)
        for _, n in ipairs(names) do counts[n] = -1 end
        gauges(counts, false)
        error(res, 0)
      else
        counts[name] = -1
        failures[#failures + 1] = { check = name, error = playbook.headline(res) }
      end
    end
    return findings, failures, counts
  end

  -- the table of findings (with --json, each row an event too)
  local function report(findings, failures, title)
    local rows = {}
    for _, x in ipairs(findings) do
      rows[#rows + 1] = { x.check, x.severity, x.subject, x.finding, x.evidence or "",
        x.fix and (f.fix and x.fix.text or "would " .. x.fix.text) or "-" }
    end
    for _, x in ipairs(failures) do
      rows[#rows + 1] = { x.check, "failed", "-", "the check could not run", x.error, "-" }
    end
    pb:event { event = "examined", title = title, findings = #findings, failures = #failures }
    if #rows == 0 then
      pb:say("%s: nothing found (%s)", title, concat(names, ", "))
      return
    end
    pb:say("%s:", title)
    pb:table({ "CHECK", "SEVERITY", "SUBJECT", "FINDING", "EVIDENCE", "FIX" }, rows)
  end

  local findings, failures, counts = examine()
  report(findings, failures, "doctor")

  if f.fix then
    local fixes = {}
    for _, x in ipairs(findings) do if x.fix then fixes[#fixes + 1] = x end end
    for _, x in ipairs(fixes) do
      local fx = x.fix
      pb:step("fix: " .. fx.action .. " " .. (fx.run_id or fx.backfill_id or fx.name), fx, function()
        if fx.action == "free_slots" then
          return pb.client:free_concurrency_slots(fx.run_id) and "freed"
        elseif fx.action == "cancel_backfill" then
          local _, r = pb.client:cancel_backfill(fx.backfill_id,
            { terminate_runs = true, grace = f.grace })
          return fmt("%d terminated, %d forced, %d left", #r.terminated, #r.forced, #r.left)
        elseif fx.action == "stop" then
          return pb.client["stop_" .. fx.kind](pb.client, fx.name, { location = fx.location })
        elseif fx.action == "sweep" then
          local r = pb:stop_runs({ fx.run_id }, { grace = f.grace })
          if r == nil then return nil end   -- a dry run
          if #r.left > 0 then error(fmt("run %s did not stop, even forced", fx.run_id), 0) end
          return #r.forced > 0 and "forced" or #r.terminated > 0 and "stopped" or "ended already"
        end
      end)
    end
    if #fixes > 0 then
      -- a moment for the daemons to act on what was freed (a queued run held by a pool)
      dagster.sleep(math.min(f.grace, 5))
      pb:say("")
      findings, failures, counts = examine()
      report(findings, failures, "after the fixes")
    end
  end

  local errors = 0
  for _, x in ipairs(findings) do if x.severity == "error" then errors = errors + 1 end end
  local healthy = #findings == 0 and #failures == 0
  gauges(counts, healthy)
  if #failures > 0 then
    local which = {}
    for i, x in ipairs(failures) do which[i] = x.check .. ": " .. x.error end
    pb:exit(playbook.EXIT.FAILURE, ("%d check(s) could not run: %s"):format(#failures,
      concat(which, "; ")))
  end
  if #findings > 0 then
    pb:exit(playbook.EXIT.PARTIAL, ("%d finding(s) left (%d error(s))"):format(#findings, errors))
  end
  pb:say("healthy")
  return 0
end)
