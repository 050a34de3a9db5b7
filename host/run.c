/*
** run.c: how the host runs Lua code (lua.c's docall/msghandler/report), and the libraries
** it makes available: the standard ones, the C modules through package.preload, and the
** Lua sources of lua/ (embedded, or read from disk in --dev mode).
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dlfcn.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "dagster.h"


/* the state a SIGINT should stop (lua.c's globalL); only the host sets it */
static lua_State *globalL = NULL;

/* the signal (SIGINT or SIGTERM) that stopped the last protected call, or 0: the exit
   status is then 128 + it, as a shell expects */
static volatile sig_atomic_t got_signal = 0;

int dgl_interrupted (void) {
  return got_signal;
}


void dgl_message (const char *msg) {
  fprintf(stderr, "%s: %s\n", DGL_PROGNAME, msg);
  fflush(stderr);
}


/*
** Hook set by the signal handler: stops the running Lua code at its next instruction with
** the error a Ctrl-C is everywhere else, a dagster.Error named Interrupted (a transfer or
** a sleep that Ctrl-C ends raises the same), so that a script can tell it from its own
** errors with dagster.Error.is(e, "Interrupted"). SIGTERM, a scheduler's or systemd's
** stop, does the same (its field signal says "SIGTERM"), so that a playbook ends as at
** Ctrl-C: its summary, journal and notification written.
*/
static void lstop (lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  if (got_signal == SIGTERM) {
    dgl_newerror(L, "Interrupted", "terminated (SIGTERM)");
    dgl_seterrorfield(L, "signal", "SIGTERM");
  }
  else {
    dgl_newerror(L, "Interrupted", "interrupted (Ctrl-C)");
    dgl_seterrorfield(L, "signal", "SIGINT");
  }
  lua_error(L);
}


static void laction (int i) {
  int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  signal(i, SIG_DFL);  /* a second one kills the process */
  got_signal = i;
  lua_sethook(globalL, lstop, flag, 1);
}


/*
** SIGTERM is caught without SA_RESTART, so that a read the code is blocked in (io.read)
** fails with EINTR and the hook fires; left alone when it was ignored (nohup, a parent's
** choice). Returns whether it was caught.
*/
static int catch_sigterm (void) {
  struct sigaction sa, old;
  if (sigaction(SIGTERM, NULL, &old) != 0 || old.sa_handler == SIG_IGN) return 0;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = laction;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  return sigaction(SIGTERM, &sa, NULL) == 0;
}


/*
** The level a traceback of msg starts at. An argument error ("bad argument #2 to 'runs'
** (...)") raised by the module's own checks already names the caller's line; its traceback
** starts there too, as a C function's luaL_argerror's does, instead of in the frames of
** lua/dagster/ (and the C functions, error and pcall, between them).
*/
static int trace_level (lua_State *L, const char *msg) {
  lua_Debug ar;
  int level = 1;
  if (strstr(msg, "bad argument #") == NULL) return 1;
  while (lua_getstack(L, level, &ar) && lua_getinfo(L, "S", &ar)) {
    if (strcmp(ar.what, "C") != 0 && strstr(ar.source, "lua/dagster/") == NULL) return level;
    level++;
  }
  return 1;
}


/*
** Message handler: turns an error object into a string through __tostring (dagster.Error
** prints "Name: message") and appends a traceback. Leaves the string.
*/
static int msghandler (lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, trace_level(L, msg));
  return 1;
}


/*
** Calls the function below its narg arguments, in protected mode with the message handler
** and Ctrl-C (and SIGTERM) armed. Returns the status; the results (or the message) are on
** the stack.
*/
int dgl_docall (lua_State *L, int narg, int nres) {
  int status, term;
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  globalL = L;
  got_signal = 0;
  signal(SIGINT, laction);
  term = catch_sigterm();
  status = lua_pcall(L, narg, nres, base);
  signal(SIGINT, SIG_DFL);
  if (term) signal(SIGTERM, SIG_DFL);
  lua_remove(L, base);
  return status;
}


int dgl_report (lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    dgl_message(msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  }
  return status;
}


/* loader for an embedded module (compiled by host/embed.lua, with its chunk name inside):
   upvalue 1 is its index in dgl_sources */
static int load_embedded (lua_State *L) {
  const dgl_Source *src = &dgl_sources[lua_tointeger(L, lua_upvalueindex(1))];
  char chunkname[256];
  snprintf(chunkname, sizeof chunkname, "@lua/%s", src->path);
  if (luaL_loadbufferx(L, src->source, src->len, chunkname, "b") != LUA_OK)
    return lua_error(L);
  lua_pushvalue(L, 1);  /* module name */
  lua_call(L, 1, 1);
  return 1;
}


/* loader in --dev mode: upvalue 1 is the file path under the dev directory */
static int load_dev (lua_State *L) {
  const char *path = lua_tostring(L, lua_upvalueindex(1));
  if (luaL_loadfilex(L, path, "t") != LUA_OK)
    return lua_error(L);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}


/*
** Loader of "cjson": Debian's lua-cjson, opened with dlopen on first use rather than linked,
** so that a script that never touches JSON does not map it, and its symbols never join
** the global scope every other library's relocations search at start-up. The exact
** soname is asked for, not a cjson.so found on package.cpath, so the decoder is always
** the one the build was tested with. The library stays loaded for the life of the process.
*/
#define CJSON_SONAME "liblua5.4-cjson.so.0"

static int load_cjson (lua_State *L) {
  void *lib = dlopen(CJSON_SONAME, RTLD_NOW | RTLD_LOCAL);
  lua_CFunction open;
  if (lib == NULL) {
    const char *why = dlerror();
    return luaL_error(L, "cannot load lua-cjson (%s): %s (is Debian's lua-cjson installed?)",
                      CJSON_SONAME, why ? why : "unknown error");
  }
  *(void **)&open = dlsym(lib, "luaopen_cjson");
  if (open == NULL)
    return luaL_error(L, "cannot load lua-cjson: %s has no luaopen_cjson", CJSON_SONAME);
  lua_pushcfunction(L, open);
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);  /* luaopen_cjson(name, ...) as require calls it */
  return 1;
}


static const luaL_Reg cmodules[] = {
  {"cjson",         load_cjson},
  {"dagster.error", luaopen_dagster_error},
  {"dagster.file",  luaopen_dagster_file},
  {"dagster.http",  luaopen_dagster_http},
  {"dagster.json",  luaopen_dagster_json},
  {"dagster.sys",   luaopen_dagster_sys},
  {NULL, NULL}
};


/*
** Opens the standard libraries and registers every dagster module in package.preload;
** nothing is loaded until a script requires it. devdir, when not NULL, is the lua/
** directory the Lua modules are read from instead of the embedded copies.
*/
void dgl_openlibs (lua_State *L, const char *devdir) {
  const luaL_Reg *m;
  int i;
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (m = cmodules; m->name; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  for (i = 0; dgl_sources[i].module; i++) {
    if (devdir) {
      lua_pushfstring(L, "%s/%s", devdir, dgl_sources[i].path);
      lua_pushcclosure(L, load_dev, 1);
    }
    else {
      lua_pushinteger(L, i);
      lua_pushcclosure(L, load_embedded, 1);
    }
    lua_setfield(L, -2, dgl_sources[i].module);
  }
  lua_pop(L, 1);
  if (devdir) {  /* modules added to lua/ since the build are found too */
    lua_getglobal(L, LUA_LOADLIBNAME);
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", devdir, devdir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
  }
}
