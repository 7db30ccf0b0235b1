// Deterministic fake media. The bytes depend only on the video id and the requested size, so a
// test can recompute them and a resumed (Range) download must splice back to the same sha256.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sim {

// An MP4-looking body of exactly `bytes` bytes (at least 64): ftyp (isom, minor 0x200,
// compatible isom iso2 avc1 mp41), a small free box, then an mdat box of PRNG bytes.
std::string make_mp4(std::string_view video_id, size_t bytes);

// A tiny body with a RIFF....WEBP header, labelled image/webp by the routes.
std::string make_thumbnail(std::string_view video_id);

std::string sha256_hex(std::string_view data);

} // namespace sim
