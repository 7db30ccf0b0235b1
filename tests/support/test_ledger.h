// Ledger helpers for tests that drive a real JobStore: jobs imported by number, read back by
// id, and a job's state history as one string ("queued>submitting>...").
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "store/job_store.h"

namespace vb::fake {

// Imports job-0 .. job-{count-1} with prompts "prompt 0" ... into `batch`.
inline void import_numbered_jobs(JobStore& store, const std::string& batch, int count, Millis now) {
  std::vector<JobSpec> specs;
  for (int i = 0; i < count; ++i) {
    JobSpec spec;
    spec.id = "job-" + std::to_string(i);
    spec.prompt = "prompt " + std::to_string(i);
    specs.push_back(spec);
  }
  auto r = store.import_jobs(batch, specs, now, false);
  INFO((r ? std::string() : r.error().describe()));
  REQUIRE(r.has_value());
  REQUIRE(r->added == count);
}

inline JobRecord stored_job(JobStore& store, const std::string& batch, const std::string& id) {
  auto j = store.find_job(batch, id);
  REQUIRE(j.has_value());
  REQUIRE(j->has_value());
  return **j;
}

inline std::string state_chain(const std::vector<EventRecord>& events) {
  std::string out;
  for (const auto& e : events) {
    out += (out.empty() ? "" : ">") + std::string(to_string(e.to));
  }
  return out;
}

inline std::string state_chain(JobStore& store, std::int64_t row_id) {
  auto events = store.events(row_id);
  REQUIRE(events.has_value());
  return state_chain(*events);
}

}  // namespace vb::fake
