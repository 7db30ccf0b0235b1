// [output] Where files go: layout expansion, part and sidecar names, escapes refused.
#include <catch2/catch.hpp>

#include "output/output_layout.h"

using namespace vb;

namespace {

OutputConfig layout(std::string root, std::string l) {
  OutputConfig c;
  c.root = std::move(root);
  c.layout = std::move(l);
  return c;
}

}  // namespace

TEST_CASE("output paths: the default layout", "[output]") {
  auto p = output_paths(OutputConfig{"/srv/out", "{batch}/{id}.mp4"}, "spring", "cat-surfing");
  REQUIRE(p.has_value());
  CHECK(p->video == "/srv/out/spring/cat-surfing.mp4");
  CHECK(p->part == "/srv/out/spring/cat-surfing.mp4.part");
  CHECK(p->sidecar == "/srv/out/spring/cat-surfing.json");
  CHECK(OutputConfig{}.layout == "{batch}/{id}.mp4");
}

TEST_CASE("output paths: layout expansion table", "[output]") {
  struct Case {
    const char* root;
    const char* layout;
    const char* video;
    const char* sidecar;
  };
  const Case cases[] = {
      {"out", "{batch}/{id}.mp4", "out/b1/j.v2.mp4", "out/b1/j.v2.json"},
      {"out", "{id}.mp4", "out/j.v2.mp4", "out/j.v2.json"},
      {"out", "{batch}-{id}/{id}.mp4", "out/b1-j.v2/j.v2.mp4", "out/b1-j.v2/j.v2.json"},
      {"out", "videos/{batch}/clip-{id}.mov", "out/videos/b1/clip-j.v2.mov",
       "out/videos/b1/clip-j.v2.json"},
      {"/abs/root/", "{batch}/{id}.mp4", "/abs/root/b1/j.v2.mp4", "/abs/root/b1/j.v2.json"},
      {"out", "a/./{id}.mp4", "out/a/./j.v2.mp4", "out/a/./j.v2.json"},
  };
  for (const Case& c : cases) {
    INFO(c.root << " + " << c.layout);
    auto p = output_paths(layout(c.root, c.layout), "b1", "j.v2");
    REQUIRE(p.has_value());
    CHECK(p->video == c.video);
    CHECK(p->part == std::string(c.video) + ".part");
    CHECK(p->sidecar == c.sidecar);
  }
}

TEST_CASE("output paths: layouts that leave the root are refused", "[output]") {
  struct Case {
    const char* layout;
    const char* batch;
    const char* id;
    const char* expanded;
  };
  const Case cases[] = {
      {"../{id}.mp4", "b", "cat", "../cat.mp4"},
      {"{batch}/../../{id}.mp4", "b", "cat", "b/../../cat.mp4"},
      {"/etc/{id}.mp4", "b", "cat", "/etc/cat.mp4"},
      {"{id}", "b", "..", ".."},
      {"{batch}/{id}", "b", "..", "b/.."},
      {"{batch}/{id}/x.mp4", "..", "..", "../../x.mp4"},
      {"", "b", "cat", ""},
  };
  for (const Case& c : cases) {
    INFO(c.layout << " batch=" << c.batch << " id=" << c.id);
    auto p = output_paths(layout("out", c.layout), c.batch, c.id);
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().code == ErrorCode::invalid_input);
    CHECK(p.error().message == std::string("output.layout expands to '") + c.expanded +
                                   "', which is outside the output root");
    CHECK(p.error().where == std::string("job ") + c.batch + "/" + c.id);
  }
}

TEST_CASE("output paths: the thumbnail sits next to the video", "[output]") {
  auto p = output_paths(OutputConfig{"/srv/out", "{batch}/{id}.mp4"}, "spring", "cat.v2");
  REQUIRE(p.has_value());
  CHECK(p->thumbnail == "/srv/out/spring/cat.v2.webp");
  // A video saved as .webp must not be overwritten by its own thumbnail.
  auto webp = output_paths(OutputConfig{"out", "{id}.webp"}, "b", "clip");
  REQUIRE(webp.has_value());
  CHECK(webp->thumbnail == "out/clip.thumbnail.webp");
  CHECK(webp->thumbnail != webp->video);
}
