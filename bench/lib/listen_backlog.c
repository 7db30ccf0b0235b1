// LD_PRELOAD shim for the benchmark's simulator only: raises the listen() backlog.
// Debian's compiled cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG); a client
// that opens 64 connections at once then overflows the accept queue, the kernel falls back to
// SYN cookies and resets some connections (nstat: TcpExtListenOverflows, SyncookiesFailed,
// TcpEstabResets). A real provider does not do that, so bench/run starts vidbatch-sim with this.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>

int listen(int fd, int backlog) {
  static int (*real_listen)(int, int);
  if (!real_listen) {
    real_listen = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
  }
  const char* want = getenv("BENCH_LISTEN_BACKLOG");
  int min_backlog = want ? atoi(want) : 4096;
  return real_listen(fd, backlog < min_backlog ? min_backlog : backlog);
}
