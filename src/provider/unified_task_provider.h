// UnifiedTaskProvider: the gateways' unified task format (docs/wire-formats.md):
// POST {base}/video/create with a JSON body, GET {base}/video/query?id=
// with the id exactly as create returned it, and the video at a signed URL on
// another origin (downloaded without the API key; the transport enforces it).
// The gateways offer no listing, so an ambiguous create cannot be reconciled
// here: retry.ambiguous_policy decides (hold by default).
#pragma once

#include "provider/video_provider.h"

namespace vb {

class UnifiedTaskProvider final : public VideoProvider {
 public:
  explicit UnifiedTaskProvider(ProviderConfig config);

  Dialect dialect() const override { return Dialect::unified; }
  Status check(const JobSpec& spec) const override;
  AnswerClass classify(RequestPhase phase, const HttpResult& result, Millis now) const override;
  Result<HttpRequest> create_request(const JobSpec& spec,
                                     const CreateContext& context) const override;
  Result<CreateAnswer> parse_create(const HttpResponse& response) const override;
  HttpRequest query_request(const JobSpec& spec, const std::string& remote_id) const override;
  Result<RemoteStatus> parse_query(const HttpResponse& response) const override;
  HttpRequest download_request(const std::string& remote_id,
                               const RemoteStatus& status) const override;
  std::optional<HttpRequest> thumbnail_request(const std::string& remote_id,
                                               const RemoteStatus& status) const override;
  Result<std::string> parse_content_redirect(std::string_view json_body) const override;
  bool can_list() const override { return false; }
  bool downloads_by_id() const override { return false; }  // only the answer's signed URL
  std::string delivered_size(const JobSpec& spec) const override { return spec.size; }
  HttpRequest list_request(const std::string& after_id) const override;
  Result<RemotePage> parse_list(const std::string& after_id,
                                const HttpResponse& response) const override;
  bool matches(const JobSpec& spec, const std::string& job_key,
               const RemoteVideo& video) const override;
  bool can_create_characters() const override { return false; }
  HttpRequest character_request(const std::string& name,
                                const std::string& video_path) const override;
  Result<std::string> parse_character(const HttpResponse& response) const override;

 private:
  ProviderConfig m_config;
};

}  // namespace vb
