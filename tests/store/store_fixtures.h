// Test helpers shared by the [store] and [report] tests (own namespace: tests/manifest
// has another vb::test::TempDir, and one binary must not hold two): a temporary directory
// removed at scope exit, spec factories, transition shorthands, and the two ledger backends
// the store's contract tests run against (TEMPLATE_TEST_CASE(..., SqliteLedger, PgLedger)).
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>

#include "store/job_store.h"
#include "store/pg_connection.h"
#include "support/pg_server.h"

namespace vb::store_test {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "vbstore-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    m_path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(m_path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (m_path / name).string(); }

 private:
  std::filesystem::path m_path;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline JobSpec make_spec(const std::string& id, const std::string& prompt = "a cat surfing") {
  JobSpec spec;
  spec.id = id;
  spec.prompt = prompt;
  return spec;
}

inline std::vector<JobSpec> make_specs(int count, const std::string& prefix = "job-") {
  std::vector<JobSpec> specs;
  specs.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    specs.push_back(make_spec(prefix + std::to_string(i), "prompt number " + std::to_string(i)));
  }
  return specs;
}

inline std::unique_ptr<JobStore> open_store(const std::string& path,
                                            SyncMode sync = SyncMode::normal) {
  auto store = JobStore::open(path, sync);
  INFO((store ? std::string() : store.error().describe()));
  REQUIRE(store.has_value());
  return std::move(*store);
}

// Runs body(0), ..., body(count - 1) on a thread each and waits for them all.
template <typename Body>
void on_threads(int count, Body body) {
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back(body, i);
  }
  for (auto& thread : threads) {
    thread.join();
  }
}

inline Transition step(std::int64_t row_id, JobState from, JobState to, Millis at = 1000) {
  Transition t;
  t.row_id = row_id;
  t.from = from;
  t.to = to;
  t.at = at;
  return t;
}

// A worker's lease lasts this long in the lease tests (register_worker's ttl).
inline constexpr Millis k_lease_ttl = 60000;

// The work of provider "sim" (of one batch, or of all).
inline WorkScope sim_scope(std::optional<std::string> batch = std::nullopt) {
  return WorkScope{"sim", true, std::move(batch)};
}

inline std::int64_t row_of(JobStore& store, const std::string& batch, const std::string& id) {
  auto job = store.find_job(batch, id);
  REQUIRE(job.has_value());
  REQUIRE(job->has_value());
  return (*job)->row_id;
}

// A new SQLite ledger file in a temporary folder.
class SqliteLedger {
 public:
  std::string location() const { return m_dir.file("ledger.db"); }
  // Rows of `table`, read beside the store.
  std::int64_t rows(const std::string& table) const {
    SQLite::Database db(location(), SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT count(*) FROM " + table).getInt64();
  }
  void exec(const std::string& sql) const {
    SQLite::Database db(location(), SQLite::OPEN_READWRITE);
    db.exec(sql);
  }

 private:
  TempDir m_dir;
};

// A new database on this test process's throwaway PostgreSQL server (support/pg_server.h).
class PgLedger {
 public:
  PgLedger() : m_url(test::fresh_pg_database()) {}
  const std::string& location() const { return m_url; }
  std::int64_t rows(const std::string& table) const {
    auto result = connection().exec("SELECT count(*) FROM " + table);
    INFO((result ? std::string() : result.error().describe()));
    REQUIRE(result.has_value());
    return result->int64(0, 0);
  }
  void exec(const std::string& sql) const {
    auto result = connection().exec(sql);
    INFO((result ? std::string() : result.error().describe()));
    REQUIRE(result.has_value());
  }

 private:
  store_detail::PgConnection& connection() const {
    if (!m_connection) {
      auto connected = store_detail::PgConnection::connect(m_url, m_url);
      INFO((connected ? std::string() : connected.error().describe()));
      REQUIRE(connected.has_value());
      m_connection = std::move(*connected);
    }
    return *m_connection;
  }

  std::string m_url;
  mutable std::unique_ptr<store_detail::PgConnection> m_connection;
};

}  // namespace vb::store_test
