// ChatProvider: the gateways' chat-completions route for video models offered only that way
// (api-reference.md 2.3, "chat format"): POST {base_url}/chat/completions with stream:true. The
// answer is a stream of Server-Sent Events that stays open while the video generates: deltas of
// progress text, then a markdown link to the MP4 (or the reason it failed), then [DONE].
//
// The open stream is the only handle: there is no id to poll and no listing. So the create
// streams (streams_create): the engine reads its body as it arrives (stream_progress), the whole
// stream is the create answer (parse_create: completed with the URL, or failed), and a stream
// cut after the request left can never be reconciled: it is ambiguous, held for `vidbatch
// resolve`. The URL is the video's remote id (what a resumed run downloads from); it was read
// out of free text, so it is fetched without the key. An error event, or an HTTP error before
// the stream, is a refusal before any work only when it says so (rate limit, quota, key,
// invalid request). The route takes a model and a message: seconds and orientation are part of
// the older model names (sora_video2-landscape-15s), and nothing else can be sent.
// Thread-safe (const methods).
#pragma once

#include "provider/video_provider.h"

namespace vb {

class ChatProvider final : public VideoProvider {
 public:
  explicit ChatProvider(ProviderConfig config);

  Dialect dialect() const override { return Dialect::chat; }
  Status check(const JobSpec& spec) const override;
  AnswerClass classify(RequestPhase phase, const HttpResult& result, Millis now) const override;
  Result<HttpRequest> create_request(const JobSpec& spec,
                                     const CreateContext& context) const override;
  Result<CreateAnswer> parse_create(const HttpResponse& response) const override;
  bool streams_create() const override { return true; }
  std::optional<double> stream_progress(std::string_view lines) const override;
  HttpRequest query_request(const JobSpec&, const std::string&) const override {
    return {};  // never called: streams_create() (the engine has no status to ask)
  }
  Result<RemoteStatus> parse_query(const HttpResponse& response) const override;
  HttpRequest download_request(const std::string& remote_id,
                               const RemoteStatus& status) const override;
  std::optional<HttpRequest> thumbnail_request(const std::string&,
                                               const RemoteStatus&) const override {
    return std::nullopt;
  }
  Result<std::string> parse_content_redirect(std::string_view json_body) const override;
  // The remote id is the video's URL: a resumed run downloads from it at once.
  bool downloads_by_id() const override { return true; }
  std::string delivered_size(const JobSpec& spec) const override;
  // No listing and no characters: VideoProvider's defaults.

 private:
  ProviderConfig m_config;
};

// What a chat-completions answer says, read from its Server-Sent Events (or from one
// chat.completion object, when a gateway ignored stream:true). Exposed for the tests.
struct ChatStream {
  std::string id;         // the completion's id (chatcmpl-...)
  std::string text;       // the assistant's words: every delta's content, joined
  bool finished = false;  // a finish_reason or [DONE] arrived
  bool error = false;     // an error event {"error": {...}}
  bool text_before_error = false;
  std::string error_type;
  std::string error_code;
  std::string error_message;
};

ChatStream read_chat_stream(std::string_view body);

// The last markdown link to an http(s) URL in `text` ("[click here](https://...mp4)"), else
// the last bare http(s) URL naming an .mp4; "" when there is none.
std::string chat_video_url(std::string_view text);

}  // namespace vb
