// OpenAiVideosProvider: the OpenAI video format (POST /videos, GET /videos/{id},
// GET /videos/{id}/content), as spoken by OpenAI and by the gateways that relay
// Sora, Veo and others (docs/wire-formats.md; the OpenAPI subset in tools/openapi/). Creates go as
// multipart/form-data like the official SDKs (seconds as a string, a local
// image as the `input_reference` file); an image URL goes as JSON
// `input_reference: {image_url}`, which multipart cannot carry.
#pragma once

#include "provider/video_provider.h"

namespace vb {

class OpenAiVideosProvider final : public VideoProvider {
 public:
  explicit OpenAiVideosProvider(ProviderConfig config);

  Dialect dialect() const override { return Dialect::openai; }
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
  bool can_list() const override { return true; }
  bool downloads_by_id() const override { return true; }
  std::string delivered_size(const JobSpec& spec) const override { return wire_size(spec); }
  HttpRequest list_request(const std::string& after_id) const override;
  Result<RemotePage> parse_list(const std::string& after_id,
                                const HttpResponse& response) const override;
  bool matches(const JobSpec& spec, const std::string& job_key,
               const RemoteVideo& video) const override;
  bool can_create_characters() const override { return true; }
  HttpRequest character_request(const std::string& name,
                                const std::string& video_path) const override;
  Result<std::string> parse_character(const HttpResponse& response) const override;

  // small/large by orientation to the OpenAI sizes; "WxH" passes through.
  static std::string wire_size(const JobSpec& spec);

 private:
  ProviderConfig m_config;
};

}  // namespace vb
