// [e2e] Bad input never touches the ledger: a ledger that already
// holds a finished batch, then `vidbatch run` (the real binary) on one bad
// manifest or config after another. Each must exit 2, name file:line:col and
// the field on stderr, and leave every table of the database byte-identical
// (dumped with SQLiteCpp before and after) without a request to the provider.
#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "e2e/e2e_fixture.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;

namespace {

// Every table's schema and rows in rowid order, each value with its type, and user_version.
std::string dump_database(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::string out = "user_version " + db.execAndGet("PRAGMA user_version").getString() + "\n";
  std::vector<std::string> tables;
  SQLite::Statement schema(db, "SELECT type, name, sql FROM sqlite_master ORDER BY type, name");
  while (schema.executeStep()) {
    out += schema.getColumn(0).getString() + " " + schema.getColumn(1).getString() + ": " +
           schema.getColumn(2).getString() + "\n";
    if (schema.getColumn(0).getString() == "table") {
      tables.push_back(schema.getColumn(1).getString());
    }
  }
  for (const auto& table : tables) {
    SQLite::Statement rows(db, "SELECT * FROM \"" + table + "\" ORDER BY rowid");
    out += "table " + table + "\n";
    while (rows.executeStep()) {
      for (int c = 0; c < rows.getColumnCount(); ++c) {
        const SQLite::Column col = rows.getColumn(c);
        char number[64];
        if (col.isNull()) {
          out += "N";
        } else if (col.isInteger()) {
          out += "I" + std::to_string(col.getInt64());
        } else if (col.isFloat()) {
          std::snprintf(number, sizeof number, "F%.17g", col.getDouble());
          out += number;
        } else {
          out += (col.isBlob() ? "B" : "T") + std::to_string(col.getBytes()) + ":" +
                 std::string(static_cast<const char*>(col.getBlob()),
                             static_cast<std::size_t>(col.getBytes()));
        }
        out += "|";
      }
      out += "\n";
    }
  }
  return out;
}

struct BadFile {
  std::string name;  // file name in the test folder
  std::string content;
  std::string expected;  // regex that stderr must match
};

std::string long_id() {
  return std::string(300, 'a');
}

const std::string k_ok_job = "  - id: one\n    prompt: \"A quiet lake at dawn\"\n";

// Manifests with one mistake each; `expected` names file:line:col and the field.
std::vector<BadFile> bad_manifests() {
  using namespace std::string_literals;
  return {
      {"syntax.yaml", "batch: bad\njobs:\n  - id: one\n    prompt: [unclosed, list\n  - id: two\n",
       R"(syntax\.yaml:\d+:\d+: )"},
      {"wrong_type.yaml", "batch: bad\njobs:\n" + k_ok_job + "    seconds: eight\n",
       R"(wrong_type\.yaml:5:\d+: jobs\[0\]\.seconds: )"},
      {"unknown_key.yaml", "batch: bad\njobs:\n" + k_ok_job + "    promt: \"typo\"\n",
       R"(unknown_key\.yaml:5:5: jobs\[0\]\.promt: )"},
      {"missing_prompt.yaml", "batch: bad\njobs:\n  - id: one\n    seconds: 4\n",
       R"(missing_prompt\.yaml:3:\d+: jobs\[0\]\.prompt: )"},
      {"invalid_enum.yaml", "batch: bad\njobs:\n" + k_ok_job + "    orientation: sideways\n",
       R"(invalid_enum\.yaml:5:\d+: jobs\[0\]\.orientation: )"},
      {"duplicate_id.yaml", "batch: bad\njobs:\n" + k_ok_job + k_ok_job,
       R"(duplicate_id\.yaml:5:\d+: jobs\[1\]\.id: )"},
      {"dotdot_id.yaml", "batch: bad\njobs:\n  - id: ../escape\n    prompt: \"x\"\n",
       R"(dotdot_id\.yaml:3:\d+: jobs\[0\]\.id: )"},
      {"absolute_id.yaml", "batch: bad\njobs:\n  - id: /etc/passwd\n    prompt: \"x\"\n",
       R"(absolute_id\.yaml:3:\d+: jobs\[0\]\.id: )"},
      {"nul_escape_id.yaml", "batch: bad\njobs:\n  - id: \"evil\\0id\"\n    prompt: \"x\"\n",
       R"(nul_escape_id\.yaml:3:\d+: jobs\[0\]\.id: )"},
      {"nul_byte.yaml", "batch: bad\njobs:\n  - id: one\n    prompt: \"a\0b\"\n"s,
       R"(nul_byte\.yaml:4:\d+: )"},
      {"long_id.yaml", "batch: bad\njobs:\n  - id: " + long_id() + "\n    prompt: \"x\"\n",
       R"(long_id\.yaml:3:\d+: jobs\[0\]\.id: )"},
      {"empty.yaml", "", R"(empty\.yaml: )"},
      {"latin1.yaml", "batch: bad\njobs:\n  - id: one\n    prompt: \"caf\xe9 au lait\"\n",
       R"(latin1\.yaml:4:\d+: )"},
      {"missing_image.yaml", "batch: bad\njobs:\n" + k_ok_job + "    images: [refs/nope.png]\n",
       R"(missing_image\.yaml:5:\d+: jobs\[0\]\.images\[0\]: )"},
      {"batch_escape.yaml", "batch: ../up\njobs:\n" + k_ok_job,
       R"(batch_escape\.yaml:1:\d+: batch: )"},
  };
}

// Config files with one mistake each; `expected` names file:line:col and the TOML path.
std::vector<BadFile> bad_configs() {
  return {
      {"zero.toml", "[limits]\nmax_in_flight = 0\n",
       R"(vidbatch\.toml:2:17: limits\.max_in_flight: )"},
      {"string_count.toml", "[limits]\nmax_in_flight = \"eight\"\n",
       R"(vidbatch\.toml:2:\d+: limits\.max_in_flight: )"},
      {"unknown_key.toml", "[retry]\nbase_delay = 500\n",
       R"(vidbatch\.toml:2:1: retry\.base_delay: .*did you mean 'base_delay_ms')"},
      {"bad_enum.toml", "[store]\nsync = \"sometimes\"\n",
       R"(vidbatch\.toml:2:\d+: store\.sync: )"},
      {"escaping_layout.toml", "[output]\nlayout = \"../{id}.mp4\"\n",
       R"(vidbatch\.toml:2:\d+: output\.layout: )"},
      {"syntax.toml", "[limits\nmax_in_flight = 4\n", R"(vidbatch\.toml:1:\d+: )"},
  };
}

void require_rejected(const CommandResult& run, const std::string& expected) {
  INFO("stderr:\n" << run.err);
  CHECK(run.exit_code == 2);
  CHECK(std::regex_search(run.err, std::regex(expected)));
  CHECK(run.out.empty());
}

}  // namespace

TEST_CASE("bad manifests and configs exit 2, say where, and leave the ledger untouched",
          "[e2e][security]") {
  SimProcess sim({"--gen-ms", "100", "--quiet"});
  E2eFolder folder;
  CommandResult first = folder.run({"run", folder.write_manifest("finished", 2)}, sim.base_url());
  REQUIRE(first.exit_code == 0);
  const std::string before = dump_database(folder.db());
  const std::string file_before = sha256_file(folder.db());
  REQUIRE_THAT(before, Catch::Contains("table events"));
  const auto stats_before = parse_json(sim.stats());
  std::filesystem::create_directories(folder.path("refs"));

  SECTION("manifests") {
    for (const auto& bad : bad_manifests()) {
      INFO(bad.name);
      std::ofstream(folder.path(bad.name), std::ios::binary) << bad.content;
      require_rejected(folder.run({"run", folder.path(bad.name)}, sim.base_url()), bad.expected);
    }
    for (const char* example : {"syntax_error.yaml", "many_problems.yaml", "top_level_typo.yaml",
                                "missing_image.yaml", "empty.yaml"}) {
      INFO(example);
      const std::string path = std::string(VIDBATCH_SOURCE_DIR) + "/jobs/examples/bad/" + example;
      require_rejected(folder.run({"run", path}, sim.base_url()),
                       std::regex_replace(std::string(example), std::regex(R"(\.)"), R"(\.)") +
                           (std::string(example) == "empty.yaml" ? ": " : R"(:\d+:\d+: )"));
    }
  }
  SECTION("configs") {
    const std::string manifest = folder.write_manifest("next", 1);
    for (const auto& bad : bad_configs()) {
      INFO(bad.name);
      folder.write_raw_config(bad.content);
      require_rejected(folder.run({"run", manifest}, sim.base_url()), bad.expected);
    }
  }
  CHECK(dump_database(folder.db()) == before);
  CHECK(sha256_file(folder.db()) == file_before);
  // Not one request reached the provider.
  const auto stats_after = parse_json(sim.stats());
  for (const char* counter : {"creates_total", "queries", "content_requests"}) {
    INFO(counter);
    CHECK(stats_after[counter].GetInt64() == stats_before[counter].GetInt64());
  }
}
