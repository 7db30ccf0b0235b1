#include "output/finish_pool.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <optional>

namespace vb {

FinishPool::FinishPool(int threads, std::function<void()> wake) : m_wake(std::move(wake)) {
  for (int i = 0; i < threads; ++i) {
    m_threads.emplace_back([this] { work(); });
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
  }
  m_ready.notify_one();
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
constexpr std::chrono::milliseconds k_gather{10};

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

// Each file is verified and hashed, one flush makes them all durable (VideoFile::sync_all), then
// each is renamed into place and each folder is fsynced once for all its renames.
std::vector<FinishOutcome> FinishPool::finish(std::vector<FinishTask>& tasks) {
  std::vector<FinishOutcome> outcomes(tasks.size());
  std::vector<std::optional<std::string>> hashes(tasks.size());  // set: sealed
  std::vector<VideoFile*> sealed;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    Result<std::string> sha256 = tasks[i].file->seal(tasks[i].expected_bytes);
    if (sha256) {
      hashes[i] = std::move(*sha256);
      sealed.push_back(tasks[i].file.get());
    } else {
      outcomes[i].video = std::unexpected(sha256.error());
    }
  }
  Status synced = sealed.empty() ? Status{} : VideoFile::sync_all(sealed);
  std::vector<std::string> folders;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (!hashes[i]) {
      continue;
    }
    if (!synced) {
      outcomes[i].video = std::unexpected(synced.error());
      continue;
    }
    outcomes[i].video = tasks[i].file->place(std::move(*hashes[i]));
    const std::string& folder = tasks[i].file->folder();
    if (outcomes[i].video && std::find(folders.begin(), folders.end(), folder) == folders.end()) {
      folders.push_back(folder);
    }
  }
  for (const auto& folder : folders) {
    m_folders.sync(folder);  // the renames are durable before anyone records them
  }
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    outcomes[i].row_id = tasks[i].row_id;
    if (!outcomes[i].video) {
      outcomes[i].file = std::move(tasks[i].file);  // handed back for a retry
    } else {
      write_sidecar(tasks[i], outcomes[i]);
    }
  }
  return outcomes;
}

void FinishPool::work() {
  while (true) {
    std::vector<FinishTask> tasks;
    {
      std::unique_lock lock(m_mutex);
      m_ready.wait(lock, [this] { return m_closing || !m_tasks.empty(); });
      if (m_tasks.empty()) {
        return;  // closing, nothing left
      }
      // A few milliseconds for more files to join this flush (group commit); a download's
      // `done` is that much later, and a busy run flushes a fraction as often.
      m_ready.wait_for(lock, k_gather, [this] { return m_closing || m_tasks.size() >= k_max_batch; });
      // Everything queued (up to a limit): under load the files share their flush.
      while (!m_tasks.empty() && tasks.size() < k_max_batch) {
        tasks.push_back(std::move(m_tasks.front()));
        m_tasks.pop_front();
      }
    }
    std::vector<FinishOutcome> outcomes = finish(tasks);
    {
      std::lock_guard lock(m_mutex);
      std::move(outcomes.begin(), outcomes.end(), std::back_inserter(m_done));
    }
    m_wake();
  }
}

}  // namespace vb
