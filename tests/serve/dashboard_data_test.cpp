// [serve] The dashboard's batch document from a ledger whose transitions have known times: the
// rate and time left at a given `now`, cost so far, failures by reason, ambiguous jobs.
#include <rapidjson/document.h>

#include "serve/dashboard_data.h"
#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

namespace {

constexpr Millis k_t0 = 1764019137000;
constexpr Millis k_minute = 60000;

void apply_one(JobStore& store, Transition t) {
  auto applied = store.apply({&t, 1});
  INFO((applied ? std::string() : applied.error().describe()));
  REQUIRE(applied.has_value());
}

// queued -> submitting -> submitted (accepted at `at`, so paid for).
void submit(JobStore& store, std::int64_t row, Millis at) {
  apply_one(store, step(row, JobState::queued, JobState::submitting, at));
  Transition t = step(row, JobState::submitting, JobState::submitted, at);
  t.update.submitted_at = at;
  t.update.remote_id = "video_" + std::to_string(row);
  apply_one(store, t);
}

void finish(JobStore& store, std::int64_t row, Millis at) {
  submit(store, row, k_t0);
  apply_one(store, step(row, JobState::submitted, JobState::running, at));
  apply_one(store, step(row, JobState::running, JobState::ready, at));
  apply_one(store, step(row, JobState::ready, JobState::downloading, at));
  Transition t = step(row, JobState::downloading, JobState::done, at);
  t.update.downloaded_at = at;
  t.update.output_path = "/nonexistent/job.mp4";
  apply_one(store, t);
}

// 10 jobs of 4 s (sora-2, 1280x720): 4 done a minute apart from t0 + 1 min, 1 failed by the
// provider, 1 ambiguous, 4 queued.
std::unique_ptr<JobStore> ledger() {
  auto store = open_store(":memory:");
  REQUIRE(store->import_jobs("night", make_specs(10), k_t0, false).has_value());
  for (int i = 0; i < 4; ++i) {
    finish(*store, row_of(*store, "night", "job-" + std::to_string(i)), k_t0 + (i + 1) * k_minute);
  }
  const std::int64_t failed = row_of(*store, "night", "job-4");
  submit(*store, failed, k_t0);
  Transition t = step(failed, JobState::submitted, JobState::failed, k_t0 + k_minute);
  t.update.error_code = "moderation_blocked";
  t.update.error_message = "the prompt was refused";
  apply_one(*store, t);
  const std::int64_t lost = row_of(*store, "night", "job-5");
  apply_one(*store, step(lost, JobState::queued, JobState::submitting, k_t0));
  apply_one(*store, step(lost, JobState::submitting, JobState::ambiguous, k_t0));
  return store;
}

rapidjson::Document batch_at(JobStore& store, Millis now, const Config& config = {}) {
  auto json = batch_json(store, "night", config, now);
  INFO((json ? std::string() : json.error().describe()));
  REQUIRE(json.has_value());
  rapidjson::Document doc;
  doc.Parse(json->c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

}  // namespace

TEST_CASE("dashboard batch: rate and time left from the videos done, slowing when stalled",
          "[serve]") {
  auto store = ledger();
  // Right after the 4th video: 3 intervals in 3 minutes, 4 jobs to go.
  auto doc = batch_at(*store, k_t0 + 4 * k_minute);
  CHECK(doc["total"].GetInt() == 10);
  CHECK(doc["states"]["done"].GetInt() == 4);
  CHECK(doc["finished"].GetInt() == 5);
  CHECK(doc["remaining"].GetInt() == 4);  // the ambiguous one waits for a decision, not a rate
  CHECK(doc["rate"]["per_minute"].GetDouble() == Approx(1.0));
  CHECK(doc["rate"]["eta_s"].GetDouble() == Approx(240.0));
  const auto& series = doc["rate"]["series"];
  REQUIRE(series.Size() >= 2);
  CHECK(series[0][1].GetInt() == 1);
  CHECK(series[series.Size() - 1][1].GetInt() == 4);

  // Three minutes later with nothing new: the wait counts, the rate halves, the ETA doubles.
  doc = batch_at(*store, k_t0 + 7 * k_minute);
  CHECK(doc["rate"]["per_minute"].GetDouble() == Approx(0.5));
  CHECK(doc["rate"]["eta_s"].GetDouble() == Approx(480.0));
}

TEST_CASE("dashboard batch: cost against estimate and budget, failures, ambiguous jobs",
          "[serve]") {
  auto store = ledger();
  Config config;
  config.budget_usd = 5.0;
  const auto doc = batch_at(*store, k_t0 + 4 * k_minute, config);
  // 4 s at $0.10/s each: 10 jobs estimated, 6 accepted or possibly accepted (ambiguous).
  CHECK(doc["cost"]["estimate_usd"].GetDouble() == Approx(4.0));
  CHECK(doc["cost"]["so_far_usd"].GetDouble() == Approx(2.4));
  CHECK(doc["cost"]["budget_usd"].GetDouble() == Approx(5.0));
  REQUIRE(doc["failures"].Size() == 1);
  CHECK(std::string(doc["failures"][0]["code"].GetString()) == "moderation_blocked");
  CHECK(doc["failures"][0]["count"].GetInt() == 1);
  CHECK(std::string(doc["failures"][0]["jobs"][0].GetString()) == "job-4");
  REQUIRE(doc["ambiguous"].Size() == 1);
  CHECK(std::string(doc["ambiguous"][0]["id"].GetString()) == "job-5");
  CHECK_THAT(doc["ambiguous"][0]["todo"].GetString(),
             Catch::Contains("vidbatch resolve --resubmit --batch night job-5"));
  CHECK(doc["unclaimed"].Size() == 0);

  auto unknown = batch_json(*store, "nope", config, k_t0);
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == ErrorCode::not_found);
}

TEST_CASE("dashboard batch: a paid, unclaimed video with the adopt command that saves it",
          "[serve]") {
  auto store = ledger();
  UnclaimedVideo video;
  video.provider = "default";
  video.remote_id = "video_extra";
  video.job_row_id = row_of(*store, "night", "job-6");
  video.status = "completed";
  video.created_at = k_t0;
  video.seen_at = k_t0;
  REQUIRE(store->note_unclaimed({video}).has_value());
  const auto doc = batch_at(*store, k_t0 + 4 * k_minute);
  REQUIRE(doc["unclaimed"].Size() == 1);
  const auto& listed = doc["unclaimed"][0];
  CHECK(std::string(listed["id"].GetString()) == "job-6");
  CHECK(std::string(listed["remote_id"].GetString()) == "video_extra");
  CHECK(listed["cost_usd"].GetDouble() == Approx(0.4));
  // `vidbatch adopt` takes remote ids as arguments (cmd_adopt.cpp), nothing else.
  CHECK_THAT(listed["todo"].GetString(), Catch::Contains("`vidbatch adopt video_extra`"));
}

TEST_CASE("dashboard jobs: a generating job's progress, written without an event, shows",
          "[serve]") {
  auto store = ledger();
  const std::int64_t row = row_of(*store, "night", "job-6");
  submit(*store, row, k_t0);
  apply_one(*store, step(row, JobState::submitted, JobState::running, k_t0 + 1000));
  REQUIRE(store->note_progress(row, JobState::running, 42.0, k_t0 + 2000, std::nullopt).value());
  JobQuery query;
  query.batch = "night";
  auto json = jobs_json(*store, query, "/nonexistent");
  REQUIRE(json.has_value());
  rapidjson::Document doc;
  doc.Parse(json->c_str());
  REQUIRE_FALSE(doc.HasParseError());
  std::map<std::string, const rapidjson::Value*> progress;
  for (const auto& job : doc["jobs"].GetArray()) {
    REQUIRE(job.HasMember("progress"));
    progress[job["id"].GetString()] = &job["progress"];
  }
  REQUIRE(progress.at("job-6")->IsNumber());
  CHECK(progress.at("job-6")->GetDouble() == 42.0);
  CHECK(progress.at("job-0")->IsNull());  // done: no progress to show
  CHECK(progress.at("job-9")->IsNull());  // queued
  auto one = job_json(*store, "night", "job-6", "/nonexistent");
  REQUIRE(one.has_value());
  REQUIRE(one->has_value());
  CHECK_THAT(**one, Catch::Contains("\"progress\":42.0"));
}
