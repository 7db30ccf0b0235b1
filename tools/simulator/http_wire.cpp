#include "http_wire.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>

namespace sim {

namespace {

constexpr size_t k_max_head = 64 * 1024;
constexpr size_t k_read_size = 64 * 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

bool is_http10(const HttpHead& head) {
  const bool response = head.start_line.starts_with("HTTP/");
  return response ? head.start_line.starts_with("HTTP/1.0") : head.start_line.ends_with("HTTP/1.0");
}

// Content-Length must be digits, and repeated values must agree (RFC 9112 section 6.3).
std::optional<uint64_t> content_length(const HttpHead& head) {
  std::optional<uint64_t> length;
  for (const auto& [name, value] : head.fields) {
    if (name != "content-length") {
      continue;
    }
    uint64_t parsed = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (ec != std::errc() || ptr != value.data() + value.size() || (length && *length != parsed)) {
      return std::nullopt;
    }
    length = parsed;
  }
  return length.value_or(0);
}

}  // namespace

std::string HttpHead::field(std::string_view lower_name) const {
  std::string value;
  for (const auto& [name, v] : fields) {
    if (name == lower_name) {
      value = v;
    }
  }
  return value;
}

bool HttpHead::has_token(std::string_view lower_name, std::string_view token) const {
  for (const auto& [name, value] : fields) {
    if (name != lower_name) {
      continue;
    }
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      if (lower(trim(rest.substr(0, comma))) == token) {
        return true;
      }
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  return false;
}

std::string HttpHead::method() const {
  return start_line.starts_with("HTTP/") ? std::string()
                                         : start_line.substr(0, start_line.find(' '));
}

std::string HttpHead::target() const {
  const auto first = start_line.find(' ');
  const auto last = start_line.rfind(' ');
  if (method().empty() || first == std::string::npos || last == first) {
    return {};
  }
  return start_line.substr(first + 1, last - first - 1);
}

std::string HttpHead::path() const {
  const std::string whole = target();
  return whole.substr(0, whole.find('?'));
}

int HttpHead::status() const {
  if (!start_line.starts_with("HTTP/") || start_line.size() < 12 || start_line[8] != ' ') {
    return 0;
  }
  int code = 0;
  const auto [ptr, ec] = std::from_chars(start_line.data() + 9, start_line.data() + 12, code);
  return ec == std::errc() && ptr == start_line.data() + 12 ? code : 0;
}

std::optional<HttpHead> parse_head(std::string raw) {
  HttpHead head;
  std::string_view rest = raw;
  const auto end_of_start = rest.find("\r\n");
  if (end_of_start == std::string_view::npos || end_of_start == 0) {
    return std::nullopt;
  }
  head.start_line = std::string(rest.substr(0, end_of_start));
  rest.remove_prefix(end_of_start + 2);
  for (;;) {
    const auto eol = rest.find("\r\n");
    if (eol == std::string_view::npos) {
      return std::nullopt;
    }
    const std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);
    if (line.empty()) {
      break;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' ||
        line.front() == '\t') {
      return std::nullopt;  // no name, or obsolete line folding
    }
    head.fields.emplace_back(lower(line.substr(0, colon)),
                             std::string(trim(line.substr(colon + 1))));
  }
  if (head.method().empty() && head.status() == 0) {
    return std::nullopt;
  }
  head.raw = std::move(raw);
  return head;
}

std::optional<BodyFraming> request_framing(const HttpHead& request) {
  if (!request.field("transfer-encoding").empty()) {
    if (!request.has_token("transfer-encoding", "chunked")) {
      return std::nullopt;
    }
    return BodyFraming{Framing::chunked, 0};
  }
  const auto length = content_length(request);
  if (!length) {
    return std::nullopt;
  }
  return *length > 0 ? BodyFraming{Framing::length, *length} : BodyFraming{};
}

std::optional<BodyFraming> response_framing(const HttpHead& response,
                                            std::string_view request_method) {
  const int status = response.status();
  if (request_method == "HEAD" || status < 200 || status == 204 || status == 304) {
    return BodyFraming{};
  }
  if (response.has_token("transfer-encoding", "chunked")) {
    return BodyFraming{Framing::chunked, 0};
  }
  if (response.field("content-length").empty()) {
    return BodyFraming{Framing::until_close, 0};
  }
  const auto length = content_length(response);
  if (!length) {
    return std::nullopt;
  }
  return BodyFraming{*length > 0 ? Framing::length : Framing::none, *length};
}

bool keeps_alive(const HttpHead& request, const HttpHead& response,
                 const BodyFraming& response_body) {
  for (const HttpHead* head : {&request, &response}) {
    if (head->has_token("connection", "close") ||
        (is_http10(*head) && !head->has_token("connection", "keep-alive"))) {
      return false;
    }
  }
  return response_body.kind != Framing::until_close;
}

WireSocket::WireSocket(int fd, int stop_fd) : m_fd(fd), m_stop_fd(stop_fd) {
  ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) | O_NONBLOCK);
}

bool WireSocket::wait(short events, int timeout_ms) {
  pollfd fds[2] = {{m_fd, events, 0}, {m_stop_fd, POLLIN, 0}};
  int ready = 0;
  while ((ready = ::poll(fds, 2, timeout_ms)) < 0 && errno == EINTR) {
  }
  return ready > 0 && fds[1].revents == 0;
}

WireSocket::~WireSocket() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

bool WireSocket::fill() {
  if (m_start > 0 && m_start * 2 >= m_buffer.size()) {
    m_buffer.erase(0, m_start);
    m_start = 0;
  }
  const size_t old_size = m_buffer.size();
  m_buffer.resize(old_size + k_read_size);
  ssize_t n = -1;
  while (n < 0 && wait(POLLIN, -1)) {
    n = ::recv(m_fd, m_buffer.data() + old_size, k_read_size, 0);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      break;
    }
  }
  m_buffer.resize(old_size + static_cast<size_t>(std::max<ssize_t>(n, 0)));
  return n > 0;
}

WireSocket::Read WireSocket::read_head(HttpHead& out) {
  for (;;) {
    const auto end = m_buffer.find("\r\n\r\n", m_start);
    if (end != std::string::npos) {
      std::string raw = m_buffer.substr(m_start, end + 4 - m_start);
      m_start = end + 4;
      auto head = parse_head(std::move(raw));
      if (!head) {
        return Read::failed;
      }
      out = std::move(*head);
      return Read::ok;
    }
    const bool nothing_yet = m_start == m_buffer.size();
    if (m_buffer.size() - m_start > k_max_head) {
      return Read::failed;
    }
    if (!fill()) {
      return nothing_yet ? Read::closed : Read::failed;
    }
  }
}

bool WireSocket::read_line(std::string& line) {
  for (;;) {
    const auto end = m_buffer.find("\r\n", m_start);
    if (end != std::string::npos) {
      line = m_buffer.substr(m_start, end + 2 - m_start);
      m_start = end + 2;
      return true;
    }
    if (m_buffer.size() - m_start > k_max_head || !fill()) {
      return false;
    }
  }
}

bool WireSocket::relay_exact(uint64_t count, const ByteSink& sink) {
  while (count > 0) {
    if (m_start == m_buffer.size()) {
      m_buffer.clear();
      m_start = 0;
      if (!fill()) {
        return false;
      }
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(count, m_buffer.size() - m_start));
    if (!sink(std::string_view(m_buffer).substr(m_start, take))) {
      return false;
    }
    m_start += take;
    count -= take;
  }
  return true;
}

bool WireSocket::relay_chunked(const ByteSink& sink) {
  std::string line;
  for (;;) {
    if (!read_line(line)) {
      return false;
    }
    uint64_t size = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
    if (ec != std::errc() || (*ptr != ';' && *ptr != '\r' && *ptr != ' ' && *ptr != '\t') ||
        !sink(line)) {
      return false;
    }
    if (size == 0) {
      break;
    }
    if (!relay_exact(size, sink) || !read_line(line) || line != "\r\n" || !sink(line)) {
      return false;
    }
  }
  do {  // trailer fields, then the blank line
    if (!read_line(line) || !sink(line)) {
      return false;
    }
  } while (line != "\r\n");
  return true;
}

bool WireSocket::relay_body(const BodyFraming& framing, const ByteSink& sink) {
  switch (framing.kind) {
    case Framing::none:
      return true;
    case Framing::length:
      return relay_exact(framing.length, sink);
    case Framing::chunked:
      return relay_chunked(sink);
    case Framing::until_close:
      break;
  }
  for (;;) {
    if (m_start < m_buffer.size() && !sink(std::string_view(m_buffer).substr(m_start))) {
      return false;
    }
    m_buffer.clear();
    m_start = 0;
    if (!fill()) {
      return m_buffer.empty();  // EOF ends the body; a failure mid-way cannot be told apart here
    }
  }
}

bool WireSocket::send_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait(POLLOUT, -1)) {
        return false;
      }
      continue;
    }
    if (n <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool WireSocket::readable_now() {
  pollfd fd{m_fd, POLLIN | POLLRDHUP, 0};
  return m_start < m_buffer.size() || (::poll(&fd, 1, 0) > 0 && fd.revents != 0);
}

bool WireSocket::wait_for_peer(int64_t timeout_ms) {
  return m_start < m_buffer.size() ||
         wait(POLLIN | POLLRDHUP, static_cast<int>(std::min<int64_t>(timeout_ms, 1 << 30)));
}

void WireSocket::reset_connection() {
  if (m_fd < 0) {
    return;
  }
  const linger abort_now{1, 0};
  ::setsockopt(m_fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now);
  ::close(m_fd);
  m_fd = -1;
}

void WireSocket::close_connection() {
  if (m_fd < 0) {
    return;
  }
  ::shutdown(m_fd, SHUT_WR);
  ::close(m_fd);
  m_fd = -1;
}

int connect_tcp(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) {
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd >= 0) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

}  // namespace sim
