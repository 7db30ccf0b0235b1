// FinishPool: the disk work of a finished download (verify, hash, fsync, rename,
// sidecar) on worker threads, so that the event loop keeps every other
// transfer moving while a disk flushes. A worker takes every file queued (up to
// 64, after up to 10 ms) and makes them durable with one flush (group commit for
// videos). The loop hands a VideoFile over with submit() and collects outcomes
// with take_done(); `wake` is called after each batch so a loop blocked in poll()
// returns at once.
// Thread-safe: submit(), take_done() and pending() may be called from the loop
// thread while the workers run.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "output/video_file.h"

namespace vb {

struct FinishTask {
  std::int64_t row_id = 0;
  std::unique_ptr<VideoFile> file;
  std::int64_t expected_bytes = -1;   // <0: unknown
  std::string sidecar_path;  // empty: no sidecar
  // Builds the sidecar text once the hash is known (called on a worker: must be pure).
  std::function<std::string(const FinishedVideo&)> sidecar;
};

struct FinishOutcome {
  std::int64_t row_id = 0;
  Result<FinishedVideo> video;
  std::unique_ptr<VideoFile> file;    // handed back on failure, for a retry
  std::string sidecar_error;          // the video is fine; only its sidecar failed
};

class FinishPool {
 public:
  FinishPool(int threads, std::function<void()> wake);
  ~FinishPool();  // finishes queued tasks, then joins
  FinishPool(const FinishPool&) = delete;
  FinishPool& operator=(const FinishPool&) = delete;

  void submit(FinishTask task);
  std::vector<FinishOutcome> take_done();
  std::size_t pending() const;  // submitted, not yet taken

 private:
  void work();
  std::vector<FinishOutcome> finish(std::vector<FinishTask>& tasks);

  std::function<void()> m_wake;
  DirectorySync m_folders;  // the workers share folder fsyncs
  mutable std::mutex m_mutex;
  std::condition_variable m_ready;
  std::deque<FinishTask> m_tasks;
  std::vector<FinishOutcome> m_done;
  std::size_t m_pending = 0;
  bool m_closing = false;
  std::vector<std::thread> m_threads;
};

}  // namespace vb
