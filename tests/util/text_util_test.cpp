#include <catch2/catch.hpp>

#include "util/text_util.h"

namespace vb {
namespace {

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps", "[util]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("jobs", "jobs") == 0);
  CHECK(edit_distance("jbos", "jobs") == 1);
  CHECK(edit_distance("promt", "prompt") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("", "abc") == 3);
}

TEST_CASE("closest_match suggests only near misses", "[util]") {
  const std::vector<std::string_view> keys = {"id", "prompt", "seconds", "size"};
  CHECK(closest_match("promtp", keys) == "prompt");
  CHECK(closest_match("second", keys) == "seconds");
  CHECK(closest_match("colour", keys) == std::nullopt);
  CHECK(closest_match("x", keys) == std::nullopt);  // two edits from "id" is not a typo of it
  CHECK(closest_match("base_delay", {"base_delay_ms", "max_delay_ms"}) == "base_delay_ms");
  CHECK(closest_match("poll", {"poll_interval_ms", "poll_attempts"}) == std::nullopt);  // ambiguous
}

TEST_CASE("UTF-8 validation rejects malformed sequences", "[util]") {
  CHECK(find_invalid_utf8("plain ascii") == std::nullopt);
  CHECK(find_invalid_utf8("caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x8E\xAC") == std::nullopt);
  CHECK(find_invalid_utf8("ab\xFF") == 2u);
  CHECK(find_invalid_utf8("\xC0\xAF") == 0u);       // overlong '/'
  CHECK(find_invalid_utf8("x\xED\xA0\x80") == 1u);  // UTF-16 surrogate
  CHECK(find_invalid_utf8("xy\xE2\x9C") == 2u);     // truncated
  CHECK(count_code_points("caf\xC3\xA9") == 4u);
}

TEST_CASE("caret lines keep tabs and count multi-byte characters once", "[util]") {
  CHECK(render_diagnostic("f:1:3", "", "msg", "\tx: 1", 3) == "f:1:3: msg\n\tx: 1\n\t ^");
  CHECK(render_diagnostic("f:1:4", "a.b", "msg", "\xC3\xA9: 1", 4) ==
        "f:1:4: a.b: msg\n\xC3\xA9: 1\n  ^");
  CHECK(render_diagnostic("f", "", "msg", "", 0) == "f: msg");
}

}  // namespace
}  // namespace vb
