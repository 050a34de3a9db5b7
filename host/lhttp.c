/*
** lhttp.c: dagster.http, the libcurl transport. require "dagster.http".
**
**   http.session{headers=, timeout=, connect_timeout=, insecure=, cainfo=,
**                max_response_bytes=, user_agent=}          -> session
**   session:post(url, body)  -> status, body, content_type    (any HTTP answer)
**                            -> nil, err                      (no HTTP answer: err is a
**                                                              dagster.Error)
**   session:close()          (also __gc and __close; harmless twice)
**   http.version()           -> "libcurl/7.88.1 OpenSSL/3.0.x ..."
**   http.sleep(seconds), http.now() -> monotonic seconds
**
** One easy handle per session, kept for the session's life, so calls reuse one keep-alive
** connection. Custom headers live only in a curl_slist inside the userdata: they are never
** pushed back to Lua and never formatted into a message. Redirects are not followed (a 3xx
** comes back as a status), so headers never travel to another host.
**
** Lua errors are raised only for bad arguments and closed handles, never while libcurl is
** running: callbacks only append to the userdata's buffer, which __gc frees.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "lua.h"
#include "lauxlib.h"

#include "dagster.h"

#define SESSION_MT          "dagster.http.Session"
#define DEFAULT_MAX_BYTES   ((size_t)64 << 20)   /* 64 MiB */
#define DEFAULT_TIMEOUT_MS  300000L              /* the Python client's 300 s */
#define KEEP_BUFFER         ((size_t)1 << 20)    /* keep at most 1 MiB between calls */


typedef struct Session {
  CURL *curl;                   /* NULL when closed */
  struct curl_slist *headers;
  char *buf;                    /* response body of the current call */
  size_t len, cap;
  size_t max_bytes;
  int too_large, oom;
  char errbuf[CURL_ERROR_SIZE];
} Session;


static int global_ready = 0;

static int ensure_global (void) {
  if (!global_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 0;
    global_ready = 1;
  }
  return 1;
}


const char *dgl_curl_version (void) {
  return curl_version();
}


/*
** Write callback: appends to the session buffer; refuses (returns 0, which aborts the
** transfer) past max_bytes or when memory runs out. Never touches Lua.
*/
static size_t on_write (char *data, size_t size, size_t nmemb, void *ud) {
  Session *s = (Session *)ud;
  size_t n = size * nmemb;
  if (n > s->max_bytes - s->len) { s->too_large = 1; return 0; }
  if (s->len + n > s->cap) {
    size_t ncap = s->cap ? s->cap : 16384;
    char *nbuf;
    while (ncap < s->len + n) ncap = (ncap > s->max_bytes / 2) ? s->max_bytes : ncap * 2;
    nbuf = (char *)realloc(s->buf, ncap);
    if (nbuf == NULL) { s->oom = 1; return 0; }
    s->buf = nbuf; s->cap = ncap;
  }
  memcpy(s->buf + s->len, data, n);
  s->len += n;
  return n;
}


static Session *checksession (lua_State *L) {
  Session *s = (Session *)luaL_checkudata(L, 1, SESSION_MT);
  if (s->curl == NULL)
    luaL_error(L, "attempt to use a closed dagster.http session");
  return s;
}


/*
** One function for close, __gc and __close: frees everything, harmless twice.
*/
static int s_close (lua_State *L) {
  Session *s = (Session *)luaL_checkudata(L, 1, SESSION_MT);
  if (s->curl) { curl_easy_cleanup(s->curl); s->curl = NULL; }
  if (s->headers) { curl_slist_free_all(s->headers); s->headers = NULL; }
  free(s->buf); s->buf = NULL; s->len = s->cap = 0;
  return 0;
}


static int s_tostring (lua_State *L) {
  Session *s = (Session *)luaL_checkudata(L, 1, SESSION_MT);
  if (s->curl) lua_pushfstring(L, "dagster.http.Session (%p)", (void *)s);
  else lua_pushliteral(L, "dagster.http.Session (closed)");
  return 1;
}


/* reads an optional number field of the options table (at index 1) in seconds, as ms */
static long opt_ms (lua_State *L, const char *key, long def) {
  long ms = def;
  if (lua_getfield(L, 1, key) != LUA_TNIL) {
    lua_Number sec;
    if (!lua_isnumber(L, -1))
      luaL_error(L, "bad option '%s' to 'session' (number expected, got %s)", key,
                 luaL_typename(L, -1));
    sec = lua_tonumber(L, -1);
    if (!(sec >= 0) || sec > 1e8)
      luaL_error(L, "bad option '%s' to 'session' (must be between 0 and 1e8 seconds)", key);
    ms = (long)ceil(sec * 1000);
  }
  lua_pop(L, 1);
  return ms;
}


/* header names and values may not hold CR or LF (that would forge other headers) */
static int has_crlf (const char *s, size_t n) {
  return memchr(s, '\r', n) != NULL || memchr(s, '\n', n) != NULL;
}


/*
** Adds one header line to the session's list; the list stays owned by the userdata, so
** an error raised afterwards leaks nothing.
*/
static void add_header (lua_State *L, Session *s, const char *line) {
  struct curl_slist *n = curl_slist_append(s->headers, line);
  if (n == NULL) luaL_error(L, "not enough memory");
  s->headers = n;
}


/*
** Copies opts.headers (name -> value strings) into the session's header list. The value
** is never echoed in an error message.
*/
static void set_headers (lua_State *L, Session *s) {
  add_header(L, s, "Content-Type: application/json");
  add_header(L, s, "Accept: application/json");
  add_header(L, s, "Expect:");
  if (lua_getfield(L, 1, "headers") != LUA_TNIL) {
    luaL_argexpected(L, lua_istable(L, -1), 1, "table as option 'headers'");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      size_t kl, vl;
      const char *k, *v;
      if (lua_type(L, -2) != LUA_TSTRING)
        luaL_error(L, "bad option 'headers' to 'session' (header names must be strings)");
      k = lua_tolstring(L, -2, &kl);
      if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "bad option 'headers' to 'session' (value of header '%s' must be a string)", k);
      v = lua_tolstring(L, -1, &vl);  /* a number is converted in place: it is a copy */
      if (kl == 0 || has_crlf(k, kl) || memchr(k, ':', kl) != NULL || has_crlf(v, vl))
        luaL_error(L, "bad option 'headers' to 'session' (invalid header '%s')", has_crlf(k, kl) ? "?" : k);
      lua_pushfstring(L, "%s: %s", k, v);
      add_header(L, s, lua_tostring(L, -1));
      lua_pop(L, 2);  /* line, value */
    }
  }
  lua_pop(L, 1);
}


/*
** http.session(opts) -> session. The userdata is created closed, given its metatable, and
** only then does it acquire the easy handle and header list.
*/
static int l_session (lua_State *L) {
  Session *s;
  long timeout, connect;
  const char *cainfo = NULL, *agent = DGL_PROGNAME "/" DAGSTER_LUA_VERSION;
  int insecure = 0;
  if (lua_isnoneornil(L, 1)) { lua_settop(L, 0); lua_newtable(L); }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  s = (Session *)lua_newuserdatauv(L, sizeof(Session), 0);
  memset(s, 0, sizeof(*s));
  luaL_setmetatable(L, SESSION_MT);
  lua_insert(L, 1);          /* session at 1... */
  lua_insert(L, 1);          /* ...then options back at 1, session at 2 */
  timeout = opt_ms(L, "timeout", DEFAULT_TIMEOUT_MS);
  connect = opt_ms(L, "connect_timeout", timeout > 0 && timeout < 10000 ? timeout : 10000);
  s->max_bytes = DEFAULT_MAX_BYTES;
  if (lua_getfield(L, 1, "max_response_bytes") != LUA_TNIL) {
    lua_Integer n = lua_tointeger(L, -1);
    if (!lua_isinteger(L, -1) || n <= 0)
      luaL_error(L, "bad option 'max_response_bytes' to 'session' (positive integer expected)");
    s->max_bytes = (size_t)n;
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "insecure");
  insecure = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "cainfo") != LUA_TNIL)
    cainfo = luaL_checkstring(L, -1);  /* stays on the stack until we return */
  if (lua_getfield(L, 1, "user_agent") != LUA_TNIL)
    agent = luaL_checkstring(L, -1);
  set_headers(L, s);
  if (!ensure_global() || (s->curl = curl_easy_init()) == NULL)
    luaL_error(L, "cannot initialise libcurl");
  curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
  curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers);
  curl_easy_setopt(s->curl, CURLOPT_USERAGENT, agent);
  curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, timeout);
  curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, connect);
  curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(s->curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(s->curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
  curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
  if (cainfo) curl_easy_setopt(s->curl, CURLOPT_CAINFO, cainfo);
  curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, (void *)s);
  curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
  lua_pushvalue(L, 2);
  return 1;
}


/*
** Pushes url with any "user:password@" removed, for messages.
*/
static void push_safe_url (lua_State *L, const char *url) {
  const char *p = strstr(url, "://");
  const char *host = p ? p + 3 : url;
  const char *end = host + strcspn(host, "/?#");
  const char *at = NULL, *q;
  for (q = host; q < end; q++) if (*q == '@') at = q;
  if (at == NULL) { lua_pushstring(L, url); return; }
  lua_pushlstring(L, url, (size_t)(host - url));
  lua_pushstring(L, at + 1);
  lua_concat(L, 2);
}


/*
** Classifies a failed transfer: the dagster.Error name, a phrase for the message, and
** whether retrying a read-only request could help.
*/
static const char *classify (CURLcode rc, const Session *s, const char **what, int *transient) {
  *transient = 0;
  if (s->too_large) {
    *what = "response larger than max_response_bytes";
    return "ResponseTooLarge";
  }
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      *what = "could not connect to"; *transient = 1; return "ConnectionError";
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_RESOLVE_PROXY:
      *what = "could not resolve the host of"; return "DNSError";
    case CURLE_OPERATION_TIMEDOUT:
      *what = "timed out waiting for"; *transient = 1; return "TimeoutError";
    case CURLE_SSL_CONNECT_ERROR: case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM: case CURLE_SSL_CIPHER: case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR: case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND: case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_USE_SSL_FAILED: case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
      *what = "TLS failure talking to"; return "TLSError";
    case CURLE_SEND_ERROR: case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
      *what = "connection failed while talking to"; *transient = 1; return "ConnectionError";
    case CURLE_UNSUPPORTED_PROTOCOL: case CURLE_URL_MALFORMAT:
      *what = "cannot use the URL"; return "URLError";
    case CURLE_OUT_OF_MEMORY:
      *what = "out of memory talking to"; return "TransportError";
    case CURLE_WRITE_ERROR:
      if (s->oom) { *what = "out of memory reading the answer of"; return "TransportError"; }
      /* FALLTHROUGH */
    default:
      *what = "transport failure talking to"; return "TransportError";
  }
}


/*
** session:post(url, body) -> status, body, content_type | nil, err
*/
static int s_post (lua_State *L) {
  Session *s = checksession(L);
  size_t blen;
  const char *url = luaL_checkstring(L, 2);
  const char *body = luaL_checklstring(L, 3, &blen);
  CURLcode rc;
  s->len = 0; s->too_large = s->oom = 0; s->errbuf[0] = '\0';
  curl_easy_setopt(s->curl, CURLOPT_URL, url);
  curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
  curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);  /* body stays on the stack */
  rc = curl_easy_perform(s->curl);
  curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, NULL);
  if (rc != CURLE_OK) {
    const char *what, *name;
    int transient;
    name = classify(rc, s, &what, &transient);
    if (s->cap > KEEP_BUFFER) { free(s->buf); s->buf = NULL; s->cap = 0; }
    s->len = 0;
    lua_pushnil(L);
    push_safe_url(L, url);                                    /* nil, url */
    lua_pushfstring(L, "%s %s: %s", what, lua_tostring(L, -1),
                    s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc));
    dgl_newerror(L, name, lua_tostring(L, -1));               /* nil, url, msg, err */
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "url");
    dgl_seterrorfield(L, "transport_error", curl_easy_strerror(rc));
    lua_pushinteger(L, (lua_Integer)rc);
    lua_setfield(L, -2, "curl_code");
    lua_pushboolean(L, transient);
    lua_setfield(L, -2, "transient");
    if (s->too_large) {
      lua_pushinteger(L, (lua_Integer)s->max_bytes);
      lua_setfield(L, -2, "limit");
    }
    lua_replace(L, -3);                                       /* nil, err, msg */
    lua_pop(L, 1);
    return 2;
  }
  else {
    long status = 0;
    char *ctype = NULL;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(s->curl, CURLINFO_CONTENT_TYPE, &ctype);
    lua_pushinteger(L, (lua_Integer)status);
    lua_pushlstring(L, s->buf ? s->buf : "", s->len);
    if (ctype) lua_pushstring(L, ctype); else lua_pushnil(L);
    if (s->cap > KEEP_BUFFER) { free(s->buf); s->buf = NULL; s->cap = 0; }
    s->len = 0;
    return 3;
  }
}


/* http.sleep(seconds): sleeps, resuming after signals, up to the time asked */
static int l_sleep (lua_State *L) {
  lua_Number sec = luaL_checknumber(L, 1);
  struct timespec ts, rem;
  if (!(sec > 0)) return 0;
  if (sec > 1e7) sec = 1e7;
  ts.tv_sec = (time_t)sec;
  ts.tv_nsec = (long)((sec - (lua_Number)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &rem) != 0) ts = rem;
  return 0;
}


/* http.now() -> seconds on a monotonic clock (for deadlines and intervals) */
static int l_now (lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}


static int l_version (lua_State *L) {
  lua_pushstring(L, curl_version());
  return 1;
}


static const luaL_Reg meta[] = {
  {"__index",    NULL},  /* set to the methods below */
  {"__gc",       s_close},
  {"__close",    s_close},
  {"__tostring", s_tostring},
  {NULL, NULL}
};

static const luaL_Reg methods[] = {
  {"post",  s_post},
  {"close", s_close},
  {NULL, NULL}
};

static const luaL_Reg funcs[] = {
  {"session", l_session},
  {"version", l_version},
  {"sleep",   l_sleep},
  {"now",     l_now},
  {NULL, NULL}
};


int luaopen_dagster_http (lua_State *L) {
  if (luaL_newmetatable(L, SESSION_MT)) {
    luaL_setfuncs(L, meta, 0);
    luaL_newlibtable(L, methods);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
