// WorkerHeartbeat: this process as a row of the ledger's `workers` table while it runs, so
// `vidbatch workers` shows it and a rescuer can tell it alive. The row is renewed every third
// of its time to live from a thread with a connection of its own, and deleted (its leases
// released, JobStore::release_worker) when the object is destroyed: a graceful stop. A process
// killed outright leaves its row to expire; the next run reaps it (rescue_expired_workers).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/job_store.h"
#include "util/error.h"

namespace vb {

inline constexpr Millis k_worker_ttl_ms = 30000;

class WorkerHeartbeat {
 public:
  // Registers the worker "<host>:<pid>:<random>" through `store`, which the heartbeat thread
  // then owns. ErrorCode::database when the row cannot be written.
  static Result<std::unique_ptr<WorkerHeartbeat>> start(std::unique_ptr<JobStore> store,
                                                        Millis ttl_ms = k_worker_ttl_ms);
  ~WorkerHeartbeat();
  WorkerHeartbeat(const WorkerHeartbeat&) = delete;
  WorkerHeartbeat& operator=(const WorkerHeartbeat&) = delete;

  const std::string& id() const { return m_id; }

 private:
  WorkerHeartbeat(std::unique_ptr<JobStore> store, std::string id, Millis ttl_ms);
  void beat();

  std::unique_ptr<JobStore> m_store;
  std::string m_id;
  Millis m_ttl_ms;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::thread m_thread;
};

}  // namespace vb
