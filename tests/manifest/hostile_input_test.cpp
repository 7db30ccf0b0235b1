// Issue #7, the manifest's part: input that is wrong in ways a user does not
// see (letter case, file contents, encodings, sizes), each with a clear error.
#include <catch2/catch.hpp>

#include "manifest/csv.h"
#include "manifest/local_files.h"
#include "manifest/manifest.h"
#include "manifest_test_util.h"

namespace vb {
namespace {

using manifest_test::parse_text;
using manifest_test::TempDir;

using manifest_test::headlines;

TEST_CASE("ids that differ only in letter case are an error naming both", "[manifest]") {
  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: Cat-Surfing\n    prompt: p\n"
                             "  - id: dog\n    prompt: p\n  - id: cat-surfing\n    prompt: p\n")) ==
        std::vector<std::string>{
            "m.yaml:7:9: jobs[2].id: id 'cat-surfing' differs from 'Cat-Surfing' (jobs[0] at "
            "line 3) only in letter case; on a case-insensitive disk both would write the same "
            "file"});
  // Generated ids are compared the same way.
  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: a\n    prompt: \"{v}\"\n"
                             "    matrix: {v: [X, x]}\n"))
            .size() == 1);
}

TEST_CASE("image files must start like a JPEG, PNG or WebP image", "[manifest]") {
  TempDir dir;
  dir.write("ok.png", manifest_test::k_png_bytes);
  dir.write("ok.jpg", manifest_test::k_jpeg_bytes);
  dir.write("ok.webp", manifest_test::k_webp_bytes);
  dir.write("notes.png", "just some text, renamed");
  dir.write("empty.jpg", "");
  dir.write("clip.png", manifest_test::k_mp4_bytes);
  const auto good = parse_manifest(
      "batch: b\njobs:\n  - id: a\n    prompt: p\n"
      "    images: [ok.png, ok.jpg, ok.webp]\n",
      "m.yaml", dir.path().string());
  CHECK(good.diagnostics.empty());
  const auto bad = parse_manifest(
      "batch: b\njobs:\n  - id: a\n    prompt: p\n"
      "    images: [notes.png, empty.jpg, clip.png]\n",
      "m.yaml", dir.path().string());
  const std::string base = dir.path().string();
  CHECK(headlines(bad) ==
        std::vector<std::string>{"m.yaml:5:14: jobs[0].images[0]: " + base +
                                     "/notes.png is not a JPEG, PNG or WebP image",
                                 "m.yaml:5:25: jobs[0].images[1]: " + base +
                                     "/empty.jpg is not a JPEG, PNG or WebP image",
                                 "m.yaml:5:36: jobs[0].images[2]: " + base +
                                     "/clip.png is not a JPEG, PNG or WebP image"});
}

TEST_CASE("magic bytes: what counts as an image or an MP4 video", "[manifest]") {
  CHECK(check_magic_bytes(manifest_test::k_png_bytes, LocalFileKind::image).empty());
  CHECK(check_magic_bytes(manifest_test::k_jpeg_bytes, LocalFileKind::image).empty());
  CHECK(check_magic_bytes(manifest_test::k_webp_bytes, LocalFileKind::image).empty());
  CHECK_FALSE(
      check_magic_bytes(std::string("RIFF\x24\0\0\0WAVEfmt ", 16), LocalFileKind::image).empty());
  CHECK_FALSE(check_magic_bytes("\x89PNG", LocalFileKind::image).empty());  // cut short
  CHECK(check_magic_bytes(manifest_test::k_mp4_bytes, LocalFileKind::video).empty());
  CHECK_FALSE(check_magic_bytes(manifest_test::k_png_bytes, LocalFileKind::video).empty());
  CHECK_FALSE(check_magic_bytes("\0\0\0", LocalFileKind::video).empty());
}

TEST_CASE("a UTF-16 manifest is named as such", "[manifest]") {
  const std::string utf16(
      "\xFF\xFE"
      "b\0a\0t\0c\0h\0",
      12);
  CHECK(manifest_test::rendered(parse_text(utf16)) ==
        "m.yaml: the file is UTF-16 (it starts with the byte order mark 0xff 0xfe); save "
        "the manifest as UTF-8");
  TempDir dir;
  const auto path = dir.write("utf16.yaml", utf16);
  const auto result = load_manifest(path.string());
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::invalid_input);
}

TEST_CASE("empty, blank and enormous manifest files give clear errors", "[manifest]") {
  TempDir dir;
  for (const char* text : {"", "\n\n   \n", "\xEF\xBB\xBF"}) {
    const auto path = dir.write("empty.yaml", text);
    const auto result = load_manifest(path.string());
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().message ==
          path.string() + ": the manifest is empty; it needs 'batch' and 'jobs'");
  }
  const auto big = dir.write("big.yaml", std::string(16u * 1024 * 1024 + 1, '#'));
  const auto result = load_manifest(big.string());
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message ==
        "the manifest is 16777217 bytes; the limit is 16 MiB (split it into several batches)");
  // A file without a size is read only up to the limit.
  const auto endless = load_manifest("/dev/zero");
  REQUIRE_FALSE(endless.has_value());
  CHECK(endless.error().message == "the manifest is larger than the limit of 16 MiB");
  const auto folder = load_manifest(dir.path().string());
  REQUIRE_FALSE(folder.has_value());
  CHECK(folder.error().message == "is a directory, not a manifest file");
}

TEST_CASE("an enormous prompt file is refused before it is read", "[manifest]") {
  TempDir dir;
  dir.write("big.txt", std::string(16u * 1024 * 1024 + 1, 'a'));
  const auto parse = parse_manifest("batch: b\njobs:\n  - {id: a, prompts_from: big.txt}\n",
                                    "m.yaml", dir.path().string());
  CHECK(headlines(parse) ==
        std::vector<std::string>{
            "m.yaml:3:27: jobs[0].prompts_from: the prompt file is 16777217 bytes; the limit is 16 "
            "MiB (split it into several batches): " +
            (dir.path() / "big.txt").string()});
}

TEST_CASE("a prompt file with more prompts than the job limit stops early", "[manifest]") {
  TempDir dir;
  std::string lines;
  for (int i = 0; i <= 200000; ++i) {
    lines += "p\n";
  }
  dir.write("many.txt", lines);
  dir.write("many.csv", "prompt\n" + lines);
  const auto txt = parse_manifest("batch: b\njobs:\n  - {id: a, prompts_from: many.txt}\n",
                                  "m.yaml", dir.path().string());
  CHECK(
      headlines(txt) ==
      std::vector<std::string>{
          "many.txt:200001:1: has more than 200000 prompts; the limit is 200000 jobs per manifest "
          "(split it into several batches)"});
  const auto csv = parse_manifest("batch: b\njobs:\n  - {id: a, prompts_from: many.csv}\n",
                                  "m.yaml", dir.path().string());
  REQUIRE(csv.diagnostics.size() == 1);
  CHECK(csv.diagnostics[0].message.starts_with("has more than 200000 prompts"));
}

TEST_CASE("csv: RFC 4180 fields, positions and line breaks", "[manifest]") {
  const CsvParse parse = parse_csv("a,\"b,1\",\"say \"\"x\"\"\"\r\n\r\n\"multi\nline\",,z", 100);
  REQUIRE_FALSE(parse.error.has_value());
  REQUIRE(parse.records.size() == 2);  // the empty line is skipped
  const auto& first = parse.records[0].cells;
  REQUIRE(first.size() == 3);
  CHECK(first[1].text == "b,1");
  CHECK(first[1].column == 3);
  CHECK(first[2].text == "say \"x\"");
  const auto& second = parse.records[1];
  CHECK(second.line == 3);
  REQUIRE(second.cells.size() == 3);
  CHECK(second.cells[0].text == "multi\nline");
  CHECK(second.cells[1].text.empty());
  CHECK(second.cells[2].text == "z");
  CHECK(second.cells[2].line == 4);
  CHECK(second.cells[2].column == 8);
  // A quote inside an unquoted field is text; a lone CR is text.
  const CsvParse lenient = parse_csv("5\" screen,a\rb\n", 100);
  REQUIRE(lenient.records.size() == 1);
  CHECK(lenient.records[0].cells[0].text == "5\" screen");
  CHECK(lenient.records[0].cells[1].text == "a\rb");
  CHECK(parse_csv("a\nb\nc\n", 2).truncated);
  CHECK(parse_csv("\"\"\n", 10).records.size() == 1);  // a quoted empty field is a record
}

}  // namespace
}  // namespace vb
