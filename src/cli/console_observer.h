// ConsoleObserver: what a person sees while a run goes on. On a terminal (both
// stdout and stderr are TTYs) one live status line on stderr, redrawn at most
// four times a second; otherwise one plain log line per transition on stderr.
// Data never goes to stderr and logs never go to stdout.
#pragma once

#include <string>

#include "engine/run_engine.h"

namespace vb {

class ConsoleObserver final : public RunObserver {
 public:
  ConsoleObserver();
  void on_transition(const JobRecord& job, JobState from, JobState to,
                     const std::string& message) override;
  void on_tick(const RunCounts& counts, Millis now) override;
  void on_notice(const std::string& message) override;
  // Ends the live line so that later output starts on a fresh line.
  void close();

 private:
  bool m_live;
  bool m_line_open = false;
  Millis m_started = 0;
  std::int64_t m_done_at_start = -1;
};

}  // namespace vb
