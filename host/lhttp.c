/*
** lhttp.c: dagster.http, the libcurl transport. require "dagster.http".
**
**   http.session{headers=, timeout=, connect_timeout=, insecure=, cainfo=,
**                max_response_bytes=, user_agent=, userinfo=} -> session
**                            (userinfo: a URL's "user:password", percent-encoded)
**   session:post(url, body [, fresh [, timeout]])
**                            -> status, body, content_type, retry_after  (any HTTP answer;
**                               retry_after: a 4xx or 5xx's Retry-After in seconds, or nil)
**                            -> nil, err                      (no HTTP answer: err is a
**                                                              dagster.Error)
**   session:graphql(url, head, variables [, fresh [, timeout]])
**                            -> data                          (an answer 200 whose JSON has
**                                                              a table `data` and no `errors`)
**                            -> nil, <what session:post returns> (any other answer, or none)
**                            -> false                         (nothing sent: called from a
**                                                              coroutine, or the variables
**                                                              cannot be encoded)
**                            POSTs head .. ',"variables":' .. encode(variables) .. '}' (head
**                            .. '}' when variables is nil), with the session's `encode` and
**                            `decode` options: a GraphQL request's common case in one call
**   session:close()          (also __gc and __close; harmless twice)
**   http.version()           -> "libcurl/7.88.1 OpenSSL/3.0.x ..."
**
** `timeout` (seconds) bounds this one transfer instead of the session's timeout, and the
** connect phase with it: the client gives each attempt what is left of the call's deadline.
**   http.sleep(seconds)   sleeps; Ctrl-C ends it at once
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
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lua.h"
#include "lauxlib.h"

#include "dagster.h"

#define SESSION_MT          "dagster.http.Session"
#define DEFAULT_MAX_BYTES   ((size_t)64 << 20)   /* 64 MiB */
#define DEFAULT_TIMEOUT_MS  300000L              /* the Python client's 300 s */
#define KEEP_BUFFER         ((size_t)1 << 20)    /* keep at most 1 MiB between calls */


/* where one transfer's answer goes: a growing buffer with a limit, and curl's message */
typedef struct Sink {
  char *buf;
  size_t len, cap;
  size_t max_bytes;
  int too_large, oom;
  char errbuf[CURL_ERROR_SIZE];
} Sink;


typedef struct Session {
  CURL *curl;                   /* NULL when closed */
  char *req;                    /* graphql's request body, kept between calls */
  size_t reqcap;
  long timeout_ms, connect_ms;  /* the session's own limits */
  struct curl_slist *headers;
  char *url;                    /* the URL last given to curl (set again only when it changes) */
  Sink sink;                    /* answer of the current call */
} Session;


static int global_ready = 0;

/*
** Ctrl-C (or SIGTERM) during a transfer or a sleep: while libcurl runs, the signal only sets
** this flag (to its number), which the progress callback turns into an aborted transfer.
** Afterwards the previous handlers are put back and the signal raised again, so the host's
** handler (or the default) sees it as if it had come then. A signal that was ignored stays
** ignored.
*/
static volatile sig_atomic_t interrupted = 0;

static void on_signal (int sig) {
  interrupted = sig;
}

static int on_progress (void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
  (void)ud; (void)a; (void)b; (void)c; (void)d;
  return interrupted ? 1 : 0;
}

typedef struct Caught {
  struct sigaction old[2];  /* SIGINT's and SIGTERM's handlers before */
  int set[2];               /* whether this caught it */
} Caught;

static const int caught_signals[2] = { SIGINT, SIGTERM };

/* one sigaction(2) a signal in the common case: it runs for every request */
static void catch_signals (Caught *c) {
  struct sigaction sa;
  int i;
  interrupted = 0;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (i = 0; i < 2; i++) {
    c->set[i] = sigaction(caught_signals[i], &sa, &c->old[i]) == 0;
    if (c->set[i] && c->old[i].sa_handler == SIG_IGN) {  /* ignored: it stays so */
      sigaction(caught_signals[i], &c->old[i], NULL);
      c->set[i] = 0;
      if (interrupted == caught_signals[i]) interrupted = 0;
    }
  }
}

static void release_signals (const Caught *c) {
  int i;
  for (i = 0; i < 2; i++)
    if (c->set[i]) sigaction(caught_signals[i], &c->old[i], NULL);
  if (interrupted) raise(interrupted);
}

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
** Write callback: appends to the sink; refuses (returns 0, which aborts the transfer) past
** max_bytes or when memory runs out. Never touches Lua.
*/
static size_t on_write (char *data, size_t size, size_t nmemb, void *ud) {
  Sink *k = (Sink *)ud;
  size_t n = size * nmemb;
  if (n > k->max_bytes - k->len) { k->too_large = 1; return 0; }
  if (k->len + n > k->cap) {
    size_t ncap = k->cap ? k->cap : 16384;
    char *nbuf;
    while (ncap < k->len + n) ncap = (ncap > k->max_bytes / 2) ? k->max_bytes : ncap * 2;
    nbuf = (char *)realloc(k->buf, ncap);
    if (nbuf == NULL) { k->oom = 1; return 0; }
    k->buf = nbuf; k->cap = ncap;
  }
  memcpy(k->buf + k->len, data, n);
  k->len += n;
  return n;
}


/* readies a sink for a new transfer */
static void sink_reset (Sink *k) {
  k->len = 0; k->too_large = k->oom = 0; k->errbuf[0] = '\0';
}


/* after a transfer: gives back a big buffer instead of keeping it for the next one */
static void sink_trim (Sink *k) {
  if (k->cap > KEEP_BUFFER) { free(k->buf); k->buf = NULL; k->cap = 0; }
  k->len = 0;
}


static Session *checksession (lua_State *L, int arg) {
  Session *s = (Session *)luaL_checkudata(L, arg, SESSION_MT);
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
  free(s->url); s->url = NULL;
  free(s->req); s->req = NULL; s->reqcap = 0;
  free(s->sink.buf); s->sink.buf = NULL; s->sink.len = s->sink.cap = 0;
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
** The credentials of a URL's "user:password@" (percent-encoded, as in the URL), given to
** curl apart from the URL: the URL the client shows, in messages and errors, is without them.
** (curl_easy_duphandle copies them to the transfers of a multi.)
*/
static void set_userinfo (lua_State *L, CURL *curl, const char *userinfo) {
  const char *colon = strchr(userinfo, ':');
  int n = colon ? (int)(colon - userinfo) : (int)strlen(userinfo);
  char *user = curl_easy_unescape(curl, userinfo, n, NULL);
  char *password = colon ? curl_easy_unescape(curl, colon + 1, 0, NULL) : NULL;
  int ok = user != NULL && (colon == NULL || password != NULL)
    && curl_easy_setopt(curl, CURLOPT_USERNAME, user) == CURLE_OK
    && (password == NULL || curl_easy_setopt(curl, CURLOPT_PASSWORD, password) == CURLE_OK);
  curl_free(user);
  curl_free(password);
  if (!ok) luaL_error(L, "cannot set the URL's credentials");
}


/* the session's JSON codec: user values of the userdata (session at index 2) */
#define UV_ENCODE	1
#define UV_DECODE	2

static void set_codec (lua_State *L, const char *key, int uv) {
  if (lua_getfield(L, 1, key) != LUA_TNIL) {
    if (!lua_isfunction(L, -1))
      luaL_error(L, "bad option '%s' to 'session' (function expected, got %s)", key,
                 luaL_typename(L, -1));
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 2, uv);
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
  s = (Session *)lua_newuserdatauv(L, sizeof(Session), 2);  /* encode, decode */
  memset(s, 0, sizeof(*s));
  luaL_setmetatable(L, SESSION_MT);
  lua_insert(L, 1);          /* session at 1... */
  lua_insert(L, 1);          /* ...then options back at 1, session at 2 */
  timeout = opt_ms(L, "timeout", DEFAULT_TIMEOUT_MS);
  connect = opt_ms(L, "connect_timeout", timeout > 0 && timeout < 10000 ? timeout : 10000);
  s->sink.max_bytes = DEFAULT_MAX_BYTES;
  if (lua_getfield(L, 1, "max_response_bytes") != LUA_TNIL) {
    lua_Integer n = lua_tointeger(L, -1);
    if (!lua_isinteger(L, -1) || n <= 0)
      luaL_error(L, "bad option 'max_response_bytes' to 'session' (positive integer expected)");
    s->sink.max_bytes = (size_t)n;
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
  s->timeout_ms = timeout; s->connect_ms = connect;
  curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, timeout);
  curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, connect);
  curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(s->curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(s->curl, CURLOPT_TCP_KEEPALIVE, 1L);
  /* one kept-alive connection per session: a fresh connection (a mutation's) replaces the
     idle one instead of joining it in the handle's cache (5 by default) */
  curl_easy_setopt(s->curl, CURLOPT_MAXCONNECTS, 1L);
  curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, insecure ? 0L : 1L);
  curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, insecure ? 0L : 2L);
  if (cainfo) curl_easy_setopt(s->curl, CURLOPT_CAINFO, cainfo);
  curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, (void *)&s->sink);
  curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->sink.errbuf);
  curl_easy_setopt(s->curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  if (lua_getfield(L, 1, "userinfo") != LUA_TNIL)
    set_userinfo(L, s->curl, luaL_checkstring(L, -1));
  set_codec(L, "encode", UV_ENCODE);
  set_codec(L, "decode", UV_DECODE);
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
static const char *classify (CURLcode rc, const Sink *k, const char **what, int *transient) {
  *transient = 0;
  if (k->too_large) {
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
    case CURLE_ABORTED_BY_CALLBACK:  /* only on_progress aborts, at a signal */
      *what = interrupted == SIGTERM ? "terminated (SIGTERM) while talking to"
                                     : "interrupted while talking to";
      return "Interrupted";
    case CURLE_OUT_OF_MEMORY:
      *what = "out of memory talking to"; return "TransportError";
    case CURLE_WRITE_ERROR:
      if (k->oom) { *what = "out of memory reading the answer of"; return "TransportError"; }
      /* FALLTHROUGH */
    default:
      *what = "transport failure talking to"; return "TransportError";
  }
}


/*
** The Retry-After header of the answer just received, in seconds from now (0 or more): a
** number of seconds, or an HTTP date; -1 when there is none or it cannot be read.
*/
static double retry_after (CURL *easy) {
  struct curl_header *h;
  const char *v;
  time_t t;
  if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK) return -1;
  v = h->value;
  while (*v == ' ' || *v == '\t') v++;
  if (*v >= '0' && *v <= '9') {
    char *end;
    double d = strtod(v, &end);
    while (*end == ' ' || *end == '\t') end++;
    return (*end == '\0' && d >= 0 && d < 1e7) ? d : -1;
  }
  if ((t = curl_getdate(v, NULL)) == -1) return -1;
  return t > time(NULL) ? difftime(t, time(NULL)) : 0;
}


/*
** Pushes the outcome of a finished transfer: status, body, content_type, retry_after (any
** HTTP answer; retry_after is the Retry-After header in seconds, or nil) or nil, err (a
** dagster.Error naming the URL, never a header). Returns how many values.
** The sink still owns its buffer while this pushes: a memory error here leaks nothing.
*/
static int push_outcome (lua_State *L, CURL *easy, CURLcode rc, Sink *k) {
  if (rc != CURLE_OK) {
    const char *what, *name;
    char *url = NULL;
    int transient;
    curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
    name = classify(rc, k, &what, &transient);
    lua_pushnil(L);
    push_safe_url(L, url ? url : "?");                        /* nil, url */
    if (k->too_large)
      lua_pushfstring(L, "the answer of %s is larger than max_response_bytes (%I bytes)",
                      lua_tostring(L, -1), (lua_Integer)k->max_bytes);
    else
      lua_pushfstring(L, "%s %s: %s", what, lua_tostring(L, -1),
                      k->errbuf[0] ? k->errbuf : curl_easy_strerror(rc));
    dgl_newerror(L, name, lua_tostring(L, -1));               /* nil, url, msg, err */
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "url");
    dgl_seterrorfield(L, "transport_error", curl_easy_strerror(rc));
    lua_pushinteger(L, (lua_Integer)rc);
    lua_setfield(L, -2, "curl_code");
    lua_pushboolean(L, transient);
    lua_setfield(L, -2, "transient");
    if (rc == CURLE_ABORTED_BY_CALLBACK)
      dgl_seterrorfield(L, "signal", interrupted == SIGTERM ? "SIGTERM" : "SIGINT");
    if (k->too_large) {
      lua_pushinteger(L, (lua_Integer)k->max_bytes);
      lua_setfield(L, -2, "limit");
    }
    lua_replace(L, -3);                                       /* nil, err, msg */
    lua_pop(L, 1);
    return 2;
  }
  else {
    long status = 0;
    char *ctype = NULL;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &ctype);
    lua_pushinteger(L, (lua_Integer)status);
    lua_pushlstring(L, k->buf ? k->buf : "", k->len);
    if (ctype) lua_pushstring(L, ctype); else lua_pushnil(L);
    if (status >= 400) {
      double ra = retry_after(easy);
      if (ra >= 0) lua_pushnumber(L, ra); else lua_pushnil(L);
    }
    else lua_pushnil(L);
    return 4;
  }
}


/*
** Sets the limits of one transfer on `easy`: the optional timeout argument at `arg` (seconds,
** at least 1 ms) or else the session's own; the connect limit never exceeds the total.
*/
static void set_limits (lua_State *L, int arg, CURL *easy, const Session *s) {
  long total = s->timeout_ms, connect = s->connect_ms;
  if (!lua_isnoneornil(L, arg)) {
    lua_Number sec = luaL_checknumber(L, arg);
    luaL_argcheck(L, sec == sec && sec >= 0 && sec <= 1e8, arg, "timeout out of range");
    total = (long)ceil(sec * 1000);
    if (total < 1) total = 1;   /* 0 would mean no limit to libcurl */
  }
  if (total > 0 && (connect == 0 || connect > total)) connect = total;
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, total);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, connect);
}


/*
** One POST of body to url on the session's handle, with the limits of the timeout argument
** at index `targ` (see set_limits): the answer is left in the sink.
*/
static CURLcode perform (lua_State *L, Session *s, const char *url, const char *body,
                         size_t blen, int fresh, int targ) {
  CURLcode rc;
  Caught caught;
  set_limits(L, targ, s->curl, s);
  sink_reset(&s->sink);
  curl_easy_setopt(s->curl, CURLOPT_FRESH_CONNECT, (long)fresh);
  if (s->url == NULL || strcmp(s->url, url) != 0) {
    char *copy = strdup(url);
    if (copy == NULL) luaL_error(L, "not enough memory");
    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    free(s->url);
    s->url = copy;
  }
  curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
  curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);  /* body stays alive meanwhile */
  catch_signals(&caught);
  rc = curl_easy_perform(s->curl);
  curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, NULL);
  release_signals(&caught);
  return rc;
}


/*
** session:post(url, body [, fresh [, timeout]]) -> status, body, content_type, retry_after
** (the Retry-After header of a 4xx or 5xx, in seconds, or nil) | nil, err
*/
static int s_post (lua_State *L) {
  Session *s = checksession(L, 1);
  size_t blen;
  const char *url = luaL_checkstring(L, 2);
  const char *body = luaL_checklstring(L, 3, &blen);
  CURLcode rc = perform(L, s, url, body, blen, lua_toboolean(L, 4), 5);
  int n = push_outcome(L, s->curl, rc, &s->sink);
  sink_trim(&s->sink);
  return n;
}


/* makes room for n bytes of graphql's request body */
static char *req_room (lua_State *L, Session *s, size_t n) {
  if (n > s->reqcap) {
    char *p = (char *)realloc(s->req, n);
    if (p == NULL) luaL_error(L, "not enough memory");
    s->req = p;
    s->reqcap = n;
  }
  return s->req;
}


#define VARS_KEY  ",\"variables\":"

/*
** session:graphql(url, head, variables [, fresh [, timeout]]): see the head of this file.
** Only the main thread sends: a coroutine's request goes through the caller's own path
** (dagster.concurrent, which runs a task's transfers on a multi handle). Variables that the
** encoder refuses are left for the caller to encode again, and raise at its level.
*/
static int s_graphql (lua_State *L) {
  Session *s = checksession(L, 1);
  size_t hlen, vlen = 0, blen;
  const char *url = luaL_checkstring(L, 2);
  const char *head = luaL_checklstring(L, 3, &hlen);
  const char *vars = NULL;
  int fresh = lua_toboolean(L, 5), status, n;
  char *body;
  CURLcode rc;
  lua_settop(L, 6);
  if (!lua_pushthread(L)) {  /* a coroutine */
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pop(L, 1);
  if (!lua_isnil(L, 4)) {
    if (lua_getiuservalue(L, 1, UV_ENCODE) != LUA_TFUNCTION)
      luaL_error(L, "this dagster.http session has no 'encode' option");
    lua_pushvalue(L, 4);
    status = lua_pcall(L, 1, 1, 0);  /* 7: the variables' JSON, or a message */
    if (status == LUA_ERRMEM) return lua_error(L);
    if (status != LUA_OK || !lua_isstring(L, 7)) {
      lua_pushboolean(L, 0);
      return 1;
    }
    vars = lua_tolstring(L, 7, &vlen);
  }
  if (lua_getiuservalue(L, 1, UV_DECODE) != LUA_TFUNCTION)  /* 7 or 8 */
    luaL_error(L, "this dagster.http session has no 'decode' option");
  blen = hlen + (vars ? sizeof(VARS_KEY) - 1 + vlen : 0) + 1;
  body = req_room(L, s, blen);
  memcpy(body, head, hlen);
  if (vars) {
    memcpy(body + hlen, VARS_KEY, sizeof(VARS_KEY) - 1);
    memcpy(body + hlen + sizeof(VARS_KEY) - 1, vars, vlen);
  }
  body[blen - 1] = '}';
  rc = perform(L, s, url, body, blen, fresh, 6);
  if (rc == CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code == 200) {  /* the common case: decode it here */
      lua_pushlstring(L, s->sink.buf ? s->sink.buf : "", s->sink.len);
      lua_call(L, 1, 1);  /* decode(body) -> doc; raises only for memory */
      if (lua_istable(L, -1) && lua_getfield(L, -1, "errors") == LUA_TNIL
          && lua_getfield(L, -2, "data") == LUA_TTABLE) {
        sink_trim(&s->sink);
        return 1;
      }
    }
  }
  lua_pushnil(L);  /* then the answer as session:post gives it, for the caller's reader */
  n = push_outcome(L, s->curl, rc, &s->sink);
  sink_trim(&s->sink);
  return n + 1;
}


/*
** ---------------------------------------------------------------------------------------
** dagster.http.Multi: many transfers at once over libcurl's multi interface.
**
**   http.multi{max_connections = 8}     -> multi
**   multi:add(session, url, body [, fresh [, timeout]])
**                                       -> id (starts a POST with the session's settings)
**   multi:perform(timeout)              -> list of finished {id=, status=, body=,
**                                          content_type=} or {id=, err=}; waits at most
**                                          timeout seconds for something to happen
**   multi:count()                       -> transfers in flight
**   multi:close()                       (also __gc and __close)
**
** C never yields: perform() returns what finished, and the coroutine scheduler in
** lua/dagster/concurrent.lua resumes whoever waited for it. Connections are pooled by the
** multi handle and reused across transfers, at most max_connections per host.
** ---------------------------------------------------------------------------------------
*/

#define MULTI_MT  "dagster.http.Multi"

typedef struct Transfer {
  struct Transfer *next;
  CURL *easy;
  lua_Integer id;
  Sink sink;
} Transfer;

typedef struct Multi {
  CURLM *multi;                 /* NULL when closed */
  Transfer *list;               /* transfers in flight, owned here */
  lua_Integer nextid;
  int count;
} Multi;


static void transfer_free (Multi *m, Transfer *t) {
  Transfer **p;
  for (p = &m->list; *p; p = &(*p)->next)
    if (*p == t) { *p = t->next; break; }
  if (t->easy) {
    curl_multi_remove_handle(m->multi, t->easy);
    curl_easy_cleanup(t->easy);
  }
  free(t->sink.buf);
  free(t);
  m->count--;
}


static int m_close (lua_State *L) {
  Multi *m = (Multi *)luaL_checkudata(L, 1, MULTI_MT);
  if (m->multi) {
    while (m->list) transfer_free(m, m->list);
    curl_multi_cleanup(m->multi);
    m->multi = NULL;
  }
  return 0;
}


static Multi *checkmulti (lua_State *L) {
  Multi *m = (Multi *)luaL_checkudata(L, 1, MULTI_MT);
  if (m->multi == NULL)
    luaL_error(L, "attempt to use a closed dagster.http multi");
  return m;
}


/*
** http.multi([opts]) -> multi; created closed, then given its CURLM.
*/
static int l_multi (lua_State *L) {
  Multi *m;
  long maxconn = 8;
  if (lua_istable(L, 1)) {
    lua_getfield(L, 1, "max_connections");
    if (!lua_isnil(L, -1)) {
      lua_Integer n = lua_tointeger(L, -1);
      if (!lua_isinteger(L, -1) || n < 1 || n > 1000)
        luaL_error(L, "bad option 'max_connections' to 'multi' (integer 1..1000 expected)");
      maxconn = (long)n;
    }
    lua_pop(L, 1);
  }
  m = (Multi *)lua_newuserdatauv(L, sizeof(Multi), 1);
  memset(m, 0, sizeof(*m));
  luaL_setmetatable(L, MULTI_MT);
  lua_newtable(L);                 /* uservalue: id -> session, keeping sessions alive */
  lua_setiuservalue(L, -2, 1);
  if (!ensure_global() || (m->multi = curl_multi_init()) == NULL)
    luaL_error(L, "cannot initialise libcurl");
  curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxconn);
  curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, maxconn);
  m->nextid = 1;
  return 1;
}


/*
** multi:add(session, url, body [, fresh [, timeout]]) -> id. The transfer is linked into the multi before
** anything can raise, so __gc frees it whatever happens.
*/
static int m_add (lua_State *L) {
  Multi *m = checkmulti(L);
  Session *s = checksession(L, 2);
  size_t blen;
  const char *url = luaL_checkstring(L, 3);
  const char *body = luaL_checklstring(L, 4, &blen);
  long fresh = lua_toboolean(L, 5);
  Transfer *t;
  if (!lua_isnoneornil(L, 6)) luaL_checknumber(L, 6);  /* raise before anything is owned */
  t = (Transfer *)calloc(1, sizeof(Transfer));
  if (t == NULL) luaL_error(L, "not enough memory");
  t->next = m->list; m->list = t; m->count++;
  t->id = m->nextid++;
  t->sink.max_bytes = s->sink.max_bytes;
  if ((t->easy = curl_easy_duphandle(s->curl)) == NULL) {
    transfer_free(m, t);
    luaL_error(L, "not enough memory");
  }
  set_limits(L, 6, t->easy, s);
  curl_easy_setopt(t->easy, CURLOPT_FRESH_CONNECT, fresh);
  curl_easy_setopt(t->easy, CURLOPT_URL, url);
  curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
  curl_easy_setopt(t->easy, CURLOPT_COPYPOSTFIELDS, body);
  curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, (void *)&t->sink);
  curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->sink.errbuf);
  curl_easy_setopt(t->easy, CURLOPT_PRIVATE, (void *)t);
  if (curl_multi_add_handle(m->multi, t->easy) != CURLM_OK) {
    transfer_free(m, t);
    luaL_error(L, "cannot start a transfer");
  }
  lua_getiuservalue(L, 1, 1);      /* the session (and its header list) must outlive it */
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, t->id);
  lua_pop(L, 1);
  lua_pushinteger(L, t->id);
  return 1;
}


/*
** multi:perform(timeout) -> list of finished transfers (see above).
*/
static int m_perform (lua_State *L) {
  Multi *m = checkmulti(L);
  lua_Number timeout = luaL_optnumber(L, 2, 0);
  int running = 0, n = 0, msgs;
  CURLMsg *msg;
  Caught caught;
  lua_settop(L, 2);
  catch_signals(&caught);
  curl_multi_perform(m->multi, &running);
  if (running > 0 && timeout > 0) {
    int ms = timeout > 3600 ? 3600000 : (int)(timeout * 1000);
    curl_multi_poll(m->multi, NULL, 0, ms, NULL);
    curl_multi_perform(m->multi, &running);
  }
  release_signals(&caught);  /* a hook set now fires once this function returns */
  lua_newtable(L);                                    /* results */
  lua_getiuservalue(L, 1, 1);                         /* results, sessions */
  while ((msg = curl_multi_info_read(m->multi, &msgs)) != NULL) {
    Transfer *t = NULL;
    int k;
    if (msg->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    lua_createtable(L, 0, 4);                         /* results, sessions, item */
    lua_pushinteger(L, t->id);
    lua_setfield(L, -2, "id");
    k = push_outcome(L, t->easy, msg->data.result, &t->sink);
    if (k == 4) {
      lua_setfield(L, -5, "retry_after");
      lua_setfield(L, -4, "content_type");
      lua_setfield(L, -3, "body");
      lua_setfield(L, -2, "status");
    }
    else {
      lua_setfield(L, -3, "err");
      lua_pop(L, 1);
    }
    lua_rawseti(L, -3, ++n);                          /* results, sessions */
    lua_pushnil(L);
    lua_rawseti(L, -2, t->id);                        /* the session may go now */
    transfer_free(m, t);
  }
  lua_pop(L, 1);
  return 1;
}


static int m_count (lua_State *L) {
  Multi *m = checkmulti(L);
  lua_pushinteger(L, m->count);
  return 1;
}


static const luaL_Reg multi_meta[] = {
  {"__index",    NULL},
  {"__gc",       m_close},
  {"__close",    m_close},
  {NULL, NULL}
};

static const luaL_Reg multi_methods[] = {
  {"add",     m_add},
  {"perform", m_perform},
  {"count",   m_count},
  {"close",   m_close},
  {NULL, NULL}
};


/* http.sleep(seconds): sleeps, resuming after other signals, up to the time asked; Ctrl-C
   or SIGTERM ends it at once and is then passed on as for a transfer (the host stops the
   Lua code) */
static int l_sleep (lua_State *L) {
  lua_Number sec = luaL_checknumber(L, 1);
  struct timespec ts, rem;
  Caught caught;
  if (!(sec > 0)) return 0;
  if (sec > 1e7) sec = 1e7;
  ts.tv_sec = (time_t)sec;
  ts.tv_nsec = (long)((sec - (lua_Number)ts.tv_sec) * 1e9);
  catch_signals(&caught);
  while (nanosleep(&ts, &rem) != 0 && !interrupted) ts = rem;
  release_signals(&caught);
  return 0;
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
  {"graphql", s_graphql},
  {"close", s_close},
  {NULL, NULL}
};

static const luaL_Reg funcs[] = {
  {"session", l_session},
  {"multi",   l_multi},
  {"version", l_version},
  {"sleep",   l_sleep},
  {NULL, NULL}
};


/* registers a userdata type: its metatable, with __index the table of its methods */
static void createmeta (lua_State *L, const char *name, const luaL_Reg *mt,
                        const luaL_Reg *meths) {
  if (luaL_newmetatable(L, name)) {
    luaL_setfuncs(L, mt, 0);
    lua_newtable(L);
    luaL_setfuncs(L, meths, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
}


int luaopen_dagster_http (lua_State *L) {
  createmeta(L, SESSION_MT, meta, methods);
  createmeta(L, MULTI_MT, multi_meta, multi_methods);
  luaL_newlib(L, funcs);
  return 1;
}
