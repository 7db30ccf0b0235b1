// HttpTransport: the network edge. Many transfers run at once on one thread;
// the caller starts requests tagged with its own number and collects the
// completed ones from poll(). CurlMultiTransport implements it with libcurl's
// multi interface (one event loop, connection reuse, no thread per request).
//
// Secrets: the provider's Authorization (http/credentials.h, asked for per request) is attached
// only to requests marked `with_auth` whose origin (scheme://host:port) equals the provider
// origin given at construction, and is never sent across a redirect to another origin: a
// Bearer token travels as libcurl credentials (CURLAUTH_BEARER), any other scheme as an
// Authorization header, and libcurl forwards neither to another origin.
//
// Paid requests (`HttpRequest::paid`: a create, remix, edit, extension or
// character) leave at most once: each goes on a new HTTP/1.1 connection that is
// closed after it, with no redirect followed, so libcurl has nothing to resend
// it on (it resends a request by itself when a reused connection dies before
// the answer, and HTTP/2 streams refused by the server). The transport also
// counts how often the request really went on the wire (`HttpResult::
// request_sends`), so a resend from any layer below is seen, never trusted away.
//
// Not thread-safe: start() and poll() from one thread; wakeup() from any.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/credentials.h"
#include "util/clock.h"

namespace vb {

struct HttpHeader {
  std::string name;  // lower case in responses
  std::string value;
};

// One multipart/form-data field: a value, or a file's content when file_path is set.
struct FormPart {
  std::string name;
  std::string value;
  std::string file_path;
  std::string content_type;
};

// Receives a successful (2xx) response body as it streams in (downloads); the
// body of an error answer goes to HttpResponse::body instead. Returning false
// aborts the transfer.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // Called once per response before its first body byte, with the HTTP status (so a
  // sink can start over when a server ignores a Range request) and the body's length
  // from Content-Length (-1: not given).
  virtual bool begin(int http_status, std::int64_t body_bytes) = 0;
  virtual bool write(const char* data, std::size_t size) = 0;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<HttpHeader> headers;
  std::string body;              // sent as is (set a content-type header)
  std::vector<FormPart> form;    // non-empty: multipart/form-data, body ignored
  bool with_auth = false;        // attach the credentials (provider origin only)
  Millis timeout_ms = 60000;     // whole transfer
  Millis low_speed_time_ms = 0;  // >0: abort when below 1 KiB/s this long
  std::int64_t range_from = 0;   // >0: ask for bytes from this offset (Range: bytes=N-)
  BodySink* sink = nullptr;      // null: collect the body in memory (capped at 16 MiB)
  bool paid = false;             // costs money: sent once, on a connection of its own
  // Paid requests: asked once the connection is up, right before the request is written;
  // false holds it back unsent (TransportFailure::not_sent). E.g. a worker declared dead
  // while it was stopped sends nothing when it wakes.
  std::function<bool()> may_leave;
};

enum class TransportFailure {
  none,             // an HTTP answer arrived in full (any status)
  not_sent,         // connection never established: the server certainly saw nothing
  timeout,          // no complete answer in time, the request may have arrived
  connection_lost,  // reset, empty reply, truncated body after the request left
  sink_failed,      // the body sink refused data (e.g. disk full)
  too_large,        // an in-memory body passed the cap
  other,            // anything else libcurl reports (TLS, bad URL...)
};

const char* to_string(TransportFailure f);

struct HttpResponse {
  int status = 0;                              // 0 when no HTTP answer
  std::vector<HttpHeader> headers;             // of the last response after redirects
  std::string body;                            // when the request had no sink
  std::optional<std::int64_t> content_length;  // declared length of this body, if any

  std::optional<std::string> header(std::string_view lower_name) const;
};

struct HttpResult {
  std::uint64_t tag = 0;
  TransportFailure failure = TransportFailure::none;
  std::string error_text;  // libcurl's explanation when failure != none
  HttpResponse response;
  std::int64_t body_bytes = 0;  // bytes of body received in this transfer
  std::string effective_url;
  // Paid requests only: connections opened for the transfer, and how many times its request
  // line went on the wire. More than one send means the request may have been executed twice.
  int connections_opened = 0;
  int request_sends = 0;
};

struct TransportOptions {
  std::shared_ptr<Credentials> credentials;  // null: never authenticate
  std::string auth_origin;  // e.g. "https://api.openai.com"; requests elsewhere get none
  Millis connect_timeout_ms = 10000;
  std::string user_agent = "vidbatch";
  bool insecure = false;  // skip TLS verification (local testing only)
  // Fault injection for tests only: paid requests use pooled connections as any other, which
  // lets libcurl resend them. The resend count (HttpResult::request_sends) still sees it.
  bool paid_requests_share_connections = false;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual void start(HttpRequest request, std::uint64_t tag) = 0;
  // Drives transfers for at most max_wait_ms and returns those that finished.
  virtual std::vector<HttpResult> poll(Millis max_wait_ms) = 0;
  // Aborts every transfer in flight; they are returned by the next poll() as timeouts.
  virtual void abort_all() = 0;
  virtual void wakeup() = 0;
  virtual std::size_t in_flight() const = 0;
};

// Connections open at once to one origin; transfers beyond this wait inside the transport.
// A caller that needs a request to reach the server when started keeps in_flight() below it.
constexpr std::size_t k_connections_per_origin = 256;

std::unique_ptr<HttpTransport> make_curl_transport(const TransportOptions& options);

// "scheme://host[:port]" of a URL, lower-cased; empty if it has none.
std::string url_origin(std::string_view url);

}  // namespace vb
