// The read side of PgJobStore: queries that never write. Each runs as one statement, so it
// sees one snapshot (READ COMMITTED), never half a transition.
#include <algorithm>
#include <unordered_set>

#include "store/pg_job_store.h"
#include "store/row_reading.h"

namespace vb::store_detail {

namespace {

std::vector<std::string> state_names(std::span<const JobState> states) {
  std::vector<std::string> names;
  for (JobState s : states) {
    names.emplace_back(to_string(s));
  }
  return names;
}

// Only the filters that are set appear in the text, so the planner can use the indexes.
std::string pg_jobs_query(const JobFilter& filter) {
  std::string where;
  int parameter = 0;
  auto add = [&](const std::string& condition) {
    where += (where.empty() ? "WHERE " : "AND ") + condition + " ";
  };
  if (filter.batch) {
    add("b.name = $" + std::to_string(++parameter));
  }
  if (filter.state) {
    add("j.state = $" + std::to_string(++parameter));
  }
  if (filter.mismatched) {
    add("c.verdict <> 'ok'");  // NULL (never checked) is no mismatch
  }
  // Byte order of names, as SQLite sorts them, whatever the database's collation.
  return std::string(k_job_select) + where + "ORDER BY b.name COLLATE \"C\", j.id";
}

PgParams filter_params(const JobFilter& filter) {
  PgParams params;
  if (filter.batch) {
    params.add(*filter.batch);
  }
  if (filter.state) {
    params.add(to_string(*filter.state));
  }
  return params;
}

}  // namespace

Result<std::vector<JobRecord>> PgJobStore::query_jobs(const std::string& sql,
                                                      const PgParams& params) {
  auto rows = VB_TRY(m_db->exec(sql, params));
  std::vector<JobRecord> jobs(static_cast<std::size_t>(rows.rows()));
  for (int r = 0; r < rows.rows(); ++r) {
    VB_TRY(read_job_row(PgRow(rows, r), location(), jobs[r]));
  }
  return jobs;
}

Result<std::vector<EventRecord>> PgJobStore::query_events(const std::string& sql,
                                                          const PgParams& params) {
  auto rows = VB_TRY(m_db->exec(sql, params));
  std::vector<EventRecord> events;
  events.reserve(static_cast<std::size_t>(rows.rows()));
  for (int r = 0; r < rows.rows(); ++r) {
    auto event = VB_TRY(read_event_row(PgRow(rows, r)));
    events.push_back(std::move(event));
  }
  return events;
}

Result<std::vector<JobRecord>> PgJobStore::jobs_in_states(std::span<const JobState> states,
                                                          std::int64_t after_row_id, int limit) {
  if (states.empty() || limit <= 0) {
    return std::vector<JobRecord>{};
  }
  return query_jobs(std::string(k_job_select) +
                        "WHERE j.id > $1 AND j.state = ANY($3::text[]) ORDER BY j.id LIMIT $2",
                    PgParams().add(after_row_id).add(limit).add_array(state_names(states)));
}

Result<std::optional<JobRecord>> PgJobStore::find_job(const std::string& batch,
                                                      const std::string& job_id) {
  auto jobs = VB_TRY(query_jobs(std::string(k_job_select) + "WHERE b.name = $1 AND j.job_key = $2",
                                PgParams().add(batch).add(job_id)));
  if (jobs.empty()) {
    return std::optional<JobRecord>();
  }
  return std::optional<JobRecord>(std::move(jobs.front()));
}

Result<std::vector<JobRecord>> PgJobStore::list_jobs(const JobFilter& filter) {
  return query_jobs(pg_jobs_query(filter), filter_params(filter));
}

Status PgJobStore::for_each_job(const JobFilter& filter,
                                const std::function<Status(const JobRecord&)>& visit) {
  return m_db->stream(pg_jobs_query(filter), filter_params(filter),
                      [&](const PgRow& row) -> Status {
                        JobRecord job;
                        if (auto read = read_job_row(row, location(), job); !read) {
                          return read;
                        }
                        return visit(job);
                      });
}

Result<std::vector<StateCount>> PgJobStore::count_states() {
  auto rows = VB_TRY(
      m_db->exec("SELECT b.name, j.state, count(*) FROM jobs j JOIN batches b ON b.id = j.batch_id "
                 "GROUP BY b.name, j.state"));
  std::vector<StateCount> counts;
  for (int r = 0; r < rows.rows(); ++r) {
    const std::string text = rows.text(r, 1);
    auto state = parse_job_state(text);
    if (!state) {
      return std::unexpected(unknown_state(text, location()));
    }
    counts.push_back({rows.text(r, 0), *state, rows.int64(r, 2)});
  }
  // By batch name, then in the order of the state machine rather than alphabetically.
  std::ranges::sort(counts, [](const StateCount& a, const StateCount& b) {
    return a.batch != b.batch ? a.batch < b.batch : a.state < b.state;
  });
  return counts;
}

Result<std::vector<MismatchCount>> PgJobStore::count_mismatched() {
  auto rows = VB_TRY(
      m_db->exec("SELECT b.name, count(*) FROM video_checks c JOIN jobs j ON j.id = c.job_id "
                 "JOIN batches b ON b.id = j.batch_id WHERE c.verdict <> 'ok' "
                 "GROUP BY b.name ORDER BY b.name COLLATE \"C\""));
  std::vector<MismatchCount> counts;
  for (int r = 0; r < rows.rows(); ++r) {
    counts.push_back({rows.text(r, 0), rows.int64(r, 1)});
  }
  return counts;
}

Result<std::int64_t> PgJobStore::latest_event_id() {
  auto row = VB_TRY(m_db->exec("SELECT COALESCE(MAX(id), 0) FROM events"));
  return row.int64(0, 0);
}

Result<std::vector<EventRecord>> PgJobStore::events(std::optional<std::int64_t> row_id) {
  if (row_id) {
    return query_events(std::string(k_event_select) + "WHERE e.job_id = $1 ORDER BY e.id",
                        PgParams().add(*row_id));
  }
  return query_events(std::string(k_event_select) + "ORDER BY e.id", PgParams());
}

Result<std::vector<EventRecord>> PgJobStore::batch_events(const std::string& batch) {
  return query_events(std::string(k_event_select) + "WHERE b.name = $1 ORDER BY e.id",
                      PgParams().add(batch));
}

Result<Millis> PgJobStore::last_entered(std::int64_t row_id, JobState state) {
  auto row = VB_TRY(
      m_db->exec("SELECT COALESCE(MAX(at), 0) FROM events WHERE job_id = $1 AND to_state = $2",
                 PgParams().add(row_id).add(to_string(state))));
  return row.int64(0, 0);
}

Result<std::vector<std::string>> PgJobStore::known_remote_ids(
    const std::vector<std::string>& remote_ids) {
  std::vector<std::string> known;
  if (remote_ids.empty()) {
    return known;
  }
  auto rows =
      VB_TRY(m_db->exec("SELECT DISTINCT remote_id FROM jobs WHERE remote_id = ANY($1::text[])",
                        PgParams().add_array(remote_ids)));
  std::unordered_set<std::string> held;
  for (int r = 0; r < rows.rows(); ++r) {
    held.insert(rows.text(r, 0));
  }
  for (const std::string& id : remote_ids) {  // in the order asked, as the SQLite store answers
    if (held.contains(id)) {
      known.push_back(id);
    }
  }
  return known;
}

Result<std::vector<JobRecord>> PgJobStore::jobs_with_prompts(
    const std::vector<std::string>& prompts) {
  if (prompts.empty()) {
    return std::vector<JobRecord>{};
  }
  return query_jobs(std::string(k_job_select) + "WHERE j.prompt = ANY($1::text[]) ORDER BY j.id",
                    PgParams().add_array(prompts));
}

Result<std::vector<std::string>> PgJobStore::unfinished_providers() {
  auto rows = VB_TRY(m_db->exec(
      "SELECT DISTINCT provider FROM jobs WHERE state NOT IN ('done', 'failed', 'canceled')"));
  std::vector<std::string> names;
  for (int r = 0; r < rows.rows(); ++r) {
    names.push_back(rows.text(r, 0));
  }
  return names;
}

}  // namespace vb::store_detail
