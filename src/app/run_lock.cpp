#include "app/run_lock.h"

namespace vb {

Result<std::unique_ptr<RunLock>> RunLock::acquire(const std::string& location) {
  std::unique_ptr<LedgerLock> held = VB_TRY(JobStore::lock_exclusive(location));
  return std::unique_ptr<RunLock>(new RunLock(std::move(held)));
}

}  // namespace vb
