// One libcurl transfer's context and the callbacks libcurl calls with it: CURLOPT_PRIVATE and
// every callback's *DATA option point at the Transfer. Internal to http/: CurlMultiTransport
// (curl_transport.cpp) owns the transfers; nothing outside this folder includes this header.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http/http_transport.h"

namespace vb::curl_detail {

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct MimeDeleter {
  void operator()(curl_mime* mime) const { curl_mime_free(mime); }
};

// Everything one transfer owns, alive from start() until its completion is returned.
struct Transfer {
  std::uint64_t tag = 0;
  std::unique_ptr<CURL, EasyDeleter> easy;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  std::unique_ptr<curl_mime, MimeDeleter> mime;
  std::string body;                // request body (curl reads it in place)
  std::string request_line_start;  // "POST ": how a paid request's header block begins
  BodySink* sink = nullptr;
  bool sink_started = false;
  bool sink_bypassed = false;  // an error answer's body goes to memory, not the sink
  bool sink_failed = false;
  bool too_large = false;
  std::function<bool()> may_leave;  // HttpRequest::may_leave
  bool held_back = false;           // may_leave said no: nothing was written
  HttpResult result;
  char error[CURL_ERROR_SIZE] = {};
};

// CURLOPT_WRITEFUNCTION: a successful download's body goes to its sink, anything else to
// memory (at most 16 MiB).
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user);
// CURLOPT_HEADERFUNCTION: the last response's headers, names lowered.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user);
// CURLOPT_OPENSOCKETFUNCTION of a paid request: counts connections.
curl_socket_t on_open_socket(void* user, curlsocktype, curl_sockaddr* address);
// CURLOPT_DEBUGFUNCTION of a paid request: counts the times its request line was sent.
int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user);
// CURLOPT_PREREQFUNCTION of a paid request: HttpRequest::may_leave decides, last moment.
int on_prereq(void* user, char*, char*, int, int);

// What a finished transfer's code means for the money rule (not_sent only when provably so).
TransportFailure classify(CURLcode code, long request_size);

}  // namespace vb::curl_detail
