// ForwardProxy: a tiny HTTP forward proxy on loopback for the proxy e2e test.
// It accepts absolute-form requests ("GET http://host:port/path HTTP/1.1") and
// CONNECT tunnels ("CONNECT host:port"), counts them per host, and connects every
// host name to `upstream_ip` (127.0.0.1), so a test can give vidbatch a host name
// that does not resolve: the run can only reach the simulator through the proxy.
// Each request gets its own upstream connection and is answered with
// `Connection: close` semantics (the proxy closes after the upstream does).
// One acceptor thread plus one thread per connection, all joined on destruction.
// The counters are thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vidbatch::test {

class ForwardProxy {
 public:
  explicit ForwardProxy(std::string upstream_ip = "127.0.0.1");
  ~ForwardProxy();
  ForwardProxy(const ForwardProxy&) = delete;
  ForwardProxy& operator=(const ForwardProxy&) = delete;

  int port() const { return m_port; }
  std::string url() const;  // http://127.0.0.1:PORT

  int requests() const { return m_requests.load(); }  // absolute-form requests forwarded
  int tunnels() const { return m_tunnels.load(); }    // CONNECT tunnels opened
  // "host:port" of every request and tunnel, with how many times each was seen.
  std::map<std::string, int> hosts() const;

 private:
  void accept_loop();
  void serve(int client);
  void count_host(const std::string& host_port);

  std::string m_upstream_ip;
  int m_listen_fd = -1;
  int m_wake[2] = {-1, -1};  // a byte on m_wake[1] stops every thread
  int m_port = 0;
  std::atomic<int> m_requests{0};
  std::atomic<int> m_tunnels{0};
  mutable std::mutex m_mutex;
  std::map<std::string, int> m_hosts;
  std::vector<std::thread> m_workers;
  std::thread m_acceptor;
};

}  // namespace vidbatch::test
