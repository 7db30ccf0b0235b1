// End-to-end: a character whose create lost its answer holds its jobs until
// `vidbatch resolve --character NAME --id ID | --recreate`; then `resume`
// finishes them, creating the character again only when asked to.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

const char* k_characters_route = "POST /v1/videos/characters";

CharacterRecord character(const E2eFolder& folder, const std::string& name) {
  auto store = folder.open_store();
  auto found = store->find_character("default", name);
  REQUIRE(found.has_value());
  REQUIRE(found->has_value());
  return **found;
}

// A run whose character create times out: the simulator answers after 1.5 s, the
// config gives up after 0.5 s, so the character exists at the provider but its id is lost.
void run_with_lost_character(SimProcess& sim, const E2eFolder& folder) {
  folder.write_raw_config(
      "[limits]\nmax_in_flight = 4\nsubmits_per_minute = 6000\npolls_per_second = 200\n"
      "poll_interval_ms = 100\npoll_interval_max_ms = 300\n"
      "[http]\nrequest_timeout_ms = 500\n"
      "[retry]\nbase_delay_ms = 20\nmax_delay_ms = 300\n");
  std::filesystem::create_directories(folder.path("assets"));
  std::ofstream(folder.path("assets/otter.mp4"), std::ios::binary)
      << std::string(
             "\0\0\0\x18"
             "ftypisom\0\0\x02\0isomiso2",
             24)
      << std::string(200, 'x');
  std::ofstream(folder.path("cameo.yaml"))
      << "batch: cameo\ndefaults: {model: sora-2, seconds: 4}\n"
         "characters:\n  - name: Otto\n    video: assets/otter.mp4\n"
         "jobs:\n  - id: juggle\n    prompt: \"Otto the otter juggles shells\"\n"
         "    characters: [Otto]\n";
  sim.set_faults(R"({"latency_ms": 1500})");
  CommandResult lost = folder.run({"run", folder.path("cameo.yaml")}, sim.base_url());
  INFO(lost.err);
  REQUIRE(lost.exit_code != 0);
  REQUIRE(lost.err.find("vidbatch resolve --character Otto --id ID") != std::string::npos);
  sim.set_faults(R"({"latency_ms": 0})");
  REQUIRE(character(folder, "Otto").state == CharacterState::ambiguous);
  auto store = folder.open_store();
  REQUIRE(store->find_job("cameo", "juggle").value()->state == JobState::queued);
  REQUIRE(route_count(parse_json(sim.stats()), k_characters_route) == 1);
  REQUIRE(parse_json(sim.stats())["creates_total"].GetInt() == 0);
}

void require_job_done(const E2eFolder& folder) {
  auto store = folder.open_store();
  auto job = store->find_job("cameo", "juggle").value();
  REQUIRE(job.has_value());
  INFO(job->error_code << ": " << job->error_message);
  REQUIRE(job->state == JobState::done);
  REQUIRE(std::filesystem::exists(job->output_path));
}

}  // namespace

TEST_CASE("resolve --character --id adopts the id the user found; nothing is created twice",
          "[e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  run_with_lost_character(sim, folder);

  CommandResult resolved =
      folder.run({"resolve", "--character", "Otto", "--id", "char_found_by_user"});
  INFO(resolved.err);
  REQUIRE(resolved.exit_code == 0);
  REQUIRE(resolved.out.find("set to char_found_by_user") != std::string::npos);
  CharacterRecord otto = character(folder, "Otto");
  REQUIRE(otto.state == CharacterState::created);
  REQUIRE(otto.remote_id == "char_found_by_user");

  // Once created, the character is not changed again, and says why.
  CommandResult again = folder.run({"resolve", "--character", "Otto", "--recreate"});
  REQUIRE(again.exit_code == 2);
  REQUIRE(again.err.find("already created as char_found_by_user") != std::string::npos);
  CommandResult other_id = folder.run({"resolve", "--character", "Otto", "--id", "char_x"});
  REQUIRE(other_id.exit_code == 2);
  REQUIRE(character(folder, "Otto").remote_id == "char_found_by_user");

  CommandResult resumed = folder.run({"resume"}, sim.base_url());
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  require_job_done(folder);
  auto stats = parse_json(sim.stats());
  REQUIRE(route_count(stats, k_characters_route) == 1);  // only the lost one
  REQUIRE(stats["creates_total"].GetInt() == 1);
}

TEST_CASE("resolve --character --recreate creates the character again on resume", "[e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  run_with_lost_character(sim, folder);

  CommandResult resolved = folder.run({"resolve", "--character", "Otto", "--recreate"});
  INFO(resolved.err);
  REQUIRE(resolved.exit_code == 0);
  REQUIRE(character(folder, "Otto").state == CharacterState::pending);

  CommandResult resumed = folder.run({"resume"}, sim.base_url());
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  require_job_done(folder);
  CharacterRecord otto = character(folder, "Otto");
  REQUIRE(otto.state == CharacterState::created);
  REQUIRE(otto.remote_id.starts_with("char_"));
  auto stats = parse_json(sim.stats());
  REQUIRE(route_count(stats, k_characters_route) == 2);
  REQUIRE(stats["creates_total"].GetInt() == 1);
}

TEST_CASE("resolve --character refuses unknown characters, providers and bad flags", "[e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  run_with_lost_character(sim, folder);

  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"resolve", "--character", "Ottto", "--id", "char_1"},
       "character Ottto (provider default): no such character in the ledger"},
      {{"resolve", "--character", "Otto", "--id", "char_1", "--provider", "elsewhere"},
       "the configuration has no provider named 'elsewhere'"},
      {{"resolve", "--character", "Otto"}, "choose --id ID or --recreate for the character"},
      {{"resolve", "--character", "Otto", "--id", "char 1"}, "--id: expected the character's id"},
      {{"resolve", "--character", "Otto", "--recreate", "--fail", "juggle"},
       "--character takes --id ID or --recreate"},
      {{"resolve", "--fail", "--id", "char_1", "juggle"},
       "--id, --recreate and --provider go with"},
  };
  for (const auto& c : cases) {
    CommandResult r = folder.run(c.args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.message) != std::string::npos);
  }
  // Nothing changed: still held for the user.
  REQUIRE(character(folder, "Otto").state == CharacterState::ambiguous);
}
