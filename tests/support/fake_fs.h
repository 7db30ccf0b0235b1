// Filesystem helpers for the [output] and [engine] tests: a scratch directory
// removed at scope exit, whole-file reads, and a reference SHA-256 (OpenSSL EVP).
// Own namespace: other test folders have their own TempDir classes.
#pragma once

#include <catch2/catch.hpp>

#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace vb::fake {

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vbunit-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    m_path = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  std::string file(const std::string& name) const { return (m_path / name).string(); }

 private:
  std::filesystem::path m_path;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void spit(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::string reference_sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* k_hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += k_hex[digest[i] >> 4];
    out += k_hex[digest[i] & 15];
  }
  return out;
}

// Bytes that pass VideoFile's MP4 check: a 24-byte ftyp box, then `filler` bytes.
inline std::string fake_mp4(std::size_t filler = 1000, char seed = 'a') {
  std::string
      out("\0\0\0\x18"
          "ftypisom"
          "\0\0\x02\0"
          "isomiso2",
          24);
  for (std::size_t i = 0; i < filler; ++i) {
    out += static_cast<char>(seed + static_cast<char>(i % 23));
  }
  return out;
}

}  // namespace vb::fake
