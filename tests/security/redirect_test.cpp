// The bearer token never leaves the provider origin through the transport: not
// on a request to another origin, not across a redirect to another origin
// (another port on the same host counts as another origin). Two tiny loopback
// HTTP servers stand in for the provider and a CDN.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/http_transport.h"
#include "security/leak_check_key.h"

using vb::test::k_leak_check_key;

namespace {

// Answers every request with `reply(request_head)`, one connection at a time, and records
// every request head it saw. Stops on destruction.
class LoopbackServer {
 public:
  using Reply = std::string (*)(const std::string& head, int other_port);

  LoopbackServer(Reply reply, int other_port = 0) : m_reply(reply), m_other_port(other_port) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(m_fd, 8) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { serve(); });
  }
  ~LoopbackServer() {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    m_thread.join();
  }
  int port() const { return m_port; }
  std::vector<std::string> heads() {
    std::lock_guard lock(m_mutex);
    return m_heads;
  }
  void set_other_port(int port) { m_other_port = port; }

 private:
  void serve() {
    while (!m_stop) {
      const int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        return;
      }
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) {
          break;
        }
        head.append(buf, static_cast<std::size_t>(n));
      }
      {
        std::lock_guard lock(m_mutex);
        m_heads.push_back(head);
      }
      const std::string answer = m_reply(head, m_other_port);
      ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  Reply m_reply;
  std::atomic<int> m_other_port;
  int m_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::thread m_thread;
  std::mutex m_mutex;
  std::vector<std::string> m_heads;
};

std::string ok_reply(const std::string&, int) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n"
         "\r\nok";
}

std::string redirect_reply(const std::string&, int other_port) {
  return "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:" + std::to_string(other_port) +
         "/files/v.mp4\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
}

std::string same_origin_redirect_reply(const std::string& head, int) {
  if (head.starts_with("GET /moved")) {
    return ok_reply(head, 0);
  }
  return "HTTP/1.1 302 Found\r\nLocation: /moved\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
}

bool has_authorization(const std::string& head) {
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("\r\nauthorization:") != std::string::npos ||
         head.find(k_leak_check_key) != std::string::npos;
}

vb::HttpResult fetch(const std::string& origin, const std::string& url,
                     const std::string& scheme = "Bearer") {
  vb::TransportOptions options;
  options.credentials = vb::static_credentials(scheme, k_leak_check_key);
  options.auth_origin = origin;
  auto transport = vb::make_curl_transport(options);
  vb::HttpRequest request;
  request.url = url;
  request.with_auth = true;
  request.timeout_ms = 5000;
  transport->start(request, 1);
  for (int i = 0; i < 100; ++i) {
    auto done = transport->poll(100);
    if (!done.empty()) {
      return done.front();
    }
  }
  FAIL("no answer");
  return {};
}

std::string origin_of(const LoopbackServer& s) {
  return "http://127.0.0.1:" + std::to_string(s.port());
}

}  // namespace

// Bearer travels as libcurl credentials, another scheme (Vidu's `Token`) as a header: neither
// crosses to another origin.
TEST_CASE("the key goes to the provider origin and nowhere else", "[security][http]") {
  const std::string scheme = GENERATE(std::string("Bearer"), std::string("Token"));
  INFO("scheme " << scheme);
  LoopbackServer cdn(&ok_reply);
  LoopbackServer provider(&redirect_reply, cdn.port());
  LoopbackServer same(&same_origin_redirect_reply);

  SECTION("a request to the provider origin carries it") {
    LoopbackServer api(&ok_reply);
    auto result = fetch(origin_of(api), origin_of(api) + "/v1/videos/x", scheme);
    REQUIRE(result.response.status == 200);
    REQUIRE(api.heads().size() == 1);
    CHECK(api.heads()[0].find("Authorization: " + scheme + " " + k_leak_check_key) !=
          std::string::npos);
  }
  SECTION("a request to another origin (a CDN URL named by an answer) does not") {
    auto result = fetch(origin_of(provider), origin_of(cdn) + "/files/v.mp4", scheme);
    REQUIRE(result.response.status == 200);
    REQUIRE(cdn.heads().size() == 1);
    CHECK_FALSE(has_authorization(cdn.heads()[0]));
  }
  SECTION("a redirect from the provider to another origin drops it") {
    auto result = fetch(origin_of(provider), origin_of(provider) + "/v1/videos/x/content", scheme);
    REQUIRE(result.response.status == 200);
    REQUIRE(result.response.body == "ok");
    REQUIRE(provider.heads().size() == 1);
    CHECK(has_authorization(provider.heads()[0]));  // the first hop is the provider
    REQUIRE(cdn.heads().size() == 1);
    INFO(cdn.heads()[0]);
    CHECK_FALSE(has_authorization(cdn.heads()[0]));
  }
  SECTION("a redirect within the provider origin keeps it") {
    auto result = fetch(origin_of(same), origin_of(same) + "/v1/videos/x/content", scheme);
    REQUIRE(result.response.status == 200);
    REQUIRE(same.heads().size() == 2);
    CHECK(has_authorization(same.heads()[1]));
  }
}
