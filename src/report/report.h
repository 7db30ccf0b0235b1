// Reports: what happened to every job, read from the JobStore and written for
// people (status table) or programs (CSV, JSON, JSON Lines). Read-only; no SQL
// here, only JobStore calls. Functions are stateless; the JobStore is not
// thread-safe, so call from the thread that owns it.
//
// One report row per job, in this column order:
//   batch, id, state, remote_id, model, size, seconds, attempts, submitted_at,
//   completed_at, downloaded_at, output_path, bytes, sha256, error_code,
//   error_message, prompt, unclaimed, verify, verify_detail
// `unclaimed`: the remote ids (space-separated) of paid videos the provider made for this job
// that no job holds (JobStore::unclaimed_videos).
// `verify`: whether the downloaded video is what was asked (config output.verify): "ok", the
// mismatch codes comma-separated ("duration_short,resolution_mismatch"), "" when unchecked;
// `verify_detail`: what was asked and what came, one sentence per mismatch, "; "-separated.
// Times are ISO 8601 UTC with milliseconds ("2026-11-24T21:18:57.123Z").
//   csv:   RFC 4180, UTF-8, one header row, CRLF after every record (as the RFC
//          says; spreadsheets and Python's csv module expect it). Fields with a
//          comma, quote, CR or LF are quoted, quotes doubled. Unknown times are
//          empty fields.
//   json:  {"generated_at": time, "jobs": [ {column: value, ...}, ... ]};
//          numbers are JSON numbers, unknown times are null, other text "".
//   jsonl: the same job objects, one per line ("\n"), no envelope.
//   json also carries "summary" (report/summary.h) between generated_at and jobs:
//          {"jobs": n, "states": {state: n, ... every state}, "success_rate": 0..1|null,
//           "queue_s"|"generation_s"|"download_s": {"count","total","mean","p50","p95"},
//           "videos_downloaded", "bytes_downloaded", "retries", "http_429",
//           "estimated_cost_usd", "submitted_cost_usd", "unpriced_jobs",
//           "unclaimed_videos", "unclaimed_cost_usd", "videos_verified", "videos_mismatched"},
//          and after the jobs "unclaimed": [{"batch", "id", "provider", "remote_id", "status",
//          "created_at", "estimated_cost_usd", "take_path"}, ...]
//   md:    the summary as a table, then one table row per job (pipes escaped,
//          newlines as <br>, '<' '>' '&' as entities).
//   html:  one self-contained page (inline CSS and SVG, no script, no network):
//          summary, a timeline of jobs per state drawn from the events, and a
//          contact sheet with one <article class="card"> per job: an inline
//          <video> of the local file (by path relative to ReportOptions::report_dir;
//          a poster when <video stem>.webp exists), prompt, parameters, state,
//          timings and error, and a verification badge (matches / the mismatch codes, with
//          what was asked and what came). Every text from the ledger is HTML-escaped.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>

#include "config/config.h"
#include "store/job_store.h"
#include "util/clock.h"
#include "util/error.h"

namespace vb {

enum class ReportFormat { csv, json, jsonl, md, html };

struct ReportOptions {
  JobFilter filter;
  ReportFormat format = ReportFormat::csv;
  Millis generated_at = 0;               // 0: now
  PriceTable prices = default_prices();  // for the estimated cost
  std::string report_dir = ".";          // where the report will live (html video links)
};

// "csv", "json", "jsonl", "md" or "html"; nullopt for anything else.
std::optional<ReportFormat> parse_report_format(std::string_view text);

// Writes the jobs matching `filter`, ordered by batch then import order.
// Fails with the store's Error (nothing useful written), or ErrorCode::io when
// `out` goes bad. `generated_at` is the time the json envelope reports.
Status write_report(JobStore& store, const JobFilter& filter, ReportFormat format,
                    std::ostream& out);
Status write_report(JobStore& store, const JobFilter& filter, ReportFormat format,
                    std::ostream& out, Millis generated_at);
Status write_report(JobStore& store, const ReportOptions& options, std::ostream& out);

// Jobs per state as every JSON document writes them: {"queued": n, ...}, in state order.
std::string state_counts_json(const std::array<std::int64_t, k_job_state_count>& counts);

// One event as `vidbatch events --json` prints it: {"event", "at" (ISO 8601), "batch", "job",
// "from"|null, "to", "progress"|null, "http_status"|null, "message"}, no newline.
std::string event_json(const EventRecord& event);

// Jobs per state per batch, then every ambiguous job by id with what to do, then the videos
// that do not match their request, then the paid, unclaimed videos (priced with `prices`).
// Table for people, or when `json`:
//   {"batches": {"name": {"queued": n, ..., "total": n}, ...},
//    "totals": {"queued": n, ..., "total": n},
//    "mismatched": {"total": n, "batches": {"name": n, ...}},
//    "ambiguous": [job, ...] (each as store/job_json.h writes a job),
//    "unclaimed": [{"batch", "id", "provider", "remote_id", "status",
//                   "estimated_cost_usd": x|null, "take_path"}, ...]}
// Every state appears in the JSON objects, with 0 when no job is in it.
Status write_status(JobStore& store, const PriceTable& prices, bool json, std::ostream& out);

}  // namespace vb
