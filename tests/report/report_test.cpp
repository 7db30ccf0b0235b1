// [report] CSV, JSON and JSON Lines reports and the status summary.
#include <rapidjson/document.h>

#include <sstream>

#include "report/report.h"
#include "report/report_writers.h"
#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

namespace {

constexpr Millis k_generated_at = 1764019137123;  // 2025-11-24T21:18:57.123Z

std::unique_ptr<JobStore> store_with_jobs() {
  auto store = open_store(":memory:");
  std::vector<JobSpec> specs = make_specs(3);
  specs[1].prompt = "surf, \"big\" waves\nat dawn";
  REQUIRE(store->import_jobs("nightly", specs, 1000, false).has_value());
  Transition t = step(1, JobState::queued, JobState::submitting, 1764019137123);
  t.update.increment_attempt = true;
  REQUIRE(store->apply({&t, 1}).has_value());
  Transition lost = step(1, JobState::submitting, JobState::ambiguous, 1764019138000);
  REQUIRE(store->apply({&lost, 1}).has_value());
  return store;
}

std::string report(JobStore& store, ReportFormat format, const JobFilter& filter = {}) {
  std::ostringstream out;
  auto written = write_report(store, filter, format, out, k_generated_at);
  INFO((written ? std::string() : written.error().describe()));
  REQUIRE(written.has_value());
  return out.str();
}

std::string status(JobStore& store, bool json) {
  std::ostringstream out;
  REQUIRE(write_status(store, default_prices(), json, out).has_value());
  return out.str();
}

}  // namespace

TEST_CASE("report formats parse by name", "[report]") {
  CHECK(parse_report_format("csv") == ReportFormat::csv);
  CHECK(parse_report_format("json") == ReportFormat::json);
  CHECK(parse_report_format("jsonl") == ReportFormat::jsonl);
  CHECK_FALSE(parse_report_format("xml").has_value());
  CHECK_FALSE(parse_report_format("CSV").has_value());
}

TEST_CASE("CSV fields are quoted only when RFC 4180 needs it", "[report]") {
  using report_detail::csv_field;
  CHECK(csv_field("plain text") == "plain text");
  CHECK(csv_field("") == "");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(csv_field("cr\r") == "\"cr\r\"");
}

TEST_CASE("the CSV report has one header and one CRLF record per job", "[report]") {
  auto store = store_with_jobs();
  const std::string csv = report(*store, ReportFormat::csv);
  const std::string header =
      "batch,id,state,remote_id,model,size,seconds,attempts,submitted_at,completed_at,"
      "downloaded_at,output_path,bytes,sha256,error_code,error_message,prompt,unclaimed,verify,"
      "verify_detail\r\n";
  REQUIRE(csv.substr(0, header.size()) == header);
  CHECK_THAT(csv, Catch::Contains(
                      "nightly,job-0,ambiguous,,sora-2,small,4,1,,,,,0,,,,prompt number 0,,,\r\n"));
  CHECK_THAT(csv, Catch::Contains("nightly,job-1,queued,,sora-2,small,4,0,,,,,0,,,,"
                                  "\"surf, \"\"big\"\" waves\nat dawn\",,,\r\n"));
  // 4 records: the embedded LF of job-1 is not a record end.
  std::size_t records = 0;
  for (std::size_t at = csv.find("\r\n"); at != std::string::npos; at = csv.find("\r\n", at + 2)) {
    ++records;
  }
  CHECK(records == 4);
  CHECK(csv.ends_with("\r\n"));
}

TEST_CASE("the JSON report parses back with one entry per job", "[report]") {
  auto store = store_with_jobs();
  const std::string json = report(*store, ReportFormat::json);
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  REQUIRE(doc.IsObject());
  CHECK(std::string(doc["generated_at"].GetString()) == "2025-11-24T21:18:57.123Z");
  const auto& jobs = doc["jobs"];
  REQUIRE(jobs.IsArray());
  REQUIRE(jobs.Size() == 3);

  const auto& first = jobs[0];
  std::size_t column = 0;
  for (auto it = first.MemberBegin(); it != first.MemberEnd(); ++it, ++column) {
    REQUIRE(column < report_detail::k_columns.size());
    CHECK(std::string(it->name.GetString()) == report_detail::k_columns[column]);
  }
  CHECK(column == report_detail::k_columns.size());
  CHECK(std::string(first["state"].GetString()) == "ambiguous");
  CHECK(first["attempts"].GetInt() == 1);
  CHECK(first["seconds"].GetInt() == 4);
  CHECK(first["submitted_at"].IsNull());
  CHECK(std::string(jobs[1]["prompt"].GetString()) == "surf, \"big\" waves\nat dawn");

  SECTION("filtered by state") {
    const std::string queued = report(*store, ReportFormat::json, {std::nullopt, JobState::queued});
    rapidjson::Document filtered;
    filtered.Parse(queued.c_str());
    REQUIRE(filtered["jobs"].Size() == 2);
  }
}

TEST_CASE("the JSON Lines report has one parsable object per line", "[report]") {
  auto store = store_with_jobs();
  std::istringstream lines(report(*store, ReportFormat::jsonl));
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    CHECK(std::string(doc["batch"].GetString()) == "nightly");
    ++count;
  }
  CHECK(count == 3);
}

TEST_CASE("status counts states per batch and lists ambiguous jobs", "[report]") {
  auto store = store_with_jobs();
  REQUIRE(store->import_jobs("weekly", make_specs(1), 1000, false).has_value());

  const std::string text = status(*store, false);
  CHECK_THAT(text, Catch::Contains("queued") && Catch::Contains("ambiguous") &&
                       Catch::Contains("total") && Catch::Contains("weekly"));
  CHECK_THAT(text, Catch::Contains("nightly/job-0"));
  CHECK_THAT(text, Catch::Contains("never resubmits"));

  rapidjson::Document doc;
  const std::string json = status(*store, true);
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["batches"]["nightly"]["queued"].GetInt64() == 2);
  CHECK(doc["batches"]["nightly"]["ambiguous"].GetInt64() == 1);
  CHECK(doc["batches"]["nightly"]["done"].GetInt64() == 0);
  CHECK(doc["batches"]["nightly"]["total"].GetInt64() == 3);
  CHECK(doc["batches"]["weekly"]["total"].GetInt64() == 1);
  CHECK(doc["totals"]["queued"].GetInt64() == 3);
  CHECK(doc["totals"]["total"].GetInt64() == 4);
  REQUIRE(doc["ambiguous"].Size() == 1);
  CHECK(std::string(doc["ambiguous"][0]["id"].GetString()) == "job-0");
}

TEST_CASE("status of an empty database says so", "[report]") {
  auto store = open_store(":memory:");
  CHECK_THAT(status(*store, false), Catch::Contains("No jobs"));
  rapidjson::Document doc;
  doc.Parse(status(*store, true).c_str());
  CHECK(doc["totals"]["total"].GetInt64() == 0);
}

TEST_CASE("paid, unclaimed videos show in status and every report", "[report]") {
  auto store = store_with_jobs();
  auto job = store->find_job("nightly", "job-0");
  REQUIRE(job.has_value());
  REQUIRE(job->has_value());
  UnclaimedVideo video;
  video.provider = "default";
  video.remote_id = "video_dup1";
  video.job_row_id = (*job)->row_id;
  video.status = "completed";
  video.created_at = k_generated_at;
  video.seen_at = k_generated_at;
  REQUIRE(store->note_unclaimed({video}).has_value());

  const std::string text = status(*store, false);
  CHECK_THAT(text, Catch::Contains("1 paid, unclaimed video(s), estimated $0.40"));
  CHECK_THAT(text, Catch::Contains("nightly/job-0  remote id: video_dup1  completed  $0.40"));
  rapidjson::Document doc;
  doc.Parse(status(*store, true).c_str());
  REQUIRE(doc["unclaimed"].Size() == 1);
  CHECK(std::string(doc["unclaimed"][0]["remote_id"].GetString()) == "video_dup1");
  CHECK(doc["unclaimed"][0]["estimated_cost_usd"].GetDouble() == Approx(0.40));

  CHECK_THAT(report(*store, ReportFormat::csv),
             Catch::Contains("nightly,job-0,ambiguous,,sora-2,small,4,1,,,,,0,,,,prompt number 0,"
                             "video_dup1,,\r\n"));
  doc.Parse(report(*store, ReportFormat::json).c_str());
  CHECK(doc["summary"]["unclaimed_videos"].GetInt() == 1);
  CHECK(std::string(doc["jobs"][0]["unclaimed"].GetString()) == "video_dup1");
  CHECK(std::string(doc["unclaimed"][0]["id"].GetString()) == "job-0");
  CHECK_THAT(report(*store, ReportFormat::md), Catch::Contains("| Paid, unclaimed videos | 1"));
  CHECK_THAT(report(*store, ReportFormat::html), Catch::Contains("video_dup1"));

  // Once a job holds it, it is nobody's duplicate any more.
  Transition claim{
      (*job)->row_id, JobState::ambiguous, JobState::submitted, k_generated_at, 0, "adopted", {}};
  claim.update.remote_id = "video_dup1";
  REQUIRE(store->apply(std::vector<Transition>{claim}).has_value());
  CHECK(store->unclaimed_videos(std::nullopt)->empty());
}

TEST_CASE("a video that is not what was asked shows in status and every report", "[report]") {
  auto store = store_with_jobs();
  const JobState path[] = {JobState::queued, JobState::submitting,  JobState::submitted,
                           JobState::ready,  JobState::downloading, JobState::done};
  for (std::size_t i = 1; i < std::size(path); ++i) {
    Transition t = step(3, path[i - 1], path[i], k_generated_at);
    if (path[i] == JobState::done) {
      t.update.output_path = "out/nightly/job-2.mp4";
      t.update.check = VideoCheck{};
      t.update.check->verdict = "duration_short,resolution_mismatch";
      t.update.check->mismatches =
          "asked for 8 s, got a 4 s video\nasked for 1280x720, got 640x360";
      t.update.check->probed = true;
      t.update.check->has_video = true;
      t.update.check->video_codec = "h264";
      t.update.check->width = 640;
      t.update.check->height = 360;
      t.update.check->duration_ms = 4000;
    }
    REQUIRE(store->apply({&t, 1}).has_value());
  }

  CHECK_THAT(report(*store, ReportFormat::csv),
             Catch::Contains(",prompt number 2,,\"duration_short,resolution_mismatch\","
                             "\"asked for 8 s, got a 4 s video; asked for 1280x720, got "
                             "640x360\"\r\n"));
  rapidjson::Document doc;
  doc.Parse(report(*store, ReportFormat::json).c_str());
  CHECK(std::string(doc["jobs"][2]["verify"].GetString()) == "duration_short,resolution_mismatch");
  CHECK(std::string(doc["jobs"][0]["verify"].GetString()).empty());  // never checked
  CHECK(doc["summary"]["videos_verified"].GetInt() == 1);
  CHECK(doc["summary"]["videos_mismatched"].GetInt() == 1);
  CHECK_THAT(report(*store, ReportFormat::jsonl),
             Catch::Contains("\"verify\":\"duration_short,resolution_mismatch\""));
  const std::string md = report(*store, ReportFormat::md);
  CHECK_THAT(md, Catch::Contains("| Verified videos | 0 match what was asked, 1 do not"));
  CHECK_THAT(md, Catch::Contains("| duration_short,resolution_mismatch: asked for 8 s"));
  const std::string html = report(*store, ReportFormat::html);
  CHECK_THAT(html, Catch::Contains("<span class=\"badge off\" title=\"asked for 8 s, got a 4 s "
                                   "video; asked for 1280x720, got 640x360\">"
                                   "duration_short,resolution_mismatch</span>"));
  CHECK_THAT(html, Catch::Contains("640x360, 4.0 s, 0 fps, h264, no audio"));

  const std::string text = status(*store, false);
  CHECK_THAT(text, Catch::Contains("1 video(s) do not match what was asked (shorter, smaller or "
                                   "not a video): nightly 1."));
  doc.Parse(status(*store, true).c_str());
  CHECK(doc["mismatched"]["total"].GetInt() == 1);
  CHECK(doc["mismatched"]["batches"]["nightly"].GetInt() == 1);
}
