// [cli][e2e] What `run` writes to stderr: --log-format json (one JSON event per
// line, every transition, never the key), --quiet (errors only), and the live
// progress block, drawn only when stdout and stderr are terminals (a pty here).
#include <pty.h>
#include <rapidjson/document.h>
#include <termios.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "e2e/e2e_fixture.h"
#include "support/lines.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::lines_of;
using vidbatch::test::SimProcess;
using vidbatch::test::Subprocess;
using vidbatch::test::SubprocessOptions;

namespace {

const std::string k_key = "sk-e2e-test-key";  // E2eFolder's key; the simulator requires it

bool has_control_codes(const std::string& text) {
  return text.find('\r') != std::string::npos || text.find('\x1b') != std::string::npos;
}

std::string field(const rapidjson::Value& v, const char* name) {
  auto it = v.FindMember(name);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

// A pseudo-terminal of 100 columns in raw mode (no "\n" -> "\r\n"), drained by a thread.
class Pty {
 public:
  Pty() {
    winsize size{};
    size.ws_col = 100;
    size.ws_row = 40;
    char name[256];
    REQUIRE(openpty(&m_master, &m_slave, name, nullptr, &size) == 0);
    m_name = name;
    termios mode{};
    tcgetattr(m_slave, &mode);
    cfmakeraw(&mode);
    tcsetattr(m_slave, TCSANOW, &mode);
    m_reader = std::thread([this] {
      char buf[4096];
      for (ssize_t n; (n = ::read(m_master, buf, sizeof buf)) > 0;) {
        m_text.append(buf, static_cast<std::size_t>(n));
      }
    });
  }
  ~Pty() {
    ::close(m_slave);  // the reader gets EIO once every writer is gone
    m_reader.join();
    ::close(m_master);
  }
  const std::string& name() const { return m_name; }
  // Everything written so far; call after the writers exited.
  std::string text() {
    ::close(m_slave);
    m_slave = -1;
    m_reader.join();
    m_reader = std::thread([] {});
    return m_text;
  }

 private:
  int m_master = -1;
  int m_slave = -1;
  std::string m_name;
  std::string m_text;
  std::thread m_reader;
};

CommandResult run_on(const E2eFolder& folder, const std::string& manifest, const std::string& url,
                     const std::string& out_path, const std::string& err_path) {
  SubprocessOptions options;
  options.argv = {VIDBATCH_BIN,
                  "run",
                  manifest,
                  "--db",
                  folder.db(),
                  "--config",
                  folder.path("vidbatch.toml"),
                  "--out",
                  folder.out(),
                  "--base-url",
                  url};
  options.env = {{"OPENAI_API_KEY", k_key}, {"TERM", "xterm"}};
  options.cwd = folder.dir();
  options.stdout_path = out_path;
  options.stderr_path = err_path;
  Subprocess process(options);
  CommandResult result;
  result.exit_code = process.wait();
  return result;
}

}  // namespace

TEST_CASE(
    "log: --log-format json writes one JSON event per stderr line, every transition, "
    "never the key",
    "[cli][e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet", "--rate-429", "0.3", "--retry-after-ms", "50",
                  "--seed", "7", "--require-key", k_key});
  E2eFolder folder;
  std::string manifest = folder.write_manifest("logs", 6, {{1, "Please [[fail]] this one"}});
  CommandResult run = folder.run({"run", manifest, "--log-format", "json"}, sim.base_url());
  INFO(run.err);
  REQUIRE(run.exit_code == 1);
  CHECK_THAT(run.out, Catch::Contains("done 5/6"));
  CHECK(run.err.find(k_key) == std::string::npos);
  CHECK(run.out.find(k_key) == std::string::npos);
  CHECK_FALSE(has_control_codes(run.err));

  struct Seen {
    std::string job, from, to;
    int http_status;
    bool operator==(const Seen&) const = default;
  };
  std::vector<Seen> logged;
  bool failure_is_error = false;
  for (const auto& line : lines_of(run.err)) {
    INFO(line);
    rapidjson::Document doc;
    doc.Parse(line.c_str());
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc.IsObject());
    CHECK(field(doc, "ts").ends_with("Z"));
    CHECK_FALSE(field(doc, "level").empty());
    CHECK_FALSE(field(doc, "event").empty());
    CHECK(doc.HasMember("message"));
    if (field(doc, "event") == "transition") {
      CHECK(field(doc, "batch") == "logs");
      int status = doc.HasMember("http_status") ? doc["http_status"].GetInt() : 0;
      logged.push_back({field(doc, "job"), field(doc, "from"), field(doc, "to"), status});
      if (field(doc, "to") == "failed") {
        failure_is_error = field(doc, "level") == "error" && field(doc, "job") == "job-1";
      }
    }
  }
  CHECK(failure_is_error);
  // Exactly the transitions of the ledger, in its order, with the HTTP status that caused each.
  std::vector<Seen> recorded;
  bool saw_429 = false;
  auto store = folder.open_store();
  const auto events = store->events(std::nullopt);  // kept alive: `*temporary` would dangle
  REQUIRE(events.has_value());
  for (const auto& e : *events) {
    if (e.from) {
      recorded.push_back({e.job_id, to_string(*e.from), to_string(e.to), e.http_status});
      saw_429 = saw_429 || e.http_status == 429;
    }
  }
  CHECK(saw_429);
  REQUIRE(logged.size() == recorded.size());
  CHECK(logged == recorded);
}

TEST_CASE("log: --quiet prints errors only; off a terminal no escape codes or carriage returns",
          "[cli][e2e]") {
  SimProcess sim({"--gen-ms", "200", "--quiet"});
  E2eFolder folder;
  // retry, cancel and resolve never create a ledger (lock_ledger): exit 2, nothing written.
  for (const std::string command : {"retry", "cancel", "resolve"}) {
    INFO(command);
    CommandResult none = folder.run({command, command == "resolve" ? "--fail" : "--job", "job-0"});
    CHECK(none.exit_code == 2);
    CHECK_THAT(none.err, Catch::Contains("no ledger here"));
    CHECK_FALSE(std::filesystem::exists(folder.db()));
  }
  CommandResult quiet =
      folder.run({"run", folder.write_manifest("hush", 3, {{1, "Please [[fail]] this one"}}),
                  "--quiet"},
                 sim.base_url());
  INFO(quiet.err);
  REQUIRE(quiet.exit_code == 1);
  CHECK_THAT(quiet.out, Catch::Contains("done 2/3, failed 1"));
  auto err_lines = lines_of(quiet.err);
  REQUIRE(err_lines.size() == 1);  // the failure, nothing else
  CHECK_THAT(err_lines[0], Catch::Contains("hush/job-1 running -> failed") ||
                               Catch::Contains("hush/job-1 submitted -> failed"));

  CommandResult plain = folder.run({"run", folder.write_manifest("plain", 2)}, sim.base_url());
  INFO(plain.err);
  REQUIRE(plain.exit_code == 0);
  CHECK_FALSE(has_control_codes(plain.out));
  CHECK_FALSE(has_control_codes(plain.err));
  CHECK_THAT(plain.err, Catch::Contains("plain/job-0 downloading -> done"));

  // retry's errors in json mode too.
  CommandResult unknown = folder.run({"retry", "--job", "nope", "--log-format", "json"});
  CHECK(unknown.exit_code == 2);
  REQUIRE(lines_of(unknown.err).size() == 1);
  CHECK_THAT(field(parse_json(unknown.err), "message"), Catch::Contains("job nope"));

  // A bad manifest in json mode: the error is one JSON object (the diagnostics in its message).
  std::ofstream(folder.path("bad.yaml"))
      << "batch: b\njobs:\n  - id: a\n    prompt: p\n    seconds: x\n";
  CommandResult bad = folder.run({"run", folder.path("bad.yaml"), "--log-format", "json"});
  CHECK(bad.exit_code == 2);
  REQUIRE(lines_of(bad.err).size() == 1);
  auto doc = parse_json(bad.err);
  CHECK(field(doc, "level") == "error");
  CHECK_THAT(field(doc, "message"), Catch::Contains("bad.yaml:5:14: jobs[0].seconds"));
}

TEST_CASE("on a terminal the progress is drawn in place, at most four times a second",
          "[cli][e2e]") {
  SimProcess sim({"--gen-ms", "600", "--quiet"});
  E2eFolder folder;
  folder.write_config(2);  // two at a time: the run takes a few seconds

  SECTION("stdout and stderr on a terminal: a live line per batch") {
    Pty pty;
    const auto started = std::chrono::steady_clock::now();
    CommandResult run = run_on(folder,
                               folder.write_manifest("live", 6, {{3, "Please [[fail]] it"}}),
                               sim.base_url(), pty.name(), pty.name());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string text = pty.text();
    INFO(text);
    CHECK(run.exit_code == 1);
    CHECK_THAT(text, Catch::Contains("live ["));
    CHECK_THAT(text, Catch::Contains("/min ETA "));
    CHECK_THAT(text, Catch::Contains("] 5/6 | queued 0, at provider 0, downloading 0, failed 1"));
    CHECK_THAT(text, Catch::Contains("live/job-3"));  // the failure is logged above the line
    std::size_t draws = 0;                            // each draw writes the batch's line once
    for (auto at = text.find("live ["); at != std::string::npos; at = text.find("live [", at + 1)) {
      ++draws;
    }
    CHECK(draws >= 2);
    CHECK(draws <= static_cast<std::size_t>(seconds * 4) + 2);  // + the first and the last
    CHECK_THAT(text, Catch::Contains("\r\x1b[J"));              // redrawn in place
    // Every drawn progress line fits the terminal's 100 columns (log lines may wrap).
    for (std::size_t at = text.find("\x1b[J"); at != std::string::npos;
         at = text.find("\x1b[J", at + 1)) {
      const std::string drawn =
          text.substr(at + 3, text.find_first_of("\r\n\x1b", at + 3) - at - 3);
      if (drawn.starts_with("live ")) {
        CHECK(drawn.size() < 100);
      }
    }
  }
  SECTION("stdout redirected: nothing drawn even though stderr is a terminal") {
    Pty pty;
    CommandResult run = run_on(folder, folder.write_manifest("piped", 2), sim.base_url(),
                               folder.path("piped.out"), pty.name());
    std::string text = pty.text();
    INFO(text);
    CHECK(run.exit_code == 0);
    CHECK_FALSE(has_control_codes(text));
    CHECK_FALSE(has_control_codes(read_file(folder.path("piped.out"))));
    CHECK_THAT(text, Catch::Contains("piped/job-1 downloading -> done"));
  }
}
