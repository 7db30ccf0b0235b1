// Manifests that load: defaults, overrides, images, and the shipped examples.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>

#include "manifest/manifest.h"
#include "manifest_test_util.h"

namespace vb {
namespace {

using manifest_test::parse_text;
using manifest_test::TempDir;

const JobSpec& job_named(const Manifest& manifest, const std::string& id) {
  for (const auto& job : manifest.jobs) {
    if (job.id == id) {
      return job;
    }
  }
  FAIL("no job " << id);
  throw std::logic_error("unreachable");
}

TEST_CASE("demo.yaml loads with defaults and per-job overrides", "[manifest]") {
  const auto manifest = load_manifest(manifest_test::example_path("demo.yaml"));
  REQUIRE(manifest.has_value());
  CHECK(manifest->batch == "demo");
  REQUIRE(manifest->jobs.size() == 6);

  const JobSpec& first = manifest->jobs[0];
  CHECK(first.id == "cat-surfing");
  CHECK(first.model == "sora-2");
  CHECK(first.seconds == 8);
  CHECK(first.orientation == Orientation::landscape);
  CHECK(first.size == "small");
  CHECK(first.images.empty());
  CHECK(first.prompt.starts_with("A ginger cat in a tiny wetsuit"));
  CHECK(first.location.line == 11);
  CHECK(first.location.column == 5);

  const JobSpec& city = job_named(*manifest, "city-night");
  CHECK(city.orientation == Orientation::portrait);
  CHECK(city.seconds == 4);
  const JobSpec& bakery = job_named(*manifest, "morning-bakery");
  CHECK(bakery.model == "sora-2-pro");
  CHECK(bakery.size == "large");
  CHECK(job_named(*manifest, "paper-boats").seconds == 12);
}

TEST_CASE("built-in defaults apply when the manifest has no defaults section", "[manifest]") {
  const auto parse = parse_text("batch: b\njobs:\n  - id: a\n    prompt: hello\n");
  REQUIRE(parse.diagnostics.empty());
  REQUIRE(parse.manifest.has_value());
  const JobSpec& job = parse.manifest->jobs.at(0);
  CHECK(job.model == "sora-2");
  CHECK(job.seconds == 4);
  CHECK(job.orientation == Orientation::landscape);
  CHECK(job.size == "small");
  CHECK(parse.manifest->path == "m.yaml");
  CHECK(job.location.file == "m.yaml");
}

TEST_CASE("job values override defaults, which override built-ins", "[manifest]") {
  const auto parse = parse_text(R"(jobs:
  - id: one
    prompt: "first"
  - id: two
    prompt: second
    model: veo-3
    seconds: 25
    orientation: landscape
    size: 1920x1080
defaults: {model: sora-2-pro, seconds: 12, orientation: portrait, size: large}
batch: mixed.batch_1
)");
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->batch == "mixed.batch_1");
  const auto& jobs = parse.manifest->jobs;
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].model == "sora-2-pro");
  CHECK(jobs[0].seconds == 12);
  CHECK(jobs[0].orientation == Orientation::portrait);
  CHECK(jobs[0].size == "large");
  CHECK(jobs[1].model == "veo-3");
  CHECK(jobs[1].seconds == 25);
  CHECK(jobs[1].orientation == Orientation::landscape);
  CHECK(jobs[1].size == "1920x1080");
}

TEST_CASE("block scalars and plain numbers are accepted as prompt text", "[manifest]") {
  const auto parse = parse_text(
      "batch: b\njobs:\n  - id: a\n    prompt: |\n      line one\n"
      "      line two\n  - id: b\n    prompt: 1984\n");
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->jobs[0].prompt == "line one\nline two\n");
  CHECK(parse.manifest->jobs[1].prompt == "1984");
}

TEST_CASE("relative images resolve against the manifest folder; URLs stay as is", "[manifest]") {
  TempDir dir;
  const auto image = dir.write("refs/street.png", manifest_test::k_png_bytes);
  dir.write("shared.png", manifest_test::k_png_bytes);
  const auto path = dir.write("jobs/m.yaml", R"(batch: refs
defaults:
  images: [../shared.png]
jobs:
  - id: with-refs
    prompt: "Neon city street"
    images: [../refs/street.png, "https://example.com/a.png", http://example.com/b.png]
  - id: inherits
    prompt: "Uses the default image"
)");
  const auto manifest = load_manifest(path.string());
  REQUIRE(manifest.has_value());
  const auto& jobs = manifest->jobs;
  REQUIRE(jobs[0].images.size() == 3);
  CHECK(jobs[0].images[0] == image.string());
  CHECK(std::filesystem::path(jobs[0].images[0]).is_absolute());
  CHECK(jobs[0].images[1] == "https://example.com/a.png");
  CHECK(jobs[0].images[2] == "http://example.com/b.png");
  REQUIRE(jobs[1].images.size() == 1);
  CHECK(jobs[1].images[0] == (dir.path() / "shared.png").string());
}

TEST_CASE("an absolute image path is kept and checked", "[manifest]") {
  TempDir dir;
  const auto image = dir.write("a.png", manifest_test::k_png_bytes);
  const auto parse = parse_manifest("batch: b\njobs:\n  - id: a\n    prompt: p\n    images: [" +
                                        image.string() + "]\n",
                                    "m.yaml", "/somewhere/else");
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->jobs[0].images == std::vector<std::string>{image.string()});
}

TEST_CASE("YAML anchors and aliases can share values between jobs", "[manifest]") {
  const auto parse = parse_text(
      "batch: b\njobs:\n  - id: a\n    prompt: &p shared prompt\n"
      "  - id: b\n    prompt: *p\n");
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->jobs[1].prompt == "shared prompt");
}

}  // namespace
}  // namespace vb
