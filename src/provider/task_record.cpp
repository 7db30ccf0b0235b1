#include "provider/task_record.h"

#include <charconv>

#include "provider/answer_parser.h"

namespace vb {

bool is_task_record(const rapidjson::Value& data) {
  return json_member(data, "status") != nullptr && json_member(data, "task_status") == nullptr;
}

RemoteStatus task_record_status(const rapidjson::Value& record, const char* failed_code) {
  RemoteStatus s;
  s.raw_status = json_string(record, "status");
  s.phase = map_status(s.raw_status);
  s.video_url = json_string(record, "result_url");
  const std::string progress = json_string(record, "progress");
  double percent = 0;
  auto [end, ec] = std::from_chars(progress.data(), progress.data() + progress.size(), percent);
  if (ec == std::errc{} && percent >= 0 && percent <= 100 && end != progress.data()) {
    s.progress = percent;
  }
  if (s.phase == RemotePhase::failed) {
    s.error_code = failed_code;
    s.error_message = json_string(record, "fail_reason");
  }
  return s;
}

}  // namespace vb
