// RunLock: one running vidbatch per ledger. An exclusive flock(2) on
// "<db>.lock", released by the kernel when the process dies (even by kill -9),
// so a crashed run never blocks the next one.
#pragma once

#include <memory>
#include <string>

#include "util/error.h"

namespace vb {

class RunLock {
 public:
  // Fails (ErrorCode::busy) when another process holds the lock.
  static Result<std::unique_ptr<RunLock>> acquire(const std::string& db_path);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  explicit RunLock(int fd) : m_fd(fd) {}
  int m_fd;
};

}  // namespace vb
