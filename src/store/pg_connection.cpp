#include "store/pg_connection.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <utility>

#include "util/text_util.h"

namespace vb::store_detail {

namespace {

// A server that stops answering ends the connection instead of hanging a worker: keepalives
// notice a dead host; a transaction left idle (a stopped process holding a row lock) is ended
// by the server after a minute, its locks freed for the other workers.
constexpr const char* k_connect_keys[] = {"application_name",
                                          "connect_timeout",
                                          "keepalives_idle",
                                          "keepalives_interval",
                                          "keepalives_count",
                                          "dbname",
                                          nullptr};
constexpr const char* k_session_sql =
    "SET idle_in_transaction_session_timeout = '60s'; SET client_min_messages = warning";

void ignore_notice(void*, const char*) {}

std::string trimmed(const char* text) {
  return std::string(trim(text == nullptr ? "" : text));
}

// What a user can do about an error of this SQLSTATE ("" when nothing particular).
std::string hint_for(const std::string& sqlstate) {
  if (sqlstate.starts_with("08") || sqlstate.starts_with("57P")) {
    return "; the connection to the server was lost, so the outcome of this call is unknown "
           "(the next call reconnects)";
  }
  if (sqlstate == "25006") {
    return "; this ledger was opened for reading only";
  }
  if (sqlstate == "40001" || sqlstate == "40P01") {
    return "; a concurrent transaction conflicted with this one; nothing was written, try again";
  }
  if (sqlstate == "53300") {
    return "; the server has no free connection: raise max_connections or run fewer workers";
  }
  if (sqlstate == "53100") {
    return "; free some disk space on the server, then resume";
  }
  if (sqlstate == "3D000") {
    return "; create the database first (createdb NAME), then give its URL";
  }
  if (sqlstate.starts_with("28")) {
    return "; check the user and password (in the URL, PGPASSWORD or ~/.pgpass)";
  }
  if (sqlstate == "55P03" || sqlstate == "25P03") {
    return "; another worker held a lock too long; try again";
  }
  return "";
}

}  // namespace

// ---- PgResult ----

std::int64_t PgResult::affected() const {
  const char* tuples = PQcmdTuples(m_result.get());
  std::int64_t value = 0;
  std::from_chars(tuples, tuples + std::strlen(tuples), value);
  return value;
}

std::string PgResult::text(int row, int column) const {
  return std::string(PQgetvalue(m_result.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(m_result.get(), row, column)));
}

std::int64_t PgResult::int64(int row, int column) const {
  const char* value = PQgetvalue(m_result.get(), row, column);
  std::int64_t number = 0;
  std::from_chars(value, value + PQgetlength(m_result.get(), row, column), number);
  return number;
}

double PgResult::real(int row, int column) const {
  const char* value = PQgetvalue(m_result.get(), row, column);
  double number = 0;
  std::from_chars(value, value + PQgetlength(m_result.get(), row, column), number);
  return number;
}

bool PgResult::boolean(int row, int column) const {
  return PQgetvalue(m_result.get(), row, column)[0] == 't';
}

// ---- PgParams ----

PgParams& PgParams::add(std::string_view value) {
  m_values.emplace_back(std::string(value));
  return *this;
}

PgParams& PgParams::add(double value) {
  char buffer[64];
  // Shortest text that reads back as the same double.
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)ec;
  return add(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
}

PgParams& PgParams::add_array(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (const std::string& value : values) {
    literal += literal.size() == 1 ? "\"" : ",\"";
    for (char c : value) {
      if (c == '"' || c == '\\') {
        literal += '\\';
      }
      literal += c;
    }
    literal += '"';
  }
  literal += '}';
  return add(literal);
}

PgParams& PgParams::null() {
  m_values.emplace_back(std::nullopt);
  return *this;
}

const char* const* PgParams::values() const {
  m_pointers.clear();
  for (const auto& value : m_values) {
    m_pointers.push_back(value ? value->c_str() : nullptr);
  }
  return m_pointers.data();
}

// ---- PgConnection ----

PgConnection::PgConnection(PGconn* conn, std::string url, std::string location)
    : m_conn(conn), m_url(std::move(url)), m_location(std::move(location)) {}

PgConnection::~PgConnection() {
  PQfinish(m_conn);
}

Result<std::unique_ptr<PgConnection>> PgConnection::connect(const std::string& url,
                                                            std::string location) {
  const char* values[] = {"vidbatch", "10", "30", "10", "3", url.c_str(), nullptr};
  PGconn* raw = PQconnectdbParams(k_connect_keys, values, 1);
  if (raw == nullptr) {
    return fail(ErrorCode::database, "cannot allocate a PostgreSQL connection", location);
  }
  std::unique_ptr<PgConnection> connection(new PgConnection(raw, url, std::move(location)));
  if (PQstatus(raw) != CONNECTION_OK) {
    return fail(ErrorCode::database,
                "cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(raw)) +
                    "; check the URL and that the server runs",
                connection->m_location);
  }
  PQsetNoticeProcessor(raw, ignore_notice, nullptr);
  VB_TRY(connection->exec(k_session_sql));
  return connection;
}

Error PgConnection::error_of(const PGresult* result) const {
  const char* state = result == nullptr ? nullptr : PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const std::string sqlstate = state == nullptr ? "" : state;
  std::string text =
      trimmed(result == nullptr ? PQerrorMessage(m_conn) : PQresultErrorMessage(result));
  if (text.empty()) {
    text = trimmed(PQerrorMessage(m_conn));
  }
  std::string hint = hint_for(sqlstate);
  if (hint.empty() && PQstatus(m_conn) == CONNECTION_BAD) {
    hint = hint_for("08000");
  }
  // A unique or foreign key violation is a writer racing another: a conflict, not a fault.
  const ErrorCode code = sqlstate == "23505" || sqlstate == "23503" ? ErrorCode::conflict
                                                                    : ErrorCode::database;
  return Error{code, "PostgreSQL: " + text + hint, m_location};
}

Status PgConnection::ensure_connected() {
  if (PQstatus(m_conn) == CONNECTION_OK) {
    return {};
  }
  PQreset(m_conn);
  m_prepared.clear();
  if (PQstatus(m_conn) != CONNECTION_OK) {
    return fail(ErrorCode::database,
                "lost the connection to PostgreSQL and cannot reconnect: " +
                    trimmed(PQerrorMessage(m_conn)),
                m_location);
  }
  PQsetNoticeProcessor(m_conn, ignore_notice, nullptr);
  return status_of(exec(k_session_sql));
}

void PgConnection::abandon_transaction() {
  const PGTransactionStatusType status = PQtransactionStatus(m_conn);
  if (status == PQTRANS_INTRANS || status == PQTRANS_INERROR) {
    PQclear(PQexec(m_conn, "ROLLBACK"));
  }
}

Result<PgResult> PgConnection::take(PGresult* raw_result) {
  PgResult result(raw_result);
  const ExecStatusType status = PQresultStatus(raw_result);
  if (raw_result == nullptr || (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)) {
    return std::unexpected(error_of(raw_result));
  }
  return result;
}

Result<PgResult> PgConnection::exec(const std::string& sql) {
  VB_TRY(ensure_connected());
  return take(PQexec(m_conn, sql.c_str()));
}

Result<PgResult> PgConnection::exec(const std::string& sql, const PgParams& params) {
  VB_TRY(ensure_connected());
  return take(PQexecParams(m_conn, sql.c_str(), params.size(), nullptr, params.values(), nullptr,
                           nullptr, 0));
}

Status PgConnection::prepare(const PgStatement& statement) {
  if (auto connected = ensure_connected(); !connected) {
    return connected;
  }
  if (m_prepared.contains(statement.name)) {
    return {};
  }
  VB_TRY(take(PQprepare(m_conn, statement.name, statement.sql, 0, nullptr)));
  m_prepared.insert(statement.name);
  return {};
}

Result<PgResult> PgConnection::exec(const PgStatement& statement, const PgParams& params) {
  VB_TRY(prepare(statement));
  return take(
      PQexecPrepared(m_conn, statement.name, params.size(), params.values(), nullptr, nullptr, 0));
}

Status PgConnection::start_stream(const std::string& sql, const PgParams& params) {
  if (auto connected = ensure_connected(); !connected) {
    return connected;
  }
  if (PQsendQueryParams(m_conn, sql.c_str(), params.size(), nullptr, params.values(), nullptr,
                        nullptr, 0) == 0 ||
      PQsetSingleRowMode(m_conn) == 0) {
    return std::unexpected(error_of(nullptr));
  }
  return {};
}

void PgConnection::cancel_stream() {
  if (PGcancel* cancel = PQgetCancel(m_conn)) {
    char ignored[256];
    PQcancel(cancel, ignored, sizeof ignored);
    PQfreeCancel(cancel);
  }
}

// ---- PgTransaction ----

Result<PgTransaction> PgTransaction::begin(PgConnection& connection) {
  VB_TRY(connection.exec("BEGIN"));
  return PgTransaction(connection);
}

PgTransaction::PgTransaction(PgTransaction&& other) noexcept
    : m_connection(std::exchange(other.m_connection, nullptr)) {}

PgTransaction::~PgTransaction() {
  if (m_connection != nullptr) {
    m_connection->abandon_transaction();
  }
}

Status PgTransaction::commit() {
  PgConnection* connection = std::exchange(m_connection, nullptr);
  auto committed = VB_TRY(connection->exec("COMMIT"));
  // COMMIT of a transaction that had failed answers ROLLBACK, without an error.
  if (committed.command() != "COMMIT") {
    return fail(ErrorCode::database, "PostgreSQL rolled the transaction back; nothing was written",
                connection->location());
  }
  return {};
}

// ---- PgPipeline ----

PgPipeline::PgPipeline(PgConnection& connection) : m_connection(connection) {
  if (m_connection.ensure_connected()) {
    m_active = PQenterPipelineMode(m_connection.raw()) == 1;
  }
}

PgPipeline::~PgPipeline() {
  if (!m_active) {
    return;
  }
  if (m_queued > 0) {
    (void)sync();  // drains the answers nobody asked for
  }
  PQexitPipelineMode(m_connection.raw());
}

Status PgPipeline::send(const std::string& sql, const PgParams& params) {
  if (!m_active || PQsendQueryParams(m_connection.raw(), sql.c_str(), params.size(), nullptr,
                                     params.values(), nullptr, nullptr, 0) == 0) {
    return std::unexpected(m_connection.error_of(nullptr));
  }
  ++m_queued;
  return {};
}

Status PgPipeline::send(const PgStatement& statement, const PgParams& params) {
  if (!m_active || PQsendQueryPrepared(m_connection.raw(), statement.name, params.size(),
                                       params.values(), nullptr, nullptr, 0) == 0) {
    return std::unexpected(m_connection.error_of(nullptr));
  }
  ++m_queued;
  return {};
}

Result<std::vector<PgResult>> PgPipeline::sync() {
  PGconn* conn = m_connection.raw();
  const int expected = std::exchange(m_queued, 0);
  if (!m_active || PQpipelineSync(conn) == 0) {
    return std::unexpected(m_connection.error_of(nullptr));
  }
  std::vector<PgResult> answers;
  answers.reserve(static_cast<std::size_t>(expected));
  std::optional<Error> first_error;
  for (;;) {
    PGresult* raw_result = PQgetResult(conn);
    if (raw_result == nullptr) {
      if (PQstatus(conn) == CONNECTION_BAD) {
        m_active = false;
        return std::unexpected(first_error ? *first_error : m_connection.error_of(nullptr));
      }
      continue;  // the end of one statement's answers
    }
    const ExecStatusType status = PQresultStatus(raw_result);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(raw_result);
      break;
    }
    if (status == PGRES_FATAL_ERROR && !first_error) {
      first_error = m_connection.error_of(raw_result);
    }
    answers.emplace_back(raw_result);
  }
  if (first_error) {
    return std::unexpected(std::move(*first_error));
  }
  if (static_cast<int>(answers.size()) != expected) {
    return fail(ErrorCode::database,
                "PostgreSQL answered " + std::to_string(answers.size()) + " of " +
                    std::to_string(expected) + " pipelined statements",
                m_connection.location());
  }
  return answers;
}

}  // namespace vb::store_detail
