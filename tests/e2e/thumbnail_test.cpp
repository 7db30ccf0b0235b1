// End-to-end (#6): thumbnails next to the videos, for each dialect and answer
// shape, against the real simulator; none fetched with output.thumbnails = false;
// the HTML report uses them as posters.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

// Valid for both dialects: sora-2, 10 s, size small.
const char* k_thumbnail_manifest =
    "batch: thumbs\n"
    "defaults: {model: sora-2, seconds: 10, size: small}\n"
    "jobs:\n"
    "  - id: harbor\n    prompt: \"Fishing boats leaving a misty harbor at dawn\"\n"
    "  - id: forest\n    prompt: \"Sunlight through a pine forest after rain\"\n"
    "  - id: market\n    prompt: \"A night market with lanterns and steam\"\n";

struct ThumbnailVariant {
  std::string name;
  std::vector<std::string> sim_flags;
  std::string provider_toml;
  const char* media_route;  // where both the video and its thumbnail are served
};

bool is_webp(const std::string& body) {
  return body.size() >= 12 && body.compare(0, 4, "RIFF") == 0 && body.compare(8, 4, "WEBP") == 0;
}

}  // namespace

TEST_CASE("thumbnails are saved next to the videos in every dialect, or not at all", "[e2e]") {
  const std::vector<ThumbnailVariant> variants = {
      {"openai, content route", {"--gateway-seconds"}, "", "GET /v1/videos/{id}/content"},
      {"openai, task-shaped answers with thumbnail_url on the CDN",
       {"--gateway-seconds", "--shape", "task"},
       "",
       "CDN GET /files/{name}"},
      {"unified task format", {}, "[provider]\ndialect = \"unified\"\n", "CDN GET /files/{name}"},
  };
  for (const auto& variant : variants) {
    for (const bool thumbnails : {true, false}) {
      DYNAMIC_SECTION(variant.name << (thumbnails ? "" : ", output.thumbnails = false")) {
        std::vector<std::string> flags = {"--gen-ms", "200", "--quiet"};
        flags.insert(flags.end(), variant.sim_flags.begin(), variant.sim_flags.end());
        SimProcess sim(flags);
        E2eFolder folder;
        folder.write_config(8, variant.provider_toml +
                                   (thumbnails ? "" : "[output]\nthumbnails = false\n"));
        std::ofstream(folder.path("thumbs.yaml")) << k_thumbnail_manifest;
        CommandResult result = folder.run({"run", folder.path("thumbs.yaml")}, sim.base_url());
        INFO(result.err);
        REQUIRE(result.exit_code == 0);
        CHECK(result.err.find("thumbnail") == std::string::npos);  // no failure notice

        auto stats = parse_json(sim.stats());
        REQUIRE(stats["creates_total"].GetInt() == 3);
        // The signed CDN URLs get no key, thumbnails included.
        CHECK(stats["auth_headers_seen_on_files"].GetInt() == 0);
        // One request per video, plus one per thumbnail when they are on.
        CHECK(route_count(stats, variant.media_route) == (thumbnails ? 6 : 3));
        CHECK(stats["content_requests"].GetInt() == (thumbnails ? 6 : 3));

        auto store = folder.open_store();
        const auto jobs = store->list_jobs({});
        REQUIRE(jobs.value().size() == 3);
        for (const auto& job : jobs.value()) {
          INFO("job " << job.spec.id);
          REQUIRE(job.state == JobState::done);
          REQUIRE(job.output_path == folder.out() + "/thumbs/" + job.spec.id + ".mp4");
          const std::string thumb = folder.out() + "/thumbs/" + job.spec.id + ".webp";
          if (thumbnails) {
            CHECK(is_webp(read_file(thumb)));
          } else {
            CHECK_FALSE(std::filesystem::exists(thumb));
          }
          CHECK_FALSE(std::filesystem::exists(thumb + ".tmp"));
        }
        require_consistent_events(*store);
      }
    }
  }
}

TEST_CASE("the HTML report shows each video's thumbnail as its poster", "[e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet", "--gateway-seconds"});
  E2eFolder folder;
  std::ofstream(folder.path("thumbs.yaml")) << k_thumbnail_manifest;
  CommandResult result = folder.run({"run", folder.path("thumbs.yaml")}, sim.base_url());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  // One thumbnail lost after the run: its card has a player but no poster.
  REQUIRE(std::filesystem::remove(folder.out() + "/thumbs/market.webp"));
  CommandResult report =
      folder.run({"report", "--format", "html", "--output", folder.path("report.html")});
  INFO(report.err);
  REQUIRE(report.exit_code == 0);
  const std::string html = read_file(folder.path("report.html"));
  for (const char* id : {"harbor", "forest"}) {
    INFO(id);
    const std::string video = std::string("src=\"out/thumbs/") + id + ".mp4\"";
    CHECK(html.find(video + " poster=\"out/thumbs/" + id + ".webp\"") != std::string::npos);
  }
  CHECK(html.find("src=\"out/thumbs/market.mp4\"></video>") != std::string::npos);
  CHECK(html.find("market.webp") == std::string::npos);
}
