#include "probe/verify_rules.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace vb {

namespace {

// "4 s", "3.5 s", "3.97 s": milliseconds as seconds, no trailing zeros.
std::string format_seconds(std::int64_t ms) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", static_cast<double>(ms) / 1000.0);
  std::string out = text;
  while (out.back() == '0') {
    out.pop_back();
  }
  if (out.back() == '.') {
    out.pop_back();
  }
  return out + " s";
}

std::string format_size(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

const char* to_string(SizeClass c) {
  return c == SizeClass::large ? "large" : "small";
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
    return std::nullopt;
  }
  return value;
}

void add(VerifyResult& result, MismatchCode code, std::string asked, std::string got,
         std::string message) {
  result.mismatches.push_back({code, std::move(asked), std::move(got), std::move(message)});
}

void check_duration(const Expectation& expected, const VideoProbe& probe, VerifyResult& result) {
  if (expected.duration_ms <= 0) {
    return;
  }
  const std::string asked = format_seconds(expected.duration_ms);
  const std::string margin = " (tolerance " + format_seconds(expected.duration_tolerance_ms) + ")";
  if (probe.duration_ms <= 0) {
    add(result, MismatchCode::duration_short, asked, "unknown",
        "asked for " + asked + ", but the file states no duration");
  } else if (probe.duration_ms < expected.duration_ms - expected.duration_tolerance_ms) {
    const std::string got = format_seconds(probe.duration_ms);
    add(result, MismatchCode::duration_short, asked, got,
        "asked for " + asked + ", got a " + got + " video" + margin);
  } else if (probe.duration_ms > expected.duration_ms + expected.duration_tolerance_ms) {
    const std::string got = format_seconds(probe.duration_ms);
    add(result, MismatchCode::duration_long, asked, got,
        "asked for " + asked + ", got a " + got + " video" + margin);
  }
}

// Some codecs (MPEG-4 Part 2, H.263) leave the size to their decoder: the headers hold none.
bool size_unknown(const VideoProbe& probe) {
  return probe.width <= 0 || probe.height <= 0;
}

// `asked` for the record, `wanted` for the sentence ("1280x720", "a small portrait video").
void add_unknown_size(const std::string& asked, const std::string& wanted, VerifyResult& result) {
  add(result, MismatchCode::resolution_mismatch, asked, "unknown",
      "asked for " + wanted + ", but the file's headers state no size");
}

void check_exact_size(const SizeRequest& size, const VideoProbe& probe, VerifyResult& result) {
  if (probe.width == size.width && probe.height == size.height) {
    return;
  }
  const std::string asked = format_size(size.width, size.height);
  if (size_unknown(probe)) {
    return add_unknown_size(asked, asked, result);
  }
  const std::string got = format_size(probe.width, probe.height);
  add(result, MismatchCode::resolution_mismatch, asked, got, "asked for " + asked + ", got " + got);
}

void check_size_class(const SizeRequest& size, const VideoProbe& probe, VerifyResult& result) {
  const bool landscape = size.orientation == Orientation::landscape;
  const bool orientation_ok = landscape ? probe.width > probe.height : probe.height > probe.width;
  const int floor = size.size_class == SizeClass::large ? k_large_min_short_side
                                                        : k_small_min_short_side;
  const int short_side = std::min(probe.width, probe.height);
  if (orientation_ok && short_side >= floor) {
    return;
  }
  const std::string asked =
      std::string(to_string(size.size_class)) + " " + to_string(size.orientation);
  if (size_unknown(probe)) {
    return add_unknown_size(asked, "a " + asked + " video", result);
  }
  const std::string got = format_size(probe.width, probe.height);
  const std::string why = !orientation_ok
                              ? "it is not " + std::string(to_string(size.orientation))
                              : "its short side is under " + std::to_string(floor) + " px";
  add(result, MismatchCode::resolution_mismatch, asked, got,
      "asked for a " + asked + " video, got " + got + ": " + why);
}

void check_audio(const Expectation& expected, const VideoProbe& probe, VerifyResult& result) {
  if (!expected.audio || *expected.audio == probe.has_audio) {
    return;
  }
  if (*expected.audio) {
    add(result, MismatchCode::no_audio, "audio", "none",
        "asked for a video with sound, got one without an audio track");
  } else {
    add(result, MismatchCode::unexpected_audio, "no audio", probe.audio_codec,
        "asked for a silent video, got one with an audio track (" + probe.audio_codec + ")");
  }
}

}  // namespace

Expectation expectation_for(int seconds, Orientation orientation, std::string_view size) {
  Expectation expected;
  expected.duration_ms = std::int64_t{seconds} * 1000;
  if (size == "small" || size == "large") {
    expected.size.kind = SizeRequest::Kind::size_class;
    expected.size.orientation = orientation;
    expected.size.size_class = size == "large" ? SizeClass::large : SizeClass::small;
    return expected;
  }
  const auto x = size.find('x');
  if (x == std::string_view::npos) {
    return expected;
  }
  const auto width = parse_int(size.substr(0, x));
  const auto height = parse_int(size.substr(x + 1));
  if (width && height) {
    expected.size.kind = SizeRequest::Kind::exact;
    expected.size.width = *width;
    expected.size.height = *height;
  }
  return expected;
}

Expectation expectation_for(const JobSpec& spec, std::string_view size) {
  if (spec.derived != DerivedKind::none) {
    return Expectation{};  // a video stream, nothing more
  }
  return expectation_for(spec.seconds, spec.orientation, size);
}

const char* to_string(MismatchCode code) {
  switch (code) {
    case MismatchCode::not_a_video:
      return "not_a_video";
    case MismatchCode::unreadable:
      return "unreadable";
    case MismatchCode::truncated:
      return "truncated";
    case MismatchCode::no_video_stream:
      return "no_video_stream";
    case MismatchCode::duration_short:
      return "duration_short";
    case MismatchCode::duration_long:
      return "duration_long";
    case MismatchCode::resolution_mismatch:
      return "resolution_mismatch";
    case MismatchCode::no_audio:
      return "no_audio";
    case MismatchCode::unexpected_audio:
      return "unexpected_audio";
  }
  return "unknown";
}

std::string VerifyResult::codes() const {
  std::string out;
  for (const auto& m : mismatches) {
    out += (out.empty() ? "" : ",") + std::string(to_string(m.code));
  }
  return out;
}

VerifyResult compare(const Expectation& expected, const VideoProbe& probe) {
  VerifyResult result;
  if (probe.truncated()) {
    add(result, MismatchCode::truncated, std::to_string(probe.declared_bytes) + " bytes",
        std::to_string(probe.file_bytes) + " bytes",
        "the file is cut short: its headers describe " + std::to_string(probe.declared_bytes) +
            " bytes, the file has " + std::to_string(probe.file_bytes));
  }
  if (!probe.has_video) {
    if (expected.video_required) {
      add(result, MismatchCode::no_video_stream, "a video stream", "none",
          "the file (" + probe.container + ") holds no video stream");
    }
  } else {
    check_duration(expected, probe, result);
    if (expected.size.kind == SizeRequest::Kind::exact) {
      check_exact_size(expected.size, probe, result);
    } else if (expected.size.kind == SizeRequest::Kind::size_class) {
      check_size_class(expected.size, probe, result);
    }
  }
  check_audio(expected, probe, result);
  return result;
}

VerifyResult verify(const Expectation& expected, const Result<VideoProbe>& probe) {
  if (probe) {
    return compare(expected, *probe);
  }
  VerifyResult result;
  const bool not_video = probe.error().code == ErrorCode::protocol;
  add(result, not_video ? MismatchCode::not_a_video : MismatchCode::unreadable, "a video",
      not_video ? "not a video" : "unreadable", probe.error().describe());
  return result;
}

}  // namespace vb
