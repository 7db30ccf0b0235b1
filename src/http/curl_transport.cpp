// CurlMultiTransport: HttpTransport on libcurl's multi_socket interface with an
// epoll set of our own, in the shape of curl's docs/examples/ephiperfifo.c: libcurl
// says which sockets to watch and when its next timeout falls, poll() waits on
// epoll and hands libcurl only the sockets that are ready. (curl_multi_perform
// visited every transfer, with a poll(2) of its socket, on each call.) Every
// transfer carries a Transfer context (CURLOPT_PRIVATE), and poll() drains
// CURLMSG_DONE messages, copying what it needs before the easy handle is removed.
#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <unordered_map>

#include "http/curl_transfer.h"
#include "http/http_transport.h"
#include "http/multipart_form.h"

namespace vb {

namespace {

using curl_detail::classify;
using curl_detail::EasyDeleter;
using curl_detail::MultiDeleter;
using curl_detail::on_body;
using curl_detail::on_debug;
using curl_detail::on_header;
using curl_detail::on_open_socket;
using curl_detail::on_prereq;
using curl_detail::Transfer;

// Connections to one host at once. Beyond this, transfers wait inside libcurl for a free
// connection (or, over HTTP/2, share one), instead of opening one connection per request in
// flight: 2,000 jobs in flight must not mean 2,000 sockets, accept()s and TLS handshakes. A
// request that times out while waiting never left (CURLINFO_REQUEST_SIZE 0: not_sent).
constexpr long k_max_host_connections = static_cast<long>(k_connections_per_origin);
// Receive buffer of a download (libcurl's default is 16 KiB; the curl tool uses 100 KiB). On
// loopback at 64 KiB, 300 videos of 1 MiB took 5,567 recv and 5,879 poll calls; at 128 KiB,
// 2,702 and 3,026 (each recv also sends the ACK that wakes the sender). 64 downloads at once
// hold 8 MiB of them (below main()'s 4 MiB mmap threshold each).
constexpr long k_download_buffer_bytes = 128 * 1024;
// Easy handles kept for reuse (curl_easy_reset): a request then costs no curl_easy_init.
constexpr std::size_t k_max_spare_handles = 256;

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

void ensure_curl_global() {
  static CurlGlobal global;
}

class CurlMultiTransport final : public HttpTransport {
 public:
  explicit CurlMultiTransport(TransportOptions options)
      : m_options(std::move(options)), m_auth_origin(url_origin(m_options.auth_origin)) {
    ensure_curl_global();
    m_multi.reset(curl_multi_init());
    curl_multi_setopt(m_multi.get(), CURLMOPT_MAX_HOST_CONNECTIONS, k_max_host_connections);
    // Keep as many idle connections as may be open: the default (4 x transfers in flight)
    // closes them whenever a lull shrinks the number of transfers, and the next burst of
    // polls reconnects.
    curl_multi_setopt(m_multi.get(), CURLMOPT_MAXCONNECTS, k_max_host_connections);
    curl_multi_setopt(m_multi.get(), CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m_multi.get(), CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m_multi.get(), CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m_multi.get(), CURLMOPT_TIMERDATA, this);
    m_epoll = ::epoll_create1(EPOLL_CLOEXEC);
    m_wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = m_wake;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wake, &ev);
  }

  ~CurlMultiTransport() override {
    for (auto& [easy, transfer] : m_transfers) {
      curl_multi_remove_handle(m_multi.get(), easy);
    }
    m_multi.reset();  // closes the cached connections (socket callbacks) before epoll goes
    ::close(m_wake);
    ::close(m_epoll);
  }

  void start(HttpRequest request, std::uint64_t tag) override;
  std::vector<HttpResult> poll(Millis max_wait_ms) override;
  void abort_all() override;
  void wakeup() override {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(m_wake, &one, sizeof one);  // full counter: already woken
  }
  std::size_t in_flight() const override { return m_transfers.size(); }

 private:
  using SteadyClock = std::chrono::steady_clock;

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* known);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  void configure(Transfer& t, HttpRequest& request);
  void configure_paid(Transfer& t, const HttpRequest& request);
  HttpResult finish(CURL* easy, CURLcode code);
  int wait_ms(Millis max_wait_ms) const;
  void act(curl_socket_t fd, int events);

  TransportOptions m_options;
  std::string m_auth_origin;
  std::unique_ptr<CURLM, MultiDeleter> m_multi;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> m_transfers;
  std::vector<std::unique_ptr<CURL, EasyDeleter>> m_spare;  // finished handles, reused
  std::vector<HttpResult> m_aborted;
  int m_epoll = -1;
  int m_wake = -1;           // eventfd: wakeup() from other threads
  bool m_timer_set = false;  // libcurl wants CURL_SOCKET_TIMEOUT at m_timer_due
  SteadyClock::time_point m_timer_due;
  std::uint64_t m_form_seed = std::random_device{}();  // boundaries of encoded forms
};

// libcurl tells which events a socket waits for (or that it is done with it).
int CurlMultiTransport::on_socket(CURL*, curl_socket_t fd, int what, void* self, void* known) {
  auto* transport = static_cast<CurlMultiTransport*>(self);
  if (what == CURL_POLL_REMOVE) {
    ::epoll_ctl(transport->m_epoll, EPOLL_CTL_DEL, fd, nullptr);
    return 0;
  }
  epoll_event ev{};
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  ev.data.fd = fd;
  // A descriptor number can come back for a new socket: ADD and MOD each fall back to the other.
  const int op = known == nullptr ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (::epoll_ctl(transport->m_epoll, op, fd, &ev) != 0) {
    ::epoll_ctl(transport->m_epoll, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
  }
  if (known == nullptr) {
    curl_multi_assign(transport->m_multi.get(), fd, transport);  // marks it as known
  }
  return 0;
}

// A paid request gets nothing libcurl could resend it on: a connection of its own (libcurl
// retries a request only on a reused one), closed after it; HTTP/1.1 (HTTP/2 retries streams
// the server refused); no redirect (a 307/308 repeats the body). Its sends are counted.
void CurlMultiTransport::configure_paid(Transfer& t, const HttpRequest& request) {
  CURL* easy = t.easy.get();
  if (!m_options.paid_requests_share_connections) {
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
  }
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  t.request_line_start = request.form.empty() ? request.method + " " : std::string("POST ");
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &t);
  curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(easy, CURLOPT_DEBUGDATA, &t);
  curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);  // the debug callback runs only when verbose
  if (request.may_leave) {
    t.may_leave = request.may_leave;
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, &t);
  }
}

int CurlMultiTransport::on_timer(CURLM*, long timeout_ms, void* self) {
  auto* transport = static_cast<CurlMultiTransport*>(self);
  transport->m_timer_set = timeout_ms >= 0;
  transport->m_timer_due = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  return 0;
}

void CurlMultiTransport::configure(Transfer& t, HttpRequest& request) {
  CURL* easy = t.easy.get();
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, &t);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t.error);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  if (request.sink != nullptr) {
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, k_download_buffer_bytes);
  }
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(m_options.connect_timeout_ms));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_ms));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, m_options.user_agent.c_str());
  if (request.paid) {
    configure_paid(t, request);
  } else {
    // Over HTTP/2, wait for a connection being set up rather than open another (multiplexing).
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  }
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  if (m_options.insecure) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (request.low_speed_time_ms > 0) {
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                     std::max(1L, static_cast<long>(request.low_speed_time_ms / 1000)));
  }
  if (request.range_from > 0) {
    std::string range = std::to_string(request.range_from) + "-";
    curl_easy_setopt(easy, CURLOPT_RANGE, range.c_str());  // libcurl copies the string
  }
  curl_slist* headers = nullptr;
  if (request.with_auth && m_options.credentials && url_origin(request.url) == m_auth_origin) {
    // A Bearer token travels as libcurl credentials (CURLAUTH_BEARER), another scheme as a
    // header: libcurl (7.83 and later) sends neither to another scheme, host or port on a
    // redirect (tests/security/redirect_test.cpp). libcurl copies both strings.
    const std::string value = m_options.credentials->authorization(SystemClock{}.now_ms());
    constexpr std::string_view k_bearer = "Bearer ";
    if (value.starts_with(k_bearer)) {
      curl_easy_setopt(easy, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
      curl_easy_setopt(easy, CURLOPT_XOAUTH2_BEARER, value.c_str() + k_bearer.size());
    } else {
      headers = curl_slist_append(headers, ("Authorization: " + value).c_str());
    }
  }
  for (const auto& h : request.headers) {
    headers = curl_slist_append(headers, (h.name + ": " + h.value).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (!request.form.empty() && fields_only(request.form)) {
    EncodedForm form = encode_form(request.form, m_form_seed++);
    headers = curl_slist_append(headers, ("Content-Type: " + form.content_type).c_str());
    request.form.clear();
    request.method = "POST";
    request.body = std::move(form.body);
  }
  t.headers.reset(headers);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);

  if (!request.form.empty()) {  // parts read from files: libcurl streams them
    t.mime.reset(curl_mime_init(easy));
    for (const auto& part : request.form) {
      curl_mimepart* p = curl_mime_addpart(t.mime.get());
      curl_mime_name(p, part.name.c_str());
      if (!part.file_path.empty()) {
        curl_mime_filedata(p, part.file_path.c_str());
      } else {
        curl_mime_data(p, part.value.data(), part.value.size());
      }
      if (!part.content_type.empty()) {
        curl_mime_type(p, part.content_type.c_str());
      }
    }
    curl_easy_setopt(easy, CURLOPT_MIMEPOST, t.mime.get());
  } else if (request.method == "POST") {
    t.body = std::move(request.body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, t.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
  }
  if (request.method != "GET" && request.method != "POST") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
}

void CurlMultiTransport::start(HttpRequest request, std::uint64_t tag) {
  auto t = std::make_unique<Transfer>();
  t->tag = tag;
  t->sink = request.sink;
  if (m_spare.empty()) {
    t->easy.reset(curl_easy_init());
  } else {
    t->easy = std::move(m_spare.back());
    m_spare.pop_back();
  }
  configure(*t, request);
  CURL* easy = t->easy.get();
  CURLMcode rc = curl_multi_add_handle(m_multi.get(), easy);
  if (rc != CURLM_OK) {
    HttpResult r;
    r.tag = tag;
    r.failure = TransportFailure::not_sent;
    r.error_text = curl_multi_strerror(rc);
    m_aborted.push_back(std::move(r));
    return;
  }
  m_transfers.emplace(easy, std::move(t));
}

HttpResult CurlMultiTransport::finish(CURL* easy, CURLcode code) {
  auto it = m_transfers.find(easy);
  std::unique_ptr<Transfer> t = std::move(it->second);
  m_transfers.erase(it);
  curl_multi_remove_handle(m_multi.get(), easy);

  long status = 0;
  long request_size = 0;
  char* effective = nullptr;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_size);
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &effective);
  HttpResult result = std::move(t->result);
  result.tag = t->tag;
  result.response.status = static_cast<int>(status);
  result.effective_url = effective != nullptr ? effective : "";
  result.failure = classify(code, request_size);
  if (t->held_back) {
    result.failure = TransportFailure::not_sent;
  } else if (t->too_large) {
    result.failure = TransportFailure::too_large;
  } else if (code == CURLE_WRITE_ERROR && !t->sink_failed) {
    result.failure = TransportFailure::other;
  }
  if (result.failure != TransportFailure::none) {
    result.error_text = t->error[0] != '\0' ? t->error : curl_easy_strerror(code);
  }
  if (m_spare.size() < k_max_spare_handles) {
    curl_easy_reset(easy);  // options off; its allocations stay for the next request
    m_spare.push_back(std::move(t->easy));
  }
  return result;
}

int CurlMultiTransport::wait_ms(Millis max_wait_ms) const {
  Millis wait = std::max<Millis>(max_wait_ms, 0);
  if (m_timer_set) {
    auto until = std::chrono::ceil<std::chrono::milliseconds>(m_timer_due - SteadyClock::now());
    wait = std::clamp<Millis>(until.count(), 0, wait);
  }
  return static_cast<int>(std::min<Millis>(wait, 1 << 30));
}

void CurlMultiTransport::act(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(m_multi.get(), fd, events, &running);
}

std::vector<HttpResult> CurlMultiTransport::poll(Millis max_wait_ms) {
  std::vector<HttpResult> done = std::move(m_aborted);
  m_aborted.clear();
  constexpr int k_max_events = 256;
  epoll_event events[k_max_events];
  int n = ::epoll_wait(m_epoll, events, k_max_events, done.empty() ? wait_ms(max_wait_ms) : 0);
  for (int i = 0; i < n; ++i) {
    const int fd = events[i].data.fd;
    if (fd == m_wake) {
      std::uint64_t count = 0;
      [[maybe_unused]] auto r = ::read(m_wake, &count, sizeof count);
      continue;
    }
    const std::uint32_t e = events[i].events;
    act(fd, ((e & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((e & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                ((e & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0));
  }
  if (m_timer_set && SteadyClock::now() >= m_timer_due) {
    m_timer_set = false;  // the action below may set the next one
    act(CURL_SOCKET_TIMEOUT, 0);
  }
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(m_multi.get(), &left)) {
    if (msg->msg == CURLMSG_DONE) {
      CURL* easy = msg->easy_handle;
      CURLcode code = msg->data.result;  // copied before the handle goes away
      done.push_back(finish(easy, code));
    }
  }
  return done;
}

void CurlMultiTransport::abort_all() {
  std::vector<CURL*> easies;
  for (const auto& entry : m_transfers) {
    easies.push_back(entry.first);
  }
  for (CURL* easy : easies) {
    HttpResult r = finish(easy, CURLE_OPERATION_TIMEDOUT);
    r.failure = TransportFailure::timeout;  // the request may have reached the server
    r.error_text = "aborted by vidbatch (shutting down)";
    m_aborted.push_back(std::move(r));
  }
}

}  // namespace

std::unique_ptr<HttpTransport> make_curl_transport(const TransportOptions& options) {
  return std::make_unique<CurlMultiTransport>(options);
}

}  // namespace vb
