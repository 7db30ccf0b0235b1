#include "store/job_json.h"

namespace vb {

void put_json_string(JsonWriter& w, std::string_view text) {
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void put_json_member(JsonWriter& w, const char* key, std::string_view value) {
  w.Key(key);
  put_json_string(w, value);
}

void put_json_time(JsonWriter& w, Millis ms) {
  if (ms == 0) {
    w.Null();
  } else {
    put_json_string(w, format_iso8601(ms));
  }
}

void put_job_fields(JsonWriter& w, const JobRecord& job) {
  auto text = [&](const char* key, std::string_view value) {
    w.Key(key);
    put_json_string(w, value);
  };
  auto time = [&](const char* key, Millis value) {
    w.Key(key);
    put_json_time(w, value);
  };
  text("batch", job.batch);
  text("id", job.spec.id);
  text("state", to_string(job.state));
  text("remote_id", job.remote_id);
  text("model", job.spec.model);
  text("size", job.spec.size);
  w.Key("seconds");
  w.Int(job.spec.seconds);
  w.Key("attempts");
  w.Int(job.attempt);
  time("submitted_at", job.submitted_at);
  time("completed_at", job.completed_at);
  time("downloaded_at", job.downloaded_at);
  text("output_path", job.output_path);
  w.Key("bytes");
  w.Int64(job.bytes);
  text("sha256", job.sha256);
  text("error_code", job.error_code);
  text("error_message", job.error_message);
  text("prompt", job.spec.prompt);
}

}  // namespace vb
