/*
** repl.c: the interactive loop (lua.c's doREPL) with libedit line editing. The loop and the
** terminal are here; what to complete, how to show a result or an error, and the prompt are
** Lua functions of dagster.repl (lua/dagster/repl.lua), which this file calls.
**
** Each line is first tried as "return <line>" so expressions print; an incomplete chunk
** (a syntax error at <eof>) reads a continuation line. The compiled line runs through
** repl.run, which prints its results (or a dagster.Error in one line). History goes to
** $DAGSTER_LUA_HISTORY (default ~/.dagster_lua_history), only for a terminal; a line that
** looks like it holds a secret stays in the session's history (the Up arrow finds it) but
** is never written to the file.
**
** Ctrl-C at the prompt clears the line and reads a new one; Ctrl-D (end of input) ends the
** REPL. During a line's run, Ctrl-C interrupts it (run.c's hook, lhttp.c's transfers).
**
** libedit is opened with dlopen when the REPL starts on a terminal, not linked: a script
** never pays for loading it (and its libtinfo and libbsd) at start-up. Without it the REPL
** reads plain lines.
*/
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
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


typedef char *(*generator) (const char *text, int state);
typedef char **(*completer) (const char *text, int start, int end);

/* the part of libedit's readline interface the REPL uses, found with dlsym (the variables
   by their addresses) */
typedef struct Editline {
  char *(*readline) (const char *prompt);
  int   (*add_history) (const char *line);
  void  (*using_history) (void);
  void  (*stifle_history) (int max);
  int   (*read_history) (const char *file);
  int   (*write_history) (const char *file);
  void  (*clear_history) (void);
  void *(*history_get) (int offset);    /* HIST_ENTRY *, whose first field is the line */
  int   (*rl_initialize) (void);
  char **(*completion_matches) (const char *text, generator gen);
  completer *attempted_completion_function;
  const char **word_break_characters;
  int   *attempted_completion_over;
  int   *completion_append_character;
  char **line_buffer;
  int   *point;
  int   *history_base, *history_length;
} Editline;

#define SYM(lib, field, name)  (*(void **)&(field) = dlsym(lib, name))

/* fills ed from libedit; returns 0 (and leaves the REPL on plain lines) when it is missing */
static int open_editline (Editline *ed) {
  void *lib = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) return 0;
  if (!SYM(lib, ed->readline, "readline") || !SYM(lib, ed->add_history, "add_history")
      || !SYM(lib, ed->using_history, "using_history")
      || !SYM(lib, ed->stifle_history, "stifle_history")
      || !SYM(lib, ed->read_history, "read_history")
      || !SYM(lib, ed->write_history, "write_history")
      || !SYM(lib, ed->clear_history, "clear_history")
      || !SYM(lib, ed->history_get, "history_get")
      || !SYM(lib, ed->rl_initialize, "rl_initialize")
      || !SYM(lib, ed->completion_matches, "rl_completion_matches")
      || !SYM(lib, ed->attempted_completion_function, "rl_attempted_completion_function")
      || !SYM(lib, ed->word_break_characters, "rl_basic_word_break_characters")
      || !SYM(lib, ed->attempted_completion_over, "rl_attempted_completion_over")
      || !SYM(lib, ed->completion_append_character, "rl_completion_append_character")
      || !SYM(lib, ed->line_buffer, "rl_line_buffer")
      || !SYM(lib, ed->point, "rl_point")
      || !SYM(lib, ed->history_base, "history_base")
      || !SYM(lib, ed->history_length, "history_length")) {
    dlclose(lib);
    return 0;
  }
  return 1;  /* the library stays loaded for the life of the process */
}


/*
** ---------------------------------------------------------------------------------------
** Completion. libedit's callbacks carry no user data, so the state and the library they
** use are kept here for the REPL's life (as lua.c keeps globalL for its signal handler).
** The callback asks repl.complete(text before the cursor, word) in protected mode; a Tab
** never raises and never leaves anything on the stack.
** ---------------------------------------------------------------------------------------
*/
static lua_State *complete_L = NULL;
static const Editline *complete_ed = NULL;
static char **matches = NULL;
static int nmatches = 0, nextmatch = 0;

/* word breaks: '.' and ':' are not among them, so "client:wa" is one word to complete */
static const char WORD_BREAKS[] = " \t\n\"'`@$><=;|&{(,+-*/%^~#[]";

static void free_matches (void) {
  int i;
  for (i = 0; i < nmatches; i++) free(matches[i]);
  free(matches);
  matches = NULL; nmatches = 0;
}

static char *next_match (const char *text, int state) {
  (void)text;
  if (state == 0) nextmatch = 0;
  return nextmatch < nmatches ? strdup(matches[nextmatch++]) : NULL;  /* libedit frees it */
}

/* collects the strings of the list at the top into matches; pops it */
static void take_matches (lua_State *L) {
  int i, n = lua_istable(L, -1) ? (int)luaL_len(L, -1) : 0;
  if (n > 0 && (matches = (char **)calloc((size_t)n, sizeof(char *))) != NULL) {
    for (i = 1; i <= n; i++) {
      const char *s;
      lua_rawgeti(L, -1, i);
      s = lua_tostring(L, -1);
      if (s && (matches[nmatches] = strdup(s)) != NULL) nmatches++;
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

static char **attempt_completion (const char *text, int start, int end) {
  lua_State *L = complete_L;
  const Editline *ed = complete_ed;
  int top = lua_gettop(L);
  (void)start;
  *ed->attempted_completion_over = 1;    /* never fall back to file names */
  *ed->completion_append_character = '\0';
  free_matches();
  if (!lua_checkstack(L, 8)) return NULL;
  lua_getfield(L, LUA_REGISTRYINDEX, "dagster.repl");
  if (lua_getfield(L, -1, "complete") == LUA_TFUNCTION) {
    const char *line = *ed->line_buffer ? *ed->line_buffer : "";
    size_t upto = strlen(line);
    if (end >= 0 && (size_t)end < upto) upto = (size_t)end;
    lua_pushlstring(L, line, upto);
    lua_pushstring(L, text);
    if (lua_pcall(L, 2, 1, 0) == LUA_OK) take_matches(L);
  }
  lua_settop(L, top);
  return nmatches > 0 ? ed->completion_matches(text, next_match) : NULL;
}


/*
** ---------------------------------------------------------------------------------------
** Ctrl-C at the prompt: caught without SA_RESTART, so the read under readline (or fgets)
** fails with EINTR and the REPL can tell it from the end of input.
** ---------------------------------------------------------------------------------------
*/
static volatile sig_atomic_t prompt_interrupted = 0;

static void on_prompt_sigint (int sig) {
  (void)sig;
  prompt_interrupted = 1;
}

static void catch_prompt_sigint (void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_prompt_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, NULL);
}


/* words that mark a line as holding a secret: such a line is kept out of the history */
static const char *const secret_words[] = {
  "token", "secret", "password", "passwd", "authorization", "api_key", "apikey", "bearer",
  NULL
};

/* a URL with a "user:password@" (or a user@) before its host */
static int holds_userinfo (const char *line) {
  const char *p = line;
  while ((p = strstr(p, "://")) != NULL) {
    for (p += 3; *p && !strchr("/?#\"' \t", *p); p++)
      if (*p == '@') return 1;
  }
  return 0;
}

static int holds_secret (const char *line) {
  char low[1024];
  size_t i, n = strlen(line);
  const char *const *w;
  if (n >= sizeof low) return 1;  /* too long to judge: keep it out */
  for (i = 0; i <= n; i++) low[i] = (char)tolower((unsigned char)line[i]);
  for (w = secret_words; *w; w++)
    if (strstr(low, *w)) return 1;
  return holds_userinfo(line);
}


static const char *history_file (char *buf, size_t size) {
  const char *env = getenv("DAGSTER_LUA_HISTORY");
  const char *home = getenv("HOME");
  if (env != NULL) return env[0] ? env : NULL;  /* empty: no history */
  if (home == NULL) return NULL;
  snprintf(buf, size, "%s/.dagster_lua_history", home);
  return buf;
}


/* the prompts: repl.setup's, kept in the registry ("dagster.repl.prompt"), or "> " */
static const char *prompt_of (lua_State *L, int firstline) {
  const char *p;
  if (!firstline) return PROMPT2;
  lua_getfield(L, LUA_REGISTRYINDEX, "dagster.repl.prompt");
  p = lua_tostring(L, -1);   /* the registry keeps the string alive */
  lua_pop(L, 1);
  return p ? p : PROMPT;
}

/* reads one line into a new Lua string (through libedit when ed is not NULL); returns 0 at
   end of input. Ctrl-C at the prompt drops the line and reads a new one. */
static int pushline (lua_State *L, int firstline, const Editline *ed) {
  char *line;
  size_t l;
  const char *prompt = prompt_of(L, firstline);
  for (;;) {
    prompt_interrupted = 0;
    catch_prompt_sigint();
    errno = 0;
    if (ed) line = ed->readline(prompt);
    else {
      char buf[4096];
      fputs(prompt, stdout); fflush(stdout);
      line = fgets(buf, sizeof buf, stdin) ? strdup(buf) : NULL;
    }
    signal(SIGINT, SIG_DFL);
    if (line != NULL || !prompt_interrupted) break;
    fputs("\n", stdout);   /* Ctrl-C: a fresh prompt on a new line */
    fflush(stdout);
    if (!ed) clearerr(stdin);
    if (!firstline) return 0;  /* in a continuation: drop the whole statement */
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


/* prints the results on the stack through dagster.inspect (or tostring): used only when
   dagster.repl cannot be loaded */
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


/*
** Loads dagster.repl into the registry ("dagster.repl") and calls repl.setup with what the
** terminal is like; keeps the prompt it gives in the registry and prints its banner.
** Returns 0 (and the REPL goes on without it) when the module cannot be loaded.
*/
static int setup_repl (lua_State *L, int banner) {
  struct winsize ws;
  int rows = 24, cols = 80;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) {
    rows = ws.ws_row; cols = ws.ws_col;
  }
  lua_getglobal(L, "require");
  lua_pushliteral(L, "dagster.repl");
  if (dgl_docall(L, 1, 1) != LUA_OK) { dgl_report(L, LUA_ERRRUN); return 0; }
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "dagster.repl");
  lua_getfield(L, -1, "setup");                       /* repl, setup */
  lua_createtable(L, 0, 3);
  lua_pushboolean(L, isatty(STDOUT_FILENO));
  lua_setfield(L, -2, "tty");
  lua_pushinteger(L, rows);
  lua_setfield(L, -2, "rows");
  lua_pushinteger(L, cols);
  lua_setfield(L, -2, "cols");
  if (dgl_docall(L, 1, 2) != LUA_OK) { dgl_report(L, LUA_ERRRUN); lua_pop(L, 1); return 0; }
  if (lua_isstring(L, -2)) {                          /* repl, prompt, banner */
    lua_pushvalue(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, "dagster.repl.prompt");
  }
  if (banner && lua_isstring(L, -1)) printf("%s\n", lua_tostring(L, -1));
  fflush(stdout);
  lua_pop(L, 3);
  return 1;
}


/* Writes the history file without the lines that hold a secret: they were kept in memory
   for the Up arrow, and are dropped here (the list is rebuilt without them first). */
static void save_history (const Editline *ed, const char *hfile) {
  int i, n = *ed->history_length, base = *ed->history_base, kept = 0;
  char **lines = (char **)calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
  if (lines == NULL) return;
  for (i = 0; i < n; i++) {
    char **entry = (char **)ed->history_get(base + i);  /* HIST_ENTRY: line first */
    if (entry && entry[0] && !holds_secret(entry[0]) && (lines[kept] = strdup(entry[0])))
      kept++;
  }
  ed->clear_history();
  for (i = 0; i < kept; i++) { ed->add_history(lines[i]); free(lines[i]); }
  free(lines);
  if (ed->write_history(hfile) == 0) chmod(hfile, S_IRUSR | S_IWUSR);
}


/*
** The REPL. `banner`: print repl.setup's one-line banner first (not after a script's -i).
*/
void dgl_repl (lua_State *L, int banner) {
  int status, eof = 0, have_repl;
  Editline edbuf;
  const Editline *ed = isatty(STDIN_FILENO) && open_editline(&edbuf) ? &edbuf : NULL;
  char hbuf[4096];
  const char *hfile = ed ? history_file(hbuf, sizeof hbuf) : NULL;
  have_repl = setup_repl(L, banner);
  if (ed) {
    ed->rl_initialize();  /* before the hooks: libedit resets some of them here */
    if (have_repl) {
      complete_L = L; complete_ed = ed;
      *ed->word_break_characters = WORD_BREAKS;
      *ed->attempted_completion_function = attempt_completion;
    }
    ed->using_history();
    ed->stifle_history(MAXHIST);
    if (hfile) ed->read_history(hfile);
  }
  while (1) {
    status = loadline(L, ed, &eof);
    if (eof) break;
    if (ed && lua_type(L, 1) == LUA_TSTRING) {
      const char *text = lua_tostring(L, 1);
      if (text[0]) ed->add_history(text);  /* secrets too: they never reach the file */
    }
    if (status == LUA_OK && have_repl) {        /* text, chunk */
      lua_getfield(L, LUA_REGISTRYINDEX, "dagster.repl");
      lua_getfield(L, -1, "run");
      lua_remove(L, -2);                        /* text, chunk, run */
      lua_insert(L, 2);                         /* text, run, chunk */
      lua_pushvalue(L, 1);                      /* text, run, chunk, text */
      lua_remove(L, 1);
      status = dgl_docall(L, 2, 0);
      if (status != LUA_OK) dgl_report(L, status);
      if (dgl_interrupted() == SIGTERM) break;  /* stopped from outside: the REPL ends */
      continue;
    }
    lua_remove(L, 1);  /* the text */
    if (status == LUA_OK) status = dgl_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) print_results(L);
    else dgl_report(L, status);
    if (dgl_interrupted() == SIGTERM) break;
  }
  lua_settop(L, 0);
  if (ed && hfile) save_history(ed, hfile);
  complete_L = NULL; complete_ed = NULL;
  free_matches();
  fputs("\n", stdout);
  fflush(stdout);
}
