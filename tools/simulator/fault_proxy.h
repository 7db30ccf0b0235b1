// FaultProxy: an HTTP/1.1 reverse proxy on 127.0.0.1 that forwards every request to one upstream
// and, where a wire fault rule says so (wire_faults.h), spoils the answer after the upstream has
// done the work: reset or close before any byte, stall, a gateway's error page, a cut body. It
// reads both sides' framing, so it knows where each request ends on a kept-alive connection and
// how many requests each client connection carried (reset_keepalive needs that).
//
// Each client connection gets one thread and its own upstream connection, reopened when the
// upstream has closed it while idle; a request is never sent upstream twice. Paths under
// /__fault-proxy/ are answered by the proxy itself (stats, faults) and never forwarded; other
// paths under /__ are forwarded but never faulted (a simulator's control routes).
// start() and stop() belong to one owning thread; the workers share only WireFaults.
#pragma once

#include "wire_faults.h"

#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <thread>

namespace sim {

struct FaultProxyOptions {
  std::string upstream_host = "127.0.0.1";
  int upstream_port = 0;
  int port = 0;  // on 127.0.0.1; 0 = a free port
};

class FaultProxy {
 public:
  FaultProxy(FaultProxyOptions options, WireFaults& faults);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Binds and starts accepting. Returns the bound port, or -1 when the port cannot be bound.
  int start();
  // Ends every wait (stalls included), closes all connections and joins the threads. Idempotent.
  void stop();

  WireFaults& faults() { return m_faults; }

 private:
  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };

  void accept_loop();
  void reap_workers(bool all);

  FaultProxyOptions m_options;
  WireFaults& m_faults;
  int m_listen_fd = -1;
  int m_stop[2] = {-1, -1};  // a byte in m_stop[1] makes m_stop[0] readable for every thread
  int64_t m_next_connection = 0;
  std::list<Worker> m_workers;
  std::thread m_acceptor;
};

// "http://host:port[/...]" -> host and port (80 when absent); an error names what is wrong.
std::expected<FaultProxyOptions, std::string> upstream_from_url(const std::string& url);

}  // namespace sim
