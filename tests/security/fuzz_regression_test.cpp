// Replays every fuzz input kept in the repository through the g++ build of the
// parsers: the seed corpus and, above all, tests/fuzz/regressions/<target>/,
// where tools/fuzz copies each input that once crashed, hung or broke an
// invariant. Each must now pass its target's invariants (fuzz/fuzz_targets.h).
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz/fuzz_targets.h"

namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int replay(const char* folder) {
  int files = 0;
  for (const auto& target : vb::fuzz::all_targets()) {
    const fs::path dir = fs::path(VIDBATCH_SOURCE_DIR) / "tests/fuzz" / folder / target.name;
    if (!fs::is_directory(dir)) {
      continue;
    }
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (!entry.is_regular_file()) {
        continue;
      }
      const std::string data = read_all(entry.path());
      const auto start = std::chrono::steady_clock::now();
      const std::string problem = target.run(data);
      const auto took = std::chrono::steady_clock::now() - start;
      INFO(target.name << ": " << entry.path().filename().string());
      CHECK(problem == "");
      CHECK(took < std::chrono::seconds(5));  // regressions include hangs
      ++files;
    }
  }
  return files;
}

}  // namespace

TEST_CASE("every kept fuzz regression input parses without crash, hang or broken invariant",
          "[security][fuzz]") {
  replay("regressions");
}

TEST_CASE("every fuzz seed passes its target's invariants", "[security][fuzz]") {
  CHECK(replay("corpus") > 20);
}

TEST_CASE("a stray top-level ',' in a manifest is an error, not a hang", "[security][fuzz]") {
  CHECK(vb::fuzz::manifest(",") == "");
  CHECK(vb::fuzz::manifest("jobs:\n  - id: a\n    prompt: x\n,\n") == "");
}

TEST_CASE("absurd timestamps in provider answers are dropped, not converted", "[security][fuzz]") {
  CHECK(vb::fuzz::answer(R"({"status":"completed","expires_at":1e300})") == "");
  CHECK(vb::fuzz::answer(
            R"({"data":[{"id":"v","created_at":1.7e85,"seconds":1e30,"status":"queued"}]})") == "");
}
