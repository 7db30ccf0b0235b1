#include "engine/provider_runs.h"

#include <mutex>
#include <thread>

namespace vb {

namespace {

// Serializes the engines' calls and keeps one set of counts for all of them:
// seeded from the ledger, then moved by every engine's transitions.
class MergedObserver final : public RunObserver {
 public:
  MergedObserver(RunObserver& inner, RunCounts seed) : m_inner(inner), m_counts(seed) {}

  void on_transition(const JobRecord& job, JobState from, JobState to, const std::string& message,
                     int http_status) override {
    std::lock_guard lock(m_mutex);
    m_counts.by_state[static_cast<std::size_t>(from)] -= 1;
    m_counts.by_state[static_cast<std::size_t>(to)] += 1;
    m_inner.on_transition(job, from, to, message, http_status);
  }
  void on_tick(const RunCounts&, Millis now) override {
    std::lock_guard lock(m_mutex);
    m_inner.on_tick(m_counts, now);
  }
  void on_notice(const Notice& notice) override {
    std::lock_guard lock(m_mutex);
    m_inner.on_notice(notice);
  }
  RunCounts counts() const {
    std::lock_guard lock(m_mutex);
    return m_counts;
  }

 private:
  mutable std::mutex m_mutex;
  RunObserver& m_inner;
  RunCounts m_counts;
};

Result<RunCounts> counts_in_scope(JobStore& store, const RunScope& scope) {
  auto counts = VB_TRY(store.count_states());
  RunCounts out;
  for (const auto& c : counts) {
    if (!scope.batch || c.batch == *scope.batch) {
      out.by_state[static_cast<std::size_t>(c.state)] += c.count;
    }
  }
  return out;
}

}  // namespace

Result<RunSummary> run_providers(std::vector<ProviderRun>& runs, const Clock& clock,
                                 RunObserver& observer, const RunScope& scope,
                                 const std::atomic<int>& stop_requests) {
  if (runs.size() == 1) {
    ProviderRun& run = runs.front();
    RunEngine engine(*run.store, *run.provider, *run.transport, clock, run.config, observer);
    auto summary = VB_TRY(engine.run(scope, stop_requests));
    if (scope.worker != nullptr) {
      // Other workers moved jobs too: the ledger's counts, not this engine's view.
      summary.counts = VB_TRY(counts_in_scope(*run.store, scope));
    }
    return summary;
  }
  auto seed = VB_TRY(counts_in_scope(*runs.front().store, scope));
  MergedObserver merged(observer, seed);
  auto budget = std::make_shared<SharedBudget>(runs.front().config.budget_usd);
  std::vector<Result<RunSummary>> results(runs.size(), fail(ErrorCode::internal, "not run"));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    threads.emplace_back([&, i] {
      ProviderRun& run = runs[i];
      RunEngine engine(*run.store, *run.provider, *run.transport, clock, run.config, merged);
      engine.share_budget(budget);
      results[i] = engine.run(scope, stop_requests);
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  RunSummary summary;
  for (auto& result : results) {
    if (!result) {
      return std::unexpected(result.error());
    }
    summary.interrupted = summary.interrupted || result->interrupted;
    summary.budget_reached = summary.budget_reached || result->budget_reached;
    if (!summary.fatal) {
      summary.fatal = result->fatal;
    }
  }
  summary.counts = merged.counts();
  if (scope.worker != nullptr) {
    summary.counts = VB_TRY(counts_in_scope(*runs.front().store, scope));
  }
  return summary;
}

}  // namespace vb
