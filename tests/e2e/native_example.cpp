#include "e2e/native_example.h"

#include <catch2/catch.hpp>

#include <map>

namespace vb::test {

namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

}  // namespace

NativeRun run_native_example(const NativeExample& example, Route route,
                             const std::vector<std::string>& sim_flags, const std::string& limits) {
  const std::string key = "sk-" + example.dialect + "-e2e";
  std::vector<std::string> flags = {"--dialect", example.dialect, "--gen-ms", "300",
                                    "--quiet",   "--require-key", key};
  if (route != Route::direct) {
    flags.insert(flags.end(), {"--gateway-prefix", "/" + example.dialect, "--gateway-shape",
                               route == Route::gateway_native ? "native" : "taskdto"});
  }
  flags.insert(flags.end(), sim_flags.begin(), sim_flags.end());
  vidbatch::test::SimProcess sim(flags);

  const std::string source = VIDBATCH_SOURCE_DIR;
  std::string toml = read_file(source + "/config/" + example.dialect + ".toml");
  toml = toml.substr(toml.find("[providers]"));
  replace_all(toml, example.vendor_origin, sim.root_url());
  replace_all(toml, "https://gateway.example", sim.root_url());
  if (route != Route::direct) {
    replace_all(toml, "default = \"" + example.dialect + "\"",
                "default = \"" + example.dialect + "-gw\"");
  }
  E2eFolder folder;
  folder.write_config(8, toml, limits);
  folder.set_env(example.key_env, key);
  folder.set_env("GATEWAY_API_KEY", key);

  NativeRun run;
  run.result = folder.run({"run", source + "/jobs/examples/" + example.dialect + ".yaml"});
  run.stats = parse_json(sim.stats());
  run.jobs = folder.open_store()->list_jobs({}).value();
  for (const auto& job : run.jobs) {
    if (job.state == JobState::done && sha256_file(job.output_path) == job.sha256) {
      run.files_as_recorded += 1;
    }
  }
  return run;
}

void check_one_video_per_job(const NativeRun& run) {
  INFO(run.result.out << run.result.err);
  REQUIRE(run.result.exit_code == 0);
  REQUIRE(run.jobs.size() >= 3);
  const int jobs = static_cast<int>(run.jobs.size());
  CHECK(run.stats["creates_total"].GetInt() == jobs);
  CHECK(run.stats["auth_headers_seen_on_files"].GetInt() == 0);
  std::map<std::string, std::string> served;
  for (const auto& v : run.stats["videos"].GetArray()) {
    served[v["prompt"].GetString()] = v["sha256"].GetString();
  }
  for (const auto& job : run.jobs) {
    INFO("job " << job.spec.id);
    CHECK(job.state == JobState::done);
    CHECK(creates_for(run.stats, job.spec.prompt) == 1);
    CHECK(served[job.spec.prompt] == job.sha256);
  }
  CHECK(run.files_as_recorded == jobs);
}

}  // namespace vb::test
