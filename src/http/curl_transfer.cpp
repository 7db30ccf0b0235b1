#include "http/curl_transfer.h"

#include <sys/socket.h>

#include <string_view>

#include "util/text_util.h"

namespace vb::curl_detail {

namespace {

constexpr std::size_t k_max_memory_body = 16u << 20;

}  // namespace

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t n = size * count;
  t->result.body_bytes += static_cast<std::int64_t>(n);
  if (t->sink != nullptr && !t->sink_started) {
    long status = 0;
    curl_easy_getinfo(t->easy.get(), CURLINFO_RESPONSE_CODE, &status);
    t->sink_started = true;
    // Only a successful answer is the file; an error page must not overwrite saved bytes.
    t->sink_bypassed = status < 200 || status >= 300;
    curl_off_t length = -1;
    curl_easy_getinfo(t->easy.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
    if (!t->sink_bypassed && !t->sink->begin(static_cast<int>(status), length)) {
      t->sink_failed = true;
      return 0;
    }
  }
  if (t->sink != nullptr && !t->sink_bypassed) {
    if (!t->sink->write(data, n)) {
      t->sink_failed = true;
      return 0;
    }
    return n;
  }
  if (t->result.response.body.size() + n > k_max_memory_body) {
    t->too_large = true;
    return 0;
  }
  t->result.response.body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    // A new response (redirect or 100-continue): only the last one's headers count.
    t->result.response.headers.clear();
    t->result.response.content_length.reset();
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    return n;
  }
  HttpHeader header{ascii_lower(trim(line.substr(0, colon))),
                    std::string(trim(line.substr(colon + 1)))};
  if (header.name == "content-length") {
    try {
      t->result.response.content_length = std::stoll(header.value);
    } catch (...) {
      // A malformed length is treated as absent.
    }
  }
  t->result.response.headers.push_back(std::move(header));
  return n;
}

// Paid transfers count the sockets libcurl opens for them...
curl_socket_t on_open_socket(void* user, curlsocktype, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  t->result.connections_opened += 1;
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// ...and the request header blocks it writes: a block that starts with the request line is
// one more time the request went on the wire (libcurl passes headers here as they are sent).
int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (type == CURLINFO_HEADER_OUT &&
      std::string_view(data, size).starts_with(t->request_line_start)) {
    t->result.request_sends += 1;
  }
  return 0;
}

// Right before a paid request is written on its new connection.
int on_prereq(void* user, char*, char*, int, int) {
  auto* t = static_cast<Transfer*>(user);
  if (t->may_leave && !t->may_leave()) {
    t->held_back = true;
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

TransportFailure classify(CURLcode code, long request_size) {
  switch (code) {
    case CURLE_OK:
      return TransportFailure::none;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return TransportFailure::not_sent;
    case CURLE_WRITE_ERROR:
      return TransportFailure::sink_failed;  // refined by the caller (too_large)
    default:
      break;
  }
  if (request_size == 0 && (code == CURLE_OPERATION_TIMEDOUT || code == CURLE_SSL_CONNECT_ERROR ||
                            code == CURLE_SEND_ERROR)) {
    return TransportFailure::not_sent;  // failed before a byte of the request left
  }
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return TransportFailure::timeout;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TransportFailure::connection_lost;
    default:
      return TransportFailure::other;
  }
}

}  // namespace vb::curl_detail
