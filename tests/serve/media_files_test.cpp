// [serve] Media files only from inside the output tree: "..", symbolic links out, a sibling
// folder that shares the root's name as a prefix, folders.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "serve/media_files.h"
#include "store/store_fixtures.h"

using namespace vb;
using vb::store_test::TempDir;

TEST_CASE("file_inside: a regular file below the root, nothing that resolves elsewhere",
          "[serve]") {
  TempDir dir;
  const std::string root = dir.file("out");
  std::filesystem::create_directories(root + "/night");
  std::filesystem::create_directories(dir.file("out-other"));
  std::ofstream(root + "/night/a.mp4") << "video";
  std::ofstream(dir.file("out-other/b.mp4")) << "not served";
  std::ofstream(dir.file("secret.txt")) << "not served";
  std::filesystem::create_symlink(dir.file("secret.txt"), root + "/night/link.mp4");

  auto inside = file_inside(root, root + "/night/../night/a.mp4");
  REQUIRE(inside.has_value());
  CHECK(*inside == std::filesystem::canonical(root + "/night/a.mp4").string());

  for (const std::string& path : {root + "/../secret.txt", root + "/night/link.mp4",
                                  dir.file("out-other/b.mp4"), root + "/night"}) {
    INFO(path);
    auto refused = file_inside(root, path);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == ErrorCode::invalid_input);
  }
  CHECK(file_inside(root, root + "/night/missing.mp4").error().code == ErrorCode::not_found);
  CHECK(file_inside(root, "").error().code == ErrorCode::not_found);
  CHECK(file_inside(dir.file("no-such-root"), root + "/night/a.mp4").error().code ==
        ErrorCode::not_found);
}
