// JobStore::copy_ledger: a SQLite ledger into an empty PostgreSQL one (`vidbatch migrate`),
// every row id kept, then compared row for row before the one transaction commits.
#include <SQLiteCpp/SQLiteCpp.h>

#include <charconv>
#include <cstring>
#include <optional>

#include "store/pg_job_store.h"
#include "store/sqlite_job_store.h"
#include "store/sqlite_util.h"

namespace vb {

namespace store_detail {

namespace {

// The copied tables, parents first (foreign keys), with the columns both schemas share.
// Columns in `real` hold doubles: compared as numbers, since each side prints them its way.
struct CopySpec {
  const char* table;
  const char* key;  // the order of reading; "id" is an identity, continued after the copy
  const char* columns;
  const char* real;  // the one double column, or ""
};

constexpr CopySpec k_copied[] = {
    {"batches", "id", "id, name, created_at", ""},
    {"jobs", "id",
     "id, batch_id, job_key, spec_json, model, size, seconds, orientation, prompt, provider, "
     "state, attempt, remote_id, progress, not_before, created_at, submitted_at, completed_at, "
     "downloaded_at, output_path, bytes, sha256, error_code, error_message, polls, retries, "
     "updated_at",
     "progress"},
    {"events", "id", "id, job_id, at, from_state, to_state, progress, http_status, message, worker",
     "progress"},
    {"characters", "id", "id, provider, name, video_path, state, remote_id, created_at, updated_at",
     ""},
    {"unclaimed_videos", "id",
     "id, provider, remote_id, job_id, status, created_at, seen_at, take_path", ""},
    {"video_checks", "job_id",
     "job_id, checked_at, verdict, mismatches, probed, container, has_video, video_codec, "
     "duration_ms, width, height, frame_rate, has_audio, audio_codec",
     "frame_rate"},
    {"download_urls", "job_id", "job_id, url, expires_at, recorded_at", ""},
};

constexpr std::size_t k_chunk = 200;  // rows per pipelined round trip

std::vector<std::string> split_columns(const char* columns) {
  std::vector<std::string> names;
  std::string current;
  for (const char* c = columns;; ++c) {
    if (*c == ',' || *c == '\0') {
      names.push_back(current);
      current.clear();
      if (*c == '\0') {
        return names;
      }
    } else if (*c != ' ') {
      current += *c;
    }
  }
}

std::string shortest(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)ec;
  return std::string(buffer, end);
}

// A row as comparable text: each value, or nullopt for NULL.
using Row = std::vector<std::optional<std::string>>;

Row sqlite_row(const SQLite::Statement& query, const std::vector<bool>& real) {
  Row row;
  for (std::size_t c = 0; c < real.size(); ++c) {
    const SQLite::Column column = query.getColumn(static_cast<int>(c));
    if (column.isNull()) {
      row.emplace_back();
    } else {
      row.emplace_back(real[c] ? shortest(column.getDouble()) : column.getString());
    }
  }
  return row;
}

Row pg_row(const PgRow& source, const std::vector<bool>& real) {
  Row row;
  for (std::size_t c = 0; c < real.size(); ++c) {
    const int column = static_cast<int>(c);
    if (source.is_null(column)) {
      row.emplace_back();
    } else {
      row.emplace_back(real[c] ? shortest(source.real(column)) : source.text(column));
    }
  }
  return row;
}

void add_to_checksum(std::uint64_t& hash, const Row& row) {
  auto mix = [&hash](unsigned char byte) {
    hash ^= byte;
    hash *= 1099511628211ULL;
  };
  for (const auto& value : row) {
    if (value) {
      for (char c : *value) {
        mix(static_cast<unsigned char>(c));
      }
      mix(0x1f);
    } else {
      mix(0x00);
    }
  }
  mix(0x1e);
}

std::string select_sql(const CopySpec& spec) {
  return std::string("SELECT ") + spec.columns + " FROM " + spec.table + " ORDER BY " + spec.key;
}

std::string placeholders(std::size_t count) {
  std::string text;
  for (std::size_t i = 1; i <= count; ++i) {
    text += (i == 1 ? "$" : ", $") + std::to_string(i);
  }
  return text;
}

class Copier {
 public:
  Copier(SQLite::Database& source, PgConnection& target, std::string from)
      : m_source(source), m_target(target), m_from(std::move(from)) {}

  Result<CopiedTable> copy(const CopySpec& spec) {
    const std::vector<std::string> names = split_columns(spec.columns);
    std::vector<bool> real;
    for (const auto& name : names) {
      real.push_back(name == spec.real);
    }
    const std::string insert = std::string("INSERT INTO ") + spec.table + " (" + spec.columns +
                               ") VALUES (" + placeholders(names.size()) + ")";
    SQLite::Statement read(m_source, select_sql(spec));
    CopiedTable copied{spec.table, 0, 14695981039346656037ULL};
    bool more = true;
    while (more) {
      PgPipeline pipeline(m_target);
      std::size_t queued = 0;
      while (queued < k_chunk && (more = read.executeStep())) {
        PgParams params;
        for (const auto& value : sqlite_row(read, real)) {
          params.add(value);
        }
        VB_TRY(pipeline.send(insert, params));
        ++queued;
      }
      VB_TRY(pipeline.sync());
      copied.rows += static_cast<std::int64_t>(queued);
    }
    if (std::strcmp(spec.key, "id") == 0) {
      // The identity continues after the copied ids.
      VB_TRY(m_target.exec(std::string("SELECT setval(pg_get_serial_sequence('") + spec.table +
                           "', 'id'), coalesce(max(id), 0) + 1, false) FROM " + spec.table));
    }
    VB_TRY(compare(spec, real, copied));
    return copied;
  }

 private:
  // Reads both sides again in key order: same rows, same values, or an error naming the first
  // difference. The checksum is of what the target holds.
  Status compare(const CopySpec& spec, const std::vector<bool>& real, CopiedTable& copied) {
    SQLite::Statement source(m_source, select_sql(spec));
    std::int64_t rows = 0;
    auto mismatch = [&](const std::string& what) {
      return fail(ErrorCode::database,
                  "the copy of table " + std::string(spec.table) + " differs from " + m_from +
                      " at row " + std::to_string(rows + 1) + " (" + what +
                      "); nothing was written",
                  m_target.location());
    };
    Status streamed =
        m_target.stream(select_sql(spec), PgParams(), [&](const PgRow& target_row) -> Status {
          if (!source.executeStep()) {
            return mismatch("an extra row in the target");
          }
          const Row want = sqlite_row(source, real);
          const Row got = pg_row(target_row, real);
          if (want != got) {
            return mismatch(std::string(spec.key) + " " + want.front().value_or("NULL"));
          }
          add_to_checksum(copied.checksum, got);
          ++rows;
          return {};
        });
    if (!streamed) {
      return streamed;
    }
    if (source.executeStep()) {
      return mismatch("a row missing from the target");
    }
    if (rows != copied.rows) {
      return mismatch(std::to_string(rows) + " rows read back, " + std::to_string(copied.rows) +
                      " copied");
    }
    return {};
  }

  SQLite::Database& m_source;
  PgConnection& m_target;
  std::string m_from;
};

Result<std::int64_t> rows_in_target(PgConnection& target) {
  auto counted = VB_TRY(
      target.exec("SELECT (SELECT count(*) FROM batches) + (SELECT count(*) FROM jobs) + "
                  "(SELECT count(*) FROM events) + (SELECT count(*) FROM characters) + "
                  "(SELECT count(*) FROM unclaimed_videos) + (SELECT count(*) FROM video_checks) + "
                  "(SELECT count(*) FROM download_urls)"));
  return counted.int64(0, 0);
}

Result<std::vector<CopiedTable>> copy_into(SQLite::Database& source, PgConnection& target,
                                           const std::string& from) {
  auto transaction = VB_TRY(PgTransaction::begin(target));
  // Counted under the lock of a table every writer takes: no import can slip in meanwhile.
  VB_TRY(target.exec("LOCK TABLE batches IN EXCLUSIVE MODE"));
  auto held = VB_TRY(rows_in_target(target));
  if (held > 0) {
    return fail(ErrorCode::conflict,
                "the target ledger already holds " + std::to_string(held) +
                    " rows; migrate into a database without a vidbatch ledger. Nothing was "
                    "written",
                target.location());
  }
  Copier copier(source, target, from);
  std::vector<CopiedTable> tables;
  for (const CopySpec& spec : k_copied) {
    auto copied = VB_TRY(copier.copy(spec));
    tables.push_back(std::move(copied));
  }
  VB_TRY(transaction.commit());
  return tables;
}

}  // namespace

}  // namespace store_detail

Result<std::vector<CopiedTable>> JobStore::copy_ledger(const std::string& from,
                                                       const std::string& to) {
  using namespace store_detail;
  if (is_server_url(from) || !is_server_url(to)) {
    return fail(ErrorCode::invalid_input,
                "a ledger copy goes from a SQLite file to a postgresql:// URL",
                display_location(from) + " -> " + display_location(to));
  }
  // Opening migrates an older source to the current schema first (and checks it is a ledger).
  VB_TRY(open_sqlite_for_reading(from));
  auto target = VB_TRY(PgConnection::connect(to, display_location(to)));
  VB_TRY(pg_migrate(*target));
  return guard_sql(from, [&]() -> Result<std::vector<CopiedTable>> {
    SQLite::Database source(from, SQLite::OPEN_READONLY);
    // One read transaction: every table from the same snapshot of the source.
    SQLite::Transaction snapshot(source, SQLite::TransactionBehavior::DEFERRED);
    return copy_into(source, *target, from);
  });
}

}  // namespace vb
