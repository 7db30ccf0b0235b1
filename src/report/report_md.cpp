// The Markdown report: summary table, then one row per job.
#include <cstdio>

#include "plan/pricing.h"
#include "report/report_writers.h"

namespace vb::report_detail {

namespace {

std::string percent(std::optional<double> rate) {
  if (!rate) {
    return "\xE2\x80\x93";
  }
  char text[16];
  std::snprintf(text, sizeof text, "%.1f %%", *rate * 100);
  return text;
}

std::string timing_line(const DurationStats& d) {
  if (d.count == 0) {
    return "\xE2\x80\x93";
  }
  return "p50 " + format_duration(d.p50_s) + ", p95 " + format_duration(d.p95_s) + " (" +
         std::to_string(d.count) + " samples)";
}

}  // namespace

void write_markdown(const ReportData& data, std::ostream& out) {
  const ReportSummary& s = data.summary;
  out << "# vidbatch report: " << md_cell(data.title) << "\n\n";
  out << "Generated " << format_iso8601(data.generated_at) << ".\n\n";
  out << "## Summary\n\n| | |\n|---|---|\n";
  std::string states;
  for (int i = 0; i < k_job_state_count; ++i) {
    if (s.by_state[static_cast<std::size_t>(i)] > 0) {
      states += (states.empty() ? "" : ", ") + std::string(to_string(static_cast<JobState>(i))) +
                " " + std::to_string(s.by_state[static_cast<std::size_t>(i)]);
    }
  }
  out << "| Jobs | " << s.total_jobs << (states.empty() ? "" : " (" + states + ")") << " |\n";
  out << "| Success rate | " << percent(s.success_rate) << " (done / (done + failed)) |\n";
  out << "| Generation time | total " << format_duration(s.generation.total_s) << ", mean "
      << format_duration(s.generation.mean_s) << " |\n";
  out << "| Queue time | " << timing_line(s.queue) << " |\n";
  out << "| Generation time percentiles | " << timing_line(s.generation) << " |\n";
  out << "| Download time | " << timing_line(s.download) << " |\n";
  out << "| Videos downloaded | " << s.videos_downloaded << " (" << format_bytes(s.bytes_downloaded)
      << ") |\n";
  out << "| Retries / 429s | " << s.retries << " / " << s.http_429 << " |\n";
  out << "| Estimated cost | " << format_usd(s.estimated_cost_usd) << " for every job, "
      << format_usd(s.submitted_cost_usd) << " for jobs accepted by the provider"
      << (s.unpriced_jobs > 0 ? "; " + std::to_string(s.unpriced_jobs) + " job(s) unpriced" : "")
      << " |\n";
  out << "| Paid, unclaimed videos | " << s.unclaimed_videos << " (estimated "
      << format_usd(s.unclaimed_cost_usd) << ")"
      << (s.unclaimed_videos > 0 ? ": made for jobs below, held by none; `vidbatch adopt` saves one"
                                 : "")
      << " |\n";
  out << "| Verified videos | " << s.videos_verified - s.videos_mismatched
      << " match what was asked, " << s.videos_mismatched << " do not"
      << (s.videos_mismatched > 0 ? " (`vidbatch retry --mismatched` regenerates them)" : "")
      << " |\n\n";
  out << "## Jobs\n\n";
  if (data.jobs.empty()) {
    out << "No jobs match.\n";
    return;
  }
  auto timings = job_timings(data.events);
  out << "| batch | id | state | model | size | s | attempts | generation | output | verify | "
         "error | prompt |\n|---|---|---|---|---|---:|---:|---|---|---|---|---|\n";
  for (const JobRecord& job : data.jobs) {
    auto t = timings.find(job.row_id);
    std::optional<double> gen = t == timings.end() ? std::nullopt : t->second.generation_s;
    std::string error = job.error_code.empty() ? job.error_message
                                               : job.error_code + ": " + job.error_message;
    out << "| " << md_cell(job.batch) << " | " << md_cell(job.spec.id) << " | "
        << to_string(job.state) << " | " << md_cell(job.spec.model) << " | "
        << md_cell(priced_size(job.spec)) << " | " << job.spec.seconds << " | " << job.attempt
        << " | " << format_duration(gen) << " | " << md_cell(job.output_path) << " | "
        << md_cell(job.check.mismatched() ? job.check.verdict + ": " + verify_detail(job.check)
                                          : job.check.verdict)
        << " | " << md_cell(error) << " | " << md_cell(job.spec.prompt) << " |\n";
  }
}

}  // namespace vb::report_detail
