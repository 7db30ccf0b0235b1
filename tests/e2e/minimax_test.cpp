// End-to-end: a MiniMax manifest (text-to-video and image-to-video) against
// `vidbatch-sim --dialect minimax`, direct, through a /minimax gateway in each answer shape
// (native, new-api's task records, yunwu's merged records) and through the fault proxy: every
// vendor answer HTTP 200, each video found through task -> file_id -> files/retrieve -> URL or
// the URL the gateway's record names. A lost create answer is held `ambiguous` (MiniMax v1
// cannot list); an expired URL is resolved again, never generated again, also on resume, where
// a URL the ledger holds and that is still valid is downloaded without asking again.
#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <thread>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

const char* k_minimax_manifest =
    "batch: mm\n"
    "defaults: {model: MiniMax-Hailuo-02, seconds: 6, size: small}\n"
    "jobs:\n"
    "  - id: fox\n    prompt: \"A red fox crossing a snowy field\"\n"
    "  - id: lake\n    prompt: \"Mist rising from a mountain lake\"\n"
    "    images: [\"https://img.example/lake.png\"]\n";

const char* k_minimax_toml = "[provider]\ndialect = \"minimax\"\n";

struct MiniMaxRun {
  CommandResult result;
  rapidjson::Document stats;
  rapidjson::Document wire;  // the fault proxy's stats, when one ran
  std::vector<JobRecord> jobs;
  int files_as_recorded = 0;  // saved files whose hash is the ledger's (read before clean-up)
};

MiniMaxRun run_minimax_manifest(const std::vector<std::string>& sim_flags,
                                const std::string& prefix = "",
                                const std::vector<std::string>& proxy_flags = {}) {
  std::vector<std::string> flags = {"--dialect", "minimax", "--gen-ms", "300", "--quiet"};
  flags.insert(flags.end(), sim_flags.begin(), sim_flags.end());
  SimProcess sim(flags);
  auto proxy = proxy_flags.empty() ? nullptr : SimProcess::fault_proxy(sim.root_url(), proxy_flags);
  E2eFolder folder;
  folder.write_config(8, k_minimax_toml);
  folder.set_env("MINIMAX_API_KEY", "mm-key");
  std::ofstream(folder.path("mm.yaml")) << k_minimax_manifest;
  MiniMaxRun run;
  run.result = folder.run({"run", folder.path("mm.yaml")},
                          (proxy ? proxy->root_url() : sim.root_url()) + prefix);
  run.stats = parse_json(sim.stats());
  if (proxy) {
    run.wire = parse_json(proxy->wire_stats());
  }
  run.jobs = folder.open_store()->list_jobs({}).value();
  for (const auto& job : run.jobs) {
    if (job.state == JobState::done && sha256_file(job.output_path) == job.sha256) {
      run.files_as_recorded += 1;
    }
  }
  return run;
}

int stat_of(const rapidjson::Document& stats, const char* key) {
  return stats[key].GetInt();
}

// A counter of a stats object that lists only what happened (0 when absent).
int count_in(const rapidjson::Value& counts, const char* key) {
  return counts.IsObject() && counts.HasMember(key) ? counts[key].GetInt() : 0;
}

// Whether every job of the ledger is downloading or done, read beside the run.
bool all_downloading(const std::string& db_path) {
  try {
    SQLite::Database db(db_path, SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT count(*) FROM jobs WHERE state IN ('downloading', 'done')")
               .getInt() == 2;
  } catch (const SQLite::Exception&) {
    return false;  // not created yet
  }
}

}  // namespace

TEST_CASE("minimax: one manifest direct and through a gateway", "[e2e][minimax]") {
  for (const std::string prefix : {"", "/minimax"}) {
    DYNAMIC_SECTION("prefix '" << prefix << "'") {
      std::vector<std::string> flags = {"--require-key", "mm-key"};
      if (!prefix.empty()) {
        flags.insert(flags.end(), {"--gateway-prefix", prefix, "--gateway-shape", "native"});
      }
      MiniMaxRun run = run_minimax_manifest(flags, prefix);
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
  MiniMaxRun run = run_minimax_manifest({"--lose-create-answers", "2"});
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
  MiniMaxRun run = run_minimax_manifest({"--url-ttl-ms", "1"});
  INFO(run.result.out << run.result.err);
  CHECK(run.stats["creates_total"].GetInt() == 2);
  CHECK(run.stats["file_retrieves"].GetInt() > 4);
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id);
    CHECK(job.state == JobState::failed);
    CHECK(creates_for(run.stats, job.spec.prompt) == 1);
  }
}

TEST_CASE("minimax: through a gateway's task records, new-api's and yunwu's", "[e2e][minimax]") {
  for (const std::string shape : {"taskdto", "yunwu"}) {
    DYNAMIC_SECTION("shape " << shape) {
      MiniMaxRun run = run_minimax_manifest({"--gateway-prefix", "/minimax", "--gateway-shape",
                                             shape, "--require-key", "mm-key"},
                                            "/minimax");
      INFO(run.result.out << run.result.err);
      REQUIRE(run.result.exit_code == 0);
      CHECK(stat_of(run.stats, "creates_total") == 2);
      // The record names the URL: no files/retrieve (new-api does not even relay it).
      CHECK(stat_of(run.stats, "file_retrieves") == 0);
      CHECK(stat_of(run.stats, "auth_headers_seen_on_files") == 0);
      REQUIRE(run.jobs.size() == 2);
      CHECK(run.files_as_recorded == 2);
      for (const auto& job : run.jobs) {
        INFO("job " << job.spec.id);
        CHECK(creates_for(run.stats, job.spec.prompt) == 1);
        CHECK(job.download.expires_at > job.downloaded_at);  // the signed URL's, recorded
      }
    }
  }
}

TEST_CASE("minimax: through the fault proxy, broken answers cost no second video",
          "[e2e][minimax]") {
  // Status queries and files/retrieve answered by a proxy's 502 page or cut by a reset: each is
  // asked again. The creates are left alone (MiniMax cannot list: a lost one would be held).
  MiniMaxRun run = run_minimax_manifest({}, "",
                                        {"--fault", "gateway_502:first=3:scope=query", "--fault",
                                         "reset:first=2:scope=files/retrieve"});
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);
  CHECK(count_in(run.wire["fired"], "gateway_502") == 3);
  CHECK(count_in(run.wire["fired"], "reset") == 2);
  CHECK(stat_of(run.stats, "creates_total") == 2);
  CHECK(run.files_as_recorded == 2);
}

// A first run stops once both first downloads were cut half-way (a retry is a minute away); the
// resume finds the URLs of the videos not saved yet in the ledger.
TEST_CASE("minimax: on resume a recorded URL is used while valid, resolved again once expired",
          "[e2e][minimax]") {
  for (const bool expired : {false, true}) {
    DYNAMIC_SECTION((expired ? "expired" : "still valid")) {
      std::vector<std::string> flags = {"--dialect", "minimax", "--gen-ms",
                                        "300",       "--quiet", "--truncate-downloads",
                                        "2"};
      if (expired) {
        flags.insert(flags.end(), {"--url-ttl-ms", "2000"});
      }
      SimProcess sim(flags);
      E2eFolder folder;
      folder.write_raw_config(std::string(k_minimax_toml) +
                              "[limits]\npoll_interval_ms = 100\n"
                              "[retry]\nbase_delay_ms = 60000\nmax_delay_ms = 60000\n");
      folder.set_env("MINIMAX_API_KEY", "mm-key");
      std::ofstream(folder.path("mm.yaml")) << k_minimax_manifest;
      auto first = folder.start({"run", folder.path("mm.yaml")}, sim.root_url());
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!all_downloading(folder.db()) ||
             count_in(parse_json(sim.stats())["faults_injected"], "truncate") < 2) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      first->send_signal(SIGINT);
      CommandResult stopped = folder.finish(*first);
      INFO(stopped.out << stopped.err);
      const auto stopped_jobs = folder.open_store()->list_jobs({}).value();
      int pending = 0;
      for (const auto& job : stopped_jobs) {
        CHECK(!job.download.url.empty());
        pending += job.state == JobState::done ? 0 : 1;
      }
      REQUIRE(pending > 0);
      if (expired) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2100));
      }
      const auto before = parse_json(sim.stats());
      folder.write_config(8, k_minimax_toml);
      CommandResult resumed = folder.run({"resume"}, sim.root_url());
      INFO(resumed.out << resumed.err);
      REQUIRE(resumed.exit_code == 0);
      const auto after = parse_json(sim.stats());
      CHECK(stat_of(after, "creates_total") == 2);  // never generated again
      const int retrieves = stat_of(after, "file_retrieves") - stat_of(before, "file_retrieves");
      const int queries = stat_of(after, "queries") - stat_of(before, "queries");
      if (expired) {
        CHECK(retrieves == pending);  // each URL resolved again
        CHECK(queries >= pending);
      } else {
        CHECK(retrieves == 0);  // downloaded from the recorded URL, nothing asked again
        CHECK(queries == 0);
      }
      auto store = folder.open_store();
      const auto jobs = store->list_jobs({}).value();
      for (const auto& job : jobs) {
        INFO("job " << job.spec.id);
        CHECK(job.state == JobState::done);
        CHECK(sha256_file(job.output_path) == job.sha256);
      }
      // An expired URL is never tried: no download was refused.
      const auto events = store->events(std::nullopt).value();
      for (const auto& event : events) {
        CHECK(event.message.find("refused") == std::string::npos);
      }
    }
  }
}
