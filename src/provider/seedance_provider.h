// SeedanceProvider: Doubao Seedance on Volcengine Ark / BytePlus ModelArk (native-providers.md
// section 5), direct or through a gateway (base_url up to and with /api/v3, e.g.
// "https://ark.ap-southeast.bytepluses.com/api/v3" or "https://gateway.example/seedance/api/v3").
//
// One create route, POST /contents/generations/tasks, with content [{type: text}, {type:
// image_url, role: first_frame | last_frame}], ratio (from the orientation), duration, resolution
// (small 720p, large 1080p) and watermark; queried by id: queued/running/succeeded/failed/
// cancelled/expired (expired: not finished within execution_expires_after, a failure with nothing
// made). content.video_url and all task data live 24 h; content.last_frame_url is the thumbnail.
// Errors are {error: {code, message, param, type}}; the code decides. A lost create is found in
// the listing (filter.model) by model, duration, resolution and ratio within the request's time
// window (Ark takes no client tag). The documented RPM 600 and 10 tasks at once (pro models) are
// the default limits; more are queued by Ark. Gateways' task records are read too. Images are
// http(s) URLs. Thread-safe (const methods).
#pragma once

#include "provider/video_provider.h"

namespace vb {

class SeedanceProvider final : public VideoProvider {
 public:
  explicit SeedanceProvider(ProviderConfig config);

  Dialect dialect() const override { return Dialect::seedance; }
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
  bool downloads_by_id() const override { return false; }
  std::string delivered_size(const JobSpec& spec) const override { return spec.size; }
  // The cursor is the page number.
  HttpRequest list_request(const std::string& after_id) const override;
  Result<RemotePage> parse_list(const std::string& after_id,
                                const HttpResponse& response) const override;
  bool matches(const JobSpec& spec, const std::string& job_key,
               const RemoteVideo& video) const override;
  bool can_create_characters() const override { return false; }
  HttpRequest character_request(const std::string&, const std::string&) const override {
    return {};  // never called: can_create_characters() is false
  }
  Result<std::string> parse_character(const HttpResponse&) const override;

 private:
  ProviderConfig m_config;
};

}  // namespace vb
