#include <sstream>
#include <string>

#include "report/report_writers.h"

namespace vb::report_detail {

namespace {

// RFC 4180 ends every record, the last one too, with CRLF.
constexpr std::string_view k_record_end = "\r\n";

// Writes one field, quoted only when it must be, straight to the stream: a 100k-job report
// builds no per-row strings.
void put_field(std::string_view text, std::ostream& out) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    return;
  }
  out.put('"');
  std::size_t from = 0;
  for (std::size_t quote = text.find('"'); quote != std::string_view::npos;
       quote = text.find('"', from)) {
    out.write(text.data() + from, static_cast<std::streamsize>(quote + 1 - from));
    out.put('"');  // a quote inside a field is doubled
    from = quote + 1;
  }
  out.write(text.data() + from, static_cast<std::streamsize>(text.size() - from));
  out.put('"');
}

}  // namespace

// Fields in the order of k_columns; the text fields are written from the record in place.
void write_csv_row(const JobRecord& job, std::string_view unclaimed, std::ostream& out) {
  const std::string seconds = std::to_string(job.spec.seconds);
  const std::string attempt = std::to_string(job.attempt);
  const std::string submitted = format_iso8601(job.submitted_at);
  const std::string completed = format_iso8601(job.completed_at);
  const std::string downloaded = format_iso8601(job.downloaded_at);
  const std::string bytes = std::to_string(job.bytes);
  const std::string detail = verify_detail(job.check);
  const std::string_view fields[] = {job.batch,
                                     job.spec.id,
                                     to_string(job.state),
                                     job.remote_id,
                                     job.spec.model,
                                     job.spec.size,
                                     seconds,
                                     attempt,
                                     submitted,
                                     completed,
                                     downloaded,
                                     job.output_path,
                                     bytes,
                                     job.sha256,
                                     job.error_code,
                                     job.error_message,
                                     job.spec.prompt,
                                     unclaimed,
                                     job.check.verdict,
                                     detail};
  static_assert(std::size(fields) == k_columns.size());
  for (std::size_t i = 0; i < std::size(fields); ++i) {
    if (i > 0) {
      out.put(',');
    }
    put_field(fields[i], out);
  }
  out << k_record_end;
}

std::string verify_detail(const VideoCheck& check) {
  std::string detail = check.mismatches;
  for (std::size_t at = detail.find('\n'); at != std::string::npos; at = detail.find('\n', at)) {
    detail.replace(at, 1, "; ");
  }
  return detail;
}

std::string csv_field(std::string_view text) {
  std::ostringstream out;
  put_field(text, out);
  return std::move(out).str();
}

void write_csv_header(std::ostream& out) {
  for (std::size_t i = 0; i < k_columns.size(); ++i) {
    if (i > 0) {
      out.put(',');
    }
    put_field(k_columns[i], out);
  }
  out << k_record_end;
}

}  // namespace vb::report_detail
