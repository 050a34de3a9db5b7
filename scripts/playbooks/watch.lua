-- watch: a live view of the runs in flight (queued, starting, started, canceling).
--
--   dagster-lua play watch [--job J] [--tag k=v]... [--until-idle] [--duration SECONDS]
--
-- Each refresh is one request whatever the number of runs (client:runs_in_flight: the runs
-- in flight with their step counts, and the runs seen in flight before, to learn how they
-- ended), at most one a second. On a terminal the view is redrawn in place: run, job,
-- status, elapsed time, steps done and failed, and the runs that finished meanwhile. When
-- stdout is not a terminal it prints one plain line per status change instead, the first
-- sighting of a run included.
--
-- It only reads: no journal, no run touched. It ends with Ctrl-C (exit status 130, like
-- every interrupted playbook; 143 at SIGTERM), after --duration seconds, or with
-- --until-idle once no run is in flight (at once if none is); then with status 0.
local playbook = require "dagster.playbook"
local dagster = require "dagster"

return playbook.define({
  name = "watch",
  summary = "A live view of the runs in flight",
  journal = false,
  flags = {
    { name = "job", type = "string", metavar = "J", doc = "only the runs of this job" },
    { name = "tag", type = "list", metavar = "K=V", doc = "only the runs with this tag" },
    { name = "until-idle", type = "boolean", doc = "end once no run is in flight" },
    { name = "duration", type = "duration", metavar = "DURATION", doc = "end after this long (30s, 10m)" },
  },
}, function(pb)
  local f = pb.flags
  local tags = pb:tags(f.tag)

  local FINAL = dagster.FINAL_RUN_STATUSES
  local COLOUR = { SUCCESS = "32", FAILURE = "31", CANCELED = "33", STARTED = "36" }
  local live = dagster.isatty(1)

  local function elapsed(r)
    local from = r.start_time or r.creation_time or os.time()
    local to = FINAL[r.status] and r.end_time or os.time()
    local s = math.max(0, math.floor(to - from))
    if s < 3600 then return ("%d:%02d"):format(s // 60, s % 60) end
    return ("%d:%02d:%02d"):format(s // 3600, s // 60 % 60, s % 60)
  end

  local function steps(r)
    if r.steps_succeeded == nil then return "-" end
    return ("%d done, %d failed"):format(r.steps_succeeded, r.steps_failed)
  end

  local function row(r)
    return ("%-36s  %-24s  %s  %8s  %s"):format(r.run_id, r.job_name,
      pb:paint(COLOUR[r.status] or "0", ("%-9s"):format(r.status)), elapsed(r), steps(r))
  end
  local HEADER = ("%-36s  %-24s  %-9s  %8s  %s"):format("RUN", "JOB", "STATUS", "ELAPSED", "STEPS")

  -- the view on a terminal: the whole screen, redrawn
  local function draw(in_flight, finished)
    local out = { "\27[H\27[2J", pb:paint("1", ("dagster-lua watch  %s  %s  %d in flight"):format(
      pb.client.url, os.date("%H:%M:%S"), #in_flight)), "", pb:paint("1", HEADER) }
    for _, r in ipairs(in_flight) do out[#out + 1] = row(r) end
    if #finished > 0 then
      out[#out + 1] = ""
      out[#out + 1] = pb:paint("1", "finished while watching")
      for i = #finished, math.max(1, #finished - 9), -1 do out[#out + 1] = row(finished[i]) end
    end
    io.stdout:write(table.concat(out, "\n"), "\n")
    io.stdout:flush()
  end

  local t0 = dagster.now()
  local status, finished = {}, {}      -- run id -> last status seen in flight; the ended runs
  while true do
    local round = dagster.now()
    local also = {}
    for id in pairs(status) do also[#also + 1] = id end
    local runs = pb.client:runs_in_flight { job_name = f.job, tags = tags, also = also }
    local in_flight, now_seen = {}, {}
    for _, r in ipairs(runs) do
      now_seen[r.run_id] = true
      if status[r.run_id] ~= r.status and not live then
        io.stdout:write(("%s  %s\n"):format(os.date("%H:%M:%S"), row(r)))
        io.stdout:flush()
      end
      if FINAL[r.status] then
        if status[r.run_id] then finished[#finished + 1] = r end
        status[r.run_id] = nil
      else
        status[r.run_id] = r.status
        in_flight[#in_flight + 1] = r
      end
    end
    for id in pairs(status) do if not now_seen[id] then status[id] = nil end end   -- deleted
    if live then draw(in_flight, finished) end
    if f["until-idle"] and #in_flight == 0 then break end
    if f.duration and dagster.now() - t0 >= f.duration then break end
    dagster.sleep(math.max(0.05, 1 - (dagster.now() - round)))
  end
  pb:exit(0)
end)
