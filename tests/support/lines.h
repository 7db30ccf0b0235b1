// lines_of: splits a command's output into its lines (without the '\n'), for tests.
#pragma once

#include <sstream>
#include <string>
#include <vector>

namespace vidbatch::test {

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

}  // namespace vidbatch::test
