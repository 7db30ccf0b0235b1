// The ledger helpers the read and act commands share: open an existing ledger,
// hold it for writing (lock + recovery), and find jobs by id.
#include <algorithm>
#include <map>

#include "cli/cli.h"
#include "cli/commands.h"
#include "engine/run_engine.h"

namespace vb {

namespace {

Result<Config> config_of_existing_ledger(const CommandContext& ctx) {
  Config config = VB_TRY(resolve_config(ctx));
  if (!VB_TRY(JobStore::exists(config.db_path))) {
    return fail(ErrorCode::not_found,
                "no ledger here; run a manifest first or pass --db FILE|postgresql://...",
                JobStore::display_location(config.db_path));
  }
  return config;
}

}  // namespace

Result<Ledger> open_ledger(const CommandContext& ctx, LedgerNeed need, Millis now) {
  Ledger ledger;
  if (need == LedgerNeed::none) {
    return ledger;
  }
  ledger.config = VB_TRY(config_of_existing_ledger(ctx));
  if (need == LedgerNeed::read) {
    ledger.store = VB_TRY(JobStore::open_for_reading(ledger.config.db_path));
    return ledger;
  }
  ledger.lock = VB_TRY(RunLock::acquire(ledger.config.db_path));
  ledger.store = VB_TRY(open_store(ledger.config));
  // A run killed mid-request left submitting/downloading jobs: move them where a decision can
  // take them (ambiguous, ready), as the next run would.
  VB_TRY(recover_interrupted_jobs(*ledger.store, now));
  return ledger;
}

Result<std::vector<JobRecord>> find_jobs_by_id(JobStore& store, const std::string& batch,
                                               const std::vector<std::string>& ids) {
  JobFilter filter;
  if (!batch.empty()) {
    filter.batch = batch;
  }
  auto jobs = VB_TRY(store.list_jobs(filter));
  std::multimap<std::string, const JobRecord*> by_id;
  for (const JobRecord& job : jobs) {
    by_id.emplace(job.spec.id, &job);
  }
  std::vector<JobRecord> found;
  for (const std::string& id : ids) {
    auto [first, last] = by_id.equal_range(id);
    if (first == last) {
      return fail(ErrorCode::not_found,
                  "no job with this id" + (batch.empty() ? "" : " in batch " + batch), "job " + id);
    }
    if (std::next(first) != last) {
      return fail(ErrorCode::invalid_input,
                  "several batches have a job with this id; add --batch NAME", "job " + id);
    }
    bool duplicate = std::any_of(found.begin(), found.end(), [&](const JobRecord& j) {
      return j.row_id == first->second->row_id;
    });
    if (!duplicate) {
      found.push_back(*first->second);
    }
  }
  return found;
}

}  // namespace vb
