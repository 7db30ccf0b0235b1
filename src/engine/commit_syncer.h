// CommitSyncer: makes the ledger's deferred commits durable on a thread of its own, so the
// event loop goes on reading sockets while the disk flushes (JobStore::defer_durability).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "util/error.h"

namespace vb {

class CommitSyncer {
 public:
  // `sync` makes every commit so far durable (JobStore::commit_syncer); `wake` is called on the
  // syncer's thread after each sync, to wake the event loop.
  CommitSyncer(std::function<Status()> sync, std::function<void()> wake);
  ~CommitSyncer();
  CommitSyncer(const CommitSyncer&) = delete;
  CommitSyncer& operator=(const CommitSyncer&) = delete;

  // Asks for a sync covering every commit returned before this call; its ticket. Requests
  // made while a sync runs share the next one.
  std::uint64_t request();
  // The highest ticket durable, or the error of the first failed sync (none succeeds after).
  Result<std::uint64_t> synced() const;
  // Syncs on the caller's thread: every ticket so far is durable once it returns ok.
  Status sync_now();

 private:
  void work();
  void finish(std::uint64_t covers, Status status);

  std::function<Status()> m_sync;
  std::function<void()> m_wake;
  mutable std::mutex m_mutex;
  std::condition_variable m_requested_cv;
  std::uint64_t m_requested = 0;
  std::uint64_t m_synced = 0;
  std::optional<Error> m_failure;
  bool m_closing = false;
  std::thread m_thread;  // last: started once the members it reads exist
};

}  // namespace vb
