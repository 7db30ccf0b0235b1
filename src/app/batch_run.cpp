#include "app/batch_run.h"

#include <algorithm>

#include "app/worker_heartbeat.h"
#include "engine/run_engine.h"
#include "provider/registry.h"

namespace vb {

namespace {

// The providers this run needs: those the manifest's jobs name, or for a resume those of the
// ledger's unfinished jobs, each once ("" = the default provider).
Result<std::vector<std::string>> providers_needed(const BatchRunRequest& request) {
  const Config& config = request.config;
  std::vector<std::string> names;
  if (request.manifest) {
    for (const auto& spec : request.manifest->jobs) {
      names.push_back(spec.provider);
    }
  } else {
    auto store = VB_TRY(open_store(config));
    names = VB_TRY(store->unfinished_providers());
  }
  for (auto& name : names) {
    if (name.empty()) {
      name = config.default_provider;
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (names.empty()) {
    names.push_back(config.default_provider);
  }
  return names;
}

// The manifest's characters as ledger rows, each under its provider's name.
std::vector<CharacterRecord> character_records(const Manifest& manifest, const Config& config) {
  std::vector<CharacterRecord> records;
  for (const auto& c : manifest.characters) {
    const std::string& provider = c.provider.empty() ? config.default_provider : c.provider;
    records.push_back({provider, c.name, c.video, CharacterState::pending, "", 0});
  }
  return records;
}

Status import_manifest(const BatchRunRequest& request, JobStore& store, BatchRunHooks& hooks,
                       Millis now) {
  const Manifest& manifest = *request.manifest;
  hooks.on_imported(
      VB_TRY(store.import_jobs(manifest.batch, manifest.jobs, now, request.allow_spec_change)));
  return store.import_characters(character_records(manifest, request.config), now);
}

// The provider's create limits as the ledger shares them between workers (the last worker
// to start sets them): its submits per minute as a GCRA interval, with the burst of one loop
// turn the engine allows itself, and its in-flight cap.
ProviderLimits shared_limits(const LimitsConfig& limits) {
  const double per_second = limits.submits_per_minute / 60.0;
  ProviderLimits shared;
  shared.interval_ms = per_second > 0 ? static_cast<Millis>(1000.0 / per_second) : 0;
  shared.burst = std::max(1, static_cast<int>(per_second * 0.5));
  shared.max_in_flight = std::max(1, limits.max_in_flight);
  return shared;
}

}  // namespace

Result<std::unique_ptr<JobStore>> open_store(const Config& config) {
  SyncMode sync = SyncMode::full;
  switch (config.sync) {
    case StoreSync::off:
      sync = SyncMode::off;
      break;
    case StoreSync::normal:
      sync = SyncMode::normal;
      break;
    case StoreSync::full:
      sync = SyncMode::full;
      break;
  }
  return JobStore::open(config.db_path, sync);
}

Result<ProviderRun> make_provider_run(const Config& config, const std::string& name, bool insecure,
                                      const EnvLookup& env) {
  const ProviderConfig* chosen = config.find_provider(name);
  if (chosen == nullptr) {
    return fail(ErrorCode::invalid_input,
                "the ledger has jobs for provider \"" + name +
                    "\", which the config does not define; add [providers." + name + "]",
                config.config_path);
  }
  ProviderRun run;
  run.config = provider_config(config, *chosen);
  run.provider = make_provider(*chosen);
  TransportOptions options;
  options.credentials = VB_TRY(make_credentials(*chosen, env));
  options.auth_origin = url_origin(chosen->base_url);
  options.connect_timeout_ms = config.http.connect_timeout_ms;
  options.insecure = insecure;
  run.transport = make_curl_transport(options);
  return run;
}

Result<RunSummary> run_batch(const BatchRunRequest& request, BatchRunHooks& hooks,
                             const Clock& clock, const std::atomic<int>& stop_requests) {
  const Config& config = request.config;
  const auto names = VB_TRY(providers_needed(request));
  // Keys and providers are checked before the ledger is touched.
  std::vector<ProviderRun> runs;
  for (const auto& name : names) {
    runs.push_back(VB_TRY(make_provider_run(config, name, request.insecure)));
  }
  auto store = VB_TRY(open_store(config));
  if (request.manifest) {
    VB_TRY(import_manifest(request, *store, hooks, clock.now_ms()));
  }
  // Workers a crash left behind first (their leases released), then what a run without a
  // worker row left mid-request.
  VB_TRY(store->rescue_expired_workers());
  VB_TRY(recover_interrupted_jobs(*store, clock.now_ms()));
  for (auto& run : runs) {
    VB_TRY(store->set_provider_limits(run.config.provider.name, shared_limits(run.config.limits)));
  }
  auto heartbeat_store = VB_TRY(open_store(config));
  const auto worker =
      VB_TRY(WorkerHeartbeat::start(std::move(heartbeat_store), config.worker_ttl_ms));
  for (auto& run : runs) {
    run.store = VB_TRY(open_store(config));  // each engine's thread has its own connection
  }
  RunScope scope;
  if (request.manifest) {
    scope.batch = request.manifest->batch;
  }
  scope.worker = worker.get();
  return run_providers(runs, clock, hooks.observer(*store), scope, stop_requests);
}

}  // namespace vb
