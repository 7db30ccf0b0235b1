// End-to-end: the real vidbatch binary against the real simulator over loopback,
// with real SQLite files. Each test checks the simulator's own counters to prove
// that no video was paid for twice.
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

std::string prompt_of(int i, const std::string& batch) {
  return "Prompt " + std::to_string(i) + " of batch " + batch;
}

// Every job done, its file's hash equal to the simulator's, a sidecar next to it.
void require_all_downloaded(JobStore& store, const rapidjson::Document& stats, int expected) {
  std::map<std::string, std::string> served;  // remote id -> sha256
  for (const auto& v : stats["videos"].GetArray()) {
    served[v["id"].GetString()] = v["sha256"].GetString();
  }
  auto jobs = store.list_jobs({});
  REQUIRE(jobs.has_value());
  REQUIRE(static_cast<int>(jobs->size()) == expected);
  for (const auto& job : *jobs) {
    INFO("job " << job.spec.id);
    REQUIRE(job.state == JobState::done);
    REQUIRE(std::filesystem::exists(job.output_path));
    REQUIRE(sha256_file(job.output_path) == job.sha256);
    REQUIRE(served.at(job.remote_id) == job.sha256);
    REQUIRE(
        std::filesystem::exists(std::filesystem::path(job.output_path).replace_extension(".json")));
    REQUIRE_FALSE(std::filesystem::exists(job.output_path + ".part"));
  }
}

}  // namespace

TEST_CASE("a batch runs end to end and a re-run creates nothing new", "[e2e]") {
  SimProcess sim({"--gen-ms", "300", "--quiet"});
  E2eFolder folder;
  std::string manifest = folder.write_manifest("alpha", 8);

  CommandResult first = folder.run({"run", manifest}, sim.base_url());
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  auto stats = parse_json(sim.stats());
  REQUIRE(stats["creates_total"].GetInt() == 8);
  for (int i = 0; i < 8; ++i) {
    REQUIRE(creates_for(stats, prompt_of(i, "alpha")) == 1);
  }
  auto store = folder.open_store();
  require_all_downloaded(*store, stats, 8);
  require_consistent_events(*store);

  CommandResult again = folder.run({"run", manifest}, sim.base_url());
  REQUIRE(again.exit_code == 0);
  REQUIRE(again.err.find("0 new, 8 already known") != std::string::npos);
  REQUIRE(parse_json(sim.stats())["creates_total"].GetInt() == 8);

  CommandResult report = folder.run({"report", "--format", "csv"});
  REQUIRE(report.exit_code == 0);
  REQUIRE(std::count(report.out.begin(), report.out.end(), '\n') == 9);  // header + 8 jobs
}

TEST_CASE("a job re-imported with a different spec is refused and nothing is written", "[e2e]") {
  SimProcess sim({"--gen-ms", "100", "--quiet"});
  E2eFolder folder;
  std::string manifest = folder.write_manifest("beta", 2);
  REQUIRE(folder.run({"run", manifest}, sim.base_url()).exit_code == 0);
  auto before = folder.open_store()->events(std::nullopt)->size();

  folder.write_manifest("beta", 2, {{1, "A different prompt"}});
  CommandResult changed = folder.run({"run", manifest}, sim.base_url());
  REQUIRE(changed.exit_code == 2);
  REQUIRE(changed.err.find("job-1") != std::string::npos);
  REQUIRE(folder.open_store()->events(std::nullopt)->size() == before);
  REQUIRE(parse_json(sim.stats())["creates_total"].GetInt() == 2);
}

TEST_CASE("SIGINT stops a run with 130 and resume finishes it without paying twice", "[e2e]") {
  SimProcess sim({"--gen-ms", "1500", "--quiet"});
  E2eFolder folder;
  folder.write_config(6);
  std::string manifest = folder.write_manifest("gamma", 20);

  auto process = folder.start({"run", manifest}, sim.base_url(), "interrupted");
  for (int i = 0; i < 200 && parse_json(sim.stats())["creates_total"].GetInt() < 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  process->send_signal(SIGINT);
  CommandResult stopped = folder.finish(*process, "interrupted");
  INFO(stopped.err);
  REQUIRE(stopped.exit_code == 130);
  int created = parse_json(sim.stats())["creates_total"].GetInt();
  REQUIRE(created < 20);  // it really stopped part-way

  CommandResult resumed = folder.run({"resume"}, sim.base_url());
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  auto stats = parse_json(sim.stats());
  REQUIRE(stats["creates_total"].GetInt() == 20);
  for (int i = 0; i < 20; ++i) {
    REQUIRE(creates_for(stats, prompt_of(i, "gamma")) == 1);
  }
  auto store = folder.open_store();
  require_all_downloaded(*store, stats, 20);
  require_consistent_events(*store);
}

TEST_CASE("a storm of 429s and 500s still completes, each video created once", "[e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet", "--rate-429", "0.3", "--rate-500", "0.2",
                  "--retry-after-ms", "50", "--seed", "7"});
  E2eFolder folder;
  // A 500 on a create holds its job ambiguous until the listing settles (60 s by default).
  folder.write_config(16, "ambiguous_settle_ms = 300\n");
  std::string manifest = folder.write_manifest("storm", 12);
  CommandResult result = folder.run({"run", manifest}, sim.base_url());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto stats = parse_json(sim.stats());
  REQUIRE(stats["faults_injected"]["429"].GetInt() > 0);
  REQUIRE(stats["faults_injected"]["500"].GetInt() > 0);
  for (int i = 0; i < 12; ++i) {
    REQUIRE(creates_for(stats, prompt_of(i, "storm")) == 1);
  }
  auto store = folder.open_store();
  require_all_downloaded(*store, stats, 12);
  require_consistent_events(*store);
}

TEST_CASE("a lost create answer is reconciled from the listing, never a second video", "[e2e]") {
  SimProcess sim({"--gen-ms", "100", "--quiet", "--lose-create-answers", "1"});
  E2eFolder folder;
  folder.write_config(1);
  std::string manifest = folder.write_manifest("lost", 3);
  CommandResult result = folder.run({"run", manifest}, sim.base_url());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto stats = parse_json(sim.stats());
  REQUIRE(stats["faults_injected"]["lost_create"].GetInt() == 1);
  REQUIRE(stats["creates_total"].GetInt() == 3);  // one each, the lost one included
  auto store = folder.open_store();
  auto job = store->find_job("lost", "job-0");
  REQUIRE((*job)->state == JobState::done);
  REQUIRE((*job)->attempt == 1);
  auto events = store->events((*job)->row_id);
  bool adopted = std::any_of(events->begin(), events->end(), [](const EventRecord& e) {
    return e.from == JobState::ambiguous && e.to == JobState::submitted;
  });
  REQUIRE(adopted);
  require_all_downloaded(*store, stats, 3);
  require_consistent_events(*store);
}

TEST_CASE("a create lost in transit is resubmitted once the listing proves it absent", "[e2e]") {
  SimProcess sim({"--gen-ms", "100", "--quiet", "--drop-creates", "1"});
  E2eFolder folder;
  folder.write_config(2, "ambiguous_settle_ms = 500\n");
  std::string manifest = folder.write_manifest("transit", 2);
  CommandResult result = folder.run({"run", manifest}, sim.base_url());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto stats = parse_json(sim.stats());
  REQUIRE(stats["faults_injected"]["dropped_create"].GetInt() == 1);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(creates_for(stats, prompt_of(i, "transit")) == 1);
  }
  auto store = folder.open_store();
  int resubmitted = 0;
  auto events = store->events(std::nullopt);  // keep the Result alive through the loop
  for (const auto& e : *events) {
    resubmitted += e.from == JobState::ambiguous && e.to == JobState::queued ? 1 : 0;
  }
  REQUIRE(resubmitted == 1);
  require_all_downloaded(*store, stats, 2);
}

TEST_CASE("provider-side failures, truncated downloads and the gateway task shape", "[e2e]") {
  SECTION("a moderated prompt fails with its reason, the others finish") {
    SimProcess sim({"--gen-ms", "100", "--quiet"});
    E2eFolder folder;
    std::string manifest = folder.write_manifest("mod", 3, {{2, "A forbidden scene [[fail]]"}});
    CommandResult result = folder.run({"run", manifest}, sim.base_url());
    REQUIRE(result.exit_code == 1);
    auto job = folder.open_store()->find_job("mod", "job-2");
    REQUIRE((*job)->state == JobState::failed);
    REQUIRE((*job)->error_code == "moderation_blocked");
    REQUIRE(folder.open_store()->find_job("mod", "job-0").value()->state == JobState::done);
  }
  SECTION("downloads cut half-way resume and verify") {
    SimProcess sim(
        {"--gen-ms", "100", "--quiet", "--truncate-downloads", "3", "--video-bytes", "300000"});
    E2eFolder folder;
    std::string manifest = folder.write_manifest("trunc", 4);
    CommandResult result = folder.run({"run", manifest}, sim.base_url());
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    auto stats = parse_json(sim.stats());
    REQUIRE(stats["faults_injected"]["truncate"].GetInt() == 3);
    require_all_downloaded(*folder.open_store(), stats, 4);
  }
  SECTION("task-shaped answers and JSON content answers") {
    SimProcess sim({"--gen-ms", "300", "--quiet", "--shape", "task", "--content-mode", "json"});
    E2eFolder folder;
    std::string manifest = folder.write_manifest("task", 4);
    CommandResult result = folder.run({"run", manifest}, sim.base_url());
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    auto store = folder.open_store();
    require_all_downloaded(*store, parse_json(sim.stats()), 4);
    REQUIRE(store->find_job("task", "job-0").value()->remote_id.starts_with("sora-2:task_"));
  }
}

TEST_CASE("a refused API key stops the run at once with a clear message", "[e2e]") {
  SimProcess sim({"--gen-ms", "100", "--quiet", "--require-key", "the-right-key"});
  E2eFolder folder;
  std::string manifest = folder.write_manifest("auth", 5);
  CommandResult result = folder.run({"run", manifest}, sim.base_url());
  REQUIRE(result.exit_code == 3);
  REQUIRE(result.err.find("refused the API key") != std::string::npos);
  auto jobs = folder.open_store()->list_jobs({});
  for (const auto& job : *jobs) {
    REQUIRE(job.state == JobState::queued);  // nothing failed one by one, nothing lost
  }
  REQUIRE(parse_json(sim.stats())["creates_total"].GetInt() == 0);
}

TEST_CASE("validate reports manifest errors with file and line, and exit 2", "[e2e]") {
  E2eFolder folder;
  std::string bad = folder.path("bad.yaml");
  std::ofstream(bad) << "batch: x\njobs:\n  - id: a\n    prompt: hi\n    seconds: eight\n";
  CommandResult result = folder.run({"validate", bad});
  REQUIRE(result.exit_code == 2);
  REQUIRE(result.err.find("bad.yaml:5:") != std::string::npos);
  REQUIRE_FALSE(std::filesystem::exists(folder.db()));
}

TEST_CASE("the unified task dialect runs a batch, downloading from the CDN without the key",
          "[e2e]") {
  SimProcess sim({"--gen-ms", "300", "--quiet"});
  E2eFolder folder;
  folder.write_config(16, "[provider]\ndialect = \"unified\"\n");
  std::string file = folder.path("unified.yaml");
  std::ofstream(file) << "batch: uni\ndefaults: {model: sora-2, seconds: 10}\njobs:\n"
                         "  - id: a\n    prompt: \"Unified one\"\n"
                         "  - id: b\n    prompt: \"Unified two\"\n    orientation: portrait\n";
  CommandResult result = folder.run({"run", file}, sim.base_url());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto stats = parse_json(sim.stats());
  REQUIRE(creates_for(stats, "Unified one") == 1);
  REQUIRE(creates_for(stats, "Unified two") == 1);
  REQUIRE(stats["auth_headers_seen_on_files"].GetInt() == 0);
  auto store = folder.open_store();
  require_all_downloaded(*store, stats, 2);
  REQUIRE(store->find_job("uni", "a").value()->remote_id.starts_with("sora-2:task_"));

  std::ofstream(file) << "batch: uni2\njobs:\n  - id: c\n    prompt: \"x\"\n    seconds: 8\n";
  CommandResult refused = folder.run({"run", file}, sim.base_url());
  REQUIRE(refused.exit_code == 2);
  REQUIRE(refused.err.find("seconds") != std::string::npos);
}

TEST_CASE("a budget stops submissions, and raising it goes on; dry-run writes nothing", "[e2e]") {
  SimProcess sim({"--gen-ms", "100", "--quiet"});
  E2eFolder folder;
  std::string manifest = folder.write_manifest("budget", 4);  // sora-2, 4 s: $0.40 each

  CommandResult dry = folder.run({"run", manifest, "--dry-run"}, sim.base_url());
  REQUIRE(dry.exit_code == 0);
  REQUIRE(dry.out.find("1.60") != std::string::npos);
  REQUIRE_FALSE(std::filesystem::exists(folder.db()));

  CommandResult capped = folder.run({"run", manifest, "--budget", "1.00"}, sim.base_url());
  INFO(capped.err);
  REQUIRE(capped.exit_code == 3);
  REQUIRE(capped.err.find("budget") != std::string::npos);
  REQUIRE(parse_json(sim.stats())["creates_total"].GetInt() == 2);
  {
    auto store = folder.open_store();
    JobFilter queued;
    queued.state = JobState::queued;
    REQUIRE(store->list_jobs(queued)->size() == 2);
  }
  CommandResult raised = folder.run({"resume", "--budget", "2.00"}, sim.base_url());
  REQUIRE(raised.exit_code == 0);
  REQUIRE(parse_json(sim.stats())["creates_total"].GetInt() == 4);
}
