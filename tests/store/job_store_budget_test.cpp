// [store][budget] limits.budget_usd admitted by the ledger with the creates (CreateBudget): one
// budget for every worker and provider of the ledger, on both ledgers (SQLite and PostgreSQL).
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

namespace {

// Every job costs 1 USD, but the one whose prompt is `unpriced` has no price.
CreateBudget dollar_budget(double limit_usd, const std::string& unpriced = "") {
  return CreateBudget{limit_usd, [unpriced](const JobSpec& spec) -> std::optional<double> {
                        if (spec.prompt == unpriced) {
                          return std::nullopt;
                        }
                        return 1.0;
                      }};
}

void prepare(JobStore& store, int jobs, const std::vector<std::string>& workers) {
  REQUIRE(store.import_jobs("b", make_specs(jobs), 1000, false).has_value());
  REQUIRE(store.set_provider_limits("sim", {0, 1, 100}).has_value());
  for (const std::string& worker : workers) {
    REQUIRE(store.register_worker(worker, "h", 1, k_lease_ttl).has_value());
  }
}

Admission admit_within_budget(JobStore& store, const std::string& worker, int want,
                              const CreateBudget& budget, const WorkScope& scope = sim_scope()) {
  auto admitted = store.admit_creates(worker, scope, want, &budget);
  INFO((admitted ? std::string() : admitted.error().describe()));
  REQUIRE(admitted.has_value());
  return std::move(*admitted);
}

void apply_ok(JobStore& store, Transition t, const std::optional<Lease>& lease) {
  t.lease = lease;
  if (t.to == JobState::submitted) {
    t.update.remote_id = "video_" + std::to_string(t.row_id);
  }
  auto applied = store.apply({&t, 1});
  INFO((applied ? std::string() : applied.error().describe()));
  REQUIRE(applied.has_value());
}

// The admitted job's create is answered and its video saved: it stays spent.
void finish(JobStore& store, const ClaimedJob& job) {
  const JobState path[] = {JobState::queued,  JobState::submitting, JobState::submitted,
                           JobState::running, JobState::ready,      JobState::downloading,
                           JobState::done};
  for (std::size_t i = 1; i < std::size(path); ++i) {
    apply_ok(store, step(job.job.row_id, path[i - 1], path[i]), job.lease);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("the budget is shared: what any worker sent or claimed counts",
                   "[store][budget]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  prepare(*store, 10, {"w1", "w2"});
  const CreateBudget budget = dollar_budget(4.5);

  Admission first = admit_within_budget(*store, "w1", 3, budget);
  REQUIRE(first.jobs.size() == 3);
  CHECK_FALSE(first.over_budget);
  CHECK(first.spent_usd == 0.0);

  // The other worker sees the first one's claims: 1 more fits, the next one stops admission.
  Admission second = admit_within_budget(*store, "w2", 3, budget);
  REQUIRE(second.jobs.size() == 1);
  CHECK(second.spent_usd == 3.0);
  REQUIRE(second.over_budget);
  CHECK(second.over_budget->spec.id == "job-4");
  CHECK_FALSE(second.over_budget->spec.id == second.jobs[0].job.spec.id);
  CHECK(admit_within_budget(*store, "w1", 3, budget).jobs.empty());

  // A create that certainly did not leave goes back unleased: its charge is free again.
  apply_ok(*store, step(first.jobs[0].job.row_id, JobState::queued, JobState::submitting),
           first.jobs[0].lease);
  Transition back = step(first.jobs[0].job.row_id, JobState::submitting, JobState::queued);
  back.release_lease = true;
  apply_ok(*store, back, first.jobs[0].lease);
  Admission third = admit_within_budget(*store, "w2", 3, budget);
  REQUIRE(third.jobs.size() == 1);
  CHECK(third.spent_usd == 3.0);

  // A finished job stays spent; a stopped worker's claimed jobs are spent no more.
  finish(*store, first.jobs[1]);
  REQUIRE(store->release_worker("w1").has_value());
  Admission fourth = admit_within_budget(*store, "w2", 5, budget);
  CHECK(fourth.spent_usd == 3.0);  // first.jobs[1] (done), second's and third's claims
  CHECK(fourth.jobs.size() == 1);
  CHECK(fourth.over_budget);
}

TEMPLATE_TEST_CASE("the budget charges jobs sent without a charge and stops at an unpriced job",
                   "[store][budget]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  prepare(*store, 5, {"w"});
  // job-0 was sent outside admission (no charge recorded): it counts at its cost.
  const std::int64_t sent = row_of(*store, "b", "job-0");
  apply_ok(*store, step(sent, JobState::queued, JobState::submitting), std::nullopt);
  apply_ok(*store, step(sent, JobState::submitting, JobState::submitted), std::nullopt);

  Admission admitted = admit_within_budget(*store, "w", 5, dollar_budget(10, "prompt number 2"));
  CHECK(admitted.spent_usd == 1.0);
  REQUIRE(admitted.jobs.size() == 1);
  CHECK(admitted.jobs[0].job.spec.id == "job-1");
  REQUIRE(admitted.over_budget);
  CHECK(admitted.over_budget->spec.id == "job-2");
  CHECK(admitted.over_budget->state == JobState::queued);
  // job-2 stays unleased: without a budget it is admitted as before.
  auto plain = store->admit_creates("w", sim_scope(), 5, nullptr);
  REQUIRE(plain.has_value());
  CHECK(plain->jobs.size() == 3);
}

TEMPLATE_TEST_CASE("concurrent workers of two providers never pass the budget together",
                   "[store][budget]", SqliteLedger, PgLedger) {
  TestType ledger;
  constexpr int k_jobs = 40;
  constexpr int k_fits = 9;
  {
    auto store = open_store(ledger.location());
    std::vector<JobSpec> specs = make_specs(k_jobs);
    for (int i = 0; i < k_jobs; i += 2) {
      specs[static_cast<std::size_t>(i)].provider = "other";
    }
    REQUIRE(store->import_jobs("b", specs, 1000, false).has_value());
    REQUIRE(store->set_provider_limits("sim", {0, 1, 100}).has_value());
    REQUIRE(store->set_provider_limits("other", {0, 1, 100}).has_value());
  }
  const CreateBudget budget = dollar_budget(k_fits + 0.5);
  std::atomic<int> created{0};
  std::mutex mutex;
  std::vector<std::string> errors;
  auto worker = [&](int index) {
    auto opened = JobStore::open(ledger.location(), SyncMode::normal);
    const std::string id = "w" + std::to_string(index);
    const WorkScope scope = index % 2 == 0 ? sim_scope() : WorkScope{"other", false, {}};
    if (!opened || !(*opened)->register_worker(id, "h", index, k_lease_ttl)) {
      std::lock_guard lock(mutex);
      errors.push_back("cannot open or register " + id);
      return;
    }
    for (int round = 0; round < 200; ++round) {
      auto admitted = (*opened)->admit_creates(id, scope, 2, &budget);
      if (!admitted) {
        std::lock_guard lock(mutex);
        errors.push_back(id + ": " + admitted.error().describe());
        return;
      }
      for (const ClaimedJob& job : admitted->jobs) {
        Transition t = step(job.job.row_id, JobState::queued, JobState::submitting);
        t.lease = job.lease;
        if ((*opened)->apply({&t, 1})) {
          created.fetch_add(1);
        }
      }
      if (admitted->over_budget && admitted->jobs.empty()) {
        return;
      }
    }
  };
  on_threads(4, worker);
  INFO((errors.empty() ? std::string() : errors.front()));
  CHECK(errors.empty());
  CHECK(created.load() == k_fits);
}

// The race the lock closes (two providers' admissions each reading the same spending) is one
// moment per batch; this shows the lock deterministically: held elsewhere, admission waits.
TEST_CASE("on PostgreSQL budgeted admissions of any provider wait on one ledger-wide lock",
          "[store][budget][postgres]") {
  PgLedger ledger;
  auto store = open_store(ledger.location());
  prepare(*store, 4, {"w"});
  // The key of store_detail::k_pg_budget_lock, held by another session.
  ledger.exec("SELECT pg_advisory_lock(1447183176, 2)");
  const CreateBudget budget = dollar_budget(10);
  std::atomic<bool> admitted{false};
  std::size_t jobs = 0;
  std::thread admission([&] {
    auto result = store->admit_creates("w", sim_scope(), 2, &budget);
    jobs = result ? result->jobs.size() : 0;
    admitted = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(admitted.load());
  ledger.exec("SELECT pg_advisory_unlock(1447183176, 2)");
  admission.join();
  CHECK(jobs == 2);
  // Without a budget, admission takes no such lock.
  ledger.exec("SELECT pg_advisory_lock(1447183176, 2)");
  auto plain = store->admit_creates("w", sim_scope(), 1, nullptr);
  REQUIRE(plain.has_value());
  CHECK(plain->jobs.size() == 1);
  ledger.exec("SELECT pg_advisory_unlock(1447183176, 2)");
}
