// A gateway's task record (new-api's TaskDto, yunwu's merged record), the query answer of a
// native route relayed through it: {code, data: {status: NOT_START|SUBMITTED|IN_PROGRESS|
// SUCCESS|FAILURE..., progress: "50%", result_url, fail_reason, data: {the vendor's answer}}}.
// Shapes vary across deployments: every field is optional. Internal to the provider module.
#pragma once

#include <rapidjson/document.h>

#include "provider/video_provider.h"

namespace vb {

// Whether `data` (the answer's data member) is a task record rather than the vendor's body.
bool is_task_record(const rapidjson::Value& data);

// What the record itself says: phase, raw status, progress, result_url, and on failure
// fail_reason as the message with `failed_code` as the code. The vendor's inner answer is the
// caller's to read.
RemoteStatus task_record_status(const rapidjson::Value& record, const char* failed_code);

}  // namespace vb
