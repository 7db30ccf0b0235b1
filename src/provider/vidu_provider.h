// ViduProvider: ShengShu's Vidu API (native-providers.md section 4), direct with
// `Authorization: Token KEY` or through a gateway (auth = "bearer",
// base_url = "https://gateway.example/vidu").
//
// The job chooses the create route: no image text2video, one image img2video (the first frame),
// two images start-end2video (first and last frame), reference_images (1 to 7 pictures of the
// subjects, on viduq2, viduq1 or vidu2.0) reference2video. Every create carries payload = job_key
// (batch/job), which the task query echoes; a lost create is found in the task listing by the
// tag where the listing shows it, else by prompt, model and duration within the request's time
// window. Queried on /ent/v2/tasks/{id}/creations: created/queueing/processing/success/failed
// with err_code, creations[0].url (the video) and cover_url (its thumbnail), valid 24 h. Errors
// are {code, reason, message}; the reason decides. At most 5 tasks run at once per organisation
// (the rest queue): the default in-flight cap. Gateways' task records are read too. Images are
// http(s) URLs. Thread-safe (const methods).
#pragma once

#include "provider/video_provider.h"

namespace vb {

class ViduProvider final : public VideoProvider {
 public:
  explicit ViduProvider(ProviderConfig config);

  Dialect dialect() const override { return Dialect::vidu; }
  Status check(const JobSpec& spec) const override;
  bool takes_reference_images() const override { return true; }
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
  // The cursor is the listing's next_page_token.
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

  // "text2video", "img2video", "start-end2video" or "reference2video": the create route of a job.
  static std::string_view route(const JobSpec& spec);

 private:
  ProviderConfig m_config;
};

}  // namespace vb
