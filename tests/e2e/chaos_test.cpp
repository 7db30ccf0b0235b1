// The chaos test: a 200-job batch whose vidbatch is killed with SIGKILL at
// random moments, ten times, and resumed after each. At the end every video
// must have been generated at most once and downloaded intact, and the ledger
// must be sound and consistent with its own history.
#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <random>
#include <thread>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

TEST_CASE("kill -9 at random moments, resume each time: every video exactly once", "[e2e][chaos]") {
  constexpr int k_jobs = 200;
  constexpr int k_kills = 10;
  // Long enough generations that the batch cannot finish between two kills.
  SimProcess sim({"--gen-ms", "1500", "--quiet", "--video-bytes", "200000"});
  E2eFolder folder;
  folder.write_config(16, "ambiguous_settle_ms = 300\n");
  std::string manifest = folder.write_manifest("chaos", k_jobs);

  // Kills count from when a process can do work: a sanitizer build needs most of a second
  // just to start, and a kill before that would test nothing.
  Millis startup_ms = time_to_start(folder);
  std::mt19937 rng(Catch::rngSeed());
  std::uniform_int_distribution<Millis> delay_ms(100, 900);
  int kills = 0;
  for (int round = 0; round < k_kills; ++round) {
    std::vector<std::string> args = round == 0 ? std::vector<std::string>{"run", manifest}
                                               : std::vector<std::string>{"resume"};
    auto process = folder.start(args, sim.base_url(), "chaos" + std::to_string(round));
    if (round == 0) {
      wait_for_import(folder, *process);  // a kill before it would leave nothing to resume
    }
    auto exited = process->wait_for(std::chrono::milliseconds(startup_ms + delay_ms(rng)));
    if (!exited) {
      process->send_signal(SIGKILL);
      REQUIRE(process->wait() == 128 + SIGKILL);
      kills += 1;
    }
  }
  REQUIRE(kills >= k_kills - 1);  // the batch is far too long to finish between kills

  CommandResult last = folder.run({"resume"}, sim.base_url());
  INFO(last.err);
  REQUIRE(last.exit_code == 0);

  auto stats = parse_json(sim.stats());
  std::map<std::string, std::string> served;
  for (const auto& v : stats["videos"].GetArray()) {
    served[v["id"].GetString()] = v["sha256"].GetString();
  }
  for (const auto& entry : stats["creates_by_prompt"].GetObject()) {
    INFO("prompt " << entry.name.GetString());
    REQUIRE(entry.value.GetInt() == 1);
  }
  REQUIRE(stats["creates_total"].GetInt() == k_jobs);

  auto store = folder.open_store();
  auto jobs = store->list_jobs({});
  REQUIRE(jobs->size() == static_cast<std::size_t>(k_jobs));
  for (const auto& job : *jobs) {
    INFO("job " << job.spec.id);
    REQUIRE(job.state == JobState::done);
    REQUIRE(sha256_file(job.output_path) == job.sha256);
    REQUIRE(served.at(job.remote_id) == job.sha256);
  }
  require_consistent_events(*store);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder.out())) {
    INFO(entry.path());
    REQUIRE(entry.path().extension() != ".part");
  }
  SQLite::Database db(folder.db(), SQLite::OPEN_READONLY);
  REQUIRE(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
}
