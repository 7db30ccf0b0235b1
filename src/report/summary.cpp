#include "report/summary.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "plan/pricing.h"

namespace vb {

namespace {

bool accepted_edge(const EventRecord& e) {
  return e.from == JobState::submitting &&
         (e.to == JobState::submitted || e.to == JobState::running || e.to == JobState::ready);
}

// Walks one job's events (in order) and reports each completed phase.
struct CycleWalker {
  std::optional<Millis> queued_at;
  std::optional<Millis> accepted_at;
  std::optional<Millis> ready_at;
  JobTimings latest;

  template <typename Sink>
  void step(const EventRecord& e, Sink&& sink) {
    if (e.to == JobState::queued) {
      queued_at = e.at;
      accepted_at.reset();
      ready_at.reset();
      return;
    }
    if (accepted_edge(e) || (e.from == JobState::ambiguous && e.to == JobState::submitted)) {
      if (queued_at && accepted_edge(e)) {
        latest.queue_s = (e.at - *queued_at) / 1000.0;
        sink(0, *latest.queue_s);
      }
      accepted_at = e.at;
    }
    if (e.to == JobState::ready && !ready_at) {
      ready_at = e.at;
      if (accepted_at) {
        latest.generation_s = (e.at - *accepted_at) / 1000.0;
        sink(1, *latest.generation_s);
      }
    }
    if (e.to == JobState::done && ready_at) {
      latest.download_s = (e.at - *ready_at) / 1000.0;
      sink(2, *latest.download_s);
    }
  }
};

}  // namespace

std::optional<double> percentile(std::vector<double> samples, double p) {
  if (samples.empty()) {
    return std::nullopt;
  }
  std::sort(samples.begin(), samples.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
  rank = std::clamp<std::size_t>(rank, 1, samples.size());
  return samples[rank - 1];
}

DurationStats duration_stats(const std::vector<double>& samples) {
  DurationStats stats;
  stats.count = static_cast<std::int64_t>(samples.size());
  for (double s : samples) {
    stats.total_s += s;
  }
  if (!samples.empty()) {
    stats.mean_s = stats.total_s / static_cast<double>(samples.size());
    stats.p50_s = percentile(samples, 50);
    stats.p95_s = percentile(samples, 95);
  }
  return stats;
}

ReportSummary summarize(const std::vector<JobRecord>& jobs, const std::vector<EventRecord>& events,
                        const PriceTable& prices) {
  ReportSummary summary;
  std::unordered_set<std::int64_t> in_report;
  for (const JobRecord& job : jobs) {
    in_report.insert(job.row_id);
    summary.by_state[static_cast<std::size_t>(job.state)] += 1;
    summary.total_jobs += 1;
    summary.retries += job.retries;
    summary.videos_verified += job.check.checked() ? 1 : 0;
    summary.videos_mismatched += job.check.mismatched() ? 1 : 0;
    if (job.state == JobState::done) {
      summary.videos_downloaded += 1;
      summary.bytes_downloaded += job.bytes;
    }
    auto cost = estimate_cost(job.spec, prices);
    if (!cost) {
      summary.unpriced_jobs += 1;
      continue;
    }
    summary.estimated_cost_usd += *cost;
    if (job.submitted_at != 0 || job.state == JobState::ambiguous) {
      summary.submitted_cost_usd += *cost;
    }
  }
  std::int64_t finished = summary.of(JobState::done) + summary.of(JobState::failed);
  if (finished > 0) {
    summary.success_rate =
        static_cast<double>(summary.of(JobState::done)) / static_cast<double>(finished);
  }
  std::array<std::vector<double>, 3> samples;
  std::unordered_map<std::int64_t, CycleWalker> walkers;
  for (const EventRecord& e : events) {
    if (!in_report.contains(e.job_row_id)) {
      continue;
    }
    if (summary.first_event_at == 0 || e.at < summary.first_event_at) {
      summary.first_event_at = e.at;
    }
    summary.last_event_at = std::max(summary.last_event_at, e.at);
    if (e.http_status == 429) {
      summary.http_429 += 1;
    }
    walkers[e.job_row_id].step(e, [&](int phase, double s) { samples[phase].push_back(s); });
  }
  summary.queue = duration_stats(samples[0]);
  summary.generation = duration_stats(samples[1]);
  summary.download = duration_stats(samples[2]);
  return summary;
}

std::unordered_map<std::int64_t, JobTimings> job_timings(const std::vector<EventRecord>& events) {
  std::unordered_map<std::int64_t, CycleWalker> walkers;
  for (const EventRecord& e : events) {
    walkers[e.job_row_id].step(e, [](int, double) {});
  }
  std::unordered_map<std::int64_t, JobTimings> timings;
  for (auto& [row, walker] : walkers) {
    timings[row] = walker.latest;
  }
  return timings;
}

std::vector<TimelineSample> timeline(const std::vector<EventRecord>& events, int samples) {
  if (events.empty() || samples < 2) {
    return {};
  }
  std::vector<const EventRecord*> ordered;
  ordered.reserve(events.size());
  for (const EventRecord& e : events) {
    ordered.push_back(&e);
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const EventRecord* a, const EventRecord* b) { return a->at < b->at; });
  const Millis start = ordered.front()->at;
  const Millis end = std::max(ordered.back()->at, start + 1);
  std::unordered_map<std::int64_t, JobState> state_of;
  std::array<std::int64_t, k_job_state_count> counts{};
  std::vector<TimelineSample> out;
  out.reserve(static_cast<std::size_t>(samples));
  std::size_t next = 0;
  for (int i = 0; i < samples; ++i) {
    const Millis at = start + (end - start) * i / (samples - 1);
    while (next < ordered.size() && ordered[next]->at <= at) {
      const EventRecord& e = *ordered[next++];
      auto it = state_of.find(e.job_row_id);
      if (it != state_of.end()) {
        counts[static_cast<std::size_t>(it->second)] -= 1;
      }
      state_of[e.job_row_id] = e.to;
      counts[static_cast<std::size_t>(e.to)] += 1;
    }
    out.push_back({at, counts});
  }
  return out;
}

void add_unclaimed(ReportSummary& summary, const std::vector<UnclaimedVideo>& videos,
                   const PriceTable& prices) {
  for (const auto& video : videos) {
    summary.unclaimed_videos += 1;
    summary.unclaimed_cost_usd += estimate_cost(video.spec, prices).value_or(0.0);
  }
}

}  // namespace vb
