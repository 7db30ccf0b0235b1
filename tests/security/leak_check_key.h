// The API key of the security tests: recognisable, so that any copy of it in an output, a log or
// a file is found by a plain search.
#pragma once

namespace vb::test {

inline constexpr const char* k_leak_check_key = "sk-LEAKCHECK-1234567890";

}  // namespace vb::test
