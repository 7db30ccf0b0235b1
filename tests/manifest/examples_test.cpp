// Every shipped example manifest loads without a diagnostic, and each shows
// what its comments say.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "manifest/manifest.h"
#include "manifest_test_util.h"

namespace vb {
namespace {

std::vector<std::string> ids_of(const Manifest& manifest) {
  std::vector<std::string> ids;
  for (const auto& job : manifest.jobs) {
    ids.push_back(job.id);
  }
  return ids;
}

Manifest load_example(const std::string& name) {
  auto manifest = load_manifest(manifest_test::example_path(name));
  INFO((manifest ? std::string() : manifest.error().message));
  REQUIRE(manifest.has_value());
  return std::move(*manifest);
}

TEST_CASE("every jobs/examples/*.yaml loads without diagnostics", "[manifest]") {
  std::vector<std::string> names;
  for (const auto& file : std::filesystem::directory_iterator(manifest_test::example_path(""))) {
    if (file.path().extension() == ".yaml") {
      names.push_back(file.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  // The ones below are checked in detail; a new example is picked up here too.
  for (const char* expected :
       {"chain.yaml", "characters.yaml", "demo.yaml", "matrix.yaml", "prompts-csv.yaml",
        "prompts-txt.yaml", "unified.yaml", "variants.yaml"}) {
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
  }
  for (const auto& name : names) {
    const auto manifest = load_manifest(manifest_test::example_path(name));
    INFO(name << ": " << (manifest ? std::string() : manifest.error().message));
    CHECK(manifest.has_value());
  }
}

TEST_CASE("examples: matrix.yaml expands to ten jobs", "[manifest]") {
  const Manifest manifest = load_example("matrix.yaml");
  CHECK(ids_of(manifest) ==
        std::vector<std::string>{"lighthouse-watercolor-landscape",
                                 "lighthouse-watercolor-portrait", "lighthouse-film-noir-landscape",
                                 "lighthouse-film-noir-portrait", "lighthouse-claymation-landscape",
                                 "lighthouse-claymation-portrait", "fox-morning-sun-4s",
                                 "fox-morning-sun-8s", "fox-blue-hour-4s", "fox-blue-hour-8s"});
  CHECK(manifest.jobs[2].prompt ==
        "A lighthouse on a cliff at dusk, waves exploding below, film noir look");
  CHECK(manifest.jobs[3].orientation == Orientation::portrait);
  CHECK(manifest.jobs[7].seconds == 8);
  CHECK(manifest.jobs[7].prompt.find("in the morning sun,") != std::string::npos);
}

TEST_CASE("examples: variants.yaml makes takes with -vN ids", "[manifest]") {
  CHECK(ids_of(load_example("variants.yaml")) ==
        std::vector<std::string>{"paper-boats-v1", "paper-boats-v2", "paper-boats-v3",
                                 "desert-timelapse-v1", "desert-timelapse-v2", "city-night"});
}

TEST_CASE("examples: prompts-txt.yaml and prompts-csv.yaml read their files", "[manifest]") {
  const Manifest txt = load_example("prompts-txt.yaml");
  CHECK(ids_of(txt) == std::vector<std::string>{"haiku-3", "haiku-4", "haiku-6"});
  CHECK(txt.jobs[2].prompt == "Snow falling on a quiet temple roof at night, lanterns glowing");
  CHECK(txt.jobs[0].orientation == Orientation::portrait);

  const Manifest csv = load_example("prompts-csv.yaml");
  CHECK(ids_of(csv) == std::vector<std::string>{"kitchen-sunrise", "rainy-window", "mood-4"});
  CHECK(csv.jobs[0].seconds == 8);
  CHECK(csv.jobs[1].seconds == 4);
  CHECK(csv.jobs[1].orientation == Orientation::portrait);
  CHECK(csv.jobs[1].prompt.find("\"lo-fi\" mood") != std::string::npos);
  CHECK(csv.jobs[2].prompt ==
        "A spinning vinyl record, needle dropping,\nclose-up with shallow depth of field");
  CHECK(csv.jobs[2].seconds == 12);
  CHECK(csv.jobs[2].location.line == 4);
  CHECK(csv.jobs[2].location.file.ends_with("prompts.csv"));
}

TEST_CASE("examples: chain.yaml is create -> remix_of -> remix_of", "[manifest]") {
  const Manifest manifest = load_example("chain.yaml");
  REQUIRE(manifest.jobs.size() == 3);
  CHECK(manifest.jobs[0].derived == DerivedKind::none);
  CHECK(manifest.jobs[1].derived == DerivedKind::remix);
  CHECK(manifest.jobs[1].parent == "garden-base");
  CHECK(manifest.jobs[2].derived == DerivedKind::remix);
  CHECK(manifest.jobs[2].parent == "garden-autumn");
}

TEST_CASE("examples: characters.yaml defines characters from a local MP4", "[manifest]") {
  const Manifest manifest = load_example("characters.yaml");
  REQUIRE(manifest.characters.size() == 2);
  CHECK(manifest.characters[0].name == "Mira");
  CHECK(manifest.characters[0].video ==
        std::filesystem::path(manifest_test::example_path("assets/mira.mp4")).lexically_normal());
  CHECK(manifest.characters[0].provider.empty());
  CHECK(manifest.characters[1].provider.empty());  // each made by the default provider
  CHECK(manifest.jobs[1].characters == std::vector<std::string>{"Mira", "Otto"});
  for (const auto& job : manifest.jobs) {
    for (const auto& name : job.characters) {
      CHECK(job.prompt.find(name) != std::string::npos);  // as OpenAI recommends
    }
  }
}

TEST_CASE("examples: unified.yaml uses the unified-only fields", "[manifest]") {
  const Manifest manifest = load_example("unified.yaml");
  REQUIRE(manifest.jobs.size() == 2);
  const JobSpec& beach = manifest.jobs[0];
  CHECK(beach.character_url == "https://cdn.example.com/clips/corgi.mp4");
  CHECK(beach.character_timestamps == "1,3");
  CHECK(beach.watermark == false);
  CHECK(beach.private_video == true);
  CHECK(beach.seconds == 10);
  const JobSpec& snow = manifest.jobs[1];
  CHECK(snow.character_timestamps == "0.5,2.5");
  CHECK(snow.watermark == true);
  CHECK(snow.size == "large");
  CHECK(snow.seconds == 15);
}

TEST_CASE("bad/chain_and_matrix.yaml: problems of the newer keys, all of them", "[manifest]") {
  const auto path = manifest_test::example_path("bad/chain_and_matrix.yaml");
  const auto result = load_manifest(path);
  REQUIRE_FALSE(result.has_value());
  std::vector<std::string> lines;
  std::string message = result.error().message;
  for (std::size_t start = 0; start < message.size();) {
    const std::size_t end = std::min(message.find('\n', start), message.size());
    if (message.compare(start, path.size(), path) == 0) {
      lines.push_back(message.substr(start + path.size(), end - start - path.size()));
    }
    start = end + 1;
  }
  CHECK(lines == std::vector<std::string>{
                     ":4:13: defaults.variants: must be between 1 and 100, got 0",
                     ":8:15: jobs[0].remix_of: jobs form a cycle: a -> b -> a",
                     ":15:14: jobs[2].matrix.style: must list at least one value",
                     ":18:15: jobs[3].remix_of: no job 'nowhere' in this manifest",
                     ":19:16: jobs[3].watermark: expected true or false, got 'yes'",
                     ":20:27: jobs[3].character_timestamps: must span 1 to 3 seconds, got '2,9'"});
}

TEST_CASE("every jobs/examples/bad/*.yaml fails to load", "[manifest]") {
  for (const auto& file : std::filesystem::directory_iterator(manifest_test::example_path("bad"))) {
    if (file.path().extension() == ".yaml") {
      INFO(file.path().string());
      CHECK_FALSE(load_manifest(file.path().string()).has_value());
    }
  }
}

}  // namespace
}  // namespace vb
