// Workers, leases, create admission and rescue on the SQLite ledger
// (schema/007_workers_leases.sql). Each call is one IMMEDIATE transaction: SQLite lets one
// writer in at a time, so a claim needs no row lock, and the in-flight count admission reads
// cannot change before it commits. Times: the database clock (VB_SQLITE_NOW_MS).
#include "store/sqlite_job_store.h"
#include "store/sqlite_util.h"

namespace vb::store_detail {

namespace {

// The scope's jobs, on an unaliased `jobs`: named parameters :provider, :default, :batch.
constexpr const char* k_sqlite_scope_sql =
    "(provider = :provider OR (:default AND provider = '')) AND "
    "(:batch IS NULL OR batch_id = (SELECT id FROM batches WHERE name = :batch))";

void bind_scope(SQLite::Statement& statement, const WorkScope& scope) {
  statement.bind(":provider", scope.provider);
  statement.bind(":default", scope.default_provider ? 1 : 0);
  if (scope.batch) {
    statement.bind(":batch", *scope.batch);
  } else {
    statement.bind(":batch");
  }
}

}  // namespace

Millis SqliteJobStore::now_in_transaction() {
  return m_db->execAndGet("SELECT " VB_SQLITE_NOW_MS).getInt64();
}

bool SqliteJobStore::worker_alive(const std::string& worker) {
  SQLite::Statement query(*m_db,
                          "SELECT 1 FROM workers WHERE id = ?1 AND expires_at > " VB_SQLITE_NOW_MS);
  query.bind(1, worker);
  return query.executeStep();
}

Result<Millis> SqliteJobStore::database_now() {
  return guard_sql(m_path, [&]() -> Result<Millis> { return now_in_transaction(); });
}

Status SqliteJobStore::register_worker(const std::string& id, const std::string& host, int pid,
                                       Millis ttl_ms) {
  return guard_sql(m_path, [&]() -> Status {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement known(*m_db, "SELECT 1 FROM workers WHERE id = ?1");
    known.bind(1, id);
    if (known.executeStep()) {
      return std::unexpected(worker_exists(id, m_path));
    }
    SQLite::Statement insert(*m_db, "INSERT INTO workers VALUES (?1, ?2, ?3, ?4, ?4, ?4 + ?5)");
    insert.bind(1, id);
    insert.bind(2, host);
    insert.bind(3, pid);
    insert.bind(4, now_in_transaction());
    insert.bind(5, ttl_ms);
    insert.exec();
    transaction.commit();
    return {};
  });
}

Result<Heartbeat> SqliteJobStore::heartbeat(const std::string& id, Millis ttl_ms) {
  return guard_sql(m_path, [&]() -> Result<Heartbeat> {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    const Millis now = now_in_transaction();
    SQLite::Statement update(*m_db,
                             "UPDATE workers SET heartbeat_at = ?2, expires_at = ?2 + ?3 "
                             "WHERE id = ?1 AND expires_at > ?2 RETURNING expires_at");
    update.bind(1, id);
    update.bind(2, now);
    update.bind(3, ttl_ms);
    Heartbeat beat{false, now, 0};
    if (update.executeStep()) {
      beat.alive = true;
      beat.expires_at = update.getColumn(0).getInt64();
    }
    update.reset();
    transaction.commit();
    return beat;
  });
}

std::vector<ReleasedJob> SqliteJobStore::release_jobs_of(const std::string& worker, bool expired,
                                                         Millis now) {
  std::vector<ReleasedJob> released;
  SQLite::Statement held(*m_db, std::string("SELECT id, state, ") + k_rescued_state_sql +
                                    " FROM jobs WHERE lease_owner = ?1 ORDER BY id");
  held.bind(1, worker);
  while (held.executeStep()) {
    auto from = parse_job_state(held.getColumn(1).getString());
    auto to = parse_job_state(held.getColumn(2).getString());
    // An unknown state stays as it is: reported as such, never rewritten.
    released.push_back({held.getColumn(0).getInt64(), worker, from.value_or(JobState::failed),
                        to.value_or(from.value_or(JobState::failed))});
  }
  SQLite::Statement events(*m_db, std::string(R"sql(
INSERT INTO events (job_id, at, from_state, to_state, message, worker)
SELECT id, ?2, state, )sql") + k_rescued_state_sql +
                                      R"sql(, ?3, ?1 FROM jobs
WHERE lease_owner = ?1 AND state IN ('submitting', 'downloading') ORDER BY id)sql");
  events.bind(1, worker);
  events.bind(2, now);
  events.bind(3, release_message(expired).with(worker));
  events.exec();
  // SET expressions read the row as it was: state is the state before the release.
  SQLite::Statement update(*m_db, std::string(R"sql(
UPDATE jobs SET
  error_code = CASE WHEN state = 'submitting' THEN ?3 ELSE error_code END,
  error_message = CASE WHEN state = 'submitting' THEN ?4 ELSE error_message END,
  updated_at = CASE WHEN state IN ('submitting', 'downloading') THEN ?2 ELSE updated_at END,
  state = )sql") + k_rescued_state_sql +
                                      R"sql(, lease_owner = NULL, lease_token = NULL
WHERE lease_owner = ?1)sql");
  update.bind(1, worker);
  update.bind(2, now);
  update.bind(3, k_create_ambiguous);
  update.bind(4, release_ambiguous_message(expired).with(worker));
  update.exec();
  return released;
}

Result<std::vector<ReleasedJob>> SqliteJobStore::release_worker(const std::string& id) {
  return guard_sql(m_path, [&]() -> Result<std::vector<ReleasedJob>> {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement remove(*m_db, "DELETE FROM workers WHERE id = ?1");
    remove.bind(1, id);
    auto released = release_jobs_of(id, false, now_in_transaction());
    remove.exec();
    transaction.commit();
    return released;
  });
}

Result<RescueReport> SqliteJobStore::rescue_expired_workers() {
  return guard_sql(m_path, [&]() -> Result<RescueReport> {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    const Millis now = now_in_transaction();
    RescueReport report;
    {
      SQLite::Statement dead(*m_db, "SELECT id FROM workers WHERE expires_at <= ?1 ORDER BY id");
      dead.bind(1, now);
      while (dead.executeStep()) {
        report.workers.push_back(dead.getColumn(0).getString());
      }
    }
    SQLite::Statement remove(*m_db, "DELETE FROM workers WHERE id = ?1");
    for (const std::string& worker : report.workers) {
      auto released = release_jobs_of(worker, true, now);
      report.jobs.insert(report.jobs.end(), released.begin(), released.end());
      remove.reset();
      remove.bind(1, worker);
      remove.exec();
    }
    transaction.commit();
    return report;
  });
}

Result<std::vector<WorkerRecord>> SqliteJobStore::list_workers() {
  return guard_sql(m_path, [&]() -> Result<std::vector<WorkerRecord>> {
    SQLite::Statement query(*m_db, R"sql(
SELECT w.id, w.host, w.pid, w.started_at, w.heartbeat_at, w.expires_at,
       (SELECT count(*) FROM jobs j WHERE j.lease_owner = w.id)
FROM workers w ORDER BY w.id)sql");
    std::vector<WorkerRecord> workers;
    while (query.executeStep()) {
      workers.push_back({query.getColumn(0).getString(), query.getColumn(1).getString(),
                         query.getColumn(2).getInt(), query.getColumn(3).getInt64(),
                         query.getColumn(4).getInt64(), query.getColumn(5).getInt64(),
                         query.getColumn(6).getInt64()});
    }
    return workers;
  });
}

Status SqliteJobStore::set_provider_limits(const std::string& provider,
                                           const ProviderLimits& limits) {
  if (auto checked = check_limits(provider, limits); !checked) {
    return checked;
  }
  return guard_sql(m_path, [&]() -> Status {
    SQLite::Statement upsert(*m_db, R"sql(
INSERT INTO provider_limits (provider, interval_ms, burst, max_in_flight) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (provider) DO UPDATE SET interval_ms = excluded.interval_ms,
  burst = excluded.burst, max_in_flight = excluded.max_in_flight)sql");
    upsert.bind(1, provider);
    upsert.bind(2, limits.interval_ms);
    upsert.bind(3, limits.burst);
    upsert.bind(4, limits.max_in_flight);
    upsert.exec();
    return {};
  });
}

Status SqliteJobStore::lower_learnt_limit(const std::string& provider, LearntLimit limit,
                                          double value) {
  return guard_sql(m_path, [&]() -> Status {
    const std::string column = learnt_column(limit);
    SQLite::Statement lower(*m_db, "UPDATE provider_limits SET " + column + " = min(coalesce(" +
                                       column + ", ?2), ?2) WHERE provider = ?1");
    lower.bind(1, provider);
    lower.bind(2, value);
    lower.exec();
    return {};
  });
}

Result<bool> SqliteJobStore::raise_learnt_limit(const std::string& provider, LearntLimit limit,
                                                double seen, double value) {
  return guard_sql(m_path, [&]() -> Result<bool> {
    const std::string column = learnt_column(limit);
    SQLite::Statement raise(*m_db, "UPDATE provider_limits SET " + column +
                                       " = ?3 WHERE provider = ?1 AND " + column + " = ?2");
    raise.bind(1, provider);
    raise.bind(2, seen);
    raise.bind(3, value);
    return raise.exec() == 1;
  });
}

std::vector<ClaimedJob> SqliteJobStore::claim_in_transaction(const std::string& worker,
                                                             const WorkScope& scope,
                                                             const std::string& state_list,
                                                             int limit, Millis now) {
  const std::int64_t token =
      m_db->execAndGet("UPDATE lease_tokens SET last = last + 1 RETURNING last").getInt64();
  SQLite::Statement claim(*m_db, std::string(R"sql(
UPDATE jobs SET lease_owner = :worker, lease_token = :token
WHERE id IN (SELECT id FROM jobs WHERE )sql") +
                                     k_sqlite_scope_sql + " AND state IN (" + state_list +
                                     R"sql() AND lease_owner IS NULL AND not_before <= :now
             ORDER BY not_before, id LIMIT :limit))sql");
  bind_scope(claim, scope);
  claim.bind(":worker", worker);
  claim.bind(":token", token);
  claim.bind(":now", now);
  claim.bind(":limit", limit);
  std::vector<ClaimedJob> claimed;
  if (claim.exec() == 0) {
    return claimed;
  }
  SQLite::Statement read(*m_db, std::string(k_job_select) +
                                    "WHERE j.lease_owner = ?1 AND j.lease_token = ?2 "
                                    "ORDER BY j.not_before, j.id");
  read.bind(1, worker);
  read.bind(2, token);
  auto jobs = read_jobs(read);
  if (!jobs) {
    throw SQLite::Exception(jobs.error().describe());  // rolls the claim back
  }
  for (JobRecord& job : *jobs) {
    claimed.push_back({std::move(job), Lease{worker, token}});
  }
  return claimed;
}

BudgetFit SqliteJobStore::fit_in_transaction(const WorkScope& scope, int allowed, Millis now,
                                             const CreateBudget& budget, Admission& admission) {
  {
    SQLite::Statement uncharged(*m_db, std::string(k_job_select) +
                                           "WHERE j.id IN (SELECT id FROM jobs WHERE " +
                                           k_uncharged_sql + ")");
    auto legacy = read_jobs(uncharged);
    if (!legacy) {
      throw SQLite::Exception(legacy.error().describe());  // rolls the admission back
    }
    SQLite::Statement charge(*m_db, "UPDATE jobs SET charged_usd = ?2 WHERE id = ?1");
    for (const JobRecord& job : *legacy) {
      charge.reset();
      charge.bind(1, job.row_id);
      charge.bind(2, legacy_charge(job.spec, budget));
      charge.exec();
    }
  }
  admission.spent_usd =
      m_db->execAndGet(std::string("SELECT coalesce(sum(charged_usd), 0) FROM jobs WHERE ") +
                       k_charged_sql)
          .getDouble();
  // The jobs claim_in_transaction would claim, in its order.
  SQLite::Statement next(*m_db, std::string(k_job_select) +
                                    "WHERE j.id IN (SELECT id FROM jobs WHERE " +
                                    k_sqlite_scope_sql +
                                    R"sql( AND state = 'queued' AND lease_owner IS NULL
             AND not_before <= :now ORDER BY not_before, id LIMIT :limit)
ORDER BY j.not_before, j.id)sql");
  bind_scope(next, scope);
  next.bind(":now", now);
  next.bind(":limit", allowed);
  auto candidates = read_jobs(next);
  if (!candidates) {
    throw SQLite::Exception(candidates.error().describe());
  }
  BudgetFit fit = fit_budget(*candidates, budget, admission.spent_usd);
  if (fit.stopped) {
    admission.over_budget = std::move((*candidates)[fit.charges.size()]);
  }
  return fit;
}

Result<Admission> SqliteJobStore::admit_creates(const std::string& worker, const WorkScope& scope,
                                                int want, const CreateBudget* budget) {
  return guard_sql(m_path, [&]() -> Result<Admission> {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    const Millis now = now_in_transaction();
    SQLite::Statement limits_row(
        *m_db,
        "SELECT interval_ms, burst, max_in_flight, tat_ms, learnt_in_flight, learnt_per_minute "
        "FROM provider_limits WHERE provider = ?1");
    limits_row.bind(1, scope.provider);
    if (!limits_row.executeStep()) {
      return std::unexpected(no_limits(scope.provider, m_path));
    }
    Admission admission;
    for (auto [column, learnt] :
         {std::pair{4, &admission.learnt.in_flight}, std::pair{5, &admission.learnt.per_minute}}) {
      if (!limits_row.getColumn(column).isNull()) {
        *learnt = limits_row.getColumn(column).getDouble();
      }
    }
    const ProviderLimits limits =
        with_learnt({limits_row.getColumn(0).getInt64(), limits_row.getColumn(1).getInt(),
                     limits_row.getColumn(2).getInt()},
                    admission.learnt);
    const Millis tat = limits_row.getColumn(3).getInt64();
    if (want <= 0 || !worker_alive(worker)) {
      return admission;
    }
    SQLite::Statement in_flight(*m_db,
                                std::string("SELECT count(*) FROM jobs WHERE (provider = ?1 OR "
                                            "(?2 AND provider = '')) AND ") +
                                    k_in_flight_sql);
    in_flight.bind(1, scope.provider);
    in_flight.bind(2, scope.default_provider ? 1 : 0);
    in_flight.executeStep();
    const std::int64_t room = limits.max_in_flight - in_flight.getColumn(0).getInt64();
    int allowed = gcra_allowed(limits, tat, now, want, room);
    BudgetFit fit;
    if (allowed > 0 && budget != nullptr) {
      fit = fit_in_transaction(scope, allowed, now, *budget, admission);
      allowed = static_cast<int>(fit.charges.size());
    }
    if (allowed > 0) {
      admission.jobs = claim_in_transaction(worker, scope, "'queued'", allowed, now);
    }
    if (budget != nullptr) {
      SQLite::Statement spend(*m_db, "UPDATE jobs SET charged_usd = ?2 WHERE id = ?1");
      for (std::size_t i = 0; i < admission.jobs.size(); ++i) {
        spend.reset();
        spend.bind(1, admission.jobs[i].job.row_id);
        spend.bind(2, fit.charges[i]);
        spend.exec();
      }
    }
    if (!admission.jobs.empty()) {
      SQLite::Statement charge(*m_db, "UPDATE provider_limits SET tat_ms = ?2 WHERE provider = ?1");
      charge.bind(1, scope.provider);
      charge.bind(2, gcra_charge(limits, tat, now, static_cast<int>(admission.jobs.size())));
      charge.exec();
    }
    transaction.commit();
    return admission;
  });
}

Result<std::vector<ClaimedJob>> SqliteJobStore::claim_jobs(const std::string& worker,
                                                           const WorkScope& scope,
                                                           std::span<const JobState> states,
                                                           int limit) {
  VB_TRY(check_claim_states(states));
  if (states.empty() || limit <= 0) {
    return std::vector<ClaimedJob>{};
  }
  return guard_sql(m_path, [&]() -> Result<std::vector<ClaimedJob>> {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    if (!worker_alive(worker)) {
      return std::vector<ClaimedJob>{};
    }
    auto claimed =
        claim_in_transaction(worker, scope, state_list_sql(states), limit, now_in_transaction());
    transaction.commit();
    return claimed;
  });
}

Result<int> SqliteJobStore::release_leases(std::span<const LeasedJob> jobs, Millis defer_ms) {
  if (jobs.empty()) {
    return 0;
  }
  return guard_sql(m_path, [&]() -> Result<int> {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement release(*m_db,
                              "UPDATE jobs SET lease_owner = NULL, lease_token = NULL, "
                              "not_before = CASE WHEN ?4 > 0 THEN max(not_before, ?5 + ?4) "
                              "ELSE not_before END "
                              "WHERE id = ?1 AND lease_owner = ?2 AND lease_token = ?3");
    const Millis now = defer_ms > 0 ? now_in_transaction() : 0;
    int released = 0;
    for (const LeasedJob& job : jobs) {
      release.reset();
      release.bind(1, job.row_id);
      release.bind(2, job.lease.owner);
      release.bind(3, job.lease.token);
      release.bind(4, defer_ms);
      release.bind(5, now);
      released += release.exec();
    }
    transaction.commit();
    return released;
  });
}

Result<RecordedAnswer> SqliteJobStore::record_create_answer(const Transition& answer,
                                                            const std::string& provider) {
  VB_TRY(check_create_answer(answer));
  return guard_sql(m_path, [&]() -> Result<RecordedAnswer> {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    if (apply_one(answer)) {
      transaction.commit();
      return RecordedAnswer::applied;
    }
    const std::string& remote_id = *answer.update.remote_id;
    SQLite::Statement late(*m_db, R"sql(
UPDATE jobs SET state = 'submitted', remote_id = ?2, submitted_at = COALESCE(?3, submitted_at),
  error_code = '', error_message = '', updated_at = ?4, lease_owner = NULL, lease_token = NULL
WHERE id = ?1 AND state = 'ambiguous' AND remote_id = '')sql");
    late.bind(1, answer.row_id);
    late.bind(2, remote_id);
    bind_optional(late, 3, answer.update.submitted_at);
    late.bind(4, answer.at);
    if (late.exec() == 1) {
      insert_event(answer.row_id, answer.at, JobState::ambiguous, JobState::submitted, std::nullopt,
                   answer.http_status, late_answer_message(answer.lease->owner),
                   answer.lease->owner);
      transaction.commit();
      return RecordedAnswer::late;
    }
    SQLite::Statement held(*m_db, "SELECT remote_id FROM jobs WHERE id = ?1");
    held.bind(1, answer.row_id);
    if (!held.executeStep()) {
      return std::unexpected(transition_error(answer, std::nullopt, true));
    }
    if (held.getColumn(0).getString() == remote_id) {
      return RecordedAnswer::already_attached;
    }
    SQLite::Statement keep(*m_db, R"sql(
INSERT INTO unclaimed_videos (provider, remote_id, job_id, status, created_at, seen_at)
VALUES (?1, ?2, ?3, 'late answer', ?4, ?4) ON CONFLICT (provider, remote_id) DO NOTHING)sql");
    keep.bind(1, provider);
    keep.bind(2, remote_id);
    keep.bind(3, answer.row_id);
    keep.bind(4, answer.at);
    keep.exec();
    transaction.commit();
    return RecordedAnswer::unclaimed;
  });
}

Result<bool> SqliteJobStore::hold_leadership(const std::string& duty, const std::string& worker,
                                             Millis ttl_ms) {
  return guard_sql(m_path, [&]() -> Result<bool> {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement elect(*m_db, R"sql(
INSERT INTO leaders (duty, worker, elected_at, expires_at)
SELECT ?1, ?2, ?3, ?3 + ?4 WHERE EXISTS (SELECT 1 FROM workers WHERE id = ?2 AND expires_at > ?3)
ON CONFLICT (duty) DO UPDATE SET worker = excluded.worker,
  elected_at = CASE WHEN leaders.worker = excluded.worker THEN leaders.elected_at
                    ELSE excluded.elected_at END,
  expires_at = excluded.expires_at
WHERE leaders.worker = excluded.worker OR leaders.expires_at <= excluded.elected_at
RETURNING worker)sql");
    elect.bind(1, duty);
    elect.bind(2, worker);
    elect.bind(3, now_in_transaction());
    elect.bind(4, ttl_ms);
    const bool held = elect.executeStep();
    elect.reset();
    transaction.commit();
    return held;
  });
}

Status SqliteJobStore::release_leadership(const std::string& duty, const std::string& worker) {
  return guard_sql(m_path, [&]() -> Status {
    SQLite::Statement release(*m_db, "DELETE FROM leaders WHERE duty = ?1 AND worker = ?2");
    release.bind(1, duty);
    release.bind(2, worker);
    release.exec();
    return {};
  });
}

}  // namespace vb::store_detail
