// [probe] probe_video against real files: the simulator's MP4 writer (honest and dishonest
// shapes), files muxed by FFmpeg's own mp4 muxer (nothing of ours in their layout), truncated
// files, and bytes that are no video at all.
#include <catch2/catch.hpp>

extern "C" {
#include <libavformat/avformat.h>
}

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "manifest/manifest_test_util.h"
#include "probe/video_probe.h"
#include "simulator/mp4_writer.h"
#include "simulator/prng.h"

using namespace vb;
using vb::manifest_test::TempDir;

namespace {

struct MuxedStream {
  bool video = true;
  int width = 640;
  int height = 360;
  int packets = 50;  // video: frames at 25 fps; audio: AAC frames of 1024 samples at 48 kHz
};

// Codec parameters of an H.264 track of width x height: the writer's avcC, read back by
// libavformat (FFmpeg's mp4 muxer needs one for H.264).
void copy_avc_parameters(const std::filesystem::path& dir, int width, int height,
                         AVCodecParameters* out) {
  const std::string source = (dir / "avc-source.mp4").string();
  std::ofstream(source, std::ios::binary) << sim::write_mp4({width, height, 1000, false}, 4096, 1);
  AVFormatContext* in = nullptr;
  REQUIRE(avformat_open_input(&in, source.c_str(), nullptr, nullptr) == 0);
  REQUIRE(avcodec_parameters_copy(out, in->streams[0]->codecpar) >= 0);
  avformat_close_input(&in);
}

// Writes `path` with FFmpeg's mp4 muxer (moov after mdat, edit lists, its own boxes): an H.264
// track and/or an AAC track of packets filled with arbitrary bytes.
void mux_with_ffmpeg(const std::filesystem::path& dir, const std::string& path,
                     const std::vector<MuxedStream>& streams) {
  AVFormatContext* out = nullptr;
  REQUIRE(avformat_alloc_output_context2(&out, nullptr, "mp4", path.c_str()) >= 0);
  std::vector<AVRational> rates;
  for (const auto& s : streams) {
    AVStream* st = avformat_new_stream(out, nullptr);
    REQUIRE(st != nullptr);
    AVCodecParameters* par = st->codecpar;
    if (s.video) {
      copy_avc_parameters(dir, s.width, s.height, par);
      par->codec_tag = 0;
      rates.push_back({1, 25});
    } else {
      par->codec_type = AVMEDIA_TYPE_AUDIO;
      par->codec_id = AV_CODEC_ID_AAC;
      par->sample_rate = 48000;
      par->frame_size = 1024;
      av_channel_layout_default(&par->ch_layout, 2);
      static const unsigned char k_aac_lc_48k_stereo[] = {0x11, 0x90};
      par->extradata = static_cast<uint8_t*>(av_mallocz(2 + AV_INPUT_BUFFER_PADDING_SIZE));
      std::copy(std::begin(k_aac_lc_48k_stereo), std::end(k_aac_lc_48k_stereo), par->extradata);
      par->extradata_size = 2;
      rates.push_back({1024, 48000});
    }
    st->time_base = rates.back();
  }
  REQUIRE(avio_open(&out->pb, path.c_str(), AVIO_FLAG_WRITE) >= 0);
  REQUIRE(avformat_write_header(out, nullptr) >= 0);
  AVPacket* packet = av_packet_alloc();
  for (size_t i = 0; i < streams.size(); ++i) {
    for (int n = 0; n < streams[i].packets; ++n) {
      REQUIRE(av_new_packet(packet, 300) == 0);
      std::fill(packet->data, packet->data + packet->size, static_cast<uint8_t>(n));
      packet->stream_index = static_cast<int>(i);
      packet->pts = packet->dts = n;
      packet->duration = 1;
      packet->flags = AV_PKT_FLAG_KEY;
      av_packet_rescale_ts(packet, rates[i], out->streams[i]->time_base);
      REQUIRE(av_interleaved_write_frame(out, packet) >= 0);
    }
  }
  av_packet_free(&packet);
  REQUIRE(av_write_trailer(out) >= 0);
  avio_closep(&out->pb);
  avformat_free_context(out);
}

std::string prng_bytes(size_t count, uint64_t seed) {
  std::string out;
  sim::append_prng_bytes(out, count, seed);
  return out;
}

}  // namespace

TEST_CASE("probe: the simulator's MP4s say what they were written to say", "[probe]") {
  struct Case {
    sim::Mp4Spec spec;
    size_t bytes;
  };
  const std::vector<Case> cases = {
      {{1280, 720, 4000, true}, 65536},
      {{720, 1280, 8000, true}, 4096},
      {{1792, 1024, 12000, false}, 1 << 20},
      {{1080, 1920, 25000, true}, 300000},
      {{352, 640, 10000, true}, 8192},
      {{640, 360, 2000, true}, 2000},  // a "short" fault's file: few samples, tiny
  };
  TempDir dir;
  for (const auto& c : cases) {
    const std::string data = sim::write_mp4(c.spec, c.bytes, 7);
    CAPTURE(c.spec.width, c.spec.height, c.spec.duration_ms, c.spec.audio, c.bytes);
    REQUIRE(data.size() == c.bytes);
    CHECK(data.substr(4, 8) == "ftypisom");
    const auto probe = probe_video(dir.write("v.mp4", data).string());
    REQUIRE(probe);
    CHECK(probe->container.find("mp4") != std::string::npos);
    CHECK(probe->has_video);
    CHECK(probe->video_codec == "h264");
    CHECK(probe->duration_ms == c.spec.duration_ms);
    CHECK(probe->width == c.spec.width);
    CHECK(probe->height == c.spec.height);
    CHECK(probe->frame_rate == Approx(30.0));
    CHECK(probe->has_audio == c.spec.audio);
    CHECK(probe->audio_codec == (c.spec.audio ? "aac" : ""));
    CHECK(probe->file_bytes == static_cast<std::int64_t>(c.bytes));
    CHECK(probe->declared_bytes == static_cast<std::int64_t>(c.bytes));
    CHECK_FALSE(probe->truncated());
  }
}

TEST_CASE("probe: the MP4 writer is deterministic per seed and exact in size", "[probe]") {
  const sim::Mp4Spec spec{1280, 720, 4000, true};
  CHECK(sim::write_mp4(spec, 65536, 1) == sim::write_mp4(spec, 65536, 1));
  CHECK(sim::write_mp4(spec, 65536, 1) != sim::write_mp4(spec, 65536, 2));
  for (size_t bytes : {size_t{64}, size_t{100}, sim::min_mp4_bytes(spec) - 1,
                       sim::min_mp4_bytes(spec), size_t{1000000}}) {
    CAPTURE(bytes);
    CHECK(sim::write_mp4(spec, bytes, 3).size() == bytes);
    CHECK(sim::write_mp4(spec, bytes, 3).substr(4, 4) == "ftyp");
  }
}

TEST_CASE("probe: files too small for the headers are ftyp + mdat, not a video", "[probe]") {
  const sim::Mp4Spec spec{1280, 720, 4000, true};
  TempDir dir;
  const auto small = probe_video(dir.write("a.mp4", sim::write_mp4(spec, 64, 1)).string());
  REQUIRE_FALSE(small);
  CHECK(small.error().code == ErrorCode::protocol);
  CHECK(small.error().message == "not a video: FFmpeg cannot read it (moov atom not found)");
  const auto fits =
      probe_video(dir.write("b.mp4", sim::write_mp4(spec, sim::min_mp4_bytes(spec), 1)).string());
  REQUIRE(fits);
  CHECK(fits->duration_ms == 4000);
}

TEST_CASE("probe: a file cut anywhere in its headers is refused or shows the cut", "[probe]") {
  const std::string full = sim::write_mp4({1280, 720, 4000, true}, 65536, 5);
  TempDir dir;
  const std::string path = (dir.path() / "cut.mp4").string();
  int refused = 0;
  int truncated = 0;
  // Every prefix up to just past the mdat header (the moov ends at byte 1067).
  for (size_t cut = 1; cut <= 1080; ++cut) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << full.substr(0, cut);
    const auto probe = probe_video(path);
    if (!probe) {
      CHECK(probe.error().code == ErrorCode::protocol);
      CHECK(probe.error().message.starts_with("not a video: "));
      ++refused;
    } else {
      CAPTURE(cut);
      CHECK(probe->truncated());  // a box or sample lies beyond the file's end
      ++truncated;
    }
  }
  CHECK(refused > 0);    // cut before the video track's sample table is complete
  CHECK(truncated > 0);  // cut after it: the track reads, its samples are missing
}

TEST_CASE("probe: a file cut inside its samples reads, and says it is truncated", "[probe]") {
  const std::string full = sim::write_mp4({1280, 720, 8000, true}, 200000, 5);
  TempDir dir;
  const auto probe = probe_video(dir.write("cut.mp4", full.substr(0, 100000)).string());
  REQUIRE(probe);
  CHECK(probe->duration_ms == 8000);  // the headers still say 8 s
  CHECK(probe->file_bytes == 100000);
  CHECK(probe->declared_bytes == 200000);
  CHECK(probe->truncated());
}

TEST_CASE("probe: bytes that are no video", "[probe]") {
  TempDir dir;
  struct Case {
    const char* name;
    std::string bytes;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"empty", "", "not a video: the file is empty"},
      {"random", prng_bytes(65536, 11),
       "not a video: FFmpeg cannot read it (Invalid data found when processing input)"},
      {"html", "<html><body><h1>502 Bad Gateway</h1></body></html>\n",
       "not a video: FFmpeg cannot read it (Invalid data found when processing input)"},
      {"ftyp without moov", sim::write_not_a_video(65536, 3),
       "not a video: FFmpeg cannot read it (moov atom not found)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const std::string path = dir.write(c.name, c.bytes).string();
    const auto probe = probe_video(path);
    REQUIRE_FALSE(probe);
    CHECK(probe.error().code == ErrorCode::protocol);
    CHECK(probe.error().message == c.message);
    CHECK(probe.error().describe() == path + ": " + c.message);
  }
}

TEST_CASE("probe: missing files, folders and paths that look like URLs", "[probe]") {
  TempDir dir;
  const auto missing = probe_video((dir.path() / "nothing.mp4").string());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::not_found);
  CHECK(missing.error().where == (dir.path() / "nothing.mp4").string());

  const auto folder = probe_video(dir.path().string());
  REQUIRE_FALSE(folder);
  CHECK(folder.error().code == ErrorCode::io);

  // A file named like a protocol is still read from disk.
  const std::string data = sim::write_mp4({1280, 720, 4000, true}, 65536, 1);
  const auto colon = probe_video(dir.write("http:x.mp4", data).string());
  REQUIRE(colon);
  CHECK(colon->width == 1280);
}

TEST_CASE("probe: MP4s written by FFmpeg's own muxer", "[probe]") {
  TempDir dir;
  const std::string av = (dir.path() / "ffmpeg.mp4").string();
  // 4 s of video at 25 fps, 4.01 s of AAC.
  mux_with_ffmpeg(dir.path(), av, {{true, 854, 480, 100}, {false, 0, 0, 188}});
  const auto probe = probe_video(av);
  REQUIRE(probe);
  CHECK(probe->has_video);
  CHECK(probe->video_codec == "h264");
  CHECK(probe->width == 854);
  CHECK(probe->height == 480);
  CHECK(probe->duration_ms == 4000);
  CHECK(probe->frame_rate == Approx(25.0));
  CHECK(probe->has_audio);
  CHECK(probe->audio_codec == "aac");
  CHECK_FALSE(probe->truncated());

  const std::string audio_only = (dir.path() / "ffmpeg.m4a").string();
  mux_with_ffmpeg(dir.path(), audio_only, {{false, 0, 0, 94}});
  const auto sound = probe_video(audio_only);
  REQUIRE(sound);
  CHECK_FALSE(sound->has_video);
  CHECK(sound->video_codec.empty());
  CHECK(sound->has_audio);
  CHECK(sound->duration_ms == Approx(2005).margin(30));
}

TEST_CASE("probe: threads probing at once each get their own answers", "[probe]") {
  TempDir dir;
  const std::string good =
      dir.write("good.mp4", sim::write_mp4({720, 1280, 8000, true}, 65536, 1)).string();
  const std::string bad = dir.write("bad.mp4", sim::write_not_a_video(65536, 1)).string();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const auto ok = probe_video(good);
        const auto broken = probe_video(bad);
        if (!ok || ok->height != 1280 || broken ||
            broken.error().message.find("moov atom not found") == std::string::npos) {
          ++failures[t];
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  CHECK(failures == std::vector<int>(4, 0));
}
