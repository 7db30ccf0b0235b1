// Paid requests leave at most once (http/http_transport.h). A raw loopback server answers GETs
// on kept-alive connections and resets the connection after reading each POST in full, before
// any byte of an answer: what a load balancer dropping a kept-alive connection does after the
// provider created the video. libcurl resends a request by itself when this happens on a
// reused connection; these tests pin that it cannot for a paid request, and that the transport
// counts every send when it does.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http/http_transport.h"

using namespace vb;

namespace {

// A thread per connection: the client keeps its idle ones open.
class ResettingServer {
 public:
  ResettingServer() {
    m_listen = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(m_listen, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(m_listen, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { serve(); });
  }
  ~ResettingServer() {
    m_stop = true;
    ::shutdown(m_listen, SHUT_RDWR);
    ::close(m_listen);
    m_thread.join();
    {
      std::lock_guard lock(m_mutex);
      for (int fd : m_open) {
        ::shutdown(fd, SHUT_RDWR);
      }
    }
    for (auto& t : m_connections) {
      t.join();
    }
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(m_port) + path;
  }
  int posts() const { return m_posts; }
  std::string last_post_headers() const { return m_last_post; }

 private:
  void serve() {
    while (!m_stop) {
      int fd = ::accept(m_listen, nullptr, nullptr);
      if (fd < 0) {
        return;
      }
      std::lock_guard lock(m_mutex);
      m_open.push_back(fd);
      m_connections.emplace_back([this, fd] {
        while (serve_one(fd)) {
        }
        std::lock_guard done(m_mutex);
        std::erase(m_open, fd);
        ::close(fd);
      });
    }
  }

  // Reads one request; answers a GET and returns true, resets after a POST and returns false.
  bool serve_one(int fd) {
    std::string head;
    char c = 0;
    while (head.find("\r\n\r\n") == std::string::npos) {
      if (::recv(fd, &c, 1, 0) != 1) {
        return false;
      }
      head.push_back(c);
    }
    std::size_t length = 0;
    if (auto at = head.find("Content-Length: "); at != std::string::npos) {
      length = std::stoul(head.substr(at + 16));
    }
    std::string body(length, '\0');
    for (std::size_t got = 0; got < length;) {
      ssize_t n = ::recv(fd, body.data() + got, length - got, 0);
      if (n <= 0) {
        return false;
      }
      got += static_cast<std::size_t>(n);
    }
    if (head.starts_with("POST ")) {
      m_last_post = head;
      m_posts += 1;
      linger reset{1, 0};  // close() now sends RST, not FIN
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      return false;
    }
    std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    return ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(answer.size());
  }

  int m_listen = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::atomic<int> m_posts{0};
  std::string m_last_post;  // written before m_posts is counted, read after
  std::mutex m_mutex;
  std::vector<int> m_open;
  std::vector<std::thread> m_connections;
  std::thread m_thread;
};

HttpResult run_one(HttpTransport& transport, HttpRequest request) {
  transport.start(std::move(request), 7);
  for (int i = 0; i < 500; ++i) {
    auto done = transport.poll(20);
    if (!done.empty()) {
      return done.front();
    }
  }
  FAIL("no answer within 10 s");
  return {};
}

HttpRequest create(const ResettingServer& server) {
  HttpRequest request;
  request.method = "POST";
  request.url = server.url("/v1/videos");
  request.body = R"({"prompt":"a cat"})";
  request.headers.push_back({"Content-Type", "application/json"});
  request.timeout_ms = 5000;
  request.paid = true;
  return request;
}

// A GET leaves a kept-alive connection in the transport's pool: the next request may reuse it.
void warm_up(HttpTransport& transport, const ResettingServer& server) {
  HttpRequest get;
  get.url = server.url("/v1/videos/x");
  auto warmed = run_one(transport, get);
  REQUIRE(warmed.failure == TransportFailure::none);
  REQUIRE(warmed.response.body == "ok");
}

}  // namespace

TEST_CASE("a paid request reset after the server read it is not sent again", "[http]") {
  ResettingServer server;
  auto transport = make_curl_transport({});
  warm_up(*transport, server);

  auto result = run_one(*transport, create(server));
  CHECK(result.failure == TransportFailure::connection_lost);
  CHECK(server.posts() == 1);  // 2 when the create rides the pooled connection
  CHECK(result.request_sends == 1);
  CHECK(result.connections_opened == 1);
  CHECK(server.last_post_headers().find("Expect:") == std::string::npos);
  CHECK(server.last_post_headers().find("Upgrade:") == std::string::npos);
}

TEST_CASE("libcurl resends a request reset on a reused connection; the transport counts it",
          "[http]") {
  ResettingServer server;
  TransportOptions options;
  options.paid_requests_share_connections = true;  // the defence off: the guard must see it
  auto transport = make_curl_transport(options);
  warm_up(*transport, server);

  auto result = run_one(*transport, create(server));
  CHECK(server.posts() == 2);
  CHECK(result.request_sends == 2);
  CHECK(result.failure != TransportFailure::none);
}

TEST_CASE("a paid request does not follow a redirect", "[http]") {
  // The second server answers a POST with 307; following it would send the body again.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  std::atomic<int> requests{0};
  std::thread redirector([&] {
    for (int i = 0; i < 2; ++i) {
      int client = ::accept(fd, nullptr, nullptr);
      if (client < 0) {
        return;
      }
      char buf[4096];
      if (::recv(client, buf, sizeof buf, 0) > 0) {
        requests += 1;
        std::string answer = "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:" +
                             std::to_string(port) + "/elsewhere\r\nContent-Length: 0\r\n\r\n";
        ::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
      }
      ::close(client);
    }
  });
  auto transport = make_curl_transport({});
  HttpRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/v1/videos";
  request.body = "{}";
  request.timeout_ms = 3000;
  request.paid = true;
  auto result = run_one(*transport, request);
  CHECK(result.failure == TransportFailure::none);
  CHECK(result.response.status == 307);
  CHECK(requests == 1);
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
  redirector.join();
}

TEST_CASE("a transfer after one that timed out starts afresh", "[http]") {
  // A server that reads requests and never answers.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ResettingServer server;
  auto transport = make_curl_transport({});
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    HttpRequest stalled = create(server);
    stalled.url = "http://127.0.0.1:" + std::to_string(port) + "/v1/videos";
    stalled.timeout_ms = 300;
    CHECK(run_one(*transport, stalled).failure == TransportFailure::timeout);
    HttpRequest get;
    get.url = server.url("/v1/videos/x");
    auto next = run_one(*transport, get);
    INFO(next.error_text);
    CHECK(next.failure == TransportFailure::none);
    CHECK(next.response.body == "ok");
  }
  ::close(fd);
}

TEST_CASE("a paid multipart create with a large image is sent whole, without Expect", "[http]") {
  // With `Expect: 100-continue` libcurl would wait for the server before the body and may send
  // the request again without it: a create with a 2 MiB image must go out once, in one piece.
  ResettingServer server;
  char dir_template[] = "/tmp/vidbatch-paid-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::string image = std::string(dir_template) + "/ref.png";
  {
    std::FILE* f = std::fopen(image.c_str(), "wb");
    REQUIRE(f != nullptr);
    std::string bytes(2 << 20, 'x');
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  auto transport = make_curl_transport({});
  HttpRequest request = create(server);
  request.body.clear();
  request.headers.clear();
  request.form = {{"prompt", "a cat", "", ""}, {"input_reference", "", image, "image/png"}};
  auto result = run_one(*transport, request);
  CHECK(server.posts() == 1);
  CHECK(result.request_sends == 1);
  CHECK(server.last_post_headers().find("Expect:") == std::string::npos);
  CHECK(server.last_post_headers().find("multipart/form-data") != std::string::npos);
  std::remove(image.c_str());
  ::rmdir(dir_template);
}
