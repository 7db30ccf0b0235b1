// End-to-end: a MiniMax manifest (text-to-video and image-to-video) against
// `vidbatch-sim --dialect minimax`, direct and through a /minimax gateway: every answer HTTP 200,
// each video found through task -> file_id -> files/retrieve -> URL. A lost create answer is
// held `ambiguous` (MiniMax v1 cannot list), and an expired URL is resolved again, never
// generated again.
#include <catch2/catch.hpp>

#include <fstream>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

const char* k_manifest =
    "batch: mm\n"
    "defaults: {model: MiniMax-Hailuo-02, seconds: 6, size: small}\n"
    "jobs:\n"
    "  - id: fox\n    prompt: \"A red fox crossing a snowy field\"\n"
    "  - id: lake\n    prompt: \"Mist rising from a mountain lake\"\n"
    "    images: [\"https://img.example/lake.png\"]\n";

const char* k_toml = "[provider]\ndialect = \"minimax\"\n";

struct Run {
  CommandResult result;
  rapidjson::Document stats;
  std::vector<JobRecord> jobs;
  int files_as_recorded = 0;  // saved files whose hash is the ledger's (read before clean-up)
};

Run run_manifest(const std::vector<std::string>& sim_flags, const std::string& prefix = "") {
  std::vector<std::string> flags = {"--dialect", "minimax", "--gen-ms", "300", "--quiet"};
  flags.insert(flags.end(), sim_flags.begin(), sim_flags.end());
  SimProcess sim(flags);
  E2eFolder folder;
  folder.write_config(8, k_toml);
  folder.set_env("MINIMAX_API_KEY", "mm-key");
  std::ofstream(folder.path("mm.yaml")) << k_manifest;
  Run run;
  run.result = folder.run({"run", folder.path("mm.yaml")}, sim.root_url() + prefix);
  run.stats = parse_json(sim.stats());
  run.jobs = folder.open_store()->list_jobs({}).value();
  for (const auto& job : run.jobs) {
    if (job.state == JobState::done && sha256_file(job.output_path) == job.sha256) {
      run.files_as_recorded += 1;
    }
  }
  return run;
}

}  // namespace

TEST_CASE("minimax: one manifest direct and through a gateway", "[e2e][minimax]") {
  for (const std::string prefix : {"", "/minimax"}) {
    DYNAMIC_SECTION("prefix '" << prefix << "'") {
      std::vector<std::string> flags = {"--require-key", "mm-key"};
      if (!prefix.empty()) {
        flags.insert(flags.end(), {"--gateway-prefix", prefix, "--gateway-shape", "native"});
      }
      Run run = run_manifest(flags, prefix);
      INFO(run.result.out << run.result.err);
      REQUIRE(run.result.exit_code == 0);
      CHECK(run.stats["creates_total"].GetInt() == 2);
      CHECK(run.stats["file_retrieves"].GetInt() == 2);
      CHECK(run.stats["auth_headers_seen_on_files"].GetInt() == 0);
      REQUIRE(run.jobs.size() == 2);
      CHECK(run.files_as_recorded == 2);
    }
  }
}

TEST_CASE("minimax: a lost create answer is held, never sent twice", "[e2e][minimax]") {
  Run run = run_manifest({"--lose-create-answers", "2"});
  INFO(run.result.out << run.result.err);
  CHECK(run.result.exit_code != 0);
  CHECK(run.stats["creates_total"].GetInt() == 2);
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id);
    CHECK(job.state == JobState::ambiguous);
    CHECK(creates_for(run.stats, job.spec.prompt) == 1);
  }
}

TEST_CASE("minimax: an expired download URL is resolved again, not generated again",
          "[e2e][minimax]") {
  // Every signed URL is already past its Expires: each download is refused, each retry asks
  // for a fresh status and a fresh URL, until the download attempts are spent.
  Run run = run_manifest({"--url-ttl-ms", "1"});
  INFO(run.result.out << run.result.err);
  CHECK(run.stats["creates_total"].GetInt() == 2);
  CHECK(run.stats["file_retrieves"].GetInt() > 4);
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id);
    CHECK(job.state == JobState::failed);
    CHECK(creates_for(run.stats, job.spec.prompt) == 1);
  }
}
