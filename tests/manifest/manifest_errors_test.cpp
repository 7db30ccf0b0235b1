// Manifests that do not load: every problem is reported, with exact text.
#include <catch2/catch.hpp>

#include <filesystem>

#include "manifest/manifest.h"
#include "manifest_test_util.h"

namespace vb {
namespace {

using manifest_test::parse_text;
using manifest_test::rendered;

using manifest_test::headlines;

TEST_CASE("a diagnostic renders like a compiler error with a caret", "[manifest]") {
  const auto parse = parse_text("batch: b\njobs:\n  - id: a\n    prompt: p\n    seconds: eight\n");
  REQUIRE(parse.diagnostics.size() == 1);
  const ManifestDiagnostic& d = parse.diagnostics[0];
  CHECK(d.location.line == 5);
  CHECK(d.location.column == 14);
  CHECK(d.field == "jobs[0].seconds");
  CHECK(d.source_line == "    seconds: eight");
  CHECK(d.render() ==
        "m.yaml:5:14: jobs[0].seconds: expected an integer, got 'eight'\n"
        "    seconds: eight\n"
        "             ^");
  CHECK_FALSE(parse.manifest.has_value());
}

TEST_CASE("every problem of a bad manifest is listed, in file order", "[manifest]") {
  const auto path = manifest_test::example_path("bad/many_problems.yaml");
  const auto result = load_manifest(path);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::invalid_input);
  CHECK(result.error().where == path);

  const auto parse = parse_manifest(
      "batch: bad batch\ndefaults:\n  seconds: 8\n  prompt: \"x\"\njobs:\n"
      "  - id: cat\n    prompt: \"A cat\"\n    seconds: eight\n"
      "  - id: city\n    promt: \"Neon\"\n    orientation: portriat\n"
      "  - id: cat\n    prompt: \"Another cat\"\n    size: huge\n"
      "  - id: long\n    prompt: \"Long\"\n    seconds: 90\n    colour: blue\n",
      "bad.yaml", "/");
  CHECK(
      headlines(parse) ==
      std::vector<std::string>{
          "bad.yaml:1:8: batch: expected 1 to 64 characters from [A-Za-z0-9._-], got 'bad batch'",
          "bad.yaml:4:3: defaults.prompt: 'prompt' cannot have a default; set it on each job",
          "bad.yaml:8:14: jobs[0].seconds: expected an integer, got 'eight'",
          "bad.yaml:9:5: jobs[1].prompt: required key 'prompt' is missing",
          "bad.yaml:10:5: jobs[1].promt: unknown key 'promt' (did you mean 'prompt'?)",
          "bad.yaml:11:18: jobs[1].orientation: expected 'landscape' or 'portrait', got 'portriat' "
          "(did you mean 'portrait'?)",
          "bad.yaml:12:9: jobs[2].id: duplicate id 'cat' (first used by jobs[0] at line 6)",
          "bad.yaml:14:11: jobs[2].size: expected 'small', 'large' or WIDTHxHEIGHT like "
          "'1280x720', got 'huge'",
          "bad.yaml:17:14: jobs[3].seconds: must be between 1 and 60, got 90",
          "bad.yaml:18:5: jobs[3].colour: unknown key 'colour'; expected one of: id, prompt, "
          "prompts_from, model, seconds, orientation, size, images, reference_images, provider, "
          "remix_of, edit_of, extend_of, characters, character_url, character_timestamps, "
          "watermark, private, params, matrix, variants",
      });
  // The file under jobs/examples/bad has the same ten problems.
  CHECK(std::count(result.error().message.begin(), result.error().message.end(), '^') == 10);
}

TEST_CASE("load_manifest joins the rendered diagnostics with newlines", "[manifest]") {
  const auto path = manifest_test::example_path("bad/top_level_typo.yaml");
  const auto result = load_manifest(path);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message ==
        path + ":1:1: jobs: required key 'jobs' is missing\nbatch: typo\n^\n" + path +
            ":2:1: default: unknown key 'default' (did you mean 'defaults'?)\ndefault:\n^\n" +
            path + ":4:1: jbos: unknown key 'jbos' (did you mean 'jobs'?)\njbos:\n^");
}

TEST_CASE("YAML syntax errors carry libyaml's problem, context and position", "[manifest]") {
  const auto path = manifest_test::example_path("bad/syntax_error.yaml");
  const auto result = load_manifest(path);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message == path +
                                      ":5:7: YAML syntax error: did not find expected ',' or ']' "
                                      "while parsing a flow sequence started at line 4, column 13\n"
                                      "  - id: two\n"
                                      "      ^");

  const auto tab = parse_text("batch: b\njobs:\n  - id: a\n\tprompt: p\n");
  REQUIRE(tab.diagnostics.size() == 1);
  CHECK(tab.diagnostics[0].message.starts_with("YAML syntax error: "));
  CHECK(tab.diagnostics[0].location.line == 4);
}

TEST_CASE("empty input and an empty job list are errors", "[manifest]") {
  CHECK(rendered(parse_text("")) == "m.yaml: the manifest is empty; it needs 'batch' and 'jobs'");
  CHECK(rendered(parse_text("# only a comment\n")) ==
        "m.yaml: the manifest is empty; it needs 'batch' and 'jobs'");
  const auto path = manifest_test::example_path("bad/empty_jobs.yaml");
  const auto result = load_manifest(path);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message ==
        path + ":2:7: jobs: must contain at least one job\njobs: []\n      ^");
  CHECK_FALSE(load_manifest(manifest_test::example_path("bad/empty.yaml")).has_value());
}

TEST_CASE("a missing manifest file is not_found", "[manifest]") {
  const auto result = load_manifest("/nonexistent/jobs.yaml");
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::not_found);
  CHECK(result.error().where == "/nonexistent/jobs.yaml");
}

TEST_CASE("a missing image file is named with its resolved path", "[manifest]") {
  const auto path = manifest_test::example_path("bad/missing_image.yaml");
  const auto result = load_manifest(path);
  REQUIRE_FALSE(result.has_value());
  const auto missing =
      std::filesystem::path(manifest_test::example_path("bad/refs/does-not-exist.png"))
          .lexically_normal()
          .string();
  CHECK(result.error().message ==
        path + ":5:14: jobs[0].images[0]: image file not found: " + missing +
            "\n    images: [refs/does-not-exist.png, \"https://example.com/street.png\"]\n"
            "             ^");
}

TEST_CASE("image lists must hold paths or http(s) URLs", "[manifest]") {
  manifest_test::TempDir dir;
  dir.write("folder/x.txt", "");
  const auto parse = parse_manifest(
      "batch: b\njobs:\n  - id: a\n    prompt: p\n    images: one.png\n"
      "  - id: b\n    prompt: p\n    images: [folder, \"\", ftp://host/a.png, [nested]]\n",
      "m.yaml", dir.path().string());
  CHECK(headlines(parse) ==
        std::vector<std::string>{
            "m.yaml:5:13: jobs[0].images: expected a list of image paths or URLs, got 'one.png'",
            "m.yaml:8:14: jobs[1].images[0]: image is not a regular file: " +
                (dir.path() / "folder").string(),
            "m.yaml:8:22: jobs[1].images[1]: must not be empty",
            "m.yaml:8:26: jobs[1].images[2]: unsupported URL 'ftp://host/a.png'; use http://, "
            "https:// or a local path",
            "m.yaml:8:44: jobs[1].images[3]: expected a string, got a list",
        });
}

TEST_CASE("seconds must be an unquoted integer in range", "[manifest]") {
  const auto check = [](const std::string& value) {
    const auto parse =
        parse_text("batch: b\njobs:\n  - id: a\n    prompt: p\n    seconds: " + value + "\n");
    REQUIRE(parse.diagnostics.size() == 1);
    return parse.diagnostics[0].message;
  };
  CHECK(check("\"8\"") == "expected an integer, got the string '8'");
  CHECK(check("8.5") == "expected an integer, got '8.5'");
  CHECK(check("[8]") == "expected an integer, got a list");
  CHECK(check("0") == "must be between 1 and 60, got 0");
  CHECK(check("61") == "must be between 1 and 60, got 61");
  CHECK(check("99999999999999999999") == "expected an integer, got '99999999999999999999'");
  // An empty value points at the key: the YAML tree marks the next token instead.
  const auto empty = parse_text("batch: b\njobs:\n  - id: a\n    prompt: p\n    seconds:\n");
  REQUIRE(empty.diagnostics.size() == 1);
  CHECK(empty.diagnostics[0].render() ==
        "m.yaml:5:5: jobs[0].seconds: expected an integer, got an empty value\n"
        "    seconds:\n"
        "    ^");
  for (const char* ok : {"1", "10", "15", "25", "60"}) {
    CHECK(parse_text(std::string("batch: b\njobs:\n  - id: a\n    prompt: p\n    seconds: ") + ok +
                     "\n")
              .manifest.has_value());
  }
}

TEST_CASE("ids and batch names are checked", "[manifest]") {
  const auto parse = parse_text(
      "jobs:\n  - id: \"a b\"\n    prompt: p\n  - id: ..\n    prompt: p\n  - prompt: p\n"
      "  - id: ok\n    prompt: \"  \"\n  - just a string\n");
  CHECK(headlines(parse) ==
        std::vector<std::string>{
            "m.yaml:1:1: batch: required key 'batch' is missing",
            "m.yaml:2:9: jobs[0].id: expected 1 to 128 characters from [A-Za-z0-9._-], got 'a b'",
            "m.yaml:4:9: jobs[1].id: '.' and '..' are not allowed as names",
            "m.yaml:6:5: jobs[2].id: required key 'id' is missing",
            "m.yaml:8:13: jobs[3].prompt: must not be empty",
            "m.yaml:9:5: jobs[4]: expected a map with 'id' and 'prompt', got 'just a string'",
        });
  const auto long_id =
      parse_text("batch: b\njobs:\n  - id: " + std::string(129, 'x') + "\n    prompt: p\n");
  REQUIRE(long_id.diagnostics.size() == 1);
  CHECK(long_id.diagnostics[0].field == "jobs[0].id");
}

TEST_CASE("a prompt longer than 32000 characters is refused", "[manifest]") {
  const std::string ok(32000, 'a');
  CHECK(parse_text("batch: b\njobs:\n  - id: a\n    prompt: " + ok + "\n").manifest.has_value());
  // Characters, not bytes: 32000 two-byte letters are fine.
  std::string accented;
  for (int i = 0; i < 32000; ++i) {
    accented += "\xC3\xA9";
  }
  CHECK(parse_text("batch: b\njobs:\n  - id: a\n    prompt: " + accented + "\n")
            .manifest.has_value());
  const auto parse = parse_text("batch: b\njobs:\n  - id: a\n    prompt: " + ok + "b\n");
  REQUIRE(parse.diagnostics.size() == 1);
  CHECK(parse.diagnostics[0].message == "is 32001 characters long; the limit is 32000");
  CHECK(parse.diagnostics[0].source_line.size() < 300);  // long lines are shortened
}

TEST_CASE("duplicate keys, merge keys and non-map roots are reported", "[manifest]") {
  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: a\n    prompt: p\n    prompt: q\n")) ==
        std::vector<std::string>{
            "m.yaml:5:5: jobs[0].prompt: duplicate key 'prompt' (first at line 4)"});
  CHECK(headlines(parse_text("batch: b\nbacth: &b {seconds: 8}\njobs:\n  - id: a\n"
                             "    prompt: p\n    <<: *b\n")) ==
        std::vector<std::string>{
            "m.yaml:2:1: bacth: unknown key 'bacth' (did you mean 'batch'?)",
            "m.yaml:6:5: jobs[0].<<: YAML merge keys are not supported; put shared values in "
            "'defaults'"});
  CHECK(rendered(parse_text("- a\n- b\n")) ==
        "m.yaml:1:1: expected a map with 'batch' and 'jobs', got a list\n- a\n^");
  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: a\n    prompt: p\n---\nbatch: c\n")) ==
        std::vector<std::string>{
            "m.yaml:5:1: expected one YAML document, found 2 (remove the '---' separators)"});
  CHECK(
      headlines(parse_text("batch: b\ndefaults: [1]\njobs: {a: 1}\n")) ==
      std::vector<std::string>{"m.yaml:2:11: defaults: expected a map of job settings, got a list",
                               "m.yaml:3:7: jobs: expected a list of jobs, got a map"});
}

TEST_CASE("invalid UTF-8 is reported at its line and column", "[manifest]") {
  const auto parse = parse_text("batch: b\njobs:\n  - id: a\n    prompt: caf\xE9 au lait\n");
  CHECK(rendered(parse) ==
        "m.yaml:4:16: invalid UTF-8 (byte 0xe9); save the manifest as UTF-8\n"
        "    prompt: caf\xE9 au lait\n"
        "               ^");
}

TEST_CASE("size guards: 16 MiB of text and 200000 jobs", "[manifest]") {
  const std::string huge(16u * 1024 * 1024 + 1, '#');
  CHECK(rendered(parse_text(huge)) ==
        "m.yaml: the manifest is 16777217 bytes; the limit is 16 MiB (split it into several "
        "batches)");

  std::string many = "batch: b\njobs: [";
  for (int i = 0; i <= 200000; ++i) {
    many += "{},";
  }
  many += "]\n";
  CHECK(headlines(parse_text(many)) ==
        std::vector<std::string>{"m.yaml:2:7: jobs: has 200001 jobs; the limit is 200000 per "
                                 "manifest (split it into several batches)"});
}

}  // namespace
}  // namespace vb

namespace vb {
namespace {

TEST_CASE("size accepts small, large and WIDTHxHEIGHT only", "[manifest]") {
  const auto accepts = [](const std::string& size) {
    return manifest_test::parse_text(
               "batch: b\njobs:\n  - id: a\n    prompt: p\n    size: " + size + "\n")
        .manifest.has_value();
  };
  CHECK(accepts("small"));
  CHECK(accepts("large"));
  CHECK(accepts("1280x720"));
  CHECK(accepts("720x1280"));
  CHECK_FALSE(accepts("0720x1280"));
  CHECK_FALSE(accepts("1280X720"));
  CHECK_FALSE(accepts("1280x"));
  CHECK_FALSE(accepts("123456x720"));
  CHECK_FALSE(accepts("Small"));
}

}  // namespace
}  // namespace vb

// Positions and characters that libyaml alone would report differently (src/manifest/yaml_tree.h).
namespace vb {
namespace {

using manifest_test::parse_text;

TEST_CASE("positions are 1-based byte columns, also after non-ASCII text and a BOM", "[manifest]") {
  const auto parse = parse_text(
      "\xEF\xBB\xBF"
      "batch: bad batch\njobs:\n  - {id: \"\xC3\xA9\xE2\x82\xAC\", prompt: p, seconds: eight}\n");
  CHECK(headlines(parse) ==
        std::vector<std::string>{
            "m.yaml:1:8: batch: expected 1 to 64 characters from [A-Za-z0-9._-], got 'bad batch'",
            "m.yaml:3:10: jobs[0].id: expected 1 to 128 characters from [A-Za-z0-9._-], got "
            "'\xC3\xA9\xE2\x82\xAC'",
            "m.yaml:3:39: jobs[0].seconds: expected an integer, got 'eight'"});
}

TEST_CASE("an empty list item points at the next token", "[manifest]") {
  CHECK(headlines(parse_text("batch: b\njobs:\n  -\n  - id: x\n    prompt: p\n  - # none\n")) ==
        std::vector<std::string>{
            "m.yaml:4:3: jobs[0]: expected a map with 'id' and 'prompt', got an empty value",
            "m.yaml:7:1: jobs[2]: expected a map with 'id' and 'prompt', got an empty value"});
}

TEST_CASE("control characters and Unicode line separators stay part of the text", "[manifest]") {
  // libyaml alone would refuse the control characters and break lines at a lone
  // CR, NEL, LS and PS; the manifest reads them all as text.
  const std::string prompt =
      "a\x07z\rb\xC2\x85"
      "c\xE2\x80\xA8"
      "d\xE2\x80\xA9"
      "e\x7F";
  const auto plain = parse_text("batch: b\njobs:\n  - id: a\n    prompt: " + prompt + "\n");
  REQUIRE(plain.manifest.has_value());
  CHECK(plain.manifest->jobs[0].prompt == prompt);
  const auto quoted = parse_text("batch: b\njobs:\n  - id: a\n    prompt: \"" + prompt + "\"\n");
  REQUIRE(quoted.manifest.has_value());
  CHECK(quoted.manifest->jobs[0].prompt == prompt);
  const auto after =
      parse_text("batch: b\njobs:\n  - id: a\n    prompt: \"\x07\xC2\x85\"\n    seconds: x\n");
  CHECK(headlines(after) ==
        std::vector<std::string>{"m.yaml:5:14: jobs[0].seconds: expected an integer, got 'x'"});
  // A NUL byte was refused before and still is.
  const auto nul = parse_text(std::string("batch: b\njobs:\n  - id: a\n    prompt: x\0y\n", 39));
  CHECK(headlines(nul) ==
        std::vector<std::string>{"m.yaml:4:14: YAML syntax error: control characters are not "
                                 "allowed (byte 0x00)"});
}

TEST_CASE("undefined aliases and absurd nesting are syntax errors", "[manifest]") {
  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: a\n    prompt: *nope\n")) ==
        std::vector<std::string>{"m.yaml:4:13: YAML syntax error: found undefined alias 'nope'"});
  CHECK(parse_text("batch: b\njobs:\n  - id: a\n    prompt: p\nx: " + std::string(498, '[') +
                   std::string(498, ']') + "\n")
            .diagnostics.size() == 1);  // only "unknown key 'x'"
  CHECK(headlines(parse_text("x: " + std::string(499, '[') + std::string(499, ']') + "\n")) ==
        std::vector<std::string>{
            "m.yaml:1:502: YAML syntax error: lists and maps are nested more than 499 levels "
            "deep"});
}

}  // namespace
}  // namespace vb
