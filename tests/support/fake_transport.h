// FakeTransport: a scripted HttpTransport for the [engine] tests (after ninja's
// FakeCommandRunner). Every started request is recorded; its answer comes from
// the first rule whose method equals and whose URL contains the rule's text,
// and is delivered by poll() `latency_ms` of FakeClock time after start. When
// poll() has nothing due within max_wait it advances the clock by max_wait, so
// the engine's loop always makes progress in virtual time. Bodies of requests
// with a sink are streamed into it (begin(status), then write). A poll budget
// stops a runaway loop (sets the run's stop flag to 2). Not thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http/http_transport.h"
#include "support/fake_clock.h"

namespace vb::fake {

struct FakeAnswer {
  TransportFailure failure = TransportFailure::none;
  int status = 200;
  std::vector<HttpHeader> headers;  // lower-case names
  std::string body;                 // streamed into the sink when the request has one
  std::string error_text;
  Millis latency_ms = 20;
  std::optional<std::int64_t> content_length;  // default: body.size() on full answers
  int request_sends = 1;  // of a paid request: more than 1 = a layer below resent it

  static FakeAnswer json(int status, std::string body, Millis latency_ms = 20);
  static FakeAnswer failed(TransportFailure failure, std::string text, Millis latency_ms = 20);
  FakeAnswer& header(std::string name, std::string value);
};

struct StartedRequest {
  HttpRequest request;
  std::uint64_t tag = 0;
  Millis started_at = 0;
  Millis done_at = -1;  // -1 while in flight
};

class FakeTransport final : public HttpTransport {
 public:
  // nth = how many requests this rule has answered before (0 for the first).
  using Script = std::function<FakeAnswer(const HttpRequest& request, int nth)>;

  explicit FakeTransport(FakeClock& clock) : m_clock(clock) {}

  void on(std::string method, std::string url_part, Script script);
  // The answers in order; the last one repeats.
  void on(std::string method, std::string url_part, std::vector<FakeAnswer> answers);
  // Called in start() before anything else, e.g. to look at the ledger.
  void on_start(std::function<void(const HttpRequest&)> hook) { m_on_start = std::move(hook); }
  // Counts requests matching `pred` that are in flight at once.
  void track(std::function<bool(const HttpRequest&)> pred) { m_tracked = std::move(pred); }
  // After `max_polls` poll() calls, sets *stop to 2 and aborts everything.
  void set_budget(std::atomic<int>* stop, int max_polls) {
    m_stop = stop;
    m_max_polls = max_polls;
  }

  void start(HttpRequest request, std::uint64_t tag) override;
  std::vector<HttpResult> poll(Millis max_wait_ms) override;
  void abort_all() override { m_aborting = true; }
  // Like curl_multi_wakeup: ends an idle poll() early (called by the engine's disk workers).
  void wakeup() override;
  std::size_t in_flight() const override { return m_pending.size(); }

  const std::vector<StartedRequest>& started() const { return m_started; }
  std::vector<StartedRequest> started(const std::string& method, const std::string& url_part) const;
  std::vector<std::string> unscripted() const { return m_unscripted; }
  int max_tracked_in_flight() const { return m_tracked_max; }
  bool budget_exceeded() const { return m_budget_exceeded; }
  int polls() const { return m_polls; }

 private:
  struct Rule {
    std::string method;
    std::string url_part;
    Script script;
    int answered = 0;
  };
  struct Pending {
    std::size_t index;  // into m_started
    FakeAnswer answer;
    Millis ready_at;
    bool tracked;
  };
  HttpResult deliver(Pending& p, bool aborted);

  FakeClock& m_clock;
  std::vector<Rule> m_rules;
  std::vector<StartedRequest> m_started;
  std::vector<Pending> m_pending;
  std::vector<std::string> m_unscripted;
  std::function<void(const HttpRequest&)> m_on_start;
  std::function<bool(const HttpRequest&)> m_tracked;
  int m_tracked_now = 0;
  int m_tracked_max = 0;
  bool m_aborting = false;
  std::atomic<int>* m_stop = nullptr;
  int m_max_polls = 1000000;
  int m_polls = 0;
  bool m_budget_exceeded = false;
  std::mutex m_wake_mutex;
  std::condition_variable m_wake_cv;
  bool m_woken = false;
};

}  // namespace vb::fake
