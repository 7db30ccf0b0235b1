// What a new-api style gateway answers around a native task: the OpenAI video object of a create,
// and the task record of a query (new-api's TaskDto inside {code:"success", message, data}, or the
// yunwu variant with the vendor's result merged into data). Pure functions of their arguments.
#pragma once

#include "video_store.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sim {

struct TaskRecord {
  int64_t row_id = 0;    // new-api's database id (TaskDto only)
  std::string task_id;   // the id the client polls with
  std::string platform;  // TaskDto only
  std::string action;
  std::string status;    // NOT_START, SUBMITTED, QUEUED, IN_PROGRESS, SUCCESS, FAILURE, UNKNOWN
  std::string progress;  // "50%"
  std::string fail_reason;
  std::string result_url;  // omitted when empty (TaskDto only)
  int64_t submit_s = 0;
  int64_t start_s = 0;    // 0 until the task left the queue
  int64_t finish_s = 0;   // 0 until it finished
  std::string data_json;  // the raw upstream JSON (TaskDto) or the merged record (yunwu)
};

// {id, task_id, object:"video", model, status:"queued", progress:0, created_at}
std::string openai_video_created_json(const Video& video, std::string_view id);
// {code:"success", message:"", data:{...}}; `yunwu` writes only the fields of the yunwu record.
std::string task_record_json(const TaskRecord& record, bool yunwu);
// Words per Phase, in its order: queued, in_progress, completed, failed.
using PhaseWords = std::array<std::string_view, 4>;

// What a gateway records of any task: its row id and own id (public_id), the times, status and
// progress from the phase, NOT_START ("0%") for the first 5 % of the generation (before its poller
// saw the task). The dialect adds platform, action, fail_reason, result_url and data.
TaskRecord gateway_record(const Video& video, const VideoState& state, int64_t now_ms,
                          const PhaseWords& statuses, const PhaseWords& progress);

}  // namespace sim
