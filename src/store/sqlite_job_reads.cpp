// The read side of SqliteJobStore: queries that never write. Each runs as one
// statement, so it sees one consistent snapshot (WAL), never half a transition.
#include <algorithm>

#include "store/row_reading.h"
#include "store/sqlite_job_store.h"
#include "store/sqlite_util.h"

namespace vb::store_detail {

namespace {

// A 100k-job report spent more time moving records (vector growth) than reading them: each
// row is read into its final place, in a vector sized up front by `expected` (a hint).
Result<std::vector<JobRecord>> read_rows(SQLite::Statement& query, const std::string& path,
                                         std::int64_t expected) {
  std::vector<JobRecord> jobs;
  jobs.reserve(static_cast<std::size_t>(std::max<std::int64_t>(expected, 0)));
  while (query.executeStep()) {
    VB_TRY(read_job_row(SqliteRow(query), path, jobs.emplace_back()));
  }
  return jobs;
}

}  // namespace

Result<std::vector<JobRecord>> SqliteJobStore::read_jobs(SQLite::Statement& query) {
  return read_rows(query, m_path, 0);
}

Result<std::vector<JobRecord>> SqliteJobStore::jobs_in_states(std::span<const JobState> states,
                                                              std::int64_t after_row_id,
                                                              int limit) {
  if (states.empty() || limit <= 0) {
    return std::vector<JobRecord>{};
  }
  return guard_sql(m_path, [&]() -> Result<std::vector<JobRecord>> {
    std::string sql = std::string(k_job_select) + "WHERE j.id > ?1 AND j.state IN (";
    for (std::size_t i = 0; i < states.size(); ++i) {
      sql += (i == 0 ? "?" : ", ?") + std::to_string(i + 3);
    }
    sql += ") ORDER BY j.id LIMIT ?2";
    SQLite::Statement query(*m_db, sql);
    query.bind(1, after_row_id);
    query.bind(2, limit);
    for (std::size_t i = 0; i < states.size(); ++i) {
      query.bind(static_cast<int>(i) + 3, to_string(states[i]));
    }
    return read_jobs(query);
  });
}

Result<std::optional<JobRecord>> SqliteJobStore::find_job(const std::string& batch,
                                                          const std::string& job_id) {
  return guard_sql(m_path, [&]() -> Result<std::optional<JobRecord>> {
    SQLite::Statement query(*m_db,
                            std::string(k_job_select) + "WHERE b.name = ?1 AND j.job_key = ?2");
    query.bind(1, batch);
    query.bind(2, job_id);
    auto jobs = VB_TRY(read_jobs(query));
    if (jobs.empty()) {
      return std::optional<JobRecord>{};
    }
    return std::optional<JobRecord>{std::move(jobs.front())};
  });
}

namespace {

// Only the filters that are set appear in the text: "?1 IS NULL OR ..." would stop the
// planner from using the indexes of schema 003, and `status` would read the whole table to
// list its few ambiguous jobs. Without a state filter the rows come batch by batch through
// jobs_by_batch, already in the order asked for: no sort.
std::string where_of(const JobFilter& filter) {
  std::string where;
  auto add = [&](const char* condition) {
    where += (where.empty() ? "WHERE " : "AND ") + std::string(condition) + " ";
  };
  if (filter.batch) {
    add("b.name = ?1");
  }
  if (filter.state) {
    add("j.state = ?2");
  }
  if (filter.mismatched) {
    add("c.verdict <> 'ok'");  // NULL (never checked) is no mismatch
  }
  return where;
}

void bind_filter(SQLite::Statement& statement, const JobFilter& filter) {
  if (filter.batch) {
    statement.bind(1, *filter.batch);
  }
  if (filter.state) {
    statement.bind(2, to_string(*filter.state));
  }
}

std::string sqlite_jobs_query(const JobFilter& filter) {
  return std::string(k_job_select) + where_of(filter) + "ORDER BY b.name, j.id";
}

}  // namespace

Result<std::vector<JobRecord>> SqliteJobStore::list_jobs(const JobFilter& filter) {
  return guard_sql(m_path, [&]() -> Result<std::vector<JobRecord>> {
    // The count (from an index, a few ms for 100k jobs) only sizes the result: a transition
    // committed in between costs one reallocation, never a wrong answer.
    SQLite::Statement count(*m_db,
                            "SELECT count(*) FROM jobs j JOIN batches b ON b.id = j.batch_id "
                            "LEFT JOIN video_checks c ON c.job_id = j.id " +
                                where_of(filter));
    SQLite::Statement query(*m_db, sqlite_jobs_query(filter));
    bind_filter(count, filter);
    bind_filter(query, filter);
    count.executeStep();
    const std::int64_t expected = count.getColumn(0).getInt64();
    count.reset();  // ends its read before the rows are read
    return read_rows(query, m_path, expected);
  });
}

Status SqliteJobStore::for_each_job(const JobFilter& filter,
                                    const std::function<Status(const JobRecord&)>& visit) {
  return guard_sql(m_path, [&]() -> Status {
    SQLite::Statement query(*m_db, sqlite_jobs_query(filter));
    bind_filter(query, filter);
    while (query.executeStep()) {
      JobRecord job;
      if (auto read = read_job_row(SqliteRow(query), m_path, job); !read) {
        return read;
      }
      if (auto visited = visit(job); !visited) {
        return visited;
      }
    }
    return {};
  });
}

Result<std::vector<StateCount>> SqliteJobStore::count_states() {
  return guard_sql(m_path, [&]() -> Result<std::vector<StateCount>> {
    SQLite::Statement query(*m_db,
                            "SELECT b.name, j.state, count(*) FROM jobs j "
                            "JOIN batches b ON b.id = j.batch_id GROUP BY b.name, j.state");
    std::vector<StateCount> counts;
    while (query.executeStep()) {
      auto state = VB_TRY(state_from_column(query.getColumn(1), m_path));
      counts.push_back({query.getColumn(0).getString(), state, query.getColumn(2).getInt64()});
    }
    // By batch name, then in the order of the state machine rather than alphabetically.
    std::ranges::sort(counts, [](const StateCount& a, const StateCount& b) {
      return a.batch != b.batch ? a.batch < b.batch : a.state < b.state;
    });
    return counts;
  });
}

Result<std::vector<MismatchCount>> SqliteJobStore::count_mismatched() {
  return guard_sql(m_path, [&]() -> Result<std::vector<MismatchCount>> {
    SQLite::Statement query(*m_db,
                            "SELECT b.name, count(*) FROM video_checks c "
                            "JOIN jobs j ON j.id = c.job_id JOIN batches b ON b.id = j.batch_id "
                            "WHERE c.verdict <> 'ok' GROUP BY b.name ORDER BY b.name");
    std::vector<MismatchCount> counts;
    while (query.executeStep()) {
      counts.push_back({query.getColumn(0).getString(), query.getColumn(1).getInt64()});
    }
    return counts;
  });
}

Result<std::int64_t> SqliteJobStore::latest_event_id() {
  return guard_sql(m_path, [&]() -> Result<std::int64_t> {
    return m_db->execAndGet("SELECT COALESCE(MAX(id), 0) FROM events").getInt64();
  });
}

Result<std::vector<EventRecord>> SqliteJobStore::events(std::optional<std::int64_t> row_id) {
  return guard_sql(m_path, [&]() -> Result<std::vector<EventRecord>> {
    // Two texts rather than "?1 IS NULL OR ...", which would stop the planner using events_by_job.
    SQLite::Statement query(*m_db,
                            std::string(k_event_select) +
                                (row_id ? "WHERE e.job_id = ?1 ORDER BY e.id" : "ORDER BY e.id"));
    if (row_id) {
      query.bind(1, *row_id);
    }
    return read_events(query);
  });
}

Result<std::vector<EventRecord>> SqliteJobStore::batch_events(const std::string& batch) {
  return guard_sql(m_path, [&]() -> Result<std::vector<EventRecord>> {
    SQLite::Statement query(*m_db, std::string(k_event_select) + "WHERE b.name = ?1 ORDER BY e.id");
    query.bind(1, batch);
    return read_events(query);
  });
}

Result<std::vector<EventRecord>> SqliteJobStore::read_events(SQLite::Statement& query) {
  std::vector<EventRecord> events;
  while (query.executeStep()) {
    auto event = VB_TRY(read_event_row(SqliteRow(query)));
    events.push_back(std::move(event));
  }
  return events;
}

Result<Millis> SqliteJobStore::last_entered(std::int64_t row_id, JobState state) {
  return guard_sql(m_path, [&]() -> Result<Millis> {
    SQLite::Statement query(*m_db,
                            "SELECT COALESCE(MAX(at), 0) FROM events WHERE job_id = ?1 AND "
                            "to_state = ?2");
    query.bind(1, row_id);
    query.bind(2, to_string(state));
    query.executeStep();
    return query.getColumn(0).getInt64();
  });
}

Result<std::vector<std::string>> SqliteJobStore::known_remote_ids(
    const std::vector<std::string>& remote_ids) {
  return guard_sql(m_path, [&]() -> Result<std::vector<std::string>> {
    SQLite::Statement query(*m_db, "SELECT 1 FROM jobs WHERE remote_id = ?1 LIMIT 1");
    std::vector<std::string> known;
    for (const auto& id : remote_ids) {
      query.reset();
      query.bind(1, id);
      if (query.executeStep()) {
        known.push_back(id);
      }
    }
    return known;
  });
}

Result<std::vector<JobRecord>> SqliteJobStore::jobs_with_prompts(
    const std::vector<std::string>& prompts) {
  if (prompts.empty()) {
    return std::vector<JobRecord>{};
  }
  return guard_sql(m_path, [&]() -> Result<std::vector<JobRecord>> {
    // One scan of the jobs against a temporary set, however many prompts.
    m_db->exec("CREATE TEMP TABLE IF NOT EXISTS wanted_prompts (prompt TEXT PRIMARY KEY)");
    m_db->exec("DELETE FROM temp.wanted_prompts");
    SQLite::Statement insert(*m_db, "INSERT OR IGNORE INTO temp.wanted_prompts VALUES (?1)");
    for (const auto& p : prompts) {
      insert.reset();
      insert.bind(1, p);
      insert.exec();
    }
    SQLite::Statement query(*m_db, std::string(k_job_select) +
                                       "WHERE j.prompt IN (SELECT prompt FROM temp.wanted_prompts) "
                                       "ORDER BY j.id");
    return read_jobs(query);
  });
}

}  // namespace vb::store_detail
