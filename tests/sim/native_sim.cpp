#include "sim/native_sim.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

namespace vidbatch::test {

namespace {

std::string base64url(const std::string& bytes) {
  static constexpr const char* k_alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(k_alphabet[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) {
    out.push_back(k_alphabet[(buffer << (6 - bits)) & 0x3f]);
  }
  return out;
}

}  // namespace

rapidjson::Document parse_body(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  INFO("body: " << body);
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

std::string member_text(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject() || !object.HasMember(name) || !object[name].IsString()) {
    return {};
  }
  return object[name].GetString();
}

std::string record_status(const rapidjson::Document& doc) {
  return doc.HasMember("data") && doc["data"].IsObject() ? member_text(doc["data"], "status") : "";
}

std::string sign_jwt(const std::string& header_json, const std::string& payload_json,
                     const std::string& secret) {
  const std::string signed_part = base64url(header_json) + "." + base64url(payload_json);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), digest,
       &length);
  return signed_part + "." + base64url(std::string(reinterpret_cast<const char*>(digest), length));
}

std::string kling_token(const std::string& access_key, const std::string& secret_key,
                        int64_t nbf_offset_s, int64_t exp_offset_s) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return sign_jwt(R"({"alg":"HS256","typ":"JWT"})",
                  R"({"iss":")" + access_key + R"(","exp":)" + std::to_string(now + exp_offset_s) +
                      R"(,"nbf":)" + std::to_string(now + nbf_offset_s) + "}",
                  secret_key);
}

std::vector<std::string> native_sim_flags(std::vector<std::string> dialect,
                                          const std::vector<std::string>& extra) {
  dialect.insert(dialect.end(), {"--video-bytes", "8192"});
  if (std::find(extra.begin(), extra.end(), "--gen-ms") == extra.end()) {
    dialect.insert(dialect.end(), {"--gen-ms", "300"});
  }
  dialect.insert(dialect.end(), extra.begin(), extra.end());
  return dialect;
}

HttpResponse post_json(const std::string& url, const std::string& body,
                       std::vector<std::string> headers) {
  HttpRequest request;
  request.method = "POST";
  request.url = url;
  request.headers = std::move(headers);
  request.headers.push_back("Content-Type: application/json");
  request.body = body;
  return http_send(request);
}

std::string poll_until(const std::string& url, const std::vector<std::string>& headers,
                       const StatusReader& status_of, const std::set<std::string>& terminal,
                       std::set<std::string>& seen) {
  std::string body;
  for (int i = 0; i < 500; ++i) {
    body = http_get(url, headers).body;
    const std::string status = status_of(parse_body(body));
    seen.insert(status);
    if (terminal.contains(status)) {
      return body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("no terminal status within 10 s from " << url << ": " << body);
  return body;
}

}  // namespace vidbatch::test
