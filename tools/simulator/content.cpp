#include "content.h"

#include "mp4_writer.h"
#include "options.h"
#include "prng.h"
#include "video_store.h"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <cstdlib>

namespace sim {

namespace {

void put_u32_le(std::string& out, uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 24) & 0xff));
}

}  // namespace

std::string make_video_file(const Video& video, const Options& options) {
  const auto bytes = static_cast<size_t>(options.video_bytes);
  const uint64_t seed = fnv1a(video.id);
  const DishonestyMarkers& markers = options.dishonesty;
  const auto marked = [&video](const std::string& marker) {
    return !marker.empty() && video.prompt.find(marker) != std::string::npos;
  };
  if (marked(markers.garbage)) {
    return write_not_a_video(bytes, seed);
  }
  Mp4Spec spec{video.width, video.height, std::atoll(video.seconds.c_str()) * 1000, true};
  if (marked(markers.short_video)) {
    spec.duration_ms /= 2;
  }
  if (marked(markers.small)) {
    spec.width /= 2;
    spec.height /= 2;
  }
  if (marked(markers.silent)) {
    spec.audio = false;
  }
  return write_mp4(spec, bytes, seed);
}

std::string make_thumbnail(std::string_view video_id) {
  constexpr size_t k_payload = 56;
  std::string out = "RIFF";
  put_u32_le(out, static_cast<uint32_t>(4 + 8 + k_payload));
  out += "WEBPVP8L";
  put_u32_le(out, static_cast<uint32_t>(k_payload));
  append_prng_bytes(out, k_payload, fnv1a(video_id) ^ 0x7468756d62ULL);
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr const char* k_hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(k_hex[digest[i] >> 4]);
    out.push_back(k_hex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace sim
