// Conveniences of issue #6: matrix, variants and prompts from a file, the
// jobs they expand into and the exact text of their problems.
#include <catch2/catch.hpp>

#include "manifest/manifest.h"
#include "manifest_test_util.h"

namespace vb {
namespace {

using manifest_test::parse_text;
using manifest_test::TempDir;

using manifest_test::headlines;

std::vector<std::string> ids_of(const ManifestParse& parse) {
  std::vector<std::string> ids;
  if (parse.manifest) {
    for (const auto& job : parse.manifest->jobs) {
      ids.push_back(job.id);
    }
  }
  return ids;
}

// --- matrix ------------------------------------------------------------------

TEST_CASE("matrix: the cartesian product in file order, first key slowest", "[manifest]") {
  const auto ok = parse_text(
      "batch: b\njobs:\n  - id: clip\n    prompt: \"a {animal} in {place}\"\n"
      "    matrix:\n      animal: [cat, red fox]\n      place: [Paris, the snow]\n");
  REQUIRE(ok.manifest.has_value());
  CHECK(ids_of(ok) == std::vector<std::string>{"clip-cat-Paris", "clip-cat-the-snow",
                                               "clip-red-fox-Paris", "clip-red-fox-the-snow"});
  CHECK(ok.manifest->jobs[3].prompt == "a red fox in the snow");
  CHECK(ok.manifest->jobs[3].location.line == 3);
}

TEST_CASE("matrix: variables named like job fields set them, validated as the field",
          "[manifest]") {
  const auto parse = parse_text(
      "batch: b\ndefaults: {seconds: 12}\njobs:\n  - id: \"t-{seconds}-{orientation}\"\n"
      "    prompt: p\n    model: sora-2-pro\n"
      "    matrix:\n      seconds: [4, 8]\n      orientation: [portrait]\n"
      "      size: [large]\n      provider: [gw-a]\n");
  REQUIRE(parse.manifest.has_value());
  CHECK(ids_of(parse) == std::vector<std::string>{"t-4-portrait", "t-8-portrait"});
  const JobSpec& job = parse.manifest->jobs[1];
  CHECK(job.seconds == 8);
  CHECK(job.orientation == Orientation::portrait);
  CHECK(job.size == "large");
  CHECK(job.provider == "gw-a");
  CHECK(job.model == "sora-2-pro");

  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: a\n    prompt: p\n    seconds: 8\n"
                             "    matrix:\n      seconds: [4, \"8\", 99]\n"
                             "      orientation: [sideways]\n")) ==
        std::vector<std::string>{
            "m.yaml:5:5: jobs[0].seconds: is also a variable of this job's matrix; set it in "
            "one place",
            "m.yaml:7:20: jobs[0].matrix.seconds[1]: expected an integer, got the string '8'",
            "m.yaml:7:25: jobs[0].matrix.seconds[2]: must be between 1 and 60, got 99",
            "m.yaml:8:21: jobs[0].matrix.orientation[0]: expected 'landscape' or 'portrait', "
            "got 'sideways'"});
}

TEST_CASE("matrix: unknown placeholders, empty lists and bad variables are errors", "[manifest]") {
  CHECK(headlines(parse_text(
            "batch: b\njobs:\n  - id: \"x-{styel}\"\n    prompt: \"{style} and {mood}\"\n"
            "    remix_of: \"base-{nope}\"\n    matrix:\n      style: [a, b]\n      mood: []\n"
            "  - id: y\n    prompt: p\n    matrix: {1x: [a], ok: a, m: [[1]]}\n"
            "  - id: z\n    prompt: p\n    matrix: {}\n")) ==
        std::vector<std::string>{
            "m.yaml:8:13: jobs[0].matrix.mood: must list at least one value",
            "m.yaml:11:14: jobs[1].matrix.1x: a matrix variable is a letter or '_' followed by "
            "letters, digits or '_', got '1x'",
            "m.yaml:11:27: jobs[1].matrix.ok: expected a list of values, got 'a'",
            "m.yaml:11:34: jobs[1].matrix.m[0]: expected a string, got a list",
            "m.yaml:14:13: jobs[2].matrix: expected a map of variables to lists of values, got "
            "a map"});
  CHECK(
      headlines(parse_text("batch: b\njobs:\n  - id: base\n    prompt: p\n"
                           "  - id: \"x-{styel}\"\n    prompt: \"{style} and {mood}\"\n"
                           "    remix_of: \"base-{nope}\"\n    matrix:\n      style: [a, b]\n")) ==
      std::vector<std::string>{
          "m.yaml:5:9: jobs[1].id: unknown placeholder {styel} (did you mean {style}?)",
          "m.yaml:6:13: jobs[1].prompt: unknown placeholder {mood}; the matrix has {style}",
          "m.yaml:7:15: jobs[1].remix_of: unknown placeholder {nope}; the matrix has {style}"});
}

TEST_CASE("matrix: ids are slugs; duplicates and bad generated ids are reported", "[manifest]") {
  const auto slug = parse_text(
      "batch: b\njobs:\n  - id: s\n    prompt: \"{v}\"\n"
      "    matrix:\n      v: [\"a/b c\", \"--x--\", \"\xC3\xA9t\xC3\xA9\", 7]\n");
  CHECK(ids_of(slug) == std::vector<std::string>{"s-a-b-c", "s-x", "s-t", "s-7"});
  REQUIRE(slug.manifest.has_value());
  CHECK(slug.manifest->jobs[0].prompt == "a/b c");  // prompts get the value as written
  CHECK(ids_of(parse_text("batch: b\njobs:\n  - id: s\n    prompt: \"{v}\"\n"
                          "    matrix:\n      v: [\"\xC3\xA9\", \"!\"]\n")) ==
        std::vector<std::string>{"s-1", "s-2"});  // nothing id-safe left: the value's number

  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: c\n    prompt: \"{place}\"\n"
                             "    matrix:\n      place: [Paris, Paris!, paris, x, x]\n")) ==
        std::vector<std::string>{
            "m.yaml:3:5: jobs[0]: ... and 2 more duplicate ids generated by this entry",
            "m.yaml:3:9: jobs[0].id: duplicate id 'c-Paris' (first used by jobs[0] at line 3)"});
  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: \"c {v}\"\n    prompt: p\n"
                             "    matrix:\n      v: [a, b]\n")) ==
        std::vector<std::string>{"m.yaml:3:9: jobs[0].id: generated id 'c a': expected 1 to 128 "
                                 "characters from [A-Za-z0-9._-], got 'c a'"});
  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: c-a\n    prompt: p\n"
                             "  - id: c\n    prompt: p\n    matrix: {v: [a]}\n")) ==
        std::vector<std::string>{
            "m.yaml:5:9: jobs[1].id: duplicate id 'c-a' (first used by jobs[0] at line 3)"});
}

TEST_CASE("matrix: a substituted prompt is checked against the length limit", "[manifest]") {
  const std::string long_value(31990, 'x');
  // The id made from the long value is too long as well; both are reported.
  const auto parse = parse_text(
      "batch: b\njobs:\n  - id: \"c{v}\"\n    prompt: \"0123456789 {v}\"\n"
      "    matrix:\n      v: [short, " +
      long_value + "]\n");
  REQUIRE(parse.diagnostics.size() == 2);
  CHECK(parse.diagnostics[1].field == "jobs[0].prompt");
  CHECK(parse.diagnostics[1].message.ends_with(": is 32001 characters long; the limit is 32000"));
  CHECK(parse.diagnostics[0].field == "jobs[0].id");
}

TEST_CASE("matrix: remix_of with placeholders derives each combination from its own parent",
          "[manifest]") {
  const auto parse = parse_text(
      "batch: b\njobs:\n  - id: base\n    prompt: \"{style}\"\n    matrix: {style: [oil, ink]}\n"
      "  - id: \"more-{style}\"\n    prompt: \"more {style}\"\n    remix_of: \"base-{style}\"\n"
      "    matrix: {style: [oil, ink]}\n");
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->jobs[3].id == "more-ink");
  CHECK(parse.manifest->jobs[3].parent == "base-ink");
  CHECK(parse.manifest->jobs[3].derived == DerivedKind::remix);
}

TEST_CASE("without a matrix, braces are ordinary prompt text", "[manifest]") {
  const auto parse = parse_text("batch: b\njobs:\n  - id: a\n    prompt: \"a {sign} says {}\"\n");
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->jobs[0].prompt == "a {sign} says {}");
}

// --- variants ----------------------------------------------------------------

TEST_CASE("variants: N takes with ids -v1..-vN, after the matrix", "[manifest]") {
  const auto parse = parse_text(
      "batch: b\ndefaults: {variants: 2}\njobs:\n  - id: a\n    prompt: p\n"
      "  - id: m\n    prompt: \"{x}\"\n    variants: 3\n    matrix: {x: [p, q]}\n"
      "  - id: one\n    prompt: p\n    variants: 1\n");
  CHECK(ids_of(parse) == std::vector<std::string>{"a-v1", "a-v2", "m-p-v1", "m-p-v2", "m-p-v3",
                                                  "m-q-v1", "m-q-v2", "m-q-v3", "one"});
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->jobs[7].prompt == "q");
  // Takes are distinct jobs for the ledger: their canonical JSON differs.
  CHECK(parse.manifest->jobs[0].canonical_json() != parse.manifest->jobs[1].canonical_json());

  CHECK(headlines(parse_text("batch: b\ndefaults: {variants: 0}\njobs:\n  - id: a\n"
                             "    prompt: p\n    variants: 101\n  - id: b\n    prompt: p\n"
                             "    variants: \"2\"\n")) ==
        std::vector<std::string>{
            "m.yaml:2:22: defaults.variants: must be between 1 and 100, got 0",
            "m.yaml:6:15: jobs[0].variants: must be between 1 and 100, got 101",
            "m.yaml:9:15: jobs[1].variants: expected an integer, got the string '2'"});
  CHECK(headlines(parse_text("batch: b\njobs:\n  - id: a-v2\n    prompt: p\n  - id: a\n"
                             "    prompt: p\n    variants: 2\n")) ==
        std::vector<std::string>{
            "m.yaml:5:9: jobs[1].id: duplicate id 'a-v2' (first used by jobs[0] at line 3)"});
}

TEST_CASE("limit: expanded jobs count against 200000 per manifest", "[manifest]") {
  // 100 x 100 x 21 = 210000 jobs.
  std::string values = "[";
  for (int i = 0; i < 100; ++i) {
    values += std::to_string(i) + ",";
  }
  values += "]";
  const auto parse = parse_text(
      "batch: b\njobs:\n  - id: ok\n    prompt: p\n  - id: m\n"
      "    prompt: \"{x}{y}\"\n    variants: 21\n    matrix: {x: " +
      values + ", y: " + values + "}\n");
  CHECK(headlines(parse) ==
        std::vector<std::string>{"m.yaml:5:5: jobs[1]: expands to 210000 jobs, which with the 1 "
                                 "before it passes the limit of 200000 jobs per manifest (split "
                                 "it into several batches)"});
  // Ten variables of ten values overflow nothing: the count saturates.
  std::string huge = "batch: b\njobs:\n  - id: m\n    prompt: p\n    matrix: {";
  for (char v = 'a'; v <= 'z'; ++v) {
    huge += std::string(1, v) + ": " + values + ", ";
  }
  huge += "}\n";
  CHECK(headlines(parse_text(huge)) ==
        std::vector<std::string>{"m.yaml:3:5: jobs[0]: expands to too many jobs, which with the "
                                 "0 before it passes the limit of 200000 jobs per manifest "
                                 "(split it into several batches)"});
}

TEST_CASE("limit: the prompt text of all expanded jobs stays under 256 MiB", "[manifest]") {
  // 10000 values x 100 variants x a 30000-character prompt would be 30 GB.
  std::string values = "[";
  for (int i = 0; i < 10000; ++i) {
    values += std::to_string(i) + ",";
  }
  values += "]";
  const auto parse =
      parse_text("batch: b\njobs:\n  - id: m\n    prompt: \"" + std::string(30000, 'p') +
                 "{x}\"\n    variants: 20\n"
                 "    matrix: {x: " +
                 values + "}\n");
  CHECK(headlines(parse) ==
        std::vector<std::string>{"m.yaml:3:5: jobs[0]: the prompts of the expanded jobs pass "
                                 "256 MiB in total (split the manifest into several batches)"});
}

// --- prompts_from ------------------------------------------------------------

TEST_CASE("prompts_from a .txt file: one job per line, comments and blanks skipped", "[manifest]") {
  TempDir dir;
  dir.write("p/list.txt",
            "\xEF\xBB\xBF# ideas\nfirst prompt\r\n\n   \n  # indented comment\n"
            "  second prompt  \nthird");
  const auto parse = parse_manifest(
      "batch: b\njobs:\n  - id: idea\n    prompts_from: p/list.txt\n"
      "    seconds: 8\n",
      "jobs/m.yaml", dir.path().string());
  REQUIRE(parse.manifest.has_value());
  CHECK(ids_of(parse) == std::vector<std::string>{"idea-2", "idea-6", "idea-7"});
  const auto& jobs = parse.manifest->jobs;
  CHECK(jobs[0].prompt == "first prompt");
  CHECK(jobs[1].prompt == "second prompt");
  CHECK(jobs[2].prompt == "third");
  CHECK(jobs[2].seconds == 8);
  CHECK(jobs[1].location.file == "jobs/p/list.txt");
  CHECK(jobs[1].location.line == 6);
}

TEST_CASE("prompts_from a .csv file: columns, quoting, per-row fields", "[manifest]") {
  TempDir dir;
  dir.write("rows.csv",
            "\xEF\xBB\xBFprompt,id,seconds,model,size\r\n"
            "\"one, with comma\",first,8,,\r\n"
            "\"say \"\"hi\"\"\",,,sora-2-pro,large\r\n"
            "\"two\nlines\", third , 12 ,,\r\n");
  const auto parse = parse_manifest(
      "batch: b\ndefaults: {seconds: 4}\njobs:\n"
      "  - id: row\n    prompts_from: rows.csv\n"
      "    orientation: portrait\n",
      "m.yaml", dir.path().string());
  REQUIRE(parse.manifest.has_value());
  CHECK(ids_of(parse) == std::vector<std::string>{"first", "row-3", "third"});
  const auto& jobs = parse.manifest->jobs;
  CHECK(jobs[0].prompt == "one, with comma");
  CHECK(jobs[0].seconds == 8);
  CHECK(jobs[1].prompt == "say \"hi\"");
  CHECK(jobs[1].seconds == 4);
  CHECK(jobs[1].model == "sora-2-pro");
  CHECK(jobs[1].size == "large");
  CHECK(jobs[2].prompt == "two\nlines");
  CHECK(jobs[2].seconds == 12);  // blanks around a value are ignored
  for (const auto& job : jobs) {
    CHECK(job.orientation == Orientation::portrait);
  }
}

TEST_CASE("prompts_from with a matrix: every row times every combination", "[manifest]") {
  TempDir dir;
  dir.write("p.txt", "a {style} cat\na {style} dog\n");
  const auto parse = parse_manifest(
      "batch: b\njobs:\n  - id: pet\n    prompts_from: p.txt\n"
      "    matrix: {style: [oil, ink]}\n",
      "m.yaml", dir.path().string());
  CHECK(ids_of(parse) ==
        std::vector<std::string>{"pet-1-oil", "pet-1-ink", "pet-2-oil", "pet-2-ink"});
  REQUIRE(parse.manifest.has_value());
  CHECK(parse.manifest->jobs[3].prompt == "a ink dog");
}

TEST_CASE("a field set both by a prompt file column and by the matrix is an error", "[manifest]") {
  TempDir dir;
  dir.write("p.csv", "prompt,seconds\na,8\nb,\n");
  CHECK(headlines(parse_manifest("batch: b\njobs:\n  - id: r\n    prompts_from: p.csv\n"
                                 "    matrix:\n      seconds: [4, 12]\n",
                                 "m.yaml", dir.path().string())) ==
        std::vector<std::string>{"m.yaml:6:7: jobs[0].matrix.seconds: is also a column of the "
                                 "prompt file; set it in one place"});
}

TEST_CASE("prompt file problems name the file, its line and column, and the column name",
          "[manifest]") {
  TempDir dir;
  dir.write("prompts.csv",
            "prompt,id,seconds,orientation\n"
            "ok,a,8,\n"
            "fine,b,90,\n"
            "\"\",c,,sideways\n"
            "short,d\n"
            "x,\"bad id\",4,\n"
            "y,a,4,\n");
  const auto parse = parse_manifest("batch: b\njobs:\n  - id: r\n    prompts_from: prompts.csv\n",
                                    "jobs/m.yaml", dir.path().string());
  CHECK(headlines(parse) ==
        std::vector<std::string>{
            "jobs/prompts.csv:3:8: seconds: must be between 1 and 60, got 90",
            "jobs/prompts.csv:4:1: prompt: must not be empty",
            "jobs/prompts.csv:4:7: orientation: expected 'landscape' or 'portrait', got 'sideways'",
            "jobs/prompts.csv:5:1: has 2 fields; the header has 4",
        });
  REQUIRE(parse.diagnostics.size() == 4);
  CHECK(parse.diagnostics[0].render() ==
        "jobs/prompts.csv:3:8: seconds: must be between 1 and 60, got 90\nfine,b,90,\n       ^");

  dir.write("ids.csv", "prompt,id\nx,\"bad id\"\ny,A\nz,a\n");
  CHECK(headlines(parse_manifest("batch: b\njobs:\n  - id: r\n    prompts_from: ids.csv\n",
                                 "m.yaml", dir.path().string())) ==
        std::vector<std::string>{
            "ids.csv:2:3: id: generated id 'bad id': expected 1 to 128 characters from "
            "[A-Za-z0-9._-], got 'bad id'",
            "ids.csv:4:3: id: id 'a' differs from 'A' (ids.csv line 3) only in letter case; on a "
            "case-insensitive disk both would write the same file"});
}

TEST_CASE("prompt file headers, syntax and files themselves are checked", "[manifest]") {
  TempDir dir;
  dir.write("header.csv", "promt,secs,id,id\nx,1,a,b\n");
  dir.write("noprompt.csv", "id\na\n");
  dir.write("open.csv", "prompt\n\"never closed\n");
  dir.write("after.csv", "prompt\n\"quoted\"x\n");
  dir.write("empty.txt", "# only a comment\n\n");
  dir.write("empty.csv", "");
  dir.write("latin1.txt", "caf\xE9\n");
  dir.write("utf16.txt", std::string("\xFF\xFEh\0i\0", 6));
  dir.write("notes.md", "x");
  dir.write("folder.txt/x", "x");
  const auto parse = parse_manifest(
      "batch: b\njobs:\n"
      "  - {id: a, prompts_from: header.csv}\n"
      "  - {id: b, prompts_from: noprompt.csv}\n"
      "  - {id: c, prompts_from: open.csv}\n"
      "  - {id: d, prompts_from: after.csv}\n"
      "  - {id: e, prompts_from: empty.txt}\n"
      "  - {id: f, prompts_from: empty.csv}\n"
      "  - {id: g, prompts_from: latin1.txt}\n"
      "  - {id: h, prompts_from: utf16.txt}\n"
      "  - {id: i, prompts_from: notes.md}\n"
      "  - {id: j, prompts_from: missing.txt}\n"
      "  - {id: k, prompts_from: folder.txt}\n"
      "  - {id: l, prompts_from: empty.txt, prompt: p}\n",
      "m.yaml", dir.path().string());
  const std::string base = dir.path().string();
  CHECK(
      headlines(parse) ==
      std::vector<std::string>{
          "header.csv:1:1: unknown column 'promt' (did you mean 'prompt'?)",
          "header.csv:1:7: unknown column 'secs'; expected prompt, id, model, seconds, "
          "orientation, "
          "size or provider",
          "header.csv:1:15: duplicate column 'id' (first at column 12)",
          "noprompt.csv:1:1: the header row has no 'prompt' column",
          "open.csv:2:1: the quoted field that starts here is not closed",
          "after.csv:2:9: expected ',' or the end of the line after a closing quote (write a quote "
          "inside a quoted field as \"\")",
          "m.yaml:7:27: jobs[4].prompts_from: the prompt file empty.txt has no prompts",
          "empty.csv:1:1: the file is empty; it needs a header row with a 'prompt' column",
          "latin1.txt:1:4: invalid UTF-8 (byte 0xe9); save the prompt file as UTF-8",
          "utf16.txt: the file is UTF-16 (it starts with the byte order mark 0xff 0xfe); save "
          "the prompt file as UTF-8",
          "m.yaml:11:27: jobs[8].prompts_from: expected a .txt or .csv file, got 'notes.md'",
          "m.yaml:12:27: jobs[9].prompts_from: prompt file not found: " + base + "/missing.txt",
          "m.yaml:13:27: jobs[10].prompts_from: prompt is not a regular file: " + base +
              "/folder.txt",
          "m.yaml:14:13: jobs[11].prompts_from: a job has either 'prompt' or 'prompts_from', not "
          "both"});
}

}  // namespace
}  // namespace vb
