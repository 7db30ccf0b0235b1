// KlingProvider: Kling's own video API (native-providers.md section 1), direct or through a
// gateway that relays its routes under a prefix (base_url = "https://gateway.example/kling").
//
// A job without images is created on the text2video family path, one with images on
// image2video (first image = first frame, a second = `image_tail`), and queried on the same
// family path, which the job tells (query_request). Each create carries external_task_id =
// job_key(batch, id), and a create whose answer was lost is found by it in the family listings.
// Kling answers errors with a code in the body ({code, message, request_id}) that decides what
// they mean, not the HTTP status: 1302/1303 are limits, 1100-1102 the account, 1301 moderation.
// Gateways answer a create with an OpenAI video object and a query with new-api's task record
// ({code, data: {status, progress, result_url, fail_reason}}); both are read, and the id is
// polled exactly as the create answer gave it. Images are http(s) URLs (Kling also takes raw
// Base64; local files are refused by check()). Thread-safe (const methods).
#pragma once

#include "provider/video_provider.h"

namespace vb {

class KlingProvider final : public VideoProvider {
 public:
  explicit KlingProvider(ProviderConfig config);

  Dialect dialect() const override { return Dialect::kling; }
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
    return std::nullopt;  // Kling has no cover image
  }
  Result<std::string> parse_content_redirect(std::string_view json_body) const override;
  bool can_list() const override { return true; }
  bool downloads_by_id() const override { return false; }
  // small / large: a class of sizes; the provider picks the pixels (probe/verify_rules.h).
  std::string delivered_size(const JobSpec& spec) const override { return spec.size; }
  // The cursor is "FAMILY:PAGE": text2video pages first (partial), then image2video.
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

  // "text2video" or "image2video": the family path of a job.
  static std::string_view family(const JobSpec& spec);

 private:
  ProviderConfig m_config;
};

}  // namespace vb
