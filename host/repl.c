/*
** repl.c: the interactive loop (lua.c's doREPL) with libedit line editing.
**
** Each line is first tried as "return <line>" so expressions print; an incomplete chunk
** (a syntax error at <eof>) reads a continuation line. Results print through
** dagster.inspect when the module loads, tostring otherwise. History goes to
** $DAGSTER_LUA_HISTORY (default ~/.dagster_lua_history), only for a terminal, and a line
** that looks like it holds a secret is never added to it.
**
** libedit is opened with dlopen when the REPL starts on a terminal, not linked: a script
** never pays for loading it (and its libtinfo and libbsd) at start-up. Without it the REPL
** reads plain lines.
*/
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <dlfcn.h>

#include "lua.h"
#include "lauxlib.h"

#include "dagster.h"

#define PROMPT   "> "
#define PROMPT2  ">> "
#define EOFMARK  "<eof>"
#define MARKLEN  (sizeof(EOFMARK) / sizeof(char) - 1)
#define MAXHIST  1000


/* the part of libedit's readline interface the REPL uses, found with dlsym */
typedef struct Editline {
  char *(*readline) (const char *prompt);
  int   (*add_history) (const char *line);
  void  (*using_history) (void);
  void  (*stifle_history) (int max);
  int   (*read_history) (const char *file);
  int   (*write_history) (const char *file);
} Editline;


/* fills ed from libedit; returns 0 (and leaves the REPL on plain lines) when it is missing */
static int open_editline (Editline *ed) {
  void *lib = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) return 0;
  *(void **)&ed->readline = dlsym(lib, "readline");
  *(void **)&ed->add_history = dlsym(lib, "add_history");
  *(void **)&ed->using_history = dlsym(lib, "using_history");
  *(void **)&ed->stifle_history = dlsym(lib, "stifle_history");
  *(void **)&ed->read_history = dlsym(lib, "read_history");
  *(void **)&ed->write_history = dlsym(lib, "write_history");
  if (!ed->readline || !ed->add_history || !ed->using_history || !ed->stifle_history ||
      !ed->read_history || !ed->write_history) {
    dlclose(lib);
    return 0;
  }
  return 1;  /* the library stays loaded for the life of the process */
}


/* words that mark a line as holding a secret: such a line is kept out of the history */
static const char *const secret_words[] = {
  "token", "secret", "password", "passwd", "authorization", "api_key", "apikey", "bearer",
  NULL
};

static int holds_secret (const char *line) {
  char low[1024];
  size_t i, n = strlen(line);
  const char *const *w;
  if (n >= sizeof low) return 1;  /* too long to judge: keep it out */
  for (i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)line[i]);
  for (w = secret_words; *w; w++)
    if (strstr(low, *w)) return 1;
  return 0;
}


static const char *history_file (char *buf, size_t size) {
  const char *env = getenv("DAGSTER_LUA_HISTORY");
  const char *home = getenv("HOME");
  if (env != NULL) return env[0] ? env : NULL;  /* empty: no history */
  if (home == NULL) return NULL;
  snprintf(buf, size, "%s/.dagster_lua_history", home);
  return buf;
}


/* reads one line into a new Lua string (through libedit when ed is not NULL); returns 0 at
   end of input */
static int pushline (lua_State *L, int firstline, const Editline *ed) {
  char *line;
  size_t l;
  const char *prompt = firstline ? PROMPT : PROMPT2;
  if (ed) line = ed->readline(prompt);
  else {
    char buf[4096];
    fputs(prompt, stdout); fflush(stdout);
    line = fgets(buf, sizeof buf, stdin) ? strdup(buf) : NULL;
  }
  if (line == NULL) return 0;
  l = strlen(line);
  if (l > 0 && line[l - 1] == '\n') line[--l] = '\0';
  if (firstline && line[0] == '=')  /* "=x" is "return x", as in Lua 5.1 */
    lua_pushfstring(L, "return %s", line + 1);
  else
    lua_pushlstring(L, line, l);
  free(line);
  return 1;
}


static int incomplete (lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    if (lmsg >= MARKLEN && strcmp(msg + lmsg - MARKLEN, EOFMARK) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}


/* tries "return <line>"; leaves the compiled chunk or the error */
static int addreturn (lua_State *L) {
  const char *line = lua_tostring(L, -1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) lua_remove(L, -2);
  else lua_pop(L, 2);
  return status;
}


static int multiline (lua_State *L, const Editline *ed) {
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, line, len, "=stdin");
    if (!incomplete(L, status) || !pushline(L, 0, ed)) return status;
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);
  }
}


/* reads a whole statement; leaves its compiled chunk (or error) and keeps the text at 1 */
static int loadline (lua_State *L, const Editline *ed, int *eof) {
  int status;
  lua_settop(L, 0);
  if (!pushline(L, 1, ed)) { *eof = 1; return -1; }
  if ((status = addreturn(L)) != LUA_OK)
    status = multiline(L, ed);
  return status;
}


/* prints the results on the stack through dagster.inspect (or tostring) */
static void print_results (lua_State *L) {
  int n = lua_gettop(L), i;
  if (n == 0) return;
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  lua_getglobal(L, "require");
  lua_pushliteral(L, "dagster.inspect");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    lua_getglobal(L, "tostring");
  }
  for (i = 1; i <= n; i++) {
    lua_pushvalue(L, -1);
    lua_pushvalue(L, i);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 1);
      lua_pushstring(L, luaL_tolstring(L, i, NULL));
      lua_remove(L, -2);
    }
    fputs(lua_tostring(L, -1), stdout);
    fputs(i < n ? "\t" : "\n", stdout);
    lua_pop(L, 1);
  }
  fflush(stdout);
  lua_settop(L, n);
}


void dgl_repl (lua_State *L) {
  int status, eof = 0;
  Editline edbuf;
  const Editline *ed = isatty(STDIN_FILENO) && open_editline(&edbuf) ? &edbuf : NULL;
  char hbuf[4096];
  const char *hfile = ed ? history_file(hbuf, sizeof hbuf) : NULL;
  if (hfile) { ed->using_history(); ed->stifle_history(MAXHIST); ed->read_history(hfile); }
  while (1) {
    status = loadline(L, ed, &eof);
    if (eof) break;
    if (hfile && lua_type(L, 1) == LUA_TSTRING) {
      const char *text = lua_tostring(L, 1);
      if (text[0] && !holds_secret(text)) ed->add_history(text);
    }
    lua_remove(L, 1);  /* the text */
    if (status == LUA_OK) status = dgl_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) print_results(L);
    else dgl_report(L, status);
  }
  lua_settop(L, 0);
  if (hfile && ed->write_history(hfile) == 0) chmod(hfile, S_IRUSR | S_IWUSR);
  fputs("\n", stdout);
  fflush(stdout);
}
