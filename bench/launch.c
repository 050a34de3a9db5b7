/*
** launch.c: runs one program to its end and reports what the OS accounted for it.
**
**   launch RESULTFILE PROGRAM [ARGS...]
**
** Forks, execs PROGRAM (searched on PATH) with the inherited stdin/stdout/stderr, reaps it
** with wait4 and writes one line to RESULTFILE:
**   wall=<s> user=<s> sys=<s> maxrss_kib=<n> minflt=<n> majflt=<n> status=<exit code, or 128+signal>
** wall is CLOCK_MONOTONIC from just before fork to just after wait4.
**
** Why a launcher: Linux folds the high-water RSS of the address space a process had before
** exec into its ru_maxrss. A child of a Python driver (posix_spawn/vfork shares the driver's
** memory, fork copies it) would report the driver's ~25 MiB as its own peak; a child forked
** from this small program starts from about 1 MiB, below anything measured here.
** Exits with the child's status (126/127 when it cannot be started).
*/
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double secs (struct timeval tv) {
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int main (int argc, char **argv) {
  struct timespec t0, t1;
  struct rusage ru;
  int status = 0, code;
  pid_t pid;
  FILE *out;
  if (argc < 3) {
    fprintf(stderr, "usage: %s RESULTFILE PROGRAM [ARGS...]\n", argv[0]);
    return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid = fork();
  if (pid < 0) { perror("launch: fork"); return 126; }
  if (pid == 0) {
    execvp(argv[2], argv + 2);
    fprintf(stderr, "launch: cannot run %s: %s\n", argv[2], strerror(errno));
    _exit(127);
  }
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) { perror("launch: wait4"); return 126; }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  out = fopen(argv[1], "w");
  if (out == NULL) { perror("launch: result file"); return 126; }
  fprintf(out, "wall=%.6f user=%.6f sys=%.6f maxrss_kib=%ld minflt=%ld majflt=%ld status=%d\n",
          (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
          secs(ru.ru_utime), secs(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt, code);
  fclose(out);
  return code;
}
