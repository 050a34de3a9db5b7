/*
** ljson.c: the dagster.json module (require "dagster.json").
**
** json.decode(s)      -> value | nil, message
**   lua-cjson's decode (a private instance, cjson.new(), so that changes to the
**   shared cjson's settings do not reach it), then fixed up in C:
**   - every float with an integral value and |x| <= 2^53 becomes an integer
**     ("1e3" and "1.0" decode as the integer 1000 and 1; "-0" as 0);
**   - an integer literal (no fraction, no exponent) beyond 2^53 is never
**     rounded: it decodes to an integer when it fits in 64 bits
**     ("9007199254740993", "-9223372036854775808"), else to a float when a
**     double holds it exactly ("18446744073709551616"), else to the string of
**     its digits ("123456789012345678901234567890");
**   - every JSON array, empty ones included, gets json.array_mt, so that
**     json.encode(json.decode(s)) writes "[]" where s had "[]".
**   The text must be UTF-8 throughout (strings and keys included: no overlong
**   forms, surrogates or code points above U+10FFFF): otherwise decode returns
**   nil, "invalid UTF-8 at byte N" (N counts from 1, at the first byte of the
**   bad sequence). A NUL byte outside strings, which cjson would take for the
**   end of the text, returns nil, "unexpected NUL byte at byte N". Invalid
**   JSON returns nil plus cjson's own message. Nothing is raised, except for a
**   non-string argument and memory errors.
** json.encode(v)      -> string
**   nil and json.null as null; integers as "%lld"; floats in the shortest of
**   %.15g/%.16g/%.17g that reads back to the same double, with ".0" appended
**   when that looks like an integer (1.0 -> "1.0", as Lua's tostring does);
**   strings escaped per RFC 8259 (short escapes, \u00XX for other controls,
**   UTF-8 passed through; a string or key that is not UTF-8 raises "json.encode:
**   invalid UTF-8 in string at byte N at $.path"); a table is an array when its
**   keys are exactly 1..n, or when it has no keys and is marked (json.array_mt,
**   or "__jsontype" == "array" in its metatable); an object when its keys are
**   all strings, written with keys in byte order. Errors are raised as strings "json.encode: ...", with
**   " at $.path[1]" naming where the bad value is. Tables are read raw.
** json.array([t])     -> t marked as an array (t defaults to a new table)
** json.is_array(v)    -> true when v is a table marked as an array
** json.null, json.array_mt, json.version
**
** How: one pass over the text ('scan') checks its UTF-8 and finds, outside
** strings, what cjson cannot tell apart or would round: cjson decodes "[]" and
** "{}" alike, and every number as a double. Each empty object is rewritten to
** {"\xFF":null} and each integer literal beyond 2^53 in value position to the
** string "\xFF<digits>"; the fix-up then turns them back, and takes every table
** without keys for an empty array. The byte 0xFF never occurs in UTF-8, so
** once the text is known to be UTF-8 no string the server sends can pass for
** these (cjson's \u escapes only make UTF-8, and reject lone surrogates).
** Only a text that has something to rewrite is copied, and the rewrite keeps
** validity as it is: a literal in key position ({123...:1}) is left alone, and
** when cjson rejects the rewritten text, the original is decoded again so that
** messages and positions are cjson's.
*/

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
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
#define MARKER		"\xFF"		/* starts the strings the rewrite makes */
#define MARKERBYTE	0xFF		/* never in UTF-8 */

/* upvalues of every function in the module (each has its own copies) */
#define UV_DECODE	lua_upvalueindex(1)	/* cjson's decode */
#define UV_ARRAYMT	lua_upvalueindex(2)	/* json.array_mt */
#define UV_WORK		lua_upvalueindex(3)	/* encode's idle work table, or false */

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

/* classes of the bytes outside strings, for 'scan' */
#define C_OTHER		0	/* ':', literals' letters beyond 'y', junk */
#define C_SPACE		1	/* RFC 8259's whitespace, also cjson's */
#define C_QUOTE		2
#define C_LBRACE	3
#define C_LBRACKET	4
#define C_CLOSE		5	/* '}' and ']' */
#define C_COMMA		6
#define C_NUM		7	/* [-+.0-9a-yA-Y]: what cjson's numbers are made of */
#define C_HIGH		8	/* >= 0x80 */
#define C_NUL		9

static const unsigned char outclass[256] = {
  9,0,0,0,0,0,0,0,0,1,1,0,0,1,0,0,  /* 00 */
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,  /* 10 */
  1,0,2,0,0,0,0,0,0,0,0,7,6,7,7,0,  /* 20 */
  7,7,7,7,7,7,7,7,7,7,0,0,0,0,0,0,  /* 30 */
  0,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,  /* 40 */
  7,7,7,7,7,7,7,7,7,7,0,4,0,5,0,0,  /* 50 */
  0,7,7,7,7,7,7,7,7,7,7,7,7,7,7,7,  /* 60 */
  7,7,7,7,7,7,7,7,7,7,0,3,0,5,0,0,  /* 70 */
  8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,  /* 80 */
  8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,  /* 90 */
  8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,  /* a0 */
  8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,  /* b0 */
  8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,  /* c0 */
  8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,  /* d0 */
  8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,  /* e0 */
  8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8   /* f0 */
};

#define SWAR_ONES	((uint64_t)0x0101010101010101)
#define SWAR_HIGHS	((uint64_t)0x8080808080808080)

/*
** The high bit of each byte of 'v' that is '"', '\\' or >= 0x80, or 0 when
** there is none. The lowest bit set is exact; bits above it can be spurious.
*/
static uint64_t strspecial (uint64_t v) {
  uint64_t q = v ^ (SWAR_ONES * '"'), b = v ^ (SWAR_ONES * '\\');
  return (((q - SWAR_ONES) & ~q) | ((b - SWAR_ONES) & ~b) | v) & SWAR_HIGHS;
}

/* how many bytes of a word (loaded little-endian) precede the first flagged */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define firstflagged(m)	((size_t)__builtin_ctzll(m) >> 3)
#else
#define firstflagged(m)	((size_t)0)	/* the byte loop finds it */
#endif


/*
** Length of the well-formed UTF-8 sequence at 's' (s[0] >= 0x80), of at most
** 'n' bytes, or 0 when there is none: no stray continuation byte, no overlong
** form, no surrogate, nothing above U+10FFFF, nothing cut short (RFC 3629).
*/
static size_t utf8seq (const unsigned char *s, size_t n) {
  unsigned c = s[0], lo = 0x80, hi = 0xBF;
  size_t len, i;
  if (c < 0xC2) return 0;  /* continuation byte, or overlong lead C0/C1 */
  else if (c < 0xE0) len = 2;
  else if (c < 0xF0) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  /* overlong */
    else if (c == 0xED) hi = 0x9F;  /* surrogates */
  }
  else if (c < 0xF5) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  /* overlong */
    else if (c == 0xF4) hi = 0x8F;  /* above U+10FFFF */
  }
  else return 0;
  if (n < len || s[1] < lo || s[1] > hi)
    return 0;
  for (i = 2; i < len; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return len;
}


/*
** Is the token s[0..n) an integer literal that a double may not hold
** exactly: -?[1-9][0-9]* beyond 2^53, so of 16 digits or more?
*/
static int isbigint (const unsigned char *s, size_t n) {
  size_t i, d = (s[0] == '-');
  if (n - d < 16 || s[d] == '0')
    return 0;
  for (i = d; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return n - d > 16 || memcmp(s + d, "9007199254740992", 16) > 0;
}


/* Is the token s[0..n) true, false or null (the tokens that are no number)? */
static int isliteral (const unsigned char *s, size_t n) {
  return (n == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "null", 4) == 0))
      || (n == 5 && memcmp(s, "false", 5) == 0);
}


#define MAXTRACK	1024	/* nesting 'scan' follows, beyond cjson's 1000 */

typedef struct Scan {
  lua_State *L;
  const unsigned char *s;  /* the text */
  size_t len;
  size_t from;       /* first byte of the text not yet written to 'b' */
  int writing;       /* has 'b' been started (a rewrite found)? */
  size_t nobj;       /* empty objects rewritten */
  size_t nbig;       /* integer literals rewritten */
  int plain;         /* no '[' and no token but true, false, null outside strings */
  size_t bad;        /* 1-based position of the first bad byte, or 0 */
  const char *why;   /* what is wrong there */
  luaL_Buffer b;     /* the rewritten text */
} Scan;


/*
** Write to the rewritten text what comes before position 'at' and was not
** written yet, then 'n' bytes of 'r'. The buffer starts at the first rewrite,
** sized for a few of them; the text is copied only when there is one.
*/
static void rewrite (Scan *sc, size_t at, const char *r, size_t n) {
  if (!sc->writing) {
    luaL_buffinitsize(sc->L, &sc->b, sc->len + (sc->len >> 6) + 64);
    sc->writing = 1;
  }
  luaL_addlstring(&sc->b, (const char *)sc->s + sc->from, at - sc->from);
  luaL_addlstring(&sc->b, r, n);
}


/*
** One pass over the JSON text: checks that it is UTF-8 throughout and has no
** NUL byte outside strings (cjson would take it for the end of the text), and
** rewrites, outside strings, each empty object to {"\xFF":null} and each
** integer literal beyond 2^53 that is not in key position to "\xFF<digits>".
** Clears 'sc->plain' at a '[' or a token other than true, false and null
** outside strings: a text without either has nothing for the fix-up to do.
** Returns 1 and leaves the rewritten text on the stack when there was
** something to rewrite; returns 0 with the stack unchanged otherwise, or with
** 'sc->bad' set at the first bad byte. Invalid JSON is scanned without harm
** (and cjson rejects it all the same, rewritten or not).
*/
static int scan (Scan *sc) {
  const unsigned char *s = sc->s;
  size_t len = sc->len, i = 0, depth = 0;
  unsigned char isobj[MAXTRACK / 8];  /* bit d: is the container at depth d an object? */
  int keypos = 0;  /* would a string here be an object key? */
  while (i < len) {
    switch (outclass[s[i]]) {
      case C_SPACE:
        i++;
        break;
      case C_QUOTE:  /* a string: find its end, checking its UTF-8 */
        for (i++; ; ) {
          unsigned c;
          if (i + 8 <= len) {  /* plain ASCII a word at a time */
            uint64_t v, m;
            memcpy(&v, s + i, 8);
            if ((m = strspecial(v)) == 0) {
              i += 8;
              continue;
            }
            i += firstflagged(m);
          }
          if (i >= len) break;  /* unterminated: cjson will say so */
          c = s[i];
          if (c == '"') {
            i++;
            break;
          }
          else if (c == '\\') {  /* skip the escaped byte, unless not ASCII */
            i++;
            if (i < len && s[i] < 0x80) i++;
          }
          else if (c >= 0x80) {
            size_t n = utf8seq(s + i, len - i);
            if (n == 0) goto badutf8;
            i += n;
          }
          else i++;
        }
        keypos = 0;
        break;
      case C_LBRACE: {
        size_t j = i + 1;
        while (j < len && outclass[s[j]] == C_SPACE) j++;
        if (j < len && s[j] == '}') {  /* an empty object */
          rewrite(sc, i, "{\"" MARKER "\":null}", 10);
          sc->from = j + 1;
          sc->nobj++;
          i = j + 1;
          keypos = 0;
        }
        else {
          if (depth < MAXTRACK) isobj[depth / 8] |= (unsigned char)(1u << depth % 8);
          depth++;
          i++;
          keypos = 1;
        }
        break;
      }
      case C_LBRACKET:
        sc->plain = 0;
        if (depth < MAXTRACK) isobj[depth / 8] &= (unsigned char)~(1u << depth % 8);
        depth++;
        i++;
        keypos = 0;
        break;
      case C_CLOSE:
        if (depth > 0) depth--;
        i++;
        keypos = 0;
        break;
      case C_COMMA:
        keypos = (depth > MAXTRACK) ||  /* unknown: as if an object */
                 (depth > 0 && (isobj[(depth - 1) / 8] >> (depth - 1) % 8 & 1));
        i++;
        break;
      case C_NUM: {  /* a number (or a literal, or junk) */
        size_t j = i + 1;
        while (j < len && outclass[s[j]] == C_NUM) j++;
        if (!isliteral(s + i, j - i)) sc->plain = 0;  /* a number, or junk */
        if (!keypos && isbigint(s + i, j - i)) {
          rewrite(sc, i, "\"" MARKER, 2);
          luaL_addlstring(&sc->b, (const char *)s + i, j - i);
          luaL_addchar(&sc->b, '"');
          sc->from = j;
          sc->nbig++;
        }
        i = j;
        keypos = 0;
        break;
      }
      case C_HIGH: {  /* never valid here, but UTF-8 errors come first */
        size_t n = utf8seq(s + i, len - i);
        if (n == 0) goto badutf8;
        i += n;
        keypos = 0;
        break;
      }
      case C_NUL:
        sc->bad = i + 1;
        sc->why = "unexpected NUL byte";
        return 0;
      default:
        i++;
        keypos = 0;
        break;
    }
  }
  if (sc->writing) {
    luaL_addlstring(&sc->b, (const char *)s + sc->from, len - sc->from);
    luaL_pushresult(&sc->b);
  }
  return sc->writing;
 badutf8:
  sc->bad = i + 1;
  sc->why = "invalid UTF-8";
  return 0;
}


/*
** Push the value of the integer literal s[0..len) (-?[1-9][0-9]*, beyond
** 2^53): an integer when it fits, else a float when a double holds it exactly,
** else the string of its digits.
*/
static void pushbigint (lua_State *L, const char *s, size_t len) {
  int neg = (s[0] == '-');
  const char *d = s + neg;
  size_t nd = len - (size_t)neg, i;
  if (nd <= 19) {  /* below 10^19 < 2^64: no overflow */
    unsigned long long u = 0;
    for (i = 0; i < nd; i++)
      u = u * 10 + (unsigned)(d[i] - '0');
    if (u <= (unsigned long long)LUA_MAXINTEGER) {
      lua_pushinteger(L, neg ? -(lua_Integer)u : (lua_Integer)u);
      return;
    }
    if (neg && u == (unsigned long long)LUA_MAXINTEGER + 1) {
      lua_pushinteger(L, LUA_MININTEGER);
      return;
    }
  }
  if (nd <= 309) {  /* DBL_MAX has 309 digits */
    char buf[320];
    double x = strtod(s, NULL);  /* digits only: the locale plays no part */
    if (isfinite(x) && snprintf(buf, sizeof(buf), "%.0f", x) == (int)len
        && memcmp(buf, s, len) == 0) {
      lua_pushnumber(L, (lua_Number)x);
      return;
    }
  }
  lua_pushlstring(L, s, len);
}


/* what 'fixtable' and 'fixvalue' have to do */
#define F_EMPTYARR	1	/* a table without keys is an empty array */
#define F_OBJPH		2	/* {"\xFF":null} is an empty object */
#define F_BIG		4	/* "\xFF<digits>" is an integer literal */

/*
** If the value at the top of the stack, of type 'type', needs fixing up, push
** the key at 'key' when 'key' is not 0, then the value's replacement, and
** return 1; otherwise return 0. A float with an integral value and |x| <= 2^53
** becomes an integer; with F_BIG, a string "\xFF<digits>" becomes the value of
** the literal (see 'pushbigint').
*/
static int fixvalue (lua_State *L, int type, int flags, int key) {
  if (type == LUA_TNUMBER) {  /* cjson's numbers are all floats */
    lua_Number x = lua_tonumber(L, -1);
    if (x >= -MAXSAFE && x <= MAXSAFE) {  /* NaN fails */
      lua_Integer k = (lua_Integer)x;
      if ((lua_Number)k == x) {
        if (key != 0) lua_pushvalue(L, key);
        lua_pushinteger(L, k);
        return 1;
      }
    }
  }
  else if (type == LUA_TSTRING && (flags & F_BIG)) {
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len > 1 && (unsigned char)s[0] == MARKERBYTE) {
      if (key != 0) lua_pushvalue(L, key);
      pushbigint(L, s + 1, len - 1);
      return 1;
    }
  }
  return 0;
}


/* Is the value at 'idx' the string "\xFF"? Only placeholders have it. */
static int ismarker (lua_State *L, int idx) {
  size_t len;
  const char *s;
  if (lua_type(L, idx) != LUA_TSTRING) return 0;
  s = lua_tolstring(L, idx, &len);
  return len == 1 && (unsigned char)s[0] == MARKERBYTE;
}


/*
** Fix up, in place and recursively, the table at the top of the stack as cjson
** decoded it: values as 'fixvalue' says; arrays get json.array_mt: tables
** with a positive raw length (cjson's objects only have string keys) and,
** with F_EMPTYARR, tables without keys; with F_OBJPH, a placeholder for an
** empty object, {"\xFF":null}, is emptied. Returns 1 with the stack unchanged,
** or 0 when nesting is deeper than MAXDEPTH or the stack cannot grow (stack
** then left dirty).
*/
static int fixtable (lua_State *L, int depth, int flags) {
  int t = lua_gettop(L), type;
  lua_Integer n = (lua_Integer)lua_rawlen(L, t), i;
  if (depth > MAXDEPTH)
    return 0;
  if (depth % 8 == 1 && !lua_checkstack(L, 2 * 8 + 4))  /* for 8 levels */
    return 0;
  if (n == 0) {  /* an object, or an empty array */
    lua_pushnil(L);
    if (!lua_next(L, t)) {  /* no keys */
      if (!(flags & F_EMPTYARR)) return 1;
    }
    else if ((flags & F_OBJPH) && ismarker(L, -2)) {  /* key value */
      lua_pop(L, 1);  /* its only key */
      lua_pushnil(L);
      lua_rawset(L, t);
      return 1;
    }
    else {
      do {  /* key value */
        type = lua_type(L, -1);
        if (type == LUA_TTABLE) {
          if (!fixtable(L, depth + 1, flags)) return 0;
        }
        else if (fixvalue(L, type, flags, t + 1))  /* key value key new */
          lua_rawset(L, t);  /* changing a present field: next is fine */
        lua_pop(L, 1);  /* key */
      } while (lua_next(L, t));
      return 1;
    }
  }
  else {
    for (i = 1; i <= n; i++) {
      type = lua_rawgeti(L, t, i);  /* value */
      if (type == LUA_TTABLE) {
        if (!fixtable(L, depth + 1, flags)) return 0;
      }
      else if (fixvalue(L, type, flags, 0))
        lua_rawseti(L, t, i);
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
  Scan sc;
  int status, rewritten, type, flags = F_EMPTYARR;
  sc.s = (const unsigned char *)luaL_checklstring(L, 1, &sc.len);
  sc.L = L;
  sc.from = 0;
  sc.writing = 0;
  sc.nobj = sc.nbig = sc.bad = 0;
  sc.plain = 1;
  sc.why = NULL;
  lua_settop(L, 1);
  lua_pushvalue(L, UV_DECODE);  /* s decode */
  rewritten = scan(&sc);  /* s decode [text] */
  if (sc.bad != 0) {
    lua_settop(L, 1);
    luaL_pushfail(L);
    lua_pushfstring(L, "%s at byte %I", sc.why, (LUAI_UACINT)sc.bad);
    return 2;
  }
  if (!rewritten) lua_pushvalue(L, 1);
  status = lua_pcall(L, 1, 1, 0);  /* s value|message */
  if (rewritten && status != LUA_OK && status != LUA_ERRMEM) {
    lua_settop(L, 1);  /* decode the original: its message, its positions */
    lua_pushvalue(L, UV_DECODE);
    lua_pushvalue(L, 1);
    status = lua_pcall(L, 1, 1, 0);
    rewritten = 0;
    flags = 0;  /* (never decodes: fix up numbers only if it did) */
  }
  if (status == LUA_ERRMEM)
    return lua_error(L);
  if (status != LUA_OK) {  /* invalid JSON: nil, cjson's message */
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  if (rewritten) {
    if (sc.nobj > 0) flags |= F_OBJPH;
    if (sc.nbig > 0) flags |= F_BIG;
  }
  type = lua_type(L, -1);
  if (type == LUA_TTABLE) {
    if (sc.plain && !rewritten)  /* no array, no number: nothing to fix */
      return 1;
    if (!fixtable(L, 1, flags)) {
      lua_settop(L, 1);
      luaL_pushfail(L);
      lua_pushliteral(L, "json.decode: nesting too deep");
      return 2;
    }
  }
  else if (fixvalue(L, type, flags, 0))
    lua_remove(L, -2);
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
  int depth;      /* deepest table met: work slots up to W_ENTRIES(depth) used */
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


/*
** Write 's' as a JSON string, or raise when it is not UTF-8 (the server would
** reject the whole document; saying where is kinder). 'p' is where the string
** is, for the message; 'what' says whether it is a key or a value.
*/
static void addstring (Encoder *e, const Path *p, const char *what,
                       const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  luaL_Buffer *b = &e->b;
  size_t i, from = 0;
  luaL_addchar(b, '"');
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') {
      if (c >= 0x80) {
        size_t n = utf8seq((const unsigned char *)s + i, len - i);
        if (n == 0)
          encerror(e, p, "invalid UTF-8 in %s at byte %I", what, (LUAI_UACINT)(i + 1));
        i += n - 1;
      }
      continue;
    }
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
  if (depth > e->depth) e->depth = depth;
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
  else if (n == 1) {  /* one key, nothing to sort: the usual variables table */
    Path here;
    lua_pushnil(L);
    if (!lua_next(L, -2) || lua_type(L, -2) != LUA_TSTRING)  /* t key value */
      encerror(e, p, "table changed while being encoded");
    lua_rawseti(L, e->work, W_STRING);          /* t key (the value, parked) */
    lua_rawseti(L, e->work, W_ENTRIES(depth));  /* t (the key, anchored) */
    lua_pop(L, 1);
    lua_rawgeti(L, e->work, W_ENTRIES(depth));
    here.up = p; here.key = lua_tolstring(L, -1, &here.len); here.index = 0;
    lua_pop(L, 1);  /* the stack is back where the buffer left it */
    luaL_addchar(&e->b, '{');
    addstring(e, p, "key", here.key, here.len);
    luaL_addchar(&e->b, ':');
    lua_rawgeti(L, e->work, W_STRING);
    encodevalue(e, depth, &here);
    luaL_addchar(&e->b, '}');
  }
  else {
    Entry *ent = collect(e, depth, &n);
    luaL_addchar(&e->b, '{');
    for (i = 0; i < n; i++) {
      Path here;
      here.up = p; here.key = ent[i].key; here.len = ent[i].len; here.index = 0;
      if (i > 0) luaL_addchar(&e->b, ',');
      addstring(e, p, "key", ent[i].key, ent[i].len);
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
      addstring(e, p, "string", s, len);
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


#define WORK_KEEP	3	/* levels that fit the work table as made (8 slots) */

/*
** json.encode(v): see the head of this file. The work table is kept from one
** call to the next (it is most of the cost of encoding a small variables
** table): taken from UV_WORK, which holds false meanwhile, so that a call made
** during this one (by a finalizer) makes its own; given back emptied after a
** success, unless deep tables made it grow. An error just drops it.
*/
static int json_encode (lua_State *L) {
  Encoder e;
  int i;
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  e.L = L;
  e.depth = 0;
  if (lua_type(L, UV_WORK) == LUA_TTABLE) {  /* v work */
    lua_pushvalue(L, UV_WORK);
    lua_pushboolean(L, 0);
    lua_replace(L, UV_WORK);
  }
  else lua_createtable(L, 2 * WORK_KEEP + 2, 0);  /* W_STRING, WORK_KEEP levels */
  e.work = 2;
  luaL_buffinit(L, &e.b);  /* v work buffer */
  lua_pushvalue(L, 1);
  encodevalue(&e, 0, NULL);
  luaL_pushresult(&e.b);  /* v work s */
  if (e.depth <= WORK_KEEP) {
    for (i = W_STRING; i <= W_ENTRIES(e.depth); i++) {
      lua_pushnil(L);
      lua_rawseti(L, e.work, i);
    }
    lua_pushvalue(L, e.work);
    lua_replace(L, UV_WORK);
  }
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
  lua_pushboolean(L, 0);            /* M decode mt false (no work table yet) */
  luaL_setfuncs(L, json_funcs, 3);  /* M */
  lua_pushliteral(L, JSON_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
