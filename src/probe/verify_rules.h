// verify_rules: does a probed video match what was paid for? Expectation is what the request
// asked (duration, resolution, a video stream, audio); compare() lists every mismatch with what
// was asked and what came, as a machine code and a sentence. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "job/job_spec.h"
#include "probe/video_probe.h"
#include "util/error.h"

namespace vb {

// Where the provider picks the exact pixels (the unified dialect's size: small | large).
enum class SizeClass { small, large };

// The short side a class guarantees. large: 1024, OpenAI's smallest large size (1792x1024;
// gateways deliver 1080x1920). small: 352, the smallest an honest gateway reports for small
// (352x640); anything narrower is less than any provider delivers for the price.
constexpr int k_small_min_short_side = 352;
constexpr int k_large_min_short_side = 1024;

struct SizeRequest {
  enum class Kind { any, exact, size_class };
  Kind kind = Kind::any;
  int width = 0;                                     // exact
  int height = 0;                                    // exact
  Orientation orientation = Orientation::landscape;  // size_class
  SizeClass size_class = SizeClass::small;           // size_class
};

// Half a second either way. An honest file's duration differs from the request by a frame
// (33 ms at 30 fps) plus AAC priming and edit-list rounding (tens of ms) at any length, so
// 0.5 s never flags an honest video; and a fixed margin keeps a 25 s request from passing a
// 22.5 s video, which a relative one (10%) would.
constexpr std::int64_t k_default_duration_tolerance_ms = 500;

struct Expectation {
  std::int64_t duration_ms = 0;  // 0: not checked
  std::int64_t duration_tolerance_ms = k_default_duration_tolerance_ms;
  SizeRequest size;  // Kind::any: not checked
  bool video_required = true;
  std::optional<bool> audio;  // nullopt: not checked
};

// `size` as the dialect sends it: "WxH" is exact (the OpenAI dialect, after mapping small and
// large to its sizes), "small" / "large" a class in `orientation`; anything else is not checked.
Expectation expectation_for(int seconds, Orientation orientation, std::string_view size);
// What a job's request asks of its video, `size` as the provider delivers it
// (VideoProvider::delivered_size). A derived job (remix, edit, extend) takes its length and
// size from its parent's video, which the spec does not hold: only a video stream is expected.
Expectation expectation_for(const JobSpec& spec, std::string_view size);

enum class MismatchCode {
  not_a_video,  // the bytes are no video container (or its headers are broken)
  unreadable,   // the file is missing or cannot be read
  truncated,    // the headers describe more bytes than the file has
  no_video_stream,
  duration_short,
  duration_long,
  resolution_mismatch,
  no_audio,
  unexpected_audio,
};

const char* to_string(MismatchCode code);  // "duration_short", ...

struct Mismatch {
  MismatchCode code = MismatchCode::not_a_video;
  std::string asked;    // "8 s", "1280x720", "large portrait", "a video stream"
  std::string got;      // "4 s", "640x360", "none"
  std::string message;  // one sentence for people
};

struct VerifyResult {
  std::vector<Mismatch> mismatches;  // empty: the video is what was asked

  bool ok() const { return mismatches.empty(); }
  // The codes in order, comma-separated ("duration_short,no_audio"); empty when ok().
  std::string codes() const;
};

VerifyResult compare(const Expectation& expected, const VideoProbe& probe);

// compare() when the probe succeeded; otherwise the one mismatch its error stands for
// (not_a_video for a protocol error, unreadable for the others).
VerifyResult verify(const Expectation& expected, const Result<VideoProbe>& probe);

}  // namespace vb
