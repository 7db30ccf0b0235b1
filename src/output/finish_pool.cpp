#include "output/finish_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iterator>

namespace vb {

namespace {

// Finishing yields the CPU to the event loop: a hash can wait a few milliseconds, a socket
// left unread stalls its transfer. With both cores busy (the download phase of bench part 2)
// this raised throughput in 12 of 14 alternating pairs. On Linux a nice value is per thread;
// raising it needs no privilege.
constexpr int k_worker_nice_increment = 10;

void yield_to_event_loop() {
  const auto self = static_cast<id_t>(::gettid());
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, self);
  if (errno == 0) {
    ::setpriority(PRIO_PROCESS, self, std::min(nice + k_worker_nice_increment, 19));
  }
}

}  // namespace

FinishPool::FinishPool(int threads, std::function<void()> wake, std::chrono::milliseconds gather)
    : m_wake(std::move(wake)), m_gather(gather) {
  for (int i = 0; i < threads; ++i) {
    m_threads.emplace_back([this] {
      yield_to_event_loop();
      work();
    });
  }
}

FinishPool::~FinishPool() {
  {
    std::lock_guard lock(m_mutex);
    m_closing = true;
  }
  m_ready.notify_all();
  for (auto& thread : m_threads) {
    thread.join();
  }
}

void FinishPool::submit(FinishTask task) {
  task.file->settle();  // no buffers kept while it waits for a worker
  {
    std::lock_guard lock(m_mutex);
    m_tasks.push_back(std::move(task));
    m_pending += 1;
    m_hurry = false;
  }
  m_ready.notify_one();
}

void FinishPool::hurry() {
  {
    std::lock_guard lock(m_mutex);
    m_hurry = true;
  }
  m_ready.notify_all();  // a worker waiting out the gather time flushes now
}

std::vector<FinishOutcome> FinishPool::take_done() {
  std::lock_guard lock(m_mutex);
  std::vector<FinishOutcome> done = std::move(m_done);
  m_done.clear();
  m_pending -= done.size();
  return done;
}

std::size_t FinishPool::pending() const {
  std::lock_guard lock(m_mutex);
  return m_pending;
}

namespace {

constexpr std::size_t k_max_batch = 64;  // files sharing one flush

// The sidecar is a convenience copy of ledger data: no fsync of its own.
void write_sidecar(FinishTask& task, FinishOutcome& outcome) {
  if (task.sidecar_path.empty()) {
    return;
  }
  auto status = write_file_atomically(task.sidecar_path, task.sidecar(*outcome.video), false);
  if (!status) {
    outcome.sidecar_error = status.error().describe();
  }
}

}  // namespace

// Outside the lock: the verify, hash and probe of one file (the probe reads the part file's
// headers, still in the page cache). A file that fails is handed back at once.
void FinishPool::seal(FinishTask task, std::unique_lock<std::mutex>& lock) {
  lock.unlock();
  Result<std::string> sha256 = task.file->seal(task.expected_bytes);
  VideoCheck check;
  if (sha256 && task.expected) {
    const OutputPaths& paths = task.file->paths();
    check = check_video(paths.part, *task.expected, task.checked_at, paths.video);
  }
  lock.lock();
  if (sha256) {
    if (m_sealed.empty()) {
      m_oldest_sealed = Clock::now();
    }
    m_sealed.push_back({std::move(task), std::move(*sha256), std::move(check)});
    return;
  }
  std::vector<FinishOutcome> failed(1);
  failed[0].row_id = task.row_id;
  failed[0].video = std::unexpected(sha256.error());
  failed[0].file = std::move(task.file);  // handed back for a retry
  add_done(std::move(failed), lock);
}

// One flush makes every file sealed so far durable (VideoFile::sync_all); then each is renamed
// into place and each folder is fsynced once for all its renames.
void FinishPool::flush(std::unique_lock<std::mutex>& lock) {
  std::vector<Sealed> batch;
  const std::size_t n = std::min(m_sealed.size(), k_max_batch);
  std::move(m_sealed.begin(), m_sealed.begin() + static_cast<std::ptrdiff_t>(n),
            std::back_inserter(batch));
  m_sealed.erase(m_sealed.begin(), m_sealed.begin() + static_cast<std::ptrdiff_t>(n));
  m_oldest_sealed = Clock::now();  // those left over start a new wait
  m_flushing = true;
  lock.unlock();
  std::vector<FinishOutcome> outcomes = place_all(batch);
  lock.lock();
  m_flushing = false;
  add_done(std::move(outcomes), lock);
  m_ready.notify_all();  // the other worker may flush now
}

std::vector<FinishOutcome> FinishPool::place_all(std::vector<Sealed>& batch) {
  std::vector<VideoFile*> files;
  for (auto& sealed : batch) {
    files.push_back(sealed.task.file.get());
  }
  Status synced = VideoFile::sync_all(files);
  std::vector<FinishOutcome> outcomes(batch.size());
  std::vector<std::string> folders;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    FinishTask& task = batch[i].task;
    outcomes[i].row_id = task.row_id;
    outcomes[i].video = synced ? task.file->place(std::move(batch[i].sha256))
                               : Result<FinishedVideo>(std::unexpected(synced.error()));
    const std::string& folder = task.file->folder();
    if (outcomes[i].video && std::find(folders.begin(), folders.end(), folder) == folders.end()) {
      folders.push_back(folder);
    }
  }
  for (const auto& folder : folders) {
    m_folders.sync(folder);  // the renames are durable before anyone records them
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (!outcomes[i].video) {
      outcomes[i].file = std::move(batch[i].task.file);  // handed back for a retry
    } else {
      outcomes[i].video->check = std::move(batch[i].check);
      write_sidecar(batch[i].task, outcomes[i]);
    }
  }
  return outcomes;
}

void FinishPool::add_done(std::vector<FinishOutcome> outcomes, std::unique_lock<std::mutex>& lock) {
  std::move(outcomes.begin(), outcomes.end(), std::back_inserter(m_done));
  lock.unlock();
  m_wake();
  lock.lock();
}

// Due once the oldest sealed file has waited m_gather (other files join its flush: a busy run
// flushes a fraction as often) or a batch is full; at once when closing, or when no more files
// are coming and none is left to seal (the last video of a run waits for nothing).
bool FinishPool::flush_due(Clock::time_point now) const {
  return !m_sealed.empty() && !m_flushing &&
         (m_closing || (m_hurry && m_tasks.empty()) || m_sealed.size() >= k_max_batch ||
          now >= m_oldest_sealed + m_gather);
}

// A due flush comes first, so that hashing a steady stream never holds files back; otherwise
// every file is hashed as it arrives.
void FinishPool::work() {
  std::unique_lock lock(m_mutex);
  while (true) {
    if (flush_due(Clock::now())) {
      flush(lock);
    } else if (!m_tasks.empty()) {
      FinishTask task = std::move(m_tasks.front());
      m_tasks.pop_front();
      seal(std::move(task), lock);
    } else if (m_closing && m_sealed.empty()) {
      return;  // a flush still running belongs to the other worker
    } else if (!m_sealed.empty() && !m_flushing) {
      m_ready.wait_until(lock, m_oldest_sealed + m_gather);
    } else {
      m_ready.wait(lock);
    }
  }
}

}  // namespace vb
