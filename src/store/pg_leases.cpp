// Workers, leases, create admission and rescue on the PostgreSQL ledger: the SQL of
// docs/scale-out.md. Times are the database clock (vb_now_ms()); claims lock rows with
// FOR UPDATE SKIP LOCKED, so concurrent claimers never take the same job and never wait on
// each other's rows.
#include <charconv>
#include <unordered_map>

#include "store/pg_job_store.h"
#include "store/row_reading.h"

namespace vb::store_detail {

namespace {

// The scope's jobs: $1 provider, $2 default provider, $3 batch (NULL: every batch).
constexpr const char* k_pg_scope_sql =
    "(provider = $1 OR ($2 AND provider = '')) AND "
    "($3::text IS NULL OR batch_id = (SELECT id FROM batches WHERE name = $3))";

// $4 the worker; claims only while it is alive. The CTE is materialized so that its LIMIT
// runs once (a plan looping over it could lock more rows than asked).
std::string claim_sql(const std::string& candidates) {
  return "WITH c AS MATERIALIZED (" + candidates + R"sql(),
claimed AS (
  UPDATE jobs j SET lease_owner = $4, lease_token = nextval('lease_tokens') FROM c
  WHERE j.id = c.id
    AND EXISTS (SELECT 1 FROM workers w WHERE w.id = $4 AND w.expires_at > vb_now_ms())
  RETURNING j.*)
)sql";
}

// The claimed rows with their batch, as read_claims() reads them.
std::string claimed_rows_sql() {
  return std::string(k_job_columns) +
         ", j.lease_token FROM claimed j JOIN batches b ON b.id = j.batch_id" + k_side_joins +
         "ORDER BY j.not_before, j.id";
}

// The GCRA interval admission applies (ledger_rules.h, with_learnt): the configured one, or
// where none is, the learnt rate's.
constexpr const char* k_applied_interval_sql = R"sql(
  CASE WHEN interval_ms <= 0 AND learnt_per_minute > 0
       THEN ceil(60000 / learnt_per_minute)::bigint ELSE interval_ms END)sql";

// The provider's row, locked for an admission, with its learnt limits.
constexpr const char* k_lock_limits_sql =
    "SELECT learnt_in_flight, learnt_per_minute FROM provider_limits WHERE provider = $1 "
    "FOR UPDATE";

// The first CTEs of an admission: `room`, how many creates may start now (n) and the database
// clock (now_ms), from the provider's limits ($1, $2 default provider), its in-flight count and
// `want`, the parameter of how many are wanted.
std::string room_sql(const std::string& want) {
  return std::string(R"sql(
WITH lim AS (SELECT )sql" +
                     std::string(k_applied_interval_sql) + R"sql( AS interval_ms, burst,
               LEAST(max_in_flight, GREATEST(1, floor(COALESCE(learnt_in_flight, max_in_flight))))::integer
                 AS max_in_flight, tat_ms, vb_now_ms() AS now_ms
             FROM provider_limits WHERE provider = $1),
in_flight AS (SELECT count(*) AS n FROM jobs WHERE (provider = $1 OR ($2 AND provider = ''))
              AND )sql") +
         k_in_flight_sql + R"sql(),
room AS (SELECT GREATEST(0, LEAST()sql" +
         want + R"sql(::bigint, lim.max_in_flight - in_flight.n,
           CASE WHEN lim.interval_ms <= 0 THEN )sql" +
         want + R"sql(::bigint
                ELSE (lim.now_ms + lim.burst * lim.interval_ms - GREATEST(lim.tat_ms, lim.now_ms))
                     / lim.interval_ms END)) AS n, lim.now_ms
         FROM lim, in_flight))sql";
}

// Admission ($5 how many are wanted) under the provider row lock taken by the statement before
// it: a statement of its own, so that its snapshot sees every claim committed by the previous
// holder of the lock (READ COMMITTED takes a snapshot per statement).
std::string admission_sql() {
  return room_sql("$5") + R"sql(,
c AS MATERIALIZED (
  SELECT id FROM jobs WHERE )sql" +
         k_pg_scope_sql + R"sql(
    AND state = 'queued' AND lease_owner IS NULL AND not_before <= (SELECT now_ms FROM room)
  ORDER BY not_before, id LIMIT COALESCE((SELECT n FROM room), 0) FOR UPDATE SKIP LOCKED),
claimed AS (
  UPDATE jobs j SET lease_owner = $4, lease_token = nextval('lease_tokens') FROM c
  WHERE j.id = c.id
    AND EXISTS (SELECT 1 FROM workers w WHERE w.id = $4 AND w.expires_at > vb_now_ms())
  RETURNING j.*),
charged AS (
  UPDATE provider_limits p
  SET tat_ms = GREATEST(p.tat_ms, (SELECT now_ms FROM room))
               + (SELECT count(*) FROM claimed) * GREATEST((SELECT interval_ms FROM lim), 0)
  WHERE p.provider = $1 AND (SELECT count(*) FROM claimed) > 0)
)sql" + claimed_rows_sql();
}

// The learnt limits of a k_lock_limits_sql row.
LearntLimits read_learnt(const PgResult& row) {
  LearntLimits learnt;
  if (row.rows() == 1) {
    for (auto [column, value] :
         {std::pair{0, &learnt.in_flight}, std::pair{1, &learnt.per_minute}}) {
      if (!row.is_null(0, column)) {
        *value = row.real(0, column);
      }
    }
  }
  return learnt;
}

// Releases the leases of the workers $6 names (rows this transaction has locked) as the rescue
// rule says, with an event per state change, and deletes the workers: one statement, so the
// lease foreign key never sees a lease of a deleted worker. $1 error code, $2/$3 the ambiguous
// error text around the worker, $4/$5 the event message around it.
constexpr const char* k_release_sql = R"sql(
WITH dead AS (SELECT id FROM workers WHERE id = ANY($6::text[])),
orphan AS (SELECT j.id, j.state AS from_state, j.lease_owner
           FROM jobs j JOIN dead d ON j.lease_owner = d.id FOR UPDATE OF j),
moved AS (
  UPDATE jobs j SET state = CASE o.from_state WHEN 'submitting' THEN 'ambiguous'
                                              WHEN 'downloading' THEN 'ready'
                                              ELSE o.from_state END,
    error_code = CASE WHEN o.from_state = 'submitting' THEN $1 ELSE j.error_code END,
    error_message = CASE WHEN o.from_state = 'submitting' THEN $2 || o.lease_owner || $3
                         ELSE j.error_message END,
    updated_at = CASE WHEN o.from_state IN ('submitting', 'downloading') THEN vb_now_ms()
                      ELSE j.updated_at END,
    lease_owner = NULL, lease_token = NULL
  FROM orphan o WHERE j.id = o.id
  RETURNING j.id, o.from_state, j.state AS to_state, o.lease_owner),
ev AS (
  INSERT INTO events (job_id, at, from_state, to_state, message, worker)
  SELECT id, vb_now_ms(), from_state, to_state, $4 || lease_owner || $5, lease_owner
  FROM moved WHERE from_state <> to_state ORDER BY id),
gone AS (DELETE FROM workers w USING dead WHERE w.id = dead.id RETURNING w.id)
SELECT 'job', id, lease_owner, from_state, to_state FROM moved
UNION ALL SELECT 'worker', 0, id, '', '' FROM gone
ORDER BY 1, 2, 3)sql";

// A claim whose worker a rescuer reaped while it ran fails its foreign key check (the only
// conflict a claim can meet): for the caller, the worker is not alive, and claims nothing.
Result<std::vector<ClaimedJob>> reaped_meanwhile(Error error) {
  if (error.code == ErrorCode::conflict) {
    return std::vector<ClaimedJob>{};
  }
  return std::unexpected(std::move(error));
}

PgParams release_params(bool expired) {
  const AroundWorker ambiguous = release_ambiguous_message(expired);
  const AroundWorker event = release_message(expired);
  PgParams params;
  params.add(k_create_ambiguous)
      .add(ambiguous.before)
      .add(ambiguous.after)
      .add(event.before)
      .add(event.after);
  return params;
}

std::string real_text(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)ec;
  return std::string(buffer, end);
}

PgParams scope_params(const WorkScope& scope, const std::string& worker) {
  PgParams params;
  params.add(scope.provider).add(scope.default_provider).add(scope.batch).add(worker);
  return params;
}

}  // namespace

Result<Millis> PgJobStore::database_now() {
  auto row = VB_TRY(m_db->exec("SELECT vb_now_ms()"));
  return row.int64(0, 0);
}

Status PgJobStore::register_worker(const std::string& id, const std::string& host, int pid,
                                   Millis ttl_ms) {
  auto row = VB_TRY(m_db->exec(R"sql(
WITH n AS (SELECT vb_now_ms() AS now)
INSERT INTO workers SELECT $1, $2, $3, n.now, n.now, n.now + $4 FROM n
ON CONFLICT (id) DO NOTHING RETURNING id)sql",
                               PgParams().add(id).add(host).add(pid).add(ttl_ms)));
  if (row.rows() == 0) {
    return std::unexpected(worker_exists(id, location()));
  }
  return {};
}

Result<Heartbeat> PgJobStore::heartbeat(const std::string& id, Millis ttl_ms) {
  // 0 rows updated: the worker expired or was reaped, and must stop (R5).
  auto row = VB_TRY(m_db->exec(R"sql(
WITH n AS (SELECT vb_now_ms() AS now),
beat AS (UPDATE workers SET heartbeat_at = n.now, expires_at = n.now + $2 FROM n
         WHERE id = $1 AND expires_at > n.now RETURNING expires_at)
SELECT n.now, (SELECT expires_at FROM beat) FROM n)sql",
                               PgParams().add(id).add(ttl_ms)));
  Heartbeat beat{!row.is_null(0, 1), row.int64(0, 0), 0};
  if (beat.alive) {
    beat.expires_at = row.int64(0, 1);
  }
  return beat;
}

Result<std::vector<ReleasedJob>> PgJobStore::release_of(const std::string& lock_sql,
                                                        const PgParams& lock_params, bool expired,
                                                        RescueReport* report) {
  std::vector<ReleasedJob> released;
  auto transaction = VB_TRY(PgTransaction::begin(*m_db));
  // The workers are locked first, by a statement of its own: a claim that commits before the
  // lock is seen by the next statement's snapshot; one that comes after waits on the lock and
  // then fails its foreign key check, the worker being gone.
  auto locked = VB_TRY(m_db->exec(lock_sql, lock_params));
  std::vector<std::string> workers;
  for (int r = 0; r < locked.rows(); ++r) {
    workers.push_back(locked.text(r, 0));
  }
  if (!workers.empty()) {
    PgParams params = release_params(expired);
    params.add_array(workers);
    auto rows = VB_TRY(m_db->exec(k_release_sql, params));
    for (int r = 0; r < rows.rows(); ++r) {
      if (rows.text(r, 0) == "worker") {
        if (report != nullptr) {
          report->workers.push_back(rows.text(r, 2));
        }
        continue;
      }
      const auto from = parse_job_state(rows.text(r, 3));
      const auto to = parse_job_state(rows.text(r, 4));
      released.push_back({rows.int64(r, 1), rows.text(r, 2), from.value_or(JobState::failed),
                          to.value_or(from.value_or(JobState::failed))});
    }
  }
  VB_TRY(transaction.commit());
  return released;
}

Result<std::vector<ReleasedJob>> PgJobStore::release_worker(const std::string& id) {
  return release_of("SELECT id FROM workers WHERE id = $1 FOR UPDATE", PgParams().add(id), false,
                    nullptr);
}

Result<RescueReport> PgJobStore::rescue_expired_workers() {
  RescueReport report;
  // SKIP LOCKED: concurrent rescuers reap disjoint sets of workers, and a worker busy claiming
  // (its row key-share locked) waits for the next round.
  auto jobs =
      VB_TRY(release_of("SELECT id FROM workers WHERE expires_at <= vb_now_ms() ORDER BY id "
                        "FOR UPDATE SKIP LOCKED",
                        PgParams(), true, &report));
  report.jobs = std::move(jobs);
  return report;
}

Result<std::vector<WorkerRecord>> PgJobStore::list_workers() {
  auto rows = VB_TRY(m_db->exec(R"sql(
SELECT w.id, w.host, w.pid, w.started_at, w.heartbeat_at, w.expires_at,
       (SELECT count(*) FROM jobs j WHERE j.lease_owner = w.id)
FROM workers w ORDER BY w.id COLLATE "C")sql"));
  std::vector<WorkerRecord> workers;
  for (int r = 0; r < rows.rows(); ++r) {
    workers.push_back({rows.text(r, 0), rows.text(r, 1), rows.integer(r, 2), rows.int64(r, 3),
                       rows.int64(r, 4), rows.int64(r, 5), rows.int64(r, 6)});
  }
  return workers;
}

Status PgJobStore::set_provider_limits(const std::string& provider, const ProviderLimits& limits) {
  if (auto checked = check_limits(provider, limits); !checked) {
    return checked;
  }
  auto upserted = m_db->exec(
      R"sql(
INSERT INTO provider_limits (provider, interval_ms, burst, max_in_flight) VALUES ($1, $2, $3, $4)
ON CONFLICT (provider) DO UPDATE SET interval_ms = excluded.interval_ms,
  burst = excluded.burst, max_in_flight = excluded.max_in_flight)sql",
      PgParams().add(provider).add(limits.interval_ms).add(limits.burst).add(limits.max_in_flight));
  return status_of(std::move(upserted));
}

Status PgJobStore::lower_learnt_limit(const std::string& provider, LearntLimit limit,
                                      double value) {
  const std::string column = learnt_column(limit);
  return status_of(m_db->exec("UPDATE provider_limits SET " + column + " = LEAST(COALESCE(" +
                                  column + ", $2), $2) WHERE provider = $1",
                              PgParams().add(provider).add(value)));
}

Result<bool> PgJobStore::raise_learnt_limit(const std::string& provider, LearntLimit limit,
                                            double seen, double value) {
  const std::string column = learnt_column(limit);
  auto raised =
      VB_TRY(m_db->exec("UPDATE provider_limits SET " + column + " = $3 WHERE provider = $1 AND " +
                            column + " = $2 RETURNING 1",
                        PgParams().add(provider).add(seen).add(value)));
  return raised.rows() == 1;
}

Result<std::vector<ClaimedJob>> PgJobStore::read_claims(const PgResult& rows,
                                                        const std::string& worker) {
  std::vector<ClaimedJob> claimed(static_cast<std::size_t>(rows.rows()));
  const int token_column = k_job_column_count;  // after the k_job_columns
  for (int r = 0; r < rows.rows(); ++r) {
    VB_TRY(read_job_row(PgRow(rows, r), location(), claimed[r].job));
    claimed[r].lease = Lease{worker, rows.int64(r, token_column)};
  }
  return claimed;
}

Result<Admission> PgJobStore::admit_creates(const std::string& worker, const WorkScope& scope,
                                            int want, const CreateBudget* budget) {
  if (budget != nullptr) {
    return admit_within_budget(worker, scope, want, *budget);
  }
  PgParams params = scope_params(scope, worker);
  params.add(std::max(want, 0));
  Result<std::vector<PgResult>> answers;
  {
    // One round trip: BEGIN, the provider row lock, the admission, COMMIT.
    PgPipeline pipeline(*m_db);
    Status sent = pipeline.send("BEGIN", PgParams());
    if (sent) {
      sent = pipeline.send("SET LOCAL lock_timeout = '5s'", PgParams());
    }
    if (sent) {
      sent = pipeline.send(k_lock_limits_sql, PgParams().add(scope.provider));
    }
    if (sent) {
      sent = pipeline.send(admission_sql(), params);
    }
    if (sent) {
      sent = pipeline.send("COMMIT", PgParams());
    }
    answers = sent ? pipeline.sync() : std::unexpected(std::move(sent.error()));
  }
  if (!answers) {
    m_db->abandon_transaction();
    auto none = VB_TRY(reaped_meanwhile(std::move(answers.error())));
    return Admission{std::move(none), std::nullopt, 0, {}};
  }
  if ((*answers)[2].rows() == 0) {
    return std::unexpected(no_limits(scope.provider, location()));
  }
  Admission admission;
  admission.learnt = read_learnt((*answers)[2]);
  admission.jobs = VB_TRY(read_claims((*answers)[3], worker));
  return admission;
}

Result<double> PgJobStore::spent_in_transaction(const CreateBudget& budget) {
  auto legacy =
      VB_TRY(query_jobs(std::string(k_job_select) + "WHERE j.id IN (SELECT id FROM jobs WHERE " +
                            k_uncharged_sql + ")",
                        PgParams()));
  if (!legacy.empty()) {
    std::vector<std::string> ids;
    std::vector<std::string> charges;
    for (const JobRecord& job : legacy) {
      ids.push_back(std::to_string(job.row_id));
      charges.push_back(real_text(legacy_charge(job.spec, budget)));
    }
    VB_TRY(m_db->exec(R"sql(
UPDATE jobs j SET charged_usd = r.charge
FROM unnest($1::bigint[], $2::float8[]) AS r(id, charge) WHERE j.id = r.id)sql",
                      PgParams().add_array(ids).add_array(charges)));
  }
  auto spent = VB_TRY(m_db->exec(
      std::string("SELECT coalesce(sum(charged_usd), 0) FROM jobs WHERE ") + k_charged_sql));
  return spent.real(0, 0);
}

Result<Admission> PgJobStore::admit_within_budget(const std::string& worker, const WorkScope& scope,
                                                  int want, const CreateBudget& budget) {
  auto transaction = VB_TRY(PgTransaction::begin(*m_db));
  VB_TRY(m_db->exec("SET LOCAL lock_timeout = '5s'"));
  auto locked = VB_TRY(m_db->exec(k_lock_limits_sql, PgParams().add(scope.provider)));
  if (locked.rows() == 0) {
    return std::unexpected(no_limits(scope.provider, location()));
  }
  // Then the ledger-wide lock, always in this order; each statement below starts after both
  // are held, so its snapshot sees every charge their previous holders committed.
  VB_TRY(m_db->exec(k_pg_budget_lock));
  Admission admission;
  admission.learnt = read_learnt(locked);
  admission.spent_usd = VB_TRY(spent_in_transaction(budget));
  auto room = VB_TRY(m_db->exec(
      room_sql("$3") + " SELECT n, now_ms FROM room",
      PgParams().add(scope.provider).add(scope.default_provider).add(std::max(want, 0))));
  if (room.rows() == 0 || room.int64(0, 0) <= 0) {
    return admission;
  }
  const Millis now = room.int64(0, 1);
  PgParams next;
  next.add(scope.provider).add(scope.default_provider).add(scope.batch);
  next.add(room.int64(0, 0)).add(now);
  auto candidates = VB_TRY(query_jobs(std::string(k_job_select) + R"sql(
WHERE j.id IN (SELECT id FROM jobs WHERE )sql" +
                                          k_pg_scope_sql + R"sql(
  AND state = 'queued' AND lease_owner IS NULL AND not_before <= $5
  ORDER BY not_before, id LIMIT $4 FOR UPDATE SKIP LOCKED)
ORDER BY j.not_before, j.id)sql",
                                      next));
  const BudgetFit fit = fit_budget(candidates, budget, admission.spent_usd);
  if (fit.stopped) {
    admission.over_budget = candidates[fit.charges.size()];
  }
  if (fit.charges.empty()) {
    VB_TRY(transaction.commit());
    return admission;
  }
  std::vector<std::string> ids;
  std::vector<std::string> charges;
  for (std::size_t i = 0; i < fit.charges.size(); ++i) {
    ids.push_back(std::to_string(candidates[i].row_id));
    charges.push_back(real_text(fit.charges[i]));
  }
  auto claimed = m_db->exec(R"sql(
UPDATE jobs j SET lease_owner = $1, lease_token = nextval('lease_tokens'), charged_usd = r.charge
FROM unnest($2::bigint[], $3::float8[]) AS r(id, charge)
WHERE j.id = r.id
  AND EXISTS (SELECT 1 FROM workers w WHERE w.id = $1 AND w.expires_at > vb_now_ms())
RETURNING j.id, j.lease_token)sql",
                            PgParams().add(worker).add_array(ids).add_array(charges));
  if (!claimed) {
    VB_TRY(reaped_meanwhile(std::move(claimed.error())));
    return admission;
  }
  std::unordered_map<std::int64_t, std::int64_t> tokens;
  for (int r = 0; r < claimed->rows(); ++r) {
    tokens[claimed->int64(r, 0)] = claimed->int64(r, 1);
  }
  for (std::size_t i = 0; i < fit.charges.size(); ++i) {
    if (auto token = tokens.find(candidates[i].row_id); token != tokens.end()) {
      admission.jobs.push_back({std::move(candidates[i]), Lease{worker, token->second}});
    }
  }
  if (!admission.jobs.empty()) {
    VB_TRY(m_db->exec(R"sql(
UPDATE provider_limits SET tat_ms = GREATEST(tat_ms, $2) + $3 * GREATEST()sql" +
                          std::string(k_applied_interval_sql) + R"sql(, 0)
WHERE provider = $1)sql",
                      PgParams()
                          .add(scope.provider)
                          .add(now)
                          .add(static_cast<std::int64_t>(admission.jobs.size()))));
  }
  VB_TRY(transaction.commit());
  return admission;
}

Result<std::vector<ClaimedJob>> PgJobStore::claim_jobs(const std::string& worker,
                                                       const WorkScope& scope,
                                                       std::span<const JobState> states,
                                                       int limit) {
  VB_TRY(check_claim_states(states));
  if (states.empty() || limit <= 0) {
    return std::vector<ClaimedJob>{};
  }
  std::vector<std::string> names;
  for (JobState s : states) {
    names.emplace_back(to_string(s));
  }
  PgParams params = scope_params(scope, worker);
  params.add_array(names).add(limit);
  auto rows = m_db->exec(claim_sql(std::string("SELECT id FROM jobs WHERE ") + k_pg_scope_sql +
                                   " AND state = ANY($5::text[]) AND lease_owner IS NULL "
                                   "AND not_before <= vb_now_ms() ORDER BY not_before, id "
                                   "LIMIT $6 FOR UPDATE SKIP LOCKED") +
                             claimed_rows_sql(),
                         params);
  if (!rows) {
    return reaped_meanwhile(std::move(rows.error()));
  }
  return read_claims(*rows, worker);
}

Result<int> PgJobStore::release_leases(std::span<const LeasedJob> jobs, Millis defer_ms) {
  if (jobs.empty()) {
    return 0;
  }
  std::vector<std::string> ids;
  std::vector<std::string> owners;
  std::vector<std::string> tokens;
  for (const LeasedJob& job : jobs) {
    ids.push_back(std::to_string(job.row_id));
    owners.push_back(job.lease.owner);
    tokens.push_back(std::to_string(job.lease.token));
  }
  auto released = VB_TRY(
      m_db->exec(R"sql(
UPDATE jobs j SET lease_owner = NULL, lease_token = NULL,
  not_before = CASE WHEN $4::bigint > 0 THEN GREATEST(j.not_before, vb_now_ms() + $4::bigint)
                    ELSE j.not_before END
FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS r(id, owner, token)
WHERE j.id = r.id AND j.lease_owner = r.owner AND j.lease_token = r.token)sql",
                 PgParams().add_array(ids).add_array(owners).add_array(tokens).add(defer_ms)));
  return static_cast<int>(released.affected());
}

Result<RecordedAnswer> PgJobStore::record_create_answer(const Transition& answer,
                                                        const std::string& provider) {
  VB_TRY(check_create_answer(answer));
  auto applied = VB_TRY(apply_each({&answer, 1}));
  if (applied.front() == TransitionOutcome::applied) {
    return RecordedAnswer::applied;
  }
  const std::string& worker = answer.lease->owner;
  // The lease was lost. Late: attach to the job if it waits ambiguous without a remote id,
  // whoever leases it (a reconciler's later compare-and-set then fails, and cannot requeue a
  // job whose video exists); else keep the video as unclaimed, never dropped.
  auto row = m_db->exec(R"sql(
WITH late AS (
  UPDATE jobs SET state = 'submitted', remote_id = $2,
    submitted_at = COALESCE($3::bigint, submitted_at), error_code = '', error_message = '',
    updated_at = $4, lease_owner = NULL, lease_token = NULL
  WHERE id = $1 AND state = 'ambiguous' AND remote_id = '' RETURNING id),
ev AS (
  INSERT INTO events (job_id, at, from_state, to_state, http_status, message, worker)
  SELECT id, $4, 'ambiguous', 'submitted', $5, $6, $7 FROM late),
job AS (SELECT remote_id FROM jobs WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM late)),
kept AS (
  INSERT INTO unclaimed_videos (provider, remote_id, job_id, status, created_at, seen_at)
  SELECT $8, $2, $1, 'late answer', $4, $4 FROM job WHERE job.remote_id <> $2
  ON CONFLICT (provider, remote_id) DO NOTHING)
SELECT CASE WHEN EXISTS (SELECT 1 FROM late) THEN 'late'
            WHEN NOT EXISTS (SELECT 1 FROM job) THEN 'missing'
            WHEN (SELECT remote_id FROM job) = $2 THEN 'already_attached'
            ELSE 'unclaimed' END)sql",
                        PgParams()
                            .add(answer.row_id)
                            .add(*answer.update.remote_id)
                            .add(answer.update.submitted_at)
                            .add(answer.at)
                            .add(answer.http_status)
                            .add(late_answer_message(worker))
                            .add(worker)
                            .add(provider));
  if (!row) {
    return std::unexpected(std::move(row.error()));
  }
  const std::string outcome = row->text(0, 0);
  if (outcome == "late") {
    return RecordedAnswer::late;
  }
  if (outcome == "already_attached") {
    return RecordedAnswer::already_attached;
  }
  if (outcome == "unclaimed") {
    return RecordedAnswer::unclaimed;
  }
  return std::unexpected(transition_error(answer, std::nullopt, true));
}

Result<bool> PgJobStore::hold_leadership(const std::string& duty, const std::string& worker,
                                         Millis ttl_ms) {
  auto row = VB_TRY(m_db->exec(R"sql(
WITH n AS (SELECT vb_now_ms() AS now)
INSERT INTO leaders (duty, worker, elected_at, expires_at)
SELECT $1, $2, n.now, n.now + $3 FROM n
WHERE EXISTS (SELECT 1 FROM workers WHERE id = $2 AND expires_at > n.now)
ON CONFLICT (duty) DO UPDATE SET worker = excluded.worker,
  elected_at = CASE WHEN leaders.worker = excluded.worker THEN leaders.elected_at
                    ELSE excluded.elected_at END,
  expires_at = excluded.expires_at
WHERE leaders.worker = excluded.worker OR leaders.expires_at <= excluded.elected_at
RETURNING worker)sql",
                               PgParams().add(duty).add(worker).add(ttl_ms)));
  return row.rows() == 1;
}

Status PgJobStore::release_leadership(const std::string& duty, const std::string& worker) {
  return status_of(m_db->exec("DELETE FROM leaders WHERE duty = $1 AND worker = $2",
                              PgParams().add(duty).add(worker)));
}

}  // namespace vb::store_detail
