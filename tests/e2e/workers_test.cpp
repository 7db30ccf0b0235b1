// Several `vidbatch run` processes as workers of one ledger (SQLite file, then PostgreSQL),
// against the simulator, under faults: `kill -9` of a worker, and SIGSTOP of one for longer
// than its time to live, each restarted. At the end every job is done, the simulator counts one
// create per job, it never held more unfinished videos than the shared in-flight cap, and every
// job's events chain.
//
// A fault hits a worker while it holds a job in `submitting` (found from the ledger's events,
// the handshake of Solid Queue's process tests), so it lands where a wrong rescue would pay
// twice. Scaled for a loaded 2-core machine (k_plan: 3 workers, 120 jobs, 6 faults, well under
// a minute); the full scale (6 workers, 500 jobs, 20 faults: k_full_plan) is the same test in
// the hidden cases [chaos-full], run by hand: vidbatch_tests "[chaos-full]".
//
// The negative control plays a broken rescuer beside the workers: it sends the `submitting`
// jobs of expired workers back to `queued` (what rescue_expired_workers must never do) faster
// than the workers' own rescuers run. The same faults then produce duplicate creates, which the
// control asserts: the chaos test can fail.
#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <random>
#include <thread>

#include "e2e/e2e_fixture.h"
#include "support/pg_server.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::SimProcess;
using vidbatch::test::Subprocess;

namespace {

struct ChaosPlan {
  int jobs = 120;
  int workers = 3;
  int faults = 6;        // alternately kill -9 and SIGSTOP past the time to live
  int cap = 6;           // the provider's in-flight cap, shared by every worker
  Millis ttl_ms = 2500;  // [store] worker_ttl_ms
  int deadline_s = 120;  // for the whole run
};

constexpr ChaosPlan k_plan;
constexpr ChaosPlan k_full_plan{500, 6, 20, 6, 2500, 900};

struct Worker {
  std::unique_ptr<Subprocess> process;
  int starts = 0;
};

// The pid in a worker id "host:pid:random", 0 when it is not one.
pid_t pid_of(const std::string& worker) {
  const auto first = worker.find(':');
  const auto last = worker.rfind(':');
  if (first == std::string::npos || last == first) {
    return 0;
  }
  try {
    return static_cast<pid_t>(std::stol(worker.substr(first + 1, last - first - 1)));
  } catch (const std::exception&) {
    return 0;
  }
}

// The pids of the workers that hold a job in `submitting` (its last event names the worker).
std::vector<pid_t> pids_submitting(JobStore& store) {
  std::vector<pid_t> pids;
  JobFilter filter;
  filter.state = JobState::submitting;
  auto jobs = store.list_jobs(filter);
  if (!jobs) {
    return pids;
  }
  for (const JobRecord& job : *jobs) {
    auto events = store.events(job.row_id);
    if (events && !events->empty() && events->back().to == JobState::submitting) {
      pids.push_back(pid_of(events->back().worker));
    }
  }
  return pids;
}

class ChaosRun {
 public:
  ChaosRun(E2eFolder& folder, const SimProcess& sim, const ChaosPlan& plan)
      : m_folder(folder), m_sim(sim), m_plan(plan) {
    folder.write_config(plan.cap, "ambiguous_settle_ms = 300\n[store]\nworker_ttl_ms = " +
                                      std::to_string(plan.ttl_ms) + "\n");
    m_manifest = folder.write_manifest("chaos", plan.jobs);
  }

  // Starts the workers, makes the faults, restarts what stopped, and waits until every
  // worker has finished on its own. Returns the faults made.
  int run() {
    m_workers.resize(static_cast<std::size_t>(m_plan.workers));
    for (std::size_t i = 0; i < m_workers.size(); ++i) {
      start(i);
      if (i == 0) {
        wait_for_jobs();  // the others join a batch already imported
      }
    }
    auto store = m_folder.open_store();
    std::mt19937 rng(Catch::rngSeed());
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(m_plan.deadline_s);
    int faults = 0;
    while (faults < m_plan.faults) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      restart_stopped();
      if (!any_running()) {
        break;  // the batch finished before every fault was made
      }
      auto pids = pids_submitting(*store);
      std::shuffle(pids.begin(), pids.end(), rng);
      Worker* target = pids.empty() ? nullptr : find(pids.front());
      if (target == nullptr) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      if (faults % 2 == 0) {
        target->process->send_signal(SIGKILL);
        target->process->wait();
      } else {
        target->process->send_signal(SIGSTOP);
        std::this_thread::sleep_for(std::chrono::milliseconds(m_plan.ttl_ms + 1500));
        target->process->send_signal(SIGCONT);
      }
      faults += 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    // Workers run until the ledger has no work left; one that was declared dead exits, and
    // is started again while jobs remain.
    while (true) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      if (!any_running()) {
        if (!work_left(*store)) {
          break;
        }
        restart_stopped();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // The last of each worker finished the batch, or was declared dead near its end.
    for (std::size_t i = 0; i < m_workers.size(); ++i) {
      const std::string tag =
          "worker" + std::to_string(i) + "." + std::to_string(m_workers[i].starts - 1);
      const CommandResult last = m_folder.finish(*m_workers[i].process, tag);
      INFO(tag << " exited " << last.exit_code << ": " << last.err);
      CHECK((last.exit_code == 0 ||
             (last.exit_code == 3 && last.err.find("declared dead") != std::string::npos)));
    }
    return faults;
  }

 private:
  void start(std::size_t index) {
    Worker& worker = m_workers[index];
    const std::string tag = "worker" + std::to_string(index) + "." + std::to_string(worker.starts);
    worker.process = m_folder.start({"run", m_manifest}, m_sim.base_url(), tag);
    worker.starts += 1;
  }

  void wait_for_jobs() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      if (JobStore::exists(m_folder.db()).value_or(false)) {
        auto store = JobStore::open_for_reading(m_folder.db());
        if (store) {
          auto jobs = (*store)->list_jobs({});
          if (jobs && !jobs->empty()) {
            return;
          }
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // Workers that exited (declared dead, or done while others still worked) start again while
  // the batch has work left.
  void restart_stopped() {
    for (std::size_t i = 0; i < m_workers.size(); ++i) {
      if (!m_workers[i].process->running()) {
        auto store = m_folder.open_store();
        if (work_left(*store)) {
          start(i);
        }
      }
    }
  }

  bool any_running() {
    for (Worker& worker : m_workers) {
      if (worker.process->running()) {
        return true;
      }
    }
    return false;
  }

  Worker* find(pid_t pid) {
    for (Worker& worker : m_workers) {
      if (worker.process->pid() == pid && worker.process->running()) {
        return &worker;
      }
    }
    return nullptr;
  }

  // Jobs a worker would still work on: not terminal, not ambiguous (a worker stays while it
  // can reconcile one; one left to `vidbatch resolve` would restart workers forever). What the
  // batch ended in is for the test to check.
  static bool work_left(JobStore& store) {
    auto counts = store.count_states();
    REQUIRE(counts.has_value());
    for (const StateCount& c : *counts) {
      if (!is_terminal(c.state) && c.state != JobState::ambiguous && c.count > 0) {
        return true;
      }
    }
    return false;
  }

  E2eFolder& m_folder;
  const SimProcess& m_sim;
  ChaosPlan m_plan;
  std::string m_manifest;
  std::vector<Worker> m_workers;
};

void require_one_create_per_job(const SimProcess& sim, E2eFolder& folder, const ChaosPlan& plan) {
  auto stats = parse_json(sim.stats());
  for (const auto& entry : stats["creates_by_prompt"].GetObject()) {
    INFO("prompt " << entry.name.GetString());
    CHECK(entry.value.GetInt() == 1);
  }
  CHECK(stats["creates_total"].GetInt() == plan.jobs);
  CHECK(stats["max_in_flight_seen"].GetInt() <= plan.cap);
  auto store = folder.open_store();
  auto jobs = store->list_jobs({});
  REQUIRE(jobs.has_value());
  REQUIRE(jobs->size() == static_cast<std::size_t>(plan.jobs));
  for (const auto& job : *jobs) {
    INFO("job " << job.spec.id << ": " << job.error_message);
    CHECK(job.state == JobState::done);
    CHECK(sha256_file(job.output_path) == job.sha256);
  }
  require_consistent_events(*store);
}

SimProcess chaos_sim(const std::string& latency_ms = "150") {
  // Creates answer after 150 ms, so a fault finds jobs in `submitting`; videos take 500 ms,
  // far less than the time to live, so a rescued job's video is finished before its slot is
  // reused.
  return SimProcess(
      {"--gen-ms", "500", "--latency-ms", latency_ms, "--quiet", "--video-bytes", "20000"});
}

// A chaos run of `plan` on the folder's ledger.
void run_chaos(E2eFolder& folder, const ChaosPlan& plan) {
  SimProcess sim = chaos_sim();
  ChaosRun chaos(folder, sim, plan);
  CHECK(chaos.run() == plan.faults);
  require_one_create_per_job(sim, folder, plan);
}

}  // namespace

TEST_CASE("workers on one SQLite ledger survive kill -9 and stalls: one create per job",
          "[e2e][chaos][workers]") {
  E2eFolder folder;
  run_chaos(folder, k_plan);
}

TEST_CASE("workers on one PostgreSQL ledger survive kill -9 and stalls: one create per job",
          "[e2e][chaos][workers][postgres]") {
  E2eFolder folder;
  folder.use_ledger(fresh_pg_database());
  run_chaos(folder, k_plan);
}

TEST_CASE("full scale: 6 workers, 500 jobs, 20 faults on one SQLite ledger", "[.][chaos-full]") {
  E2eFolder folder;
  run_chaos(folder, k_full_plan);
}

TEST_CASE("full scale: 6 workers, 500 jobs, 20 faults on one PostgreSQL ledger",
          "[.][chaos-full]") {
  E2eFolder folder;
  folder.use_ledger(fresh_pg_database());
  run_chaos(folder, k_full_plan);
}

TEST_CASE("negative control: a rescuer that requeues submitting jobs pays twice",
          "[e2e][chaos][workers]") {
  // Only a fault that lands after a create left (and before its answer was recorded) can make
  // a duplicate: answers take 600 ms here, so most faults found in `submitting` do, even on a
  // busy machine where the faults land late.
  SimProcess sim = chaos_sim("600");
  E2eFolder folder;
  ChaosPlan plan = k_plan;
  plan.faults = 10;
  ChaosRun chaos(folder, sim, plan);
  // The broken rescuer: the submitting jobs of every expired worker back to queued (with an
  // event, so the chains hold), the worker reaped; every 20 ms, so it beats the real rescuers.
  std::atomic<bool> stop{false};
  std::thread rescuer;
  // Stops and joins the rescuer however the run ends (a failed REQUIRE throws past it).
  struct StopAndJoin {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~StopAndJoin() {
      stop = true;
      if (thread.joinable()) {
        thread.join();
      }
    }
  } guard{stop, rescuer};
  rescuer = std::thread([&] {
    while (!stop.load() && !JobStore::exists(folder.db()).value_or(false)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the first import
    SQLite::Database db(folder.db(), SQLite::OPEN_READWRITE, 5000);
    const std::string expired =
        "SELECT id FROM workers WHERE expires_at < "
        "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
    while (!stop.load()) {
      try {
        SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
        db.exec(
            "INSERT INTO events (job_id, at, from_state, to_state, message, worker) "
            "SELECT id, 0, 'submitting', 'queued', 'broken rescuer', lease_owner FROM jobs "
            "WHERE state = 'submitting' AND lease_owner IN (" +
            expired + ")");
        db.exec(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_token = NULL "
            "WHERE state = 'submitting' AND lease_owner IN (" +
            expired + ")");
        tx.commit();
      } catch (const SQLite::Exception&) {
        // busy: the next round
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  chaos.run();
  auto stats = parse_json(sim.stats());
  int duplicates = 0;
  for (const auto& entry : stats["creates_by_prompt"].GetObject()) {
    duplicates += entry.value.GetInt() > 1 ? 1 : 0;
  }
  INFO("creates: " << stats["creates_total"].GetInt() << " for " << plan.jobs << " jobs");
  CHECK(duplicates > 0);
}

namespace {

// limits.submits_per_minute of the folder's config (write_config's 6000) set to `value`.
void set_submit_rate(E2eFolder& folder, const std::string& value) {
  std::string config = read_file(folder.path("vidbatch.toml"));
  const std::string rate = "submits_per_minute = 6000";
  config.replace(config.find(rate), rate.size(), "submits_per_minute = " + value);
  folder.write_raw_config(config);
}

}  // namespace

TEST_CASE("two workers share one budget: the simulator sees exactly the creates it allows",
          "[e2e][workers][budget]") {
  SimProcess sim({"--gen-ms", "300", "--quiet"});
  E2eFolder folder;
  folder.write_config(16);
  // One create every 0.5 s across both workers: each starts before the other has spent much.
  set_submit_rate(folder, "120");
  const std::string manifest = folder.write_manifest("budget", 20);  // sora-2, 4 s: $0.40 each
  auto first = folder.start({"run", manifest, "--budget", "2.00"}, sim.base_url(), "w0");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!JobStore::exists(folder.db()).value_or(false) ||
         folder.open_store()->list_jobs({}).value_or(std::vector<JobRecord>{}).empty()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto second = folder.start({"run", manifest, "--budget", "2.00"}, sim.base_url(), "w1");
  for (auto* worker : {first.get(), second.get()}) {
    const CommandResult result = folder.finish(*worker, worker == first.get() ? "w0" : "w1");
    INFO(result.err);
    CHECK(result.exit_code == 3);  // stopped at the budget
    CHECK_THAT(result.err, Catch::Contains("budget"));
  }
  CHECK(parse_json(sim.stats())["creates_total"].GetInt() == 5);
  auto store = folder.open_store();
  JobFilter queued;
  queued.state = JobState::queued;
  CHECK(store->list_jobs(queued)->size() == 15);
}

TEST_CASE("two workers learn one in-flight cap: a halving by one bounds both",
          "[e2e][workers][learnt]") {
  SimProcess sim({"--gen-ms", "300", "--max-in-flight", "3", "--quiet"});
  E2eFolder folder;
  folder.write_config(16);
  set_submit_rate(folder, "\"auto\"");
  const std::string manifest = folder.write_manifest("learnt", 24);
  auto first = folder.start({"run", manifest}, sim.base_url(), "w0");
  auto second = folder.start({"run", manifest}, sim.base_url(), "w1");
  for (auto* worker : {first.get(), second.get()}) {
    const CommandResult result = folder.finish(*worker, worker == first.get() ? "w0" : "w1");
    INFO(result.err);
    CHECK(result.exit_code == 0);
  }
  JobFilter done;
  done.state = JobState::done;
  CHECK(folder.open_store()->list_jobs(done)->size() == 24);
  // The simulator checks its limit of 3 and adds the video in two steps, so creates arriving
  // together may pass it side by side (seen: 5 on a busy machine); the ledger's learnt cap
  // above is what this test holds to.
  CHECK(parse_json(sim.stats())["max_in_flight_seen"].GetInt() <= 6);
  // The refusals were shared: the ledger holds a learnt cap near the provider's 3, below the
  // configured 16 (growth by half a job per round of accepted creates).
  SQLite::Database db(folder.db(), SQLite::OPEN_READONLY);
  SQLite::Statement learnt(db, "SELECT learnt_in_flight FROM provider_limits");
  REQUIRE(learnt.executeStep());
  REQUIRE_FALSE(learnt.getColumn(0).isNull());
  CHECK(learnt.getColumn(0).getDouble() <= 5);
}
