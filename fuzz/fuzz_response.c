/*
** fuzz_response.c: libFuzzer target for answer.decode (lua/dagster/answer.lua), the pure
** function that maps one HTTP answer (status, body) to `data` or raises a dagster.Error.
**
** Input: the first byte picks the status (STATUSES below), the rest is the body. The only
** acceptable outcomes are a returned table, or an error that is a dagster.Error (checked
** with require("dagster.error").is) named HTTPError, ProtocolError or GraphQLError, with a
** string message. Anything else (a string error from a bug in the Lua code, a non-table
** result, a memory error) aborts, and so does any sanitizer report in the C code.
** One Lua state serves every input; it is made once, as the host makes its own.
** The Lua lines it runs count as coverage too (luacov.h): inputs that take new paths through
** client.lua are kept.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "dagster.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int STATUSES[] = { 200, 204, 301, 400, 405, 500, 502, 503 };
#define NSTATUSES ((int)(sizeof(STATUSES) / sizeof(STATUSES[0])))

/* stack slots kept across inputs */
#define S_ANSWER 1  /* answer.decode */
#define S_IS     2  /* dagster.error.is */

static lua_State *L;

#define NLUACOV 4096
#include "luacov.h"


static void fail (const char *what, const uint8_t *data, size_t size) {
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "fuzz_response: %s: %s\n(status %d, %zu body bytes)\n", what,
          msg ? msg : luaL_typename(L, -1), size ? STATUSES[data[0] % NSTATUSES] : 0,
          size ? size - 1 : 0);
  abort();
}


/* Pushes require(name)[field]; aborts when it is missing. */
static void pushfield (const char *name, const char *field) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_getfield(L, -1, field) != LUA_TFUNCTION) {
    fprintf(stderr, "fuzz_response: cannot load %s.%s: %s\n", name, field,
            lua_tostring(L, -2) ? lua_tostring(L, -2) : "?");
    abort();
  }
  lua_remove(L, -2);
}


int LLVMFuzzerInitialize (int *argc, char ***argv) {
  (void)argc; (void)argv;
  L = luaL_newstate();
  if (L == NULL) abort();
  dgl_openlibs(L, NULL);
  pushfield("dagster.answer", "decode");  /* S_ANSWER */
  pushfield("dagster.error", "is");        /* S_IS */
  lua_sethook(L, linehook, LUA_MASKLINE, 0);
  return 0;
}


/* Is the error at the top a dagster.Error of a name answer.decode raises, with a message? */
static int isanswererror (void) {
  int ok, err = lua_gettop(L);
  lua_pushvalue(L, S_IS);
  lua_pushvalue(L, err);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) return 0;
  ok = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (!ok) return 0;
  lua_getfield(L, err, "name");
  ok = lua_type(L, -1) == LUA_TSTRING
       && (strcmp(lua_tostring(L, -1), "HTTPError") == 0
           || strcmp(lua_tostring(L, -1), "ProtocolError") == 0
           || strcmp(lua_tostring(L, -1), "GraphQLError") == 0);
  lua_getfield(L, err, "message");
  ok = ok && lua_type(L, -1) == LUA_TSTRING;
  lua_settop(L, err);
  return ok;
}


int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  int status;
  if (size == 0) return 0;
  lua_settop(L, S_IS);
  lua_pushvalue(L, S_ANSWER);
  lua_pushinteger(L, STATUSES[data[0] % NSTATUSES]);
  lua_pushlstring(L, (const char *)data + 1, size - 1);
  lua_pushliteral(L, "http://fuzz/graphql");
  lua_pushliteral(L, "Fuzz");
  status = lua_pcall(L, 4, 1, 0);
  if (status == LUA_OK) {
    if (!lua_istable(L, -1)) fail("answer.decode returned a non-table", data, size);
  }
  else if (status != LUA_ERRRUN || !isanswererror())
    fail("answer.decode raised something else than a dagster.Error", data, size);
  lua_settop(L, S_IS);
  return 0;
}
