// End-to-end: every downloaded video is probed and compared with its request (output.verify),
// against the simulator's honest and dishonest MP4s ([[short]], [[small]], [[garbage]],
// [[silent]]); the verdict reaches the ledger, the sidecar, every report and `status`; "fail"
// fails those jobs and nothing is generated again until `retry --mismatched`; `vidbatch verify`
// finds files deleted, truncated or changed after the run.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

// job-0 and job-5 honest; audio is not asked for, so a silent video (job-4) matches.
const std::map<int, std::string> k_prompts = {{1, "A short one [[short]]"},
                                              {2, "A small one [[small]]"},
                                              {3, "Not a video [[garbage]]"},
                                              {4, "A silent one [[silent]]"}};
const std::map<std::string, std::string> k_expected = {{"job-0", "ok"},
                                                       {"job-1", "duration_short"},
                                                       {"job-2", "resolution_mismatch"},
                                                       {"job-3", "not_a_video"},
                                                       {"job-4", "ok"},
                                                       {"job-5", "ok"}};

// The CSV report's verify column by job id (no field of this run holds a comma or a quote
// before that column, so splitting on commas up to it is exact).
std::map<std::string, std::string> verify_column(const std::string& csv) {
  std::istringstream lines(csv);
  std::string line;
  std::getline(lines, line);
  REQUIRE(line.find(",unclaimed,verify,verify_detail") != std::string::npos);
  std::map<std::string, std::string> verdicts;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::string field;
    std::istringstream cells(line);
    while (std::getline(cells, field, ',')) {
      fields.push_back(field);
    }
    REQUIRE(fields.size() >= 19);
    verdicts[fields[1]] = fields[18];
  }
  return verdicts;
}

// Six jobs of `seconds`, odd ones portrait, prompts from k_prompts.
std::string write_dishonest_manifest(const E2eFolder& folder, const std::string& batch,
                                     int seconds) {
  std::ostringstream yaml;
  yaml << "batch: " << batch << "\ndefaults: {model: sora-2, seconds: " << seconds
       << ", size: small}\njobs:\n";
  for (int i = 0; i < 6; ++i) {
    const auto it = k_prompts.find(i);
    yaml << "  - id: job-" << i << "\n    prompt: \""
         << (it == k_prompts.end() ? "An honest one number " + std::to_string(i) : it->second)
         << "\"\n"
         << (i % 2 == 1 ? "    orientation: portrait\n" : "");
  }
  const std::string file = folder.path(batch + ".yaml");
  std::ofstream(file) << yaml.str();
  return file;
}

// Each dishonest prompt was generated once; `mismatched_copies` times for those whose video
// does not match (a retry --mismatched makes them again).
std::vector<JobRecord> all_jobs(JobStore& store) {
  auto jobs = store.list_jobs({});
  REQUIRE(jobs.has_value());
  return std::move(*jobs);
}

void check_creates(const SimProcess& sim, int mismatched_copies = 1) {
  const auto stats = parse_json(sim.stats());
  for (const auto& [index, prompt] : k_prompts) {
    INFO(prompt);
    const bool mismatched = k_expected.at("job-" + std::to_string(index)) != "ok";
    CHECK(creates_for(stats, prompt) == (mismatched ? mismatched_copies : 1));
  }
}

}  // namespace

TEST_CASE("verify warn: dishonest videos are done, and every report says what came",
          "[e2e][verify]") {
  const bool unified = GENERATE(false, true);
  INFO((unified ? "unified dialect (sizes by class)" : "openai dialect (exact sizes)"));
  SimProcess sim({"--gen-ms", "100", "--quiet"});
  E2eFolder folder;
  folder.write_config(16, unified ? "[provider]\ndialect = \"unified\"\n" : "");
  const int seconds = unified ? 10 : 4;  // what each dialect takes for sora-2
  const std::string manifest = write_dishonest_manifest(folder, "honest", seconds);
  CommandResult run = folder.run({"run", manifest}, sim.base_url());
  INFO(run.err);
  REQUIRE(run.exit_code == 0);  // warn: a mismatch is recorded, the job is done
  check_creates(sim);

  auto store = folder.open_store();
  for (const auto& job : all_jobs(*store)) {
    INFO(job.spec.id);
    CHECK(job.state == JobState::done);
    CHECK(job.check.verdict == k_expected.at(job.spec.id));
    CHECK(job.check.checked_at > 0);
  }
  const auto short_job = store->find_job("honest", "job-1").value().value();
  CHECK(short_job.check.probed);
  CHECK(short_job.check.duration_ms == seconds * 500);
  CHECK(short_job.check.mismatches == "asked for " + std::to_string(seconds) + " s, got a " +
                                          std::to_string(seconds / 2) +
                                          " s video (tolerance 0.5 s)");
  const auto silent = store->find_job("honest", "job-4").value().value();
  CHECK_FALSE(silent.check.has_audio);
  CHECK(store->find_job("honest", "job-0").value()->check.has_audio);

  // The sidecar carries the same verdict and probe.
  const auto sidecar = parse_json(read_file(folder.out() + "/honest/job-2.json"));
  CHECK(std::string(sidecar["verify"]["verdict"].GetString()) == "resolution_mismatch");
  // job-2 is landscape: 1280x720 (openai) or 640x352 (unified small), halved.
  CHECK(sidecar["verify"]["probe"]["width"].GetInt() == (unified ? 320 : 640));

  CommandResult csv = folder.run({"report", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(verify_column(csv.out) == k_expected);

  CommandResult json = folder.run({"report", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  const auto doc = parse_json(json.out);
  CHECK(doc["summary"]["videos_verified"].GetInt() == 6);
  CHECK(doc["summary"]["videos_mismatched"].GetInt() == 3);
  for (const auto& job : doc["jobs"].GetArray()) {
    const std::string id = job["id"].GetString();
    CHECK(std::string(job["verify"].GetString()) == k_expected.at(id));
  }

  CommandResult jsonl = folder.run({"report", "--format", "jsonl"});
  REQUIRE(jsonl.exit_code == 0);
  CHECK_THAT(jsonl.out, Catch::Contains("\"verify\":\"not_a_video\""));

  CommandResult html = folder.run({"report", "--format", "html"});
  REQUIRE(html.exit_code == 0);
  CHECK_THAT(html.out, Catch::Contains("<span class=\"badge off\""));
  CHECK_THAT(html.out, Catch::Contains(">duration_short</span>"));
  CHECK_THAT(html.out, Catch::Contains(">verified</span>"));

  CommandResult status = folder.run({"status", "--json"});
  REQUIRE(status.exit_code == 0);
  const auto counts = parse_json(status.out);
  CHECK(counts["mismatched"]["total"].GetInt() == 3);
  CHECK(counts["mismatched"]["batches"]["honest"].GetInt() == 3);
  CommandResult text = folder.run({"status"});
  CHECK_THAT(text.out, Catch::Contains("3 video(s) do not match what was asked"));

  // A run again generates nothing: a mismatch is never regenerated on its own.
  CommandResult again = folder.run({"resume"}, sim.base_url());
  CHECK(again.exit_code == 0);
  check_creates(sim);

  // The user's call: the cost first, then the three are queued and made again.
  CommandResult retry = folder.run({"retry", "--mismatched", "--batch", "honest"});
  INFO(retry.err);
  REQUIRE(retry.exit_code == 0);
  CHECK_THAT(retry.out, Catch::Contains("3 video(s) not matching their request to generate again: "
                                        "estimated " +
                                        std::string(unified ? "$3.00" : "$1.20")));
  for (const char* id : {"job-1", "job-2", "job-3"}) {
    const auto job = store->find_job("honest", id).value().value();
    CHECK(job.state == JobState::queued);
    CHECK_FALSE(job.check.checked());
  }
  CHECK(store->find_job("honest", "job-0").value()->state == JobState::done);
  CommandResult resumed = folder.run({"resume"}, sim.base_url());
  CHECK(resumed.exit_code == 0);
  check_creates(sim, 2);  // the markers stay in the prompts: still dishonest
  require_consistent_events(*store);
}

TEST_CASE("verify fail: mismatched jobs fail with verify_mismatch and are not made again",
          "[e2e][verify]") {
  SimProcess sim({"--gen-ms", "100", "--quiet"});
  E2eFolder folder;
  folder.write_config(16, "[output]\nverify = \"fail\"\n");
  const std::string manifest = write_dishonest_manifest(folder, "strict", 4);
  CommandResult run = folder.run({"run", manifest}, sim.base_url());
  INFO(run.err);
  REQUIRE(run.exit_code == 1);
  check_creates(sim);

  auto store = folder.open_store();
  for (const auto& job : all_jobs(*store)) {
    INFO(job.spec.id);
    const bool honest = k_expected.at(job.spec.id) == "ok";
    CHECK(job.state == (honest ? JobState::done : JobState::failed));
    CHECK(job.check.verdict == k_expected.at(job.spec.id));
    if (!honest) {
      CHECK(job.error_code == "verify_mismatch");
      CHECK_THAT(job.error_message, Catch::StartsWith("the video does not match its request: "));
      CHECK(std::filesystem::exists(job.output_path));  // kept, for the user to look at
    }
  }
  CHECK(store->find_job("strict", "job-1").value()->error_message ==
        "the video does not match its request: asked for 4 s, got a 2 s video (tolerance 0.5 s)");

  CommandResult again = folder.run({"resume"}, sim.base_url());
  CHECK(again.exit_code == 1);
  check_creates(sim);

  CommandResult status = folder.run({"status", "--json"});
  CHECK(parse_json(status.out)["mismatched"]["total"].GetInt() == 3);
  CommandResult retry = folder.run({"retry", "--mismatched"});
  REQUIRE(retry.exit_code == 0);
  CHECK_THAT(retry.out, Catch::Contains("estimated $1.20"));
  CHECK(store->find_job("strict", "job-3").value()->state == JobState::queued);
}

TEST_CASE("vidbatch verify finds deleted, truncated and modified videos", "[e2e][verify]") {
  SimProcess sim({"--gen-ms", "100", "--quiet", "--video-bytes", "200000"});
  E2eFolder folder;
  const std::string manifest = folder.write_manifest("tree", 5, {{4, "Short [[short]]"}});
  REQUIRE(folder.run({"run", manifest}, sim.base_url()).exit_code == 0);
  const auto path = [&](int i) { return folder.out() + "/tree/job-" + std::to_string(i) + ".mp4"; };

  // Right after the run: only the mismatch recorded at download is off.
  CommandResult clean = folder.run({"verify", "--json"});
  INFO(clean.err);
  CHECK(clean.exit_code == 1);
  auto doc = parse_json(clean.out);
  CHECK(doc["checked"].GetInt() == 5);
  CHECK(doc["off"].GetInt() == 1);
  CHECK(doc["jobs"][0]["known_mismatch"].GetBool());
  CHECK(folder.run({"verify", "--batch", "tree", "--json"}).exit_code == 1);

  std::filesystem::resize_file(path(1), 100000);  // truncated
  {
    std::fstream file(path(2), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(150000);
    file.put('\x5a');  // modified in place, same size
  }
  std::filesystem::remove(path(3));  // deleted

  CommandResult after = folder.run({"verify", "--json"});
  INFO(after.out);
  CHECK(after.exit_code == 1);
  doc = parse_json(after.out);
  CHECK(doc["checked"].GetInt() == 5);
  CHECK(doc["ok"].GetInt() == 1);
  CHECK(doc["off"].GetInt() == 4);
  std::map<std::string, std::string> codes;
  for (const auto& job : doc["jobs"].GetArray()) {
    std::string joined;
    for (const auto& problem : job["problems"].GetArray()) {
      joined += (joined.empty() ? "" : ",") + std::string(problem["code"].GetString());
    }
    codes[job["id"].GetString()] = joined;
  }
  CHECK(codes["job-1"] == "size_changed,truncated");  // its headers describe the missing bytes
  CHECK(codes["job-2"] == "sha256_changed");
  CHECK(codes["job-3"] == "missing");
  CHECK(codes["job-4"] == "duration_short");

  CommandResult text = folder.run({"verify"});
  CHECK(text.exit_code == 1);
  CHECK_THAT(text.out, Catch::Contains("tree/job-3: " + path(3) + ": missing: the file is gone"));
  CHECK_THAT(text.out, Catch::Contains("checked 5 video(s) in "));
  CHECK_THAT(text.out, Catch::Contains(": 1 ok, 4 off (1 already recorded"));

  CommandResult bad = folder.run({"verify", "--db", folder.path("nope.db")});
  CHECK(bad.exit_code == 2);
}
