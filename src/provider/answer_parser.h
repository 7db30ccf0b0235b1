// Defensive reading of provider answers shared by the dialects: the official
// Video object and the gateway task shape (docs/wire-formats.md, "Answer shapes") become
// a RemoteStatus. Internal to the provider module.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string>
#include <string_view>

#include "provider/video_provider.h"

namespace vb {

// Parses a query/create answer body. Fails (ErrorCode::protocol) on non-JSON,
// a non-object, or an answer without a status word.
Result<RemoteStatus> parse_status_answer(std::string_view body);

// The id of a create answer (top-level "id", a non-empty string).
Result<std::string> parse_answer_id(std::string_view body);

// A video URL named in a JSON body: video_url, url, detail.url,
// detail.draft_info.downloadable_url, metadata.url (first non-empty, http(s) only).
std::string find_video_url(std::string_view body);

// Parses an OpenAI VideoListResource {data: [...], has_more, last_id}.
Result<RemotePage> parse_video_list(std::string_view body);

// The body as a JSON object, or ErrorCode::protocol quoting it.
Result<rapidjson::Document> parse_object(std::string_view body);

// A member of a JSON object; null when `object` is no object or lacks it.
const rapidjson::Value* json_member(const rapidjson::Value& object, const char* key);
// A string member's text; "" when absent or not a string.
std::string json_string(const rapidjson::Value& object, const char* key);

// A string member written by `w`.
void json_put(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key,
              const std::string& value);

// A native vendor's frames: at most a first and a last image, each an http(s) URL; the Error
// names `images` and the vendor.
Status check_frame_urls(const JobSpec& spec, const std::string& vendor);

// An authenticated POST of a JSON body.
HttpRequest json_post(std::string url, std::string body);

// Percent-encodes a path segment, keeping unreserved characters and ':' '@'.
std::string encode_path_segment(std::string_view text);

}  // namespace vb
