// MiniMaxProvider: MiniMax's v1 video API (Hailuo; native-providers.md section 3), direct or
// through a gateway relaying it under a prefix with the vendor's bodies (base_url =
// "https://gateway.example/minimax").
//
// Every answer is HTTP 200 with the outcome in base_resp.status_code, which classify() reads:
// 1002 slows down, 1004/2049 (the key) and 1008 (balance) stop the run, 1026/1027 are
// moderation, 2013 refuses the job. A video takes three steps: the task's query names a
// file_id once it is `Success`, the resolve step (GET /v1/files/retrieve?file_id=) turns it into
// a signed download URL valid about 9 hours, and that URL is fetched without the key. An expired
// URL is resolved again from a fresh query. MiniMax v1 has no listing: a create whose answer was
// lost is held (retry.ambiguous_policy). Images are http(s) URLs. Thread-safe (const methods).
#pragma once

#include "provider/video_provider.h"

namespace vb {

class MiniMaxProvider final : public VideoProvider {
 public:
  explicit MiniMaxProvider(ProviderConfig config);

  Dialect dialect() const override { return Dialect::minimax; }
  Status check(const JobSpec& spec) const override;
  AnswerClass classify(RequestPhase phase, const HttpResult& result, Millis now) const override;
  Result<HttpRequest> create_request(const JobSpec& spec,
                                     const CreateContext& context) const override;
  Result<CreateAnswer> parse_create(const HttpResponse& response) const override;
  HttpRequest query_request(const JobSpec& spec, const std::string& remote_id) const override;
  Result<RemoteStatus> parse_query(const HttpResponse& response) const override;
  std::optional<HttpRequest> resolve_request(const RemoteStatus& status) const override;
  Result<RemoteStatus> parse_resolve(const HttpResponse& response,
                                     RemoteStatus status) const override;
  HttpRequest download_request(const std::string& remote_id,
                               const RemoteStatus& status) const override;
  std::optional<HttpRequest> thumbnail_request(const std::string&,
                                               const RemoteStatus&) const override {
    return std::nullopt;  // MiniMax has no cover image
  }
  Result<std::string> parse_content_redirect(std::string_view json_body) const override;
  bool can_list() const override { return false; }
  bool downloads_by_id() const override { return false; }
  // small / large: a class of sizes; the provider picks the pixels (probe/verify_rules.h).
  std::string delivered_size(const JobSpec& spec) const override { return spec.size; }
  HttpRequest list_request(const std::string&) const override {
    return {};  // never called: can_list() is false
  }
  Result<RemotePage> parse_list(const std::string& after_id,
                                const HttpResponse& response) const override;
  bool matches(const JobSpec&, const std::string&, const RemoteVideo&) const override {
    return false;
  }
  bool can_create_characters() const override { return false; }
  HttpRequest character_request(const std::string&, const std::string&) const override {
    return {};  // never called: can_create_characters() is false
  }
  Result<std::string> parse_character(const HttpResponse&) const override;

 private:
  ProviderConfig m_config;
};

}  // namespace vb
