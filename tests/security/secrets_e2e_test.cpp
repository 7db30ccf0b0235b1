// End to end: the API key stays secret and files stay private. The real vidbatch
// against the real simulator, with a recognisable key read from a key file.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/types.h>

#include <filesystem>
#include <fstream>

#include "e2e/e2e_fixture.h"
#include "security/leak_check_key.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;
namespace fs = std::filesystem;

namespace {

// The config of E2eFolder, plus a key file; the variable it names is never set,
// so the key can only come from the file.
void use_key_file(const E2eFolder& folder, const std::string& key, mode_t mode,
                  const std::string& extra = "") {
  const std::string key_path = folder.path("openai.key");
  std::ofstream(key_path) << key << "\n";
  ::chmod(key_path.c_str(), mode);
  folder.write_config(8, extra +
                             "\n[provider]\napi_key_env = \"VB_KEY_VARIABLE_NEVER_SET\"\n"
                             "api_key_file = \"openai.key\"\n");
}

// Every file under the folder except the key file itself, whose bytes contain `needle`.
std::vector<std::string> files_containing(const E2eFolder& folder, const std::string& needle) {
  std::vector<std::string> hits;
  for (const auto& entry : fs::recursive_directory_iterator(folder.dir())) {
    if (!entry.is_regular_file() || entry.path() == folder.path("openai.key")) {
      continue;
    }
    if (read_file(entry.path().string()).find(needle) != std::string::npos) {
      hits.push_back(entry.path().string());
    }
  }
  return hits;
}

int files_seen(const E2eFolder& folder) {
  int n = 0;
  for (const auto& entry : fs::recursive_directory_iterator(folder.dir())) {
    n += entry.is_regular_file() ? 1 : 0;
  }
  return n;
}

// Everything a user would look at after a run: reports in every format, status, events.
void write_reports(const E2eFolder& folder) {
  for (const std::string format : {"csv", "json", "jsonl", "md", "html"}) {
    CommandResult r =
        folder.run({"report", "--format", format, "--output", folder.path("report." + format)});
    INFO(format << ": " << r.err);
    CHECK(r.exit_code == 0);
  }
  CHECK(folder.run({"status"}).exit_code == 0);
  folder.run({"events"});
}

int route_count(const rapidjson::Document& stats, const char* route) {
  const auto& routes = stats["requests_by_route"];
  return routes.HasMember(route) ? routes[route].GetInt() : 0;
}

}  // namespace

TEST_CASE("a whole batch with the key from a key file leaves the key in no file and no output",
          "[e2e][security]") {
  SimProcess sim({"--gen-ms", "200", "--quiet", "--require-key", k_leak_check_key, "--fail-marker",
                  "[[fail]]"});
  E2eFolder folder;
  use_key_file(folder, k_leak_check_key, 0600);
  const std::string manifest = folder.write_manifest("leak", 6, {{5, "This one fails [[fail]]"}});
  CommandResult run = folder.run({"run", manifest}, sim.base_url());
  INFO(run.err);
  REQUIRE(run.exit_code != 2);  // the key file was accepted...
  auto stats = parse_json(sim.stats());
  REQUIRE(stats["creates_total"].GetInt() == 6);  // ...and the simulator accepted the key
  write_reports(folder);
  REQUIRE(files_seen(folder) > 10);  // db, wal, videos, sidecars, reports, outputs
  CHECK(files_containing(folder, k_leak_check_key) == std::vector<std::string>{});
  CHECK(files_containing(folder, "LEAKCHECK") == std::vector<std::string>{});
}

TEST_CASE("a rejected key (401) is not echoed in errors, the ledger or the output",
          "[e2e][security]") {
  SimProcess sim({"--gen-ms", "100", "--quiet", "--require-key", "sk-the-right-one"});
  E2eFolder folder;
  use_key_file(folder, k_leak_check_key, 0600);
  const std::string manifest = folder.write_manifest("wrongkey", 2);
  CommandResult run = folder.run({"run", manifest}, sim.base_url());
  INFO(run.err);
  REQUIRE(run.exit_code != 0);
  write_reports(folder);
  CHECK(files_containing(folder, "LEAKCHECK") == std::vector<std::string>{});
}

TEST_CASE("a key file readable by group or others is refused before anything is sent",
          "[e2e][security]") {
  SimProcess sim({"--gen-ms", "100", "--quiet"});
  E2eFolder folder;
  use_key_file(folder, k_leak_check_key, 0644);
  const std::string manifest = folder.write_manifest("loose", 2);
  CommandResult run = folder.run({"run", manifest}, sim.base_url());
  INFO(run.err);
  CHECK(run.exit_code == 2);
  CHECK(run.err.find(folder.path("openai.key")) != std::string::npos);
  CHECK(run.err.find("group or others") != std::string::npos);
  CHECK(parse_json(sim.stats())["requests_total"].GetInt() == 0);
  CHECK(files_containing(folder, "LEAKCHECK") == std::vector<std::string>{});
}

TEST_CASE("the key never reaches a download host on another origin", "[e2e][security]") {
  SECTION("task-shaped answers name signed URLs on the CDN") {
    SimProcess sim(
        {"--gen-ms", "200", "--quiet", "--require-key", k_leak_check_key, "--shape", "task"});
    E2eFolder folder;
    use_key_file(folder, k_leak_check_key, 0600);
    CommandResult run = folder.run({"run", folder.write_manifest("cdn1", 4)}, sim.base_url());
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    auto stats = parse_json(sim.stats());
    CHECK(route_count(stats, "CDN GET /files/{name}") >= 4);
    CHECK(stats["auth_headers_seen_on_files"].GetInt() == 0);
  }
  SECTION("JSON content answers name a URL on the CDN") {
    SimProcess sim({"--gen-ms", "200", "--quiet", "--require-key", k_leak_check_key,
                    "--content-mode", "json", "--content-url-port", "cdn"});
    E2eFolder folder;
    use_key_file(folder, k_leak_check_key, 0600);
    CommandResult run = folder.run({"run", folder.write_manifest("cdn2", 4)}, sim.base_url());
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    auto stats = parse_json(sim.stats());
    CHECK(stats["content_requests"].GetInt() >= 4);
    CHECK(route_count(stats, "CDN GET /files/{name}") >= 4);
    CHECK(stats["auth_headers_seen_on_files"].GetInt() == 0);
  }
}

TEST_CASE("files vidbatch creates follow the umask and are never world-writable",
          "[e2e][security]") {
  for (const mode_t mask : {mode_t{002}, mode_t{022}, mode_t{077}}) {
    INFO("umask " << std::oct << mask);
    SimProcess sim({"--gen-ms", "100", "--quiet"});
    E2eFolder folder;
    use_key_file(folder, k_leak_check_key, 0600);
    const std::string manifest = folder.write_manifest("umask", 3);
    const mode_t old = ::umask(mask);  // inherited by the vidbatch processes started below
    CommandResult run = folder.run({"run", manifest}, sim.base_url());
    write_reports(folder);
    ::umask(old);
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    int checked = 0;
    for (const auto& entry : fs::recursive_directory_iterator(folder.dir())) {
      struct stat st {};
      REQUIRE(::lstat(entry.path().c_str(), &st) == 0);
      if (entry.path() == folder.path("openai.key") || entry.path().filename() == "vidbatch.toml" ||
          entry.path().filename() == "manifest.yaml" || entry.path().extension() == ".yaml" ||
          entry.path().extension() == ".out" || entry.path().extension() == ".err") {
        continue;  // written by this test (and the harness's stdout/stderr capture), not by
                   // vidbatch
      }
      INFO(entry.path().string() << " mode " << std::oct << (st.st_mode & 07777));
      CHECK((st.st_mode & S_IWOTH) == 0);
      CHECK((st.st_mode & mask) == 0);
      ++checked;
    }
    CHECK(checked > 8);
  }
}
