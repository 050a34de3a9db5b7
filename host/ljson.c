/*
** ljson.c: the dagster.json module (require "dagster.json").
**
** json.decode(s)      -> value | nil, message
**   lua-cjson's decode (a private instance, cjson.new(), so that changes to the
**   shared cjson's settings do not reach it), then fixed up in C:
**   - every float with an integral value and |x| <= 2^53 becomes an integer
**     ("1e3" and "1.0" decode as the integer 1000 and 1; "-0" as 0; the text
**     "9007199254740993" as 2^53, since cjson already rounded it to a double);
**   - every JSON array, empty ones included, gets json.array_mt, so that
**     json.encode(json.decode(s)) writes "[]" where s had "[]".
**   Invalid JSON returns nil plus cjson's own message; nothing is raised,
**   except for a non-string argument and memory errors.
** json.encode(v)      -> string
**   nil and json.null as null; integers as "%lld"; floats in the shortest of
**   %.15g/%.16g/%.17g that reads back to the same double, with ".0" appended
**   when that looks like an integer (1.0 -> "1.0", as Lua's tostring does);
**   strings escaped per RFC 8259 (short escapes, \u00XX for other controls,
**   bytes >= 0x80 passed through); a table is an array when its keys are exactly
**   1..n, or when it has no keys and is marked (json.array_mt, or "__jsontype"
**   == "array" in its metatable); an object when its keys are all strings, written
**   with keys in byte order. Errors are raised as strings "json.encode: ...", with
**   " at $.path[1]" naming where the bad value is. Tables are read raw.
** json.array([t])     -> t marked as an array (t defaults to a new table)
** json.is_array(v)    -> true when v is a table marked as an array
** json.null, json.array_mt, json.version
**
** Empty arrays: cjson decodes "[]" and "{}" alike, so decode first rewrites each
** empty array outside strings to "[nan]" (which cjson decodes as {NaN}) and the
** fix-up turns every {NaN} back into a marked empty table. The rewrite is skipped
** when the text has a "nan" token of its own outside strings (then empty arrays
** decode unmarked, as empty objects) and undone when cjson rejects the rewritten
** text: the original is decoded again, so messages and positions are cjson's.
*/

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "dagster.h"


#define JSON_VERSION	"dagster.json 1"
#define ARRAY_MT	"dagster.json.array"	/* registry key and __name */
#define MAXDEPTH	1000		/* nested tables, as cjson's decode_max_depth */
#define MAXSAFE		9007199254740992.0	/* 2^53 */
#define PLACEHOLDER	"[nan]"		/* stands for an empty array while decoding */

/* upvalues of every function in the module */
#define UV_DECODE	lua_upvalueindex(1)	/* cjson's decode */
#define UV_ARRAYMT	lua_upvalueindex(2)	/* json.array_mt */

#define addliteral(B,s)	luaL_addlstring(B, "" s, sizeof(s) - 1)




/*
** Is the table at index 't' marked as an array, by json.array_mt or by
** "__jsontype" == "array" in its metatable (read raw)? Stack unchanged.
*/
static int ismarked (lua_State *L, int t) {
  int yes = 0;
  if (lua_getmetatable(L, t)) {  /* mt */
    if (lua_rawequal(L, -1, UV_ARRAYMT))
      yes = 1;
    else {
      lua_pushliteral(L, "__jsontype");
      if (lua_rawget(L, -2) == LUA_TSTRING)  /* mt type */
        yes = (strcmp(lua_tostring(L, -1), "array") == 0);
      lua_pop(L, 1);  /* mt */
    }
    lua_pop(L, 1);
  }
  return yes;
}


/*
** {======================================================
** Decoding
** =======================================================
*/

static int isjsonspace (char c) {  /* RFC 8259's whitespace, also cjson's */
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}


/*
** Count the empty arrays ("[", whitespace, "]") outside strings of the JSON
** text 's'. When 'b' is not NULL, also copy the text into 'b' with each of them
** replaced by PLACEHOLDER. Sets '*hasnan' when the text has a "nan" of its own
** (any case) outside strings, which would make the placeholder ambiguous.
** Invalid text is scanned without harm: cjson will reject it anyway.
*/
static size_t scanempty (const char *s, size_t len, int *hasnan,
                         luaL_Buffer *b) {
  size_t i = 0, from = 0, n = 0;
  while (i < len) {
    char c = s[i];
    if (c == '"') {  /* skip the string, escapes included */
      for (i++; i < len && s[i] != '"'; i++)
        if (s[i] == '\\') i++;
      i++;
    }
    else if (c == '[') {
      size_t j = i + 1;
      while (j < len && isjsonspace(s[j])) j++;
      if (j < len && s[j] == ']') {
        n++;
        if (b != NULL) {
          luaL_addlstring(b, s + from, i - from);
          addliteral(b, PLACEHOLDER);
          from = j + 1;
        }
        i = j + 1;
      }
      else i++;
    }
    else {
      if ((c | 0x20) == 'a' && i > 0 && (s[i - 1] | 0x20) == 'n')
        *hasnan = 1;
      i++;
    }
  }
  if (b != NULL)
    luaL_addlstring(b, s + from, len - from);
  return n;
}


/*
** If the value at 'idx' is a float with an integral value and |x| <= 2^53,
** set '*i' to it and return 1; otherwise return 0.
*/
static int tointeger53 (lua_State *L, int idx, lua_Integer *i) {
  lua_Number x;
  if (lua_type(L, idx) != LUA_TNUMBER || lua_isinteger(L, idx))
    return 0;
  x = lua_tonumber(L, idx);
  if (!(x >= -MAXSAFE && x <= MAXSAFE))  /* NaN fails too */
    return 0;
  *i = (lua_Integer)x;
  return (lua_Number)*i == x;
}


/* Is the array at index 't', of length 1, a decoded PLACEHOLDER ({NaN})? */
static int isplaceholder (lua_State *L, int t) {
  int yes;
  lua_rawgeti(L, t, 1);
  yes = (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)
         && isnan((double)lua_tonumber(L, -1)));
  lua_pop(L, 1);
  return yes;
}


/*
** Fix up, in place and recursively, the table at the top of the stack as cjson
** decoded it: integral floats become integers (see 'tointeger53'); arrays
** (tables with a positive raw length: cjson's objects only have string keys)
** get json.array_mt, and so do placeholders once emptied, when 'ph' says the
** text was rewritten. Returns 1 with the stack unchanged, or 0 when nesting is
** deeper than MAXDEPTH or the stack cannot grow (stack then left dirty).
*/
static int fixtable (lua_State *L, int depth, int ph) {
  int t = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, t), i, k;
  if (depth > MAXDEPTH || !lua_checkstack(L, 4))
    return 0;
  if (n == 0) {  /* an object (maybe empty) */
    lua_pushnil(L);
    while (lua_next(L, t)) {  /* key value */
      if (tointeger53(L, -1, &k)) {  /* changing a present field: next is fine */
        lua_pushvalue(L, -2);
        lua_pushinteger(L, k);
        lua_rawset(L, t);
      }
      else if (lua_type(L, -1) == LUA_TTABLE && !fixtable(L, depth + 1, ph))
        return 0;
      lua_pop(L, 1);  /* key */
    }
    return 1;
  }
  if (ph && n == 1 && isplaceholder(L, t)) {
    lua_pushnil(L);
    lua_rawseti(L, t, 1);
  }
  else {
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, t, i);  /* value */
      if (tointeger53(L, -1, &k)) {
        lua_pushinteger(L, k);
        lua_rawseti(L, t, i);
      }
      else if (lua_type(L, -1) == LUA_TTABLE && !fixtable(L, depth + 1, ph))
        return 0;
      lua_pop(L, 1);
    }
  }
  lua_pushvalue(L, UV_ARRAYMT);
  lua_setmetatable(L, t);
  return 1;
}


/*
** json.decode(s): see the head of this file. Calls cjson through lua_pcall;
** cjson frees its own buffers before raising. Memory errors are re-raised.
*/
static int json_decode (lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int hasnan = 0, status, ph;
  size_t nempty = scanempty(s, len, &hasnan, NULL);
  lua_Integer k;
  lua_settop(L, 1);
  ph = (nempty > 0 && !hasnan);
  lua_pushvalue(L, UV_DECODE);
  if (ph) {  /* decode the text with empty arrays rewritten */
    luaL_Buffer b;
    luaL_buffinitsize(L, &b, len + 3 * nempty);
    scanempty(s, len, &hasnan, &b);
    luaL_pushresult(&b);
  }
  else lua_pushvalue(L, 1);
  status = lua_pcall(L, 1, 1, 0);  /* s value|message */
  if (status != LUA_OK && status != LUA_ERRMEM && ph) {
    lua_settop(L, 1);  /* decode the original: its message, its positions */
    lua_pushvalue(L, UV_DECODE);
    lua_pushvalue(L, 1);
    status = lua_pcall(L, 1, 1, 0);
    ph = 0;
  }
  if (status == LUA_ERRMEM)
    return lua_error(L);
  if (status != LUA_OK) {  /* invalid JSON: nil, cjson's message */
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  if (lua_type(L, -1) == LUA_TTABLE) {
    if (!fixtable(L, 1, ph)) {
      lua_settop(L, 1);
      luaL_pushfail(L);
      lua_pushliteral(L, "json.decode: nesting too deep");
      return 2;
    }
  }
  else if (tointeger53(L, -1, &k)) {
    lua_pop(L, 1);
    lua_pushinteger(L, k);
  }
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** Encoding
** The output is a luaL_Buffer, so an error leaves no C memory behind. The
** buffer needs the stack at the same height at each of its operations, so
** nothing stays on the stack across them: the tables being walked, the keys
** of objects and the string being written are anchored in a work table that
** sits below the buffer. The stack use is therefore constant (well within
** LUA_MINSTACK) and only the C recursion grows with depth.
** =======================================================
*/

#define NUMBUF		64

/* slots of the work table */
#define W_STRING	1		/* the string being written */
#define W_HOLD(d)	(2 * (d))	/* table at depth d (array, or object's pairs) */
#define W_ENTRIES(d)	(2 * (d) + 1)	/* sorted Entry array of the object at d */

typedef struct Encoder {
  lua_State *L;
  int work;       /* stack index of the work table */
  luaL_Buffer b;  /* the output */
} Encoder;

typedef struct Entry {  /* a key of an object being written */
  const char *key;  /* anchored in its pairs table */
  size_t len;
  lua_Integer at;   /* index of its value in that pairs table */
} Entry;

typedef struct Path {  /* where a value is, for error messages */
  const struct Path *up;  /* NULL at the top */
  const char *key;        /* key in an object, or NULL for an array index */
  size_t len;
  lua_Integer index;
} Path;


/* Push "$" followed by ".key" and "[i]" parts leading to 'p'. */
static void pushpath (lua_State *L, const Path *p) {
  if (p == NULL) {
    lua_pushliteral(L, "$");
    return;
  }
  pushpath(L, p->up);
  if (p->key != NULL) {
    lua_pushliteral(L, ".");
    lua_pushlstring(L, p->key, p->len);
    lua_concat(L, 3);
  }
  else {
    lua_pushfstring(L, "[%I]", (LUAI_UACINT)p->index);
    lua_concat(L, 2);
  }
}


/*
** Raise "json.encode: <message>", followed by " at <path>" when 'p' is not
** NULL. The buffer is abandoned where it is: its box is an ordinary value on
** the stack, released when the error unwinds it.
*/
static int encerror (Encoder *e, const Path *p, const char *fmt, ...) {
  lua_State *L = e->L;
  va_list ap;
  lua_pushliteral(L, "json.encode: ");
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  if (p != NULL) {
    lua_pushliteral(L, " at ");
    pushpath(L, p);
    lua_concat(L, 4);
  }
  else lua_concat(L, 2);
  return lua_error(L);
}


/* Write 's' as a JSON string. */
static void addstring (luaL_Buffer *b, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t i, from = 0;
  luaL_addchar(b, '"');
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    luaL_addlstring(b, s + from, i - from);
    from = i + 1;
    switch (c) {
      case '"': addliteral(b, "\\\""); break;
      case '\\': addliteral(b, "\\\\"); break;
      case '\b': addliteral(b, "\\b"); break;
      case '\f': addliteral(b, "\\f"); break;
      case '\n': addliteral(b, "\\n"); break;
      case '\r': addliteral(b, "\\r"); break;
      case '\t': addliteral(b, "\\t"); break;
      default: {
        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        luaL_addlstring(b, u, sizeof(u));
        break;
      }
    }
  }
  luaL_addlstring(b, s + from, len - from);
  luaL_addchar(b, '"');
}


/*
** Format the number at the top of the stack into 'buf' (NUMBUF bytes) as
** JSON and return its length; see the head of this file. Raises on NaN and
** infinities. Formatting and the round-trip check use the C locale's
** conventions alike; a one-byte locale decimal point is then made a '.'.
*/
static size_t formatnumber (Encoder *e, const Path *p, char *buf) {
  lua_State *L = e->L;
  double x;
  int len, prec, i;
  if (lua_isinteger(L, -1))
    return (size_t)snprintf(buf, NUMBUF, LUA_INTEGER_FMT,
                            (LUAI_UACINT)lua_tointeger(L, -1));
  x = (double)lua_tonumber(L, -1);
  if (!isfinite(x))
    encerror(e, p, "cannot encode non-finite number");
  for (prec = 15; ; prec++) {  /* shortest that reads back the same */
    len = snprintf(buf, NUMBUF, "%.*g", prec, x);
    if (prec == 17 || strtod(buf, NULL) == x)
      break;
  }
  for (i = 0; i < len; i++)
    if (strchr("0123456789+-eE", buf[i]) == NULL)
      buf[i] = '.';
  if (buf[strspn(buf, "-0123456789")] == '\0') {  /* looks like an int? */
    buf[len++] = '.';
    buf[len++] = '0';
    buf[len] = '\0';
  }
  return (size_t)len;
}


/*
** Classify the table at index 't' (not a pseudo-index): return 1 for an array
** (keys exactly 1..n, or no keys and marked), 0 for an object (string keys
** only, maybe none), with the number of keys in '*n'. Raises otherwise.
** Stack unchanged; nothing is allocated while traversing.
*/
static int classify (Encoder *e, int t, const Path *p, lua_Integer *n) {
  lua_State *L = e->L;
  lua_Integer count = 0, nint = 0, maxint = 0;
  int bad = LUA_TNONE;  /* type of a key neither string nor positive integer */
  lua_pushnil(L);
  while (lua_next(L, t)) {  /* key value */
    lua_pop(L, 1);
    count++;
    if (lua_type(L, -1) == LUA_TSTRING)
      continue;
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
      nint++;
      if (lua_tointeger(L, -1) > maxint) maxint = lua_tointeger(L, -1);
    }
    else if (bad == LUA_TNONE)
      bad = lua_type(L, -1);
  }
  *n = count;
  if (count == 0)
    return ismarked(L, t);
  if (nint == count && maxint == count)
    return 1;
  if (bad != LUA_TNONE)
    encerror(e, p, "cannot encode table with key of type %s",
             lua_typename(L, bad));
  if (nint == count)
    encerror(e, p, "cannot encode sparse array (keys are not 1..n)");
  if (ismarked(L, t))
    encerror(e, p, "cannot encode array with key of type string");
  if (nint > 0)
    encerror(e, p, "cannot encode table with key of type number"
                   " (mixed array and object keys)");
  return 0;
}


/* qsort order of Entry: bytewise (memcmp), shorter first on a tie */
static int cmpentry (const void *a, const void *b) {
  const Entry *x = (const Entry *)a, *y = (const Entry *)b;
  size_t len = (x->len < y->len) ? x->len : y->len;
  int c = memcmp(x->key, y->key, len);
  return (c != 0) ? c : (x->len > y->len) - (x->len < y->len);
}


/*
** Pop the object at the top of the stack, of 'n' string keys, after copying it
** into work: W_HOLD(depth) gets a pairs table {k1, v1, k2, v2, ...} and
** W_ENTRIES(depth) an array of Entry sorted by key, which is returned with its
** length in '*n'. (Allocating can run finalizers, which could change the
** object: keys beyond 'n' and non-string keys are then ignored.)
*/
static Entry *collect (Encoder *e, int depth, lua_Integer *n) {
  lua_State *L = e->L;
  int t = lua_gettop(L);
  lua_Integer m = 0, i;
  Entry *ent;
  lua_createtable(L, (*n <= 0x3fffffff) ? (int)(2 * *n) : 0, 0);  /* t pairs */
  lua_pushnil(L);
  while (m < *n && lua_next(L, t)) {  /* t pairs key value */
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 1);
      continue;
    }
    lua_rawseti(L, t + 1, 2 * m + 2);  /* value */
    lua_pushvalue(L, -1);
    lua_rawseti(L, t + 1, 2 * m + 1);  /* key */
    m++;
  }
  lua_settop(L, t + 1);
  ent = (Entry *)lua_newuserdatauv(L, (size_t)m * sizeof(Entry), 0);
  for (i = 0; i < m; i++) {  /* the pairs table keeps the keys alive */
    lua_rawgeti(L, t + 1, 2 * i + 1);
    ent[i].key = lua_tolstring(L, -1, &ent[i].len);
    ent[i].at = 2 * i + 2;
    lua_pop(L, 1);
  }
  qsort(ent, (size_t)m, sizeof(Entry), cmpentry);
  lua_rawseti(L, e->work, W_ENTRIES(depth));  /* t pairs */
  lua_rawseti(L, e->work, W_HOLD(depth));     /* t */
  lua_pop(L, 1);
  *n = m;
  return ent;
}


static void encodevalue (Encoder *e, int depth, const Path *p);

/*
** Write the table at the top of the stack, at nesting 'depth' (1 for the
** outermost table), and pop it.
*/
static void encodetable (Encoder *e, int depth, const Path *p) {
  lua_State *L = e->L;
  lua_Integer n, i;
  if (depth > MAXDEPTH)  /* the path would be as long: none */
    encerror(e, NULL, "nesting too deep (more than %d levels, or a cycle)",
             MAXDEPTH);
  if (classify(e, lua_gettop(L), p, &n)) {
    lua_rawseti(L, e->work, W_HOLD(depth));  /* anchor and pop it */
    luaL_addchar(&e->b, '[');
    for (i = 1; i <= n; i++) {
      Path here;
      here.up = p; here.key = NULL; here.len = 0; here.index = i;
      if (i > 1) luaL_addchar(&e->b, ',');
      lua_rawgeti(L, e->work, W_HOLD(depth));
      lua_rawgeti(L, -1, i);
      lua_remove(L, -2);
      encodevalue(e, depth, &here);
    }
    luaL_addchar(&e->b, ']');
  }
  else if (n == 0) {
    lua_pop(L, 1);
    addliteral(&e->b, "{}");
  }
  else {
    Entry *ent = collect(e, depth, &n);
    luaL_addchar(&e->b, '{');
    for (i = 0; i < n; i++) {
      Path here;
      here.up = p; here.key = ent[i].key; here.len = ent[i].len; here.index = 0;
      if (i > 0) luaL_addchar(&e->b, ',');
      addstring(&e->b, ent[i].key, ent[i].len);
      luaL_addchar(&e->b, ':');
      lua_rawgeti(L, e->work, W_HOLD(depth));
      lua_rawgeti(L, -1, ent[i].at);
      lua_remove(L, -2);
      encodevalue(e, depth, &here);
    }
    luaL_addchar(&e->b, '}');
  }
}


/*
** Write the value at the top of the stack, found inside tables nested
** 'depth' deep, and pop it (before touching the buffer).
*/
static void encodevalue (Encoder *e, int depth, const Path *p) {
  lua_State *L = e->L;
  switch (lua_type(L, -1)) {
    case LUA_TNIL:
      lua_pop(L, 1);
      addliteral(&e->b, "null");
      break;
    case LUA_TBOOLEAN: {
      int v = lua_toboolean(L, -1);
      lua_pop(L, 1);
      if (v) addliteral(&e->b, "true");
      else addliteral(&e->b, "false");
      break;
    }
    case LUA_TNUMBER: {
      char buf[NUMBUF];
      size_t len = formatnumber(e, p, buf);
      lua_pop(L, 1);
      luaL_addlstring(&e->b, buf, len);
      break;
    }
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, -1, &len);
      lua_rawseti(L, e->work, W_STRING);  /* anchor and pop it */
      addstring(&e->b, s, len);
      break;
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, -1) == NULL) {  /* json.null, cjson.null */
        lua_pop(L, 1);
        addliteral(&e->b, "null");
        break;
      }
      encerror(e, p, "cannot encode value of type userdata");
      break;
    case LUA_TTABLE:
      encodetable(e, depth + 1, p);
      break;
    default:
      encerror(e, p, "cannot encode value of type %s", luaL_typename(L, -1));
      break;
  }
}


/* json.encode(v): see the head of this file. */
static int json_encode (lua_State *L) {
  Encoder e;
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  e.L = L;
  lua_newtable(L);  /* v work */
  e.work = 2;
  luaL_buffinit(L, &e.b);  /* v work buffer */
  lua_pushvalue(L, 1);
  encodevalue(&e, 0, NULL);
  luaL_pushresult(&e.b);
  return 1;
}

/* }====================================================== */


/* json.array([t]): mark t (default: a new table) as an array; return it. */
static int json_array (lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  lua_pushvalue(L, UV_ARRAYMT);
  lua_setmetatable(L, 1);
  return 1;
}


/* json.is_array(v): is v a table marked as an array? */
static int json_is_array (lua_State *L) {
  lua_pushboolean(L, lua_type(L, 1) == LUA_TTABLE && ismarked(L, 1));
  return 1;
}


static const luaL_Reg json_funcs[] = {
  {"decode",   json_decode},
  {"encode",   json_encode},
  {"array",    json_array},
  {"is_array", json_is_array},
  {NULL, NULL}
};


/*
** Push a private lua-cjson instance: cjson.new() when there is one, else the
** shared module. cjson is found with the global 'require' (the host preloads
** it; a plain lua5.4 finds Debian's cjson.so on the cpath).
*/
static void pushcjson (lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cjson");
  lua_call(L, 1, 1);  /* cjson */
  if (lua_getfield(L, -1, "new") == LUA_TFUNCTION) {
    lua_call(L, 0, 1);  /* cjson instance */
    lua_remove(L, -2);
  }
  else lua_pop(L, 1);
}


/*
** Open the module; safe to run again (json.array_mt lives in the registry,
** so every opening shares it).
*/
int luaopen_dagster_json (lua_State *L) {
  luaL_newlibtable(L, json_funcs);  /* M */
  pushcjson(L);                     /* M cjson */
  lua_getfield(L, -1, "null");
  lua_setfield(L, -3, "null");
  if (lua_getfield(L, -1, "decode") != LUA_TFUNCTION)  /* M cjson decode */
    return luaL_error(L, "dagster.json: cjson has no decode function");
  lua_remove(L, -2);                /* M decode */
  if (luaL_newmetatable(L, ARRAY_MT)) {  /* M decode mt */
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__jsontype");
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, -4, "array_mt");
  luaL_setfuncs(L, json_funcs, 2);  /* M */
  lua_pushliteral(L, JSON_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
