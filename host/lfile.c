/*
** lfile.c: dagster.file, durable appends for the playbook journal. require "dagster.file".
**
**   file.append(path, data)   appends data to path and fsyncs it before returning; the file
**                             is created with mode 0600 (its directory fsynced too, so the
**                             new name survives a crash); raises "path: reason" on failure
**   file.truncate(path, size) cuts path to size bytes and fsyncs it (a journal drops the
**                             partial record a crash left at its end before going on)
**   file.mkdirs(path)         creates path and its missing parents with mode 0700
**
** A record is written with one write(2) on an O_APPEND descriptor: a crash leaves either the
** whole record, or a prefix of it as the file's last line, which the journal reader takes for
** the record that was being written.
*/
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
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


static const luaL_Reg funcs[] = {
  {"append", f_append},
  {"truncate", f_truncate},
  {"mkdirs", f_mkdirs},
  {NULL, NULL}
};


int luaopen_dagster_file (lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
