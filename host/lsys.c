/*
** lsys.c: dagster.sys, what the process asks of the system. require "dagster.sys".
**
**   sys.now()         -> seconds on a monotonic clock (deadlines, intervals, durations)
**   sys.time()        -> the wall clock, in seconds since the epoch with their fraction
**                        (os.time's whole seconds cannot order two events of one second)
**   sys.isatty(fd)    -> whether the file descriptor (1 stdout, 2 stderr) is a terminal
**   sys.pid()         -> the process id
**   sys.hostname()    -> the machine's host name
**
** The terminal helpers (dagster.term), the waits and the playbooks read these; none of them
** needs the transport for it.
*/
#include <time.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"

#include "dagster.h"


static int s_now (lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}


static int s_time (lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}


static int s_isatty (lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
  return 1;
}


static int s_pid (lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getpid());
  return 1;
}


static int s_hostname (lua_State *L) {
  char buf[256];
  if (gethostname(buf, sizeof buf) != 0) buf[0] = '\0';
  buf[sizeof buf - 1] = '\0';
  lua_pushstring(L, buf);
  return 1;
}


static const luaL_Reg funcs[] = {
  {"now",      s_now},
  {"time",     s_time},
  {"isatty",   s_isatty},
  {"pid",      s_pid},
  {"hostname", s_hostname},
  {NULL, NULL}
};


int luaopen_dagster_sys (lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
