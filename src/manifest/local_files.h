// Local files a manifest refers to (internal to the manifest module):
// reference images, character videos and prompt files. Paths are resolved
// against the manifest's folder; a file must exist, be a regular file and
// start with the magic bytes of its kind, so a renamed text file is caught
// before a run pays for a failed upload. Each distinct reference is checked
// once, since many jobs often share one image. Not thread-safe (a cache).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "util/error.h"

namespace vb {

// The manifest's and a prompt file's size limit.
constexpr std::size_t k_max_text_file_bytes = 16u * 1024 * 1024;

enum class LocalFileKind { image, video, text };

class LocalFiles {
 public:
  explicit LocalFiles(std::string base_dir) : m_base_dir(std::move(base_dir)) {}

  struct Resolved {
    std::string path;   // absolute, normalised
    std::string error;  // empty if the file is usable: "image file not found: /abs/x.png"
  };

  const Resolved& resolve(const std::string& reference, LocalFileKind kind);

 private:
  std::string m_base_dir;
  std::unordered_map<std::string, Resolved> m_cache;  // key: kind letter + reference
};

// "" if the first bytes are a JPEG, PNG or WebP image (`kind` image) or an
// ISO-BMFF video with an 'ftyp' box (`kind` video), else what is wrong.
std::string check_magic_bytes(std::string_view head, LocalFileKind kind);

// Reads a whole text file of at most k_max_text_file_bytes. Errors:
// not_found, io (a folder, unreadable), invalid_input (too large).
Result<std::string> read_text_file(const std::string& path, std::string_view what);

// An encoding problem of text that should be UTF-8 (a UTF-8 byte order mark
// is fine): its byte offset and message, e.g. "invalid UTF-8 (byte 0xe9)".
struct EncodingProblem {
  std::size_t offset = 0;
  bool whole_file = false;  // no position worth showing (UTF-16)
  std::string message;
};
std::optional<EncodingProblem> find_encoding_problem(std::string_view text);

}  // namespace vb
