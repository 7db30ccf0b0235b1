// FinishPool: the disk work of a finished download (verify, hash, probe, fsync, rename,
// sidecar) on worker threads, so that the event loop keeps every other
// transfer moving while a disk flushes. Two stages: a worker verifies and hashes
// each file as soon as it arrives (both workers hash at once), and the files hashed
// meanwhile share one flush (group commit for videos), taken by one worker at a time
// once the oldest has waited 10 ms or 64 are waiting, or at once when the loop says no
// more are coming (hurry()). The loop hands a VideoFile over with submit() and collects
// outcomes with take_done(); `wake` is called whenever outcomes are added, so a loop
// blocked in poll() returns at once.
// The workers run 10 nice levels below their creator: the event loop comes first.
// Thread-safe: submit(), take_done() and pending() may be called from the loop
// thread while the workers run.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "output/video_file.h"

namespace vb {

struct FinishTask {
  std::int64_t row_id = 0;
  std::unique_ptr<VideoFile> file;
  std::int64_t expected_bytes = -1;  // <0: unknown
  // Set: the file's headers are probed once it is hashed and compared with this
  // (FinishedVideo::check, stamped `checked_at`), before the sidecar is written.
  std::optional<Expectation> expected;
  Millis checked_at = 0;
  std::string sidecar_path;  // empty: no sidecar
  // Builds the sidecar text once the hash is known (called on a worker: must be pure).
  std::function<std::string(const FinishedVideo&)> sidecar;
};

struct FinishOutcome {
  std::int64_t row_id = 0;
  Result<FinishedVideo> video;
  std::unique_ptr<VideoFile> file;  // handed back on failure, for a retry
  std::string sidecar_error;        // the video is fine; only its sidecar failed
};

class FinishPool {
 public:
  static constexpr std::chrono::milliseconds k_gather{10};  // how long a flush waits for company

  FinishPool(int threads, std::function<void()> wake, std::chrono::milliseconds gather = k_gather);
  ~FinishPool();  // finishes queued tasks, then joins
  FinishPool(const FinishPool&) = delete;
  FinishPool& operator=(const FinishPool&) = delete;

  void submit(FinishTask task);
  // No more files are coming for now (the loop has no download left): the files submitted
  // are flushed as soon as they are sealed, without waiting for company. Until the next submit().
  void hurry();
  std::vector<FinishOutcome> take_done();
  std::size_t pending() const;  // submitted, not yet taken

 private:
  // A verified, hashed file waiting for the shared flush.
  struct Sealed {
    FinishTask task;
    std::string sha256;
    VideoCheck check;
  };
  using Clock = std::chrono::steady_clock;

  void work();
  bool flush_due(Clock::time_point now) const;
  void seal(FinishTask task, std::unique_lock<std::mutex>& lock);
  void flush(std::unique_lock<std::mutex>& lock);
  std::vector<FinishOutcome> place_all(std::vector<Sealed>& batch);
  void add_done(std::vector<FinishOutcome> outcomes, std::unique_lock<std::mutex>& lock);

  std::function<void()> m_wake;
  std::chrono::milliseconds m_gather;
  DirectorySync m_folders;  // the workers share folder fsyncs
  mutable std::mutex m_mutex;
  std::condition_variable m_ready;
  std::deque<FinishTask> m_tasks;  // waiting to be hashed
  std::vector<Sealed> m_sealed;    // hashed, waiting for the flush
  Clock::time_point m_oldest_sealed{};
  bool m_flushing = false;  // one flush at a time; the other worker hashes on
  bool m_hurry = false;     // flush without gathering (hurry())
  std::vector<FinishOutcome> m_done;
  std::size_t m_pending = 0;
  bool m_closing = false;
  std::vector<std::thread> m_threads;
};

}  // namespace vb
