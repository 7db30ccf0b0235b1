// [provider] The manifest's `params:`: each dialect's known options and their types, checked
// with the key's place and a "did you mean"; written into the create body as given; kept by the
// ledger's JSON of the job.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include "manifest/manifest.h"
#include "manifest/manifest_test_util.h"
#include "provider/registry.h"
#include "provider/vendor_params.h"

using namespace vb;

namespace {

JobSpec with_params(std::string model, std::vector<VendorParam> params) {
  JobSpec spec;
  spec.id = "job";
  spec.prompt = "A fox";
  spec.model = std::move(model);
  spec.seconds = 5;
  spec.location = {"m.yaml", 3, 5};
  spec.params = std::move(params);
  return spec;
}

VendorParam param(std::string key, std::string json, int line = 7) {
  return {std::move(key), std::move(json), {"m.yaml", line, 7}};
}

std::string problem(Dialect dialect, const JobSpec& spec) {
  const auto p = check_params(dialect, spec);
  return p ? p->location.describe() + ": " + p->message : "";
}

rapidjson::Document create_body(Dialect dialect, const JobSpec& spec) {
  ProviderConfig config;
  config.dialect = dialect;
  config.base_url = "https://vendor.test";
  auto req = make_provider(config)->create_request(spec, {}).value();
  rapidjson::Document doc;
  doc.Parse(req.body.c_str());
  REQUIRE(doc.IsObject());
  return doc;
}

}  // namespace

TEST_CASE("params: a typo names its place and the key it resembles", "[provider]") {
  const auto spec = with_params("kling-v2-6", {param("cfg_scal", "0.5", 9)});
  CHECK(problem(Dialect::kling, spec) ==
        "m.yaml:9:7: params.cfg_scal: kling has no option 'cfg_scal' (did you mean cfg_scale?); "
        "it knows negative_prompt, cfg_scale, mode, camera_control");
  CHECK(problem(Dialect::openai, with_params("sora-2", {param("seed", "1")})) ==
        "m.yaml:7:7: params.seed: the openai dialect takes no params; remove the key");
  CHECK(problem(Dialect::unified, with_params("sora-2", {param("seed", "1")}))
            .find("unified dialect takes no params") != std::string::npos);
  CHECK(problem(Dialect::minimax,
                with_params("MiniMax-Hailuo-02", {param("prompt_optimiser", "true")}))
            .find("did you mean prompt_optimizer?") != std::string::npos);
}

TEST_CASE("params: values are checked against the option's type", "[provider]") {
  const auto check = [](Dialect d, const char* key, const char* json) {
    return problem(d, with_params("m", {param(key, json)}));
  };
  CHECK(check(Dialect::kling, "cfg_scale", "0.5").empty());
  CHECK(check(Dialect::kling, "cfg_scale", "2") ==
        "m.yaml:7:7: params.cfg_scale: expected a number from 0 to 1, got 2");
  CHECK(check(Dialect::kling, "cfg_scale", "\"0.5\"")
            .starts_with("m.yaml:7:7: params.cfg_scale: expected a number"));
  CHECK(check(Dialect::kling, "mode", "\"pro\"").empty());
  CHECK(check(Dialect::kling, "mode", "\"fast\"") ==
        "m.yaml:7:7: params.mode: expected one of std,pro, got \"fast\"");
  CHECK(check(Dialect::kling, "camera_control", R"({"type":"simple"})").empty());
  CHECK_FALSE(check(Dialect::kling, "camera_control", "\"down\"").empty());
  CHECK(check(Dialect::minimax, "prompt_optimizer", "false").empty());
  CHECK_FALSE(check(Dialect::minimax, "prompt_optimizer", "\"no\"").empty());
  CHECK(check(Dialect::wan, "seed", "42").empty());
  CHECK_FALSE(check(Dialect::wan, "seed", "4.5").empty());
  CHECK_FALSE(check(Dialect::seedance, "execution_expires_after", "60").empty());
  CHECK(check(Dialect::seedance, "service_tier", "\"flex\"").empty());
  CHECK(check(Dialect::vidu, "movement_amplitude", "\"large\"").empty());
}

TEST_CASE("params: the provider sends them where its body takes them", "[provider]") {
  auto kling =
      create_body(Dialect::kling,
                  with_params("kling-v2-6", {param("cfg_scale", "0.5"), param("mode", "\"pro\""),
                                             param("camera_control", R"({"type":"simple"})")}));
  CHECK(kling["cfg_scale"].GetDouble() == 0.5);
  CHECK(std::string(kling["mode"].GetString()) == "pro");  // the option, not size's "std"
  CHECK(std::string(kling["camera_control"]["type"].GetString()) == "simple");
  auto wan =
      create_body(Dialect::wan, with_params("wan2.6-t2v", {param("negative_prompt", "\"blur\""),
                                                           param("prompt_extend", "false")}));
  CHECK(std::string(wan["input"]["negative_prompt"].GetString()) == "blur");
  CHECK(wan["parameters"]["prompt_extend"].GetBool() == false);
  CHECK_FALSE(wan.HasMember("prompt_extend"));
  auto minimax = create_body(Dialect::minimax, with_params("MiniMax-Hailuo-02",
                                                           {param("prompt_optimizer", "false")}));
  CHECK(minimax["prompt_optimizer"].GetBool() == false);
  auto seedance = create_body(Dialect::seedance,
                              with_params("doubao-seedance-1-0-pro-250528", {param("seed", "7")}));
  CHECK(seedance["seed"].GetInt() == 7);
}

TEST_CASE("params: read from the manifest with their types and places", "[manifest]") {
  manifest_test::TempDir dir;
  const auto file = dir.write("m.yaml",
                              "batch: b\n"
                              "defaults:\n"
                              "  model: kling-v2-6\n"
                              "  params: {negative_prompt: blur, cfg_scale: 0.3}\n"
                              "jobs:\n"
                              "  - id: a\n"
                              "    prompt: x\n"
                              "    params:\n"
                              "      cfg_scale: 0.5\n"
                              "      mode: \"pro\"\n"
                              "      camera_control: {type: simple, config: {zoom: 5}}\n");
  auto manifest = load_manifest(file.string());
  INFO((manifest ? std::string() : manifest.error().message));
  REQUIRE(manifest.has_value());
  const auto& params = manifest->jobs[0].params;
  REQUIRE(params.size() == 4);
  CHECK(params[0].key == "negative_prompt");
  CHECK(params[0].json == "\"blur\"");
  CHECK(params[1].key == "cfg_scale");
  CHECK(params[1].json == "0.5");  // the job's value replaces the default's
  CHECK(params[1].location.line == 9);
  CHECK(params[1].location.column == 7);
  CHECK(params[3].json == R"({"type":"simple","config":{"zoom":5}})");
  // The ledger's JSON of the job keeps them.
  auto back = job_spec_from_json(manifest->jobs[0].canonical_json());
  REQUIRE(back.has_value());
  REQUIRE(back->params.size() == 4);
  CHECK(back->params[3].json == params[3].json);

  const auto bad =
      dir.write("bad.yaml", "batch: b\njobs:\n  - id: a\n    prompt: x\n    params: [seed]\n");
  auto refused = load_manifest(bad.string());
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find(":5:13: jobs[0].params: expected a map") != std::string::npos);
}
