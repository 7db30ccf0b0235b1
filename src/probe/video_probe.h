// probe_video: what a downloaded video file says it is (container, codecs, duration,
// resolution, frame rate, audio), read from its headers with FFmpeg's libavformat. Nothing is
// decoded: an MP4's moov box describes every track, so a probe costs a few reads whatever the
// file's length. No FFmpeg type leaves this module.
// Thread-safe: any number of threads may probe at once (libavformat's logging is silenced once
// for the process, so a broken file never prints to the terminal).
#pragma once

#include <cstdint>
#include <string>

#include "util/error.h"

namespace vb {

struct VideoProbe {
  std::string container;         // libavformat's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  bool has_video = false;        // a video track (cover art does not count)
  std::string video_codec;       // e.g. "h264", "hevc"; empty without video
  std::int64_t duration_ms = 0;  // of the video track (the container's without one); 0: unknown
  int width = 0;
  int height = 0;
  double frame_rate = 0;  // average frames per second; 0: unknown
  bool has_audio = false;
  std::string audio_codec;  // e.g. "aac"; empty without audio
  std::int64_t file_bytes = 0;
  // How long the file says it is: the end of its last MP4 box or indexed sample, whichever is
  // further. Beyond file_bytes, the file was cut short (libavformat reads what is left of a
  // cut file without complaint, so the probe compares the two itself).
  std::int64_t declared_bytes = 0;

  bool truncated() const { return declared_bytes > file_bytes; }
};

// Probes the file at `path` (a local path: never a URL, whatever it looks like).
// Success: the file is a media container libavformat can read, with at least one track;
// has_video says whether one is video. Failure, naming the file in Error::where: not_found (no
// such file), io (unreadable, not a regular file), protocol ("not a video: ..." when the file
// is empty, the bytes are no container libavformat knows, or its headers are broken or empty).
Result<VideoProbe> probe_video(const std::string& path);

}  // namespace vb
