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
  auto config = resolve_config(ctx);
  if (!config) {
    return std::unexpected(config.error());
  }
  auto exists = JobStore::exists(config->db_path);
  if (!exists) {
    return std::unexpected(std::move(exists.error()));
  }
  if (!*exists) {
    return fail(ErrorCode::not_found,
                "no ledger here; run a manifest first or pass --db FILE|postgresql://...",
                JobStore::display_location(config->db_path));
  }
  return config;
}

}  // namespace

Result<Ledger> open_ledger(const CommandContext& ctx) {
  auto config = config_of_existing_ledger(ctx);
  if (!config) {
    return std::unexpected(config.error());
  }
  auto store = JobStore::open_for_reading(config->db_path);
  if (!store) {
    return std::unexpected(store.error());
  }
  return Ledger{std::move(*config), std::move(*store)};
}

Result<std::vector<JobRecord>> find_jobs_by_id(JobStore& store, const std::string& batch,
                                               const std::vector<std::string>& ids) {
  JobFilter filter;
  if (!batch.empty()) {
    filter.batch = batch;
  }
  auto jobs = store.list_jobs(filter);
  if (!jobs) {
    return std::unexpected(jobs.error());
  }
  std::multimap<std::string, const JobRecord*> by_id;
  for (const JobRecord& job : *jobs) {
    by_id.emplace(job.spec.id, &job);
  }
  std::vector<JobRecord> found;
  for (const std::string& id : ids) {
    auto [first, last] = by_id.equal_range(id);
    if (first == last) {
      return fail(ErrorCode::not_found,
                  "no job with this id" + (batch.empty() ? "" : " in batch " + batch),
                  "job " + id);
    }
    if (std::next(first) != last) {
      return fail(ErrorCode::invalid_input,
                  "several batches have a job with this id; add --batch NAME", "job " + id);
    }
    bool duplicate = std::any_of(found.begin(), found.end(),
                                 [&](const JobRecord& j) { return j.row_id == first->second->row_id; });
    if (!duplicate) {
      found.push_back(*first->second);
    }
  }
  return found;
}

std::expected<LockedLedger, int> lock_ledger(const CommandContext& ctx, Millis now) {
  auto config = config_of_existing_ledger(ctx);
  if (!config) {
    return std::unexpected(report_error(config.error()));
  }
  auto lock = JobStore::lock_exclusive(config->db_path);
  if (!lock) {
    report_error(lock.error());
    return std::unexpected(k_exit_runtime);
  }
  auto store = open_store(*config);
  if (!store) {
    report_error(store.error());
    return std::unexpected(k_exit_runtime);
  }
  // A run killed mid-request left submitting/downloading jobs: move them where a
  // decision can take them (ambiguous, ready), as the next run would.
  if (auto recovered = recover_interrupted_jobs(**store, now); !recovered) {
    report_error(recovered.error());
    return std::unexpected(k_exit_runtime);
  }
  return LockedLedger{std::move(*lock), std::move(*config), std::move(*store)};
}

}  // namespace vb
