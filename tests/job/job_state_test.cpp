// [job] The job state machine: every edge of the 10x10 table, names, terminality.
#include <catch2/catch.hpp>

#include <array>
#include <set>
#include <string>

#include "job/job_state.h"

using namespace vb;

namespace {

constexpr std::array<JobState, k_job_state_count> k_all =
    {JobState::queued,   JobState::submitting,  JobState::submitted, JobState::running,
     JobState::ready,    JobState::downloading, JobState::done,      JobState::failed,
     JobState::canceled, JobState::ambiguous};

// The expected table, written out by hand from the diagram in job_state.h.
// Rows: from; columns: to, in the order of k_all:
//                 que sub'g sub'd run rdy dl  done fail canc amb
constexpr int k_expected[k_job_state_count][k_job_state_count] = {
    /* queued      */ {0, 1, 0, 0, 0, 0, 0, 1, 1, 0},
    // submitting -> canceled is absent: a create in flight may start a paid video, so the
    // job must first learn its fate (submitted or ambiguous). See the report: the header's
    // "any non-terminal -> failed | canceled" line says otherwise.
    /* submitting  */ {1, 0, 1, 1, 1, 0, 0, 1, 0, 1},
    // submitted/running -> ambiguous: the provider lost the id, the listing does not settle it.
    /* submitted   */ {0, 0, 0, 1, 1, 0, 0, 1, 1, 1},
    /* running     */ {0, 0, 0, 0, 1, 0, 0, 1, 1, 1},
    /* ready       */ {0, 0, 0, 0, 0, 1, 0, 1, 1, 0},
    // downloading -> ready: the transfer broke or the process restarted.
    /* downloading */ {0, 0, 0, 0, 1, 0, 1, 1, 0, 0},
    // done -> queued: the user's retry of a video that does not match its request.
    /* done        */ {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    // failed/canceled -> queued: an explicit retry by the user.
    /* failed      */ {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    /* canceled    */ {1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    // ambiguous -> submitted (reconciled) or queued (the user chose to resubmit).
    /* ambiguous   */ {1, 0, 1, 0, 0, 0, 0, 1, 1, 0},
};

std::string render(bool (*edge)(JobState, JobState)) {
  std::string out;
  for (JobState from : k_all) {
    out += std::string(to_string(from)) + ":";
    for (JobState to : k_all) {
      if (edge(from, to)) {
        out += std::string(" ") + to_string(to);
      }
    }
    out += "\n";
  }
  return out;
}

bool expected_edge(JobState from, JobState to) {
  return k_expected[static_cast<int>(from)][static_cast<int>(to)] == 1;
}

}  // namespace

TEST_CASE("job state: the allowed transitions are exactly the expected table", "[job]") {
  // One string comparison shows every wrong cell at once when it fails.
  CHECK(render(&is_allowed_transition) == render(&expected_edge));
  for (JobState from : k_all) {
    for (JobState to : k_all) {
      INFO(to_string(from) << " -> " << to_string(to));
      CHECK(is_allowed_transition(from, to) == expected_edge(from, to));
    }
  }
}

TEST_CASE("job state: no self-loops, and done leaves only for the queue", "[job]") {
  for (JobState s : k_all) {
    INFO(to_string(s));
    CHECK_FALSE(is_allowed_transition(s, s));
    CHECK(is_allowed_transition(JobState::done, s) == (s == JobState::queued));
  }
}

TEST_CASE("job state: every non-terminal state can fail", "[job]") {
  for (JobState s : k_all) {
    INFO(to_string(s));
    CHECK(is_allowed_transition(s, JobState::failed) == !is_terminal(s));
  }
}

TEST_CASE("job state: names are exact and round-trip through parse", "[job]") {
  const std::array<const char*, k_job_state_count> names = {"queued",   "submitting", "submitted",
                                                            "running",  "ready",      "downloading",
                                                            "done",     "failed",     "canceled",
                                                            "ambiguous"};
  std::set<std::string> seen;
  for (std::size_t i = 0; i < k_all.size(); ++i) {
    INFO(names[i]);
    CHECK(std::string(to_string(k_all[i])) == names[i]);
    auto parsed = parse_job_state(names[i]);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == k_all[i]);
    seen.insert(to_string(k_all[i]));
  }
  CHECK(seen.size() == static_cast<std::size_t>(k_job_state_count));
}

TEST_CASE("job state: parse rejects near-misses", "[job]") {
  auto text = GENERATE(as<std::string>{}, "", "Queued", "QUEUED", " queued", "queued ", "cancelled",
                       "complete", "in_progress", "unknown", "done\n");
  INFO("'" << text << "'");
  CHECK_FALSE(parse_job_state(text).has_value());
}

TEST_CASE("job state: terminal and at-provider sets", "[job]") {
  std::set<JobState> terminal;
  std::set<JobState> at_provider;
  for (JobState s : k_all) {
    if (is_terminal(s)) terminal.insert(s);
    if (is_at_provider(s)) at_provider.insert(s);
  }
  CHECK(terminal == std::set<JobState>{JobState::done, JobState::failed, JobState::canceled});
  CHECK(at_provider ==
        std::set<JobState>{JobState::submitting, JobState::submitted, JobState::running});
  CHECK_FALSE(is_terminal(JobState::ambiguous));  // waits for the user, not finished
}

TEST_CASE("job state: the happy path is a chain of allowed edges", "[job]") {
  const JobState path[] = {JobState::queued,  JobState::submitting, JobState::submitted,
                           JobState::running, JobState::ready,      JobState::downloading,
                           JobState::done};
  for (std::size_t i = 0; i + 1 < std::size(path); ++i) {
    INFO(to_string(path[i]) << " -> " << to_string(path[i + 1]));
    CHECK(is_allowed_transition(path[i], path[i + 1]));
  }
  // ... and no shortcut that would skip the ledger's `submitting` record.
  CHECK_FALSE(is_allowed_transition(JobState::queued, JobState::submitted));
  CHECK_FALSE(is_allowed_transition(JobState::ambiguous, JobState::submitting));
}
