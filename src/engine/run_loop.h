// Internal to the engine module: one run of RunEngine. The loop routes due jobs to the request
// families of engine/run_parts.h and answers to the family that sent each request.
#pragma once

#include "engine/run_parts.h"

namespace vb {

class RunEngine::Loop {
 public:
  Loop(RunEngine& engine, const RunScope& scope);
  Result<RunSummary> run(const std::atomic<int>& stop_requests);

 private:
  Status load_live_jobs();
  struct ClaimRoom {
    int poll;      // jobs to poll this worker may still claim (the in-flight cap's)
    int download;  // ready jobs it may still claim (the download slots')
  };
  void claim_live_jobs(Millis now);
  ClaimRoom claim_room() const;
  std::optional<std::size_t> claim(std::span<const JobState> states, int limit, Millis now);
  bool ledger_has_work(Millis now);
  void start_requests(Millis now);
  void route_due_jobs(Millis now);
  Millis next_wake(Millis now) const;
  bool finished();

  RunCore m_core;
  FailedRequests m_failures;
  Submitter m_submitter;
  ChainGate m_chains;
  CharacterCreator m_characters;
  StatusPolls m_polls;
  ListingSweep m_sweep;
  UrlResolver m_resolver;
  Downloader m_downloads;
  ThumbnailFetcher m_thumbnails;
  Reconciliation m_reconciliation;
  Millis m_stop_deadline = 0;
  Millis m_next_claim = 0;      // worker mode: next claim of jobs to poll and download
  bool m_more_to_poll = false;  // worker mode: the last claim of each kind came back full
  bool m_more_to_download = false;
  Millis m_next_ledger_check = 0;  // worker mode: next look at what the ledger has left
  bool m_ledger_has_work = true;
};

}  // namespace vb
