// Helpers for the manifest tests: temporary folders and short-hand parsing.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "manifest/manifest.h"

#ifndef VIDBATCH_SOURCE_DIR
#error "VIDBATCH_SOURCE_DIR must be defined by tests/CMakeLists.txt"
#endif

namespace vb::manifest_test {

// A fresh folder under /tmp, removed with its contents at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "vidbatch-manifest-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }

  std::filesystem::path write(const std::string& name, const std::string& text) const {
    const auto file = m_path / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

 private:
  std::filesystem::path m_path;
};

// The first bytes of real files: the manifest checks magic bytes, not names.
inline const std::string k_png_bytes = std::string("\x89PNG\r\n\x1A\n\0\0\0\rIHDR", 16);
inline const std::string k_jpeg_bytes = "\xFF\xD8\xFF\xE0 JFIF";
inline const std::string k_webp_bytes = std::string("RIFF\x24\0\0\0WEBPVP8 ", 16);
inline const std::string k_mp4_bytes = std::string(
    "\0\0\0\x18"
    "ftypmp42\0\0\0\0mp42isom",
    24);

inline std::string example_path(const std::string& relative) {
  return std::string(VIDBATCH_SOURCE_DIR) + "/jobs/examples/" + relative;
}

inline ManifestParse parse_text(const std::string& text) {
  return parse_manifest(text, "m.yaml", "/nonexistent-base");
}

// All diagnostics rendered, one after another, as load_manifest shows them.
inline std::string rendered(const ManifestParse& parse) {
  std::string out;
  for (const auto& d : parse.diagnostics) {
    out.append(out.empty() ? "" : "\n");
    out += d.render();
  }
  return out;
}

// The first line of each rendered diagnostic ("file:line:col: field: message").
inline std::vector<std::string> headlines(const ManifestParse& parse) {
  std::vector<std::string> out;
  for (const auto& d : parse.diagnostics) {
    const std::string text = d.render();
    out.push_back(text.substr(0, text.find('\n')));
  }
  return out;
}

}  // namespace vb::manifest_test
