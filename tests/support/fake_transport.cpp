#include "support/fake_transport.h"

#include <algorithm>

namespace vb::fake {

FakeAnswer FakeAnswer::json(int status, std::string body, Millis latency_ms) {
  FakeAnswer a;
  a.status = status;
  a.body = std::move(body);
  a.latency_ms = latency_ms;
  a.headers.push_back({"content-type", "application/json"});
  return a;
}

FakeAnswer FakeAnswer::failed(TransportFailure failure, std::string text, Millis latency_ms) {
  FakeAnswer a;
  a.failure = failure;
  a.status = 0;
  a.error_text = std::move(text);
  a.latency_ms = latency_ms;
  return a;
}

FakeAnswer& FakeAnswer::header(std::string name, std::string value) {
  headers.push_back({std::move(name), std::move(value)});
  return *this;
}

void FakeTransport::on(std::string method, std::string url_part, Script script) {
  m_rules.push_back({std::move(method), std::move(url_part), std::move(script), 0});
}

void FakeTransport::on(std::string method, std::string url_part, std::vector<FakeAnswer> answers) {
  on(std::move(method), std::move(url_part),
     [answers = std::move(answers)](const HttpRequest&, int nth) {
       return answers[std::min<std::size_t>(static_cast<std::size_t>(nth), answers.size() - 1)];
     });
}

void FakeTransport::start(HttpRequest request, std::uint64_t tag) {
  if (m_on_start) {
    m_on_start(request);
  }
  Millis now = m_clock.now_ms();
  FakeAnswer answer;
  bool found = false;
  for (auto& rule : m_rules) {
    if (rule.method == request.method && request.url.find(rule.url_part) != std::string::npos) {
      answer = rule.script(request, rule.answered++);
      found = true;
      break;
    }
  }
  if (!found) {
    m_unscripted.push_back(request.method + " " + request.url);
    answer = FakeAnswer::failed(TransportFailure::other, "unscripted request");
  }
  bool tracked = m_tracked && m_tracked(request);
  if (tracked) {
    m_tracked_now += 1;
    m_tracked_max = std::max(m_tracked_max, m_tracked_now);
  }
  Millis ready_at = now + answer.latency_ms;
  m_started.push_back({std::move(request), tag, now, -1});
  m_pending.push_back({m_started.size() - 1, std::move(answer), ready_at, tracked});
}

HttpResult FakeTransport::deliver(Pending& p, bool aborted) {
  StartedRequest& s = m_started[p.index];
  s.done_at = m_clock.now_ms();
  if (p.tracked) {
    m_tracked_now -= 1;
  }
  HttpResult r;
  r.tag = s.tag;
  r.effective_url = s.request.url;
  if (aborted) {
    r.failure = TransportFailure::timeout;
    r.error_text = "aborted";
    return r;
  }
  const FakeAnswer& a = p.answer;
  if (s.request.paid) {
    r.request_sends = a.request_sends;
    r.connections_opened = 1;
  }
  r.failure = a.failure;
  r.error_text = a.error_text;
  r.response.status = a.status;
  r.response.headers = a.headers;
  r.response.content_length = a.content_length;
  if (!r.response.content_length && a.failure == TransportFailure::none) {
    r.response.content_length = static_cast<std::int64_t>(a.body.size());
  }
  // Like the real transport: only a 2xx body streams into the sink.
  bool to_sink = s.request.sink != nullptr && a.status >= 200 && a.status < 300;
  if (to_sink) {
    if (!a.body.empty()) {
      bool ok = s.request.sink->begin(a.status, r.response.content_length.value_or(-1)) &&
                s.request.sink->write(a.body.data(), a.body.size());
      r.body_bytes = static_cast<std::int64_t>(a.body.size());
      if (!ok) {
        r.failure = TransportFailure::sink_failed;
        r.error_text = "sink refused the body";
      }
    }
  } else {
    r.response.body = a.body;
    r.body_bytes = static_cast<std::int64_t>(a.body.size());
  }
  return r;
}

void FakeTransport::wakeup() {
  {
    std::lock_guard lock(m_wake_mutex);
    m_woken = true;
  }
  m_wake_cv.notify_all();
}

std::vector<HttpResult> FakeTransport::poll(Millis max_wait_ms) {
  std::vector<HttpResult> out;
  m_polls += 1;
  if (m_polls > m_max_polls && !m_budget_exceeded) {
    m_budget_exceeded = true;
    if (m_stop != nullptr) {
      m_stop->store(2);
    }
    m_aborting = true;
  }
  if (m_aborting) {
    for (auto& p : m_pending) {
      out.push_back(deliver(p, true));
    }
    m_pending.clear();
    m_aborting = false;
    return out;
  }
  Millis now = m_clock.now_ms();
  Millis deadline = now + std::max<Millis>(0, max_wait_ms);
  std::optional<Millis> earliest;
  for (const auto& p : m_pending) {
    earliest = earliest ? std::min(*earliest, p.ready_at) : p.ready_at;
  }
  if (!earliest || *earliest > deadline) {
    // Nothing scripted is due: give the engine's worker threads a moment of real time,
    // as a real poll() would, before fake time jumps ahead.
    std::unique_lock lock(m_wake_mutex);
    m_wake_cv.wait_for(lock, std::chrono::milliseconds(20), [this] { return m_woken; });
    m_woken = false;
    lock.unlock();
    m_clock.set(deadline);
    return out;
  }
  m_clock.set(std::max(now, *earliest));
  now = m_clock.now_ms();
  // Deliver in start order among those due.
  std::vector<Pending> still;
  for (auto& p : m_pending) {
    if (p.ready_at <= now) {
      out.push_back(deliver(p, false));
    } else {
      still.push_back(std::move(p));
    }
  }
  m_pending = std::move(still);
  return out;
}

std::vector<StartedRequest> FakeTransport::started(const std::string& method,
                                                   const std::string& url_part) const {
  std::vector<StartedRequest> out;
  for (const auto& s : m_started) {
    if (s.request.method == method && s.request.url.find(url_part) != std::string::npos) {
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace vb::fake
