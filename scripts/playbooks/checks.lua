-- checks: run asset checks, without materializing, and exit by their outcome.
--
--   dagster-lua play checks [ASSET...] [--check ASSET:NAME]... [--group G] [--failing]
--       [--tag K=V]... [--timeout 30m] [--dry-run] [--json]
--
-- Which checks: every check of each ASSET ("a/b"), each --check, every check of the --group's
-- assets, and with --failing every check whose last execution did not pass (FAILED or
-- EXECUTION_FAILED). Several selections add up; none at all is a usage error, as is an
-- asset or a check the deployment does not have. A check that runs only with its asset's
-- materialization is left out and said so.
--
-- The list is journaled, then the checks run in one run per code location (each launch
-- journaled and made once: resumed, the playbook finds the runs it launched), then the
-- playbook waits for the runs (one query per poll for all of them, --timeout) and prints a
-- table of asset, check, status, severity and description.
--
-- Exit status: 0 every check passed; 1 a check of severity ERROR failed, or a check did not
-- run to its end (EXECUTION_FAILED, SKIPPED); 6 only WARN checks failed; 2 a run was
-- canceled; 3 --timeout.
local playbook = require "dagster.playbook"
local dagster = require "dagster"

local fmt, concat = string.format, table.concat

return playbook.define({
  name = "checks",
  summary = "Run asset checks without materializing, and exit by their outcome",
  description = "Runs the checks of the ASSETs, the --check ones, those of a --group's assets\n" ..
    "and with --failing those whose last execution did not pass: one run per code location.\n" ..
    "Status 0: all passed; 1: an ERROR check failed (or did not run); 6: only WARN checks failed.",
  args = {
    { name = "assets", doc = "run every check of these assets (a/b)", optional = true, multiple = true },
  },
  flags = {
    { name = "check", type = "list", metavar = "ASSET:NAME", doc = "run this check" },
    { name = "group", type = "string", metavar = "G", doc = "run the checks of this group's assets" },
    { name = "failing", type = "boolean", doc = "run the checks whose last execution did not pass" },
    { name = "tag", type = "list", metavar = "K=V", doc = "a tag of the check runs" },
    { name = "timeout", type = "duration", metavar = "DURATION", default = "30m", watch = true,
      doc = "how long to wait for the runs (0: no limit)" },
  },
}, function(pb)
  local f, a = pb.flags, pb.args
  local EXIT = playbook.EXIT
  local assets = a.assets or {}
  local tags = pb:tags(f.tag)
  if #assets == 0 and #f.check == 0 and not f.group and not f.failing then
    pb:usage("which checks? name ASSETs, --check ASSET:NAME, --group G or --failing")
  end

  -- 1. The checks, listed once: a resumed playbook runs the same ones.
  local chosen = pb:step("list the checks", { assets = assets, check = f.check, group = f.group,
      failing = f.failing or false }, function()
    local all = pb.client:asset_checks()
    local by_id, pick, order = {}, {}, dagster.array()
    for _, c in ipairs(all) do by_id[c.asset .. ":" .. c.name] = c end
    local function take(c)
      local id = c.asset .. ":" .. c.name
      if not pick[id] then pick[id] = true; order[#order + 1] = c end
    end
    for _, key in ipairs(assets) do
      local found = false
      for _, c in ipairs(all) do
        if c.asset == key then found = true; take(c) end
      end
      if not found then pb:usage(fmt("asset %s has no checks (or no such asset)", key)) end
    end
    for _, id in ipairs(f.check) do
      local c = by_id[id]
      if not c then pb:usage(fmt("--check %s: no such check (ASSET:NAME, e.g. a/b:no_nulls)", id)) end
      take(c)
    end
    for _, c in ipairs(all) do
      if f.group and c.group == f.group then take(c) end
      local last = c.last and c.last.status
      if f.failing and (last == "FAILED" or last == "EXECUTION_FAILED") then take(c) end
    end
    -- by code location; the ones that run only with their asset are left out
    local places, alone = {}, dagster.array()
    for _, c in ipairs(order) do
      if c.can_execute then
        local where = c.location .. "/" .. c.repository
        local p = places[where]
        if not p then
          p = { location = c.location, repository = c.repository, checks = dagster.array() }
          places[where] = p
        end
        p.checks[#p.checks + 1] = c.asset .. ":" .. c.name
      else
        alone[#alone + 1] = c.asset .. ":" .. c.name
      end
    end
    local list = dagster.array()
    for _, p in pairs(places) do list[#list + 1] = p end
    table.sort(list, function(x, y) return x.location .. "/" .. x.repository < y.location .. "/" .. y.repository end)
    return { places = list, alone = alone }
  end)
  if #chosen.alone > 0 then
    pb:say("left out (they run only with their asset's materialization): %s", concat(chosen.alone, ", "))
  end
  if #chosen.places == 0 then
    pb:say("no check to run")
    return 0
  end

  -- 2. One run per code location, each made once.
  local runs = pb:step("run the checks", function()
    local ids = dagster.array()
    for _, p in ipairs(chosen.places) do
      local where = p.location .. "/" .. p.repository
      ids[#ids + 1] = pb:launch(fmt("run %d check(s) in %s: %s", #p.checks, where,
        concat(p.checks, ", ")), function(sid)
        return pb.client:execute_checks(p.checks, { location = p.location,
          repository = p.repository, tags = tags, submission_id = sid })
      end, { key = where })
    end
    return ids
  end)
  if pb.dry_run then return 0 end

  -- 3. Wait for them, then read their outcome.
  local finals = pb.client:wait_for_runs(runs, { timeout = f.timeout })
  local rows, failed_error, failed_warn, passed = {}, 0, 0, 0
  for _, id in ipairs(runs) do
    for _, r in ipairs(pb.client:check_results(id)) do
      local status = r.status
      if status == "SUCCEEDED" then passed = passed + 1
      elseif status == "FAILED" and r.severity == "WARN" then failed_warn = failed_warn + 1
      else failed_error = failed_error + 1 end
      rows[#rows + 1] = { r.asset, r.name, pb:paint(status == "SUCCEEDED" and "32"
        or (status == "FAILED" and r.severity == "WARN") and "33" or "31", status),
        r.severity or "-", (r.description or ""):match("[^\n]*") }
    end
  end
  pb:table({ "ASSET", "CHECK", "STATUS", "SEVERITY", "DESCRIPTION" }, rows)
  pb:say("%d passed, %d failed (ERROR or not run), %d failed (WARN)", passed, failed_error, failed_warn)
  pb:gauge("checks_passed", "asset checks that passed", passed)
  pb:gauge("checks_failed", "asset checks that failed, by severity", failed_error, { severity = "ERROR" })
  pb:gauge("checks_failed", "asset checks that failed, by severity", failed_warn, { severity = "WARN" })
  for _, id in ipairs(runs) do
    if finals[id] == "CANCELED" then return EXIT.CANCELED end
  end
  if failed_error > 0 then return EXIT.FAILURE end
  if failed_warn > 0 then return EXIT.PARTIAL end
  return 0
end)
