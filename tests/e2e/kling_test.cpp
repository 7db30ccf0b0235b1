// End-to-end: the same Kling manifest (text-to-video and image-to-video) against
// `vidbatch-sim --dialect kling`, direct with a signed JWT and through a gateway in both answer
// shapes; a create whose answer is lost (by the simulator, or by the fault proxy) is found by its
// external_task_id and adopted, never created twice.
#include <catch2/catch.hpp>

#include <fstream>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

const char* k_kling_manifest =
    "batch: kl\n"
    "defaults: {model: kling-v2-6, seconds: 5, size: small}\n"
    "jobs:\n"
    "  - id: fox\n    prompt: \"A red fox crossing a snowy field\"\n"
    "  - id: lake\n    prompt: \"Mist rising from a mountain lake\"\n"
    "    orientation: portrait\n"
    "    images: [\"https://img.example/lake.png\"]\n";

const char* k_direct_toml = "[provider]\ndialect = \"kling\"\n";
const char* k_gateway_toml =
    "[provider]\ndialect = \"kling\"\nauth = \"bearer\"\napi_key_env = \"GATEWAY_API_KEY\"\n";

struct KlingVariant {
  std::string name;
  std::vector<std::string> sim_flags;
  std::string toml;
  std::string prefix;
};

// Runs the manifest; every job done from one create, the file what the simulator served.
void run_and_check(const KlingVariant& variant) {
  std::vector<std::string> flags = {"--dialect", "kling", "--gen-ms", "300", "--quiet"};
  flags.insert(flags.end(), variant.sim_flags.begin(), variant.sim_flags.end());
  SimProcess sim(flags);
  E2eFolder folder;
  folder.write_config(8, variant.toml);
  folder.set_env("KLING_ACCESS_KEY", "ak-e2e");
  folder.set_env("KLING_SECRET_KEY", "sk-e2e-secret");
  folder.set_env("GATEWAY_API_KEY", "sk-gateway");
  std::ofstream(folder.path("kling.yaml")) << k_kling_manifest;
  CommandResult result =
      folder.run({"run", folder.path("kling.yaml")}, sim.root_url() + variant.prefix);
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  auto stats = parse_json(sim.stats());
  CHECK(stats["creates_total"].GetInt() == 2);
  CHECK(stats["jwt_rejected"].GetInt() == 0);
  CHECK(stats["auth_headers_seen_on_files"].GetInt() == 0);  // the key stays at its origin
  std::map<std::string, std::string> served;
  for (const auto& v : stats["videos"].GetArray()) {
    served[v["prompt"].GetString()] = v["sha256"].GetString();
  }
  auto store = folder.open_store();
  const auto jobs = store->list_jobs({});
  REQUIRE(jobs->size() == 2);
  for (const auto& job : *jobs) {
    INFO("job " << job.spec.id);
    CHECK(job.state == JobState::done);
    CHECK(creates_for(stats, job.spec.prompt) == 1);
    CHECK(served[job.spec.prompt] == job.sha256);
    CHECK(sha256_file(job.output_path) == job.sha256);
  }
}

}  // namespace

TEST_CASE("kling: one manifest direct and through a gateway in both shapes", "[e2e][kling]") {
  const std::vector<KlingVariant> variants = {
      {"direct, signed JWT",
       {"--kling-access-key", "ak-e2e", "--kling-secret-key", "sk-e2e-secret"},
       k_direct_toml,
       ""},
      {"gateway, native answers",
       {"--gateway-prefix", "/kling", "--gateway-shape", "native", "--require-key", "sk-gateway"},
       k_gateway_toml,
       "/kling"},
      {"gateway, new-api task records",
       {"--gateway-prefix", "/kling", "--gateway-shape", "taskdto", "--require-key", "sk-gateway"},
       k_gateway_toml,
       "/kling"},
  };
  for (const auto& variant : variants) {
    DYNAMIC_SECTION(variant.name) {
      run_and_check(variant);
    }
  }
}

TEST_CASE("kling: a lost create answer is found by external_task_id, never paid twice",
          "[e2e][kling]") {
  const std::vector<std::string> keys = {"--kling-access-key", "ak-e2e", "--kling-secret-key",
                                         "sk-e2e-secret"};
  std::vector<std::string> lost = keys;
  lost.insert(lost.end(), {"--lose-create-answers", "2"});
  std::vector<std::string> reset = keys;
  reset.insert(reset.end(), {"--fault", "reset:first=2"});
  const std::vector<KlingVariant> variants = {
      {"the simulator loses both create answers", lost, k_direct_toml, ""},
      {"the fault proxy resets both create answers", reset, k_direct_toml, ""},
  };
  for (const auto& variant : variants) {
    DYNAMIC_SECTION(variant.name) {
      run_and_check(variant);
    }
  }
}
