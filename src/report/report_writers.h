// Internal to src/report: the per-format writers behind write_report().
#pragma once

#include <array>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "store/job_store.h"

namespace vb::report_detail {

// The report columns, in order; shared by every format (see report/report.h).
inline constexpr std::array<const char*, 17> k_columns = {
    "batch",         "id",         "state",       "remote_id",     "model",  "size",
    "seconds",       "attempts",   "submitted_at", "completed_at", "downloaded_at",
    "output_path",   "bytes",      "sha256",      "error_code",    "error_message",
    "prompt"};

// One field as RFC 4180 wants it: quoted (quotes doubled) only when needed.
std::string csv_field(std::string_view text);

void write_csv(const std::vector<JobRecord>& jobs, std::ostream& out);
// `lines`: JSON Lines (one job object per line) instead of one document.
void write_json(const std::vector<JobRecord>& jobs, Millis generated_at, bool lines,
                std::ostream& out);

}  // namespace vb::report_detail
