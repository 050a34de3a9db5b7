-- busted output handler: busted's gtest output, then the ten slowest specs and the ten
-- slowest files (so that a suite growing slower is seen), then the one line CI reads,
-- "N passed, N failed" (errors outside tests and pending specs count as failed: a spec that
-- cannot run must fail loudly). The counts also go to $DAGSTER_LUA_SUMMARY when it is set.
-- A spec's time is its own (busted's element.duration); a file's time also counts its
-- setup and teardown blocks.
--
-- When $DAGSTER_LUA_TIMES is set (scripts/test, which runs each spec file in a busted of its
-- own and prints the slowest of them all), the times go to that file instead, a line each:
-- "T<tab>ms<tab>file:line: name" for a spec, "F<tab>ms<tab>file" for a file; and the counts
-- to $DAGSTER_LUA_SUMMARY only. A spec that failed also gets a line there,
-- "X<tab>0<tab>file:line: name: the message's first line", which scripts/test prints last,
-- before the count, so that the end of a long log (all CI keeps) names what failed.
return function(options)
  local busted = require "busted"
  local handler = require("busted.outputHandlers.gtest")(options)
  local tests, files = {}, {}

  local function on_test_end(element)
    if element.duration then
      local trace = element.trace or {}
      tests[#tests + 1] = { ms = element.duration * 1000, what = ("%s:%d: %s"):format(
        trace.short_src or "?", trace.currentline or 0, handler.getFullName(element)) }
    end
    return nil, true
  end

  local function on_file_end(file)
    if file.duration then files[#files + 1] = { ms = file.duration * 1000, what = file.name } end
    return nil, true
  end

  local function slowest(list, n)
    table.sort(list, function(a, b) return a.ms > b.ms end)
    local out = {}
    for i = 1, math.min(n, #list) do out[i] = list[i] end
    return out
  end

  -- "file:line: name: first line of the message" for each failure, error and pending spec
  local function failed_list()
    local out = {}
    for _, kind in ipairs({ "failures", "errors", "pendings" }) do
      for _, f in ipairs(handler[kind] or {}) do
        local trace = f.trace or {}
        local message = tostring(f.message):match("^[^\n]*"):sub(1, 300)
        out[#out + 1] = ("%s:%d: %s: %s"):format(trace.short_src or "?", trace.currentline or 0,
          f.name or "?", message)
      end
    end
    return out
  end

  local function on_end()
    local passed = handler.successesCount
    local failed = handler.failuresCount + handler.errorsCount + handler.pendingsCount
    local line = string.format("%d passed, %d failed", passed, failed)
    local times = os.getenv("DAGSTER_LUA_TIMES")
    if times and times ~= "" then
      local f = io.open(times, "a")
      if f then
        for _, t in ipairs(tests) do f:write(("T\t%.1f\t%s\n"):format(t.ms, t.what)) end
        for _, t in ipairs(files) do f:write(("F\t%.1f\t%s\n"):format(t.ms, t.what)) end
        for _, what in ipairs(failed_list()) do f:write(("X\t0\t%s\n"):format(what)) end
        f:close()
      end
    else
      local w = io.stdout
      w:write("\nslowest specs:\n")
      for _, t in ipairs(slowest(tests, 10)) do w:write(("  %7.1f s  %s\n"):format(t.ms / 1000, t.what)) end
      w:write("slowest files (setup included):\n")
      for _, t in ipairs(slowest(files, 10)) do w:write(("  %7.1f s  %s\n"):format(t.ms / 1000, t.what)) end
      local list = failed_list()
      if #list > 0 then w:write("failed specs:\n  ", table.concat(list, "\n  "), "\n") end
      w:write(line, "\n")
      w:flush()
    end
    local path = os.getenv("DAGSTER_LUA_SUMMARY")
    if path and path ~= "" then
      local f = io.open(path, "w")
      if f then f:write(line, "\n"); f:close() end
    end
    return nil, true
  end
  local subscribe = handler.subscribe
  handler.subscribe = function(h, opts)  -- after gtest's own, so these lines come last
    subscribe(h, opts)
    busted.subscribe({ "test", "end" }, on_test_end)
    busted.subscribe({ "file", "end" }, on_file_end)
    busted.subscribe({ "suite", "end" }, on_end)
  end
  return handler
end
