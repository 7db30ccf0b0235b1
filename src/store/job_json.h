// The one JSON shape of a job, shared by every writer that shows a job as JSON (the JSON and
// JSON Lines reports, `jobs --json`, `status --json`, the sidecar beside each video), so that
// a script reading one reads them all. Keys, in order: batch, id, state, remote_id, model,
// size, seconds, attempts, submitted_at, completed_at, downloaded_at (ISO 8601 UTC, null when
// unknown), output_path, bytes, sha256, error_code, error_message, prompt. Callers open the
// object, add their own keys after these, and close it. Thread-safe (pure).
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string_view>

#include "store/job_store.h"

namespace vb {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void put_json_string(JsonWriter& w, std::string_view text);
// "key": "value".
void put_json_member(JsonWriter& w, const char* key, std::string_view value);
// A time as ISO 8601 UTC; 0 (unknown) as null, so that consumers can tell it from "".
void put_json_time(JsonWriter& w, Millis ms);
// The job's keys (see above), without the braces.
void put_job_fields(JsonWriter& w, const JobRecord& job);

}  // namespace vb
