/*
** main.c: the dagster-lua command line, shaped like lua.c.
**
**   dagster-lua [options] [script [args]]
**     -e chunk   run chunk          -l mod     require mod into global mod
**     -l g=mod   require mod into g -i         interactive after the script
**     -v         show versions      -E         ignore DAGSTER_LUA_INIT and DAGSTER_LUA_DEV
**     -W         turn warnings on   --dev[=DIR] load lua/ modules from DIR (default ./lua)
**     --         stop options       -          run stdin
**     --help     the short usage, on stdout
**   dagster-lua play NAME|FILE [args]   run a playbook (lua/dagster/playbook.lua)
*/
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "dagster.h"

#define INIT_VAR  "DAGSTER_LUA_INIT"
#define DEV_VAR   "DAGSTER_LUA_DEV"

/* bits of what collectargs found */
#define has_error 1
#define has_i     2
#define has_v     4
#define has_e     8
#define has_E     16
#define has_help  32  /* --help: alone, it ends the scan */


/* the short usage: on stdout for --help, on stderr after a bad option */
static void print_options (FILE *f) {
  fprintf(f,
    "usage: %s [options] [script [args]]\n"
    "       %s play NAME|FILE [args]   run a playbook (play --list names the shipped ones,\n"
    "                                   play NAME --help shows its flags and exit codes)\n"
    "Available options are:\n"
    "  -e stat     execute string 'stat'\n"
    "  -i          enter interactive mode after executing 'script'\n"
    "  -l mod      require library 'mod' into global 'mod'\n"
    "  -l g=mod    require library 'mod' into global 'g'\n"
    "  -v          show version information\n"
    "  -E          ignore environment variables " INIT_VAR " and " DEV_VAR "\n"
    "  -W          turn warnings on\n"
    "  --dev[=DIR] load the dagster Lua modules from DIR (default ./lua), not the binary\n"
    "  --help      show this help and exit (the manual: man dagster-lua)\n"
    "  --          stop handling options\n"
    "  -           stop handling options and execute stdin\n",
    DGL_PROGNAME, DGL_PROGNAME);
  fflush(f);
}


static void print_usage (const char *badoption) {
  fprintf(stderr, "%s: ", DGL_PROGNAME);
  if (badoption[1] == 'e' || badoption[1] == 'l')
    fprintf(stderr, "'%s' needs argument\n", badoption);
  else
    fprintf(stderr, "unrecognized option '%s'\n", badoption);
  print_options(stderr);
}


static void print_version (void) {
  printf("%s %s (%s; %s)\n", DGL_PROGNAME, DAGSTER_LUA_VERSION, LUA_RELEASE, dgl_curl_version());
  fflush(stdout);
}


/*
** Scans the options. Returns the bits above; *first is the index of the script (or argc
** when there is none); *devdir is set by --dev.
*/
static int collectargs (char **argv, int *first, const char **devdir) {
  int args = 0, i;
  if (argv[0] != NULL) {
    for (i = 1; argv[i] != NULL; i++) {
      *first = i;
      if (argv[i][0] != '-')
        return args;
      if (strcmp(argv[i], "--help") == 0)
        return has_help;
      if (strncmp(argv[i], "--dev", 5) == 0 && (argv[i][5] == '\0' || argv[i][5] == '=')) {
        *devdir = argv[i][5] == '=' ? argv[i] + 6 : "lua";
        continue;
      }
      switch (argv[i][1]) {
        case '-':
          if (argv[i][2] != '\0') return has_error;
          *first = i + 1;
          return args;
        case '\0':
          return args;
        case 'E':
          if (argv[i][2] != '\0') return has_error;
          args |= has_E;
          break;
        case 'W':
          if (argv[i][2] != '\0') return has_error;
          break;
        case 'i':
          if (argv[i][2] != '\0') return has_error;
          args |= has_i;  /* the REPL's banner says the version */
          break;
        case 'v':
          if (argv[i][2] != '\0') return has_error;
          args |= has_v;
          break;
        case 'e':
          args |= has_e;
          /* FALLTHROUGH */
        case 'l':
          if (argv[i][2] == '\0') {
            i++;
            if (argv[i] == NULL || argv[i][0] == '-')
              return has_error;
          }
          break;
        default:
          return has_error;
      }
    }
    *first = i;
  }
  else *first = 0;
  return args;
}


/*
** arg table: script at 0, its arguments at 1.., interpreter and options at negatives.
*/
static void createargtable (lua_State *L, char **argv, int argc, int script) {
  int i, narg;
  if (script == argc) script = 0;  /* no script: arg[0] is the program */
  narg = argc - (script + 1);
  lua_createtable(L, narg, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}


/* the signal (Ctrl-C's SIGINT, or SIGTERM) that stopped some call the script caught and
   went on from, or 0: it still exits 128 + it, as a shell expects of a program stopped so */
static int caught_signal = 0;


static int dochunk (lua_State *L, int status) {
  if (status == LUA_OK) {
    status = dgl_docall(L, 0, 0);
    if (status == LUA_OK && dgl_interrupted()) caught_signal = dgl_interrupted();
  }
  return dgl_report(L, status);
}


static int dostring (lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}


/* -l g=mod: require mod and store it in global g */
static int dolibrary (lua_State *L, char *globname) {
  int status;
  char *modname = strchr(globname, '=');
  if (modname == NULL) modname = globname;
  else { *modname = '\0'; modname++; }
  lua_getglobal(L, "require");
  lua_pushstring(L, modname);
  status = dgl_docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, globname);
  return dgl_report(L, status);
}


static int pushargs (lua_State *L) {
  int i, n;
  if (lua_getglobal(L, "arg") != LUA_TTABLE)
    luaL_error(L, "'arg' is not a table");
  n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}


static int handle_script (lua_State *L, char **argv) {
  int status;
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
    fname = NULL;  /* stdin */
  status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = dgl_docall(L, n, LUA_MULTRET);
    if (status == LUA_OK && dgl_interrupted()) caught_signal = dgl_interrupted();
  }
  return dgl_report(L, status);
}


/* runs -e and -l in order; returns 0 on the first failure */
static int runargs (lua_State *L, char **argv, int n) {
  int i;
  for (i = 1; i < n; i++) {
    int option = argv[i][1];
    if (strncmp(argv[i], "--dev", 5) == 0) continue;
    if (option == 'W') { lua_warning(L, "@on", 0); continue; }
    if (option == 'e' || option == 'l') {
      int status;
      char *extra = argv[i] + 2;
      if (*extra == '\0') extra = argv[++i];
      status = (option == 'e') ? dostring(L, extra, "=(command line)")
                               : dolibrary(L, extra);
      if (status != LUA_OK) return 0;
    }
  }
  return 1;
}


static int handle_init (lua_State *L) {
  const char *init = getenv(INIT_VAR);
  if (init == NULL) return LUA_OK;
  if (init[0] == '@')
    return dochunk(L, luaL_loadfile(L, init + 1));
  return dostring(L, init, "=" INIT_VAR);
}


/*
** dagster-lua play ...: playbook.play(args) with the arguments after "play"; leaves the exit
** status it returns (an integer) on the stack.
*/
static int doplay (lua_State *L, char **argv, int argc) {
  int i, status;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "dagster.playbook");
  status = dgl_docall(L, 1, 1);
  if (status == LUA_OK) {
    lua_getfield(L, -1, "play");
    lua_remove(L, -2);
    lua_createtable(L, argc - 2, 0);
    for (i = 2; i < argc; i++) {
      lua_pushstring(L, argv[i]);
      lua_rawseti(L, -2, i - 1);
    }
    status = dgl_docall(L, 1, 1);
  }
  if (status != LUA_OK) {
    dgl_report(L, status);
    lua_pushinteger(L, dgl_interrupted() ? 128 + dgl_interrupted() : 1);
  }
  else if (!lua_isinteger(L, -1)) {
    lua_pop(L, 1);
    lua_pushinteger(L, 1);
  }
  return 1;
}


/*
** Everything runs in here, in protected mode, so that memory errors are caught.
*/
static int pmain (lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int script = 0;
  const char *devdir = NULL;
  int args;
  luaL_checkversion(L);
  if (argc > 1 && strcmp(argv[1], "play") == 0) {
    const char *env = getenv(DEV_VAR);
    if (env != NULL && env[0] != '\0') devdir = strcmp(env, "1") == 0 ? "lua" : env;
    dgl_openlibs(L, devdir);
    createargtable(L, argv, argc, 1);
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0);
    return doplay(L, argv, argc);
  }
  args = collectargs(argv, &script, &devdir);
  if (args == has_error) {
    print_usage(argv[script]);
    return 0;
  }
  if (args == has_help) {
    print_options(stdout);
    lua_pushboolean(L, 1);
    return 1;
  }
  if (args & has_v) print_version();
  if (devdir == NULL && !(args & has_E)) {
    const char *env = getenv(DEV_VAR);
    if (env != NULL && env[0] != '\0') devdir = strcmp(env, "1") == 0 ? "lua" : env;
  }
  dgl_openlibs(L, devdir);
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(args & has_E) && handle_init(L) != LUA_OK)
    return 0;
  if (!runargs(L, argv, script))
    return 0;
  if (script < argc && handle_script(L, argv + script) != LUA_OK)
    return 0;
  if (args & has_i) {
    caught_signal = 0;  /* the REPL's own Ctrl-C only clears a line */
    dgl_repl(L, script == argc);
    if (dgl_interrupted() == SIGTERM) caught_signal = SIGTERM;  /* it ended the REPL */
  }
  else if (script == argc && !(args & (has_e | has_v))) {
    if (isatty(STDIN_FILENO)) {
      dgl_repl(L, 1);
      if (dgl_interrupted() == SIGTERM) caught_signal = SIGTERM;
    }
    else dochunk(L, luaL_loadfile(L, NULL));
  }
  lua_pushboolean(L, 1);
  return 1;
}


int main (int argc, char **argv) {
  int status, result;
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    dgl_message("cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 1, 0);
  if (status == LUA_OK && lua_isinteger(L, -1)) {  /* play: its exit status */
    int code = (int)lua_tointeger(L, -1);
    lua_close(L);
    return code;
  }
  result = lua_toboolean(L, -1);
  dgl_report(L, status);
  lua_close(L);
  if (result && status == LUA_OK) return caught_signal ? 128 + caught_signal : EXIT_SUCCESS;
  /* 130 after Ctrl-C, 143 after SIGTERM, as shells do */
  return dgl_interrupted() ? 128 + dgl_interrupted() : EXIT_FAILURE;
}
