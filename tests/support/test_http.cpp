#include "support/test_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace vidbatch::test {

namespace {

size_t on_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  const std::string line(data, size * count);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    value = first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * count;
}

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct MimeDeleter {
  void operator()(curl_mime* mime) const { curl_mime_free(mime); }
};

int on_debug(CURL*, curl_infotype type, char* data, size_t size, void* user) {
  if (type == CURLINFO_TEXT) {
    static_cast<std::string*>(user)->append(data, size);
  }
  return 0;
}

// Sets every option of `request` on `h` (a fresh or reset handle) and runs it.
HttpResponse perform(CURL* h, const HttpRequest& request) {
  HttpResponse response;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& header : request.headers) {
    headers.reset(curl_slist_append(headers.release(), header.c_str()));
  }
  std::unique_ptr<curl_mime, MimeDeleter> mime;
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &response.headers);
  if (!request.form.empty()) {
    mime.reset(curl_mime_init(h));
    for (const auto& [name, value] : request.form) {
      curl_mimepart* part = curl_mime_addpart(mime.get());
      curl_mime_name(part, name.c_str());
      curl_mime_data(part, value.data(), value.size());
    }
    curl_easy_setopt(h, CURLOPT_MIMEPOST, mime.get());
  } else if (!request.body.empty()) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_NOBODY, request.method == "HEAD" ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, request.fresh_connection ? 1L : 0L);
  if (request.trace) {
    curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, &response.trace);
  }
  response.curl_code = static_cast<int>(curl_easy_perform(h));
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &response.connects);
  return response;
}

}  // namespace

HttpResponse http_send(const HttpRequest& request) {
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  return perform(easy.get(), request);
}

HttpSession::HttpSession() : m_easy(curl_easy_init()) {}

HttpSession::~HttpSession() {
  curl_easy_cleanup(static_cast<CURL*>(m_easy));
}

HttpResponse HttpSession::send(const HttpRequest& request) {
  // A reset keeps the handle's connection cache: the next request may reuse the connection.
  curl_easy_reset(static_cast<CURL*>(m_easy));
  return perform(static_cast<CURL*>(m_easy), request);
}

HttpResponse http_get(const std::string& url, std::vector<std::string> headers) {
  HttpRequest request;
  request.url = url;
  request.headers = std::move(headers);
  return http_send(request);
}

}  // namespace vidbatch::test
