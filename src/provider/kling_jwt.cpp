#include "provider/kling_jwt.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace vb {

namespace {

std::string base64url(const unsigned char* data, std::size_t size) {
  static constexpr char k_alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < size; i += 3) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
    out += k_alphabet[v & 63];
  }
  if (i + 1 == size) {
    const unsigned v = data[i] << 16;
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
  } else if (i + 2 == size) {
    const unsigned v = (data[i] << 16) | (data[i + 1] << 8);
    out += k_alphabet[(v >> 18) & 63];
    out += k_alphabet[(v >> 12) & 63];
    out += k_alphabet[(v >> 6) & 63];
  }
  return out;
}

std::string base64url(const std::string& text) {
  return base64url(reinterpret_cast<const unsigned char*>(text.data()), text.size());
}

// JSON string content: the access key is the vendor's opaque text.
std::string json_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string sign_hs256_jwt(const std::string& claims_json, const std::string& secret) {
  const std::string signing_input =
      base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(claims_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &mac_size);
  return signing_input + "." + base64url(mac, mac_size);
}

KlingJwt::KlingJwt(std::string access_key, std::string secret_key)
    : m_access_key(std::move(access_key)), m_secret_key(std::move(secret_key)) {}

std::string KlingJwt::authorization(Millis now) {
  if (m_token.empty() || m_expires - now < k_renew_before_ms) {
    const Millis seconds = now / 1000;
    m_expires = now + k_lifetime_ms;
    m_token = sign_hs256_jwt(R"({"iss":")" + json_escaped(m_access_key) + R"(","exp":)" +
                                 std::to_string(seconds + k_lifetime_ms / 1000) + R"(,"nbf":)" +
                                 std::to_string(seconds - k_not_before_ms / 1000) + "}",
                             m_secret_key);
  }
  return "Bearer " + m_token;
}

}  // namespace vb
