// BatchRun: running a batch, as every front end needs it (`vidbatch run` and `resume` today;
// the dashboard calls the same): this process as a worker of the ledger (WorkerHeartbeat)
// beside any others, a ProviderRun per provider the jobs name (its key and a transport that
// sends the key to its origin only), the import of a manifest and its characters, the recovery
// of what a crashed run left mid-request, then every provider's engine to the end. It prints
// nothing: progress goes to the observer the hooks give, and failures come back as Error. Not
// thread-safe; one call at a time.
#pragma once

#include <atomic>
#include <optional>

#include "config/config.h"
#include "engine/provider_runs.h"
#include "manifest/manifest.h"
#include "store/job_store.h"
#include "util/clock.h"
#include "util/error.h"

namespace vb {

struct BatchRunRequest {
  Config config;
  std::optional<Manifest> manifest;  // none: continue every unfinished job of the ledger
  bool allow_spec_change = false;    // replace queued jobs whose spec changed
  bool insecure = false;             // skip TLS verification (local testing only)
};

// What a front end sees of a run before the engines report through their observer.
class BatchRunHooks {
 public:
  virtual ~BatchRunHooks() = default;
  virtual void on_imported(const ImportSummary& summary) = 0;
  // The engines' observer, once the ledger is open (`store` may be read to seed counts).
  virtual RunObserver& observer(JobStore& store) = 0;
};

// Fails before any engine ran: a provider
// the jobs name is not configured or has no key (invalid_input), the manifest conflicts with
// the ledger (conflict), the database fails (database). Once the engines ran, their summary,
// which says whether the run was interrupted or stopped (RunSummary::fatal).
Result<RunSummary> run_batch(const BatchRunRequest& request, BatchRunHooks& hooks,
                             const Clock& clock, const std::atomic<int>& stop_requests);

// One provider's engine parts without a ledger connection: its dialect (provider/registry.h),
// its credentials (its keys from their variables or files, per its auth scheme) in a transport
// that sends them to its origin only, and its configuration. Fails, naming the config key to
// fix, when the provider is not defined or a key is missing.
Result<ProviderRun> make_provider_run(const Config& config, const std::string& name, bool insecure,
                                      const EnvLookup& env = process_env());

// Opens (creating if needed) the ledger the configuration names, with its store.sync.
Result<std::unique_ptr<JobStore>> open_store(const Config& config);

}  // namespace vb
