/*
** floor.c: the floor for any Dagster client built on this stack (C + libcurl + Lua 5.4).
**
**   floor URL BODYFILE [N [EXPECT [decode]]]
**
** Opens a Lua state with the standard libraries (luaL_newstate + luaL_openlibs, what any
** Lua host pays), initialises libcurl, and POSTs the bytes of BODYFILE to URL N times
** (default 1) over one easy handle, so one keep-alive connection. Request options are
** those of dagster-lua's session (host/lhttp.c) that change what goes over the wire or
** what the server does: Content-Type/Accept JSON, no "Expect:", Accept-Encoding, no
** redirects, keep-alive. The answer is collected in a growing buffer and only checked:
** every answer must be HTTP 200 and contain EXPECT (default "\"__typename\""), else exit 1.
**
** With "decode" as the fifth argument, every answer is also decoded into Lua tables with
** lua-cjson's cjson.decode in that Lua state (what any client that hands the answer to a
** Lua script must at least do): the floor for a client that parses.
**
** Prints one line on stdout: "loop_wall=<s> loop_cpu=<s> n=<N> bytes=<last answer size>",
** where the loop is the N POSTs (connection set-up included), so that bench/ can compare
** it with the same loop timed inside dagster-lua.
*/
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

typedef struct Buf {
  char *p;
  size_t len, cap;
} Buf;

static size_t on_write (char *data, size_t size, size_t nmemb, void *ud) {
  Buf *b = (Buf *)ud;
  size_t n = size * nmemb;
  if (b->len + n + 1 > b->cap) {
    size_t ncap = b->cap ? b->cap : 16384;
    char *np;
    while (ncap < b->len + n + 1) ncap *= 2;
    np = (char *)realloc(b->p, ncap);
    if (np == NULL) return 0;
    b->p = np; b->cap = ncap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = '\0';
  return n;
}

static double now (clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file (const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *p = NULL;
  long n;
  if (f == NULL) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (p = (char *)malloc((size_t)n + 1)) != NULL) {
    if (fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    else { p[n] = '\0'; *len = (size_t)n; }
  }
  fclose(f);
  return p;
}

int main (int argc, char **argv) {
  lua_State *L;
  CURL *curl;
  struct curl_slist *hdrs = NULL;
  Buf buf = {NULL, 0, 0};
  char *body;
  size_t blen = 0;
  long i, n = 1, status = 0;
  const char *expect = "\"__typename\"";
  double w0, c0, w1, c1;
  int rc = 0, decode = 0;

  if (argc < 3) {
    fprintf(stderr, "usage: %s URL BODYFILE [N [EXPECT]]\n", argv[0]);
    return 2;
  }
  if (argc > 3) n = atol(argv[3]);
  if (argc > 4) expect = argv[4];
  if (argc > 5) decode = strcmp(argv[5], "decode") == 0;
  if (n < 1) n = 1;

  L = luaL_newstate();
  if (L == NULL) return 1;
  luaL_openlibs(L);
  if (decode) {  /* leaves cjson.decode at index 1 */
    if (luaL_dostring(L, "return require('cjson').decode") != LUA_OK) {
      fprintf(stderr, "floor: %s\n", lua_tostring(L, -1));
      return 1;
    }
  }

  if ((body = read_file(argv[2], &blen)) == NULL) {
    fprintf(stderr, "floor: cannot read %s\n", argv[2]);
    return 1;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (curl = curl_easy_init()) == NULL) {
    fprintf(stderr, "floor: cannot initialise libcurl\n");
    return 1;
  }
  hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
  hdrs = curl_slist_append(hdrs, "Accept: application/json");
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_URL, argv[1]);
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "floor/1");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, (void *)&buf);

  w0 = now(CLOCK_MONOTONIC); c0 = now(CLOCK_PROCESS_CPUTIME_ID);
  for (i = 0; i < n && rc == 0; i++) {
    CURLcode cc;
    buf.len = 0;
    cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
      fprintf(stderr, "floor: POST %ld: %s\n", i + 1, curl_easy_strerror(cc));
      rc = 1;
      break;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || buf.p == NULL || strstr(buf.p, expect) == NULL) {
      fprintf(stderr, "floor: POST %ld: HTTP %ld, answer without %s: %.300s\n", i + 1, status,
              expect, buf.p ? buf.p : "");
      rc = 1;
    }
    else if (decode) {
      lua_pushvalue(L, 1);
      lua_pushlstring(L, buf.p, buf.len);
      if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
        fprintf(stderr, "floor: POST %ld: cannot decode the answer\n", i + 1);
        rc = 1;
      }
      lua_settop(L, 1);
    }
  }
  w1 = now(CLOCK_MONOTONIC); c1 = now(CLOCK_PROCESS_CPUTIME_ID);
  if (rc == 0)
    printf("loop_wall=%.6f loop_cpu=%.6f n=%ld bytes=%zu\n", w1 - w0, c1 - c0, n, buf.len);

  curl_easy_cleanup(curl);
  curl_slist_free_all(hdrs);
  curl_global_cleanup();
  free(body);
  free(buf.p);
  lua_close(L);
  return rc;
}
