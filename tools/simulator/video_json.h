// Renders simulator state as the JSON the real services send: the official VideoResource, the
// gateway "task" shape (seed: a dataeyes /v1/videos/{id} answer), lists, and error envelopes.
// Pure functions of their arguments.
#pragma once

#include "video_store.h"

#include <string>
#include <string_view>

namespace sim {

struct MediaUrls {
  std::string video;      // absolute URL of the MP4
  std::string thumbnail;  // absolute URL of the thumbnail
};

inline constexpr std::string_view k_failure_code = "moderation_blocked";
inline constexpr std::string_view k_failure_message =
    "Your request was blocked by our moderation system.";

// "2025-10-06T15:10:26.875Z" (UTC, millisecond precision).
std::string iso_time_ms(int64_t ms);

// Every required key of VideoResource is present; nullable ones are written as null.
std::string video_object_json(const Video& video, const VideoState& state);
std::string video_list_json(const VideoPage& page, int64_t now_ms);
// Gateway task shape: pending/processing with detail.pending_info, completed with URLs, failed.
std::string task_json(const Video& video, const VideoState& state, const MediaUrls& urls);
// What a gateway create answers: {id, status:"pending", status_update_time[, object, model,
// created_at]}.
std::string task_created_json(const Video& video, bool with_object_fields);
std::string deleted_json(const std::string& id);
std::string character_json(const Character& character);
// {"error":{"message","type","param","code"}}; empty param/code become null.
std::string error_json(std::string_view message, std::string_view type, std::string_view code = {},
                       std::string_view param = {});

}  // namespace sim
