#include "app/worker_heartbeat.h"

#include <unistd.h>

#include <chrono>
#include <random>

namespace vb {

namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) {
    return "unknown-host";
  }
  return name;
}

std::string random_suffix() {
  std::random_device device;
  std::uniform_int_distribution<unsigned> digit(0, 35);
  std::string text;
  for (int i = 0; i < 6; ++i) {
    const unsigned d = digit(device);
    text += static_cast<char>(d < 10 ? '0' + d : 'a' + (d - 10));
  }
  return text;
}

}  // namespace

Result<std::unique_ptr<WorkerHeartbeat>> WorkerHeartbeat::start(std::unique_ptr<JobStore> store,
                                                                Millis ttl_ms) {
  const std::string host = host_name();
  const int pid = static_cast<int>(::getpid());
  const std::string id = host + ":" + std::to_string(pid) + ":" + random_suffix();
  VB_TRY(store->register_worker(id, host, pid, ttl_ms));
  return std::unique_ptr<WorkerHeartbeat>(new WorkerHeartbeat(std::move(store), id, ttl_ms));
}

namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

WorkerHeartbeat::WorkerHeartbeat(std::unique_ptr<JobStore> store, std::string id, Millis ttl_ms)
    : m_store(std::move(store)),
      m_id(std::move(id)),
      m_ttl_ms(ttl_ms),
      m_last_beat_ms(steady_ms()) {
  m_thread = std::thread([this] { beat(); });
}

WorkerHeartbeat::~WorkerHeartbeat() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  m_thread.join();
  // A failed release leaves the row to expire; a rescuer reaps it.
  (void)m_store->release_worker(m_id);
}

// R6: on the local monotonic clock, so a stalled process that wakes starts no create before
// its heartbeat has been accepted again.
bool WorkerHeartbeat::may_create() const {
  return m_alive.load() && steady_ms() - m_last_beat_ms.load() < m_ttl_ms / 2;
}

void WorkerHeartbeat::beat() {
  std::unique_lock<std::mutex> lock(m_mutex);
  while (!m_wake.wait_for(lock, std::chrono::milliseconds(m_ttl_ms / 6),
                          [this] { return m_stopping; })) {
    const std::int64_t sent = steady_ms();
    auto answer = m_store->heartbeat(m_id, m_ttl_ms);
    // A database error is retried at the next beat (may_create() turns false meanwhile).
    if (answer && !answer->alive) {
      m_alive = false;  // R5: final; the engines stop
      return;
    }
    if (answer) {
      m_last_beat_ms = sent;
    }
    // A failed rescue is retried at the next beat; any other worker may do it meanwhile.
    (void)m_store->rescue_expired_workers();
  }
}

}  // namespace vb
