// JobState: the state machine every job moves through. Pure logic, no I/O.
//
//   queued -> submitting -> submitted -> running -> ready -> downloading -> done
//                 |  \-> queued (create certainly not received: retry later)
//                 \-> ambiguous (request left, answer lost: never resubmitted automatically)
//   submitted | running -> ambiguous (the provider lost the id; the listing does not settle it)
//   any state but submitting/downloading/done -> failed | canceled (a create or
//   download in flight must end first: it may already have been paid for)
//   failed | canceled -> queued, and done -> queued for a video that does not match its
//   request: only as the user's explicit retry
//
// `submitting` is committed before the create request leaves; a job found in
// `submitting` at start-up had its answer lost and becomes `ambiguous`.
// Terminal states: done, failed, canceled. `ambiguous` waits for the user.
#pragma once

#include <optional>
#include <string_view>

namespace vb {

enum class JobState {
  queued,       // waiting to be submitted (maybe not before a retry time)
  submitting,   // create request about to leave or in flight
  submitted,    // provider accepted it; remote id known; queued at the provider
  running,      // provider reports progress
  ready,        // provider reports completed; video not yet downloaded
  downloading,  // transfer in progress to a temporary file
  done,         // video verified and renamed into the output tree
  failed,       // terminal failure (provider said failed, or retries exhausted)
  canceled,     // the user canceled it
  ambiguous,    // create may or may not have started a (paid) video: needs a decision
};

inline constexpr int k_job_state_count = 10;

const char* to_string(JobState s);
std::optional<JobState> parse_job_state(std::string_view text);

bool is_terminal(JobState s);
// True while the provider holds a video generation for the job.
bool is_at_provider(JobState s);
// The allowed edges of the diagram above (self-loops are not transitions).
bool is_allowed_transition(JobState from, JobState to);

}  // namespace vb
