// A tiny blocking libcurl client for tests: one request, full answer in memory. Separate from
// src/http on purpose, so e2e tests check the simulator with code that shares nothing with the
// orchestrator under test. Each http_send uses its own easy handle (its own connection); an
// HttpSession keeps one, so its requests share a kept-alive connection as libcurl allows. Safe
// from any thread once curl_global_init has run (curl_easy_init does it lazily on first use); one
// HttpSession belongs to one thread.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vidbatch::test {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent as-is when non-empty (set Content-Type yourself)
  std::vector<std::pair<std::string, std::string>> form;  // non-empty = multipart/form-data
  long timeout_ms = 5000;
  bool fresh_connection = false;  // CURLOPT_FRESH_CONNECT: never reuse a kept-alive connection
  bool trace = false;             // collect libcurl's informational lines in HttpResponse::trace
};

struct HttpResponse {
  int curl_code = 0;  // CURLE_OK (0) on a complete transfer; 18 = cut short, 28 = timeout
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased; last value wins
  long connects = 0;  // new connections this transfer opened (CURLINFO_NUM_CONNECTS)
  std::string trace;  // libcurl's "* ..." lines, when the request asked for them

  std::string header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

HttpResponse http_send(const HttpRequest& request);
HttpResponse http_get(const std::string& url, std::vector<std::string> headers = {});

class HttpSession {
 public:
  HttpSession();
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  HttpResponse send(const HttpRequest& request);

 private:
  void* m_easy;  // CURL*, kept out of this header
};

}  // namespace vidbatch::test
