// WanProvider: Alibaba DashScope / Model Studio's Wan video models (native-providers.md
// section 2), direct or through a gateway that relays its routes under a prefix
// (base_url = "https://gateway.example/wan").
//
// Every create is asynchronous (X-DashScope-Async: enable): text-to-video (a *-t2v model, `size`
// as "W*H") and first-frame image-to-video (*-i2v, `resolution` "720P") on the video-synthesis
// route, first+last frame (*-kf2v) on the image2video route; queried on /api/v1/tasks/{id}.
// UNKNOWN is an id DashScope does not know (expired after 24 h, another region or key): not a
// failure but RemotePhase::lost, which sends the job to the task listing (found: its status
// there; not found: held `ambiguous`), never to a new create. A lost create is
// found in the task listing by model within the request's time window (DashScope has no client
// tag). Errors are {request_id, code, message} with string codes. Gateways answer a create with an
// OpenAI video object and a query with new-api's task record; both are read. Images are http(s)
// URLs. Thread-safe (const methods).
#pragma once

#include "provider/video_provider.h"

namespace vb {

class WanProvider final : public VideoProvider {
 public:
  explicit WanProvider(ProviderConfig config);

  Dialect dialect() const override { return Dialect::wan; }
  Status check(const JobSpec& spec) const override;
  AnswerClass classify(RequestPhase phase, const HttpResult& result, Millis now) const override;
  Result<HttpRequest> create_request(const JobSpec& spec,
                                     const CreateContext& context) const override;
  Result<CreateAnswer> parse_create(const HttpResponse& response) const override;
  HttpRequest query_request(const JobSpec& spec, const std::string& remote_id) const override;
  Result<RemoteStatus> parse_query(const HttpResponse& response) const override;
  HttpRequest download_request(const std::string& remote_id,
                               const RemoteStatus& status) const override;
  std::optional<HttpRequest> thumbnail_request(const std::string&,
                                               const RemoteStatus&) const override {
    return std::nullopt;  // Wan has no cover image
  }
  Result<std::string> parse_content_redirect(std::string_view json_body) const override;
  bool can_list() const override { return true; }
  bool downloads_by_id() const override { return false; }
  std::string delivered_size(const JobSpec& spec) const override;
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
