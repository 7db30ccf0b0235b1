// vidbatch-store-bench: claims and transitions per second of a ledger (SQLite file or
// PostgreSQL URL), with WORKERS threads each on its own connection, as separate worker
// processes would be. On a fresh ledger of JOBS queued jobs (no rate limit, no cap):
//   1. admission: each worker admits creates, 50 per call, until none is left (claims/s); with
//      BUDGET "budget", under a budget every job fits in (1 USD each), so each call also sums
//      what the ledger has spent and records the charges;
//   2. single transitions: queued -> submitting, one transaction each, as a create's R1 write
//      is (transitions/s);
//   3. batched transitions: submitting -> submitted -> running in apply_each batches of 100,
//      as the engine's group commit writes answers (transitions/s);
//   4. claims for polls: leases released, then each worker claims running jobs, 50 per call
//      (claims/s);
//   5. the workers stop: their leases released as a rescue does it (jobs/s).
// Prints figures only; bench/store.sh runs it on both stores and prints ratios.
// usage: vidbatch-store-bench LOCATION [JOBS=10000] [WORKERS=1] [BUDGET]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "store/job_store.h"

namespace {

using Clock = std::chrono::steady_clock;
using vb::ClaimedJob;
using vb::JobState;
using vb::JobStore;
using vb::Transition;

[[noreturn]] void die(const std::string& what, const vb::Error& error) {
  std::fprintf(stderr, "store-bench: %s: %s\n", what.c_str(), error.describe().c_str());
  std::exit(1);
}

std::unique_ptr<JobStore> open_or_die(const std::string& location) {
  auto store = JobStore::open(location, vb::SyncMode::full);
  if (!store) {
    die("open", store.error());
  }
  return std::move(*store);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `body(worker index, store)` on `workers` threads, each with its own connection, and
// returns the wall time of the slowest.
template <typename Body>
double on_workers(const std::string& location, int workers, Body body) {
  std::vector<std::unique_ptr<JobStore>> stores;
  for (int w = 0; w < workers; ++w) {
    stores.push_back(open_or_die(location));
  }
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] { body(w, *stores[w]); });
  }
  for (auto& t : threads) {
    t.join();
  }
  return seconds_since(start);
}

Transition owned(const ClaimedJob& c, JobState from, JobState to) {
  Transition t;
  t.row_id = c.job.row_id;
  t.from = from;
  t.to = to;
  t.at = 1;
  t.lease = c.lease;
  if (to == JobState::submitted) {
    t.update.remote_id = "video_" + std::to_string(c.job.row_id);
  }
  return t;
}

void report(const char* phase, long count, double seconds, const char* unit) {
  std::printf("%-22s %8ld %-12s %7.2f s  %9.0f %s/s\n", phase, count, unit, seconds,
              count / seconds, unit);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: vidbatch-store-bench LOCATION [JOBS=10000] [WORKERS=1] [budget]\n");
    return 2;
  }
  const std::string location = argv[1];
  const int jobs = argc > 2 ? std::atoi(argv[2]) : 10000;
  const int workers = argc > 3 ? std::atoi(argv[3]) : 1;
  const bool budgeted = argc > 4 && std::string(argv[4]) == "budget";
  const vb::CreateBudget budget{jobs + 1.0, [](const vb::JobSpec&) { return 1.0; }};
  {
    auto store = open_or_die(location);
    std::vector<vb::JobSpec> specs(static_cast<std::size_t>(jobs));
    for (int i = 0; i < jobs; ++i) {
      specs[i].id = "job-" + std::to_string(i);
      specs[i].prompt = "prompt number " + std::to_string(i);
    }
    const auto start = Clock::now();
    if (auto imported = store->import_jobs("bench", specs, 1, false); !imported) {
      die("import", imported.error());
    }
    report("import", jobs, seconds_since(start), "jobs");
    if (auto set = store->set_provider_limits("sim", {0, 1, jobs}); !set) {
      die("limits", set.error());
    }
  }
  std::printf("%s, %d worker(s)\n", JobStore::display_location(location).c_str(), workers);
  const vb::WorkScope scope{"sim", true, std::nullopt};
  std::vector<std::vector<ClaimedJob>> held(static_cast<std::size_t>(workers));
  auto id_of = [](int w) { return "bench-" + std::to_string(w); };

  double seconds = on_workers(location, workers, [&](int w, JobStore& store) {
    if (auto registered = store.register_worker(id_of(w), "bench", w, 600000); !registered) {
      die("register", registered.error());
    }
    for (;;) {
      auto admitted = store.admit_creates(id_of(w), scope, 50, budgeted ? &budget : nullptr);
      if (!admitted) {
        die("admit", admitted.error());
      }
      if (admitted->jobs.empty()) {
        return;
      }
      held[w].insert(held[w].end(), admitted->jobs.begin(), admitted->jobs.end());
    }
  });
  long claimed = 0;
  for (const auto& h : held) {
    claimed += static_cast<long>(h.size());
  }
  report(budgeted ? "admission+budget (50)" : "admission (50/call)", claimed, seconds, "claims");

  seconds = on_workers(location, workers, [&](int w, JobStore& store) {
    for (const ClaimedJob& c : held[w]) {
      const Transition t = owned(c, JobState::queued, JobState::submitting);
      if (auto applied = store.apply({&t, 1}); !applied) {
        die("apply", applied.error());
      }
    }
  });
  report("single transitions", claimed, seconds, "transitions");

  seconds = on_workers(location, workers, [&](int w, JobStore& store) {
    std::vector<Transition> batch;
    auto flush = [&] {
      auto outcomes = store.apply_each(batch);
      if (!outcomes) {
        die("apply_each", outcomes.error());
      }
      batch.clear();
    };
    for (const ClaimedJob& c : held[w]) {
      batch.push_back(owned(c, JobState::submitting, JobState::submitted));
      batch.push_back(owned(c, JobState::submitted, JobState::running));
      if (batch.size() >= 100) {
        flush();
      }
    }
    if (!batch.empty()) {
      flush();
    }
  });
  report("batched (100/commit)", 2 * claimed, seconds, "transitions");

  std::vector<long> reclaimed(static_cast<std::size_t>(workers));
  {
    auto store = open_or_die(location);
    for (const auto& h : held) {
      std::vector<vb::LeasedJob> leases;
      for (const ClaimedJob& c : h) {
        leases.push_back({c.job.row_id, c.lease});
      }
      if (auto released = store->release_leases(leases); !released) {
        die("release", released.error());
      }
    }
  }
  seconds = on_workers(location, workers, [&](int w, JobStore& store) {
    const std::vector<JobState> running = {JobState::running};
    for (;;) {
      auto got = store.claim_jobs(id_of(w), scope, running, 50);
      if (!got) {
        die("claim", got.error());
      }
      if (got->empty()) {
        return;
      }
      reclaimed[w] += static_cast<long>(got->size());
    }
  });
  long total = 0;
  for (long r : reclaimed) {
    total += r;
  }
  report("claims (50/call)", total, seconds, "claims");

  // The workers stop: every lease they hold is released by the rescuer's statement.
  auto store = open_or_die(location);
  const auto start = Clock::now();
  std::size_t rescued = 0;
  for (int w = 0; w < workers; ++w) {
    auto released = store->release_worker(id_of(w));
    if (!released) {
      die("release_worker", released.error());
    }
    rescued += released->size();
  }
  report("release (graceful)", static_cast<long>(rescued), seconds_since(start), "jobs");
  return 0;
}
