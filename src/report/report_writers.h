// Internal to src/report: the per-format writers behind write_report().
#pragma once

#include <array>
#include <ostream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "report/summary.h"
#include "store/job_store.h"

namespace vb::report_detail {

// The report columns, in order; shared by every format (see report/report.h).
inline constexpr std::array<const char*, 20> k_columns =
    {"batch",         "id",          "state",     "remote_id",    "model",
     "size",          "seconds",     "attempts",  "submitted_at", "completed_at",
     "downloaded_at", "output_path", "bytes",     "sha256",       "error_code",
     "error_message", "prompt",      "unclaimed", "verify",       "verify_detail"};

// The verify column: "ok", the mismatch codes ("duration_short,resolution_mismatch"), or ""
// when the video was not checked; verify_detail: the mismatches' sentences, "; "-separated.
std::string verify_detail(const VideoCheck& check);

// Paid, unclaimed videos by the row id of the job they match: their remote ids, space-separated.
using UnclaimedIds = std::unordered_map<std::int64_t, std::string>;
UnclaimedIds unclaimed_ids(const std::vector<UnclaimedVideo>& videos);

// Everything the md and html writers draw from.
struct ReportData {
  std::vector<JobRecord> jobs;
  std::vector<EventRecord> events;  // of these jobs only, in insertion order
  std::vector<UnclaimedVideo> unclaimed;
  UnclaimedIds unclaimed_by_job;
  ReportSummary summary;
  Millis generated_at = 0;
  std::string title;  // "batch nightly", "all batches", + state filter
  std::string report_dir;
  PriceTable prices;  // for the cost of unclaimed videos
};

// One field as RFC 4180 wants it: quoted (quotes doubled) only when needed.
std::string csv_field(std::string_view text);
// Text safe in HTML element content and in quoted attribute values.
std::string html_escape(std::string_view text);
// A table cell for Markdown: pipes escaped, line breaks as <br>, HTML specials as entities.
std::string md_cell(std::string_view text);
// A relative URL from `dir` to `file`, percent-encoded per segment ("../out/a%20b.mp4").
std::string relative_url(const std::string& file, const std::string& dir);
// "1.5 s", "2 min 03 s", "1 h 02 min"; "–" for nullopt.
std::string format_duration(std::optional<double> seconds);
std::string format_bytes(std::int64_t bytes);

// One row at a time, for reports streamed from the ledger: the header, then each job.
void write_csv_header(std::ostream& out);
void write_csv_row(const JobRecord& job, std::string_view unclaimed, std::ostream& out);
// One JSON Lines record (the job object and a newline).
void write_json_line(const JobRecord& job, std::string_view unclaimed, std::ostream& out);
// The json report: envelope with the summary, the jobs, and the paid, unclaimed videos.
void write_json(const ReportData& data, std::ostream& out);
void write_markdown(const ReportData& data, std::ostream& out);
void write_html(const ReportData& data, std::ostream& out);

}  // namespace vb::report_detail
