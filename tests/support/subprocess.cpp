#include "support/subprocess.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace vidbatch::test {

namespace {

std::vector<std::string> merged_environment(
    const std::vector<std::pair<std::string, std::string>>& additions) {
  std::vector<std::string> out;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const std::string name = text.substr(0, text.find('='));
    bool overridden = false;
    for (const auto& [key, value] : additions) {
      overridden = overridden || key == name;
    }
    if (!overridden) {
      out.push_back(text);
    }
  }
  for (const auto& [key, value] : additions) {
    out.push_back(key + "=" + value);
  }
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

void redirect(const std::string& path, int target_fd) {
  if (path.empty()) {
    return;
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ::dup2(fd, target_fd);  // dup2 clears close-on-exec on the duplicate
    ::close(fd);
  }
}

// Runs in the child after fork: only async-signal-safe calls from here on.
[[noreturn]] void exec_child(const SubprocessOptions& options, char** argv, char** envp,
                             int error_fd, pid_t parent) {
  if (options.kill_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {  // the parent died before prctl took effect
      ::_exit(127);
    }
  }
  redirect(options.stdout_path, STDOUT_FILENO);
  redirect(options.stderr_path, STDERR_FILENO);
  // Out of the way first (a target number may be another pair's source), then into place.
  int moved[16];
  const std::size_t count = std::min<std::size_t>(options.fds.size(), 16);
  for (std::size_t i = 0; i < count; ++i) {
    moved[i] = ::fcntl(options.fds[i].first, F_DUPFD_CLOEXEC, 100);
  }
  for (std::size_t i = 0; i < count; ++i) {
    ::dup2(moved[i], options.fds[i].second);  // dup2 clears close-on-exec on the target
  }
  if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) {
    const int error = errno;
    (void)!::write(error_fd, &error, sizeof(error));
    ::_exit(127);
  }
  ::execve(argv[0], argv, envp);
  const int error = errno;
  (void)!::write(error_fd, &error, sizeof(error));
  ::_exit(127);
}

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

Subprocess::Subprocess(const SubprocessOptions& options) {
  if (options.argv.empty()) {
    throw std::runtime_error("Subprocess: empty argv");
  }
  // Everything the child needs is built before fork: no allocation after it.
  std::vector<std::string> args = options.argv;
  std::vector<std::string> env = merged_environment(options.env);
  std::vector<char*> argv = c_strings(args);
  std::vector<char*> envp = c_strings(env);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("Subprocess: pipe: ") + std::strerror(errno));
  }
  const pid_t parent = ::getpid();
  m_pid = ::fork();
  if (m_pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::runtime_error(std::string("Subprocess: fork: ") + std::strerror(errno));
  }
  if (m_pid == 0) {
    ::close(pipe_fds[0]);
    exec_child(options, argv.data(), envp.data(), pipe_fds[1], parent);
  }
  ::close(pipe_fds[1]);
  int child_errno = 0;
  const ssize_t n = ::read(pipe_fds[0], &child_errno, sizeof(child_errno));  // EOF = exec succeeded
  ::close(pipe_fds[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    wait();
    throw std::runtime_error("Subprocess: cannot execute " + options.argv[0] + ": " +
                             std::strerror(child_errno));
  }
}

Subprocess::~Subprocess() {
  if (m_pid > 0 && !m_exit_code) {
    ::kill(m_pid, SIGKILL);
    reap(true);
  }
}

bool Subprocess::reap(bool block) {
  if (m_exit_code) {
    return true;
  }
  int status = 0;
  pid_t result;
  do {
    result = ::waitpid(m_pid, &status, block ? 0 : WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == m_pid) {
    m_exit_code = decode_status(status);
    return true;
  }
  return false;
}

bool Subprocess::running() {
  return !reap(false);
}

void Subprocess::send_signal(int signal_number) {
  if (!m_exit_code) {
    ::kill(m_pid, signal_number);
  }
}

int Subprocess::wait() {
  reap(true);
  return *m_exit_code;
}

std::optional<int> Subprocess::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return m_exit_code;
}

}  // namespace vidbatch::test
