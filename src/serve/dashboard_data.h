// Dashboard data: the JSON documents `vidbatch serve` answers, read from the ledger. Pure
// functions of a JobStore (read only; not thread-safe, so one store per calling thread) and the
// configuration. No key, no base URL, no config secret goes into any of them: only ledger data,
// prices and the budget.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"
#include "store/job_store.h"
#include "util/clock.h"
#include "util/error.h"

namespace vb {

// {"version": n}: the newest event id; every transition raises it (one index lookup).
Result<std::string> version_json(JobStore& store);

// {"version", "batches": [{"name", "total", "done", "failed", "active"}]}, by name.
Result<std::string> batches_json(JobStore& store);

// One batch's progress:
// {"batch", "version", "now", "total", "states": {state: n, ...}, "finished": n (done, failed,
//  canceled), "remaining": n (not yet settled, ambiguous excepted),
//  "rate": {"per_minute": x|null, "eta_s": x|null, "series": [[ms, done], ...]},
//  "cost": {"estimate_usd", "so_far_usd", "budget_usd"|null, "unpriced"},
//  "failures": [{"code", "count", "message", "jobs": [id...]}] (most first),
//  "ambiguous": [{"id", "remote_id", "attempts", "message", "todo"}],
//  "unclaimed": [{"id", "provider", "remote_id", "status", "cost_usd"|null, "todo"}],
//  "mismatched": n, "verified": n, "providers": [name...], "models": [name...]}
// Rate and ETA come from finished videos (done jobs' download times): the rate over the last
// 10 minutes of downloads (or the last 50), the ETA the remaining jobs at that rate.
// ErrorCode::not_found for an unknown batch.
Result<std::string> batch_json(JobStore& store, const std::string& batch, const Config& config,
                               Millis now);

struct JobQuery {
  std::string batch;
  std::optional<JobState> state;
  std::optional<std::string> provider;  // "default" names the default provider
  std::optional<std::string> model;
  bool mismatched = false;
  int offset = 0;
  int limit = 120;
};

// {"version", "total": matching jobs, "offset", "jobs": [{"id", "state", "model", "provider",
//  "size", "seconds", "prompt", "attempts", "progress" (0..100 while generating, else null),
//  "error_code", "error_message", "verify",
//  "verify_detail", "video": bool, "poster": bool}]}; video/poster: a file inside
// `output_root` is there to serve.
Result<std::string> jobs_json(JobStore& store, const JobQuery& query,
                              const std::string& output_root);

// One job: {"batch", "id", "state", "spec": {canonical spec}, "remote_id", "attempts",
//  "polls", "retries", "progress", "created_at", "submitted_at", "completed_at", "downloaded_at",
//  "output_path", "bytes", "sha256", "error_code", "error_message", "check": {...}|null,
//  "video", "poster", "events": [{"at", "from"|null, "to", "progress"|null, "http_status",
//  "message"}]}; nullopt for an unknown job.
Result<std::optional<std::string>> job_json(JobStore& store, const std::string& batch,
                                            const std::string& job_id,
                                            const std::string& output_root);

}  // namespace vb
