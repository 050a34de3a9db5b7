/*
** fuzz_json.c: libFuzzer target for json.decode and json.encode (host/ljson.c).
**
** Each input is a JSON text (any bytes). The checks, written in Lua below (CHECK), abort
** on the first one that fails:
**   - decode never raises; it returns a value, or nil and a string;
**   - it agrees with a bare cjson decode on what is valid, except for the texts it rejects
**     on purpose (invalid UTF-8, NUL outside strings), and then gives cjson's message;
**   - "invalid UTF-8 at byte N" exactly when Lua's utf8.len rejects the text, at the same N
**     (unless a NUL byte outside strings comes first);
**   - the value is cjson's value but fixed up: the same keys, strings, booleans and nulls,
**     numbers that round to cjson's double, no integral float within 2^53, every non-empty
**     array marked, no marker of the rewrite left in a string or a key;
**   - encode(decode(s)) fails only on non-finite numbers, and otherwise is stable:
**     encode(decode(encode(decode(s)))) == encode(decode(s));
**   - encode(s), the input bytes as one Lua string, succeeds exactly when utf8.len accepts
**     them, and then decodes back to s; otherwise it raises "invalid UTF-8 in string at
**     byte N" with utf8.len's N.
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

static const char CHECK[] =
  "local json = require 'dagster.json'\n"
  "local cjson = require('cjson').new()\n"
  "local mtype, find = math.type, string.find\n"
  "local function check(ok, ...) if not ok then error(table.concat({...}, ' '), 0) end end\n"
  "local function ours(err)  -- the errors cjson has no counterpart for\n"
  "  return find(err, '^invalid UTF%-8 at byte %d+$') or find(err, '^unexpected NUL byte at byte %d+$')\n"
  "end\n"
  "local function same(a, c, depth)  -- a: json.decode's value, c: cjson's\n"
  "  local tc = type(c)\n"
  "  if tc == 'number' then\n"
  "    if c ~= c then return type(a) == 'number' and a ~= a end\n"
  "    if type(a) == 'string' then  -- digits beyond 64 bits\n"
  "      if not find(a, '^%-?[1-9]%d+$') then return false end\n"
  "      a = tonumber(a)\n"
  "    end\n"
  "    if type(a) ~= 'number' then return false end\n"
  "    if mtype(a) == 'float' and a == a // 1 and -2^53 <= a and a <= 2^53 then return false end\n"
  "    return a + 0.0 == c\n"
  "  elseif tc == 'table' then\n"
  "    if type(a) ~= 'table' or depth > 1100 then return false end\n"
  "    if #a > 0 and not json.is_array(a) then return false end\n"
  "    for k, v in pairs(c) do\n"
  "      if not same(a[k], v, depth + 1) then return false end\n"
  "    end\n"
  "    for k in pairs(a) do\n"
  "      if c[k] == nil then return false end\n"
  "    end\n"
  "    return true\n"
  "  elseif tc == 'string' then\n"
  "    return a == c and a:byte(1) ~= 0xFF\n"
  "  end\n"
  "  return rawequal(a, c)\n"
  "end\n"
  "return function(s)\n"
  "  local ok, v, err = pcall(json.decode, s)\n"
  "  check(ok, 'json.decode raised:', tostring(v))\n"
  "  local cok, cv = pcall(cjson.decode, s)\n"
  "  local n, upos = utf8.len(s)\n"
  "  local sok, se = pcall(json.encode, s)\n"
  "  if n then\n"
  "    check(sok, 'encode refused a UTF-8 string:', tostring(se))\n"
  "    check(json.decode(se) == s, 'a string does not read back the same:', se)\n"
  "  else\n"
  "    check(not sok and se == 'json.encode: invalid UTF-8 in string at byte ' .. upos,\n"
  "          'encode of invalid UTF-8:', tostring(se), tostring(upos))\n"
  "  end\n"
  "  if v == nil then\n"
  "    check(type(err) == 'string', 'json.decode returned nil without a message')\n"
  "    local at = err:match('^invalid UTF%-8 at byte (%d+)$')\n"
  "    if not find(err, '^unexpected NUL byte') then  -- (a NUL before bad UTF-8 stops the scan)\n"
  "      check((at ~= nil) == (n == nil), 'UTF-8 verdict differs from utf8.len:', err, tostring(upos))\n"
  "      check(at == nil or tonumber(at) == upos, 'UTF-8 position differs:', err, tostring(upos))\n"
  "    end\n"
  "    if not ours(err) then\n"
  "      check(not cok, 'rejected what cjson accepts:', err)\n"
  "      check(err == cv, 'message differs from cjson:', err, '/', tostring(cv))\n"
  "    end\n"
  "    return\n"
  "  end\n"
  "  check(n ~= nil, 'accepted invalid UTF-8 (utf8.len: byte', tostring(upos), ')')\n"
  "  check(cok, 'accepted what cjson rejects:', tostring(cv))\n"
  "  check(same(v, cv, 0), 'value differs from cjson')\n"
  "  local eok, e1 = pcall(json.encode, v)\n"
  "  if not eok then\n"
  "    check(find(tostring(e1), 'cannot encode non-finite number', 1, true), 'encode raised:', tostring(e1))\n"
  "    return\n"
  "  end\n"
  "  local v2, err2 = json.decode(e1)\n"
  "  check(v2 ~= nil, 'decode(encode(v)) failed:', tostring(err2))\n"
  "  local e2 = json.encode(v2)\n"
  "  check(e2 == e1, 'encode/decode not stable:', e1, '/', e2)\n"
  "end\n";

static lua_State *L;


int LLVMFuzzerInitialize (int *argc, char ***argv) {
  (void)argc; (void)argv;
  L = luaL_newstate();
  if (L == NULL) abort();
  dgl_openlibs(L, NULL);
  if (luaL_loadbufferx(L, CHECK, sizeof(CHECK) - 1, "=fuzz_json", "t") != LUA_OK
      || lua_pcall(L, 0, 1, 0) != LUA_OK) {  /* check */
    fprintf(stderr, "fuzz_json: %s\n", lua_tostring(L, -1));
    abort();
  }
  return 0;
}


int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  lua_settop(L, 1);
  lua_pushvalue(L, 1);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_json: %s\n", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    abort();
  }
  return 0;
}
