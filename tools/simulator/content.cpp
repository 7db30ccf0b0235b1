#include "content.h"

#include "prng.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace sim {

namespace {

void put_u32_be(std::string& out, uint32_t v)
{
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

void put_u32_le(std::string& out, uint32_t v)
{
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 24) & 0xff));
}

} // namespace

std::string make_mp4(std::string_view video_id, size_t bytes)
{
  bytes = std::max<size_t>(bytes, 64);
  std::string out;
  out.reserve(bytes);
  put_u32_be(out, 32);
  out += "ftyp";
  out += "isom";
  put_u32_be(out, 0x200);
  out += "isomiso2avc1mp41";
  const std::string_view note = "vidbatch";
  put_u32_be(out, static_cast<uint32_t>(8 + note.size()));
  out += "free";
  out += note;
  const size_t mdat_size = bytes - out.size();
  put_u32_be(out, static_cast<uint32_t>(mdat_size));
  out += "mdat";
  append_prng_bytes(out, mdat_size - 8, fnv1a(video_id));
  return out;
}

std::string make_thumbnail(std::string_view video_id)
{
  constexpr size_t k_payload = 56;
  std::string out = "RIFF";
  put_u32_le(out, static_cast<uint32_t>(4 + 8 + k_payload));
  out += "WEBPVP8L";
  put_u32_le(out, static_cast<uint32_t>(k_payload));
  append_prng_bytes(out, k_payload, fnv1a(video_id) ^ 0x7468756d62ULL);
  return out;
}

std::string sha256_hex(std::string_view data)
{
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

} // namespace sim
