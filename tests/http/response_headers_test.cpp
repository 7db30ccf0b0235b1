// [http] parse_retry_after: the forms servers send, and values that must not hurt.
#include <catch2/catch.hpp>

#include <optional>
#include <vector>

#include "http/response_headers.h"

using namespace vb;

namespace {

HttpResponse with_headers(std::vector<HttpHeader> headers) {
  HttpResponse r;
  r.status = 429;
  r.headers = std::move(headers);
  return r;
}

constexpr Millis k_date_now = 1445412480000;  // Wed, 21 Oct 2015 07:28:00 GMT

}  // namespace

TEST_CASE("parse_retry_after: the accepted forms", "[http]") {
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

// Regression test (bug found and fixed): src/http/retry_after.cpp parse_retry_after casts an
// unbounded double to Millis
// (`static_cast<Millis>(v)`, `static_cast<Millis>(secs * 1000.0)`): "1e300" or "inf" is
// undefined behaviour and yields INT64_MIN on x86, i.e. a negative wait.
TEST_CASE("parse_retry_after: absurd values never give a negative wait", "[http]") {
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

TEST_CASE("parse_request_budget: OpenAI's x-ratelimit headers", "[http]") {
  const auto budget = parse_request_budget(with_headers({{"x-ratelimit-limit-requests", "25"},
                                                         {"x-ratelimit-remaining-requests", "0"},
                                                         {"x-ratelimit-reset-requests", "6m0s"}}));
  CHECK(budget.limit == 25.0);
  CHECK(budget.remaining == 0.0);
  CHECK(budget.reset_ms == 360000);
  const auto none = parse_request_budget(with_headers(
      {{"x-ratelimit-limit-requests", "-3"}, {"x-ratelimit-remaining-requests", "x"}}));
  CHECK_FALSE(none.limit);
  CHECK_FALSE(none.remaining);
  CHECK_FALSE(none.reset_ms);
}

TEST_CASE("parse_header_duration: Go durations and plain seconds", "[http]") {
  CHECK(parse_header_duration("20ms") == 20);
  CHECK(parse_header_duration("1s") == 1000);
  CHECK(parse_header_duration("1.5") == 1500);
  CHECK(parse_header_duration("1h2m3.5s") == 3723500);
  CHECK_FALSE(parse_header_duration(""));
  CHECK_FALSE(parse_header_duration("5x"));
  CHECK_FALSE(parse_header_duration("ms"));
  CHECK_FALSE(parse_header_duration("3m-1s"));
  CHECK(parse_header_duration("99999999h") == 24 * 3600 * 1000);  // capped at a day
}
