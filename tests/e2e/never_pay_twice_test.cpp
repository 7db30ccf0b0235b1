// Never pay twice, whatever the network does (issue 17): every wire fault of the simulator's
// fault proxy, on every paid route of both dialects, against the real `vidbatch` binary. The
// fault hits a paid request after the provider has done the work (the video or character
// exists), so any second request for the same job is a second payment:
// - the simulator generates exactly one video per job (and one character per name);
// - OpenAI dialect (it lists videos): every job ends done, lost answers adopted by reconciliation;
// - unified dialect (no listing): a job whose answer was spoiled is held `ambiguous` and listed by
//   `vidbatch status`, never sent again.
// Plus a soak: 500 jobs, 10 % of each fault on every POST, five kill -9 and resume.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

const std::vector<std::string> k_faults = {"reset_keepalive", "reset",        "fin",
                                           "stall",           "gateway_502",  "gateway_504",
                                           "gateway_52x",     "upstream_500", "partial"};

// A stall outlasts the client's request timeout (700 ms) by far.
const std::vector<std::string> k_sim_flags = {"--gen-ms", "150",        "--quiet", "--video-bytes",
                                              "2000",     "--stall-ms", "4000"};

std::string config_toml(bool unified) {
  return std::string(
             "[limits]\nmax_in_flight = 2\nsubmits_per_minute = 6000\npolls_per_second = 200\n"
             "poll_interval_ms = 100\npoll_interval_max_ms = 200\n"
             "[http]\nrequest_timeout_ms = 700\n"
             "[retry]\nbase_delay_ms = 20\nmax_delay_ms = 200\nambiguous_settle_ms = 200\n") +
         (unified ? "[provider]\ndialect = \"unified\"\n" : "");
}

// One paid route: the path its requests take (the fault's scope), the simulator's route name,
// and a manifest whose jobs `paid` reach that route once each.
struct PaidRoute {
  std::string name;
  bool unified = false;
  std::string scope;      // regex of the paid path
  std::string sim_route;  // key of requests_by_route
  std::string manifest;   // YAML
  int paid = 0;           // requests the route must receive: one per job (or character)
};

std::string chain_manifest(const std::string& link, const std::string& extra = "") {
  std::ostringstream yaml;
  yaml << "batch: np\ndefaults: {model: sora-2, seconds: 4}\njobs:\n";
  for (int i = 0; i < 3; ++i) {
    yaml << "  - id: base-" << i << "\n    prompt: \"Base scene " << i << "\"\n";
    yaml << "  - id: child-" << i << "\n    prompt: \"Derived scene " << i << "\"\n    " << link
         << ": base-" << i << "\n"
         << extra;
  }
  return yaml.str();
}

std::vector<PaidRoute> paid_routes() {
  std::string creates = "batch: np\ndefaults: {model: sora-2, seconds: 4}\njobs:\n";
  std::string unified = "batch: np\ndefaults: {model: sora-2, seconds: 10, size: small}\njobs:\n";
  for (int i = 0; i < 5; ++i) {
    creates +=
        "  - id: job-" + std::to_string(i) + "\n    prompt: \"Scene " + std::to_string(i) + "\"\n";
    unified +=
        "  - id: job-" + std::to_string(i) + "\n    prompt: \"Scene " + std::to_string(i) + "\"\n";
  }
  const std::string characters =
      "batch: np\ndefaults: {model: sora-2, seconds: 4}\n"
      "characters:\n  - name: Otto\n    video: assets/otter.mp4\n  - name: Pip\n    video: "
      "assets/otter.mp4\n"
      "jobs:\n"
      "  - id: plain\n    prompt: \"An empty pier at dusk\"\n"
      "  - id: otto\n    prompt: \"Otto the otter juggles shells\"\n    characters: [Otto]\n"
      "  - id: pip\n    prompt: \"Pip the puffin dives for fish\"\n    characters: [Pip]\n";
  return {
      {"create", false, "^/v1/videos$", "POST /v1/videos", creates, 5},
      {"remix", false, "^/v1/videos/[^/]+/remix$", "POST /v1/videos/{id}/remix",
       chain_manifest("remix_of"), 3},
      {"edit", false, "^/v1/videos/edits$", "POST /v1/videos/edits", chain_manifest("edit_of"), 3},
      {"extension", false, "^/v1/videos/extensions$", "POST /v1/videos/extensions",
       chain_manifest("extend_of"), 3},
      {"character", false, "^/v1/videos/characters$", "POST /v1/videos/characters", characters, 2},
      {"create", true, "^/v1/video/create$", "POST /v1/video/create", unified, 5},
  };
}

int64_t fired(const rapidjson::Document& stats, const std::string& kind) {
  return stats["wire_faults"]["fired"][kind.c_str()].GetInt64();
}

// "2 of 5 prompts generated 2+ times (Scene 1 x2, Scene 3 x2)", or "" when none was.
std::string duplicates(const rapidjson::Document& stats, const std::vector<JobRecord>& jobs) {
  std::string names;
  int count = 0;
  for (const auto& job : jobs) {
    const int made = creates_for(stats, job.spec.prompt);
    if (made > 1 && ++count <= 10) {
      names += (names.empty() ? "" : ", ") + job.spec.id + " x" + std::to_string(made);
    }
  }
  names += count > 10 ? ", ..." : "";
  return count == 0 ? std::string()
                    : std::to_string(count) + " of " + std::to_string(jobs.size()) +
                          " jobs generated more than once (" + names + ")";
}

std::string states(const std::vector<JobRecord>& jobs) {
  std::map<std::string, int> by_state;
  for (const auto& job : jobs) {
    ++by_state[to_string(job.state)];
  }
  std::string out;
  for (const auto& [state, count] : by_state) {
    out += (out.empty() ? "" : ", ") + state + " " + std::to_string(count);
  }
  return out;
}

void write_character_asset(const E2eFolder& folder) {
  std::filesystem::create_directories(folder.path("assets"));
  std::ofstream(folder.path("assets/otter.mp4"), std::ios::binary)
      << std::string(
             "\0\0\0\x18"
             "ftypisom\0\0\x02\0isomiso2",
             24)
      << std::string(200, 'x');
}

// Characters: each created once; one whose answer was spoiled is held (ambiguous), its jobs wait.
void check_characters(const E2eFolder& folder, const rapidjson::Document& stats,
                      const std::vector<JobRecord>& jobs) {
  auto store = folder.open_store();
  const auto plain = store->find_job("np", "plain").value();
  REQUIRE(plain.has_value());
  CHECK(plain->state == JobState::done);
  CHECK(creates_for(stats, plain->spec.prompt) == 1);
  for (const std::string name : {"Otto", "Pip"}) {
    INFO("character " << name);
    const auto& made = stats["characters_by_name"];
    CHECK((made.HasMember(name.c_str()) ? made[name.c_str()].GetInt() : 0) == 1);
    const auto record = store->find_character("default", name);
    REQUIRE(record.has_value());
    REQUIRE(record->has_value());
    const bool held = (*record)->state == CharacterState::ambiguous;
    CHECK((held || (*record)->state == CharacterState::created));
    for (const auto& job : jobs) {
      if (job.spec.prompt.find(name) != std::string::npos) {
        INFO("job " << job.spec.id);
        CHECK(job.state == (held ? JobState::queued : JobState::done));
        CHECK(creates_for(stats, job.spec.prompt) == (held ? 0 : 1));
      }
    }
  }
}

void run_case(const PaidRoute& route, const std::string& fault) {
  const std::string rule =
      (fault == "gateway_52x" ? "gateway_52x:status=524" : fault) + ":first=2:scope=" + route.scope;
  std::vector<std::string> flags = k_sim_flags;
  flags.insert(flags.end(), {"--fault", rule});
  SimProcess sim(flags);
  E2eFolder folder;
  folder.write_raw_config(config_toml(route.unified));
  write_character_asset(folder);
  std::ofstream(folder.path("np.yaml")) << route.manifest;
  const CommandResult run = folder.run({"run", folder.path("np.yaml")}, sim.base_url());
  const auto stats = parse_json(sim.stats());
  auto store = folder.open_store();
  const auto jobs = store->list_jobs({}).value();
  const std::string dup = duplicates(stats, jobs);
  const int64_t hits = fired(stats, fault);
  const int sent = route_count(stats, route.sim_route);
  INFO("fault " << rule << (route.unified ? " (unified)" : " (openai)") << ": fired " << hits
                << ", " << route.sim_route << " received " << sent << " for " << route.paid
                << "; jobs: " << states(jobs) << (dup.empty() ? "" : "; " + dup)
                << "\nvidbatch exit " << run.exit_code << "\n"
                << run.err);
  CHECK(dup.empty());
  CHECK(sent == route.paid);  // one paid request on the wire per job
  if (fault != "reset_keepalive") {
    CHECK(hits >= 1);  // reset_keepalive cannot hit a paid request sent on a fresh connection
  }
  if (route.name == "character") {
    CHECK(stats["characters_created"].GetInt() == route.paid);
    check_characters(folder, stats, jobs);
    return;
  }
  for (const auto& job : jobs) {
    INFO("job " << job.spec.id << " " << job.error_code << ": " << job.error_message);
    CHECK(creates_for(stats, job.spec.prompt) == 1);
  }
  if (!route.unified) {
    CHECK(run.exit_code == 0);
    for (const auto& job : jobs) {
      INFO("job " << job.spec.id << " " << job.error_code << ": " << job.error_message);
      CHECK(job.state == JobState::done);
    }
    return;
  }
  // Unified: no listing, so each spoiled answer leaves its job held for the user.
  int held = 0;
  const CommandResult status = folder.run({"status"});
  for (const auto& job : jobs) {
    INFO("job " << job.spec.id << " " << job.error_code << ": " << job.error_message);
    CHECK((job.state == JobState::done || job.state == JobState::ambiguous));
    if (job.state == JobState::ambiguous) {
      ++held;
      CHECK(status.out.find(job.spec.id) != std::string::npos);
    }
  }
  // Every spoiled answer holds its job, and nothing else does.
  CHECK(held == hits);
}

void run_route(const std::string& name, bool unified) {
  for (const auto& route : paid_routes()) {
    if (route.name != name || route.unified != unified) {
      continue;
    }
    for (const auto& fault : k_faults) {
      DYNAMIC_SECTION(fault) {
        run_case(route, fault);
      }
    }
  }
}

}  // namespace

TEST_CASE("never pay twice: OpenAI create under every wire fault", "[e2e][never-pay-twice]") {
  run_route("create", false);
}

TEST_CASE("never pay twice: OpenAI remix under every wire fault", "[e2e][never-pay-twice]") {
  run_route("remix", false);
}

TEST_CASE("never pay twice: OpenAI edit under every wire fault", "[e2e][never-pay-twice]") {
  run_route("edit", false);
}

TEST_CASE("never pay twice: OpenAI extension under every wire fault", "[e2e][never-pay-twice]") {
  run_route("extension", false);
}

TEST_CASE("never pay twice: OpenAI character create under every wire fault",
          "[e2e][never-pay-twice]") {
  run_route("character", false);
}

TEST_CASE("never pay twice: unified create under every wire fault", "[e2e][never-pay-twice]") {
  run_route("create", true);
}

TEST_CASE("never pay twice soak: 500 jobs, 10 % of each wire fault on POSTs, five kill -9",
          "[e2e][soak][never-pay-twice]") {
  constexpr int k_jobs = 500;
  constexpr int k_kills = 5;
  std::vector<std::string> flags = {"--gen-ms",      "1500",      "--quiet",
                                    "--video-bytes", "2000",      "--stall-ms",
                                    "6000",          "--threads", "256"};
  for (const auto& fault : k_faults) {
    flags.insert(flags.end(), {"--fault", fault + ":rate=0.1"});
  }
  SimProcess sim(flags);
  E2eFolder folder;
  folder.write_raw_config(
      "[limits]\nmax_in_flight = 64\nsubmits_per_minute = 60000\npolls_per_second = 400\n"
      "poll_interval_ms = 200\npoll_interval_max_ms = 500\n"
      "[http]\nrequest_timeout_ms = 2000\n"
      "[retry]\nbase_delay_ms = 20\nmax_delay_ms = 300\nambiguous_settle_ms = 300\n");
  const std::string manifest = folder.write_manifest("soak", k_jobs);
  const Millis startup_ms = time_to_start(folder);
  std::mt19937 rng(Catch::rngSeed());
  std::uniform_int_distribution<Millis> delay_ms(200, 2000);
  int kills = 0;
  for (int round = 0; round < k_kills; ++round) {
    const std::vector<std::string> args = round == 0 ? std::vector<std::string>{"run", manifest}
                                                     : std::vector<std::string>{"resume"};
    auto process = folder.start(args, sim.base_url(), "soak" + std::to_string(round));
    if (round == 0) {
      wait_for_import(folder, *process);
    }
    if (!process->wait_for(std::chrono::milliseconds(startup_ms + delay_ms(rng)))) {
      process->send_signal(SIGKILL);
      REQUIRE(process->wait() == 128 + SIGKILL);
      kills += 1;
    }
  }
  CHECK(kills == k_kills);
  const CommandResult last = folder.run({"resume"}, sim.base_url());
  const auto stats = parse_json(sim.stats());
  auto store = folder.open_store();
  const auto jobs = store->list_jobs({}).value();
  REQUIRE(jobs.size() == static_cast<size_t>(k_jobs));
  const std::string dup = duplicates(stats, jobs);
  std::string fired_text;
  for (const auto& fault : k_faults) {
    fired_text += " " + fault + " " + std::to_string(fired(stats, fault));
  }
  INFO("fired:" << fired_text << "; creates " << stats["creates_total"].GetInt() << " for "
                << k_jobs << "; jobs: " << states(jobs) << (dup.empty() ? "" : "; " + dup)
                << "\nlast resume exit " << last.exit_code << "\n"
                << last.err.substr(last.err.size() > 3000 ? last.err.size() - 3000 : 0));
  CHECK(dup.empty());
  CHECK(stats["creates_total"].GetInt() == k_jobs);
  CHECK(last.exit_code == 0);
  for (const auto& job : jobs) {
    INFO("job " << job.spec.id << " " << job.error_code << ": " << job.error_message);
    REQUIRE(job.state == JobState::done);
    REQUIRE(sha256_file(job.output_path) == job.sha256);
  }
  require_consistent_events(*store);
}
