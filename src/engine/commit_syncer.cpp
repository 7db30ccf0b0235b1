#include "engine/commit_syncer.h"

#include <algorithm>

namespace vb {

CommitSyncer::CommitSyncer(std::function<Status()> sync, std::function<void()> wake)
    : m_sync(std::move(sync)), m_wake(std::move(wake)), m_thread([this] { work(); }) {}

CommitSyncer::~CommitSyncer() {
  {
    std::lock_guard lock(m_mutex);
    m_closing = true;
  }
  m_requested_cv.notify_one();
  m_thread.join();
}

std::uint64_t CommitSyncer::request() {
  std::uint64_t ticket = 0;
  {
    std::lock_guard lock(m_mutex);
    ticket = ++m_requested;
  }
  m_requested_cv.notify_one();
  return ticket;
}

Result<std::uint64_t> CommitSyncer::synced() const {
  std::lock_guard lock(m_mutex);
  if (m_failure) {
    return std::unexpected(*m_failure);
  }
  return m_synced;
}

Status CommitSyncer::sync_now() {
  std::uint64_t covers = 0;
  {
    std::lock_guard lock(m_mutex);
    covers = ++m_requested;
  }
  finish(covers, m_sync());
  std::lock_guard lock(m_mutex);
  if (m_failure) {
    return std::unexpected(*m_failure);
  }
  return {};
}

void CommitSyncer::finish(std::uint64_t covers, Status status) {
  std::lock_guard lock(m_mutex);
  if (!status && !m_failure) {
    m_failure = status.error();
  }
  if (!m_failure) {
    m_synced = std::max(m_synced, covers);
  }
}

// One sync covers every request made before it began: a busy loop asks at each commit, and
// the syncer catches up in one fdatasync whatever the number of requests meanwhile.
void CommitSyncer::work() {
  std::unique_lock lock(m_mutex);
  while (true) {
    m_requested_cv.wait(lock, [&] { return m_closing || (m_requested > m_synced && !m_failure); });
    if (m_closing) {
      return;
    }
    const std::uint64_t covers = m_requested;
    lock.unlock();
    Status status = m_sync();
    finish(covers, std::move(status));
    m_wake();
    lock.lock();
  }
}

}  // namespace vb
