#include <string>

#include "report/report_writers.h"

namespace vb::report_detail {

namespace {

// RFC 4180 ends every record, the last one too, with CRLF.
constexpr std::string_view k_record_end = "\r\n";

void write_record(const std::array<std::string, k_columns.size()>& fields, std::ostream& out) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      out << ',';
    }
    out << csv_field(fields[i]);
  }
  out << k_record_end;
}

std::array<std::string, k_columns.size()> job_fields(const JobRecord& job) {
  return {job.batch,
          job.spec.id,
          to_string(job.state),
          job.remote_id,
          job.spec.model,
          job.spec.size,
          std::to_string(job.spec.seconds),
          std::to_string(job.attempt),
          format_iso8601(job.submitted_at),
          format_iso8601(job.completed_at),
          format_iso8601(job.downloaded_at),
          job.output_path,
          std::to_string(job.bytes),
          job.sha256,
          job.error_code,
          job.error_message,
          job.spec.prompt};
}

}  // namespace

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') {
      quoted += '"';
    }
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

void write_csv(const std::vector<JobRecord>& jobs, std::ostream& out) {
  std::array<std::string, k_columns.size()> header;
  for (std::size_t i = 0; i < k_columns.size(); ++i) {
    header[i] = k_columns[i];
  }
  write_record(header, out);
  for (const JobRecord& job : jobs) {
    write_record(job_fields(job), out);
  }
}

}  // namespace vb::report_detail
