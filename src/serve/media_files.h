// Media files of the dashboard: a path the ledger names is served only when it resolves
// (symbolic links and ".." followed) to a regular file inside the output tree. Thread-safe.
#pragma once

#include <string>

#include "util/error.h"

namespace vb {

// The resolved path of `path` when it is a regular file inside `root` (both resolved first).
// not_found: no such file; invalid_input: it resolves outside `root`, or is not a regular file.
Result<std::string> file_inside(const std::string& root, const std::string& path);

}  // namespace vb
