// [probe] video_check: a file probed and compared in one call, flattened for the ledger and
// written as JSON; a job's expectation from its spec and the size its provider delivers.
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include "manifest/manifest_test_util.h"
#include "probe/video_check.h"
#include "provider/registry.h"
#include "provider/video_provider.h"
#include "simulator/mp4_writer.h"

using namespace vb;
using vb::manifest_test::TempDir;

TEST_CASE("video check: an honest file is ok, a dishonest one lists its mismatches", "[probe]") {
  TempDir dir;
  const Expectation expected = expectation_for(8, Orientation::portrait, "720x1280");
  const auto honest = dir.write("honest.mp4", sim::write_mp4({720, 1280, 8000, true}, 9000, 1));
  const VideoCheck ok = check_video(honest.string(), expected, 42);
  CHECK(ok.verdict == "ok");
  CHECK_FALSE(ok.mismatched());
  CHECK(ok.mismatches.empty());
  CHECK(ok.checked_at == 42);
  CHECK(ok.probed);
  CHECK(ok.has_video);
  CHECK(ok.width == 720);
  CHECK(ok.height == 1280);
  CHECK(ok.duration_ms == 8000);
  CHECK(ok.frame_rate == 30);
  CHECK(ok.has_audio);
  CHECK(ok.audio_codec == "aac");

  const auto bad = dir.write("bad.mp4", sim::write_mp4({360, 640, 4000, false}, 9000, 2));
  const VideoCheck off = check_video(bad.string(), expected, 43);
  CHECK(off.mismatched());
  CHECK(off.verdict == "duration_short,resolution_mismatch");
  CHECK(off.mismatches ==
        "asked for 8 s, got a 4 s video (tolerance 0.5 s)\nasked for 720x1280, got 360x640");

  CHECK(mismatch_summary(off) ==
        "the video does not match its request: asked for 8 s, got a 4 s video (tolerance 0.5 s); "
        "asked for 720x1280, got 360x640");

  rapidjson::Document doc;
  doc.Parse(to_json(off).c_str());
  REQUIRE(doc.IsObject());
  CHECK(std::string(doc["verdict"].GetString()) == "duration_short,resolution_mismatch");
  REQUIRE(doc["mismatches"].Size() == 2);
  CHECK(std::string(doc["mismatches"][1].GetString()) == "asked for 720x1280, got 360x640");
  CHECK(doc["probe"]["width"].GetInt() == 360);
  CHECK(doc["probe"]["duration_s"].GetDouble() == 4.0);
  CHECK(std::string(doc["probe"]["audio_codec"].GetString()).empty());
  CHECK(to_json(VideoCheck{}) == "null");
}

TEST_CASE("video check: a file that is no video names the path it is shown as", "[probe]") {
  TempDir dir;
  const auto part = dir.write("a.mp4.part", sim::write_not_a_video(5000, 3));
  const VideoCheck check = check_video(part.string(),
                                       expectation_for(4, Orientation::landscape, "1280x720"), 1,
                                       "out/b/a.mp4");
  CHECK(check.verdict == "not_a_video");
  CHECK_FALSE(check.probed);
  CHECK_THAT(check.mismatches, Catch::StartsWith("out/b/a.mp4: not a video"));
  rapidjson::Document doc;
  doc.Parse(to_json(check).c_str());
  REQUIRE(doc.IsObject());
  CHECK(doc["probe"].IsNull());
}

TEST_CASE("video check: a job's expectation follows its provider's delivered size", "[probe]") {
  JobSpec spec;
  spec.seconds = 8;
  spec.orientation = Orientation::portrait;
  spec.size = "small";
  ProviderConfig openai;
  const auto sent = make_provider(openai)->delivered_size(spec);
  CHECK(sent == "720x1280");
  const Expectation exact = expectation_for(spec, sent);
  CHECK(exact.size.kind == SizeRequest::Kind::exact);
  CHECK(exact.duration_ms == 8000);

  ProviderConfig unified;
  unified.dialect = Dialect::unified;
  const Expectation by_class = expectation_for(spec, make_provider(unified)->delivered_size(spec));
  CHECK(by_class.size.kind == SizeRequest::Kind::size_class);
  CHECK(by_class.size.size_class == SizeClass::small);
  CHECK(by_class.size.orientation == Orientation::portrait);

  spec.derived = DerivedKind::remix;  // length and size are its parent's
  const Expectation derived = expectation_for(spec, sent);
  CHECK(derived.duration_ms == 0);
  CHECK(derived.size.kind == SizeRequest::Kind::any);
  CHECK(derived.video_required);
}
