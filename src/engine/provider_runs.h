// Several providers in one run: one RunEngine per provider, each with its own
// limits, dialect, transport (that provider's key, sent to its origin only)
// and ledger connection, running at once on their own threads. They share the
// budget and one observer (calls serialized, counts merged).
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "engine/run_engine.h"

namespace vb {

// One provider's share of a run.
struct ProviderRun {
  Config config;  // Config::for_provider(that provider)
  std::unique_ptr<VideoProvider> provider;
  std::unique_ptr<HttpTransport> transport;
  std::unique_ptr<JobStore> store;  // a connection of its own (one per thread)
};

// Runs every ProviderRun until all are finished; a single one runs on the
// calling thread. The summary's counts cover every job in `scope`.
Result<RunSummary> run_providers(std::vector<ProviderRun>& runs, const Clock& clock,
                                 RunObserver& observer, const RunScope& scope,
                                 const std::atomic<int>& stop_requests);

}  // namespace vb
