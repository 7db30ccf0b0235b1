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

WorkerHeartbeat::WorkerHeartbeat(std::unique_ptr<JobStore> store, std::string id, Millis ttl_ms)
    : m_store(std::move(store)), m_id(std::move(id)), m_ttl_ms(ttl_ms) {
  m_thread = std::thread([this] { beat(); });
}

WorkerHeartbeat::~WorkerHeartbeat() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  m_thread.join();
  // A failed release leaves the row to expire; the next rescuer reaps it.
  (void)m_store->release_worker(m_id);
}

void WorkerHeartbeat::beat() {
  std::unique_lock<std::mutex> lock(m_mutex);
  while (!m_wake.wait_for(lock, std::chrono::milliseconds(m_ttl_ms / 3),
                          [this] { return m_stopping; })) {
    auto answer = m_store->heartbeat(m_id, m_ttl_ms);
    // A database error is retried at the next beat. A refusal (the row was reaped) is final;
    // no rescuer runs while this process holds the run lock, so only a stall past the time to
    // live leads there, and the run then goes on alone as before.
    if (answer && !answer->alive) {
      return;
    }
  }
}

}  // namespace vb
