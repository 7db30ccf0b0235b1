#include "gateway_json.h"

#include "json_out.h"

namespace sim {

std::string openai_video_created_json(const Video& video, std::string_view id) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "id", id);
  put(w, "task_id", id);
  put(w, "object", "video");
  put(w, "model", video.model);
  put(w, "status", "queued");
  w.Key("progress");
  w.Int(0);
  w.Key("created_at");
  w.Int64(video.created_ms / 1000);
  w.EndObject();
  return buffer.GetString();
}

std::string task_record_json(const TaskRecord& r, bool yunwu) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "code", "success");
  put(w, "message", "");
  w.Key("data");
  w.StartObject();
  if (!yunwu) {
    w.Key("id");
    w.Int64(r.row_id);
    w.Key("created_at");
    w.Int64(r.submit_s);
    w.Key("updated_at");
    w.Int64(r.finish_s > 0 ? r.finish_s : (r.start_s > 0 ? r.start_s : r.submit_s));
  }
  put(w, "task_id", r.task_id);
  if (!yunwu) {
    put(w, "platform", r.platform);
    w.Key("user_id");
    w.Int(1);
    put(w, "group", "default");
    w.Key("channel_id");
    w.Int(1);
    w.Key("quota");
    w.Int(0);
  }
  put(w, "action", r.action);
  put(w, "status", r.status);
  put(w, "fail_reason", r.fail_reason);
  if (!yunwu && !r.result_url.empty()) {
    put(w, "result_url", r.result_url);
  }
  w.Key("submit_time");
  w.Int64(r.submit_s);
  w.Key("start_time");
  w.Int64(r.start_s);
  w.Key("finish_time");
  w.Int64(r.finish_s);
  put(w, "progress", r.progress);
  if (!yunwu) {
    w.Key("properties");
    w.Null();
  }
  w.Key("data");
  w.RawValue(r.data_json.c_str(), r.data_json.size(), rapidjson::kObjectType);
  w.EndObject();
  w.EndObject();
  return buffer.GetString();
}

TaskRecord gateway_record(const Video& video, const VideoState& state, int64_t now,
                          const PhaseWords& statuses, const PhaseWords& progress) {
  const auto phase = static_cast<size_t>(state.phase);
  const bool unseen = state.phase == Phase::queued && now - video.created_ms < video.gen_ms / 20;
  TaskRecord record;
  record.row_id = video.seq;
  record.task_id = video.public_id;
  record.status = unseen ? "NOT_START" : statuses[phase];
  record.progress = unseen ? "0%" : progress[phase];
  record.submit_s = video.created_ms / 1000;
  record.start_s = state.phase == Phase::queued ? 0 : state.started_ms / 1000;
  record.finish_s = is_terminal(state.phase) ? state.finished_ms / 1000 : 0;
  return record;
}

}  // namespace sim
