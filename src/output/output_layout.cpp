#include "output/output_layout.h"

#include <cctype>
#include <filesystem>

namespace vb {

namespace {

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

bool escapes_root(const std::filesystem::path& relative) {
  if (relative.is_absolute() || relative.has_root_name()) {
    return true;
  }
  for (const auto& part : relative) {
    if (part == "..") {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<OutputPaths> output_paths(const OutputConfig& output, const std::string& batch,
                                 const std::string& job_id) {
  std::string relative = output.layout;
  replace_all(relative, "{batch}", batch);
  replace_all(relative, "{id}", job_id);
  std::filesystem::path rel(relative);
  if (relative.empty() || escapes_root(rel) || relative.find('\0') != std::string::npos) {
    return fail(ErrorCode::invalid_input,
                "output.layout expands to '" + relative + "', which is outside the output root",
                "job " + batch + "/" + job_id);
  }
  std::filesystem::path video = std::filesystem::path(output.root) / rel;
  OutputPaths paths;
  paths.video = video.string();
  paths.part = paths.video + ".part";
  std::filesystem::path sidecar = video;
  sidecar.replace_extension(".json");
  paths.sidecar = sidecar.string();
  paths.thumbnail = thumbnail_path(paths.video);
  return paths;
}

std::string thumbnail_path(const std::string& video) {
  std::filesystem::path thumbnail(video);
  thumbnail.replace_extension(thumbnail.extension() == ".webp" ? ".thumbnail.webp" : ".webp");
  return thumbnail.string();
}

OutputPaths take_paths(const OutputPaths& video, const std::string& remote_id) {
  std::string safe = remote_id;
  for (char& c : safe) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
                       c == '-';
    c = plain ? c : '_';
  }
  std::filesystem::path path(video.video);
  const std::string ext = path.extension().string();
  path.replace_extension();
  OutputPaths take;
  take.video = path.string() + ".take-" + safe + ext;
  take.part = take.video + ".part";
  std::filesystem::path sidecar(take.video);
  sidecar.replace_extension(".json");
  take.sidecar = sidecar.string();
  return take;
}

}  // namespace vb
