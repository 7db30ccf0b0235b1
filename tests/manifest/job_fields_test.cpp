// Job fields for multiple providers, chains, characters and the unified
// dialect: what loads, and the exact text of each problem.
#include <catch2/catch.hpp>

#include "manifest/manifest.h"
#include "manifest_test_util.h"

namespace vb {
namespace {

using manifest_test::parse_text;
using manifest_test::TempDir;

using manifest_test::headlines;

// One job with `extra` lines (indented by four spaces) after id and prompt.
ManifestParse one_job(const std::string& extra, const std::string& defaults = "") {
  return parse_text("batch: b\n" + defaults + "jobs:\n  - id: a\n    prompt: p\n" + extra);
}

TEST_CASE("provider: a name of letters, digits, '_' and '-', also as a default", "[manifest]") {
  const auto parse = parse_text(
      "batch: b\ndefaults:\n  provider: main_gw\njobs:\n  - id: a\n    prompt: p\n"
      "  - id: b\n    prompt: p\n    provider: backup-2\n");
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->jobs[0].provider == "main_gw");
  CHECK(parse.manifest->jobs[1].provider == "backup-2");
  CHECK(parse_text("batch: b\njobs:\n  - id: a\n    prompt: p\n").manifest->jobs[0].provider == "");
  CHECK(headlines(one_job("    provider: my.gateway\n")) ==
        std::vector<std::string>{"m.yaml:5:15: jobs[0].provider: expected 1 to 64 characters "
                                 "from [A-Za-z0-9_-], got 'my.gateway'"});
  CHECK(headlines(one_job("    provider: " + std::string(65, 'p') + "\n")).size() == 1);
  CHECK(headlines(one_job("    provider: \"\"\n")).size() == 1);
}

TEST_CASE("watermark and private are booleans", "[manifest]") {
  const auto parse = one_job("    watermark: false\n    private: true\n");
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->jobs[0].watermark == false);
  CHECK(parse.manifest->jobs[0].private_video == true);
  const auto unset = one_job("");
  CHECK_FALSE(unset.manifest->jobs[0].watermark.has_value());
  CHECK_FALSE(unset.manifest->jobs[0].private_video.has_value());
  const auto inherited =
      one_job("    private: false\n", "defaults: {watermark: true, private: true}\n");
  REQUIRE(inherited.manifest.has_value());
  CHECK(inherited.manifest->jobs[0].watermark == true);
  CHECK(inherited.manifest->jobs[0].private_video == false);
  CHECK(headlines(one_job("    watermark: yes\n    private: \"true\"\n")) ==
        std::vector<std::string>{
            "m.yaml:5:16: jobs[0].watermark: expected true or false, got 'yes'",
            "m.yaml:6:14: jobs[0].private: expected true or false, got the string 'true'"});
}

TEST_CASE("character_url is an http(s) URL; character_timestamps spans 1 to 3 seconds",
          "[manifest]") {
  const auto parse = one_job(
      "    character_url: https://cdn.example.com/dog.mp4\n    character_timestamps: \"1.5, 3\"\n");
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->jobs[0].character_url == "https://cdn.example.com/dog.mp4");
  CHECK(parse.manifest->jobs[0].character_timestamps == "1.5,3");
  const auto defaults = one_job("",
                                "defaults:\n  character_url: http://x.test/c.mp4\n"
                                "  character_timestamps: 0,1\n");
  REQUIRE(defaults.manifest.has_value());
  CHECK(defaults.manifest->jobs[0].character_timestamps == "0,1");

  const auto timestamps = [](const std::string& value) {
    const auto p = one_job("    character_timestamps: \"" + value + "\"\n");
    REQUIRE(p.diagnostics.size() == 1);
    return p.diagnostics[0].message;
  };
  CHECK(timestamps("3") == "expected \"START,END\" in seconds like \"1,3\", got '3'");
  CHECK(timestamps("a,b") == "expected \"START,END\" in seconds like \"1,3\", got 'a,b'");
  CHECK(timestamps("-1,1") == "expected \"START,END\" in seconds like \"1,3\", got '-1,1'");
  CHECK(timestamps("3,1") == "the start must come before the end, got '3,1'");
  CHECK(timestamps("1,1.5") == "must span 1 to 3 seconds, got '1,1.5'");
  CHECK(timestamps("1,4.5") == "must span 1 to 3 seconds, got '1,4.5'");
  CHECK(headlines(one_job("    character_url: ftp://x.test/a.mp4\n    character_url2: x\n"))
            .front() ==
        "m.yaml:5:20: jobs[0].character_url: expected an http:// or https:// URL, got "
        "'ftp://x.test/a.mp4'");
  CHECK(one_job("    character_url: \"https:// x\"\n").diagnostics.size() == 1);
  CHECK(one_job("    character_url: \"https://\"\n").diagnostics.size() == 1);
}

TEST_CASE("remix_of, edit_of and extend_of name a job of the same manifest", "[manifest]") {
  const auto parse = parse_text(
      "batch: b\ndefaults:\n  images: []\njobs:\n  - id: base\n    prompt: p\n"
      "  - id: r\n    prompt: p\n    remix_of: base\n"
      "  - id: e\n    prompt: p\n    edit_of: r\n"
      "  - id: x\n    prompt: p\n    extend_of: base\n");
  REQUIRE(parse.manifest.has_value());
  const auto& jobs = parse.manifest->jobs;
  CHECK(jobs[0].derived == DerivedKind::none);
  CHECK(jobs[1].derived == DerivedKind::remix);
  CHECK(jobs[1].parent == "base");
  CHECK(jobs[2].derived == DerivedKind::edit);
  CHECK(jobs[2].parent == "r");
  CHECK(jobs[3].derived == DerivedKind::extend);

  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: a\n    prompt: p\n    remix_of: x\n"
                             "  - id: b\n    prompt: p\n    edit_of: b\n"
                             "  - id: c\n    prompt: p\n    remix_of: A\n"
                             "  - id: d\n    prompt: p\n    remix_of: a\n    extend_of: a\n")) ==
        std::vector<std::string>{
            "m.yaml:5:15: jobs[0].remix_of: no job 'x' in this manifest",
            "m.yaml:8:14: jobs[1].edit_of: job 'b' cannot be derived from itself",
            "m.yaml:11:15: jobs[2].remix_of: no job 'A' in this manifest (did you mean 'a'?)",
            "m.yaml:15:5: jobs[3].extend_of: a job has at most one of remix_of, edit_of and "
            "extend_of ('remix_of' is at line 14)"});
  CHECK(headlines(parse_text("batch: b\ndefaults:\n  remix_of: a\njobs:\n  - id: a\n"
                             "    prompt: p\n")) ==
        std::vector<std::string>{
            "m.yaml:3:3: defaults.remix_of: 'remix_of' cannot have a default; set it on each job"});
}

TEST_CASE("a cycle of parents is reported once, naming the cycle", "[manifest]") {
  CHECK(headlines(parse_text("batch: b\njobs:\n"
                             "  - id: root\n    prompt: p\n"
                             "  - id: a\n    prompt: p\n    remix_of: b\n"
                             "  - id: b\n    prompt: p\n    edit_of: c\n"
                             "  - id: c\n    prompt: p\n    remix_of: a\n"
                             "  - id: d\n    prompt: p\n    remix_of: a\n")) ==
        std::vector<std::string>{
            "m.yaml:7:15: jobs[1].remix_of: jobs form a cycle: a -> b -> c -> a"});
  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: x\n    prompt: p\n    remix_of: y\n"
                             "  - id: y\n    prompt: p\n    remix_of: x\n")) ==
        std::vector<std::string>{"m.yaml:5:15: jobs[0].remix_of: jobs form a cycle: x -> y -> x"});
}

TEST_CASE("a long cycle is shortened in its message", "[manifest]") {
  std::string text = "batch: b\njobs:\n";
  for (int i = 0; i < 20; ++i) {
    text += "  - {id: j" + std::to_string(i) + ", prompt: p, remix_of: j" +
            std::to_string((i + 1) % 20) + "}\n";
  }
  CHECK(headlines(parse_text(text)) ==
        std::vector<std::string>{"m.yaml:3:35: jobs[0].remix_of: jobs form a cycle: j0 -> j1 -> "
                                 "j2 -> j3 -> j4 -> j5 -> j6 -> j7 -> ... (20 jobs) -> j0"});
}

TEST_CASE("a remix or edit takes no images; an extension may", "[manifest]") {
  TempDir dir;
  dir.write("ref.png", manifest_test::k_png_bytes);
  const auto parse = parse_manifest(
      "batch: b\ndefaults:\n  images: [ref.png]\njobs:\n  - id: base\n    prompt: p\n"
      "  - id: r\n    prompt: p\n    remix_of: base\n"
      "  - id: x\n    prompt: p\n    extend_of: base\n"
      "  - id: e\n    prompt: p\n    edit_of: base\n    images: [ref.png]\n",
      "m.yaml", dir.path().string());
  CHECK(headlines(parse) ==
        std::vector<std::string>{"m.yaml:16:5: jobs[3].images: a job with edit_of takes its "
                                 "picture from the parent video; remove 'images'"});
  const auto without = parse_manifest(
      "batch: b\ndefaults:\n  images: [ref.png]\njobs:\n  - id: base\n    prompt: p\n"
      "  - id: r\n    prompt: p\n    remix_of: base\n"
      "  - id: x\n    prompt: p\n    extend_of: base\n",
      "m.yaml", dir.path().string());
  REQUIRE(without.manifest.has_value());
  CHECK(without.manifest->jobs[0].images.size() == 1);
  CHECK(without.manifest->jobs[1].images.empty());  // the default does not apply to a remix
  CHECK(without.manifest->jobs[2].images.size() == 1);
}

TEST_CASE("the characters section: name, local MP4 video, optional provider", "[manifest]") {
  TempDir dir;
  dir.write("clips/mira.mp4", manifest_test::k_mp4_bytes);
  dir.write("clips/not-a-video.mp4", "hello");
  const auto parse = parse_manifest(
      "batch: b\ncharacters:\n  - name: Mira Lane\n    video: clips/mira.mp4\n"
      "  - {name: Otto, video: clips/mira.mp4, provider: gw}\n"
      "jobs:\n  - id: a\n    prompt: Mira Lane and Otto\n    characters: [Mira Lane, Otto]\n"
      "    provider: gw\n",
      "m.yaml", dir.path().string());
  REQUIRE(parse.manifest.has_value());
  const auto& characters = parse.manifest->characters;
  REQUIRE(characters.size() == 2);
  CHECK(characters[0].name == "Mira Lane");
  CHECK(characters[0].video == (dir.path() / "clips/mira.mp4").string());
  CHECK(characters[0].location.line == 3);
  CHECK(characters[1].provider == "gw");
  CHECK(parse.manifest->jobs[0].characters == std::vector<std::string>{"Mira Lane", "Otto"});

  const auto bad = parse_manifest(
      "batch: b\ncharacters:\n  - name: Mira\n    video: clips/mira.mp4\n"
      "  - name: Mira\n    video: clips/mira.mp4\n"
      "  - name: Otto\n    video: clips/not-a-video.mp4\n"
      "  - name: \" Pad\"\n    video: https://x.test/v.mp4\n"
      "  - video: clips/missing.mp4\n    colour: red\n"
      "jobs:\n  - id: a\n    prompt: p\n    characters: [Mria, Mira, Mira]\n"
      "  - id: b\n    prompt: p\n    characters: Mira\n",
      "m.yaml", dir.path().string());
  CHECK(
      headlines(bad) ==
      std::vector<std::string>{
          "m.yaml:5:5: characters[1].name: duplicate character 'Mira' (first at line 3)",
          "m.yaml:8:12: characters[2].video: " + (dir.path() / "clips/not-a-video.mp4").string() +
              " is not an MP4 video (no 'ftyp' box at the start)",
          "m.yaml:9:11: characters[3].name: expected 1 to 80 characters without control "
          "characters or blanks at either end, got ' Pad'",
          "m.yaml:10:12: characters[3].video: expected a local video file; a character is made "
          "from an upload",
          "m.yaml:11:5: characters[4].name: required key 'name' is missing",
          "m.yaml:11:12: characters[4].video: video file not found: " +
              (dir.path() / "clips/missing.mp4").string(),
          "m.yaml:12:5: characters[4].colour: unknown key 'colour'; expected one of: name, video, "
          "provider",
          "m.yaml:16:18: jobs[0].characters[0]: no character 'Mria' in the 'characters' section "
          "(did you mean 'Mira'?)",
          "m.yaml:16:30: jobs[0].characters[2]: character 'Mira' is listed twice",
          "m.yaml:19:17: jobs[1].characters: expected a list of character names, got 'Mira'"});
}

TEST_CASE("a character made at one provider cannot be used by a job at another", "[manifest]") {
  TempDir dir;
  dir.write("m.mp4", manifest_test::k_mp4_bytes);
  const std::string head =
      "batch: b\ncharacters:\n  - {name: M, video: m.mp4, provider: gw}\njobs:\n";
  CHECK(parse_manifest(head + "  - {id: a, prompt: M, characters: [M]}\n", "m.yaml",
                       dir.path().string())
            .manifest.has_value());  // the default provider may be gw: the config decides
  CHECK(
      headlines(parse_manifest(head + "  - {id: a, prompt: M, characters: [M], provider: other}\n",
                               "m.yaml", dir.path().string())) ==
      std::vector<std::string>{"m.yaml:5:36: jobs[0].characters: character 'M' is created at "
                               "provider 'gw', but job 'a' runs at provider 'other'"});
}

}  // namespace
}  // namespace vb
