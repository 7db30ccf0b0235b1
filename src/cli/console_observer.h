// ConsoleObserver: what a person (or a log shipper) sees while a run goes on.
// Everything goes to stderr through the command's CliLog (cli/cli_log.h):
// - on a terminal, a live block with one progress line per batch (done/total,
//   per-state counts, rate and ETA from the throughput of finished jobs),
//   redrawn in place at most four times a second, with failed and ambiguous
//   jobs logged above it;
// - otherwise one line per transition (text), or one JSON object per
//   transition and notice (--log-format json); --quiet keeps errors only.
// A notice gets the command or key that deals with it (the engine names none).
// Per-batch counts are kept here: seeded from the ledger at construction, then
// moved by every transition (the engine's ticks count the whole scope).
// Not thread-safe: one engine calls it, or several through run_providers, which serializes them.
#pragma once

#include <string>

#include "cli/cli_log.h"
#include "cli/progress.h"
#include "engine/run_engine.h"

namespace vb {

class ConsoleObserver final : public RunObserver {
 public:
  // `scope_batch`: the batch being run, or "" for every batch with unfinished jobs.
  ConsoleObserver(CliLog& log, JobStore& store, const Clock& clock, const std::string& scope_batch);
  void on_transition(const JobRecord& job, JobState from, JobState to, const std::string& message,
                     int http_status) override;
  void on_tick(const RunCounts& counts, Millis now) override;
  void on_notice(const Notice& notice) override;
  // Draws the last state of the live block and moves below it.
  void close();

 private:
  CliLog& m_log;
  const Clock& m_clock;
  ProgressBoard m_board;
};

}  // namespace vb
