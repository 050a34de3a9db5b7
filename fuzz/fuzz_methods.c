/*
** fuzz_methods.c: libFuzzer target for the mapping of every client method: what each one
** makes of the answers it gets (lua/dagster/client.lua, runs.lua, workspace.lua).
**
** Input: the first byte picks the call (fuzz/methods.lua, modulo their number); the rest is
** the answers, separated by NUL bytes: request i of the call gets answer i (the last one
** again when the call asks more often), as the body of an HTTP 200. The only acceptable
** outcomes are a result, or an error that is a dagster.Error; a string error (a Lua error
** in the module, such as "attempt to index a nil value") aborts, and so does any sanitizer
** report in the C code.
**
** The client is the real one, with its transport left out: its _attempt hands the next
** answer to answer.decode, as the transport would, and its clock moves on 0.01 s at each
** look and 1 s at each sleep, so waits end quickly. Seeds (fuzz/corpus/methods) are real
** answers of a local Dagster, recorded by fuzz/seed_methods.lua. The Lua lines it runs count
** as coverage too (luacov.h).
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "dagster.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lua_State *L;

#define NLUACOV 8192
#include "luacov.h"

/* the harness: returns run(selector, answers) -> true | false, message */
static const char HARNESS[] =
  "local dagster = require 'dagster'\n"
  "local answer = require 'dagster.answer'\n"
  "local E = require 'dagster.error'\n"
  "local calls = dofile('fuzz/methods.lua')\n"
  "local c = dagster.client('http://fuzz/graphql', { retries = 0 })\n"
  "local answers, n, clock = {}, 0, 0\n"
  "function c:_attempt(payload, opname)\n"
  "  n = n + 1\n"
  "  return (answer.decode(200, answers[math.min(n, #answers)], self.url, opname))\n"
  "end\n"
  "function c:_sleep(s) clock = clock + 1 end\n"
  "function c:_now() clock = clock + 0.01; return clock end\n"
  "return function(sel, input)\n"
  "  answers, n = {}, 0\n"
  "  for a in (input .. '\\0'):gmatch('([^\\0]*)\\0') do answers[#answers + 1] = a end\n"
  "  local call = calls[sel % #calls + 1]\n"
  "  local ok, e = pcall(call.call, c)\n"
  "  if ok or E.is(e) then return true end\n"
  "  return false, call.name .. ': ' .. tostring(e)\n"
  "end\n";

int LLVMFuzzerInitialize (int *argc, char ***argv) {
  (void)argc; (void)argv;
  L = luaL_newstate();
  if (L == NULL) abort();
  dgl_openlibs(L, NULL);
  if (luaL_loadbuffer(L, HARNESS, sizeof(HARNESS) - 1, "=fuzz_methods") != LUA_OK
      || lua_pcall(L, 0, 1, 0) != LUA_OK || !lua_isfunction(L, -1)) {
    fprintf(stderr, "fuzz_methods: cannot load the harness (run from the project root): %s\n",
            lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    abort();
  }
  lua_sethook(L, linehook, LUA_MASKLINE, 0);
  return 0;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  lua_settop(L, 1);
  lua_pushvalue(L, 1);
  lua_pushinteger(L, data[0]);
  lua_pushlstring(L, (const char *)data + 1, size - 1);
  if (lua_pcall(L, 2, 2, 0) != LUA_OK || !lua_toboolean(L, -2)) {
    fprintf(stderr, "fuzz_methods: a string error: %s\n",
            lua_tostring(L, -1) ? lua_tostring(L, -1) : luaL_typename(L, -1));
    abort();
  }
  lua_settop(L, 1);
  return 0;
}
