// Deterministic fake media. The bytes depend only on the video id and the requested size, so a
// test can recompute them and a resumed (Range) download must splice back to the same sha256.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sim {

struct Video;
struct Options;

// The MP4 served for `video`, exactly --video-bytes bytes, the same for every request of one id:
// a real MP4 (mp4_writer.h) whose headers say the requested seconds and width x height, with
// an AAC track. A dishonesty marker in the prompt (options.h) changes what it says: half the
// duration, half the width and height, no audio track, or no video at all (ftyp, then no moov).
std::string make_video_file(const Video& video, const Options& options);

// A tiny body with a RIFF....WEBP header, labelled image/webp by the routes.
std::string make_thumbnail(std::string_view video_id);

std::string sha256_hex(std::string_view data);

}  // namespace sim
