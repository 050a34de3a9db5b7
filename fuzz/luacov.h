/*
** luacov.h: Lua line coverage for the libFuzzer targets that run Lua code (fuzz_response.c,
** fuzz_methods.c). libFuzzer sees the coverage of the C code only (Lua itself is Debian's,
** uninstrumented), so a line hook feeds it the Lua lines too, through libFuzzer's extra
** counters: one counter per (chunk, line), hashed. Inputs that take new paths through the
** Lua modules are kept.
**
** Define NLUACOV (the number of counters) before including it, then install the hook with
** lua_sethook(L, linehook, LUA_MASKLINE, 0). Everything here is static: one copy a target.
*/
#ifndef LUACOV_H
#define LUACOV_H

#include <stdint.h>

#include "lua.h"

#ifndef NLUACOV
#error "define NLUACOV (the number of line counters) before including luacov.h"
#endif

__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t luacov[NLUACOV];


/* line hook: count the line in its chunk (chunk names are interned: the pointer is stable) */
static void linehook (lua_State *l, lua_Debug *ar) {
  uintptr_t h;
  if (!lua_getinfo(l, "S", ar)) return;
  h = ((uintptr_t)ar->source >> 4) * 31u + (uintptr_t)ar->currentline * 2654435761u;
  luacov[h % NLUACOV]++;
}

#endif
