-- partition: add or delete the keys of a dynamic partitions definition.
--
--   dagster-lua play partition add KEY... --def NAME [--backfill ASSET]... [--wait]
--   dagster-lua play partition delete KEY... --def NAME [--dry-run]
--
-- add: adds the keys (a key already there is no error: it is said so) and, with --backfill,
-- launches a backfill of the given assets over the keys added (journaled and made once:
-- resumed, the playbook finds the backfill it launched); --wait follows it to the end.
-- delete: deletes the keys; a key the definition does not have is named and nothing is
-- deleted (status 4). --dry-run says what it would do. --location and --repository choose
-- the definition when several repositories use its name.
--
-- Exit status: 0 done (with --wait: every partition of the backfill succeeded); 4 a key
-- that is not there to delete, or a definition no asset uses; with --wait as the backfill
-- playbook: 6 some partitions failed, 1 none succeeded, 2 canceled, 3 --timeout.
local playbook = require "dagster.playbook"
local dagster = require "dagster"

local concat = table.concat

return playbook.define({
  name = "partition",
  summary = "Add (and backfill) or delete the keys of a dynamic partitions definition",
  args = {
    { name = "action", doc = "add or delete" },
    { name = "keys", doc = "the partition keys", multiple = true },
  },
  flags = {
    { name = "def", type = "string", metavar = "NAME", doc = "the dynamic partitions definition (required)" },
    { name = "backfill", type = "list", metavar = "ASSET", doc = "add: backfill this asset over the keys added" },
    { name = "wait", type = "boolean", watch = true, doc = "add --backfill: follow the backfill to the end" },
    { name = "timeout", type = "duration", metavar = "DURATION", default = "1h", watch = true,
      doc = "with --wait: stop following after this long (0: no limit)" },
    { name = "location", type = "string", metavar = "L", doc = "the definition's code location" },
    { name = "repository", type = "string", metavar = "R", doc = "the definition's repository" },
  },
}, function(pb)
  local f, a = pb.flags, pb.args
  local EXIT = playbook.EXIT
  if a.action ~= "add" and a.action ~= "delete" then
    pb:usage(("unknown action '%s': add or delete"):format(tostring(a.action)))
  end
  if not f.def then pb:usage("--def NAME is required: the dynamic partitions definition") end
  if a.action == "delete" and #f.backfill > 0 then pb:usage("--backfill goes with add") end
  local where = { location = f.location, repository = f.repository }

  -- what is there now (and whether the definition is known at all: status 4 when not)
  local ok, have = pb:try(pb.client.dynamic_partitions, pb.client, f.def, where)
  if not ok then
    if dagster.Error.is(have, "DynamicPartitionsDefinitionNotFound")
        or dagster.Error.is(have, "AmbiguousDynamicPartitionsDefinition") then
      pb:usage(have.message)
    end
    error(have, 0)
  end
  local there = {}
  for _, k in ipairs(have) do there[k] = true end

  if a.action == "delete" then
    local missing = {}
    for _, k in ipairs(a.keys) do if not there[k] then missing[#missing + 1] = k end end
    if #missing > 0 then
      pb:usage(("%s has no partition %s (nothing deleted)"):format(f.def, concat(missing, ", ")))
    end
    if pb.dry_run then
      pb:say("would delete %d partition(s) of %s: %s", #a.keys, f.def, concat(a.keys, ", "))
      return 0
    end
    pb:step("delete the partitions", function()
      return pb.client:delete_partitions(f.def, a.keys, where)
    end)
    pb:say("deleted %d partition(s) of %s", #a.keys, f.def)
    return 0
  end

  -- add
  local new, old = {}, {}
  for _, k in ipairs(a.keys) do
    if there[k] then old[#old + 1] = k else new[#new + 1] = k end
  end
  if #old > 0 then pb:say("already there: %s", concat(old, ", ")) end
  if pb.dry_run then
    pb:say("would add %d partition(s) to %s%s", #new, f.def,
      #new > 0 and (": " .. concat(new, ", ")) or "")
  else
    local added = pb:step("add the partitions", { keys = a.keys }, function()
      local added = pb.client:add_partition(f.def, a.keys, where)
      return added
    end)
    pb:say("added %d partition(s) to %s%s", #added, f.def,
      #added > 0 and (": " .. concat(added, ", ")) or "")
  end
  if #f.backfill == 0 then return 0 end
  if #new == 0 then
    pb:say("no new partition: nothing to backfill")
    return 0
  end
  local id = pb:step("backfill the new partitions", { assets = f.backfill, partitions = new }, function()
    return pb:backfill { assets = f.backfill, partitions = new, location = f.location,
                         repository = f.repository }
  end)
  if pb.dry_run then return 0 end
  pb:say("backfill %s over %d partition(s)", id, #new)
  if not f.wait then return 0 end
  local status, b = pb.client:wait_for_backfill(id, { timeout = f.timeout })
  local c = b.counts or {}
  pb:say("backfill %s %s: %d succeeded, %d failed", id, status, c.succeeded or 0, c.failed or 0)
  if status == "CANCELED" then return EXIT.CANCELED end
  if (c.failed or 0) > 0 then return (c.succeeded or 0) > 0 and EXIT.PARTIAL or EXIT.FAILURE end
  if status ~= "COMPLETED_SUCCESS" and status ~= "COMPLETED" then return EXIT.FAILURE end
  return 0
end)
