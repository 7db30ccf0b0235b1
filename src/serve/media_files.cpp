#include "serve/media_files.h"

#include <filesystem>

namespace vb {

namespace {

namespace fs = std::filesystem;

// `inner` is `outer` or below it (both canonical): component by component, so "/out-other"
// is not inside "/out".
bool is_within(const fs::path& outer, const fs::path& inner) {
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *o != *i) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::string> file_inside(const std::string& root, const std::string& path) {
  std::error_code ec;
  const fs::path real_root = fs::canonical(root, ec);
  if (ec) {
    return fail(ErrorCode::not_found, "the output folder does not exist", root);
  }
  if (path.empty()) {
    return fail(ErrorCode::not_found, "no file recorded");
  }
  const fs::path real = fs::canonical(path, ec);
  if (ec) {
    return fail(ErrorCode::not_found, "no such file", path);
  }
  if (!is_within(real_root, real)) {
    return fail(ErrorCode::invalid_input, "outside the output folder " + real_root.string(), path);
  }
  if (!fs::is_regular_file(real, ec)) {
    return fail(ErrorCode::invalid_input, "not a regular file", path);
  }
  return real.string();
}

}  // namespace vb
