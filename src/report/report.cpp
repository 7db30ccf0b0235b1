#include "report/report.h"

#include "report/report_writers.h"

namespace vb {

std::optional<ReportFormat> parse_report_format(std::string_view text) {
  if (text == "csv") {
    return ReportFormat::csv;
  }
  if (text == "json") {
    return ReportFormat::json;
  }
  if (text == "jsonl") {
    return ReportFormat::jsonl;
  }
  return std::nullopt;
}

Status write_report(JobStore& store, const JobFilter& filter, ReportFormat format,
                    std::ostream& out) {
  return write_report(store, filter, format, out, SystemClock().now_ms());
}

Status write_report(JobStore& store, const JobFilter& filter, ReportFormat format,
                    std::ostream& out, Millis generated_at) {
  auto jobs = store.list_jobs(filter);
  if (!jobs) {
    return std::unexpected(std::move(jobs.error()));
  }
  switch (format) {
    case ReportFormat::csv:
      report_detail::write_csv(*jobs, out);
      break;
    case ReportFormat::json:
      report_detail::write_json(*jobs, generated_at, false, out);
      break;
    case ReportFormat::jsonl:
      report_detail::write_json(*jobs, generated_at, true, out);
      break;
  }
  out.flush();
  if (!out) {
    return fail(ErrorCode::io, "could not write the report (output closed or disk full?)");
  }
  return {};
}

}  // namespace vb
