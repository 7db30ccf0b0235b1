// End-to-end: jobs/examples/wan.yaml (text-to-video, first frame, first+last frame) with
// config/wan.toml against `vidbatch-sim --dialect wan`: directly (Bearer, X-DashScope-Async) and
// through a /wan gateway in both answer shapes. A lost create is found in the task listing by
// model and time and adopted; an expired OSS URL is queried again, never generated again. A task
// that answers UNKNOWN is followed through the listing and, where it cannot settle it, held.
#include <catch2/catch.hpp>

#include <fstream>

#include "e2e/native_example.h"

using namespace vb;
using namespace vb::test;

namespace {

const NativeExample k_wan{"wan", "https://dashscope-intl.aliyuncs.com", "DASHSCOPE_API_KEY"};

}  // namespace

TEST_CASE("wan: the example runs direct and through a gateway in both shapes", "[e2e][wan]") {
  for (Route route : {Route::direct, Route::gateway_native, Route::gateway_taskdto}) {
    DYNAMIC_SECTION("route " << static_cast<int>(route)) {
      check_one_video_per_job(run_native_example(k_wan, route));
    }
  }
}

TEST_CASE("wan: lost create answers are found in the listing, never paid twice", "[e2e][wan]") {
  NativeRun run = run_native_example(k_wan, Route::direct, {"--lose-create-answers", "3"});
  check_one_video_per_job(run);
}

TEST_CASE("wan: a task that answers UNKNOWN is looked up in the listing, not created again",
          "[e2e][wan]") {
  // Each task's first query answers UNKNOWN (as asked in another region) while the listing
  // still shows the task: the listing, not a new create, follows the job, and once it shows the
  // task done the job's own query is asked again and names the URL. Statuses come from queries
  // otherwise, so every listing page here was asked for a lost id.
  NativeRun run = run_native_example(k_wan, Route::direct, {"--unknown-queries", "1"},
                                     "poll_by_listing = false\n");
  check_one_video_per_job(run);
  CHECK(run.stats["faults_injected"]["unknown_query"].GetInt() == 3);
  CHECK(run.stats["requests_by_route"].HasMember("GET /api/v1/tasks"));
  CHECK(run.result.err.find("('UNKNOWN'); looking for it in the listing") != std::string::npos);
}

TEST_CASE("wan: a task that stays UNKNOWN is held ambiguous, never failed nor created again",
          "[e2e][wan]") {
  // Without the listing's verdict the jobs would poll until limits.job_timeout_ms failed them.
  const std::string limits = "job_timeout_ms = 20000\n";
  // Still listed (done, but the listing names no URL) / expired with its task: not listed.
  for (const auto& flags : {std::vector<std::string>{"--unknown-queries", "1000000"},
                            std::vector<std::string>{"--task-ttl-ms", "1"}}) {
    DYNAMIC_SECTION(flags[0]) {
      NativeRun run = run_native_example(k_wan, Route::direct, flags, limits);
      INFO(run.result.out << run.result.err);
      CHECK(run.result.exit_code != 0);
      CHECK(run.stats["creates_total"].GetInt() == 3);
      CHECK(run.stats["requests_by_route"].HasMember("GET /api/v1/tasks"));
      int held = 0;
      for (const auto& job : run.jobs) {
        INFO("job " << job.spec.id << ": " << job.error_message);
        CHECK(creates_for(run.stats, job.spec.prompt) == 1);
        // A query that lands in the 1 ms between the task's end and its expiry may fetch it.
        CHECK((job.state == JobState::ambiguous || job.state == JobState::done));
        if (job.state == JobState::ambiguous) {
          CHECK(job.error_code == "task_lost");
          held += 1;
        }
      }
      CHECK(held >= (flags[0] == "--unknown-queries" ? 3 : 1));
    }
  }
}

TEST_CASE("wan: an expired video URL is queried again, not generated again", "[e2e][wan]") {
  // Every OSS URL is past its Expires when it is first named: each download is refused, each
  // retry asks for the task again, until the download attempts are spent.
  NativeRun run = run_native_example(k_wan, Route::direct, {"--url-ttl-ms", "1"});
  INFO(run.result.out << run.result.err);
  CHECK(run.result.exit_code != 0);
  CHECK(run.stats["creates_total"].GetInt() == 3);
  CHECK(run.stats["queries"].GetInt() > 9);
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id);
    CHECK(job.state == JobState::failed);
    CHECK(creates_for(run.stats, job.spec.prompt) == 1);
  }
}

TEST_CASE("wan: params reach DashScope typed; a typo stops the run before a create", "[e2e][wan]") {
  vidbatch::test::SimProcess sim({"--dialect", "wan", "--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  folder.write_config(8, "[provider]\ndialect = \"wan\"\n");
  folder.set_env("DASHSCOPE_API_KEY", "sk-wan");
  const std::string head =
      "batch: wp\ndefaults: {model: wan2.6-t2v, seconds: 5}\njobs:\n  - id: fox\n"
      "    prompt: \"A red fox\"\n    params:\n      negative_prompt: blur\n";
  std::ofstream(folder.path("typo.yaml")) << head << "      prompt_extent: false\n";
  CommandResult typo = folder.run({"run", folder.path("typo.yaml")}, sim.root_url());
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("typo.yaml:8:7: jobs[0].params.prompt_extent: wan has no option "
                      "'prompt_extent' (did you mean prompt_extend?)") != std::string::npos);
  CHECK(parse_json(sim.stats())["creates_total"].GetInt() == 0);

  std::ofstream(folder.path("ok.yaml")) << head << "      prompt_extend: false\n      seed: 7\n";
  CommandResult ok = folder.run({"run", folder.path("ok.yaml")}, sim.root_url());
  INFO(ok.out << ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(parse_json(sim.stats())["creates_total"].GetInt() == 1);
}
