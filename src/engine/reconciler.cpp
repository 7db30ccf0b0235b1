#include "engine/reconciler.h"

#include <algorithm>
#include <cstdlib>

namespace vb {

namespace {

const RemoteVideo* best_match(const AmbiguousCreate& job, const Listing& listing,
                              const std::unordered_set<std::string>& claimed,
                              const VideoProvider& provider, const ReconcileRules& rules) {
  const RemoteVideo* best = nullptr;
  for (const auto& video : listing.videos) {
    bool in_window = video.created_at >= job.sent_at - rules.clock_skew_ms &&
                     video.created_at <= job.found_at + rules.clock_skew_ms;
    if (!in_window || claimed.contains(video.id) ||
        !provider.matches(job.spec, job.job_key, video)) {
      continue;
    }
    if (best == nullptr ||
        std::llabs(video.created_at - job.sent_at) < std::llabs(best->created_at - job.sent_at)) {
      best = &video;
    }
  }
  return best;
}

}  // namespace

std::vector<ReconcileDecision> reconcile(const std::vector<AmbiguousCreate>& jobs,
                                         const Listing& listing,
                                         const std::unordered_set<std::string>& claimed_ids,
                                         const VideoProvider& provider,
                                         const ReconcileRules& rules) {
  // Oldest request first, so identical specs pair with videos in creation order.
  std::vector<const AmbiguousCreate*> order;
  for (const auto& job : jobs) {
    order.push_back(&job);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return a->sent_at < b->sent_at; });
  std::unordered_set<std::string> claimed = claimed_ids;
  std::vector<ReconcileDecision> decisions;
  for (const AmbiguousCreate* job : order) {
    ReconcileDecision d{job->row_id, ReconcileVerdict::wait, {}};
    if (const RemoteVideo* video = best_match(*job, listing, claimed, provider, rules)) {
      d.verdict = ReconcileVerdict::adopt;
      d.video = *video;
      claimed.insert(video->id);
    } else {
      bool listing_reaches_back = listing.covers_since <= job->sent_at - rules.clock_skew_ms;
      // Absence proves something only in a listing asked for after the ambiguous answer came
      // and after the provider had `settle_ms` to register the request: one fetched earlier
      // (pages of a sweep already in flight) may predate the video.
      bool settled = listing.requested_at >= job->found_at &&
                     listing.requested_at - job->sent_at >= rules.settle_ms;
      if (listing_reaches_back && settled) {
        d.verdict = ReconcileVerdict::resubmit;
      }
    }
    decisions.push_back(std::move(d));
  }
  return decisions;
}

}  // namespace vb
