-- The dagster module for a stock Lua 5.4: the Lua files of lua/dagster/ and the C modules
-- of host/ (dagster.error, dagster.file, dagster.http over libcurl, dagster.json over
-- lua-cjson, dagster.sys).
-- The binary, its REPL and `play` are not part of the rock (make install, make deb).
--   luarocks-5.4 make --tree DIR --deps-mode=none    (offline, from a checkout)
-- Debian: the lua-cjson package provides cjson (the dependency below is for other systems;
-- --deps-mode=none skips it), libcurl4-openssl-dev provides curl. Its header is in a
-- multiarch folder (/usr/include/x86_64-linux-gnu) that LuaRocks does not search but the
-- compiler does, so only the library is declared; pass CURL_INCDIR=... where it is elsewhere.
rockspec_format = "3.0"
package = "dagster-lua"
version = "0.1.0-1"
source = {
  -- not published yet: `luarocks make` builds the checkout it runs in and fetches nothing
  url = "git+https://example.invalid/dagster-lua.git",
  tag = "v0.1.0",
}
description = {
  summary = "Drive a Dagster deployment from Lua through its GraphQL API",
  detailed = [[
require "dagster" gives a client with the methods of Dagster's Python DagsterGraphQLClient
(submit_job_execution, get_run_status, reload_repository_location, terminate_run, ...) and
workflows on top: waiting for runs, events, re-execution, locations, assets, schedules,
sensors, and concurrent calls over libcurl's multi interface.]],
  license = "unspecified: the repository has no licence file yet",
  labels = { "dagster", "graphql", "curl" },
}
dependencies = {
  "lua >= 5.4, < 5.5",
  "lua-cjson >= 2.1",
}
external_dependencies = {
  CURL = { library = "curl" },
}
build = {
  type = "builtin",
  modules = {
    ["dagster"] = "lua/dagster/init.lua",
    ["dagster.answer"] = "lua/dagster/answer.lua",
    ["dagster.api"] = "lua/dagster/api.lua",
    ["dagster.backfills"] = "lua/dagster/backfills.lua",
    ["dagster.capabilities"] = "lua/dagster/capabilities.lua",
    ["dagster.check"] = "lua/dagster/check.lua",
    ["dagster.client"] = "lua/dagster/client.lua",
    ["dagster.cloud"] = "lua/dagster/cloud.lua",
    ["dagster.concurrent"] = "lua/dagster/concurrent.lua",
    ["dagster.documents"] = "lua/dagster/documents.lua",
    ["dagster.enums"] = "lua/dagster/enums.lua",
    ["dagster.inspect"] = "lua/dagster/inspect.lua",
    ["dagster.automation"] = "lua/dagster/automation.lua",
    ["dagster.configtype"] = "lua/dagster/configtype.lua",
    ["dagster.runconfig"] = "lua/dagster/runconfig.lua",
    ["dagster.instance"] = "lua/dagster/instance.lua",
    ["dagster.assets"] = "lua/dagster/assets.lua",
    ["dagster.playbook"] = "lua/dagster/playbook.lua",
    ["dagster.playbook.cli"] = "lua/dagster/playbook/cli.lua",
    ["dagster.playbook.config"] = "lua/dagster/playbook/config.lua",
    ["dagster.playbook.exit"] = "lua/dagster/playbook/exit.lua",
    ["dagster.playbook.history"] = "lua/dagster/playbook/history.lua",
    ["dagster.playbook.journal"] = "lua/dagster/playbook/journal.lua",
    ["dagster.playbook.object"] = "lua/dagster/playbook/object.lua",
    ["dagster.playbook.report"] = "lua/dagster/playbook/report.lua",
    ["dagster.repl"] = "lua/dagster/repl.lua",
    ["dagster.runs"] = "lua/dagster/runs.lua",
    ["dagster.shape"] = "lua/dagster/shape.lua",
    ["dagster.term"] = "lua/dagster/term.lua",
    ["dagster.timeline"] = "lua/dagster/timeline.lua",
    ["dagster.wait"] = "lua/dagster/wait.lua",
    ["dagster.workspace"] = "lua/dagster/workspace.lua",
    ["dagster.yaml"] = "lua/dagster/yaml.lua",
    ["dagster.error"] = {
      sources = { "host/lerror.c" },
      incdirs = { "host" },
      defines = { "_POSIX_C_SOURCE=200809L", "_DEFAULT_SOURCE" },
    },
    ["dagster.http"] = {
      -- carries its own copy of lerror.c (dagster.Error objects raised from C)
      sources = { "host/lhttp.c", "host/lerror.c" },
      incdirs = { "host", "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
      libraries = { "curl" },
      defines = { "_POSIX_C_SOURCE=200809L", "_DEFAULT_SOURCE" },
    },
    ["dagster.file"] = {
      sources = { "host/lfile.c" },
      incdirs = { "host" },
      defines = { "_POSIX_C_SOURCE=200809L", "_DEFAULT_SOURCE" },
    },
    ["dagster.sys"] = {
      sources = { "host/lsys.c" },
      incdirs = { "host" },
      defines = { "_POSIX_C_SOURCE=200809L", "_DEFAULT_SOURCE" },
    },
    ["dagster.json"] = {
      sources = { "host/ljson.c" },
      incdirs = { "host" },
      libraries = { "m" },
      defines = { "_POSIX_C_SOURCE=200809L", "_DEFAULT_SOURCE" },
    },
  },
}
