// Report summary: the numbers a batch owner asks first (how many worked, how
// long things took, what it cost), computed from job rows and their events.
// Pure functions over values; thread-safe.
//
// Timings come from the events (one per transition), per attempt cycle:
//   queue:      entered `queued` (import or retry) -> accepted by the provider
//               (submitting -> submitted/running/ready)
//   generation: accepted by the provider -> provider reported completion (-> ready)
//   download:   first `ready` of the cycle -> `done` (broken downloads included)
// A job retried after a failure contributes one sample per completed phase.
// Percentiles use the nearest-rank method on the samples, in seconds.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "store/job_store.h"

namespace vb {

struct DurationStats {
  std::int64_t count = 0;
  double total_s = 0;
  std::optional<double> mean_s;
  std::optional<double> p50_s;
  std::optional<double> p95_s;
};

// Nearest-rank percentile (0 < p <= 100) of `samples`; nullopt when empty.
std::optional<double> percentile(std::vector<double> samples, double p);
DurationStats duration_stats(const std::vector<double>& samples);

struct ReportSummary {
  std::array<std::int64_t, k_job_state_count> by_state{};
  std::int64_t total_jobs = 0;
  std::optional<double> success_rate;  // done / (done + failed), 0..1; nullopt if none finished
  DurationStats queue;
  DurationStats generation;
  DurationStats download;
  std::int64_t videos_downloaded = 0;  // jobs done
  std::int64_t bytes_downloaded = 0;   // their files' sizes
  std::int64_t retries = 0;            // retried requests of any phase (jobs.retries)
  std::int64_t http_429 = 0;           // transitions caused by a 429 answer (events.http_status)
  double estimated_cost_usd = 0;       // every priced job of the report, as if all generate
  double submitted_cost_usd = 0;       // priced jobs the provider accepted or may have (ambiguous)
  std::int64_t unpriced_jobs = 0;      // jobs with no price in the table, left out of both
  std::int64_t unclaimed_videos = 0;   // paid for, matching a job, held by none
  double unclaimed_cost_usd = 0;       // their estimated cost (priced ones)
  std::int64_t videos_verified = 0;    // jobs whose video was checked against its request
  std::int64_t videos_mismatched = 0;  // of those, the ones that differ (done or failed)
  Millis first_event_at = 0;           // 0 when there are no events
  Millis last_event_at = 0;

  std::int64_t of(JobState s) const { return by_state[static_cast<std::size_t>(s)]; }
};

// Counts the paid, unclaimed videos into `summary`, priced like their jobs.
void add_unclaimed(ReportSummary& summary, const std::vector<UnclaimedVideo>& videos,
                   const PriceTable& prices);

// Per-job timings of the latest cycle, for the report's cards (seconds).
struct JobTimings {
  std::optional<double> queue_s;
  std::optional<double> generation_s;
  std::optional<double> download_s;
};

// `events` may hold events of other jobs; only those of `jobs` count.
ReportSummary summarize(const std::vector<JobRecord>& jobs, const std::vector<EventRecord>& events,
                        const PriceTable& prices);

std::unordered_map<std::int64_t, JobTimings> job_timings(const std::vector<EventRecord>& events);

// Jobs per state over the run, sampled at `samples` evenly spaced instants from
// the first to the last event (each sample: counts after every event at or
// before it). Empty when there are no events.
struct TimelineSample {
  Millis at = 0;
  std::array<std::int64_t, k_job_state_count> by_state{};
};
std::vector<TimelineSample> timeline(const std::vector<EventRecord>& events, int samples);

}  // namespace vb
