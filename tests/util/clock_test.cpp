#include <catch2/catch.hpp>

#include <limits>

#include "util/clock.h"

namespace vb {

TEST_CASE("format_iso8601: UTC with milliseconds, empty for no time", "[util]") {
  CHECK(format_iso8601(0).empty());
  CHECK(format_iso8601(-5).empty());
  CHECK(format_iso8601(1) == "1970-01-01T00:00:00.001Z");
  CHECK(format_iso8601(1700000000123) == "2023-11-14T22:13:20.123Z");
  CHECK(format_iso8601(4102444799999) == "2099-12-31T23:59:59.999Z");
  CHECK(format_iso8601(std::numeric_limits<Millis>::max()) == "292278994-08-17T07:12:55.807Z");
}

}  // namespace vb
