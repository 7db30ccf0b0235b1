#include "job/job_state.h"

#include <array>

namespace vb {

namespace {

constexpr std::array<const char*, k_job_state_count> k_names = {"queued",    "submitting",
                                                                "submitted", "running",
                                                                "ready",     "downloading",
                                                                "done",      "failed",
                                                                "canceled",  "ambiguous"};

}  // namespace

const char* to_string(JobState s) {
  return k_names[static_cast<std::size_t>(s)];
}

std::optional<JobState> parse_job_state(std::string_view text) {
  for (std::size_t i = 0; i < k_names.size(); ++i) {
    if (text == k_names[i]) {
      return static_cast<JobState>(i);
    }
  }
  return std::nullopt;
}

bool is_terminal(JobState s) {
  return s == JobState::done || s == JobState::failed || s == JobState::canceled;
}

bool is_at_provider(JobState s) {
  return s == JobState::submitting || s == JobState::submitted || s == JobState::running;
}

bool is_allowed_transition(JobState from, JobState to) {
  using S = JobState;
  if (from == to) {
    return false;
  }
  switch (from) {
    case S::queued:
      return to == S::submitting || to == S::failed || to == S::canceled;
    case S::submitting:
      // queued: the create certainly did not start a video (connect failure, 429, 5xx).
      return to == S::submitted || to == S::running || to == S::ready || to == S::queued ||
             to == S::ambiguous || to == S::failed;
    // ambiguous: the provider lost the id and its listing does not settle the job.
    case S::submitted:
      return to == S::running || to == S::ready || to == S::failed || to == S::canceled ||
             to == S::ambiguous;
    case S::running:
      return to == S::ready || to == S::failed || to == S::canceled || to == S::ambiguous;
    case S::ready:
      return to == S::downloading || to == S::failed || to == S::canceled;
    case S::downloading:
      // ready: the transfer broke or the process restarted; fetch a fresh URL and retry.
      return to == S::done || to == S::ready || to == S::failed;
    case S::ambiguous:
      // submitted: a reconciliation adopted the remote video; queued: the user chose to resubmit.
      return to == S::submitted || to == S::queued || to == S::failed || to == S::canceled;
    case S::failed:
    case S::canceled:
      return to == S::queued;  // an explicit retry by the user
    case S::done:
      // An explicit retry by the user of a video that does not match its request
      // (`vidbatch retry --mismatched`): regenerating costs money, so never automatic.
      return to == S::queued;
  }
  return false;
}

}  // namespace vb
