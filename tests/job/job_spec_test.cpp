// [job] JobSpec identity: canonical JSON and its inverse.
#include <catch2/catch.hpp>

#include "job/job_spec.h"

using namespace vb;

namespace {

JobSpec full_spec() {
  JobSpec s;
  s.id = "cat-surfing.v2";
  s.prompt = "A calico cat surfing a \"big\" wave,\nat dusk \xE2\x80\x94 slow motion \\ 4k";
  s.model = "sora-2-pro";
  s.seconds = 12;
  s.orientation = Orientation::portrait;
  s.size = "1024x1792";
  s.images = {"https://example.com/a.png", "/abs/path/b.jpg"};
  s.location = {"batch.yaml", 12, 3};
  return s;
}

}  // namespace

TEST_CASE("job spec: canonical_json pins the field order and spelling", "[job]") {
  JobSpec s;
  s.id = "a";
  s.prompt = "p";
  CHECK(
      s.canonical_json() ==
      R"({"id":"a","prompt":"p","model":"sora-2","seconds":4,"orientation":"landscape","size":"small","images":[]})");
}

TEST_CASE("job spec: canonical_json round-trips through job_spec_from_json", "[job]") {
  JobSpec s = full_spec();
  auto back = job_spec_from_json(s.canonical_json());
  REQUIRE(back.has_value());
  CHECK(back->id == s.id);
  CHECK(back->prompt == s.prompt);
  CHECK(back->model == s.model);
  CHECK(back->seconds == 12);
  CHECK(back->orientation == Orientation::portrait);
  CHECK(back->size == s.size);
  CHECK(back->images == s.images);
  CHECK(back->canonical_json() == s.canonical_json());
  // The location is not stored: it is not part of the job.
  CHECK(back->location.file.empty());
  CHECK(back->location.line == 0);
}

TEST_CASE("job spec: the optional fields round-trip and are left out when unset", "[job]") {
  JobSpec s = full_spec();
  const std::string plain = s.canonical_json();
  CHECK(plain.find("provider") == std::string::npos);
  CHECK(plain.find("watermark") == std::string::npos);
  CHECK(plain.find("reference_images") == std::string::npos);
  s.provider = "gateway";
  s.reference_images = {"https://cdn.example/cat.png", "https://cdn.example/sill.png"};
  s.derived = DerivedKind::edit;
  s.parent = "base-shot";
  s.characters = {"mira", "otto"};
  s.character_url = "https://cdn.example/c.mp4";
  s.character_timestamps = "1,3";
  s.watermark = false;
  s.private_video = true;
  auto back = job_spec_from_json(s.canonical_json());
  REQUIRE(back.has_value());
  CHECK(back->provider == "gateway");
  CHECK(back->derived == DerivedKind::edit);
  CHECK(back->parent == "base-shot");
  CHECK(back->characters == s.characters);
  CHECK(back->reference_images == s.reference_images);
  CHECK(back->character_url == s.character_url);
  CHECK(back->character_timestamps == "1,3");
  CHECK(back->watermark == std::optional<bool>(false));
  CHECK(back->private_video == std::optional<bool>(true));
  CHECK(back->canonical_json() == s.canonical_json());
}

TEST_CASE("job spec: location is not part of identity", "[job]") {
  JobSpec a = full_spec();
  JobSpec b = full_spec();
  b.location = {"other.yaml", 99, 7};
  CHECK(a.canonical_json() == b.canonical_json());
  CHECK(a.canonical_json().find("batch.yaml") == std::string::npos);
}

TEST_CASE("job spec: every identity field changes the canonical JSON", "[job]") {
  const JobSpec base = full_spec();
  auto change = GENERATE(range(0, 17));
  JobSpec other = base;
  switch (change) {
    case 0:
      other.id = "cat-surfing.v3";
      break;
    case 1:
      other.prompt += " ";
      break;
    case 2:
      other.model = "sora-2";
      break;
    case 3:
      other.seconds = 8;
      break;
    case 4:
      other.orientation = Orientation::landscape;
      break;
    case 5:
      other.size = "large";
      break;
    case 6:
      other.images.pop_back();
      break;
    case 7:
      std::swap(other.images[0], other.images[1]);
      break;  // order matters
    case 8:
      other.provider = "veo";
      break;
    case 9:
      other.derived = DerivedKind::remix;
      other.parent = "base";
      break;
    case 10:
      other.derived = DerivedKind::extend;
      other.parent = "base";
      break;
    case 11:
      other.characters = {"mira"};
      break;
    case 12:
      other.character_url = "https://cdn.example/c.mp4";
      break;
    case 13:
      other.character_timestamps = "1,3";
      break;
    case 14:
      other.watermark = false;
      break;
    case 15:
      other.private_video = true;
      break;
    case 16:
      other.reference_images = {"https://cdn.example/cat.png"};
      break;
  }
  INFO("change " << change);
  CHECK(other.canonical_json() != base.canonical_json());
}

TEST_CASE("job spec: job_spec_from_json rejects malformed text", "[job]") {
  auto text = GENERATE(
      as<std::string>{}, "", "not json", "[]", "null",
      R"({"prompt":"p","model":"m","seconds":4,"orientation":"landscape","size":"small","images":[]})",
      R"({"id":"a","prompt":"p","model":"m","seconds":"4","orientation":"landscape","size":"small","images":[]})",
      R"({"id":"a","prompt":"p","model":"m","seconds":4.5,"orientation":"landscape","size":"small","images":[]})",
      R"({"id":"a","prompt":"p","model":"m","seconds":4,"orientation":"landscape","size":"small","images":"x"})",
      R"({"id":"a","prompt":"p","model":"m","seconds":4,"orientation":"landscape","size":"small","images":[1]})",
      R"({"id":"a","prompt":"p","model":"m","seconds":4,"orientation":"landscape","size":"small"})",
      R"({"id":"a","prompt":"p","model":"m","seconds":4,"orientation":"landscape","size":"small","images":[])");
  INFO(text);
  CHECK_FALSE(job_spec_from_json(text).has_value());
}

TEST_CASE("job spec: orientation names and location text", "[job]") {
  CHECK(std::string(to_string(Orientation::portrait)) == "portrait");
  CHECK(std::string(to_string(Orientation::landscape)) == "landscape");
  CHECK(SourceLocation{"m.yaml", 3, 7}.describe() == "m.yaml:3:7");
  CHECK(SourceLocation{"m.yaml", 3, 0}.describe() == "m.yaml:3");
  CHECK(SourceLocation{"m.yaml", 0, 0}.describe() == "m.yaml");
}
