// [store] The one JSON shape of a job (store/job_json.h): keys in order, unknown times null.
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "store/job_json.h"

using namespace vb;

TEST_CASE("a job's JSON has its keys in the documented order, unknown times null", "[store]") {
  JobRecord job;
  job.batch = "b";
  job.spec.id = "j\"1";
  job.spec.prompt = "a cat\non a board";
  job.state = JobState::done;
  job.submitted_at = 1764547200000;  // 2025-12-01T00:00:00Z
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put_job_fields(w, job);
  w.EndObject();
  rapidjson::Document doc;
  doc.Parse(buffer.GetString());
  REQUIRE_FALSE(doc.HasParseError());
  const std::vector<std::string> expected =
      {"batch",   "id",       "state",        "remote_id",     "model",         "size",
       "seconds", "attempts", "submitted_at", "completed_at",  "downloaded_at", "output_path",
       "bytes",   "sha256",   "error_code",   "error_message", "prompt"};
  std::vector<std::string> keys;
  for (const auto& member : doc.GetObject()) {
    keys.push_back(member.name.GetString());
  }
  CHECK(keys == expected);
  CHECK(std::string(doc["id"].GetString()) == "j\"1");
  CHECK(std::string(doc["state"].GetString()) == "done");
  CHECK(std::string(doc["submitted_at"].GetString()) == "2025-12-01T00:00:00.000Z");
  CHECK(doc["completed_at"].IsNull());
  CHECK(std::string(doc["prompt"].GetString()) == "a cat\non a board");
}
