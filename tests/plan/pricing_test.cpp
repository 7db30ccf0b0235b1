// [report][plan] Prices: the defaults, the [prices] table of the config, the
// per-job estimate and the plan of a manifest.
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <sstream>

#include "config/config.h"
#include "manifest/manifest.h"
#include "plan/plan.h"
#include "plan/pricing.h"
#include "provider/video_provider.h"

using namespace vb;

namespace {

JobSpec spec(const std::string& model, const std::string& size, int seconds,
             Orientation orientation = Orientation::landscape) {
  JobSpec s;
  s.id = "j";
  s.prompt = "p";
  s.model = model;
  s.size = size;
  s.seconds = seconds;
  s.orientation = orientation;
  return s;
}

}  // namespace

TEST_CASE("default prices are the 2026 list prices per second", "[plan]") {
  PriceTable prices = default_prices();
  CHECK(estimate_cost(spec("sora-2", "small", 4), prices) == Approx(0.40));
  CHECK(estimate_cost(spec("sora-2", "small", 12, Orientation::portrait), prices) == Approx(1.20));
  CHECK(estimate_cost(spec("sora-2-pro", "small", 8), prices) == Approx(2.40));
  CHECK(estimate_cost(spec("sora-2-pro", "large", 8), prices) == Approx(4.00));
  CHECK(estimate_cost(spec("sora-2-pro", "1024x1792", 4), prices) == Approx(2.00));
  // A dated snapshot costs what its model costs.
  CHECK(estimate_cost(spec("sora-2-pro-2025-10-06", "small", 4), prices) == Approx(1.20));
  CHECK_FALSE(estimate_cost(spec("veo3", "small", 8), prices).has_value());
  CHECK_FALSE(estimate_cost(spec("sora-2", "large", 8), prices).has_value());
  CHECK(priced_size(spec("sora-2", "small", 4, Orientation::portrait)) == "720x1280");
  CHECK(format_usd(0.4) == "$0.40");
  CHECK(format_usd(2.005) == "$2.01");
  CHECK(format_usd(std::nullopt) == "unknown");
}

TEST_CASE("a [prices] table adds to and overrides the defaults", "[plan][config]") {
  auto config = parse_config_text(
      "[limits]\nbudget_usd = 12.5\n"
      "[prices.sora-2]\n\"1280x720\" = 0.2\n"
      "[prices.veo3]\n\"1280x720\" = 1\n",
      "vidbatch.toml");
  INFO((config ? std::string() : config.error().describe()));
  REQUIRE(config.has_value());
  CHECK(config->budget_usd == Approx(12.5));
  CHECK(estimate_cost(spec("sora-2", "small", 4), config->prices) == Approx(0.8));
  CHECK(estimate_cost(spec("sora-2", "small", 4, Orientation::portrait), config->prices) ==
        Approx(0.4));  // untouched default
  CHECK(estimate_cost(spec("veo3", "small", 8), config->prices) == Approx(8.0));

  auto bad = parse_config_text("[prices.sora-2]\n\"1280x720\" = \"cheap\"\n", "vidbatch.toml");
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message, Catch::Contains("vidbatch.toml:2:"));
  CHECK_THAT(bad.error().message, Catch::Contains("prices.sora-2.1280x720"));
  auto flat = parse_config_text("[prices]\nsora-2 = 0.1\n", "vidbatch.toml");
  REQUIRE_FALSE(flat.has_value());
  CHECK_THAT(flat.error().message, Catch::Contains("expected a table of sizes"));
  auto negative = parse_config_text("[limits]\nbudget_usd = -1\n", "vidbatch.toml");
  REQUIRE_FALSE(negative.has_value());
}

TEST_CASE("the shipped config/vidbatch.toml prices equal the built-in defaults", "[plan][config]") {
  ConfigOverrides overrides;
  overrides.config_path = std::string(VIDBATCH_SOURCE_DIR) + "/config/vidbatch.toml";
  auto config = load_config(overrides, [](const std::string&) { return std::nullopt; });
  INFO((config ? std::string() : config.error().describe()));
  REQUIRE(config.has_value());
  CHECK(config->prices.usd_per_second == default_prices().usd_per_second);
  CHECK_FALSE(config->budget_usd.has_value());
}

TEST_CASE("a plan prices every job and totals seconds and cost", "[plan]") {
  auto parsed = parse_manifest(
      "batch: promo\n"
      "defaults: {model: sora-2, seconds: 4}\n"
      "jobs:\n"
      "  - {id: a, prompt: one}\n"
      "  - {id: b, prompt: two, seconds: 8, orientation: portrait}\n"
      "  - {id: c, prompt: three, model: sora-2-pro, size: large, seconds: 12}\n"
      "  - {id: d, prompt: four, model: veo-x, seconds: 8}\n",
      "promo.yaml", ".");
  REQUIRE(parsed.manifest.has_value());
  Config config;
  config.budget_usd = 5.0;
  auto plan = make_plan(*parsed.manifest, config);
  REQUIRE(plan.has_value());
  CHECK(plan->jobs.size() == 4);
  CHECK(plan->total_seconds == 32);
  CHECK(plan->priced_cost_usd == Approx(0.4 + 0.8 + 6.0));
  CHECK(plan->unpriced_jobs == 1);
  CHECK(plan->jobs[1].size == "720x1280");

  std::ostringstream text;
  write_plan(*plan, false, text);
  CHECK_THAT(text.str(),
             Catch::Contains("4 job(s), 32 s of video, estimated cost $7.20 plus 1 job(s)"));
  CHECK_THAT(text.str(), Catch::Contains("budget $5.00: NOT enough"));
  std::ostringstream json;
  write_plan(*plan, true, json);
  rapidjson::Document doc;
  doc.Parse(json.str().c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(doc["total_seconds"].GetInt() == 32);
  CHECK(doc["estimated_cost_usd"].GetDouble() == Approx(7.2));
  CHECK(doc["jobs"][3]["cost_usd"].IsNull());
  CHECK(doc["budget_usd"].GetDouble() == Approx(5.0));
}

TEST_CASE("a plan refuses jobs the provider cannot run, naming each", "[plan]") {
  auto parsed = parse_manifest(
      "batch: promo\njobs:\n  - {id: a, prompt: one, seconds: 5}\n"
      "  - {id: b, prompt: two, size: large}\n",
      "promo.yaml", ".");
  REQUIRE(parsed.manifest.has_value());
  Config config;
  auto plan = make_plan(*parsed.manifest, config);
  REQUIRE_FALSE(plan.has_value());
  CHECK(plan.error().code == ErrorCode::invalid_input);
  CHECK_THAT(plan.error().message, Catch::Contains("promo.yaml:3:"));
  CHECK_THAT(plan.error().message, Catch::Contains("jobs[1].size"));
}
