/*
** lerror.c: dagster.Error, the error object every API failure raises.
**
** An error is a table {name=, message=, ...} whose metatable (registry "dagster.Error") has
** __tostring ("Name: message" on one line) and __name. Tables, not userdata, so scripts read
** and add fields freely (body, status, url, ...). Module: require "dagster.error".
*/
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "dagster.h"


/*
** __tostring: "name: message", whitespace runs (newlines of Python tracebacks included)
** folded to one space so that the result is one readable line. Leaves the string.
*/
static int err_tostring (lua_State *L) {
  luaL_Buffer b;
  const char *name, *msg;
  int space = 0, started = 0;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "message");
  name = lua_tostring(L, -2);
  msg = lua_tostring(L, -1);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, name ? name : "Error");
  if (msg != NULL) {
    luaL_addstring(&b, ": ");
    for (; *msg; msg++) {
      unsigned char c = (unsigned char)*msg;
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v')
        space = started;
      else {
        if (space) luaL_addchar(&b, ' ');
        luaL_addchar(&b, (char)c);
        space = 0; started = 1;
      }
    }
  }
  luaL_pushresult(&b);
  return 1;
}


/*
** Pushes the shared metatable, creating it the first time. Safe from any C module.
*/
static void pushmeta (lua_State *L) {
  if (luaL_newmetatable(L, DGL_ERROR_MT)) {  /* new: fill it */
    lua_pushcfunction(L, err_tostring);
    lua_setfield(L, -2, "__tostring");
  }
}


void dgl_newerror (lua_State *L, const char *name, const char *message) {
  lua_createtable(L, 0, 4);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "name");
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  pushmeta(L);
  lua_setmetatable(L, -2);
}


void dgl_seterrorfield (lua_State *L, const char *key, const char *value) {
  lua_pushstring(L, value);
  lua_setfield(L, -2, key);
}


/*
** error.new(name, message [, fields]) -> error object; fields are copied into it.
*/
static int err_new (lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const char *msg = luaL_optstring(L, 2, name);
  if (!lua_isnoneornil(L, 3))
    luaL_checktype(L, 3, LUA_TTABLE);
  dgl_newerror(L, name, msg);
  if (lua_istable(L, 3)) {
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      lua_pushvalue(L, -2);  /* key, value, key */
      lua_insert(L, -2);     /* key, key, value */
      lua_rawset(L, -4);
    }
  }
  return 1;
}


/*
** error.is(v [, name]) -> true when v is a dagster.Error (of that name, if given).
*/
static int err_is (lua_State *L) {
  int ok = 0;
  if (lua_type(L, 1) == LUA_TTABLE && lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, DGL_ERROR_MT);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (ok && !lua_isnoneornil(L, 2)) {
      lua_getfield(L, 1, "name");
      ok = lua_rawequal(L, -1, 2) || (lua_isstring(L, -1) && lua_isstring(L, 2) &&
           strcmp(lua_tostring(L, -1), lua_tostring(L, 2)) == 0);
      lua_pop(L, 1);
    }
  }
  lua_pushboolean(L, ok);
  return 1;
}


static const luaL_Reg funcs[] = {
  {"new", err_new},
  {"is",  err_is},
  {NULL, NULL}
};


int luaopen_dagster_error (lua_State *L) {
  luaL_newlib(L, funcs);
  pushmeta(L);
  lua_setfield(L, -2, "mt");
  return 1;
}
