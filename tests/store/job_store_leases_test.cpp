// [store][leases] workers, leases, claims, create admission, rescue, late answers and
// leadership: the rules of docs/scale-out.md, on both ledgers (SQLite and PostgreSQL).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

namespace {

void set_limits(JobStore& store, Millis interval_ms, int burst, int max_in_flight,
                const std::string& provider = "sim") {
  auto set = store.set_provider_limits(provider, {interval_ms, burst, max_in_flight});
  INFO((set ? std::string() : set.error().describe()));
  REQUIRE(set.has_value());
}

void register_worker(JobStore& store, const std::string& id, Millis ttl_ms = k_lease_ttl) {
  auto registered = store.register_worker(id, "host-a", 4242, ttl_ms);
  INFO((registered ? std::string() : registered.error().describe()));
  REQUIRE(registered.has_value());
}

std::vector<ClaimedJob> admit(JobStore& store, const std::string& worker, int want,
                              const WorkScope& scope = sim_scope()) {
  auto admitted = store.admit_creates(worker, scope, want, nullptr);
  INFO((admitted ? std::string() : admitted.error().describe()));
  REQUIRE(admitted.has_value());
  return std::move(admitted->jobs);
}

std::vector<ClaimedJob> claim(JobStore& store, const std::string& worker,
                              std::vector<JobState> states, int limit,
                              const WorkScope& scope = sim_scope()) {
  auto claimed = store.claim_jobs(worker, scope, states, limit);
  INFO((claimed ? std::string() : claimed.error().describe()));
  REQUIRE(claimed.has_value());
  return std::move(*claimed);
}

// An owner transition of `job` under its lease.
Transition owned(std::int64_t row_id, const Lease& lease, JobState from, JobState to) {
  Transition t = step(row_id, from, to);
  t.lease = lease;
  if (from == JobState::submitting && to == JobState::submitted) {
    t.update.remote_id = "video_" + std::to_string(row_id) + "_" + std::to_string(lease.token);
  }
  return t;
}

Status apply_owned(JobStore& store, std::int64_t row_id, const Lease& lease, JobState from,
                   JobState to) {
  const Transition t = owned(row_id, lease, from, to);
  return store.apply({&t, 1});
}

// Moves a job admitted for create along the happy path to `target`, under its lease.
void walk_to(JobStore& store, const ClaimedJob& job, JobState target) {
  static const std::vector<JobState> path = {JobState::queued,    JobState::submitting,
                                             JobState::submitted, JobState::running,
                                             JobState::ready,     JobState::downloading,
                                             JobState::done};
  for (std::size_t i = 1; i < path.size() && path[i - 1] != target; ++i) {
    auto moved = apply_owned(store, job.job.row_id, job.lease, path[i - 1], path[i]);
    INFO((moved ? std::string() : moved.error().describe()));
    REQUIRE(moved.has_value());
  }
}

// A transition without a lease, as the CLI's retry, cancel and resolve write them.
void apply_unleased(JobStore& store, const Transition& t) {
  auto applied = store.apply({&t, 1});
  INFO((applied ? std::string() : applied.error().describe()));
  REQUIRE(applied.has_value());
}

JobRecord job_of(JobStore& store, std::int64_t row_id) {
  const std::array<JobState, k_job_state_count> all = {JobState::queued,    JobState::submitting,
                                                       JobState::submitted, JobState::running,
                                                       JobState::ready,     JobState::downloading,
                                                       JobState::done,      JobState::failed,
                                                       JobState::canceled,  JobState::ambiguous};
  auto jobs = store.jobs_in_states(all, row_id - 1, 1);
  REQUIRE(jobs.has_value());
  REQUIRE(jobs->size() == 1);
  REQUIRE(jobs->front().row_id == row_id);
  return jobs->front();
}

std::vector<std::int64_t> rows_of(const std::vector<ClaimedJob>& claimed) {
  std::vector<std::int64_t> rows;
  for (const ClaimedJob& c : claimed) {
    rows.push_back(c.job.row_id);
  }
  return rows;
}

// Every job's events chain: each from is the previous to; the last to is the job's state.
void require_event_chains(JobStore& store) {
  auto jobs = store.list_jobs({});
  REQUIRE(jobs.has_value());
  for (const JobRecord& job : *jobs) {
    auto events = store.events(job.row_id);
    REQUIRE(events.has_value());
    REQUIRE_FALSE(events->empty());
    for (std::size_t i = 1; i < events->size(); ++i) {
      INFO("job " << job.spec.id << " event " << i << ": " << (*events)[i].message);
      CHECK((*events)[i].from == (*events)[i - 1].to);
    }
    CHECK(events->back().to == job.state);
  }
}

void sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

TEMPLATE_TEST_CASE("a worker registers once, heartbeats while alive, and is listed",
                   "[store][leases]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  auto before = store->database_now();
  REQUIRE(before.has_value());
  register_worker(*store, "host-a:1:x");
  auto again = store->register_worker("host-a:1:x", "host-b", 7, k_lease_ttl);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().code == ErrorCode::conflict);
  CHECK_THAT(again.error().message, Catch::Contains("host-a:1:x"));

  auto beat = store->heartbeat("host-a:1:x", k_lease_ttl);
  REQUIRE(beat.has_value());
  CHECK(beat->alive);
  CHECK(beat->now >= *before);
  CHECK(beat->expires_at == beat->now + k_lease_ttl);

  auto workers = store->list_workers();
  REQUIRE(workers.has_value());
  REQUIRE(workers->size() == 1);
  const WorkerRecord& w = workers->front();
  CHECK(w.id == "host-a:1:x");
  CHECK(w.host == "host-a");  // the second registration wrote nothing
  CHECK(w.pid == 4242);
  CHECK(w.started_at >= *before);
  CHECK(w.heartbeat_at == beat->now);
  CHECK(w.expires_at == beat->expires_at);
  CHECK(w.leases == 0);

  auto stranger = store->heartbeat("nobody", k_lease_ttl);
  REQUIRE(stranger.has_value());
  CHECK_FALSE(stranger->alive);
}

TEMPLATE_TEST_CASE("an expired worker's heartbeat is refused, and after the rescuer reaped it",
                   "[store][leases]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  register_worker(*store, "w-short", 30);
  register_worker(*store, "w-long");
  sleep_ms(60);
  auto late = store->heartbeat("w-short", k_lease_ttl);
  REQUIRE(late.has_value());
  CHECK_FALSE(late->alive);  // expired: declared dead even before any rescuer ran

  auto rescued = store->rescue_expired_workers();
  REQUIRE(rescued.has_value());
  CHECK(rescued->workers == std::vector<std::string>{"w-short"});
  auto after = store->heartbeat("w-short", k_lease_ttl);
  REQUIRE(after.has_value());
  CHECK_FALSE(after->alive);
  CHECK(store->heartbeat("w-long", k_lease_ttl)->alive);
  CHECK(store->list_workers()->size() == 1);
  // Reaped once: a second rescuer finds nothing.
  CHECK(store->rescue_expired_workers()->workers.empty());
}

TEMPLATE_TEST_CASE(
    "the rescuer: submitting becomes ambiguous, downloading ready, the rest unleased",
    "[store][leases]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(7), 1000, false).has_value());
  set_limits(*store, 0, 1, 100);
  register_worker(*store, "doomed", 300);
  register_worker(*store, "survivor");
  auto admitted = admit(*store, "doomed", 7);
  REQUIRE(admitted.size() == 7);
  const std::vector<JobState> targets = {JobState::queued,    JobState::submitting,
                                         JobState::submitted, JobState::running,
                                         JobState::ready,     JobState::downloading};
  for (std::size_t i = 0; i < targets.size(); ++i) {
    walk_to(*store, admitted[i], targets[i]);
  }
  // The seventh: ambiguous (its own answer lost), then leased again for reconciliation.
  walk_to(*store, admitted[6], JobState::submitting);
  REQUIRE(apply_owned(*store, admitted[6].job.row_id, admitted[6].lease, JobState::submitting,
                      JobState::ambiguous)
              .has_value());
  REQUIRE(claim(*store, "doomed", {JobState::ambiguous}, 5).size() == 1);
  const auto events_before = store->events(std::nullopt)->size();
  CHECK(store->list_workers()->front().leases == 7);

  sleep_ms(350);
  auto rescued = store->rescue_expired_workers();
  REQUIRE(rescued.has_value());
  CHECK(rescued->workers == std::vector<std::string>{"doomed"});
  REQUIRE(rescued->jobs.size() == 7);
  const std::vector<JobState> expected = {JobState::queued,    JobState::ambiguous,
                                          JobState::submitted, JobState::running,
                                          JobState::ready,     JobState::ready,
                                          JobState::ambiguous};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("job " << i);
    const JobRecord job = job_of(*store, admitted[i].job.row_id);
    CHECK(job.state == expected[i]);
    CHECK(rescued->jobs[i].row_id == admitted[i].job.row_id);
    CHECK(rescued->jobs[i].worker == "doomed");
    CHECK(rescued->jobs[i].to == expected[i]);
  }
  const JobRecord ambiguous = job_of(*store, admitted[1].job.row_id);
  CHECK(ambiguous.error_code == "create_ambiguous");
  CHECK_THAT(ambiguous.error_message, Catch::Contains("doomed"));
  // One event per state change, naming the worker; none for the jobs that only lost a lease.
  auto events = store->events(std::nullopt);
  REQUIRE(events->size() == events_before + 2);
  for (std::size_t i = events_before; i < events->size(); ++i) {
    CHECK((*events)[i].worker == "doomed");
    CHECK_THAT((*events)[i].message, Catch::Contains("lease expired: worker doomed"));
  }
  CHECK((*events)[events_before].from == JobState::submitting);
  CHECK((*events)[events_before].to == JobState::ambiguous);
  CHECK((*events)[events_before + 1].from == JobState::downloading);
  CHECK((*events)[events_before + 1].to == JobState::ready);
  require_event_chains(*store);

  // Every lease is gone: another worker claims them all (the queued one through admission).
  CHECK(admit(*store, "survivor", 10).size() == 1);
  CHECK(claim(*store, "survivor",
              {JobState::submitted, JobState::running, JobState::ready, JobState::ambiguous}, 10)
            .size() == 6);
}

TEMPLATE_TEST_CASE("a reaped worker can claim nothing, write nothing, start no create",
                   "[store][leases]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(4), 1000, false).has_value());
  set_limits(*store, 0, 1, 100);
  register_worker(*store, "w", 200);
  auto admitted = admit(*store, "w", 2);
  REQUIRE(admitted.size() == 2);
  walk_to(*store, admitted[1], JobState::submitted);
  sleep_ms(250);

  SECTION("expired, not yet reaped: no new claim, no create; its other writes still land") {
    CHECK(admit(*store, "w", 2).empty());
    auto start = apply_owned(*store, admitted[0].job.row_id, admitted[0].lease, JobState::queued,
                             JobState::submitting);
    REQUIRE_FALSE(start.has_value());
    CHECK(start.error().code == ErrorCode::conflict);
    CHECK_THAT(start.error().message, Catch::Contains("no longer alive"));
    CHECK(apply_owned(*store, admitted[1].job.row_id, admitted[1].lease, JobState::submitted,
                      JobState::running)
              .has_value());
  }
  SECTION("reaped: its leases are gone and every owner write is lost") {
    REQUIRE(store->rescue_expired_workers()->workers.size() == 1);
    CHECK(admit(*store, "w", 2).empty());
    CHECK(claim(*store, "w", {JobState::submitted}, 5).empty());
    auto moved = apply_owned(*store, admitted[1].job.row_id, admitted[1].lease, JobState::submitted,
                             JobState::running);
    REQUIRE_FALSE(moved.has_value());
    CHECK(moved.error().code == ErrorCode::conflict);
    CHECK(moved.error().where == "job b/job-1");
    CHECK_THAT(moved.error().message, Catch::Contains("not leased"));
    CHECK(job_of(*store, admitted[1].job.row_id).state == JobState::submitted);
  }
}

TEMPLATE_TEST_CASE("owner transitions are fenced by the token of their claim", "[store][leases]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(3), 1000, false).has_value());
  set_limits(*store, 0, 1, 100);
  register_worker(*store, "w1");
  register_worker(*store, "w2");
  auto first = admit(*store, "w1", 1);
  REQUIRE(first.size() == 1);
  walk_to(*store, first[0], JobState::submitted);
  REQUIRE(store->release_leases(std::vector<LeasedJob>{{first[0].job.row_id, first[0].lease}}, 0)
              .value() == 1);
  auto second = claim(*store, "w2", {JobState::submitted}, 1);
  REQUIRE(second.size() == 1);
  REQUIRE(second[0].job.row_id == first[0].job.row_id);
  CHECK(second[0].lease.token != first[0].lease.token);

  // w1's stale lease: rejected whole by apply, skipped by apply_each.
  auto stale = apply_owned(*store, first[0].job.row_id, first[0].lease, JobState::submitted,
                           JobState::running);
  REQUIRE_FALSE(stale.has_value());
  CHECK(stale.error().code == ErrorCode::conflict);
  CHECK_THAT(stale.error().message,
             Catch::Contains("leased by worker w2") && Catch::Contains("not by worker w1"));
  Lease same_owner_old_token = second[0].lease;
  same_owner_old_token.token = first[0].lease.token;
  const std::vector<Transition> mixed = {
      owned(first[0].job.row_id, first[0].lease, JobState::submitted, JobState::running),
      owned(second[0].job.row_id, same_owner_old_token, JobState::submitted, JobState::running),
      owned(second[0].job.row_id, second[0].lease, JobState::submitted, JobState::running),
  };
  auto outcomes = store->apply_each(mixed);
  REQUIRE(outcomes.has_value());
  CHECK(*outcomes == std::vector<TransitionOutcome>{TransitionOutcome::lost,
                                                    TransitionOutcome::lost,
                                                    TransitionOutcome::applied});
  auto events = store->events(first[0].job.row_id);
  REQUIRE(events.has_value());
  CHECK(events->back().to == JobState::running);
  CHECK(events->back().worker == "w2");
  // A release with the old token leaves w2's lease alone.
  CHECK(store->release_leases(std::vector<LeasedJob>{{first[0].job.row_id, first[0].lease}}, 0)
            .value() == 0);
  CHECK(store->list_workers()->back().leases == 1);
}

TEMPLATE_TEST_CASE("apply_each writes what holds, skips what was lost, refuses bad edges",
                   "[store][leases]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(250), 1000, false).has_value());
  std::vector<Transition> batch;
  for (std::int64_t row = 1; row <= 250; ++row) {
    batch.push_back(step(row, JobState::queued, JobState::submitting));
  }
  apply_unleased(*store, step(121, JobState::queued, JobState::canceled));  // batch[120] is stale
  auto outcomes = store->apply_each(batch);
  REQUIRE(outcomes.has_value());
  REQUIRE(outcomes->size() == 250);
  CHECK(std::count(outcomes->begin(), outcomes->end(), TransitionOutcome::lost) == 1);
  CHECK((*outcomes)[120] == TransitionOutcome::lost);
  CHECK(store->list_jobs({std::nullopt, JobState::submitting})->size() == 249);
  CHECK(store->events(std::nullopt)->size() == 250 + 1 + 249);

  const std::vector<Transition> bad = {step(1, JobState::submitting, JobState::submitted),
                                       step(2, JobState::submitting, JobState::done)};
  auto refused = store->apply_each(bad);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::conflict);
  CHECK_THAT(refused.error().message, Catch::Contains("submitting -> done"));
  CHECK(job_of(*store, 1).state == JobState::submitting);  // nothing written
}

TEMPLATE_TEST_CASE("without a lease, apply keeps its semantics whoever holds the job",
                   "[store][leases]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  set_limits(*store, 0, 1, 100);
  register_worker(*store, "w");
  auto admitted = admit(*store, "w", 2);
  walk_to(*store, admitted[0], JobState::submitted);
  // The user cancels a leased job: the transition applies and the lease goes with it.
  apply_unleased(*store, step(admitted[0].job.row_id, JobState::submitted, JobState::canceled));
  CHECK(store->list_workers()->front().leases == 1);
  auto events = store->events(admitted[0].job.row_id);
  CHECK(events->back().worker.empty());
}

TEMPLATE_TEST_CASE("admission: GCRA burst, then nothing until the rate allows", "[store][leases]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(10), 1000, false).has_value());
  register_worker(*store, "w");
  auto none = store->admit_creates("w", sim_scope(), 1, nullptr);
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code == ErrorCode::not_found);
  CHECK_THAT(none.error().message, Catch::Contains("'sim'"));
  auto bad = store->set_provider_limits("sim", {1000, 0, 5});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == ErrorCode::invalid_input);

  SECTION("one create a minute, three back to back") {
    set_limits(*store, 60000, 3, 100);
    CHECK(rows_of(admit(*store, "w", 10)) == std::vector<std::int64_t>{1, 2, 3});
    CHECK(admit(*store, "w", 10).empty());
    // New limits keep the budget already spent: one more place in the burst, one create.
    set_limits(*store, 60000, 4, 100);
    CHECK(admit(*store, "w", 10).size() == 1);
    CHECK(admit(*store, "w", 10).empty());
  }
  SECTION("one create a second, two back to back: the budget refills with time") {
    set_limits(*store, 1000, 2, 100);
    CHECK(admit(*store, "w", 10).size() == 2);
    CHECK(admit(*store, "w", 10).empty());
    sleep_ms(1100);
    CHECK_FALSE(admit(*store, "w", 10).empty());
  }
  SECTION("no rate limit: the cap alone") {
    set_limits(*store, 0, 1, 4);
    CHECK(admit(*store, "w", 10).size() == 4);
  }
}

TEMPLATE_TEST_CASE("admission: the in-flight cap counts claimed and sent jobs of the provider",
                   "[store][leases]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  auto other = make_specs(3, "other-");
  for (auto& spec : other) {
    spec.provider = "elsewhere";
  }
  auto named = make_specs(3, "named-");
  for (auto& spec : named) {
    spec.provider = "sim";
  }
  REQUIRE(store->import_jobs("b", make_specs(4), 1000, false).has_value());  // default provider
  REQUIRE(store->import_jobs("b", other, 1000, false).has_value());
  REQUIRE(store->import_jobs("c", named, 1000, false).has_value());
  set_limits(*store, 0, 1, 4);
  register_worker(*store, "w");

  auto first = admit(*store, "w", 3);
  CHECK(first.size() == 3);
  auto second = admit(*store, "w", 3);
  REQUIRE(second.size() == 1);  // claimed queued jobs count: 3 + 1 = the cap
  CHECK(admit(*store, "w", 3).empty());
  for (const ClaimedJob& c : first) {
    CHECK(c.job.batch == "b");
    CHECK(c.job.spec.provider.empty());
  }
  walk_to(*store, first[0], JobState::running);  // still at the provider
  CHECK(admit(*store, "w", 3).empty());
  walk_to(*store, first[1], JobState::ready);  // home: one place frees
  auto third = admit(*store, "w", 3);
  REQUIRE(third.size() == 1);
  CHECK(third[0].job.batch == "c");  // the scope's own provider, named

  SECTION("a released claim frees its place") {
    REQUIRE(store->release_leases(std::vector<LeasedJob>{{third[0].job.row_id, third[0].lease}}, 0)
                .value() == 1);
    CHECK(admit(*store, "w", 3).size() == 1);
  }
  SECTION("a deferred release is admitted again only once its time has passed") {
    const std::int64_t gated = third[0].job.row_id;
    REQUIRE(store->release_leases(std::vector<LeasedJob>{{gated, third[0].lease}}, 60000).value() ==
            1);
    auto next = admit(*store, "w", 3);  // the freed place goes to a job that may go now
    REQUIRE(next.size() == 1);
    CHECK(next[0].job.row_id != gated);
    CHECK(job_of(*store, gated).not_before > third[0].job.not_before + 50000);
  }
  SECTION("a batch scope claims only that batch, against the provider's whole cap") {
    walk_to(*store, first[2], JobState::ready);
    auto in_c = admit(*store, "w", 3, sim_scope("c"));
    REQUIRE(in_c.size() == 1);
    CHECK(in_c[0].job.batch == "c");
  }
  SECTION("another provider's jobs are neither counted nor claimed") {
    set_limits(*store, 0, 1, 10, "elsewhere");
    auto there = admit(*store, "w", 10, WorkScope{"elsewhere", false, std::nullopt});
    CHECK(there.size() == 3);
  }
}

TEMPLATE_TEST_CASE("admission and claims wait for not_before", "[store][leases]", SqliteLedger,
                   PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(2), 1000, false).has_value());
  set_limits(*store, 0, 1, 10);
  register_worker(*store, "w");
  auto admitted = admit(*store, "w", 2);
  REQUIRE(admitted.size() == 2);
  const Millis now = store->database_now().value();
  walk_to(*store, admitted[0], JobState::submitting);
  Transition back =
      owned(admitted[0].job.row_id, admitted[0].lease, JobState::submitting, JobState::queued);
  back.update.not_before = now + 3'600'000;  // a retry in an hour (a 429)
  back.release_lease = true;
  REQUIRE(store->apply({&back, 1}).has_value());
  Transition later =
      owned(admitted[1].job.row_id, admitted[1].lease, JobState::queued, JobState::submitting);
  REQUIRE(store->apply({&later, 1}).has_value());
  Transition answered =
      owned(admitted[1].job.row_id, admitted[1].lease, JobState::submitting, JobState::submitted);
  answered.update.not_before = now + 3'600'000;  // first poll in an hour
  answered.release_lease = true;
  REQUIRE(store->apply({&answered, 1}).has_value());
  CHECK(admit(*store, "w", 2).empty());
  CHECK(claim(*store, "w", {JobState::submitted}, 2).empty());
}

TEMPLATE_TEST_CASE("claims take unleased jobs of the scope, each once, never queued ones",
                   "[store][leases]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(6), 1000, false).has_value());
  for (std::int64_t row = 1; row <= 6; ++row) {
    apply_unleased(*store, step(row, JobState::queued, JobState::submitting));
    apply_unleased(*store, step(row, JobState::submitting, JobState::submitted));
  }
  register_worker(*store, "w1");
  register_worker(*store, "w2");
  auto refused = store->claim_jobs("w1", sim_scope(), std::vector<JobState>{JobState::queued}, 5);
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::invalid_input);
  CHECK_FALSE(store->claim_jobs("w1", sim_scope(), std::vector<JobState>{JobState::submitting}, 5)
                  .has_value());

  auto a = claim(*store, "w1", {JobState::submitted}, 4);
  auto b = claim(*store, "w2", {JobState::submitted, JobState::running}, 4);
  CHECK(rows_of(a) == std::vector<std::int64_t>{1, 2, 3, 4});
  CHECK(rows_of(b) == std::vector<std::int64_t>{5, 6});
  CHECK(claim(*store, "w2", {JobState::submitted}, 4).empty());
  for (const ClaimedJob& c : a) {
    CHECK(c.lease.owner == "w1");
    CHECK(c.job.state == JobState::submitted);
  }
  CHECK(claim(*store, "w1", {JobState::submitted}, 4, WorkScope{"other", false, std::nullopt})
            .empty());
}

TEMPLATE_TEST_CASE("a create answer is recorded even after the rescuer took the job",
                   "[store][leases]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(3), 1000, false).has_value());
  set_limits(*store, 0, 1, 10);
  register_worker(*store, "slow", 200);
  auto admitted = admit(*store, "slow", 3);
  REQUIRE(admitted.size() == 3);
  for (const ClaimedJob& c : admitted) {
    walk_to(*store, c, JobState::submitting);
  }
  auto answer_for = [](const ClaimedJob& c, const std::string& remote_id) {
    Transition t = owned(c.job.row_id, c.lease, JobState::submitting, JobState::submitted);
    t.update.remote_id = remote_id;
    t.update.submitted_at = 5000;
    t.http_status = 200;
    return t;
  };

  auto on_time = store->record_create_answer(answer_for(admitted[0], "video_a"), "sim");
  REQUIRE(on_time.has_value());
  CHECK(*on_time == RecordedAnswer::applied);

  sleep_ms(250);  // the worker stalls past its lease; a rescuer makes its creates ambiguous
  REQUIRE(store->rescue_expired_workers()->jobs.size() == 3);
  REQUIRE(job_of(*store, admitted[1].job.row_id).state == JobState::ambiguous);

  auto late = store->record_create_answer(answer_for(admitted[1], "video_b"), "sim");
  REQUIRE(late.has_value());
  CHECK(*late == RecordedAnswer::late);
  const JobRecord adopted = job_of(*store, admitted[1].job.row_id);
  CHECK(adopted.state == JobState::submitted);
  CHECK(adopted.remote_id == "video_b");
  CHECK(adopted.submitted_at == 5000);
  CHECK(adopted.error_code.empty());
  auto events = store->events(adopted.row_id);
  CHECK(events->back().from == JobState::ambiguous);
  CHECK(events->back().worker == "slow");
  CHECK_THAT(events->back().message, Catch::Contains("late create answer"));
  // The same answer again (a retried write): nothing changes.
  CHECK(store->record_create_answer(answer_for(admitted[1], "video_b"), "sim").value() ==
        RecordedAnswer::already_attached);

  // The third job was requeued by the user meanwhile: its video is kept, never dropped.
  apply_unleased(*store, step(admitted[2].job.row_id, JobState::ambiguous, JobState::queued));
  auto orphan = store->record_create_answer(answer_for(admitted[2], "video_c"), "sim");
  REQUIRE(orphan.has_value());
  CHECK(*orphan == RecordedAnswer::unclaimed);
  auto unclaimed = store->unclaimed_videos(std::nullopt);
  REQUIRE(unclaimed->size() == 1);
  CHECK(unclaimed->front().remote_id == "video_c");
  CHECK(unclaimed->front().job_row_id == admitted[2].job.row_id);
  CHECK(unclaimed->front().provider == "sim");
  CHECK(job_of(*store, admitted[2].job.row_id).state == JobState::queued);

  Transition not_an_answer = step(admitted[0].job.row_id, JobState::submitted, JobState::running);
  auto refused = store->record_create_answer(not_an_answer, "sim");
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code == ErrorCode::invalid_input);
  require_event_chains(*store);
}

TEMPLATE_TEST_CASE("a graceful stop releases the worker's jobs and removes it", "[store][leases]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(3), 1000, false).has_value());
  set_limits(*store, 0, 1, 10);
  register_worker(*store, "w");
  auto admitted = admit(*store, "w", 3);
  walk_to(*store, admitted[0], JobState::submitting);
  walk_to(*store, admitted[1], JobState::downloading);
  auto released = store->release_worker("w");
  REQUIRE(released.has_value());
  REQUIRE(released->size() == 3);
  CHECK(job_of(*store, admitted[0].job.row_id).state == JobState::ambiguous);
  CHECK(job_of(*store, admitted[1].job.row_id).state == JobState::ready);
  CHECK(job_of(*store, admitted[2].job.row_id).state == JobState::queued);
  auto events = store->events(admitted[0].job.row_id);
  CHECK_THAT(events->back().message, Catch::Contains("lease released: worker w stopped"));
  CHECK(store->list_workers()->empty());
  CHECK_FALSE(store->heartbeat("w", k_lease_ttl)->alive);
  CHECK(store->release_worker("w")->empty());
  require_event_chains(*store);
}

TEMPLATE_TEST_CASE("one leader per duty while its lease runs", "[store][leases]", SqliteLedger,
                   PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  register_worker(*store, "w1");
  register_worker(*store, "w2");
  CHECK(store->hold_leadership("reconcile:sim", "w1", 150).value());
  CHECK_FALSE(store->hold_leadership("reconcile:sim", "w2", 150).value());
  CHECK(store->hold_leadership("reconcile:sim", "w1", 150).value());  // renewed
  CHECK(store->hold_leadership("reconcile:other", "w2", 150).value());
  sleep_ms(200);
  CHECK(store->hold_leadership("reconcile:sim", "w2", 150).value());  // w1's lease ran out
  CHECK_FALSE(store->hold_leadership("reconcile:sim", "w1", 150).value());
  REQUIRE(store->release_leadership("reconcile:sim", "w1").has_value());  // not its own: no-op
  CHECK_FALSE(store->hold_leadership("reconcile:sim", "w1", 150).value());
  REQUIRE(store->release_leadership("reconcile:sim", "w2").has_value());
  CHECK(store->hold_leadership("reconcile:sim", "w1", 150).value());
  CHECK_FALSE(store->hold_leadership("reconcile:third", "nobody", 150).value());  // no worker
}

// ---- concurrency: threads, each with its own connection --------------------

TEMPLATE_TEST_CASE("concurrent claimers never claim the same job twice", "[store][leases]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  constexpr int k_jobs = 300;
  {
    auto store = open_store(ledger.location());
    REQUIRE(store->import_jobs("b", make_specs(k_jobs), 1000, false).has_value());
    std::vector<Transition> moves;
    for (std::int64_t row = 1; row <= k_jobs; ++row) {
      moves.push_back(step(row, JobState::queued, JobState::submitting));
      moves.push_back(step(row, JobState::submitting, JobState::submitted));
    }
    REQUIRE(store->apply(moves).has_value());
  }
  std::mutex mutex;
  std::map<std::int64_t, int> claims;
  std::vector<std::string> errors;
  auto claimer = [&](int index) {
    auto store = JobStore::open(ledger.location(), SyncMode::normal);
    const std::string worker = "w" + std::to_string(index);
    if (!store || !(*store)->register_worker(worker, "h", index, k_lease_ttl)) {
      std::lock_guard lock(mutex);
      errors.push_back("cannot open or register " + worker);
      return;
    }
    for (;;) {
      auto claimed =
          (*store)->claim_jobs(worker, sim_scope(), std::vector<JobState>{JobState::submitted}, 7);
      std::lock_guard lock(mutex);
      if (!claimed) {
        errors.push_back(claimed.error().describe());
        return;
      }
      if (claimed->empty()) {
        return;
      }
      for (const ClaimedJob& c : *claimed) {
        ++claims[c.job.row_id];
      }
    }
  };
  on_threads(4, claimer);
  INFO((errors.empty() ? std::string() : errors.front()));
  REQUIRE(errors.empty());
  CHECK(claims.size() == static_cast<std::size_t>(k_jobs));
  for (const auto& [row, count] : claims) {
    INFO("job row " << row);
    CHECK(count == 1);
  }
}

namespace {

// A test-only trigger recording every moment the provider holds more than `cap` jobs in
// flight (the in-flight predicate of admission), checked after every write to jobs.
void install_cap_check(SqliteLedger& ledger, int cap) {
  ledger.exec("CREATE TABLE cap_violations (n INTEGER)");
  ledger.exec(
      "CREATE TRIGGER cap_check AFTER UPDATE ON jobs BEGIN "
      "INSERT INTO cap_violations SELECT count(*) FROM jobs WHERE "
      "state IN ('submitting', 'submitted', 'running') OR "
      "(state = 'queued' AND lease_owner IS NOT NULL) HAVING count(*) > " +
      std::to_string(cap) + "; END");
}

void install_cap_check(PgLedger& ledger, int cap) {
  ledger.exec("CREATE TABLE cap_violations (n bigint)");
  ledger.exec(
      "CREATE FUNCTION cap_check() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "INSERT INTO cap_violations SELECT count(*) FROM jobs WHERE "
      "state IN ('submitting', 'submitted', 'running') OR "
      "(state = 'queued' AND lease_owner IS NOT NULL) HAVING count(*) > " +
      std::to_string(cap) + "; RETURN NULL; END $$");
  ledger.exec(
      "CREATE TRIGGER cap_check AFTER UPDATE ON jobs FOR EACH STATEMENT "
      "EXECUTE FUNCTION cap_check()");
}

}  // namespace

TEMPLATE_TEST_CASE("concurrent admission never exceeds the in-flight cap", "[store][leases]",
                   SqliteLedger, PgLedger) {
  TestType ledger;
  constexpr int k_jobs = 120;
  constexpr int k_cap = 5;
  {
    auto store = open_store(ledger.location());
    REQUIRE(store->import_jobs("b", make_specs(k_jobs), 1000, false).has_value());
    set_limits(*store, 0, 1, k_cap);
  }
  install_cap_check(ledger, k_cap);
  // Bounds the whole test: a worker that stops early leaves the others waiting for jobs that
  // never come, so they give up at the deadline and the test fails with a message.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::atomic<int> done{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::vector<std::string> errors;
  auto worker = [&](int index) {
    auto opened = JobStore::open(ledger.location(), SyncMode::normal);
    const std::string id = "w" + std::to_string(index);
    if (!opened || !(*opened)->register_worker(id, "h", index, k_lease_ttl)) {
      std::lock_guard lock(mutex);
      errors.push_back("cannot open or register " + id);
      stop = true;
      return;
    }
    JobStore& store = **opened;
    // A worker that fails gives its admitted jobs back (the release of a graceful stop), so
    // their in-flight slots are not held until its lease expires; the test stops.
    auto give_up = [&](const Error& error) {
      (void)store.release_worker(id);
      std::lock_guard lock(mutex);
      errors.push_back(id + ": " + error.describe());
      stop = true;
    };
    while (done.load() < k_jobs && !stop.load()) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::lock_guard lock(mutex);
        errors.push_back(id + ": gave up after 60 s with " + std::to_string(done.load()) + " of " +
                         std::to_string(k_jobs) + " jobs ready");
        stop = true;
        return;
      }
      auto admitted = store.admit_creates(id, sim_scope(), 3, nullptr);
      if (!admitted) {
        give_up(admitted.error());
        return;
      }
      if (admitted->jobs.empty()) {
        sleep_ms(2);  // the cap is full: wait as a worker polls, not in a write-lock spin
      }
      for (const ClaimedJob& c : admitted->jobs) {
        for (auto [from, to] : {std::pair{JobState::queued, JobState::submitting},
                                {JobState::submitting, JobState::submitted},
                                {JobState::submitted, JobState::running},
                                {JobState::running, JobState::ready}}) {
          Transition t = owned(c.job.row_id, c.lease, from, to);
          t.release_lease = to == JobState::ready;
          if (auto moved = store.apply({&t, 1}); !moved) {
            give_up(moved.error());
            return;
          }
        }
        ++done;
      }
    }
  };
  on_threads(4, worker);
  INFO((errors.empty() ? std::string() : errors.front()));
  REQUIRE(errors.empty());
  CHECK(done.load() == k_jobs);
  CHECK(ledger.rows("cap_violations") == 0);
  CHECK(ledger.rows("jobs WHERE state = 'ready'") == k_jobs);
}

TEMPLATE_TEST_CASE("workers that stall past their lease never create a job twice",
                   "[store][leases]", SqliteLedger, PgLedger) {
  TestType ledger;
  constexpr int k_jobs = 60;
  {
    auto store = open_store(ledger.location());
    REQUIRE(store->import_jobs("b", make_specs(k_jobs), 1000, false).has_value());
    set_limits(*store, 0, 1, 12);
  }
  std::mutex mutex;
  std::map<std::int64_t, int> creates;  // the provider's side: creates sent per job
  std::vector<std::string> errors;
  std::atomic<bool> stop{false};
  auto note_error = [&](const Error& e) {
    std::lock_guard lock(mutex);
    errors.push_back(e.describe());
  };
  // A worker: heartbeat; admit; for each job, the submitting CAS, then the "create" (counted),
  // sometimes a stall past the TTL, then its answer; then it finishes what it holds. A worker
  // found dead registers again under a new id (a restarted process).
  auto worker = [&](int index) {
    auto opened = JobStore::open(ledger.location(), SyncMode::normal);
    if (!opened) {
      note_error(opened.error());
      return;
    }
    JobStore& store = **opened;
    int generation = 0;
    std::string id;
    auto fresh_id = [&] {
      id = "w" + std::to_string(index) + "." + std::to_string(++generation);
      return store.register_worker(id, "h", index, 120);
    };
    if (auto registered = fresh_id(); !registered) {
      note_error(registered.error());
      return;
    }
    for (int turn = 0; !stop.load(); ++turn) {
      auto beat = store.heartbeat(id, 120);
      if (!beat) {
        note_error(beat.error());
        return;
      }
      if (!beat->alive) {
        if (auto registered = fresh_id(); !registered) {
          note_error(registered.error());
          return;
        }
      }
      auto admitted = store.admit_creates(id, sim_scope(), 2, nullptr);
      if (!admitted) {
        note_error(admitted.error());
        return;
      }
      for (const ClaimedJob& c : admitted->jobs) {
        Transition start = owned(c.job.row_id, c.lease, JobState::queued, JobState::submitting);
        auto started = store.apply_each({&start, 1});
        if (!started || started->front() != TransitionOutcome::applied) {
          continue;  // R1: no committed submitting, no create
        }
        {
          std::lock_guard lock(mutex);
          ++creates[c.job.row_id];
        }
        if ((turn + index) % 5 == 0) {
          sleep_ms(200);  // stalled past the TTL: a rescuer makes the create ambiguous
        }
        Transition answer = owned(c.job.row_id, c.lease, JobState::submitting, JobState::submitted);
        answer.release_lease = true;
        if (auto recorded = store.record_create_answer(answer, "sim"); !recorded) {
          note_error(recorded.error());
          return;
        }
      }
      // Finish submitted jobs (anyone's, once unleased).
      auto claimed =
          store.claim_jobs(id, sim_scope(), std::vector<JobState>{JobState::submitted}, 4);
      if (!claimed) {
        note_error(claimed.error());
        return;
      }
      for (const ClaimedJob& c : *claimed) {
        Transition ready = owned(c.job.row_id, c.lease, JobState::submitted, JobState::ready);
        ready.release_lease = true;
        (void)store.apply_each({&ready, 1});
      }
    }
  };
  auto rescuer = [&] {
    auto opened = JobStore::open(ledger.location(), SyncMode::normal);
    if (!opened) {
      note_error(opened.error());
      return;
    }
    while (!stop.load()) {
      if (auto rescued = (*opened)->rescue_expired_workers(); !rescued) {
        note_error(rescued.error());
        return;
      }
      sleep_ms(15);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(worker, i);
  }
  threads.emplace_back(rescuer);
  threads.emplace_back(rescuer);
  auto store = open_store(ledger.location());
  for (int waited = 0; waited < 600; ++waited) {
    auto ready = store->list_jobs({std::nullopt, JobState::ready});
    REQUIRE(ready.has_value());
    if (ready->size() == static_cast<std::size_t>(k_jobs)) {
      break;
    }
    sleep_ms(50);
  }
  stop = true;
  for (auto& t : threads) {
    t.join();
  }
  INFO((errors.empty() ? std::string() : errors.front()));
  REQUIRE(errors.empty());
  CHECK(store->list_jobs({std::nullopt, JobState::ready})->size() ==
        static_cast<std::size_t>(k_jobs));
  for (const auto& [row, count] : creates) {
    INFO("job row " << row);
    CHECK(count == 1);
  }
  CHECK(creates.size() == static_cast<std::size_t>(k_jobs));
  auto events = store->events(std::nullopt);
  int rescued = 0;
  for (const EventRecord& e : *events) {
    CHECK_FALSE((e.from == JobState::submitting && e.to == JobState::queued));
    rescued += e.to == JobState::ambiguous ? 1 : 0;
  }
  CHECK(rescued > 0);  // the stalls did make the rescuer act
  require_event_chains(*store);
}

namespace {

// The learnt limits as an admission of `worker` reads them.
LearntLimits learnt_limits(JobStore& store, const std::string& worker) {
  auto admitted = store.admit_creates(worker, sim_scope(), 0, nullptr);
  INFO((admitted ? std::string() : admitted.error().describe()));
  REQUIRE(admitted.has_value());
  return admitted->learnt;
}

bool raise_learnt(JobStore& store, LearntLimit limit, double seen, double value) {
  auto raised = store.raise_learnt_limit("sim", limit, seen, value);
  INFO((raised ? std::string() : raised.error().describe()));
  REQUIRE(raised.has_value());
  return *raised;
}

void lower_learnt(JobStore& store, LearntLimit limit, double value) {
  auto lowered = store.lower_learnt_limit("sim", limit, value);
  INFO((lowered ? std::string() : lowered.error().describe()));
  REQUIRE(lowered.has_value());
}

// Two connections to a fresh ledger of 10 queued jobs, the provider's cap `max_in_flight`
// (no configured rate), and the worker w1.
template <typename Ledger>
std::pair<std::unique_ptr<JobStore>, std::unique_ptr<JobStore>> learnt_setup(const Ledger& ledger,
                                                                             int max_in_flight) {
  auto store = open_store(ledger.location());
  auto other = open_store(ledger.location());
  REQUIRE(store->import_jobs("b", make_specs(10), 1000, false).has_value());
  set_limits(*store, 0, 1, max_in_flight);
  register_worker(*store, "w1");
  return {std::move(store), std::move(other)};
}

}  // namespace

TEMPLATE_TEST_CASE("admission: a learnt in-flight cap one worker lowered bounds every worker",
                   "[store][leases][learnt]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto [store, other] = learnt_setup(ledger, 5);
  register_worker(*store, "w2");
  CHECK_FALSE(learnt_limits(*store, "w1").in_flight);  // none learnt yet

  lower_learnt(*store, LearntLimit::in_flight, 2);  // w1 was refused and halved
  CHECK(admit(*store, "w1", 5).size() == 2);
  CHECK(admit(*other, "w2", 5).empty());  // the cap is the provider's, not w1's
  CHECK(learnt_limits(*other, "w2").in_flight == 2);
  lower_learnt(*other, LearntLimit::in_flight, 4);  // a lowering never raises
  CHECK(learnt_limits(*store, "w1").in_flight == 2);
  CHECK(admit(*other, "w2", 5).empty());

  // Growth is a compare-and-set from the value its worker last saw.
  CHECK(raise_learnt(*other, LearntLimit::in_flight, 2, 3));
  CHECK_FALSE(raise_learnt(*store, LearntLimit::in_flight, 2, 3));  // stale: w2 moved it
  CHECK(admit(*store, "w1", 5).size() == 1);
  CHECK(learnt_limits(*store, "w1").in_flight == 3);
}

TEMPLATE_TEST_CASE("admission: growth of a learnt limit loses to a concurrent halving",
                   "[store][leases][learnt]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto [store, other] = learnt_setup(ledger, 8);
  const bool halving_first = GENERATE(true, false);
  for (const LearntLimit limit : {LearntLimit::in_flight, LearntLimit::per_minute}) {
    CHECK_FALSE(raise_learnt(*store, limit, 4, 5));  // nothing learnt: nothing to grow
    lower_learnt(*store, limit, 4);
    // w2 saw 4 and grows to 5 while w1 halves 4 to 2: whichever writes first, 2 stays.
    if (halving_first) {
      lower_learnt(*store, limit, 2);
      CHECK_FALSE(raise_learnt(*other, limit, 4, 5));
    } else {
      CHECK(raise_learnt(*other, limit, 4, 5));
      lower_learnt(*store, limit, 2);
    }
  }
  const LearntLimits learnt = learnt_limits(*store, "w1");
  CHECK(learnt.in_flight == 2);
  CHECK(learnt.per_minute == 2);
  // Interval 0 ("auto"): the learnt 2 a minute paces admission (burst 1).
  CHECK(admit(*store, "w1", 5).size() == 1);
  CHECK(admit(*store, "w1", 5).empty());
}

TEMPLATE_TEST_CASE("admission: a learnt rate applies only where no rate is configured",
                   "[store][leases][learnt]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto [store, other] = learnt_setup(ledger, 10);
  lower_learnt(*store, LearntLimit::per_minute, 1);  // one a minute: an interval of 60 s
  SECTION("auto: paced at the learnt rate") {
    CHECK(admit(*store, "w1", 5).size() == 1);
    CHECK(admit(*store, "w1", 5).empty());
  }
  SECTION("a configured rate wins") {
    set_limits(*store, 1, 5, 10);  // 5 back to back
    CHECK(admit(*store, "w1", 5).size() == 5);
  }
}
