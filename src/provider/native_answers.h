// What the native dialects' answers share: new-api's task record (the gateway's wrapper of a
// vendor's task), signed URLs' expiry and the vendors' UTC time strings. Internal to the
// provider module.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "provider/video_provider.h"

namespace vb {

// Whether `data` is new-api's task record ({task_id, status: SUCCESS|FAILURE|IN_PROGRESS...,
// progress: "50%", result_url, fail_reason, data: {the vendor's last answer}}) rather than a
// vendor's own task object (which names its status `vendor_status_key`).
bool is_task_record(const rapidjson::Value& data, const char* vendor_status_key);

// The record's status; a failed one gets `failed_code` and the record's fail_reason.
RemoteStatus task_record_status(const rapidjson::Value& record, const std::string& failed_code);

// The Expires=<unix seconds> of a signed URL (Alibaba OSS, MiniMax), in ms.
std::optional<Millis> url_expiry(const std::string& url);

// "2025-07-27 21:05:15.212" or "2025-01-01T15:41:31.968916Z" (UTC) in ms; nullopt otherwise.
std::optional<Millis> utc_text_millis(std::string_view text);

// A GET of a URL an answer named (a video on a CDN): marked for the key, which the transport
// attaches at the provider's origin only.
HttpRequest url_get(const std::string& url);

// The GET of the answer's thumbnail; nullopt when it names none.
std::optional<HttpRequest> thumbnail_get(const RemoteStatus& status);

// The array `key` of a listing answer; ErrorCode::protocol quoting `body` when it has none.
Result<const rapidjson::Value*> listing_items(const rapidjson::Value& doc, const char* key,
                                              std::string_view body);

// The page number a listing cursor holds: 1 for the first page ("").
int page_of(const std::string& cursor);

// An AnswerClass without a Retry-After hint.
AnswerClass answer_of(AnswerKind kind, std::string code, std::string detail);

}  // namespace vb
