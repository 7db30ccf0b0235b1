// HTTP/1.1 on a raw socket, as much as a relaying proxy needs: read one message head, know where
// its body ends (Content-Length, chunked, close-delimited, or none for HEAD/1xx/204/304), and copy
// that body on byte for byte. Nothing is re-encoded, so what the client sent is what the upstream
// gets. A WireSocket belongs to one thread. Its descriptor is non-blocking and every wait (read or
// write) also watches a shared "stop" descriptor, so the owner can end all waits at once.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sim {

// One message head: the start line and the header fields (names lower-cased), plus the raw bytes.
struct HttpHead {
  std::string raw;         // start line, fields and the blank line, as received
  std::string start_line;  // "POST /v1/videos HTTP/1.1" or "HTTP/1.1 200 OK"
  std::vector<std::pair<std::string, std::string>> fields;

  std::string field(std::string_view lower_name) const;  // "" when absent (last one wins)
  // True when a comma-separated field holds `token` (case-insensitive): connection: close.
  bool has_token(std::string_view lower_name, std::string_view token) const;

  // Request parts; empty when the start line is not a request.
  std::string method() const;
  std::string target() const;
  std::string path() const;  // the target without its query
  // Response status; 0 when the start line is not a response.
  int status() const;
};

// Parses a head ending in "\r\n\r\n"; nullopt when the start line or a field is malformed.
std::optional<HttpHead> parse_head(std::string raw);

enum class Framing { none, length, chunked, until_close };

struct BodyFraming {
  Framing kind = Framing::none;
  uint64_t length = 0;
};

std::optional<BodyFraming> request_framing(const HttpHead& request);
std::optional<BodyFraming> response_framing(const HttpHead& response,
                                            std::string_view request_method);
// Whether the connection may carry another request after this exchange.
bool keeps_alive(const HttpHead& request, const HttpHead& response,
                 const BodyFraming& response_body);

using ByteSink = std::function<bool(std::string_view)>;  // false stops the copy

class WireSocket {
 public:
  WireSocket(int fd, int stop_fd);
  ~WireSocket();
  WireSocket(const WireSocket&) = delete;
  WireSocket& operator=(const WireSocket&) = delete;

  int fd() const { return m_fd; }

  enum class Read { ok, closed, failed };  // closed = EOF before any byte of the head
  Read read_head(HttpHead& out);
  // Copies one body of the given framing into `sink`; false on EOF, error, stop or a sink refusal.
  bool relay_body(const BodyFraming& framing, const ByteSink& sink);
  bool send_all(std::string_view bytes);

  // Data (or EOF) is waiting, without consuming it. Used to see an idle kept-alive connection
  // that the peer has closed meanwhile.
  bool readable_now();
  // Waits up to timeout_ms for the peer to send or close; false on timeout or stop.
  bool wait_for_peer(int64_t timeout_ms);

  void reset_connection();  // SO_LINGER 0 then close: the peer gets RST
  void close_connection();  // orderly close: the peer gets FIN

 private:
  bool wait(short events, int timeout_ms);  // false on timeout or stop
  bool fill();                              // one recv into the buffer; false on EOF, error or stop
  bool read_line(std::string& line);        // up to and including "\r\n"
  bool relay_exact(uint64_t count, const ByteSink& sink);
  bool relay_chunked(const ByteSink& sink);

  int m_fd;
  int m_stop_fd;
  std::string m_buffer;
  size_t m_start = 0;  // first unread byte of m_buffer
};

// A connected TCP socket to host:port, or -1.
int connect_tcp(const std::string& host, int port);

}  // namespace sim
