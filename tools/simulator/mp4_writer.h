// A small ISO-BMFF (MP4) writer: files whose headers describe a real H.264 (+ AAC) video of a
// given duration and resolution, readable by libavformat and other demuxers, padded to an exact
// byte count. Only the headers are real: the samples are deterministic PRNG bytes (no player
// can decode them), which is all a client that checks what it was sent needs.
//
// Layout (moov before mdat, "fast start"): ftyp, moov { mvhd, trak video { tkhd, mdia { mdhd,
// hdlr vide, minf { vmhd, dinf, stbl { stsd avc1+avcC, stts, stsc, stsz, stco } } } },
// [trak audio, the same with smhd and mp4a+esds] }, mdat. Samples of a track are all the same
// size (stsz needs no table), in one-second chunks, video and audio interleaved: the moov is
// about 1 KB plus 8 bytes per second.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sim {

struct Mp4Spec {
  int width = 1280;  // even: H.264 4:2:0 crops in pairs of pixels
  int height = 720;
  int64_t duration_ms = 4000;
  bool audio = true;  // an AAC-LC stereo 48 kHz track alongside the video
};

constexpr int k_mp4_fps = 30;

// The smallest file write_mp4 can make for `spec`: its headers plus one byte per sample.
size_t min_mp4_bytes(const Mp4Spec& spec);

// Exactly `bytes` bytes: a video as described by `spec`, samples drawn from `seed`. Below
// min_mp4_bytes(spec) there is no room for the headers, and the file is write_not_a_video's.
std::string write_mp4(const Mp4Spec& spec, size_t bytes, uint64_t seed);

// Exactly max(bytes, 64) bytes that start like an MP4 (an ftyp box: isom, minor 0x200,
// compatible isom iso2 avc1 mp41) but hold no moov: a small free box, then an mdat of PRNG
// bytes. Passes a check for the ftyp signature, fails any demuxer.
std::string write_not_a_video(size_t bytes, uint64_t seed);

}  // namespace sim
