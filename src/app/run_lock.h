// RunLock: one running vidbatch per ledger, the store's lock (JobStore::lock_exclusive): on
// SQLite an exclusive flock(2) on "<db>.lock", on PostgreSQL a session advisory lock. Both are
// released when the process dies (even by kill -9), so a crashed run never blocks the next one.
#pragma once

#include <memory>
#include <string>

#include "store/job_store.h"
#include "util/error.h"

namespace vb {

class RunLock {
 public:
  // Fails (ErrorCode::busy) when another process holds the lock.
  static Result<std::unique_ptr<RunLock>> acquire(const std::string& location);
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  explicit RunLock(std::unique_ptr<LedgerLock> held) : m_held(std::move(held)) {}
  std::unique_ptr<LedgerLock> m_held;
};

}  // namespace vb
