#include "support/forward_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace vidbatch::test {

namespace {

constexpr int k_idle_ms = 15000;  // a connection idle this long is dropped

void send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    sent += static_cast<std::size_t>(n);
  }
}

int connect_to(const std::string& ip, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  return fd;
}

// Copies bytes both ways until the upstream closes (or either side fails, or `wake` fires).
void relay(int client, int upstream, int wake) {
  char buf[16384];
  bool client_open = true;
  for (;;) {
    pollfd fds[3] = {{upstream, POLLIN, 0},
                     {client_open ? client : -1, POLLIN, 0},
                     {wake, POLLIN, 0}};
    if (::poll(fds, 3, k_idle_ms) <= 0 || (fds[2].revents & POLLIN)) {
      return;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(upstream, buf, sizeof buf, 0);
      if (n <= 0) {
        return;
      }
      send_all(client, std::string(buf, static_cast<std::size_t>(n)));
    }
    if (client_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) {
        client_open = false;
        ::shutdown(upstream, SHUT_WR);
      } else {
        send_all(upstream, std::string(buf, static_cast<std::size_t>(n)));
      }
    }
  }
}

// "host:port" -> port (default_port when absent).
int port_of(const std::string& host_port, int default_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos || host_port.back() == ']') {
    return default_port;
  }
  return std::atoi(host_port.c_str() + colon + 1);
}

}  // namespace

ForwardProxy::ForwardProxy(std::string upstream_ip) : m_upstream_ip(std::move(upstream_ip)) {
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (m_listen_fd < 0 ||
      ::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(m_listen_fd, 64) != 0 ||
      ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe2(m_wake, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("ForwardProxy: cannot listen: ") + std::strerror(errno));
  }
  m_port = ntohs(addr.sin_port);
  m_acceptor = std::thread([this] { accept_loop(); });
}

ForwardProxy::~ForwardProxy() {
  const char stop = 'x';
  (void)!::write(m_wake[1], &stop, 1);
  m_acceptor.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(m_mutex);
    workers.swap(m_workers);
  }
  for (auto& worker : workers) {
    worker.join();
  }
  ::close(m_listen_fd);
  ::close(m_wake[0]);
  ::close(m_wake[1]);
}

std::string ForwardProxy::url() const {
  return "http://127.0.0.1:" + std::to_string(m_port);
}

std::map<std::string, int> ForwardProxy::hosts() const {
  std::lock_guard lock(m_mutex);
  return m_hosts;
}

void ForwardProxy::count_host(const std::string& host_port) {
  std::lock_guard lock(m_mutex);
  m_hosts[host_port] += 1;
}

void ForwardProxy::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{m_listen_fd, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 || (fds[1].revents & POLLIN)) {
      return;
    }
    const int client = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client >= 0) {
      std::lock_guard lock(m_mutex);
      m_workers.emplace_back([this, client] { serve(client); });
    }
  }
}

void ForwardProxy::serve(int client) {
  std::string head;
  char buf[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    pollfd fds[2] = {{client, POLLIN, 0}, {m_wake[0], POLLIN, 0}};
    ssize_t n = 0;
    if (::poll(fds, 2, k_idle_ms) <= 0 || (fds[1].revents & POLLIN) ||
        (n = ::recv(client, buf, sizeof buf, 0)) <= 0) {
      ::close(client);
      return;
    }
    head.append(buf, static_cast<std::size_t>(n));
  }
  const auto head_end = head.find("\r\n\r\n") + 4;
  const std::string rest = head.substr(head_end);
  std::istringstream lines(head.substr(0, head_end));
  std::string request_line;
  std::getline(lines, request_line);
  std::istringstream words(request_line);
  std::string method, target, version;
  words >> method >> target >> version;

  std::string host_port;
  std::string forward;  // what the upstream gets first
  if (method == "CONNECT") {
    host_port = target;
    m_tunnels += 1;
  } else if (target.starts_with("http://")) {
    const auto slash = target.find('/', 7);
    host_port = target.substr(7, slash == std::string::npos ? std::string::npos : slash - 7);
    const std::string path = slash == std::string::npos ? "/" : target.substr(slash);
    forward = method + " " + path + " " + version + "\r\n";
    for (std::string line; std::getline(lines, line) && line != "\r";) {
      const std::string name = line.substr(0, line.find(':'));
      if (strncasecmp(name.c_str(), "proxy-", 6) != 0 &&
          strcasecmp(name.c_str(), "connection") != 0 &&
          strcasecmp(name.c_str(), "keep-alive") != 0) {
        forward += line + "\n";
      }
    }
    forward += "Connection: close\r\n\r\n" + rest;
    m_requests += 1;
  } else {
    send_all(client, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    ::close(client);
    return;
  }
  count_host(host_port);
  const int upstream =
      connect_to(m_upstream_ip, port_of(host_port, method == "CONNECT" ? 443 : 80));
  if (upstream < 0) {
    send_all(client, "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
    ::close(client);
    return;
  }
  if (method == "CONNECT") {
    send_all(client, "HTTP/1.1 200 Connection Established\r\n\r\n");
    forward = rest;
  }
  send_all(upstream, forward);
  relay(client, upstream, m_wake[0]);
  ::close(upstream);
  ::close(client);
}

}  // namespace vidbatch::test
