#include "base64.h"

#include <cstdint>

namespace sim {

namespace {

int sextet(char c, Base64Alphabet alphabet) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  const bool url = alphabet == Base64Alphabet::url;
  if (c == (url ? '-' : '+')) {
    return 62;
  }
  if (c == (url ? '_' : '/')) {
    return 63;
  }
  return -1;
}

}  // namespace

std::optional<std::string> base64_decode(std::string_view text, Base64Alphabet alphabet) {
  if (alphabet == Base64Alphabet::standard && text.size() % 4 != 0) {
    return std::nullopt;
  }
  size_t padding = 0;
  while (!text.empty() && text.back() == '=' && padding < 2) {
    text.remove_suffix(1);
    ++padding;
  }
  if (text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int value = sextet(c, alphabet);
    if (value < 0) {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace sim
