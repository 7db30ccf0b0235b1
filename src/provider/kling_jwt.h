// KlingJwt: Kling's credentials, an HS256 JSON Web Token signed with the account's secret key:
// header {"alg":"HS256","typ":"JWT"}, claims {"iss": access key, "exp": now + 30 min, "nbf":
// now - 5 s} (native-providers.md 1.1), sent as `Authorization: Bearer <token>`. One token serves
// every request until fewer than 5 minutes of it are left; then a new one is signed. Neither
// key, nor the token, ever appears in an Error or a log. Not thread-safe (one transport asks).
#pragma once

#include <string>

#include "http/credentials.h"

namespace vb {

class KlingJwt final : public Credentials {
 public:
  static constexpr Millis k_lifetime_ms = 30 * 60 * 1000;
  static constexpr Millis k_renew_before_ms = 5 * 60 * 1000;
  static constexpr Millis k_not_before_ms = 5 * 1000;  // the vendor's clock may run behind

  KlingJwt(std::string access_key, std::string secret_key);
  std::string authorization(Millis now) override;

 private:
  std::string m_access_key;
  std::string m_secret_key;
  std::string m_token;
  Millis m_expires = 0;  // of m_token
};

// An HS256 JWT of `claims_json` (the encoded header and claims, '.', the signature), all base64url
// without padding. Pure.
std::string sign_hs256_jwt(const std::string& claims_json, const std::string& secret);

}  // namespace vb
