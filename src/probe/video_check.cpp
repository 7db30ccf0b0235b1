#include "probe/video_check.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

namespace vb {

VideoCheck video_check_of(const Result<VideoProbe>& probe, const VerifyResult& result, Millis now) {
  VideoCheck check;
  check.verdict = result.ok() ? "ok" : result.codes();
  for (const auto& mismatch : result.mismatches) {
    check.mismatches += (check.mismatches.empty() ? "" : "\n") + mismatch.message;
  }
  check.checked_at = now;
  if (probe) {
    check.probed = true;
    check.container = probe->container;
    check.has_video = probe->has_video;
    check.video_codec = probe->video_codec;
    check.duration_ms = probe->duration_ms;
    check.width = probe->width;
    check.height = probe->height;
    check.frame_rate = probe->frame_rate;
    check.has_audio = probe->has_audio;
    check.audio_codec = probe->audio_codec;
  }
  return check;
}

VideoCheck check_video(const std::string& path, const Expectation& expected, Millis now,
                       const std::string& shown_as) {
  Result<VideoProbe> probe = probe_video(path);
  if (!probe && !shown_as.empty()) {
    probe.error().where = shown_as;
  }
  return video_check_of(probe, verify(expected, probe), now);
}

std::string mismatch_summary(const VideoCheck& check) {
  std::string sentences = check.mismatches;
  for (std::size_t at = sentences.find('\n'); at != std::string::npos;
       at = sentences.find('\n', at)) {
    sentences.replace(at, 1, "; ");
  }
  return "the video does not match its request: " + sentences;
}

std::string to_json(const VideoCheck& check) {
  if (!check.checked()) {
    return "null";
  }
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto str = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  str("verdict", check.verdict);
  w.Key("mismatches");
  w.StartArray();
  std::size_t from = 0;
  while (from < check.mismatches.size()) {
    std::size_t end = check.mismatches.find('\n', from);
    end = end == std::string::npos ? check.mismatches.size() : end;
    w.String(check.mismatches.c_str() + from, static_cast<rapidjson::SizeType>(end - from));
    from = end + 1;
  }
  w.EndArray();
  str("checked_at", format_iso8601(check.checked_at));
  w.Key("probe");
  if (!check.probed) {
    w.Null();
  } else {
    w.StartObject();
    str("container", check.container);
    str("video_codec", check.video_codec);
    w.Key("duration_s");
    w.Double(static_cast<double>(check.duration_ms) / 1000.0);
    w.Key("width");
    w.Int(check.width);
    w.Key("height");
    w.Int(check.height);
    w.Key("frame_rate");
    w.Double(std::round(check.frame_rate * 1000.0) / 1000.0);
    str("audio_codec", check.has_audio ? check.audio_codec : "");
    w.EndObject();
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace vb
