-- busted output handler: busted's gtest output, then the one line CI reads,
-- "N passed, N failed" (errors outside tests and pending specs count as failed: a spec that
-- cannot run must fail loudly). The counts also go to $DAGSTER_LUA_SUMMARY when it is set.
return function(options)
  local busted = require "busted"
  local handler = require("busted.outputHandlers.gtest")(options)
  local function on_end()
    local passed = handler.successesCount
    local failed = handler.failuresCount + handler.errorsCount + handler.pendingsCount
    local line = string.format("%d passed, %d failed", passed, failed)
    io.stdout:write(line, "\n")
    io.stdout:flush()
    local path = os.getenv("DAGSTER_LUA_SUMMARY")
    if path and path ~= "" then
      local f = io.open(path, "w")
      if f then f:write(line, "\n"); f:close() end
    end
    return nil, true
  end
  local subscribe = handler.subscribe
  handler.subscribe = function(h, opts)  -- after gtest's own, so this line comes last
    subscribe(h, opts)
    busted.subscribe({ "suite", "end" }, on_end)
  end
  return handler
end
