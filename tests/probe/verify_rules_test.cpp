// [probe] verify_rules: what was asked against what a probe found, as a table.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "probe/verify_rules.h"

using namespace vb;

namespace {

VideoProbe video(int width, int height, std::int64_t duration_ms, bool audio = true) {
  VideoProbe p;
  p.container = "mov,mp4,m4a,3gp,3g2,mj2";
  p.has_video = true;
  p.video_codec = "h264";
  p.duration_ms = duration_ms;
  p.width = width;
  p.height = height;
  p.frame_rate = 30;
  p.has_audio = audio;
  p.audio_codec = audio ? "aac" : "";
  p.file_bytes = 1 << 20;
  p.declared_bytes = 1 << 20;
  return p;
}

Expectation exact(int width, int height, int seconds) {
  return expectation_for(seconds, width > height ? Orientation::landscape : Orientation::portrait,
                         std::to_string(width) + "x" + std::to_string(height));
}

Expectation by_class(const char* size, Orientation orientation, int seconds) {
  return expectation_for(seconds, orientation, size);
}

}  // namespace

TEST_CASE("verify: each way a video can differ from the request", "[probe]") {
  const auto landscape = Orientation::landscape;
  const auto portrait = Orientation::portrait;
  struct Case {
    const char* name;
    Expectation expected;
    VideoProbe probe;
    const char* codes;
  };
  auto with = [](Expectation e, auto change) {
    change(e);
    return e;
  };
  auto probed = [](VideoProbe p, auto change) {
    change(p);
    return p;
  };
  const std::vector<Case> cases = {
      {"honest 1280x720 8 s", exact(1280, 720, 8), video(1280, 720, 8000), ""},
      {"a frame and some AAC priming over", exact(1280, 720, 8), video(1280, 720, 8043), ""},
      {"0.5 s short is within tolerance", exact(1280, 720, 8), video(1280, 720, 7500), ""},
      {"0.5 s long is within tolerance", exact(1280, 720, 8), video(1280, 720, 8500), ""},
      {"just over 0.5 s short", exact(1280, 720, 8), video(1280, 720, 7499), "duration_short"},
      {"just over 0.5 s long", exact(1280, 720, 8), video(1280, 720, 8501), "duration_long"},
      {"half the duration", exact(720, 1280, 12), video(720, 1280, 6000), "duration_short"},
      {"no duration in the file", exact(720, 1280, 4), video(720, 1280, 0), "duration_short"},
      {"a tighter tolerance",
       with(exact(1280, 720, 8), [](auto& e) { e.duration_tolerance_ms = 100; }),
       video(1280, 720, 7800), "duration_short"},
      {"duration not checked", with(exact(1280, 720, 8), [](auto& e) { e.duration_ms = 0; }),
       video(1280, 720, 1000), ""},
      {"half the resolution", exact(1280, 720, 4), video(640, 360, 4000), "resolution_mismatch"},
      {"width and height swapped", exact(1280, 720, 4), video(720, 1280, 4000),
       "resolution_mismatch"},
      {"large exact", exact(1024, 1792, 8), video(1024, 1792, 8000), ""},
      {"large exact got small", exact(1024, 1792, 8), video(720, 1280, 8000),
       "resolution_mismatch"},
      {"size unknown to the probe", exact(1280, 720, 4), video(0, 0, 4000), "resolution_mismatch"},
      {"small portrait at gateway size", by_class("small", portrait, 10), video(352, 640, 10000),
       ""},
      {"small portrait at OpenAI size", by_class("small", portrait, 10), video(720, 1280, 10000),
       ""},
      {"small portrait under the floor", by_class("small", portrait, 10), video(176, 320, 10000),
       "resolution_mismatch"},
      {"small landscape got portrait", by_class("small", landscape, 10), video(352, 640, 10000),
       "resolution_mismatch"},
      {"large portrait 1080x1920", by_class("large", portrait, 15), video(1080, 1920, 15000), ""},
      {"large portrait 1024x1792", by_class("large", portrait, 15), video(1024, 1792, 15000), ""},
      {"large landscape 1920x1080", by_class("large", landscape, 15), video(1920, 1080, 15000), ""},
      {"large portrait got small", by_class("large", portrait, 15), video(720, 1280, 15000),
       "resolution_mismatch"},
      {"square for a class", by_class("small", landscape, 4), video(720, 720, 4000),
       "resolution_mismatch"},
      {"size not checked", expectation_for(4, landscape, "hd"), video(16, 16, 4000), ""},
      {"no video stream", exact(1280, 720, 8),
       probed(video(0, 0, 8000),
              [](auto& p) {
                p.has_video = false;
                p.video_codec = "";
              }),
       "no_video_stream"},
      {"no video stream, none required",
       with(exact(1280, 720, 8), [](auto& e) { e.video_required = false; }),
       probed(video(0, 0, 8000), [](auto& p) { p.has_video = false; }), ""},
      {"audio expected, none", with(exact(1280, 720, 8), [](auto& e) { e.audio = true; }),
       video(1280, 720, 8000, false), "no_audio"},
      {"silence expected, sound came", with(exact(1280, 720, 8), [](auto& e) { e.audio = false; }),
       video(1280, 720, 8000, true), "unexpected_audio"},
      {"audio not checked", exact(1280, 720, 8), video(1280, 720, 8000, false), ""},
      {"cut short", exact(1280, 720, 8),
       probed(video(1280, 720, 8000), [](auto& p) { p.file_bytes = 1000; }), "truncated"},
      {"short, small, silent and cut", with(exact(1280, 720, 8), [](auto& e) { e.audio = true; }),
       probed(video(640, 360, 4000, false), [](auto& p) { p.file_bytes = 1000; }),
       "truncated,duration_short,resolution_mismatch,no_audio"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const VerifyResult result = compare(c.expected, c.probe);
    CHECK(result.codes() == c.codes);
    CHECK(result.ok() == std::string(c.codes).empty());
    for (const auto& m : result.mismatches) {
      CHECK_FALSE(m.asked.empty());
      CHECK_FALSE(m.got.empty());
      CHECK_FALSE(m.message.empty());
    }
  }
}

TEST_CASE("verify: mismatches say what was asked and what came", "[probe]") {
  Expectation expected = exact(1280, 720, 8);
  expected.audio = true;
  const VerifyResult result = compare(expected, video(640, 360, 3970, false));
  REQUIRE(result.mismatches.size() == 3);
  const Mismatch& duration = result.mismatches[0];
  CHECK(duration.asked == "8 s");
  CHECK(duration.got == "3.97 s");
  CHECK(duration.message == "asked for 8 s, got a 3.97 s video (tolerance 0.5 s)");
  const Mismatch& size = result.mismatches[1];
  CHECK(size.asked == "1280x720");
  CHECK(size.got == "640x360");
  CHECK(size.message == "asked for 1280x720, got 640x360");
  CHECK(result.mismatches[2].message ==
        "asked for a video with sound, got one without an audio track");

  const VerifyResult by_size =
      compare(by_class("large", Orientation::portrait, 15), video(720, 1280, 15000));
  REQUIRE(by_size.mismatches.size() == 1);
  CHECK(by_size.mismatches[0].asked == "large portrait");
  CHECK(by_size.mismatches[0].message ==
        "asked for a large portrait video, got 720x1280: its short side is under 1024 px");
  const VerifyResult turned =
      compare(by_class("small", Orientation::landscape, 10), video(352, 640, 10000));
  REQUIRE(turned.mismatches.size() == 1);
  CHECK(turned.mismatches[0].message ==
        "asked for a small landscape video, got 352x640: it is not landscape");
}

TEST_CASE("verify: expectations from a request's seconds, orientation and size", "[probe]") {
  const Expectation openai = expectation_for(12, Orientation::portrait, "720x1280");
  CHECK(openai.duration_ms == 12000);
  CHECK(openai.duration_tolerance_ms == k_default_duration_tolerance_ms);
  CHECK(openai.size.kind == SizeRequest::Kind::exact);
  CHECK(openai.size.width == 720);
  CHECK(openai.size.height == 1280);
  CHECK(openai.video_required);
  CHECK_FALSE(openai.audio.has_value());

  const Expectation gateway = expectation_for(15, Orientation::landscape, "large");
  CHECK(gateway.size.kind == SizeRequest::Kind::size_class);
  CHECK(gateway.size.size_class == SizeClass::large);
  CHECK(gateway.size.orientation == Orientation::landscape);
  CHECK(expectation_for(10, Orientation::portrait, "small").size.size_class == SizeClass::small);

  for (const char* unchecked : {"", "x", "1280x", "x720", "0x720", "1280x720p", "-5x3", "hd"}) {
    CAPTURE(unchecked);
    CHECK(expectation_for(4, Orientation::landscape, unchecked).size.kind ==
          SizeRequest::Kind::any);
  }
}

TEST_CASE("verify: a probe that failed is one mismatch naming the file", "[probe]") {
  const Expectation expected = exact(1280, 720, 4);
  const Result<VideoProbe> garbage =
      fail(ErrorCode::protocol, "not a video: FFmpeg cannot read it (moov atom not found)",
           "out/a.mp4");
  const VerifyResult not_video = verify(expected, garbage);
  REQUIRE(not_video.mismatches.size() == 1);
  CHECK(not_video.mismatches[0].code == MismatchCode::not_a_video);
  CHECK(not_video.mismatches[0].message ==
        "out/a.mp4: not a video: FFmpeg cannot read it (moov atom not found)");

  const Result<VideoProbe> missing =
      fail(ErrorCode::not_found, "cannot probe the video: No such file or directory", "out/b.mp4");
  const VerifyResult gone = verify(expected, missing);
  REQUIRE(gone.mismatches.size() == 1);
  CHECK(gone.mismatches[0].code == MismatchCode::unreadable);

  CHECK(verify(expected, video(1280, 720, 4000)).ok());
  CHECK(verify(expected, video(640, 360, 4000)).codes() == "resolution_mismatch");
}
