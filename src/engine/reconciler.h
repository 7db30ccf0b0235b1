// Reconciler: decides, as a pure function, what became of ambiguous creates by
// comparing them with the provider's listing of recent videos.
//
// A listed video that nobody in the ledger has claimed, with exactly the job's
// parameters, created between the job's create request and the moment it was
// found ambiguous (plus clock skew), is adopted: the job continues with it.
// Only when the listing reaches back past the request and holds no such video,
// and was asked for after the job's ambiguous answer and at least `settle_ms`
// after its request (so the provider had registered it), may the job be
// submitted again. Otherwise it waits. Thread-safe (pure).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "job/job_spec.h"
#include "provider/video_provider.h"
#include "util/clock.h"

namespace vb {

struct AmbiguousCreate {
  std::int64_t row_id = 0;
  JobSpec spec;
  std::string job_key;  // job_key(batch, spec.id)
  Millis sent_at = 0;   // when the create request left (its `submitting` event)
  Millis found_at = 0;  // when it was declared ambiguous
};

struct Listing {
  std::vector<RemoteVideo> videos;  // newest first, as fetched
  Millis covers_since = 0;          // every video created at or after this is in `videos`
  Millis requested_at = 0;          // when its first (newest) page was asked for
};

enum class ReconcileVerdict { adopt, resubmit, wait };

struct ReconcileDecision {
  std::int64_t row_id = 0;
  ReconcileVerdict verdict = ReconcileVerdict::wait;
  RemoteVideo video;  // for adopt
};

struct ReconcileRules {
  Millis clock_skew_ms = 120000;  // provider clock vs ours
  Millis settle_ms = 60000;       // a request younger than this may still be in process
};

std::vector<ReconcileDecision> reconcile(const std::vector<AmbiguousCreate>& jobs,
                                         const Listing& listing,
                                         const std::unordered_set<std::string>& claimed_ids,
                                         const VideoProvider& provider,
                                         const ReconcileRules& rules);

}  // namespace vb
