#include "fault_proxy.h"

#include "http_wire.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <map>

namespace sim {

namespace {

constexpr size_t k_max_admin_body = 1 << 20;
constexpr size_t k_partial_bytes = 64;  // at most this much of a cut body reaches the client

std::string reason_phrase(int status) {
  static const std::map<int, std::string> phrases =
      {{400, "Bad Request"},           {404, "Not Found"},
       {500, "Internal Server Error"}, {502, "Bad Gateway"},
       {504, "Gateway Time-out"},      {520, "Web Server Returned an Unknown Error"},
       {521, "Web Server Is Down"},    {522, "Connection Timed Out"},
       {523, "Origin Is Unreachable"}, {524, "A Timeout Occurred"}};
  const auto it = phrases.find(status);
  return it == phrases.end() ? "OK" : it->second;
}

std::string make_response(int status, const std::string& content_type, const std::string& body,
                          const std::string& extra_fields = {}, bool close = false) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n" +
         extra_fields + "Content-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         (close ? "\r\nConnection: close" : "\r\nConnection: keep-alive") + "\r\n\r\n" + body;
}

std::string nginx_page(int status) {
  const std::string title = std::to_string(status) + " " + reason_phrase(status);
  const std::string body = "<html>\r\n<head><title>" + title +
                           "</title></head>\r\n<body>\r\n<center><h1>" + title +
                           "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
  return make_response(status, "text/html", body, "Server: nginx\r\n");
}

std::string cloudflare_page(int status) {
  const std::string what = reason_phrase(status);
  const std::string body =
      "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head><title>upstream | " + std::to_string(status) +
      ": " + what + "</title></head>\n<body><div id=\"cf-wrapper\"><h1>" + what +
      "</h1><span>Error code " + std::to_string(status) +
      "</span><p>Visit cloudflare.com for more information.</p></div></body>\n</html>\n";
  return make_response(status, "text/html; charset=UTF-8", body,
                       "Server: cloudflare\r\nCF-RAY: 8a1f2c3d4e5f6a7b-FRA\r\n");
}

std::string json_escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
  return out;
}

// The answer of a Go relay (new-api and its forks) whose upstream connection broke mid-request.
std::string relay_error_500(const HttpHead& request) {
  std::string verb = request.method();
  for (size_t i = 1; i < verb.size(); ++i) {
    verb[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(verb[i])));
  }
  const std::string message = "do request failed: " + verb + " \"https://upstream" +
                              request.path() + "\": read: connection reset by peer";
  return make_response(
      500, "application/json",
      "{\"error\":{\"message\":\"" + json_escaped(message) +
          "\",\"type\":\"new_api_error\",\"param\":\"\",\"code\":\"do_request_failed\"}}");
}

// The upstream's status line and fields with the framing replaced: `announced` bytes follow.
std::string cut_head(const HttpHead& response, size_t announced) {
  std::string head = response.start_line + "\r\n";
  for (const auto& [name, value] : response.fields) {
    if (name != "content-length" && name != "transfer-encoding") {
      head += name + ": " + value + "\r\n";
    }
  }
  return head + "content-length: " + std::to_string(announced) + "\r\n\r\n";
}

// One client connection: reads its requests one after another, forwards each, applies faults.
class ProxiedConnection {
 public:
  ProxiedConnection(int client_fd, int64_t id, int stop_fd, const FaultProxyOptions& options,
                    WireFaults& faults)
      : m_client(client_fd, stop_fd),
        m_id(id),
        m_stop_fd(stop_fd),
        m_options(options),
        m_faults(faults) {}

  void run() {
    while (exchange()) {
    }
  }

 private:
  // One request and its answer; false when the client connection is finished.
  bool exchange() {
    HttpHead request;
    const auto read = m_client.read_head(request);
    if (read != WireSocket::Read::ok) {
      return read == WireSocket::Read::failed ? refuse(400, "malformed request head") : false;
    }
    const auto framing = request_framing(request);
    if (!framing) {
      return refuse(400, "unsupported request framing (Content-Length or Transfer-Encoding)");
    }
    if (request.path().starts_with("/__fault-proxy/")) {
      return answer_admin(request, *framing);
    }
    ++m_index;
    std::optional<WireRule> fault;
    if (!request.path().starts_with("/__")) {
      fault = m_faults.decide({request.method(), request.path(), m_index});
      m_faults.count_request(m_id);
    }
    HttpHead response;
    if (!forward(request, *framing, response)) {
      return false;
    }
    const auto response_body = response_framing(response, request.method());
    if (!response_body) {
      return upstream_failed();
    }
    if (fault) {
      return spoil(*fault, request, response, *response_body);
    }
    const bool relayed = m_client.send_all(response.raw) &&
                         m_upstream->relay_body(*response_body, [this](std::string_view b) {
                           return m_client.send_all(b);
                         });
    const bool again = relayed && keeps_alive(request, response, *response_body);
    if (!again) {
      m_upstream.reset();
    }
    return again;
  }

  // Sends the request upstream and reads the final answer's head (1xx answers are passed on).
  bool forward(const HttpHead& request, const BodyFraming& framing, HttpHead& response) {
    if (m_upstream && m_upstream->readable_now()) {
      m_upstream.reset();  // closed by the upstream while idle: nothing was sent on it yet
    }
    if (!m_upstream) {
      const int fd = connect_tcp(m_options.upstream_host, m_options.upstream_port);
      if (fd < 0) {
        m_faults.count_upstream_error();
        return refuse(502, "vidbatch-sim fault proxy: cannot connect to the upstream " +
                               m_options.upstream_host + ":" +
                               std::to_string(m_options.upstream_port));
      }
      m_upstream = std::make_unique<WireSocket>(fd, m_stop_fd);
    }
    if (!m_upstream->send_all(request.raw)) {
      return upstream_failed();
    }
    bool have_final = false;
    if (framing.kind != Framing::none && request.has_token("expect", "100-continue")) {
      // The client waits for "100 Continue" (or a final answer) before it sends the body.
      if (!await_continue(response, have_final)) {
        return false;
      }
    }
    if (!have_final && !m_client.relay_body(framing, [this](std::string_view b) {
          return m_upstream->send_all(b);
        })) {
      return upstream_failed();
    }
    while (!have_final) {
      if (m_upstream->read_head(response) != WireSocket::Read::ok) {
        return upstream_failed();
      }
      have_final = response.status() >= 200;
      if (!have_final && !m_client.send_all(response.raw)) {
        return false;
      }
    }
    return true;
  }

  bool await_continue(HttpHead& response, bool& have_final) {
    pollfd fds[3] = {{m_client.fd(), POLLIN, 0},
                     {m_upstream->fd(), POLLIN, 0},
                     {m_stop_fd, POLLIN, 0}};
    if (::poll(fds, 3, -1) <= 0 || fds[2].revents != 0) {
      return false;
    }
    if (fds[1].revents == 0) {
      return true;  // the client sends its body without waiting
    }
    if (m_upstream->read_head(response) != WireSocket::Read::ok) {
      return upstream_failed();
    }
    have_final = response.status() >= 200;
    return have_final || m_client.send_all(response.raw);
  }

  // Applies a fault to an answer the upstream has given; false when the client connection ends.
  bool spoil(const WireRule& fault, const HttpHead& request, const HttpHead& response,
             const BodyFraming& body) {
    switch (fault.kind) {
      case WireFaultKind::reset_keepalive:
      case WireFaultKind::reset:
        m_client.reset_connection();
        return false;
      case WireFaultKind::fin:
        m_client.close_connection();
        return false;
      case WireFaultKind::stall:
        m_client.wait_for_peer(m_faults.config().stall_ms);
        m_client.reset_connection();
        return false;
      case WireFaultKind::partial:
        return cut_body(response, body);
      case WireFaultKind::gateway_502:
        return replace_answer(nginx_page(502), response, body);
      case WireFaultKind::gateway_504:
        return replace_answer(nginx_page(504), response, body);
      case WireFaultKind::gateway_52x:
        return replace_answer(cloudflare_page(fault.status), response, body);
      case WireFaultKind::upstream_500:
        return replace_answer(relay_error_500(request), response, body);
    }
    return false;
  }

  // The upstream's answer is read to its end (so its connection stays usable), then replaced.
  bool replace_answer(const std::string& answer, const HttpHead& response,
                      const BodyFraming& body) {
    const bool drained = m_upstream->relay_body(body, [](std::string_view) { return true; });
    if (!drained || body.kind == Framing::until_close ||
        response.has_token("connection", "close")) {
      m_upstream.reset();
    }
    return m_client.send_all(answer);
  }

  bool cut_body(const HttpHead& response, const BodyFraming& body) {
    std::string bytes;
    m_upstream->relay_body(body, [&bytes](std::string_view b) {
      bytes.append(b);
      return true;
    });
    const size_t announced = bytes.size() >= 2 ? bytes.size() : 512;
    const size_t sent = std::min(bytes.size() / 2, k_partial_bytes);
    m_client.send_all(cut_head(response, announced) + bytes.substr(0, sent));
    m_client.close_connection();
    return false;
  }

  bool upstream_failed() {
    m_faults.count_upstream_error();
    m_client.reset_connection();
    return false;
  }

  bool refuse(int status, const std::string& message) {
    m_client.send_all(make_response(status, "text/plain", message + "\n", {}, true));
    return false;
  }

  bool answer_admin(const HttpHead& request, const BodyFraming& framing) {
    std::string body;
    const bool read = m_client.relay_body(framing, [&body](std::string_view b) {
      body.append(b);
      return body.size() <= k_max_admin_body;
    });
    if (!read) {
      return false;
    }
    const std::string method = request.method();
    const std::string path = request.path();
    if (method == "GET" && path == "/__fault-proxy/stats") {
      return m_client.send_all(make_response(200, "application/json", m_faults.stats_json()));
    }
    if (method == "GET" && path == "/__fault-proxy/faults") {
      return m_client.send_all(make_response(200, "application/json", m_faults.config_json()));
    }
    if (method == "POST" && path == "/__fault-proxy/reset-stats") {
      m_faults.reset_stats();
      return m_client.send_all(make_response(200, "application/json", "{\"reset\":true}"));
    }
    if (method == "POST" && path == "/__fault-proxy/faults") {
      const std::string error = m_faults.update_from_json(body, true);
      return error.empty()
                 ? m_client.send_all(make_response(200, "application/json", m_faults.config_json()))
                 : m_client.send_all(make_response(400, "text/plain", error + "\n"));
    }
    return m_client.send_all(
        make_response(404, "text/plain",
                      "no such fault proxy route: " + method + " " + path + "\n"));
  }

  WireSocket m_client;
  std::unique_ptr<WireSocket> m_upstream;
  int64_t m_id;
  int m_stop_fd;
  const FaultProxyOptions& m_options;
  WireFaults& m_faults;
  int64_t m_index = 0;  // requests forwarded on this connection so far
};

}  // namespace

FaultProxy::FaultProxy(FaultProxyOptions options, WireFaults& faults)
    : m_options(std::move(options)), m_faults(faults) {}

FaultProxy::~FaultProxy() {
  stop();
}

int FaultProxy::start() {
  if (::pipe2(m_stop, O_CLOEXEC) != 0) {
    return -1;
  }
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(m_options.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  if (m_listen_fd < 0 ||
      ::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(m_listen_fd, 4096) != 0 ||
      ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    return -1;
  }
  m_acceptor = std::thread([this] { accept_loop(); });
  return ntohs(addr.sin_port);
}

void FaultProxy::stop() {
  if (m_stop[1] >= 0) {
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(m_stop[1], &byte, 1);
  }
  if (m_acceptor.joinable()) {
    m_acceptor.join();
  }
  reap_workers(true);
  for (int* fd : {&m_listen_fd, &m_stop[0], &m_stop[1]}) {
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
  }
}

void FaultProxy::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{m_listen_fd, POLLIN, 0}, {m_stop[0], POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) {
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    reap_workers(false);
    if (fds[0].revents == 0) {
      continue;
    }
    const int client = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      continue;
    }
    const int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto finished = std::make_shared<std::atomic<bool>>(false);
    const int64_t id = ++m_next_connection;
    m_workers.push_back({std::thread([this, client, id, finished] {
                           ProxiedConnection(client, id, m_stop[0], m_options, m_faults).run();
                           finished->store(true);
                         }),
                         finished});
  }
}

void FaultProxy::reap_workers(bool all) {
  for (auto it = m_workers.begin(); it != m_workers.end();) {
    if (all || it->finished->load()) {
      it->thread.join();
      it = m_workers.erase(it);
    } else {
      ++it;
    }
  }
}

std::expected<FaultProxyOptions, std::string> upstream_from_url(const std::string& url) {
  const std::string_view scheme = "http://";
  if (!url.starts_with(scheme)) {
    return std::unexpected("--upstream " + url +
                           ": expected http://HOST:PORT (the proxy speaks plain HTTP/1.1)");
  }
  std::string_view authority = std::string_view(url).substr(scheme.size());
  authority = authority.substr(0, authority.find('/'));
  FaultProxyOptions options;
  const auto colon = authority.rfind(':');
  options.upstream_host = std::string(authority.substr(0, colon));
  options.upstream_port = 80;
  if (colon != std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    const auto [ptr, ec] =
        std::from_chars(port.data(), port.data() + port.size(), options.upstream_port);
    if (ec != std::errc() || ptr != port.data() + port.size() || options.upstream_port <= 0 ||
        options.upstream_port > 65535) {
      return std::unexpected("--upstream " + url + ": the port must be a number from 1 to 65535");
    }
  }
  if (options.upstream_host.empty()) {
    return std::unexpected("--upstream " + url + ": no host");
  }
  return options;
}

}  // namespace sim
