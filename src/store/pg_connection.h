// Internal to src/store: a small RAII layer over libpq (PostgreSQL's C client), the one place
// where libpq errors become vb::Error. Values travel as text (libpq's text format): int64
// milliseconds, states and JSON are text in our schema anyway.
//
// PgConnection owns a PGconn; after a lost connection (server restart, network, an idle
// transaction killed by the server) the next call reconnects, never silently mid-call: the
// call that saw the loss fails, and for a COMMIT its outcome is unknown. Prepared statements
// are prepared on first use on each session. PgTransaction rolls back unless committed.
// PgPipeline sends many statements and reads their answers in one round trip (libpq pipeline
// mode). Not thread-safe: one connection per thread.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "util/error.h"

namespace vb::store_detail {

struct PgResultFree {
  void operator()(PGresult* result) const { PQclear(result); }
};

// The rows of one answer; values read as text and converted.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : m_result(result) {}
  int rows() const { return PQntuples(m_result.get()); }
  // Rows changed by an INSERT, UPDATE or DELETE without RETURNING.
  std::int64_t affected() const;
  // The command tag ("COMMIT", "UPDATE 3"...).
  std::string command() const { return PQcmdStatus(m_result.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(m_result.get(), row, column); }
  std::string text(int row, int column) const;
  std::int64_t int64(int row, int column) const;
  int integer(int row, int column) const { return static_cast<int>(int64(row, column)); }
  double real(int row, int column) const;
  bool boolean(int row, int column) const;

 private:
  std::unique_ptr<PGresult, PgResultFree> m_result;
};

// One row of a PgResult, for store/row_reading.h.
class PgRow {
 public:
  PgRow(const PgResult& result, int row) : m_result(result), m_row(row) {}
  std::int64_t int64(int column) const { return m_result.int64(m_row, column); }
  int integer(int column) const { return m_result.integer(m_row, column); }
  std::string text(int column) const { return m_result.text(m_row, column); }
  bool is_null(int column) const { return m_result.is_null(m_row, column); }
  double real(int column) const { return m_result.real(m_row, column); }

 private:
  const PgResult& m_result;
  int m_row;
};

// The parameters of one statement ($1, $2...), as text; null() is SQL NULL.
class PgParams {
 public:
  PgParams& add(std::string_view value);
  PgParams& add(const char* value) { return add(std::string_view(value)); }
  PgParams& add(const std::string& value) { return add(std::string_view(value)); }
  PgParams& add(std::int64_t value) { return add(std::to_string(value)); }
  PgParams& add(int value) { return add(std::to_string(value)); }
  PgParams& add(double value);
  PgParams& add(bool value) { return add(value ? "true" : "false"); }
  PgParams& null();
  // A text[] parameter: each element quoted, so any text travels as it is.
  PgParams& add_array(const std::vector<std::string>& values);
  template <typename T>
  PgParams& add(const std::optional<T>& value) {
    return value ? add(*value) : null();
  }

  int size() const { return static_cast<int>(m_values.size()); }
  // Pointers into this object: valid while it lives unchanged.
  const char* const* values() const;

 private:
  std::vector<std::optional<std::string>> m_values;
  mutable std::vector<const char*> m_pointers;
};

// A statement prepared once per session under `name`.
struct PgStatement {
  const char* name;
  const char* sql;
};

class PgConnection {
 public:
  // Connects to `url` (a libpq URI; what it leaves out comes from the PG* environment
  // variables) and applies the session settings vidbatch relies on. `location` names the
  // ledger in errors (the URL without its password).
  static Result<std::unique_ptr<PgConnection>> connect(const std::string& url,
                                                       std::string location);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  const std::string& location() const { return m_location; }

  // Runs `sql` (one or more statements without parameters); the last statement's answer.
  Result<PgResult> exec(const std::string& sql);
  Result<PgResult> exec(const std::string& sql, const PgParams& params);
  Result<PgResult> exec(const PgStatement& statement, const PgParams& params);

  // Sends `sql` and hands each row to `visit` as it arrives (single-row mode: memory stays
  // flat). A failed visit cancels the query and is returned.
  template <typename Visit>
  Status stream(const std::string& sql, const PgParams& params, Visit&& visit);

  // Converts a failed answer (or the connection's state, when `result` is null) to an Error.
  Error error_of(const PGresult* result) const;
  // Reconnects when the connection was lost; fails when the server cannot be reached.
  Status ensure_connected();
  // Rolls back an open or failed transaction block left by an error; best effort.
  void abandon_transaction();
  // Prepares `statement` on this session once: a session keeps its prepared statements.
  Status prepare(const PgStatement& statement);

  PGconn* raw() { return m_conn; }

 private:
  PgConnection(PGconn* conn, std::string url, std::string location);
  Result<PgResult> take(PGresult* result);
  Status start_stream(const std::string& sql, const PgParams& params);
  void cancel_stream();

  PGconn* m_conn;
  std::string m_url;
  std::string m_location;
  std::unordered_set<std::string> m_prepared;  // on the current session
};

// A transaction: BEGIN on creation, ROLLBACK unless commit() succeeded.
class PgTransaction {
 public:
  static Result<PgTransaction> begin(PgConnection& connection);
  PgTransaction(PgTransaction&& other) noexcept;
  PgTransaction& operator=(PgTransaction&&) = delete;
  ~PgTransaction();
  Status commit();

 private:
  explicit PgTransaction(PgConnection& connection) : m_connection(&connection) {}
  PgConnection* m_connection;  // null once committed, rolled back or moved from
};

// Pipeline mode: queue statements, then sync() sends them at once and collects every answer
// in order. A failed statement makes the server skip the rest up to the sync; sync() then
// fails with that statement's error. Leaves pipeline mode when destroyed.
class PgPipeline {
 public:
  explicit PgPipeline(PgConnection& connection);
  ~PgPipeline();
  PgPipeline(const PgPipeline&) = delete;
  PgPipeline& operator=(const PgPipeline&) = delete;

  Status send(const std::string& sql, const PgParams& params);
  Status send(const PgStatement& statement, const PgParams& params);
  // Sends what is queued and returns one answer per statement queued since the last sync.
  Result<std::vector<PgResult>> sync();

 private:
  PgConnection& m_connection;
  bool m_active = false;
  int m_queued = 0;
};

// The outcome of a call whose rows do not matter.
template <typename T>
Status status_of(Result<T>&& result) {
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return {};
}

// ---- inline implementation ----

template <typename Visit>
Status PgConnection::stream(const std::string& sql, const PgParams& params, Visit&& visit) {
  if (auto started = start_stream(sql, params); !started) {
    return started;
  }
  Status outcome;
  while (PGresult* raw_result = PQgetResult(m_conn)) {
    PgResult result(raw_result);
    const ExecStatusType status = PQresultStatus(raw_result);
    if (!outcome) {
      continue;  // draining after a failure
    }
    if (status == PGRES_SINGLE_TUPLE) {
      if (auto visited = visit(PgRow(result, 0)); !visited) {
        outcome = std::unexpected(std::move(visited.error()));
        cancel_stream();
      }
    } else if (status != PGRES_TUPLES_OK) {
      outcome = std::unexpected(error_of(raw_result));
    }
  }
  return outcome;
}

}  // namespace vb::store_detail
