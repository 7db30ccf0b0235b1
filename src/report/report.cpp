#include "report/report.h"

#include <unordered_set>

#include "report/report_writers.h"

namespace vb {

namespace {

Result<std::vector<EventRecord>> events_of(JobStore& store, const std::vector<JobRecord>& jobs,
                                           const JobFilter& filter) {
  auto events = filter.batch ? store.batch_events(*filter.batch) : store.events(std::nullopt);
  if (!events || !filter.state) {
    return events;
  }
  std::unordered_set<std::int64_t> rows;
  for (const JobRecord& job : jobs) {
    rows.insert(job.row_id);
  }
  std::erase_if(*events, [&](const EventRecord& e) { return !rows.contains(e.job_row_id); });
  return events;
}

std::string title_of(const JobFilter& filter) {
  std::string title = filter.batch ? "batch " + *filter.batch : "all batches";
  if (filter.state) {
    title += std::string(", ") + to_string(*filter.state) + " jobs";
  }
  return title;
}

// CSV and JSON Lines need no summary: rows go out as they are read, so a report of any
// ledger holds one job in memory. A failed write stops the walk.
Status stream_rows(JobStore& store, const ReportOptions& options,
                   const report_detail::UnclaimedIds& unclaimed, std::ostream& out) {
  const bool csv = options.format == ReportFormat::csv;
  if (csv) {
    report_detail::write_csv_header(out);
  }
  return store.for_each_job(options.filter, [&](const JobRecord& job) -> Status {
    auto it = unclaimed.find(job.row_id);
    const std::string_view ids = it == unclaimed.end() ? std::string_view() : it->second;
    if (csv) {
      report_detail::write_csv_row(job, ids, out);
    } else {
      report_detail::write_json_line(job, ids, out);
    }
    if (!out) {
      return fail(ErrorCode::io, "could not write the report (output closed or disk full?)");
    }
    return {};
  });
}

}  // namespace

namespace report_detail {

UnclaimedIds unclaimed_ids(const std::vector<UnclaimedVideo>& videos) {
  UnclaimedIds ids;
  for (const auto& v : videos) {
    std::string& text = ids[v.job_row_id];
    text += (text.empty() ? "" : " ") + v.remote_id;
  }
  return ids;
}

}  // namespace report_detail

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
  if (text == "md") {
    return ReportFormat::md;
  }
  if (text == "html") {
    return ReportFormat::html;
  }
  return std::nullopt;
}

Status write_report(JobStore& store, const JobFilter& filter, ReportFormat format,
                    std::ostream& out) {
  return write_report(store, filter, format, out, SystemClock().now_ms());
}

Status write_report(JobStore& store, const JobFilter& filter, ReportFormat format,
                    std::ostream& out, Millis generated_at) {
  ReportOptions options;
  options.filter = filter;
  options.format = format;
  options.generated_at = generated_at;
  return write_report(store, options, out);
}

Status write_report(JobStore& store, const ReportOptions& options, std::ostream& out) {
  const Millis generated_at = options.generated_at != 0 ? options.generated_at
                                                        : SystemClock().now_ms();
  auto unclaimed = VB_TRY(store.unclaimed_videos(options.filter.batch));
  if (options.format == ReportFormat::csv || options.format == ReportFormat::jsonl) {
    if (auto streamed = stream_rows(store, options, report_detail::unclaimed_ids(unclaimed), out);
        !streamed) {
      return streamed;
    }
  } else {
    auto jobs = VB_TRY(store.list_jobs(options.filter));
    auto events = VB_TRY(events_of(store, jobs, options.filter));
    report_detail::ReportData data;
    data.summary = summarize(jobs, events, options.prices);
    add_unclaimed(data.summary, unclaimed, options.prices);
    data.unclaimed_by_job = report_detail::unclaimed_ids(unclaimed);
    data.unclaimed = std::move(unclaimed);
    data.jobs = std::move(jobs);
    data.events = std::move(events);
    data.generated_at = generated_at;
    data.title = title_of(options.filter);
    data.report_dir = options.report_dir;
    data.prices = options.prices;
    if (options.format == ReportFormat::json) {
      report_detail::write_json(data, out);
    } else if (options.format == ReportFormat::md) {
      report_detail::write_markdown(data, out);
    } else {
      report_detail::write_html(data, out);
    }
  }
  out.flush();
  if (!out) {
    return fail(ErrorCode::io, "could not write the report (output closed or disk full?)");
  }
  return {};
}

}  // namespace vb
