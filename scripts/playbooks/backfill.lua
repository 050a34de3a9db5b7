-- backfill: launch a backfill, follow it to the end, and say how it went.
--
--   dagster-lua play backfill (--job J | --asset K...) (--partitions A,B | --from A --to B | --all)
--       [--from-failure] [--tag k=v]... [--location L] [--repository R] [--timeout 1h]
--       [--no-wait]
--
-- The partitions are checked against the job's or the first asset's partitions before
-- anything is launched (client:check_partitions: a key or range end that does not exist is
-- a usage error, status 4). --dry-run lists the partitions it would launch. The launch is
-- journaled and made once: resumed after a crash, the playbook finds the backfill it
-- launched and follows it. While it runs, a terminal shows one live line; otherwise one
-- line per change of status or counts. At the end, a table: partition, run, status.
--
-- Exit status: 0 when every partition succeeded; 6 when some failed and some succeeded;
-- 1 when none succeeded (or the backfill failed); 2 when it was canceled; 3 at --timeout
-- (the backfill goes on); else the usual table.
local playbook = require "dagster.playbook"
local dagster = require "dagster"

return playbook.define({
  name = "backfill",
  summary = "Launch a backfill over partitions and follow it to the end",
  flags = {
    { name = "job", type = "string", metavar = "J", doc = "backfill this partitioned job" },
    { name = "asset", type = "list", metavar = "K", doc = "backfill this asset (a/b); repeat for more" },
    { name = "partitions", type = "string", metavar = "A,B", doc = "these partition keys" },
    { name = "from", type = "string", metavar = "A", doc = "the first partition of a range" },
    { name = "to", type = "string", metavar = "B", doc = "the last partition of a range" },
    { name = "all", type = "boolean", doc = "every partition" },
    { name = "from-failure", type = "boolean", doc = "a job backfill: re-execute each partition's failed run from failure" },
    { name = "tag", type = "list", metavar = "K=V", doc = "a backfill tag" },
    { name = "location", type = "string", metavar = "L", doc = "the job's code location" },
    { name = "repository", type = "string", metavar = "R", doc = "the job's repository" },
    { name = "timeout", type = "duration", metavar = "DURATION", default = "1h", watch = true,
      doc = "stop following after this long (30m, 2h; 0: no limit); the backfill goes on" },
    { name = "no-wait", type = "boolean", watch = true, doc = "launch it and leave" },
  },
}, function(pb)
  local f = pb.flags
  local EXIT = playbook.EXIT

  if (f.job == nil) == (#f.asset == 0) then pb:usage("give either --job or --asset") end
  local ways = (f.partitions and 1 or 0) + ((f.from or f.to) and 1 or 0) + (f.all and 1 or 0)
  if ways ~= 1 then pb:usage("give one of --partitions, --from/--to or --all") end
  if (f.from == nil) ~= (f.to == nil) then pb:usage("--from and --to go together") end
  local keys
  if f.partitions then
    keys = {}
    for k in f.partitions:gmatch("[^,]+") do keys[#keys + 1] = k end
    if #keys == 0 then pb:usage("--partitions: no partition keys in " .. f.partitions) end
  end
  local tags = pb:tags(f.tag)

  -- Which partitions: checked with the server, before anything is launched.
  local target = f.job or f.asset[1]
  local checked = pb:step("check the partitions", { target = target, partitions = f.partitions,
      from = f.from, to = f.to, all = f.all }, function()
    local spec = f.all or keys or { from = f.from, to = f.to }
    -- what the flag said it is: a job (--job) or an asset key (--asset), never guessed
    local keys, where = pb.client:check_partitions(f.job and { job = f.job } or { asset = target }, spec,
      { location = f.location, repository = f.repository })
    local shown = #keys > 8 and (table.concat(keys, ", ", 1, 4) .. ", ... " .. keys[#keys])
      or table.concat(keys, ", ")
    pb:say("  %d partitions of %s: %s", #keys, target, shown)
    return { keys = keys, location = where.location, repository = where.repository }
  end)
  local names = checked.keys

  -- Launch it, once (the job's place as the check found it: nothing is looked up again).
  local id = pb:step("launch the backfill", { partitions = names, tags = tags }, function()
    return pb:backfill { job = f.job, assets = f.job == nil and f.asset or nil,
      partitions = names, tags = tags,
      from_failure = f["from-failure"] or nil,
      location = checked.location or f.location, repository = checked.repository or f.repository }
  end)
  if pb.dry_run or f["no-wait"] then pb:exit(EXIT.OK) end

  -- Follow it: a live line on a terminal, else one line per change.
  local live = dagster.isatty(2) and not pb.json
  local final = pb:step("follow backfill " .. id, function()
    local status, b = pb.client:wait_for_backfill(id, {
      timeout = f.timeout, progress = live, max_interval = 2,
      on_progress = not live and function(p)
        local c = p.counts
        pb:say("  %s  %s: %d succeeded, %d failed, %d running, %d pending of %d", os.date("%H:%M:%S"),
          p.status, c.succeeded, c.failed, c.in_progress, c.pending, c.requested)
        pb:event { event = "backfill", id = id, status = p.status, counts = c }
      end or nil,
    })
    return { status = status, counts = b.counts, runs = b.runs }
  end)

  -- The table: the newest run of each partition.
  local newest = {}
  for _, r in ipairs(final.runs) do
    local p = r.partition or "?"
    if newest[p] == nil then newest[p] = r end  -- runs come newest first
  end
  local rows = {}
  for _, p in ipairs(names) do
    local r = newest[p]
    rows[#rows + 1] = { p, r and r.run_id or "-", r and r.status or "no run" }
  end
  pb:table({ "PARTITION", "RUN", "STATUS" }, rows)

  local c = final.counts
  pb:say("backfill %s %s: %d succeeded, %d failed, %d canceled of %d", id, final.status,
    c.succeeded, c.failed, c.canceled, c.requested)
  if final.status == "CANCELED" then pb:exit(EXIT.CANCELED) end
  if c.failed == 0 and final.status ~= "FAILED" and c.succeeded == c.requested then pb:exit(EXIT.OK) end
  if c.succeeded > 0 then pb:exit(EXIT.PARTIAL) end
  pb:exit(EXIT.FAILURE)
end)
