// WorkerHeartbeat: this process as a row of the ledger's `workers` table while it runs, so
// `vidbatch workers` shows it and the engines work as this worker (engine's WorkerSeat). The
// row is renewed every sixth of its time to live from a thread with a connection of its own,
// which also runs the rescuer (rescue_expired_workers): a worker killed outright or stalled
// past its time to live is reaped by any other. The row is deleted (its leases released,
// JobStore::release_worker) when the object is destroyed: a graceful stop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/run_engine.h"
#include "store/job_store.h"
#include "util/error.h"

namespace vb {

inline constexpr Millis k_worker_ttl_ms = 30000;

class WorkerHeartbeat final : public WorkerSeat {
 public:
  // Registers the worker "<host>:<pid>:<random>" through `store`, which the heartbeat thread
  // then owns. ErrorCode::database when the row cannot be written.
  static Result<std::unique_ptr<WorkerHeartbeat>> start(std::unique_ptr<JobStore> store,
                                                        Millis ttl_ms = k_worker_ttl_ms);
  ~WorkerHeartbeat() override;
  WorkerHeartbeat(const WorkerHeartbeat&) = delete;
  WorkerHeartbeat& operator=(const WorkerHeartbeat&) = delete;

  const std::string& id() const override { return m_id; }
  Millis ttl_ms() const override { return m_ttl_ms; }
  bool alive() const override { return m_alive.load(); }
  bool may_create() const override;

 private:
  WorkerHeartbeat(std::unique_ptr<JobStore> store, std::string id, Millis ttl_ms);
  void beat();

  std::unique_ptr<JobStore> m_store;
  std::string m_id;
  Millis m_ttl_ms;
  std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stopping = false;
  std::atomic<bool> m_alive{true};
  std::atomic<std::int64_t> m_last_beat_ms;  // steady clock, of the last accepted heartbeat
  std::thread m_thread;
};

}  // namespace vb
