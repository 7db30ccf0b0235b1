// Subprocess: runs a program directly (fork + execve, no shell) for the e2e tests, with stdout and
// stderr redirected to files. Owns the child: the destructor SIGKILLs and reaps it if it is still
// running, so a failing test never leaks processes. Not thread-safe; use from one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vidbatch::test {

struct SubprocessOptions {
  std::vector<std::string> argv;  // argv[0] is the program path (no PATH search)
  std::vector<std::pair<std::string, std::string>> env;  // added to (or overriding) our environment
  std::string stdout_path;                               // empty = inherit
  std::string stderr_path;                               // empty = inherit
  std::string cwd;                                       // empty = inherit
  // SIGKILL the child if the test process dies (PR_SET_PDEATHSIG), so a crashed or aborted test
  // binary never leaves simulators running. Tied to the forking thread, as Linux defines it.
  bool kill_with_parent = true;
  // Descriptors handed to the child: (descriptor here, number in the child), e.g. the pipes of
  // Chromium's --remote-debugging-pipe on 3 and 4. All others are closed on exec as usual.
  std::vector<std::pair<int, int>> fds;
};

class Subprocess {
 public:
  // Starts the child. Throws std::runtime_error when fork fails or the program cannot be
  // executed (the exec error is reported back through a close-on-exec pipe).
  explicit Subprocess(const SubprocessOptions& options);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return m_pid; }
  bool running();
  void send_signal(int signal_number);
  // Blocks until exit. Returns the exit code, or 128 + signal if killed (like a shell).
  int wait();
  // Like wait(), but gives up after `timeout` and returns nullopt if still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

 private:
  bool reap(bool block);

  pid_t m_pid = -1;
  std::optional<int> m_exit_code;
};

}  // namespace vidbatch::test
