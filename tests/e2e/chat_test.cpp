// End-to-end: the chat-completions route (config/chat.toml, jobs/examples/chat.yaml) against
// `vidbatch-sim --dialect chat`: one open stream per video, each video made by exactly one
// create, its link fetched without the key; a stream cut after the request left holds its job
// `ambiguous` (no id, no listing), shown by `status`, never sent again.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

const std::string k_source = VIDBATCH_SOURCE_DIR;
const std::string k_chat_key = "sk-chat-gateway";

// config/chat.toml pointed at the simulator, with the test's fast retries.
std::string chat_config(const SimProcess& sim, int max_in_flight) {
  std::string toml = read_file(k_source + "/config/chat.toml");
  const std::string address = "https://gateway.example/v1";
  REQUIRE(toml.find(address) != std::string::npos);
  toml.replace(toml.find(address), address.size(), sim.base_url());
  const std::string cap = "max_in_flight = 4 ";
  REQUIRE(toml.find(cap) != std::string::npos);
  toml.replace(toml.find(cap), cap.size(),
               "max_in_flight = " + std::to_string(max_in_flight) + " ");
  const std::string rate = "submits_per_minute = 10";
  REQUIRE(toml.find(rate) != std::string::npos);
  toml.replace(toml.find(rate), rate.size(), "submits_per_minute = 6000");
  return toml + "\n[retry]\nbase_delay_ms = 20\nmax_delay_ms = 300\n";
}

// Five jobs of the example's two kinds: text-to-video (sora-2) and image-to-video
// (sora_video2, landscape, 15 s).
std::string five_jobs() {
  std::string yaml =
      "batch: chat5\n"
      "defaults: {provider: chat, model: sora-2, seconds: 10, orientation: portrait, size: small}\n"
      "jobs:\n";
  for (int i = 0; i < 5; ++i) {
    yaml += "  - id: clip-" + std::to_string(i) + "\n    prompt: \"A paper boat, take " +
            std::to_string(i) + "\"\n";
    if (i % 2 == 1) {
      yaml +=
          "    model: sora_video2\n    orientation: landscape\n    seconds: 15\n"
          "    images: [\"https://img.example/boat.png\"]\n";
    }
  }
  return yaml;
}

struct ChatRun {
  CommandResult result;
  rapidjson::Document stats;
  std::vector<JobRecord> jobs;
};

ChatRun run_chat_manifest(E2eFolder& folder, const SimProcess& sim, const std::string& manifest) {
  ChatRun run;
  run.result = folder.run({"run", manifest});
  run.stats = parse_json(sim.stats());
  run.jobs = folder.open_store()->list_jobs({}).value();
  return run;
}

// The folder's config (config/chat.toml at the simulator, at most `max_in_flight` streams) and
// the gateway key.
void prepare(E2eFolder& folder, const SimProcess& sim, int max_in_flight,
             const std::string& extra = "") {
  folder.write_raw_config(chat_config(sim, max_in_flight) + extra);
  folder.set_env("GATEWAY_API_KEY", k_chat_key);
}

// five_jobs() with at most `max_in_flight` streams.
ChatRun run_five_jobs(E2eFolder& folder, const SimProcess& sim, int max_in_flight) {
  prepare(folder, sim, max_in_flight);
  std::ofstream(folder.path("chat5.yaml")) << five_jobs();
  return run_chat_manifest(folder, sim, folder.path("chat5.yaml"));
}

std::vector<std::string> sim_flags(std::vector<std::string> extra = {},
                                   const std::string& gen_ms = "400") {
  std::vector<std::string> flags = {"--dialect", "chat", "--require-key", k_chat_key,
                                    "--gen-ms",  gen_ms, "--quiet"};
  flags.insert(flags.end(), extra.begin(), extra.end());
  return flags;
}

}  // namespace

TEST_CASE("chat: the example runs to done, one create per video, links fetched without the key",
          "[e2e][chat]") {
  SimProcess sim(sim_flags());
  E2eFolder folder;
  prepare(folder, sim, 4);
  ChatRun run = run_chat_manifest(folder, sim, k_source + "/jobs/examples/chat.yaml");
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);
  REQUIRE(run.jobs.size() == 2);
  CHECK(run.stats["creates_total"].GetInt() == 2);
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id << " " << job.error_message);
    CHECK(job.state == JobState::done);
    CHECK(creates_for(run.stats, job.spec.prompt) == 1);
    CHECK(sha256_file(job.output_path) == job.sha256);
    CHECK(job.remote_id.starts_with("http://127.0.0.1:" + std::to_string(sim.cdn_port())));
    CHECK(job.check.verdict == "ok");
  }
  CHECK(run.stats["auth_headers_seen_on_files"].GetInt() == 0);
  CHECK(run.stats["requests_by_route"]["POST /v1/chat/completions"].GetInt() == 2);
}

TEST_CASE("chat: the in-flight cap is the number of open streams", "[e2e][chat]") {
  // The simulator refuses a third unfinished video with 429: a client that opened more streams
  // than its cap would be refused (and slowed down) here.
  SimProcess sim(sim_flags({"--max-in-flight", "2"}));
  E2eFolder folder;
  ChatRun run = run_five_jobs(folder, sim, 2);
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);
  CHECK(run.stats["creates_total"].GetInt() == 5);
  CHECK(run.stats["max_in_flight_seen"].GetInt() == 2);
  CHECK(run.stats["requests_by_route"]["POST /v1/chat/completions"].GetInt() == 5);
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id << " " << job.error_message);
    CHECK(job.state == JobState::done);
  }
}

TEST_CASE("chat: a stream cut after the request left is held ambiguous, never sent again",
          "[e2e][chat]") {
  SimProcess sim(sim_flags({"--lose-create-answers", "2"}));
  E2eFolder folder;
  ChatRun run = run_five_jobs(folder, sim, 4);
  INFO(run.result.out << run.result.err);
  CHECK(run.result.exit_code != 0);
  CHECK(run.stats["creates_total"].GetInt() == 5);
  CHECK(run.stats["faults_injected"]["lost_create"].GetInt() == 2);
  int held = 0;
  const CommandResult status = folder.run({"status"});
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id << " " << job.error_code << ": " << job.error_message);
    CHECK(creates_for(run.stats, job.spec.prompt) == 1);
    CHECK((job.state == JobState::done || job.state == JobState::ambiguous));
    if (job.state == JobState::ambiguous) {
      ++held;
      CHECK(job.error_code == "create_ambiguous");
      // The cut came after two progress deltas: the stream had said the video was under way.
      CHECK(job.error_message.find("the stream had reported") != std::string::npos);
      CHECK(status.out.find("chat5/" + job.spec.id) != std::string::npos);
    }
  }
  CHECK(held == 2);

  // Another run leaves them held: no listing can prove anything, so nothing is sent again.
  ChatRun again = run_chat_manifest(folder, sim, folder.path("chat5.yaml"));
  INFO(again.result.out << again.result.err);
  CHECK(again.stats["creates_total"].GetInt() == 5);
  int still_held = 0;
  for (const auto& job : again.jobs) {
    still_held += job.state == JobState::ambiguous ? 1 : 0;
  }
  CHECK(still_held == 2);
}

TEST_CASE("chat: a stream outlives http.request_timeout_ms; the job timeout bounds it",
          "[e2e][chat]") {
  // Each video takes 2.5 s, its stream as long; a create bounded by the 1 s request timeout
  // would be cut by vidbatch itself and held ambiguous.
  SimProcess sim(sim_flags({}, "2500"));
  E2eFolder folder;
  prepare(folder, sim, 4, "[http]\nrequest_timeout_ms = 1000\n");
  ChatRun run = run_chat_manifest(folder, sim, k_source + "/jobs/examples/chat.yaml");
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);
  CHECK(run.stats["creates_total"].GetInt() == 2);
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id << " " << job.error_message);
    CHECK(job.state == JobState::done);
  }
}

TEST_CASE("chat: `jobs` shows a video's progress while its stream is still open", "[e2e][chat]") {
  // Each video takes 8 s, its stream a progress delta every 0.8 s: the ledger must hold the
  // progress of a job still `submitting` (its stream open), not only once the stream ends.
  SimProcess sim(sim_flags({}, "8000"));
  E2eFolder folder;
  prepare(folder, sim, 4);
  auto process = folder.start({"run", k_source + "/jobs/examples/chat.yaml"}, "");
  double seen = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (seen == 0 && std::chrono::steady_clock::now() < deadline &&
         !process->wait_for(std::chrono::milliseconds(200))) {
    const CommandResult jobs = folder.run({"jobs", "--state", "submitting", "--json"});
    std::istringstream lines(jobs.out);
    for (std::string line; std::getline(lines, line);) {
      const rapidjson::Document job = parse_json(line);
      if (job["progress"].IsNumber()) {
        seen = std::max(seen, job["progress"].GetDouble());
      }
    }
  }
  const CommandResult result = folder.finish(*process);
  INFO(result.out << result.err);
  CHECK(seen >= 5.0);
  REQUIRE(result.exit_code == 0);
  const std::vector<JobRecord> jobs = folder.open_store()->list_jobs({}).value();
  for (const auto& job : jobs) {
    CHECK(job.state == JobState::done);
  }
}

TEST_CASE("chat: validate names the file, line and field the route cannot carry", "[e2e][chat]") {
  E2eFolder folder;
  folder.write_raw_config(
      "[providers]\ndefault = \"chat\"\n[providers.chat]\ndialect = \"chat\"\n"
      "base_url = \"https://gw.example/v1\"\napi_key_env = \"GATEWAY_API_KEY\"\n");
  std::ofstream(folder.path("bad.yaml"))
      << "batch: bad\n"
         "defaults: {provider: chat, model: sora-2, orientation: portrait, size: small}\n"
         "jobs:\n"
         "  - id: a\n    prompt: \"x\"\n    seconds: 8\n";
  const CommandResult result =
      folder.run({"validate", folder.path("bad.yaml"), "--config", folder.path("vidbatch.toml")});
  INFO(result.out << result.err);
  CHECK(result.exit_code != 0);
  CHECK(result.err.find("bad.yaml:4:") != std::string::npos);
  CHECK(result.err.find("jobs[0].seconds: the chat route has no length field") !=
        std::string::npos);
}
