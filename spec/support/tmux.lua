-- Terminals for the specs that need one (repl_spec.lua, watch_spec.lua): tmux on a socket of
-- the spec's own, sessions running a shell command, keys typed with send-keys and the screen
-- read with capture-pane.
--
--   local server = require("tmux").server("repl")   -- socket dagster-lua-repl-<pid>
--   setup(function() server:keep() end)            -- optional, see Server:keep
--   teardown(function() server:kill() end)
--   local t = server:session(cmd, 120, 40)
--   t:type("1 + 1"); t:keys("Enter"); t:wait_for("^2$"); print(t:screen()); t:close()
local H = require "helper"

local M = {}

local Server = {}
Server.__index = Server

local Session = {}
Session.__index = Session

-- a tmux server on the socket dagster-lua-<label>-<pid of this process>
function M.server(label)
  local pid = (H.slurp("/proc/self/stat") or ""):match("^(%d+)")
  return setmetatable({ socket = "dagster-lua-" .. label .. "-" .. pid }, Server)
end

-- runs `tmux -L <socket> ARGS`; returns its stdout, and fails when tmux does
function Server:run(args)
  local out, err, code = H.run("tmux -L " .. self.socket .. " " .. args)
  assert(code == 0, "tmux " .. args .. " failed: " .. err)
  return out
end

-- a session that lives until kill(): the tmux server exits with its last session, and a new
-- session started while it exits fails ("server exited unexpectedly")
function Server:keep() self:run("new-session -d -s keeper 'sleep 3600'") end

-- ends the server and every session on it
function Server:kill() os.execute("tmux -L " .. self.socket .. " kill-server 2>/dev/null") end

-- a new session of width x height running cmd (a shell command)
function Server:session(cmd, width, height)
  local name = "t" .. math.random(1, 1e9)
  local new = ("new-session -d -s %s -x %d -y %d %s"):format(name, width, height, H.quote(cmd))
  if not pcall(self.run, self, new) then  -- a server on its way out (see keep): once more
    H.sleep(0.5)
    self:run(new)
  end
  return setmetatable({ server = self, name = name }, Session)
end

-- keys by tmux's names ("Enter", "C-c", "Tab", ...), or text
function Session:keys(...)
  local parts = {}
  for i, k in ipairs({ ... }) do parts[i] = H.quote(k) end
  self.server:run(("send-keys -t %s %s"):format(self.name, table.concat(parts, " ")))
end

-- the literal text, typed as it is
function Session:type(text)
  self.server:run(("send-keys -t %s -l %s"):format(self.name, H.quote(text)))
end

-- the screen and 200 lines of history above it; with escapes, its colour codes too
function Session:screen(escapes)
  return self.server:run(("capture-pane -t %s -p %s -S -200"):format(self.name,
    escapes and "-e" or ""))
end

-- what the terminal shows now, without the history (a view redrawn in place shows once)
function Session:view()
  return self.server:run(("capture-pane -t %s -p"):format(self.name))
end

-- the screen's lines, trailing blank ones dropped
function Session:lines()
  local out = {}
  for l in (self:screen() .. "\n"):gmatch("(.-)\n") do out[#out + 1] = l end
  while out[#out] == "" do out[#out] = nil end
  return out
end

function Session:last_line() local l = self:lines(); return l[#l] or "" end

-- waits until the screen's last line matches pattern; returns it
function Session:wait_for(pattern, timeout)
  return H.wait_until("the terminal to show " .. pattern, function()
    local last = self:last_line()
    return last:find(pattern) and last
  end, timeout or 20, 0.05)
end

function Session:close() pcall(self.server.run, self.server, "kill-session -t " .. self.name) end

-- At the REPL's prompt ("dagster HOST> "):

-- how many prompts the screen shows
function Session:prompts()
  local n = 0
  for _, l in ipairs(self:lines()) do if l:find("^dagster %S+>") then n = n + 1 end end
  return n
end

-- types `line` and Enter, and waits for the prompt after its output: one more prompt on the
-- screen than before, on the last line (the prompt already there matches ">$" at once)
function Session:enter(line, timeout)
  local before = self:prompts()
  self:type(line); self:keys("Enter")
  H.wait_until("the prompt after " .. line, function()
    return self:prompts() > before and self:last_line():find(">$")
  end, timeout or 20, 0.05)
end

return M
