// End-to-end: jobs/examples/seedance.yaml (text, first frame, first+last frame) with
// config/seedance.toml against `vidbatch-sim --dialect seedance`: directly with the Ark key and
// through a /seedance gateway with a Bearer key in both answer shapes. A lost create is found in
// the task listing (by model and settings) and adopted; an expired video URL is queried again,
// never generated again. Through a gateway that lists nothing, a lost create is held.
#include <catch2/catch.hpp>

#include "e2e/native_example.h"

using namespace vb;
using namespace vb::test;

namespace {

const NativeExample k_seedance{"seedance", "https://ark.ap-southeast.bytepluses.com",
                               "ARK_API_KEY"};

}  // namespace

TEST_CASE("seedance: the example runs direct and through a gateway in both shapes",
          "[e2e][seedance]") {
  for (Route route : {Route::direct, Route::gateway_native, Route::gateway_taskdto}) {
    DYNAMIC_SECTION("route " << static_cast<int>(route)) {
      check_one_video_per_job(run_native_example(k_seedance, route));
    }
  }
}

TEST_CASE("seedance: lost create answers are found in the listing, never paid twice",
          "[e2e][seedance]") {
  NativeRun run = run_native_example(k_seedance, Route::direct, {"--lose-create-answers", "3"});
  check_one_video_per_job(run);
}

TEST_CASE("seedance: an expired video URL is queried again, not generated again",
          "[e2e][seedance]") {
  NativeRun run = run_native_example(k_seedance, Route::direct, {"--url-ttl-ms", "1"});
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

TEST_CASE("seedance: through a gateway that lists nothing, a lost create is held",
          "[e2e][seedance]") {
  NativeRun run =
      run_native_example(k_seedance, Route::gateway_taskdto, {"--lose-create-answers", "3"});
  INFO(run.result.out << run.result.err);
  CHECK(run.result.exit_code != 0);
  CHECK(run.stats["creates_total"].GetInt() == 3);
  REQUIRE(run.jobs.size() == 3);
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id);
    CHECK(job.state == JobState::ambiguous);
    CHECK(creates_for(run.stats, job.spec.prompt) == 1);
  }
}
