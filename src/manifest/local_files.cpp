#include "manifest/local_files.h"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "util/text_util.h"

namespace vb {

namespace {

constexpr std::size_t k_magic_bytes = 12;  // enough for "RIFF....WEBP" and "....ftyp"

const char* noun(LocalFileKind kind) {
  switch (kind) {
    case LocalFileKind::image:
      return "image";
    case LocalFileKind::video:
      return "video";
    case LocalFileKind::text:
      return "prompt";
  }
  return "file";
}

std::string read_head(const std::filesystem::path& path) {
  std::array<char, k_magic_bytes> buffer{};
  std::ifstream in(path, std::ios::binary);
  in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  return std::string(buffer.data(), static_cast<std::size_t>(in.gcount()));
}

std::string hex_byte(unsigned char byte) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", byte);
  return text;
}

}  // namespace

std::string check_magic_bytes(std::string_view head, LocalFileKind kind) {
  if (kind == LocalFileKind::image) {
    const bool jpeg = head.starts_with("\xFF\xD8\xFF");
    const bool png = head.starts_with("\x89PNG\r\n\x1A\n");
    const bool webp = head.size() >= 12 && head.starts_with("RIFF") && head.substr(8, 4) == "WEBP";
    return jpeg || png || webp ? "" : "is not a JPEG, PNG or WebP image";
  }
  if (kind == LocalFileKind::video) {
    const bool mp4 = head.size() >= 8 && head.substr(4, 4) == "ftyp";
    return mp4 ? "" : "is not an MP4 video (no 'ftyp' box at the start)";
  }
  return "";
}

const LocalFiles::Resolved& LocalFiles::resolve(const std::string& reference, LocalFileKind kind) {
  std::string key = static_cast<char>('0' + static_cast<int>(kind)) + reference;
  const auto cached = m_cache.find(key);
  if (cached != m_cache.end()) {
    return cached->second;
  }
  namespace fs = std::filesystem;
  Resolved result;
  std::error_code ec;
  fs::path path(reference);
  if (path.is_relative()) {
    path = fs::path(m_base_dir) / path;
  }
  path = fs::absolute(path, ec).lexically_normal();
  result.path = path.string();
  const auto status = fs::status(path, ec);
  const std::string what = noun(kind);
  if (!fs::exists(status)) {
    result.error = what + " file not found: " + result.path;
  } else if (!fs::is_regular_file(status)) {
    result.error = what + " is not a regular file: " + result.path;
  } else if (const auto wrong = check_magic_bytes(read_head(path), kind); !wrong.empty()) {
    result.error = result.path + " " + wrong;
  }
  return m_cache.emplace(std::move(key), std::move(result)).first->second;
}

Result<std::string> read_text_file(const std::string& path, std::string_view what) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) {
    return fail(ErrorCode::not_found, std::string(what) + " file not found", path);
  }
  if (fs::is_directory(status)) {
    return fail(ErrorCode::io, "is a directory, not a " + std::string(what) + " file", path);
  }
  const auto size = fs::file_size(path, ec);
  if (!ec && size > k_max_text_file_bytes) {
    return fail(ErrorCode::invalid_input,
                "the " + std::string(what) + " is " + std::to_string(size) +
                    " bytes; the limit is 16 MiB (split it into several batches)",
                path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail(ErrorCode::io, "cannot read the " + std::string(what) + " file", path);
  }
  // One read into a string of the file's size: a stringstream copied a large
  // file several times while it grew. Anything past that size (a file still
  // being written, or one without a size) is appended below.
  std::string text;
  if (!ec) {
    text.resize(static_cast<std::size_t>(size));
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
  }
  // Bounded, so that a file without a size (a pipe, /proc) cannot fill memory.
  char chunk[64 * 1024];
  while (in && text.size() <= k_max_text_file_bytes) {
    in.read(chunk, sizeof chunk);
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (text.size() > k_max_text_file_bytes) {
    return fail(ErrorCode::invalid_input,
                "the " + std::string(what) + " is larger than the limit of 16 MiB", path);
  }
  return text;
}

std::optional<EncodingProblem> find_encoding_problem(std::string_view text) {
  // Editors on Windows save "Unicode" as UTF-16: name it rather than report byte 0xff.
  if (text.starts_with("\xFF\xFE") || text.starts_with("\xFE\xFF")) {
    return EncodingProblem{0, true,
                           "the file is UTF-16 (it starts with the byte order mark " +
                               hex_byte(static_cast<unsigned char>(text[0])) + " " +
                               hex_byte(static_cast<unsigned char>(text[1])) + ")"};
  }
  if (const auto bad = find_invalid_utf8(text)) {
    return EncodingProblem{*bad, false,
                           "invalid UTF-8 (byte " +
                               hex_byte(static_cast<unsigned char>(text[*bad])) + ")"};
  }
  return std::nullopt;
}

}  // namespace vb
