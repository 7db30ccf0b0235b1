// Base64 (RFC 4648) decoding for the native dialects: JWT parts (base64url, no padding),
// and images sent inline (standard alphabet, padded). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sim {

enum class Base64Alphabet { standard, url };

// nullopt on a character outside the alphabet, misplaced padding or an impossible length.
// Padding is optional in the url alphabet and required (length a multiple of 4) in the standard
// one.
std::optional<std::string> base64_decode(std::string_view text, Base64Alphabet alphabet);

}  // namespace sim
