#include "kling_jwt.h"

#include "base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <rapidjson/document.h>

#include <optional>

namespace sim {

namespace {

std::optional<rapidjson::Document> decode_json_part(std::string_view part) {
  const auto text = base64_decode(part, Base64Alphabet::url);
  if (!text) {
    return std::nullopt;
  }
  rapidjson::Document doc;
  if (doc.Parse(text->c_str(), text->size()).HasParseError() || !doc.IsObject()) {
    return std::nullopt;
  }
  return doc;
}

bool signature_matches(std::string_view signed_part, std::string_view signature_b64,
                       const std::string& secret) {
  const auto signature = base64_decode(signature_b64, Base64Alphabet::url);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), digest,
       &length);
  return signature && signature->size() == length &&
         CRYPTO_memcmp(signature->data(), digest, length) == 0;
}

}  // namespace

JwtVerdict check_kling_jwt(std::string_view authorization, const std::string& access_key,
                           const std::string& secret_key, int64_t now_s) {
  constexpr std::string_view k_bearer = "Bearer ";
  if (authorization.empty() || authorization == "Bearer" || authorization == k_bearer) {
    return {1001, "Authorization is empty"};
  }
  if (!authorization.starts_with(k_bearer)) {
    return {1002, "Authorization is invalid: expected 'Bearer <token>'"};
  }
  const std::string_view token = authorization.substr(k_bearer.size());
  const auto dot1 = token.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return {1002, "Authorization is invalid: not a JWT"};
  }
  const auto header = decode_json_part(token.substr(0, dot1));
  const auto payload = decode_json_part(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!header || !payload) {
    return {1002, "Authorization is invalid: malformed JWT"};
  }
  if (!header->HasMember("alg") || !(*header)["alg"].IsString() ||
      std::string_view((*header)["alg"].GetString()) != "HS256") {
    return {1002, "Authorization is invalid: alg must be HS256"};
  }
  const auto& claims = *payload;
  if (!claims.HasMember("iss") || !claims["iss"].IsString() || !claims.HasMember("exp") ||
      !claims["exp"].IsNumber() || (claims.HasMember("nbf") && !claims["nbf"].IsNumber())) {
    return {1002, "Authorization is invalid: iss and exp are required"};
  }
  if (claims["iss"].GetString() != access_key) {
    return {1000, "Authentication failed: unknown access key"};
  }
  if (!signature_matches(token.substr(0, dot2), token.substr(dot2 + 1), secret_key)) {
    return {1002, "Authorization is invalid: signature mismatch"};
  }
  if (claims.HasMember("nbf") && now_s < static_cast<int64_t>(claims["nbf"].GetDouble())) {
    return {1003, "Authorization is not yet valid"};
  }
  if (now_s >= static_cast<int64_t>(claims["exp"].GetDouble())) {
    return {1004, "Authorization has expired"};
  }
  return {};
}

}  // namespace sim
