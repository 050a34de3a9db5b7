-- run: launch a job, and optionally follow it to the end.
--
--   dagster-lua play run JOB [-c config.yaml]... [--config-json '{...}'] [--tag k=v]...
--       [--op-selection a,b] [--asset-selection a/b,c] [--location L] [--repository R]
--       [--wait] [--logs] [--timeout 10m]
--
-- The -c files (globs allowed; - is standard input) are deep-merged in order, a later file
-- winning, as `dagster job launch -c` merges them; --config-json is merged last. The exit
-- status is the run's outcome with --wait or --logs (0 SUCCESS, 1 FAILURE, 2 CANCELED, 3
-- timed out).
-- --wait, --logs and --timeout say how the run is watched, not what it is: a resumed run
-- may change them and still finds its journal.
local playbook = require "dagster.playbook"
local dagster = require "dagster"
local json = dagster.json

return playbook.define({
  name = "run",
  summary = "Launch a job; with --wait or --logs, follow it to the end",
  args = { { name = "job", doc = "the job to launch" } },
  flags = {
    { name = "config", short = "c", type = "list", metavar = "FILE",
      doc = "a YAML run config file or glob (- for standard input); later files win" },
    { name = "config-json", type = "string", metavar = "JSON", doc = "run config as JSON, merged last" },
    { name = "tag", type = "list", metavar = "K=V", doc = "a run tag" },
    { name = "op-selection", type = "string", metavar = "A,B", doc = "the ops to run" },
    { name = "asset-selection", type = "string", metavar = "A/B,C", doc = "the assets to run" },
    { name = "location", type = "string", metavar = "L", doc = "the job's code location" },
    { name = "repository", type = "string", metavar = "R", doc = "the job's repository" },
    { name = "wait", type = "boolean", watch = true, doc = "wait for the run to finish, showing its status" },
    { name = "logs", type = "boolean", watch = true, doc = "stream the run's events until it finishes" },
    { name = "timeout", type = "duration", metavar = "DURATION", watch = true,
      doc = "give up waiting after this long (90, 30s, 10m, 2h; 0: no limit)" },
  },
}, function(pb)
  local f = pb.flags

  -- the names of a comma-separated flag, or nil when it is not given; an empty list is a
  -- usage error (the server would run everything)
  local function list(flag)
    local s = f[flag]
    if s == nil then return nil end
    local out = json.array()
    for part in s:gmatch("[^,]+") do out[#out + 1] = part end
    if #out == 0 then pb:usage("--" .. flag .. ": no names in " .. s) end
    return out
  end
  local op_selection, asset_selection = list("op-selection"), list("asset-selection")

  -- The run config: each -c file (globs expanded, in order), then --config-json.
  local config = {}
  for _, pattern in ipairs(f.config) do
    for _, path in ipairs(playbook.glob(pattern, pb.name)) do
      local doc = playbook.read_yaml(path, pb.name)
      if doc ~= nil and doc ~= json.null then
        if type(doc) ~= "table" or json.is_array(doc) then
          pb:usage(path .. ": a run config must be a mapping")
        end
        config = playbook.deep_merge(config, doc)
      end
    end
  end
  if f["config-json"] then
    local doc, why = json.decode(f["config-json"])
    if doc == nil then pb:usage("--config-json: " .. tostring(why)) end
    if type(doc) ~= "table" or json.is_array(doc) then
      pb:usage("--config-json: a JSON object expected, got " .. (json.is_array(doc) and "a list" or type(doc)))
    end
    config = playbook.deep_merge(config, doc)
  end

  local tags = pb:tags(f.tag)

  -- Launch it (once: a resumed playbook finds the run it launched before).
  local run_id = pb:step("launch " .. pb.args.job, { config = config, tags = tags }, function()
    return pb:submit(pb.args.job, {
      run_config = config, tags = tags,
      op_selection = op_selection, asset_selection = asset_selection,
      repository_location_name = f.location, repository_name = f.repository,
    })
  end)
  if pb.dry_run or not (f.wait or f.logs) then pb:exit(0) end

  -- Follow it: its events as they come (each also a JSON event with --json), or one live
  -- status line.
  local status = pb:step("wait for " .. run_id, function()
    if f.logs then
      local deadline = f.timeout and f.timeout > 0 and (dagster.now() + f.timeout) or nil
      for ev in pb.client:events(run_id, { follow = true }) do
        local text = playbook.headline(ev.error_message or ev.message or "")
        pb:say("%s %-7s %s%s%s", os.date("%H:%M:%S", math.floor(ev.timestamp or os.time())),
          ev.level or "", ev.event_type and (ev.event_type .. " ") or "",
          ev.step_key and (ev.step_key .. ": ") or "", text)
        pb:event { event = "log", run_id = run_id, timestamp = ev.timestamp, level = ev.level,
          type = ev.type, event_type = ev.event_type, step_key = ev.step_key, message = text }
        if deadline and dagster.now() > deadline then
          pb:exit(playbook.EXIT.TIMEOUT, ("run %s did not finish within %s"):format(run_id,
            playbook.seconds(f.timeout)))
        end
      end
    end
    return (pb.client:wait_for_run(run_id, { timeout = f.timeout, progress = true }))
  end)
  pb:say("run %s: %s", run_id, status)
  pb:exit(playbook.code_of_status(status))
end)
