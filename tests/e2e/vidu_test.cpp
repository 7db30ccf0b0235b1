// End-to-end: jobs/examples/vidu.yaml (text2video, img2video, start-end2video, reference2video)
// with config/vidu.toml against `vidbatch-sim --dialect vidu`: directly with `Authorization: Token`
// and through a /vidu gateway with a Bearer key in both answer shapes. A lost create is found in
// the task listing and adopted; an expired creation URL is queried again (each query signs a
// new one), never generated again.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "e2e/native_example.h"

using namespace vb;
using namespace vb::test;

namespace {

const NativeExample k_vidu{"vidu", "https://api.vidu.com", "VIDU_API_KEY"};

}  // namespace

TEST_CASE("vidu: the example runs direct and through a gateway in both shapes", "[e2e][vidu]") {
  for (Route route : {Route::direct, Route::gateway_native, Route::gateway_taskdto}) {
    DYNAMIC_SECTION("route " << static_cast<int>(route)) {
      check_one_video_per_job(run_native_example(k_vidu, route));
    }
  }
}

TEST_CASE("vidu: reference_images go to reference2video; other dialects refuse them",
          "[e2e][vidu]") {
  NativeRun run = run_native_example(k_vidu, Route::direct);
  check_one_video_per_job(run);
  CHECK(run.stats["requests_by_route"]["POST /ent/v2/reference2video"].GetInt() == 1);
  const auto job = std::find_if(run.jobs.begin(), run.jobs.end(),
                                [](const JobRecord& j) { return j.spec.id == "cat-window"; });
  REQUIRE(job != run.jobs.end());
  CHECK(job->spec.reference_images.size() == 2);

  // A Wan provider has no reference route: refused at the job's line, before any create.
  vidbatch::test::SimProcess sim({"--dialect", "wan", "--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  folder.write_config(8, "[provider]\ndialect = \"wan\"\n");
  folder.set_env("DASHSCOPE_API_KEY", "sk-wan");
  std::ofstream(folder.path("refs.yaml"))
      << "batch: refs\njobs:\n  - id: cat\n    model: wan2.6-i2v\n    prompt: \"A cat\"\n"
         "    seconds: 5\n    reference_images: [\"https://cdn.example.com/cat.png\"]\n";
  CommandResult refused = folder.run({"run", folder.path("refs.yaml")}, sim.root_url());
  INFO(refused.out << refused.err);
  CHECK(refused.exit_code == 2);
  CHECK(refused.err.find("refs.yaml:3:5: jobs[0].reference_images: dialect wan has no "
                         "reference-to-video route") != std::string::npos);
  CHECK(parse_json(sim.stats())["creates_total"].GetInt() == 0);
}

TEST_CASE("vidu: lost create answers are found in the listing, never paid twice", "[e2e][vidu]") {
  NativeRun run = run_native_example(k_vidu, Route::direct, {"--lose-create-answers", "3"});
  check_one_video_per_job(run);
}

TEST_CASE("vidu: an expired creation URL is queried again for a new one, never generated again",
          "[e2e][vidu]") {
  // Each query signs the creation URL anew for 1 ms: a download that starts later is refused,
  // and the job asks for its task again (a fresh URL) instead of creating it again.
  NativeRun run = run_native_example(k_vidu, Route::direct, {"--url-ttl-ms", "1"});
  INFO(run.result.out << run.result.err);
  CHECK(run.stats["creates_total"].GetInt() == 4);
  // Refused downloads were tried again with new URLs (4 videos and 4 covers at the least).
  CHECK(run.stats["requests_by_route"]["CDN GET /files/{name}"].GetInt() > 8);
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id);
    CHECK((job.state == JobState::done || job.state == JobState::failed));
    CHECK(creates_for(run.stats, job.spec.prompt) == 1);
  }
}
