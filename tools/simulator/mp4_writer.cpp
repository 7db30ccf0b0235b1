#include "mp4_writer.h"

#include "prng.h"

#include <algorithm>
#include <array>
#include <bit>
#include <string_view>
#include <vector>

namespace sim {

namespace {

constexpr uint32_t k_movie_timescale = 1000;   // mvhd and tkhd durations in ms
constexpr uint32_t k_video_timescale = 15360;  // FFmpeg's: 512 ticks a frame at 30 fps
constexpr uint32_t k_frame_ticks = k_video_timescale / k_mp4_fps;
constexpr uint32_t k_audio_rate = 48000;
constexpr uint32_t k_aac_frame = 1024;  // PCM samples per AAC frame
constexpr size_t k_audio_share = 16;    // the audio gets 1/16 of the sample bytes

void put_u8(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
}

void put_u16(std::string& out, uint32_t v) {
  put_u8(out, v >> 8);
  put_u8(out, v);
}

void put_u32(std::string& out, uint32_t v) {
  put_u16(out, v >> 16);
  put_u16(out, v);
}

void put_zeros(std::string& out, size_t count) {
  out.append(count, '\0');
}

std::string box(std::string_view type, std::string_view payload) {
  std::string out;
  out.reserve(8 + payload.size());
  put_u32(out, static_cast<uint32_t>(8 + payload.size()));
  out += type;
  out += payload;
  return out;
}

// A "full box": version (8 bits) and flags (24 bits) before the payload.
std::string full_box(std::string_view type, uint32_t version_flags, std::string_view payload) {
  std::string body;
  put_u32(body, version_flags);
  body += payload;
  return box(type, body);
}

// The identity transformation of mvhd and tkhd (16.16 and 2.30 fixed point).
void put_unity_matrix(std::string& out) {
  for (const uint32_t v : {0x00010000u, 0u, 0u, 0u, 0x00010000u, 0u, 0u, 0u, 0x40000000u}) {
    put_u32(out, v);
  }
}

// Big-endian bit writer for H.264 parameter sets (Exp-Golomb codes, ITU-T H.264 9.1).
class BitWriter {
 public:
  void bits(uint32_t value, int count) {
    for (int i = count - 1; i >= 0; --i) {
      bit((value >> i) & 1);
    }
  }
  void ue(uint32_t value) {
    const uint32_t coded = value + 1;
    const int length = std::bit_width(coded);
    bits(0, length - 1);
    bits(coded, length);
  }
  void se(int32_t value) {
    ue(value > 0 ? static_cast<uint32_t>(2 * value - 1) : static_cast<uint32_t>(-2 * value));
  }
  // rbsp_trailing_bits, then the NAL unit with emulation prevention bytes (7.4.1).
  std::string nal(uint8_t header) {
    bit(1);
    while (m_used != 0) {
      bit(0);
    }
    std::string out(1, static_cast<char>(header));
    int zeros = 0;
    for (const uint8_t byte : m_bytes) {
      if (zeros == 2 && byte <= 3) {
        out.push_back(3);
        zeros = 0;
      }
      out.push_back(static_cast<char>(byte));
      zeros = byte == 0 ? zeros + 1 : 0;
    }
    return out;
  }

 private:
  void bit(uint32_t b) {
    if (m_used == 0) {
      m_bytes.push_back(0);
    }
    m_bytes.back() |= static_cast<uint8_t>(b << (7 - m_used));
    m_used = (m_used + 1) % 8;
  }

  std::basic_string<uint8_t> m_bytes;
  int m_used = 0;  // bits used in the last byte
};

constexpr uint8_t k_profile_main = 77;
constexpr uint8_t k_level_4_0 = 40;

// A Main-profile SPS whose coded size, after cropping, is exactly width x height, so a decoder
// that reads it agrees with the container.
std::string h264_sps(int width, int height) {
  const int mbs_wide = (width + 15) / 16;
  const int mbs_high = (height + 15) / 16;
  BitWriter w;
  w.bits(k_profile_main, 8);
  w.bits(0x40, 8);  // constraint_set1: also decodable as Main
  w.bits(k_level_4_0, 8);
  w.ue(0);       // seq_parameter_set_id
  w.ue(0);       // log2_max_frame_num_minus4
  w.ue(2);       // pic_order_cnt_type 2: no further fields
  w.ue(1);       // max_num_ref_frames
  w.bits(0, 1);  // gaps_in_frame_num_value_allowed_flag
  w.ue(mbs_wide - 1);
  w.ue(mbs_high - 1);
  w.bits(1, 1);                                        // frame_mbs_only_flag
  w.bits(1, 1);                                        // direct_8x8_inference_flag
  const int crop_right = (mbs_wide * 16 - width) / 2;  // 4:2:0 crops in units of 2 pixels
  const int crop_bottom = (mbs_high * 16 - height) / 2;
  const bool crop = crop_right != 0 || crop_bottom != 0;
  w.bits(crop ? 1 : 0, 1);
  if (crop) {
    w.ue(0);
    w.ue(static_cast<uint32_t>(crop_right));
    w.ue(0);
    w.ue(static_cast<uint32_t>(crop_bottom));
  }
  w.bits(0, 1);  // vui_parameters_present_flag: the container has the frame rate
  return w.nal(0x67);
}

std::string h264_pps() {
  BitWriter w;
  w.ue(0);       // pic_parameter_set_id
  w.ue(0);       // seq_parameter_set_id
  w.bits(0, 1);  // entropy_coding_mode_flag: CAVLC
  w.bits(0, 1);  // bottom_field_pic_order_in_frame_present_flag
  w.ue(0);       // num_slice_groups_minus1
  w.ue(0);       // num_ref_idx_l0_default_active_minus1
  w.ue(0);       // num_ref_idx_l1_default_active_minus1
  w.bits(0, 1);  // weighted_pred_flag
  w.bits(0, 2);  // weighted_bipred_idc
  w.se(0);       // pic_init_qp_minus26
  w.se(0);       // pic_init_qs_minus26
  w.se(0);       // chroma_qp_index_offset
  w.bits(1, 1);  // deblocking_filter_control_present_flag
  w.bits(0, 1);  // constrained_intra_pred_flag
  w.bits(0, 1);  // redundant_pic_cnt_present_flag
  return w.nal(0x68);
}

std::string avc_sample_entry(int width, int height) {
  const std::string sps = h264_sps(width, height);
  const std::string pps = h264_pps();
  std::string avcc;
  put_u8(avcc, 1);           // configurationVersion
  avcc += sps.substr(1, 3);  // profile, compatibility, level
  put_u8(avcc, 0xff);        // lengthSizeMinusOne = 3
  put_u8(avcc, 0xe1);        // one SPS
  put_u16(avcc, static_cast<uint32_t>(sps.size()));
  avcc += sps;
  put_u8(avcc, 1);  // one PPS
  put_u16(avcc, static_cast<uint32_t>(pps.size()));
  avcc += pps;

  std::string entry;
  put_zeros(entry, 6);
  put_u16(entry, 1);     // data_reference_index
  put_zeros(entry, 16);  // pre_defined, reserved
  put_u16(entry, static_cast<uint32_t>(width));
  put_u16(entry, static_cast<uint32_t>(height));
  put_u32(entry, 0x00480000);  // 72 dpi
  put_u32(entry, 0x00480000);
  put_u32(entry, 0);
  put_u16(entry, 1);     // frame_count
  put_zeros(entry, 32);  // compressorname
  put_u16(entry, 0x18);  // depth
  put_u16(entry, 0xffff);
  entry += box("avcC", avcc);
  return box("avc1", entry);
}

// An MPEG-4 descriptor: tag, one-byte length (all ours are shorter than 128), body.
std::string descriptor(uint8_t tag, std::string_view body) {
  std::string out;
  put_u8(out, tag);
  put_u8(out, static_cast<uint32_t>(body.size()));
  out += body;
  return out;
}

std::string aac_sample_entry() {
  std::string decoder_config;
  put_u8(decoder_config, 0x40);  // objectTypeIndication: MPEG-4 audio
  put_u8(decoder_config, 0x15);  // streamType audio (5) << 2 | reserved 1
  put_u8(decoder_config, 0);     // bufferSizeDB (24 bits)
  put_u16(decoder_config, 0);
  put_u32(decoder_config, 128000);  // maxBitrate
  put_u32(decoder_config, 128000);  // avgBitrate
  // AudioSpecificConfig: AAC-LC (2), 48 kHz (index 3), 2 channels.
  decoder_config += descriptor(0x05, std::string("\x11\x90", 2));
  std::string es;
  put_u16(es, 0);  // ES_ID
  put_u8(es, 0);   // flags
  es += descriptor(0x04, decoder_config);
  es += descriptor(0x06, std::string(1, '\x02'));  // SLConfig: predefined MP4
  const std::string esds = full_box("esds", 0, descriptor(0x03, es));

  std::string entry;
  put_zeros(entry, 6);
  put_u16(entry, 1);  // data_reference_index
  put_zeros(entry, 8);
  put_u16(entry, 2);   // channelcount
  put_u16(entry, 16);  // samplesize
  put_zeros(entry, 4);
  put_u32(entry, k_audio_rate << 16);
  entry += esds;
  return box("mp4a", entry);
}

struct Track {
  bool video = true;
  uint32_t id = 1;
  uint32_t timescale = k_video_timescale;
  uint32_t sample_ticks = k_frame_ticks;
  uint32_t samples = 0;
  uint32_t sample_size = 1;
  uint32_t chunk_samples = k_mp4_fps;  // about one second per chunk
  std::vector<uint32_t> chunk_offsets;

  uint64_t ticks() const { return uint64_t{samples} * sample_ticks; }
  uint32_t duration_ms() const {
    return static_cast<uint32_t>((ticks() * k_movie_timescale + timescale / 2) / timescale);
  }
  uint32_t chunks() const { return (samples + chunk_samples - 1) / chunk_samples; }
  uint32_t samples_in(uint32_t chunk) const {
    return std::min(chunk_samples, samples - chunk * chunk_samples);
  }
};

std::string sample_table(const Track& track, const Mp4Spec& spec) {
  std::string stsd;
  put_u32(stsd, 1);
  stsd += track.video ? avc_sample_entry(spec.width, spec.height) : aac_sample_entry();
  std::string stts;
  put_u32(stts, 1);
  put_u32(stts, track.samples);
  put_u32(stts, track.sample_ticks);
  // Runs of chunks with the same sample count: all full ones, then a shorter last one.
  const uint32_t last = track.chunks() - 1;
  const bool short_last = track.samples_in(last) != track.samples_in(0);
  std::string stsc;
  put_u32(stsc, short_last ? 2 : 1);
  for (uint32_t chunk : {0u, last}) {
    if (chunk == 0 || short_last) {
      put_u32(stsc, chunk + 1);  // first_chunk
      put_u32(stsc, track.samples_in(chunk));
      put_u32(stsc, 1);  // sample_description_index
    }
  }
  std::string stsz;
  put_u32(stsz, track.sample_size);  // every sample this size: no table
  put_u32(stsz, track.samples);
  std::string stco;
  put_u32(stco, static_cast<uint32_t>(track.chunk_offsets.size()));
  for (const uint32_t offset : track.chunk_offsets) {
    put_u32(stco, offset);
  }
  return box("stbl", full_box("stsd", 0, stsd) + full_box("stts", 0, stts) +
                         full_box("stsc", 0, stsc) + full_box("stsz", 0, stsz) +
                         full_box("stco", 0, stco));
}

std::string trak(const Track& track, const Mp4Spec& spec) {
  std::string tkhd;
  put_zeros(tkhd, 8);  // creation, modification time
  put_u32(tkhd, track.id);
  put_u32(tkhd, 0);
  put_u32(tkhd, track.duration_ms());
  put_zeros(tkhd, 8);
  put_u16(tkhd, 0);                         // layer
  put_u16(tkhd, track.video ? 0 : 1);       // alternate_group
  put_u16(tkhd, track.video ? 0 : 0x0100);  // volume
  put_u16(tkhd, 0);
  put_unity_matrix(tkhd);
  put_u32(tkhd, track.video ? static_cast<uint32_t>(spec.width) << 16 : 0);
  put_u32(tkhd, track.video ? static_cast<uint32_t>(spec.height) << 16 : 0);

  std::string mdhd;
  put_zeros(mdhd, 8);
  put_u32(mdhd, track.timescale);
  put_u32(mdhd, static_cast<uint32_t>(track.ticks()));
  put_u16(mdhd, 0x55c4);  // language "und"
  put_u16(mdhd, 0);

  std::string hdlr;
  put_u32(hdlr, 0);
  hdlr += track.video ? "vide" : "soun";
  put_zeros(hdlr, 12);
  hdlr += track.video ? "VideoHandler" : "SoundHandler";
  hdlr.push_back('\0');

  std::string media_header;
  if (track.video) {
    put_zeros(media_header, 8);  // graphicsmode, opcolor
  } else {
    put_zeros(media_header, 4);  // balance, reserved
  }
  std::string dref;
  put_u32(dref, 1);
  dref += full_box("url ", 1, "");  // flag 1: the media is in this file
  const std::string minf =
      box("minf", full_box(track.video ? "vmhd" : "smhd", track.video ? 1 : 0, media_header) +
                      box("dinf", full_box("dref", 0, dref)) + sample_table(track, spec));
  const std::string mdia =
      box("mdia", full_box("mdhd", 0, mdhd) + full_box("hdlr", 0, hdlr) + minf);
  return box("trak", full_box("tkhd", 0x000003, tkhd) + mdia);  // enabled, in movie
}

std::string moov(const std::array<Track, 2>& tracks, size_t count, const Mp4Spec& spec) {
  uint32_t duration = 0;
  for (size_t i = 0; i < count; ++i) {
    duration = std::max(duration, tracks[i].duration_ms());
  }
  std::string mvhd;
  put_zeros(mvhd, 8);
  put_u32(mvhd, k_movie_timescale);
  put_u32(mvhd, duration);
  put_u32(mvhd, 0x00010000);  // rate 1.0
  put_u16(mvhd, 0x0100);      // volume 1.0
  put_zeros(mvhd, 10);
  put_unity_matrix(mvhd);
  put_zeros(mvhd, 24);
  put_u32(mvhd, static_cast<uint32_t>(count + 1));  // next_track_ID
  std::string out = full_box("mvhd", 0, mvhd);
  for (size_t i = 0; i < count; ++i) {
    out += trak(tracks[i], spec);
  }
  return box("moov", out);
}

std::string ftyp() {
  std::string payload = "isom";
  put_u32(payload, 0x200);
  payload += "isomiso2avc1mp41";
  return box("ftyp", payload);
}

Mp4Spec normalised(Mp4Spec spec) {
  spec.width = std::max(2, spec.width & ~1);
  spec.height = std::max(2, spec.height & ~1);
  spec.duration_ms = std::max<int64_t>(spec.duration_ms, 1);
  return spec;
}

// The tracks of `spec` with one-byte samples and chunk offsets still 0.
std::array<Track, 2> tracks_for(const Mp4Spec& spec, size_t& count) {
  Track video;
  video.samples =
      static_cast<uint32_t>(std::max<int64_t>(1, (spec.duration_ms * k_mp4_fps + 500) / 1000));
  Track audio;
  audio.video = false;
  audio.id = 2;
  audio.timescale = k_audio_rate;
  audio.sample_ticks = k_aac_frame;
  audio.chunk_samples = (k_audio_rate + k_aac_frame - 1) / k_aac_frame;
  const int64_t pcm_samples = spec.duration_ms * k_audio_rate / 1000;
  audio.samples = static_cast<uint32_t>((pcm_samples + k_aac_frame - 1) / k_aac_frame);
  for (Track* track : {&video, &audio}) {
    track->chunk_offsets.assign(track->chunks(), 0);
  }
  count = spec.audio ? 2 : 1;
  return {video, audio};
}

// Interleaves the tracks' chunks second by second from `pos` on, as muxers do, so a player
// (and libavformat's read-ahead) never jumps far between a moment's video and its sound.
// Returns where the last chunk ends.
size_t place_chunks(std::array<Track, 2>& tracks, size_t count, size_t pos) {
  for (uint32_t chunk = 0;; ++chunk) {
    bool placed = false;
    for (size_t i = 0; i < count; ++i) {
      Track& track = tracks[i];
      if (chunk < track.chunks()) {
        track.chunk_offsets[chunk] = static_cast<uint32_t>(pos);
        pos += size_t{track.samples_in(chunk)} * track.sample_size;
        placed = true;
      }
    }
    if (!placed) {
      return pos;
    }
  }
}

size_t header_bytes(const std::array<Track, 2>& tracks, size_t count, const Mp4Spec& spec) {
  return ftyp().size() + moov(tracks, count, spec).size() + 8;  // + the mdat box header
}

}  // namespace

size_t min_mp4_bytes(const Mp4Spec& requested) {
  const Mp4Spec spec = normalised(requested);
  size_t count = 0;
  const auto tracks = tracks_for(spec, count);
  size_t samples = 0;
  for (size_t i = 0; i < count; ++i) {
    samples += tracks[i].samples;
  }
  return header_bytes(tracks, count, spec) + samples;
}

std::string write_mp4(const Mp4Spec& requested, size_t bytes, uint64_t seed) {
  if (bytes < min_mp4_bytes(requested)) {
    return write_not_a_video(bytes, seed);
  }
  const Mp4Spec spec = normalised(requested);
  size_t count = 0;
  auto tracks = tracks_for(spec, count);
  const size_t headers = header_bytes(tracks, count, spec);
  const size_t payload = bytes - headers;
  Track& video = tracks[0];
  Track& audio = tracks[1];
  const size_t audio_bytes = spec.audio ? payload / k_audio_share : 0;
  audio.sample_size = static_cast<uint32_t>(std::max<size_t>(1, audio_bytes / audio.samples));
  const size_t audio_used = spec.audio ? size_t{audio.sample_size} * audio.samples : 0;
  video.sample_size = static_cast<uint32_t>((payload - audio_used) / video.samples);
  place_chunks(tracks, count, headers);

  std::string out;
  out.reserve(bytes);
  out += ftyp();
  out += moov(tracks, count, spec);
  put_u32(out, static_cast<uint32_t>(8 + payload));
  out += "mdat";
  append_prng_bytes(out, payload, seed);  // any bytes left after the last sample stay unused
  return out;
}

std::string write_not_a_video(size_t bytes, uint64_t seed) {
  bytes = std::max<size_t>(bytes, 64);
  std::string out = ftyp();
  out += box("free", "vidbatch");
  const size_t mdat_size = bytes - out.size();
  put_u32(out, static_cast<uint32_t>(mdat_size));
  out += "mdat";
  append_prng_bytes(out, mdat_size - 8, seed);
  return out;
}

}  // namespace sim
