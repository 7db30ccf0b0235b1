#include "e2e/e2e_fixture.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <openssl/evp.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace vb::test {

using vidbatch::test::Subprocess;
using vidbatch::test::SubprocessOptions;

E2eFolder::E2eFolder() {
  std::string templ = (std::filesystem::temp_directory_path() / "vidbatch-e2e-XXXXXX").string();
  m_dir = mkdtemp(templ.data());
  write_config();
}

E2eFolder::~E2eFolder() {
  if (std::getenv("KEEP_E2E") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
}

std::string E2eFolder::write_manifest(const std::string& batch, int count,
                                      const std::map<int, std::string>& prompt_overrides) const {
  std::ostringstream yaml;
  yaml << "batch: " << batch << "\ndefaults: {model: sora-2, seconds: 4}\njobs:\n";
  for (int i = 0; i < count; ++i) {
    auto it = prompt_overrides.find(i);
    std::string prompt = it != prompt_overrides.end()
                             ? it->second
                             : "Prompt " + std::to_string(i) + " of batch " + batch;
    yaml << "  - id: job-" << i << "\n    prompt: \"" << prompt << "\"\n";
    if (i % 2 == 1) {
      yaml << "    orientation: portrait\n";
    }
  }
  std::string file = path(batch + ".yaml");
  std::ofstream(file) << yaml.str();
  return file;
}

void E2eFolder::write_config(int max_in_flight, const std::string& extra,
                             const std::string& limits) const {
  std::ofstream(path("vidbatch.toml"))
      << "[limits]\n"
         "max_in_flight = "
      << max_in_flight
      << "\n"
         "submits_per_minute = 6000\n"
         "polls_per_second = 200\n"
         "poll_interval_ms = 100\n"
         "poll_interval_max_ms = 400\n"
      << limits
      << "[http]\n"
         "request_timeout_ms = 5000\n"
         "[retry]\n"
         "base_delay_ms = 20\n"
         "max_delay_ms = 300\n"
         "submit_attempts = 20\n"
         "poll_attempts = 20\n"
         "download_attempts = 20\n"
         "give_up_after_ms = 1\n"  // fail at the attempt cap, as tests expect
      << extra;
}

void E2eFolder::write_raw_config(const std::string& toml) const {
  std::ofstream(path("vidbatch.toml")) << toml;
}

std::unique_ptr<Subprocess> E2eFolder::start(const std::vector<std::string>& args,
                                             const std::string& base_url,
                                             const std::string& tag) const {
  SubprocessOptions options;
  options.argv = {VIDBATCH_BIN};
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  bool engine = !args.empty() && (args[0] == "run" || args[0] == "resume" || args[0] == "adopt");
  if (!args.empty() && args[0] != "validate") {
    options.argv.insert(options.argv.end(), {"--db", db(), "--config", path("vidbatch.toml")});
  }
  if (engine && std::find(args.begin(), args.end(), "--out") == args.end()) {
    options.argv.insert(options.argv.end(), {"--out", out()});
  }
  if (engine) {
    if (!base_url.empty()) {
      options.argv.insert(options.argv.end(), {"--base-url", base_url});
    }
  }
  options.env = {{"OPENAI_API_KEY", "sk-e2e-test-key"}};
  for (const auto& [name, value] : m_env) {
    options.env.emplace_back(name, value);
  }
  options.cwd = m_dir;
  options.stdout_path = path(tag + ".out");
  options.stderr_path = path(tag + ".err");
  m_runs += 1;
  return std::make_unique<Subprocess>(options);
}

CommandResult E2eFolder::finish(Subprocess& process, const std::string& tag) const {
  CommandResult result;
  result.exit_code = process.wait();
  result.out = read_file(path(tag + ".out"));
  result.err = read_file(path(tag + ".err"));
  return result;
}

CommandResult E2eFolder::run(const std::vector<std::string>& args,
                             const std::string& base_url) const {
  auto process = start(args, base_url);
  return finish(*process);
}

std::unique_ptr<JobStore> E2eFolder::open_store() const {
  auto store = JobStore::open(db());
  INFO((store ? std::string() : store.error().message));
  REQUIRE(store.has_value());
  return std::move(*store);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string sha256_file(const std::string& path) {
  std::string data = read_file(path);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    static const char* k = "0123456789abcdef";
    hex += k[digest[i] >> 4];
    hex += k[digest[i] & 15];
  }
  return hex;
}

rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

int creates_for(const rapidjson::Document& stats, const std::string& prompt) {
  const auto& by_prompt = stats["creates_by_prompt"];
  auto it = by_prompt.FindMember(prompt.c_str());
  return it == by_prompt.MemberEnd() ? 0 : it->value.GetInt();
}

int route_count(const rapidjson::Document& stats, const std::string& route) {
  const auto& routes = stats["requests_by_route"];
  return routes.HasMember(route.c_str()) ? routes[route.c_str()].GetInt() : 0;
}

void require_consistent_events(JobStore& store) {
  auto jobs = store.list_jobs({});
  REQUIRE(jobs.has_value());
  auto events = store.events(std::nullopt);
  REQUIRE(events.has_value());
  std::map<std::int64_t, std::optional<JobState>> last;
  for (const auto& e : *events) {
    auto it = last.find(e.job_row_id);
    if (it == last.end()) {
      INFO("job " << e.job_id << " first event");
      REQUIRE_FALSE(e.from.has_value());
    } else {
      INFO("job " << e.job_id << " event " << e.id);
      REQUIRE(e.from == it->second);
    }
    last[e.job_row_id] = e.to;
  }
  for (const auto& job : *jobs) {
    INFO("job " << job.spec.id);
    REQUIRE(last[job.row_id] == job.state);
  }
}

namespace {

// Jobs in the ledger; 0 while the first run has not committed its import yet.
int imported_jobs(const std::string& db_path) {
  if (!std::filesystem::exists(db_path)) {
    return 0;
  }
  try {
    SQLite::Database db(db_path, SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT count(*) FROM jobs").getInt();
  } catch (const SQLite::Exception&) {
    return 0;  // schema not created yet
  }
}

}  // namespace

void wait_for_import(const E2eFolder& folder, vidbatch::test::Subprocess& process) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (imported_jobs(folder.db()) == 0) {
    REQUIRE(process.running());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Millis time_to_start(const E2eFolder& folder) {
  auto start = std::chrono::steady_clock::now();
  REQUIRE(folder.run({"--version"}).exit_code == 0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

}  // namespace vb::test
