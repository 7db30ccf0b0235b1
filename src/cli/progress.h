// Progress: the pure part of the live display. Per-batch job counts kept from
// the ledger's counts at start plus every transition, the throughput of
// finished jobs (rate and ETA), and the text of one line per batch fitted to a
// terminal width. No I/O and no clock: every call gets `now` (tests use fake
// time). Not thread-safe.
//
// The ETA is remaining jobs / observed throughput (jobs that reached done,
// failed, canceled or ambiguous per minute, over the last ten minutes of the
// run). It never uses the providers' progress numbers: gateways report 0 then
// 0.9, or strings.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "job/job_state.h"
#include "util/clock.h"

namespace vb {

using StateCounts = std::array<std::int64_t, k_job_state_count>;

// True for the states a run stops at: done, failed, canceled, ambiguous.
bool is_settled(JobState s);

// "42s", "3m05s", "2h07m", "3d04h".
std::string format_duration(Millis ms);

struct BatchLineData {
  std::string batch;
  StateCounts counts{};
  std::optional<double> rate_per_minute;  // nullopt until a job finished in this run
  std::optional<Millis> eta;              // nullopt until the rate is known
};

// One line of at most `width` characters (at least the batch name and done/total):
// "demo [#####.....] 12/40 | queued 20, at provider 6, downloading 2, failed 0 | 3.2/min ETA
// 8m45s". Parts are dropped in this order as the width shrinks: state counts, bar, rate.
std::string format_batch_line(const BatchLineData& data, int width);

class ProgressBoard {
 public:
  static constexpr Millis k_redraw_interval_ms = 250;
  static constexpr Millis k_rate_window_ms = 10 * 60 * 1000;
  static constexpr std::size_t k_max_lines = 8;

  // `started`: when the run began (the rate counts from there).
  explicit ProgressBoard(Millis started);

  // Jobs of `batch` in `state` at the start (from JobStore::count_states()).
  void seed(const std::string& batch, JobState state, std::int64_t count);
  // A job of `batch` moved; a batch not seeded is added.
  void apply(const std::string& batch, JobState from, JobState to, Millis now);

  // True at most once per k_redraw_interval_ms; the caller then draws lines().
  bool redraw_due(Millis now);
  // One line per batch (sorted by name); past k_max_lines, the rest share one line.
  std::vector<std::string> lines(Millis now, int width) const;

  const StateCounts& counts(const std::string& batch) const;
  std::optional<double> rate_per_minute(const std::string& batch, Millis now) const;
  std::optional<Millis> eta(const std::string& batch, Millis now) const;

 private:
  struct Batch {
    StateCounts counts{};
    std::deque<Millis> finished;  // when jobs settled in this run, oldest first
  };
  BatchLineData line_data(const std::string& name, const Batch& batch, Millis now) const;
  std::optional<double> rate_of(const Batch& batch, Millis now) const;

  Millis m_started;
  Millis m_last_draw = -1;
  std::map<std::string, Batch> m_batches;
};

}  // namespace vb
