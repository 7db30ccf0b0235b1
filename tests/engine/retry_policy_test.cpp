// [engine] decide_retry as one table, the jitter bounds, Retry-After parsing, outcome_of.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/retry_policy.h"

using namespace vb;

namespace {

RetryConfig small_config() {
  RetryConfig c;
  c.submit_attempts = 3;
  c.poll_attempts = 4;
  c.download_attempts = 2;
  c.base_delay_ms = 1000;
  c.max_delay_ms = 8000;
  return c;
}

AttemptOutcome net(TransportFailure f) {
  AttemptOutcome o;
  o.transport = f;
  return o;
}

AttemptOutcome http(int status, bool json = false, std::optional<Millis> retry_after = {}) {
  AttemptOutcome o;
  o.http_status = status;
  o.json_error_body = json;
  o.retry_after_ms = retry_after;
  return o;
}

const char* name(Verdict v) {
  switch (v) {
    case Verdict::retry: return "retry";
    case Verdict::give_up: return "give_up";
    case Verdict::ambiguous: return "ambiguous";
    case Verdict::stop_run: return "stop_run";
  }
  return "?";
}

struct Row {
  const char* what;
  RequestPhase phase;
  int attempts;
  AttemptOutcome outcome;
  Verdict verdict;
  std::string code;
  Millis delay;   // with random01 = 0.5
};

using TF = TransportFailure;
constexpr auto submit = RequestPhase::submit;
constexpr auto poll = RequestPhase::poll;
constexpr auto download = RequestPhase::download;

}  // namespace

TEST_CASE("retry policy: the decision table", "[engine]") {
  const std::vector<Row> rows = {
      // --- submit: only a create that certainly started nothing is retried.
      {"not sent", submit, 1, net(TF::not_sent), Verdict::retry, "not_sent", 500},
      {"not sent, 2nd", submit, 2, net(TF::not_sent), Verdict::retry, "not_sent", 1000},
      {"timeout after send", submit, 1, net(TF::timeout), Verdict::ambiguous, "create_ambiguous", 0},
      {"connection lost", submit, 1, net(TF::connection_lost), Verdict::ambiguous, "create_ambiguous", 0},
      {"too large answer", submit, 1, net(TF::too_large), Verdict::ambiguous, "create_ambiguous", 0},
      {"other transport", submit, 1, net(TF::other), Verdict::ambiguous, "create_ambiguous", 0},
      {"429 + retry-after", submit, 1, http(429, true, 3000), Verdict::retry, "http_429", 3000},
      {"429 no hint", submit, 2, http(429), Verdict::retry, "http_429", 1000},
      {"408", submit, 1, http(408), Verdict::retry, "http_408", 500},
      {"409", submit, 1, http(409, true), Verdict::retry, "http_409", 500},
      {"500 JSON", submit, 1, http(500, true), Verdict::retry, "http_500", 500},
      {"503 JSON", submit, 1, http(503, true), Verdict::retry, "http_503", 500},
      {"500 no JSON", submit, 1, http(500), Verdict::ambiguous, "create_ambiguous", 0},
      {"502 no JSON", submit, 1, http(502), Verdict::ambiguous, "create_ambiguous", 0},
      {"504 no JSON", submit, 1, http(504), Verdict::ambiguous, "create_ambiguous", 0},
      {"400", submit, 1, http(400, true), Verdict::give_up, "http_400", 0},
      {"404", submit, 1, http(404, true), Verdict::give_up, "http_404", 0},
      {"422", submit, 1, http(422, true), Verdict::give_up, "http_422", 0},
      {"401", submit, 1, http(401, true), Verdict::stop_run, "auth_401", 0},
      {"403", submit, 1, http(403), Verdict::stop_run, "auth_403", 0},
      {"429 at the cap", submit, 3, http(429, true, 100), Verdict::give_up, "retries_exhausted", 0},
      {"not sent at the cap", submit, 3, net(TF::not_sent), Verdict::give_up, "retries_exhausted", 0},
      {"500 no JSON at the cap", submit, 3, http(500), Verdict::ambiguous, "create_ambiguous", 0},
      // --- poll: idempotent, every transient failure is retried.
      {"poll timeout", poll, 1, net(TF::timeout), Verdict::retry, "timeout", 500},
      {"poll conn lost", poll, 2, net(TF::connection_lost), Verdict::retry, "connection_lost", 1000},
      {"poll not sent", poll, 3, net(TF::not_sent), Verdict::retry, "not_sent", 2000},
      {"poll 500", poll, 1, http(500), Verdict::retry, "http_500", 500},
      {"poll 502", poll, 1, http(502), Verdict::retry, "http_502", 500},
      {"poll 429", poll, 1, http(429, true, 2500), Verdict::retry, "http_429", 2500},
      {"poll 404", poll, 1, http(404, true), Verdict::give_up, "http_404", 0},
      {"poll 401", poll, 1, http(401), Verdict::stop_run, "auth_401", 0},
      {"poll 403", poll, 1, http(403), Verdict::stop_run, "auth_403", 0},
      {"poll at the cap", poll, 4, net(TF::timeout), Verdict::give_up, "retries_exhausted", 0},
      // --- download
      {"download conn lost", download, 1, net(TF::connection_lost), Verdict::retry, "connection_lost", 500},
      {"download timeout", download, 1, net(TF::timeout), Verdict::retry, "timeout", 500},
      {"download 503", download, 1, http(503), Verdict::retry, "http_503", 500},
      {"download disk full", download, 1, net(TF::sink_failed), Verdict::give_up, "disk_write_failed", 0},
      {"download 401", download, 1, http(401), Verdict::stop_run, "auth_401", 0},
      {"download 403", download, 1, http(403), Verdict::stop_run, "auth_403", 0},
      {"download 416", download, 1, http(416), Verdict::give_up, "http_416", 0},
      {"download at the cap", download, 2, http(500), Verdict::give_up, "retries_exhausted", 0},
  };
  const RetryConfig config = small_config();
  for (const Row& row : rows) {
    INFO(row.what << " (" << to_string(row.phase) << ", attempts " << row.attempts << ")");
    RetryDecision d = decide_retry(config, row.phase, row.attempts, row.outcome, 0.5);
    CHECK(std::string(name(d.verdict)) == name(row.verdict));
    CHECK(d.error_code == row.code);
    CHECK(d.delay_ms == row.delay);
    CHECK_FALSE(d.reason.empty());
  }
}

TEST_CASE("retry policy: 401/403 stop the run in every phase and attempt", "[engine]") {
  const RetryConfig config = small_config();
  for (RequestPhase phase : {submit, poll, download}) {
    for (int status : {401, 403}) {
      for (int attempts : {1, 2, 50}) {
        INFO(to_string(phase) << " " << status << " attempts " << attempts);
        auto d = decide_retry(config, phase, attempts, http(status, true, 100), 0.3);
        CHECK(d.verdict == Verdict::stop_run);
        CHECK(d.error_code == "auth_" + std::to_string(status));
      }
    }
  }
}

TEST_CASE("retry policy: user-facing reasons", "[engine]") {
  const RetryConfig config = small_config();
  AttemptOutcome auth = http(401, true);
  auth.detail = "Incorrect API key provided";
  CHECK(decide_retry(config, poll, 1, auth, 0.5).reason ==
        "the provider refused the API key (HTTP 401: Incorrect API key provided); check the key "
        "variable and the base URL");

  AttemptOutcome lost = net(TF::timeout);
  lost.detail = "Operation timed out after 60000 milliseconds";
  CHECK(decide_retry(config, submit, 1, lost, 0.5).reason ==
        "the create request left but its answer was lost (timeout: Operation timed out after "
        "60000 milliseconds); a video may have been started and billed, so it is not "
        "resubmitted automatically");

  AttemptOutcome bad = http(400, true);
  bad.detail = "Invalid value for 'seconds'";
  CHECK(decide_retry(config, submit, 1, bad, 0.5).reason ==
        "submit failed: HTTP 400: Invalid value for 'seconds'");

  CHECK(decide_retry(config, poll, 4, net(TF::connection_lost), 0.5).reason ==
        "poll failed 4 times; last error: connection_lost");
  CHECK(decide_retry(config, download, 1, net(TF::sink_failed), 0.5).reason ==
        "could not write the video to disk (sink_failed)");
}

TEST_CASE("retry policy: full jitter stays inside [0, min(max, base*2^(n-1)))", "[engine]") {
  const RetryConfig config = small_config();   // base 1000, max 8000
  const Millis ceilings[] = {1000, 2000, 4000, 8000, 8000, 8000};
  for (int attempts = 1; attempts <= 6; ++attempts) {
    Millis ceiling = ceilings[attempts - 1];
    RetryConfig many = config;
    many.poll_attempts = 100;
    for (double r : {0.0, 0.5, 0.999}) {
      INFO("attempts " << attempts << " random01 " << r);
      auto d = decide_retry(many, poll, attempts, net(TF::timeout), r);
      REQUIRE(d.verdict == Verdict::retry);
      CHECK(d.delay_ms >= 0);
      CHECK(d.delay_ms < ceiling);
      CHECK(d.delay_ms <= static_cast<Millis>(r * static_cast<double>(ceiling)) + 1);
      CHECK(d.delay_ms >= static_cast<Millis>(r * static_cast<double>(ceiling)) - 1);
    }
    CHECK(decide_retry(many, poll, attempts, net(TF::timeout), 0.0).delay_ms == 0);
    CHECK(decide_retry(many, poll, attempts, net(TF::timeout), 0.5).delay_ms == ceiling / 2);
  }
  // Very many attempts: no overflow, still capped.
  RetryConfig many = config;
  many.poll_attempts = 1000;
  CHECK(decide_retry(many, poll, 500, net(TF::timeout), 0.999).delay_ms <= 8000);
  CHECK(decide_retry(many, poll, 500, net(TF::timeout), 0.999).delay_ms >= 7990);
}

TEST_CASE("retry policy: Retry-After is honoured and capped at max_delay", "[engine]") {
  const RetryConfig config = small_config();
  CHECK(decide_retry(config, submit, 1, http(429, true, 7999), 0.1).delay_ms == 7999);
  CHECK(decide_retry(config, submit, 1, http(429, true, 8000), 0.1).delay_ms == 8000);
  CHECK(decide_retry(config, submit, 1, http(429, true, 600000), 0.1).delay_ms == 8000);
  CHECK(decide_retry(config, poll, 1, http(503, false, 60000), 0.1).delay_ms == 8000);
  CHECK(decide_retry(config, submit, 1, http(429, true, 0), 0.9).delay_ms == 0);
  // The hint replaces the jitter: the same for every random01.
  CHECK(decide_retry(config, poll, 3, http(429, true, 1234), 0.0).delay_ms == 1234);
  CHECK(decide_retry(config, poll, 3, http(429, true, 1234), 0.999).delay_ms == 1234);
}

namespace {

HttpResponse with_headers(std::vector<HttpHeader> headers) {
  HttpResponse r;
  r.status = 429;
  r.headers = std::move(headers);
  return r;
}

constexpr Millis k_date_now = 1445412480000;  // Wed, 21 Oct 2015 07:28:00 GMT

}  // namespace

TEST_CASE("parse_retry_after: the accepted forms", "[engine]") {
  struct Case {
    std::vector<HttpHeader> headers;
    std::optional<Millis> expected;
  };
  const std::vector<Case> cases = {
      {{{"retry-after-ms", "1500"}}, 1500},
      {{{"retry-after-ms", "1500.7"}}, 1500},
      {{{"retry-after-ms", "0"}}, 0},
      {{{"retry-after", "2"}}, 2000},
      {{{"retry-after", "1.5"}}, 1500},
      {{{"retry-after", "0"}}, 0},
      {{{"retry-after", "120"}}, 120000},
      // retry-after-ms wins over Retry-After.
      {{{"retry-after", "9"}, {"retry-after-ms", "250"}}, 250},
      // unusable retry-after-ms falls through to Retry-After.
      {{{"retry-after-ms", "soon"}, {"retry-after", "3"}}, 3000},
      {{{"retry-after-ms", "-5"}, {"retry-after", "3"}}, 3000},
      // HTTP dates, relative to now; a past date means now.
      {{{"retry-after", "Wed, 21 Oct 2015 07:28:30 GMT"}}, 30000},
      {{{"retry-after", "Wed, 21 Oct 2015 08:28:00 GMT"}}, 3600000},
      {{{"retry-after", "Wed, 21 Oct 2015 07:27:00 GMT"}}, 0},
      // garbage
      {{}, std::nullopt},
      {{{"retry-after", ""}}, std::nullopt},
      {{{"retry-after", "soon"}}, std::nullopt},
      {{{"retry-after", "5s"}}, std::nullopt},
      {{{"retry-after", "-5"}}, std::nullopt},
      {{{"retry-after", "Wed, 99 Foo 2015"}}, std::nullopt},
      {{{"retry-after-ms", "soon"}}, std::nullopt},
      {{{"x-retry-after", "5"}}, std::nullopt},
  };
  for (const Case& c : cases) {
    std::string text;
    for (const auto& h : c.headers) text += h.name + ": " + h.value + "; ";
    INFO(text);
    auto got = parse_retry_after(with_headers(c.headers), k_date_now);
    CHECK(got.has_value() == c.expected.has_value());
    if (got && c.expected) {
      CHECK(*got == *c.expected);
    }
  }
}

// Regression test (bug found and fixed): src/engine/retry_policy.cpp parse_retry_after casts an unbounded double to Millis
// (`static_cast<Millis>(v)`, `static_cast<Millis>(secs * 1000.0)`): "1e300" or "inf" is
// undefined behaviour and yields INT64_MIN on x86, i.e. a negative wait.
TEST_CASE("parse_retry_after: absurd values never give a negative wait", "[engine]") {
  for (const char* header : {"retry-after-ms", "retry-after"}) {
    for (const char* value : {"1e300", "inf", "1e19"}) {
      INFO(header << ": " << value);
      auto got = parse_retry_after(with_headers({{header, value}}), k_date_now);
      if (got) {
        CHECK(*got >= 0);
      }
    }
  }
}

TEST_CASE("outcome_of: a transport failure", "[engine]") {
  HttpResult r;
  r.failure = TransportFailure::timeout;
  r.error_text = "Operation timed out";
  r.response.status = 200;   // half-read answer: the failure decides
  r.response.headers = {{"retry-after", "5"}};
  auto o = outcome_of(r, 0);
  CHECK(o.transport == TransportFailure::timeout);
  CHECK(o.http_status == 0);
  CHECK(o.detail == "Operation timed out");
  CHECK_FALSE(o.retry_after_ms.has_value());
  CHECK_FALSE(o.json_error_body);
}

TEST_CASE("outcome_of: an HTTP error answer", "[engine]") {
  HttpResult r;
  r.response.status = 429;
  r.response.headers = {{"retry-after-ms", "2500"}, {"content-type", "application/json"}};
  r.response.body =
      R"({"error":{"message":"Rate limit reached for sora-2","type":"requests","code":"rate_limit_exceeded"}})";
  auto o = outcome_of(r, 0);
  CHECK(o.transport == TransportFailure::none);
  CHECK(o.http_status == 429);
  CHECK(o.json_error_body);
  CHECK(o.detail == "Rate limit reached for sora-2");
  REQUIRE(o.retry_after_ms.has_value());
  CHECK(*o.retry_after_ms == 2500);
  CHECK(decide_retry(small_config(), submit, 1, o, 0.5).verdict == Verdict::retry);
}

TEST_CASE("outcome_of: bodies that are not a JSON error envelope", "[engine]") {
  struct Case {
    const char* body;
    bool json_error;
    const char* detail;
  };
  const Case cases[] = {
      {"<html><body>502 Bad Gateway</body></html>", false, ""},
      {"", false, ""},
      {R"({"message":"upstream busy"})", false, ""},
      {R"([{"error":{"message":"x"}}])", false, ""},
      {R"({"error":"overloaded"})", true, ""},
      {R"({"error":{"message":42}})", true, ""},
      {R"({"error":{"message":"boom"})", false, ""},   // truncated JSON
  };
  for (const Case& c : cases) {
    INFO(c.body);
    HttpResult r;
    r.response.status = 502;
    r.response.body = c.body;
    auto o = outcome_of(r, 0);
    CHECK(o.http_status == 502);
    CHECK(o.json_error_body == c.json_error);
    CHECK(o.detail == c.detail);
  }
  // The detail is bounded.
  HttpResult r;
  r.response.status = 500;
  r.response.body = R"({"error":{"message":")" + std::string(1000, 'x') + R"("}})";
  CHECK(outcome_of(r, 0).detail == std::string(300, 'x'));
}

TEST_CASE("retry policy: phase names", "[engine]") {
  CHECK(std::string(to_string(RequestPhase::submit)) == "submit");
  CHECK(std::string(to_string(RequestPhase::poll)) == "poll");
  CHECK(std::string(to_string(RequestPhase::download)) == "download");
}
