// A scratch folder with a manifest, a config tuned for fast tests, and helpers
// to run the real `vidbatch` binary against a real simulator over loopback.
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "store/job_store.h"
#include "support/sim_process.h"
#include "support/subprocess.h"

namespace vb::test {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class E2eFolder {
 public:
  E2eFolder();
  ~E2eFolder();

  const std::string& dir() const { return m_dir; }
  std::string path(const std::string& name) const { return m_dir + "/" + name; }
  // The ledger: "ledger.db" in the folder, or what use_ledger() named (a PostgreSQL URL).
  std::string db() const { return m_ledger.empty() ? path("ledger.db") : m_ledger; }
  void use_ledger(std::string location) { m_ledger = std::move(location); }
  std::string out() const { return path("out"); }

  // Writes a manifest of `count` jobs named job-0..; `prompt_overrides` replaces the prompt of
  // job N, so a test can make chosen jobs fail.
  std::string write_manifest(const std::string& batch, int count,
                             const std::map<int, std::string>& prompt_overrides = {}) const;
  // Writes the config used by run(); `extra` is appended: keys of [retry] (the last table), then
  // new tables.
  // `limits`: more lines of the [limits] table; `extra`: more tables after it.
  void write_config(int max_in_flight = 16, const std::string& extra = "",
                    const std::string& limits = "") const;
  // Replaces the config with exactly `toml`.
  void write_raw_config(const std::string& toml) const;

  // Starts vidbatch with args (+ --db/--out/--config/--base-url for run/resume).
  std::unique_ptr<vidbatch::test::Subprocess> start(const std::vector<std::string>& args,
                                                    const std::string& base_url,
                                                    const std::string& tag = "run") const;
  CommandResult run(const std::vector<std::string>& args, const std::string& base_url = "") const;
  CommandResult finish(vidbatch::test::Subprocess& process, const std::string& tag = "run") const;

  std::unique_ptr<JobStore> open_store() const;
  // An extra environment variable for every later command (e.g. a second provider's key).
  void set_env(const std::string& name, const std::string& value) { m_env[name] = value; }

 private:
  std::string m_dir;
  std::string m_ledger;
  mutable int m_runs = 0;
  std::map<std::string, std::string> m_env;
};

std::string read_file(const std::string& path);
std::string sha256_file(const std::string& path);
rapidjson::Document parse_json(const std::string& text);
// The simulator's count of created videos for a prompt.
int creates_for(const rapidjson::Document& stats, const std::string& prompt);
// The simulator's count of requests on a route ("POST /v1/videos"), 0 when none came.
int route_count(const rapidjson::Document& stats, const std::string& route);
// Checks that every job's events chain: first from NULL, each from = previous to, last to = state.
void require_consistent_events(JobStore& store);

// For kill loops: waits (60 s at most) until the first run has committed its import, so a kill
// leaves something to resume; and how long `vidbatch --version` takes to start here (a sanitizer
// build needs most of a second), so kills count from when a process can do work.
void wait_for_import(const E2eFolder& folder, vidbatch::test::Subprocess& process);
Millis time_to_start(const E2eFolder& folder);

}  // namespace vb::test
