/*
** lfile.c: dagster.file, durable appends for the playbook journal. require "dagster.file".
**
**   file.append(path, data)   appends data to path and fsyncs it before returning; the file
**                             is created with mode 0600 (its directory fsynced too, so the
**                             new name survives a crash); raises "path: reason" on failure
**   file.truncate(path, size) cuts path to size bytes and fsyncs it (a journal drops the
**                             partial record a crash left at its end before going on)
**   file.mkdirs(path)         creates path and its missing parents with mode 0700
**   file.list(dir)            -> the names in dir (no "." or ".."), sorted; nil and a message
**                             when it cannot be read
**   file.read(path)           -> the whole file's bytes, or nil, "path: reason" and whether
**                             it is missing (a folder is "Is a directory", not missing)
**   file.mode(path)           -> the permission bits of path (0644 is 420), or nil and a
**                             message
**   file.lock(path)           -> lock, or nil and "busy" when another process holds it: an
**                             exclusive flock(2) on path (created with mode 0600), which the
**                             kernel releases when the process ends, however it ends
**   lock:write(text)          replaces the lock file's contents (who holds it), fsynced
**   lock:close()              releases it (also __gc and __close; harmless twice)
**
** A record is written with one write(2) on an O_APPEND descriptor: a crash leaves either the
** whole record, or a prefix of it as the file's last line, which the journal reader takes for
** the record that was being written.
*/
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lua.h"
#include "lauxlib.h"

#include "dagster.h"


/* fsyncs the directory that holds path (best effort: some file systems refuse it) */
static void sync_parent (const char *path) {
  char dir[4096];
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (size_t)(slash - path) : 1;
  int fd;
  if (slash == path) n = 1;
  if (n >= sizeof dir) return;
  memcpy(dir, slash ? path : ".", n);
  dir[n] = '\0';
  if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) { fsync(fd); close(fd); }
}


static int f_append (lua_State *L) {
  size_t len, done = 0;
  const char *path = luaL_checkstring(L, 1);
  const char *data = luaL_checklstring(L, 2, &len);
  int created = access(path, F_OK) != 0;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0) return luaL_error(L, "%s: %s", path, strerror(errno));
  while (done < len) {
    ssize_t w = write(fd, data + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int e = errno;
      close(fd);
      return luaL_error(L, "%s: %s", path, strerror(e));
    }
    done += (size_t)w;
  }
  if (fsync(fd) != 0) {
    int e = errno;
    close(fd);
    return luaL_error(L, "%s: fsync: %s", path, strerror(e));
  }
  close(fd);
  if (created) sync_parent(path);
  return 0;
}


static int f_truncate (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer size = luaL_checkinteger(L, 2);
  int fd;
  luaL_argcheck(L, size >= 0, 2, "negative size");
  if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
    return luaL_error(L, "%s: %s", path, strerror(errno));
  if (ftruncate(fd, (off_t)size) != 0 || fsync(fd) != 0) {
    int e = errno;
    close(fd);
    return luaL_error(L, "%s: %s", path, strerror(e));
  }
  close(fd);
  return 0;
}


static int f_mkdirs (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  char buf[4096];
  size_t i, n = strlen(path);
  if (n == 0 || n >= sizeof buf) return luaL_argerror(L, 1, "bad path length");
  memcpy(buf, path, n + 1);
  for (i = 1; i <= n; i++) {
    if (buf[i] == '/' || buf[i] == '\0') {
      char c = buf[i];
      buf[i] = '\0';
      if (mkdir(buf, S_IRWXU) != 0 && errno != EEXIST)
        return luaL_error(L, "%s: %s", buf, strerror(errno));
      buf[i] = c;
    }
  }
  return 0;
}


static int f_mode (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
  return 1;
}


/* nil, "path: reason" for errno e, and whether the file is missing: file.read's failure */
static int readfail (lua_State *L, const char *path, int e) {
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", path, strerror(e));
  lua_pushboolean(L, e == ENOENT || e == ENOTDIR);
  return 3;
}


/*
** file.read(path): the whole file is read into C memory first and pushed once the file is
** closed, so that a Lua error (out of memory) never leaves a descriptor open. A folder,
** which opens but does not read, fails as EISDIR; a read that a signal interrupts goes on.
*/
static int f_read (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;
  if (fd < 0) return readfail(L, path, errno);
  if (fstat(fd, &st) != 0) e = errno;
  else if (S_ISDIR(st.st_mode)) e = EISDIR;
  else cap = (st.st_size > 0 && (unsigned long long)st.st_size < (size_t)-1 / 2)
             ? (size_t)st.st_size + 1 : 4096;
  while (e == 0) {
    ssize_t n;
    if (len == cap || buf == NULL) {
      char *more = (len == cap) ? realloc(buf, cap *= 2) : malloc(cap);
      if (more == NULL) { e = ENOMEM; break; }
      buf = more;
    }
    n = read(fd, buf + len, cap - len);
    if (n > 0) len += (size_t)n;
    else if (n == 0) break;
    else if (errno != EINTR) e = errno;
  }
  close(fd);
  if (e != 0) {
    free(buf);
    return readfail(L, path, e);
  }
  lua_pushlstring(L, buf ? buf : "", len);  /* (a memory error here leaks buf: out of memory) */
  free(buf);
  return 1;
}


static int cmpname (const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}


/*
** file.list(dir): the names are gathered in C memory first and pushed once the directory
** is closed, so that a Lua error (out of memory) never leaves a DIR open.
*/
static int f_list (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  DIR *d = opendir(path);
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0, i;
  if (d == NULL) {
    lua_pushnil(L);
    lua_pushfstring(L, "%s: %s", path, strerror(errno));
    return 2;
  }
  while ((e = readdir(d)) != NULL) {
    char *copy;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == cap) {
      char **more = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *names);
      if (more == NULL) break;
      names = more;
    }
    if ((copy = strdup(e->d_name)) == NULL) break;
    names[n++] = copy;
  }
  closedir(d);
  if (n > 1) qsort(names, n, sizeof *names, cmpname);
  lua_createtable(L, (int)(n < 1000000 ? n : 0), 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);  /* (a memory error here leaks the copies: out of memory) */
    free(names[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free(names);
  return 1;
}


/*
** A lock: a userdata holding the descriptor of the lock file (-1 once closed), created
** closed, its metatable set, and only then the file opened and locked.
*/
#define LOCK_MT "dagster.file.Lock"

typedef struct Lock { int fd; } Lock;

static Lock *checklock (lua_State *L) {
  Lock *k = (Lock *)luaL_checkudata(L, 1, LOCK_MT);
  if (k->fd < 0) luaL_error(L, "attempt to use a closed lock");
  return k;
}


static int l_close (lua_State *L) {
  Lock *k = (Lock *)luaL_checkudata(L, 1, LOCK_MT);
  if (k->fd >= 0) {
    close(k->fd);  /* releases the flock */
    k->fd = -1;
  }
  return 0;
}


static int l_write (lua_State *L) {
  Lock *k = checklock(L);
  size_t len, done = 0;
  const char *text = luaL_checklstring(L, 2, &len);
  if (ftruncate(k->fd, 0) != 0) return luaL_error(L, "lock: %s", strerror(errno));
  while (done < len) {
    ssize_t w = pwrite(k->fd, text + done, len - done, (off_t)done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return luaL_error(L, "lock: %s", strerror(errno));
    done += (size_t)w;
  }
  fsync(k->fd);
  return 0;
}


static int f_lock (lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  Lock *k = (Lock *)lua_newuserdatauv(L, sizeof *k, 0);
  int fd;
  k->fd = -1;
  luaL_setmetatable(L, LOCK_MT);
  fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, S_IRUSR | S_IWUSR);
  if (fd < 0) return luaL_error(L, "%s: %s", path, strerror(errno));
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    if (e == EINTR) continue;
    close(fd);
    if (e == EWOULDBLOCK) {
      lua_pushnil(L);
      lua_pushliteral(L, "busy");
      return 2;
    }
    return luaL_error(L, "%s: flock: %s", path, strerror(e));
  }
  k->fd = fd;
  return 1;
}


static const luaL_Reg lock_meta[] = {
  {"__index", NULL},
  {"__gc",    l_close},
  {"__close", l_close},
  {NULL, NULL}
};

static const luaL_Reg lock_methods[] = {
  {"write", l_write},
  {"close", l_close},
  {NULL, NULL}
};


static const luaL_Reg funcs[] = {
  {"append",   f_append},
  {"truncate", f_truncate},
  {"mkdirs",   f_mkdirs},
  {"list",     f_list},
  {"read",     f_read},
  {"mode",     f_mode},
  {"lock",     f_lock},
  {NULL, NULL}
};


int luaopen_dagster_file (lua_State *L) {
  if (luaL_newmetatable(L, LOCK_MT)) {  /* safe to run twice: the registry keeps one */
    luaL_setfuncs(L, lock_meta, 0);
    luaL_newlib(L, lock_methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
