#include "video_json.h"

#include "json_out.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace sim {

namespace {

// Keeps links valid for an hour after completion, like the secondary sources report for OpenAI.
constexpr int64_t k_expiry_s = 3600;

void put_or_null(JsonWriter& w, const char* key, std::string_view value) {
  w.Key(key);
  if (value.empty()) {
    w.Null();
  } else {
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  }
}

void put_null(JsonWriter& w, const char* key) {
  w.Key(key);
  w.Null();
}

const char* openai_status(Phase phase) {
  switch (phase) {
    case Phase::queued:
      return "queued";
    case Phase::in_progress:
      return "in_progress";
    case Phase::completed:
      return "completed";
    case Phase::failed:
      return "failed";
  }
  return "queued";
}

const char* task_status(Phase phase) {
  switch (phase) {
    case Phase::queued:
      return "pending";
    case Phase::in_progress:
      return "processing";
    case Phase::completed:
      return "completed";
    case Phase::failed:
      return "failed";
  }
  return "pending";
}

// The bare task id inside `detail` has no "<model>:" prefix, as in the seed.
std::string bare_task_id(const std::string& id) {
  const auto colon = id.find(':');
  return colon == std::string::npos ? id : id.substr(colon + 1);
}

void write_video_object(JsonWriter& w, const Video& video, const VideoState& state) {
  w.StartObject();
  put(w, "id", video.id);
  put(w, "object", "video");
  put(w, "model", video.model);
  put(w, "status", openai_status(state.phase));
  w.Key("progress");
  w.Int(state.progress);
  w.Key("created_at");
  w.Int64(video.created_ms / 1000);
  const bool done = is_terminal(state.phase);
  w.Key("completed_at");
  done ? w.Int64(state.finished_ms / 1000) : w.Null();
  w.Key("expires_at");
  state.phase == Phase::completed ? w.Int64(state.finished_ms / 1000 + k_expiry_s) : w.Null();
  put(w, "prompt", video.prompt);
  put(w, "size", video.size);
  put(w, "seconds", video.seconds);
  put_or_null(w, "remixed_from_video_id", video.remixed_from);
  w.Key("error");
  if (state.phase == Phase::failed) {
    w.StartObject();
    put(w, "code", k_failure_code);
    put(w, "message", k_failure_message);
    w.EndObject();
  } else {
    w.Null();
  }
  w.EndObject();
}

void write_moderation(JsonWriter& w, const Video& video, bool blocked) {
  w.Key("moderation_result");
  w.StartObject();
  blocked ? put(w, "code", k_failure_code) : put_null(w, "code");
  put(w, "type", blocked ? "blocked" : "passed");
  put(w, "task_id", bare_task_id(video.id));
  w.Key("is_output_rejection");
  w.Bool(blocked);
  w.Key("results_by_frame_index");
  w.StartObject();
  w.EndObject();
  w.EndObject();
}

void write_inpaint_items(JsonWriter& w, const Video& video) {
  w.Key("inpaint_items");
  w.StartArray();
  for (size_t i = 0; i < video.images.size(); ++i) {
    w.StartObject();
    put(w, "type", "image");
    put_null(w, "preset_id");
    put_null(w, "crop_bounds");
    w.Key("frame_index");
    w.Int(0);
    put_null(w, "cameo_file_id");
    put_null(w, "generation_id");
    put(w, "upload_media_id", "media_" + bare_task_id(video.id).substr(5) + std::to_string(i));
    w.Key("source_end_frame");
    w.Int(0);
    put_null(w, "uploaded_file_id");
    w.Key("source_start_frame");
    w.Int(0);
    w.EndObject();
  }
  w.EndArray();
}

void write_pending_info(JsonWriter& w, const Video& video, const VideoState& state) {
  const std::string task = bare_task_id(video.id);
  const bool failed = state.phase == Phase::failed;
  w.Key("pending_info");
  w.StartObject();
  put(w, "id", task);
  put_null(w, "seed");
  put(w, "type", "video_gen");
  put(w, "user", "user-vidbatchsimulator0000");
  put(w, "model", "sy_8");
  put(w, "title", "New Video");
  w.Key("width");
  w.Int(video.width);
  w.Key("height");
  w.Int(video.height);
  put(w, "prompt", video.prompt);
  for (const char* key : {"sdedit", "actions", "guidance"}) {
    put_null(w, key);
  }
  put(w, "status", failed ? "failed" : (state.phase == Phase::queued ? "pending" : "processing"));
  w.Key("n_frames");
  w.Int(std::atoi(video.seconds.c_str()) * 30);
  w.Key("priority");
  w.Int(2);
  put(w, "operation", "simple_compose");
  put_null(w, "preset_id");
  put(w, "created_at", iso_time_ms(video.created_ms));
  w.Key("n_variants");
  w.Int(1);
  for (const char* key : {"project_id", "request_id"}) {
    put_null(w, key);
  }
  w.Key("generations");
  w.StartArray();
  w.EndArray();
  put_null(w, "tracking_id");
  w.Key("progress_pct");
  w.Double(state.progress_pct);
  put_null(w, "remix_config");
  write_inpaint_items(w, video);
  for (const char* key : {"interpolation", "is_storyboard"}) {
    put_null(w, key);
  }
  failed ? put(w, "failure_reason", k_failure_message) : put_null(w, "failure_reason");
  put_null(w, "organization_id");
  write_moderation(w, video, failed);
  w.Key("needs_user_review");
  w.Bool(false);
  for (const char* key : {"queue_status_message", "progress_pos_in_queue"}) {
    put_null(w, key);
  }
  w.Key("num_unsafe_generations");
  w.Int(failed ? 1 : 0);
  put_null(w, "estimated_queue_wait_time");
  w.EndObject();
}

void write_input(JsonWriter& w, const Video& video) {
  w.Key("input");
  w.StartObject();
  put(w, "size", video.size);
  put(w, "model", "sy_ore");
  w.Key("images");
  w.StartArray();
  for (const auto& image : video.images) {
    w.String(image.c_str());
  }
  w.EndArray();
  put(w, "prompt", video.prompt);
  put(w, "orientation", video.orientation);
  w.EndObject();
}

void write_draft_info(JsonWriter& w, const Video& video, const MediaUrls& urls) {
  w.Key("draft_info");
  w.StartObject();
  put(w, "id", "gen_" + bare_task_id(video.id).substr(5));
  put(w, "kind", "sora_draft");
  put(w, "downloadable_url", urls.video);
  w.Key("width");
  w.Int(video.width);
  w.Key("height");
  w.Int(video.height);
  w.Key("encodings");
  w.StartObject();
  for (const char* name : {"source", "source_wm", "md"}) {
    w.Key(name);
    w.StartObject();
    put(w, "path", urls.video);
    w.EndObject();
  }
  w.Key("thumbnail");
  w.StartObject();
  put(w, "path", urls.thumbnail);
  w.EndObject();
  w.EndObject();
  w.EndObject();
}

void write_completed_task(JsonWriter& w, const Video& video, const MediaUrls& urls) {
  w.Key("width");
  w.Int(video.width);
  w.Key("height");
  w.Int(video.height);
  put(w, "video_url", urls.video);
  put(w, "thumbnail_url", urls.thumbnail);
  w.Key("detail");
  w.StartObject();
  put(w, "id", bare_task_id(video.id));
  put(w, "status", "completed");
  put(w, "url", urls.video);
  put(w, "thumbnail_url", urls.thumbnail);
  write_draft_info(w, video, urls);
  w.EndObject();
}

}  // namespace

std::string iso_time_ms(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buffer;
}

std::string video_object_json(const Video& video, const VideoState& state) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write_video_object(w, video, state);
  return buffer.GetString();
}

std::string video_list_json(const VideoPage& page, int64_t now) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "object", "list");
  w.Key("data");
  w.StartArray();
  for (const auto& video : page.items) {
    write_video_object(w, video, video_state(video, now));
  }
  w.EndArray();
  put_or_null(w, "first_id", page.items.empty() ? std::string() : page.items.front().id);
  put_or_null(w, "last_id", page.items.empty() ? std::string() : page.items.back().id);
  w.Key("has_more");
  w.Bool(page.has_more);
  w.EndObject();
  return buffer.GetString();
}

std::string task_json(const Video& video, const VideoState& state, const MediaUrls& urls) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "id", video.id);
  put(w, "status", task_status(state.phase));
  w.Key("status_update_time");
  w.Int64(state.status_update_ms);
  if (state.phase == Phase::completed) {
    write_completed_task(w, video, urls);
  } else {
    w.Key("detail");
    w.StartObject();
    put(w, "id", bare_task_id(video.id));
    write_input(w, video);
    put(w, "status", task_status(state.phase));
    write_pending_info(w, video, state);
    w.EndObject();
  }
  w.EndObject();
  return buffer.GetString();
}

std::string task_created_json(const Video& video, bool with_object_fields) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "id", video.id);
  put(w, "status", "pending");
  w.Key("status_update_time");
  w.Int64(video.created_ms);
  if (with_object_fields) {
    put(w, "object", "video");
    put(w, "model", video.model);
    w.Key("created_at");
    w.Int64(video.created_ms / 1000);
  }
  w.EndObject();
  return buffer.GetString();
}

std::string deleted_json(const std::string& id) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "id", id);
  put(w, "object", "video.deleted");
  w.Key("deleted");
  w.Bool(true);
  w.EndObject();
  return buffer.GetString();
}

std::string character_json(const Character& character) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "id", character.id);
  put(w, "name", character.name);
  w.Key("created_at");
  w.Int64(character.created_s);
  w.EndObject();
  return buffer.GetString();
}

std::string error_json(std::string_view message, std::string_view type, std::string_view code,
                       std::string_view param) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  put(w, "message", message);
  put(w, "type", type);
  put_or_null(w, "param", param);
  put_or_null(w, "code", code);
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

}  // namespace sim
