// End-to-end (#3): one manifest through both dialects and every answer shape,
// remix chains with an interruption in the middle, and several providers in
// one configuration, each with its own key, origin and limits.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

// Valid for both dialects: sora-2, 10 s (the gateways' length), size small.
const char* k_shared_manifest =
    "batch: shared\n"
    "defaults: {model: sora-2, seconds: 10, size: small}\n"
    "jobs:\n"
    "  - id: harbor\n    prompt: \"Fishing boats leaving a misty harbor at dawn\"\n"
    "  - id: forest\n    prompt: \"Sunlight through a pine forest after rain\"\n"
    "    orientation: portrait\n"
    "  - id: market\n    prompt: \"A night market with lanterns and steam\"\n";

struct GatewayVariant {
  std::string name;
  std::vector<std::string> sim_flags;
  std::string provider_toml;
};

// Every job done once, its file what the simulator served; returns id -> relative path.
// Keyed by prompt: a gateway's task id is not the id it keeps the video under.
std::map<std::string, std::string> check_downloads(JobStore& store,
                                                   const rapidjson::Document& stats,
                                                   const std::string& out_root) {
  std::map<std::string, std::string> served;
  for (const auto& v : stats["videos"].GetArray()) {
    served[v["prompt"].GetString()] = v["sha256"].GetString();
  }
  std::map<std::string, std::string> paths;
  const auto jobs = store.list_jobs({});  // kept alive: .value() of a temporary dangles
  for (const auto& job : jobs.value()) {
    INFO("job " << job.spec.id);
    REQUIRE(job.state == JobState::done);
    REQUIRE(served.count(job.spec.prompt) == 1);
    REQUIRE(served.at(job.spec.prompt) == job.sha256);
    REQUIRE(sha256_file(job.output_path) == job.sha256);
    REQUIRE(creates_for(stats, job.spec.prompt) == 1);
    paths[job.spec.id] = std::filesystem::relative(job.output_path, out_root).string();
  }
  return paths;
}

}  // namespace

TEST_CASE("one manifest runs the same through both dialects and every answer shape", "[e2e]") {
  const std::vector<GatewayVariant> variants = {
      {"openai, video objects, bytes", {"--gateway-seconds"}, ""},
      {"openai, task-shaped answers", {"--gateway-seconds", "--shape", "task"}, ""},
      {"openai, /content answers JSON on the CDN",
       {"--gateway-seconds", "--content-mode", "json", "--content-url-port", "cdn"},
       ""},
      {"unified task format", {}, "[provider]\ndialect = \"unified\"\n"},
  };
  std::map<std::string, std::string> first_paths;
  for (const auto& variant : variants) {
    DYNAMIC_SECTION(variant.name) {
      std::vector<std::string> flags = {"--gen-ms", "300", "--quiet"};
      flags.insert(flags.end(), variant.sim_flags.begin(), variant.sim_flags.end());
      SimProcess sim(flags);
      E2eFolder folder;
      folder.write_config(8, variant.provider_toml);
      std::ofstream(folder.path("shared.yaml")) << k_shared_manifest;
      CommandResult result = folder.run({"run", folder.path("shared.yaml")}, sim.base_url());
      INFO(result.err);
      REQUIRE(result.exit_code == 0);
      auto stats = parse_json(sim.stats());
      REQUIRE(stats["creates_total"].GetInt() == 3);
      REQUIRE(stats["auth_headers_seen_on_files"].GetInt() == 0);
      auto store = folder.open_store();
      auto paths = check_downloads(*store, stats, folder.out());
      REQUIRE(paths.size() == 3);
      // Same jobs, same files: only the provider's bytes differ (they depend on its video id).
      REQUIRE(paths == std::map<std::string, std::string>{{"forest", "shared/forest.mp4"},
                                                          {"harbor", "shared/harbor.mp4"},
                                                          {"market", "shared/market.mp4"}});
      require_consistent_events(*store);
    }
  }
}

TEST_CASE("a remix chain waits for each parent, survives SIGINT, and pays each video once",
          "[e2e]") {
  SimProcess sim({"--gen-ms", "1200", "--quiet"});
  E2eFolder folder;
  std::ofstream(folder.path("chain.yaml"))
      << "batch: chain\ndefaults: {model: sora-2, seconds: 4}\njobs:\n"
         "  - id: base\n    prompt: \"A paper crane on a wooden desk\"\n"
         "  - id: night\n    prompt: \"Make it night, lit by a desk lamp\"\n    remix_of: base\n"
         "  - id: rain\n    prompt: \"Add rain streaking the window behind it\"\n    remix_of: "
         "night\n"
         "  - id: other\n    prompt: \"A teapot steaming on a stove\"\n";
  auto process = folder.start({"run", folder.path("chain.yaml")}, sim.base_url(), "interrupted");
  // Stop once the first remix has been created: `rain` is still waiting for it.
  for (int i = 0; i < 500; ++i) {
    if (creates_for(parse_json(sim.stats()), "Make it night, lit by a desk lamp") == 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  process->send_signal(SIGINT);
  CommandResult stopped = folder.finish(*process, "interrupted");
  INFO(stopped.err);
  REQUIRE(stopped.exit_code == 130);
  REQUIRE(creates_for(parse_json(sim.stats()), "Add rain streaking the window behind it") == 0);
  {
    auto store = folder.open_store();
    REQUIRE(store->find_job("chain", "rain").value()->state == JobState::queued);
  }

  CommandResult resumed = folder.run({"resume"}, sim.base_url());
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  auto stats = parse_json(sim.stats());
  REQUIRE(stats["creates_total"].GetInt() == 4);
  REQUIRE(stats["requests_by_route"]["POST /v1/videos/{id}/remix"].GetInt() == 2);
  auto store = folder.open_store();
  check_downloads(*store, stats, folder.out());
  auto job = [&](const char* id) { return *store->find_job("chain", id).value(); };
  // Each remix left only after its parent's video was done and downloaded.
  REQUIRE(job("night").submitted_at >= job("base").downloaded_at);
  REQUIRE(job("rain").submitted_at >= job("night").downloaded_at);
  require_consistent_events(*store);
}

TEST_CASE("a remix whose parent fails fails with parent_failed, and so does its child", "[e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  std::ofstream(folder.path("chain.yaml"))
      << "batch: broken\ndefaults: {model: sora-2, seconds: 4}\njobs:\n"
         "  - id: base\n    prompt: \"A [[fail]] scene\"\n"
         "  - id: child\n    prompt: \"Remix it\"\n    remix_of: base\n"
         "  - id: grandchild\n    prompt: \"Remix again\"\n    remix_of: child\n";
  CommandResult result = folder.run({"run", folder.path("chain.yaml")}, sim.base_url());
  INFO(result.err);
  REQUIRE(result.exit_code == 1);
  REQUIRE(parse_json(sim.stats())["creates_total"].GetInt() == 1);
  auto store = folder.open_store();
  for (const char* id : {"child", "grandchild"}) {
    auto rec = *store->find_job("broken", id).value();
    INFO(id);
    REQUIRE(rec.state == JobState::failed);
    REQUIRE(rec.error_code == "parent_failed");
  }
  require_consistent_events(*store);
}

TEST_CASE("remixes waiting for their parents let the other jobs go, and rest meanwhile", "[e2e]") {
  // Each remix is listed before the next base: a waiting remix must neither hold a place of
  // the in-flight cap nor be claimed and given back over and over (each claim a write
  // transaction and a token of the ledger) while its parent generates.
  SimProcess sim({"--gen-ms", "2000", "--quiet"});
  E2eFolder folder;
  folder.write_config(3);
  std::ostringstream yaml;
  yaml << "batch: wait\ndefaults: {model: sora-2, seconds: 4}\njobs:\n";
  for (int i = 0; i < 3; ++i) {
    yaml << "  - id: base-" << i << "\n    prompt: \"Base scene " << i << "\"\n"
         << "  - id: remix-" << i << "\n    prompt: \"Remixed scene " << i
         << "\"\n    remix_of: base-" << i << "\n";
  }
  std::ofstream(folder.path("wait.yaml")) << yaml.str();
  CommandResult result = folder.run({"run", folder.path("wait.yaml")}, sim.base_url());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto stats = parse_json(sim.stats());
  CHECK(stats["creates_total"].GetInt() == 6);
  CHECK(stats["max_in_flight_seen"].GetInt() == 3);  // the three bases at once
  // Six jobs, each claimed for its create, its polls and its download, a few times over at
  // most; a remix taken back at once after each look at its gate draws hundreds.
  SQLite::Database db(folder.db(), SQLite::OPEN_READONLY);
  const auto tokens = db.execAndGet("SELECT last FROM lease_tokens").getInt64();
  INFO("lease tokens drawn: " << tokens);
  CHECK(tokens < 60);
}

TEST_CASE("two providers in one config: own keys, own origins, own limits", "[e2e]") {
  SimProcess openai({"--gen-ms", "400", "--quiet", "--require-key", "sk-provider-a"});
  SimProcess gateway({"--gen-ms", "400", "--quiet", "--require-key", "sk-provider-b"});
  E2eFolder folder;
  folder.set_env("KEY_A", "sk-provider-a");
  folder.set_env("KEY_B", "sk-provider-b");
  folder.write_config(16,
                      "[providers]\ndefault = \"official\"\n"
                      "[providers.official]\ndialect = \"openai\"\nbase_url = \"" +
                          openai.base_url() +
                          "\"\napi_key_env = \"KEY_A\"\nmax_in_flight = 2\n"
                          "[providers.gateway]\ndialect = \"unified\"\nbase_url = \"" +
                          gateway.base_url() + "\"\napi_key_env = \"KEY_B\"\nmax_in_flight = 3\n");
  std::ostringstream yaml;
  yaml << "batch: mixed\ndefaults: {model: sora-2}\njobs:\n";
  for (int i = 0; i < 6; ++i) {
    yaml << "  - id: a" << i << "\n    prompt: \"Official " << i << "\"\n    seconds: 4\n";
    yaml << "  - id: b" << i << "\n    prompt: \"Gateway " << i
         << "\"\n    seconds: 10\n    provider: gateway\n";
  }
  std::ofstream(folder.path("mixed.yaml")) << yaml.str();
  CommandResult result = folder.run({"run", folder.path("mixed.yaml")}, "");
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  REQUIRE(result.out.find("done 12/12") != std::string::npos);
  auto a = parse_json(openai.stats());
  auto b = parse_json(gateway.stats());
  REQUIRE(a["creates_total"].GetInt() == 6);
  REQUIRE(b["creates_total"].GetInt() == 6);
  REQUIRE(a["max_in_flight_seen"].GetInt() <= 2);
  REQUIRE(b["max_in_flight_seen"].GetInt() <= 3);
  REQUIRE(b["requests_by_route"]["POST /v1/video/create"].GetInt() == 6);
  auto store = folder.open_store();
  const auto jobs = store->list_jobs({});
  for (const auto& job : jobs.value()) {
    INFO(job.spec.id << " " << job.remote_id);
    REQUIRE(job.state == JobState::done);
    REQUIRE(job.remote_id.starts_with(job.spec.provider == "gateway" ? "sora-2:" : "video_"));
  }

  // A job naming a provider the config lacks is refused before anything is written.
  std::ofstream(folder.path("typo.yaml"))
      << "batch: typo\njobs:\n  - id: x\n    prompt: \"y\"\n    provider: gatway\n";
  CommandResult refused = folder.run({"run", folder.path("typo.yaml")}, "");
  INFO(refused.err);
  REQUIRE(refused.exit_code == 2);
  REQUIRE(refused.err.find("typo.yaml:3:") != std::string::npos);
  REQUIRE(refused.err.find("no provider named \"gatway\"") != std::string::npos);
  REQUIRE_FALSE(store->find_job("typo", "x").value().has_value());
}

TEST_CASE("characters are created once per provider and name, and jobs carry their ids", "[e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  std::filesystem::create_directories(folder.path("assets"));
  std::ofstream(folder.path("assets/otter.mp4"), std::ios::binary)
      << std::string(
             "\0\0\0\x18"
             "ftypisom\0\0\x02\0isomiso2",
             24)
      << std::string(200, 'x');
  auto write_batch = [&](const std::string& batch, const std::string& jobs) {
    std::ofstream(folder.path(batch + ".yaml"))
        << "batch: " << batch << "\ndefaults: {model: sora-2, seconds: 4}\n"
        << "characters:\n  - name: Otto\n    video: assets/otter.mp4\n"
           "  - name: Pip\n    video: assets/otter.mp4\n"
        << "jobs:\n"
        << jobs;
    return folder.path(batch + ".yaml");
  };
  std::string first = write_batch(
      "cameo",
      "  - id: one\n    prompt: \"Otto the otter juggles shells\"\n    characters: [Otto]\n"
      "  - id: two\n    prompt: \"Otto and Pip race along a pier\"\n    characters: [Otto, Pip]\n"
      "  - id: none\n    prompt: \"An empty pier at dusk\"\n");
  CommandResult result = folder.run({"run", first}, sim.base_url());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  auto stats = parse_json(sim.stats());
  REQUIRE(stats["requests_by_route"]["POST /v1/videos/characters"].GetInt() == 2);
  REQUIRE(stats["creates_total"].GetInt() == 3);
  {
    auto store = folder.open_store();
    auto otto = store->find_character("default", "Otto");
    REQUIRE(otto.has_value());
    REQUIRE(otto->has_value());
    REQUIRE((*otto)->state == CharacterState::created);
    REQUIRE((*otto)->remote_id.starts_with("char_"));
  }

  // Another batch using Otto reuses the stored id: no second character is made.
  std::string second =
      write_batch("cameo2",
                  "  - id: three\n    prompt: \"Otto naps on a buoy\"\n    characters: [Otto]\n");
  CommandResult again = folder.run({"run", second}, sim.base_url());
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  stats = parse_json(sim.stats());
  REQUIRE(stats["requests_by_route"]["POST /v1/videos/characters"].GetInt() == 2);
  REQUIRE(stats["creates_total"].GetInt() == 4);
}

TEST_CASE("every example manifest runs against the simulator with config/gateways.toml", "[e2e]") {
  SimProcess sim({"--gen-ms", "150", "--quiet", "--gateway-seconds"});
  const std::string source = VIDBATCH_SOURCE_DIR;
  std::string toml = read_file(source + "/config/gateways.toml");
  for (std::size_t at = toml.find("https://api.dataeyes.ai/v1"); at != std::string::npos;
       at = toml.find("https://api.dataeyes.ai/v1")) {
    toml.replace(at, std::string("https://api.dataeyes.ai/v1").size(), sim.base_url());
  }
  const std::string limits =
      "[limits]\nmax_in_flight = 16\nsubmits_per_minute = 60\npolls_per_second = 5\n";
  REQUIRE(toml.find(limits) != std::string::npos);
  toml.replace(toml.find(limits), limits.size(),
               "[limits]\nmax_in_flight = 16\nsubmits_per_minute = 6000\npolls_per_second = 200\n"
               "poll_interval_ms = 100\npoll_interval_max_ms = 300\n");
  for (const auto& entry : std::filesystem::directory_iterator(source + "/jobs/examples")) {
    if (entry.path().extension() != ".yaml") {
      continue;
    }
    // Examples whose own config (config/kling.toml...) names a native dialect: the [kling] and
    // [minimax] tests run their routes against the simulator's dialects.
    const std::string own = source + "/config/" + entry.path().stem().string() + ".toml";
    if (std::filesystem::exists(own) &&
        read_file(own).find("dialect = \"" + entry.path().stem().string() + "\"") !=
            std::string::npos) {
      continue;
    }
    DYNAMIC_SECTION(entry.path().filename().string()) {
      E2eFolder folder;
      folder.write_raw_config(toml);
      folder.set_env("DATAEYES_API_KEY", "sk-gateway-example");
      CommandResult result = folder.run({"run", entry.path().string()}, sim.base_url());
      INFO(result.err);
      REQUIRE(result.exit_code == 0);
      auto store = folder.open_store();
      const auto jobs = store->list_jobs({});
      REQUIRE_FALSE(jobs->empty());
      for (const auto& job : *jobs) {
        INFO(job.spec.id);
        REQUIRE(job.state == JobState::done);
        REQUIRE(std::filesystem::exists(job.output_path));
      }
    }
  }
  REQUIRE(parse_json(sim.stats())["auth_headers_seen_on_files"].GetInt() == 0);
}
