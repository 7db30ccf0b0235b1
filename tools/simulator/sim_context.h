// Everything the route handlers share. Built once in main() before the listeners start; all
// members are internally synchronised, so handlers on any worker thread may use them.
#pragma once

#include "faults.h"
#include "options.h"
#include "stats.h"
#include "video_store.h"
#include "wire_faults.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace sim {

// Lets long stalls (latency, lost answers) end early when the process is asked to stop, so
// SIGTERM never waits for a 30 s sleep inside a worker thread.
class ShutdownSignal {
 public:
  void trigger() {
    {
      std::lock_guard lock(m_mutex);
      m_stopping = true;
    }
    m_cv.notify_all();
  }

  // Returns false when interrupted by shutdown.
  bool sleep_for(std::chrono::milliseconds duration) {
    std::unique_lock lock(m_mutex);
    return !m_cv.wait_for(lock, duration, [this] { return m_stopping; });
  }

 private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stopping = false;
};

struct SimContext {
  explicit SimContext(const Options& opts)
      : options(opts), faults(opts.faults, opts.seed), wire(wire_fault_config(opts), opts.seed) {}

  const Options options;
  VideoStore store;
  FaultInjector faults;
  Stats stats;
  ShutdownSignal shutdown;
  WireFaults wire;                      // used by the fault proxy in front of the API listener
  std::atomic<bool> wire_front{false};  // that proxy runs (--fault or --wire-faults)
  std::atomic<int> api_port{0};
  std::atomic<int> cdn_port{0};
  std::string cdn_secret = "vidbatch-sim-cdn";
  // Held from a create's limit checks to its video's add, as a provider counts atomically:
  // creates arriving together never pass the in-flight cap side by side. Never held across a
  // sleep.
  std::mutex admitting;
};

}  // namespace sim
