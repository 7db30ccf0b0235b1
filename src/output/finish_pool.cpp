#include "output/finish_pool.h"

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

FinishOutcome FinishPool::finish(FinishTask& task) {
  FinishOutcome outcome{task.row_id, task.file->finish(task.expected_bytes, &m_folders), nullptr, {}};
  if (!outcome.video) {
    outcome.file = std::move(task.file);
    return outcome;
  }
  // The sidecar is a convenience copy of ledger data: no fsync of its own.
  auto status = write_file_atomically(task.sidecar_path, task.sidecar(*outcome.video), false);
  if (!status) {
    outcome.sidecar_error = status.error().describe();
  }
  return outcome;
}

void FinishPool::work() {
  while (true) {
    FinishTask task;
    {
      std::unique_lock lock(m_mutex);
      m_ready.wait(lock, [this] { return m_closing || !m_tasks.empty(); });
      if (m_tasks.empty()) {
        return;  // closing, nothing left
      }
      task = std::move(m_tasks.front());
      m_tasks.pop_front();
    }
    FinishOutcome outcome = finish(task);
    {
      std::lock_guard lock(m_mutex);
      m_done.push_back(std::move(outcome));
    }
    m_wake();
  }
}

}  // namespace vb
