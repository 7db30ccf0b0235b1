// The HTML report: one self-contained page (inline CSS and SVG, no script, no
// network) with the summary, a timeline of jobs per state and a contact sheet.
// Every text that comes from the ledger goes through html_escape().
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "plan/pricing.h"
#include "report/report_writers.h"

namespace vb::report_detail {

namespace {

constexpr std::array<const char*, k_job_state_count> k_state_colors = {
    "#94a3b8",  // queued
    "#c4b5fd",  // submitting
    "#a78bfa",  // submitted
    "#60a5fa",  // running
    "#22d3ee",  // ready
    "#2dd4bf",  // downloading
    "#22c55e",  // done
    "#ef4444",  // failed
    "#6b7280",  // canceled
    "#f59e0b",  // ambiguous
};

// Bottom to top of the stacked timeline: finished work grows from the floor.
constexpr std::array<JobState, k_job_state_count> k_stack_order =
    {JobState::done,        JobState::failed, JobState::canceled, JobState::ambiguous,
     JobState::downloading, JobState::ready,  JobState::running,  JobState::submitted,
     JobState::submitting,  JobState::queued};

const char* color_of(JobState s) {
  return k_state_colors[static_cast<std::size_t>(s)];
}

std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

constexpr const char* k_css = R"css(
:root{--fg:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1280px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:17px;margin:28px 0 10px}
.sub{color:var(--muted);margin:0 0 16px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 12px}
.tile .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.tile .v{font-size:20px;font-weight:600;margin-top:2px}
.tile .d{color:var(--muted);font-size:12px}
.states{display:flex;flex-wrap:wrap;gap:6px;margin:12px 0 0}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:600;color:#0f172a;white-space:nowrap}
.chart{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px}
.chart svg{display:block;width:100%;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:12px;margin-top:6px;color:var(--muted);font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.sheet{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden;display:flex;flex-direction:column}
.media{aspect-ratio:16/9;background:#0f172a;display:flex;align-items:center;justify-content:center}
.media video{width:100%;height:100%;object-fit:contain;background:#000}
.placeholder{color:#cbd5e1;font-size:13px;text-align:center;padding:8px}
.body{padding:10px 12px 12px}
.body header{display:flex;justify-content:space-between;align-items:center;gap:8px}
.body h3{font-size:14px;margin:0;overflow-wrap:anywhere}
.prompt{margin:6px 0 8px;white-space:pre-wrap;overflow-wrap:anywhere;max-height:8.7em;overflow:auto}
dl{display:grid;grid-template-columns:auto 1fr;gap:1px 10px;margin:0;font-size:12px}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.badge.ok{background:#bbf7d0}.badge.off{background:#fecaca;color:#7f1d1d}
.badges{display:flex;gap:4px;flex-wrap:wrap;justify-content:flex-end}
.error{margin:8px 0 0;padding:6px 8px;border-radius:6px;background:#fef2f2;color:#991b1b;font-size:12px;overflow-wrap:anywhere;white-space:pre-wrap}
footer{color:var(--muted);font-size:12px;margin-top:28px}
)css";

void tile(std::ostream& out, const std::string& key, const std::string& value,
          const std::string& detail = "") {
  out << "<div class=\"tile\"><div class=\"k\">" << html_escape(key) << "</div><div class=\"v\">"
      << html_escape(value) << "</div>";
  if (!detail.empty()) {
    out << "<div class=\"d\">" << html_escape(detail) << "</div>";
  }
  out << "</div>\n";
}

std::string p50_p95(const DurationStats& d) {
  return format_duration(d.p50_s) + " / " + format_duration(d.p95_s);
}

void write_summary(const ReportData& data, std::ostream& out) {
  const ReportSummary& s = data.summary;
  out << "<section aria-label=\"summary\"><div class=\"tiles\">\n";
  tile(out, "jobs", std::to_string(s.total_jobs));
  std::string rate = "\xE2\x80\x93";
  if (s.success_rate) {
    char text[16];
    std::snprintf(text, sizeof text, "%.1f %%", *s.success_rate * 100);
    rate = text;
  }
  tile(out, "success rate", rate,
       std::to_string(s.of(JobState::done)) + " done, " + std::to_string(s.of(JobState::failed)) +
           " failed");
  tile(out, "generation time", format_duration(s.generation.mean_s),
       "mean; total " + format_duration(s.generation.total_s));
  tile(out, "generation p50 / p95", p50_p95(s.generation),
       std::to_string(s.generation.count) + " samples");
  tile(out, "queue p50 / p95", p50_p95(s.queue), "imported or retried \xE2\x86\x92 accepted");
  tile(out, "download p50 / p95", p50_p95(s.download), "ready \xE2\x86\x92 done");
  tile(out, "videos downloaded", std::to_string(s.videos_downloaded),
       format_bytes(s.bytes_downloaded));
  tile(out, "retries / 429s", std::to_string(s.retries) + " / " + std::to_string(s.http_429),
       "retried requests / rate-limited answers");
  tile(out, "estimated cost", format_usd(s.estimated_cost_usd),
       format_usd(s.submitted_cost_usd) + " accepted by the provider" +
           (s.unpriced_jobs > 0 ? "; " + std::to_string(s.unpriced_jobs) + " unpriced" : ""));
  tile(out, "verified videos", std::to_string(s.videos_verified - s.videos_mismatched) + " ok",
       std::to_string(s.videos_mismatched) + " not what was asked (vidbatch retry --mismatched)");
  tile(out, "paid, unclaimed", std::to_string(s.unclaimed_videos),
       format_usd(s.unclaimed_cost_usd) + " of videos no job holds (vidbatch adopt)");
  out << "</div>\n<div class=\"states\">";
  for (int i = 0; i < k_job_state_count; ++i) {
    auto state = static_cast<JobState>(i);
    if (s.of(state) > 0) {
      out << "<span class=\"badge\" style=\"background:" << color_of(state) << "\">"
          << to_string(state) << " " << s.of(state) << "</span>";
    }
  }
  out << "</div></section>\n";
}

void write_timeline(const ReportData& data, std::ostream& out) {
  out << "<h2>Timeline</h2>\n<section class=\"chart\" aria-label=\"timeline\">\n";
  auto samples = timeline(data.events, 240);
  if (samples.empty()) {
    out << "<p class=\"sub\">No events recorded yet.</p></section>\n";
    return;
  }
  constexpr double W = 960, H = 260, left = 44, right = 12, top = 10, bottom = 28;
  const double plot_w = W - left - right;
  const double plot_h = H - top - bottom;
  std::int64_t max_total = 1;
  for (const auto& sample : samples) {
    std::int64_t total = 0;
    for (auto c : sample.by_state) {
      total += c;
    }
    max_total = std::max(max_total, total);
  }
  const Millis start = samples.front().at;
  const double span = static_cast<double>(std::max<Millis>(samples.back().at - start, 1));
  auto x_of = [&](Millis at) { return left + plot_w * static_cast<double>(at - start) / span; };
  auto y_of = [&](double count) {
    return top + plot_h - plot_h * count / static_cast<double>(max_total);
  };
  out << "<svg viewBox=\"0 0 " << W << " " << H
      << "\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\"><title>Jobs per state over the "
         "run</title>\n";
  // Grid and y labels.
  for (int i = 0; i <= 4; ++i) {
    double count = static_cast<double>(max_total) * i / 4.0;
    double y = y_of(count);
    out << "<line x1=\"" << left << "\" x2=\"" << W - right << "\" y1=\"" << num(y) << "\" y2=\""
        << num(y) << "\" stroke=\"#e2e8f0\"/><text x=\"" << left - 6 << "\" y=\"" << num(y + 4)
        << "\" font-size=\"11\" fill=\"#64748b\" text-anchor=\"end\">"
        << static_cast<long long>(std::llround(count)) << "</text>\n";
  }
  std::vector<double> floor(samples.size(), 0.0);
  std::vector<bool> seen(k_job_state_count, false);
  for (JobState state : k_stack_order) {
    const auto s = static_cast<std::size_t>(state);
    bool any = std::any_of(samples.begin(), samples.end(),
                           [&](const TimelineSample& t) { return t.by_state[s] > 0; });
    if (!any) {
      continue;
    }
    seen[s] = true;
    std::string points;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      points += num(x_of(samples[i].at)) + "," +
                num(y_of(floor[i] + static_cast<double>(samples[i].by_state[s]))) + " ";
    }
    for (std::size_t i = samples.size(); i-- > 0;) {
      points += num(x_of(samples[i].at)) + "," + num(y_of(floor[i])) + " ";
    }
    for (std::size_t i = 0; i < samples.size(); ++i) {
      floor[i] += static_cast<double>(samples[i].by_state[s]);
    }
    out << "<polygon fill=\"" << color_of(state) << "\" points=\"" << points << "\"><title>"
        << to_string(state) << "</title></polygon>\n";
  }
  // X axis: elapsed time since the first event.
  out << "<line x1=\"" << left << "\" x2=\"" << W - right << "\" y1=\"" << num(top + plot_h)
      << "\" y2=\"" << num(top + plot_h) << "\" stroke=\"#94a3b8\"/>\n";
  for (int i = 0; i <= 5; ++i) {
    double x = left + plot_w * i / 5.0;
    const char* anchor = i == 0 ? "start" : i == 5 ? "end" : "middle";
    out << "<text x=\"" << num(x) << "\" y=\"" << H - 8 << "\" font-size=\"11\" fill=\"#64748b\" "
        << "text-anchor=\"" << anchor << "\">"
        << html_escape(i == 0 ? std::string("0 s") : format_duration(span / 1000.0 * i / 5.0))
        << "</text>\n";
  }
  out << "</svg>\n<div class=\"legend\">";
  for (int i = 0; i < k_job_state_count; ++i) {
    if (seen[static_cast<std::size_t>(i)]) {
      auto state = static_cast<JobState>(i);
      out << "<span><i style=\"background:" << color_of(state) << "\"></i>" << to_string(state)
          << "</span>";
    }
  }
  out << "<span>started " << html_escape(format_iso8601(start)) << ", last event "
      << html_escape(format_iso8601(samples.back().at)) << "</span></div>\n</section>\n";
}

// A poster next to the video: "<stem>.webp" or "<stem>.thumbnail.webp".
std::optional<std::string> poster_for(const std::string& video) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path path(video);
  for (const char* suffix : {".webp", ".thumbnail.webp"}) {
    fs::path candidate = path;
    candidate.replace_extension(suffix);
    if (fs::is_regular_file(candidate, ec)) {
      return candidate.string();
    }
  }
  return std::nullopt;
}

void row(std::ostream& out, const char* key, const std::string& value) {
  out << "<dt>" << key << "</dt><dd>" << html_escape(value) << "</dd>";
}

// "verified" when the video is what was asked, its mismatch codes otherwise; nothing unchecked.
void write_verify_badge(const VideoCheck& check, std::ostream& out) {
  if (!check.checked()) {
    return;
  }
  if (!check.mismatched()) {
    out << "<span class=\"badge ok\" title=\"matches what was asked\">verified</span>";
    return;
  }
  out << "<span class=\"badge off\" title=\"" << html_escape(verify_detail(check)) << "\">"
      << html_escape(check.verdict) << "</span>";
}

// "1280x720, 8 s, 30 fps, h264 + aac" from the file's headers.
std::string probe_line(const VideoCheck& check) {
  char fps[32];
  std::snprintf(fps, sizeof fps, "%.3g fps", check.frame_rate);
  std::string line = std::to_string(check.width) + "x" + std::to_string(check.height) + ", " +
                     format_duration(static_cast<double>(check.duration_ms) / 1000.0) + ", " + fps +
                     ", " + (check.has_video ? check.video_codec : "no video");
  return line + (check.has_audio ? " + " + check.audio_codec : ", no audio");
}

void write_card(const ReportData& data, const JobRecord& job, const JobTimings& timings,
                std::ostream& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  out << "<article class=\"card\" data-state=\"" << to_string(job.state) << "\" id=\"job-"
      << html_escape(job.batch) << "-" << html_escape(job.spec.id) << "\">\n<div class=\"media\">";
  bool has_file = !job.output_path.empty() && fs::is_regular_file(job.output_path, ec);
  if (has_file) {
    out << "<video controls preload=\"none\" src=\""
        << html_escape(relative_url(job.output_path, data.report_dir)) << "\"";
    if (auto poster = poster_for(job.output_path)) {
      out << " poster=\"" << html_escape(relative_url(*poster, data.report_dir)) << "\"";
    }
    out << "></video>";
  } else {
    const char* why = job.state == JobState::done       ? "video file missing"
                      : job.state == JobState::failed   ? "failed"
                      : job.state == JobState::canceled ? "canceled"
                                                        : "no video yet";
    out << "<div class=\"placeholder\">" << why << "</div>";
  }
  out << "</div>\n<div class=\"body\"><header><h3>" << html_escape(job.spec.id)
      << "</h3><span class=\"badges\"><span class=\"badge\" style=\"background:"
      << color_of(job.state) << "\">" << to_string(job.state) << "</span>";
  write_verify_badge(job.check, out);
  out << "</span></header>\n<p class=\"prompt\">" << html_escape(job.spec.prompt) << "</p>\n<dl>";
  row(out, "batch", job.batch);
  row(out, "model", job.spec.model);
  row(out, "size",
      priced_size(job.spec) + " (" + job.spec.size + ", " + to_string(job.spec.orientation) + ")");
  row(out, "seconds", std::to_string(job.spec.seconds));
  row(out, "attempts", std::to_string(job.attempt));
  if (!job.remote_id.empty()) {
    row(out, "remote id", job.remote_id);
  }
  row(out, "queue", format_duration(timings.queue_s));
  row(out, "generation", format_duration(timings.generation_s));
  row(out, "download", format_duration(timings.download_s));
  if (job.bytes > 0) {
    row(out, "file", format_bytes(job.bytes));
  }
  if (!job.output_path.empty()) {
    row(out, "path", job.output_path);
  }
  if (auto it = data.unclaimed_by_job.find(job.row_id); it != data.unclaimed_by_job.end()) {
    row(out, "paid, unclaimed", it->second);
  }
  if (job.check.probed) {
    row(out, "probe", probe_line(job.check));
  }
  if (job.check.mismatched()) {
    row(out, "mismatch", verify_detail(job.check));
  }
  out << "</dl>";
  if (!job.error_code.empty() || !job.error_message.empty()) {
    std::string error = job.error_code.empty() ? job.error_message
                                               : job.error_code + ": " + job.error_message;
    out << "\n<p class=\"error\">" << html_escape(error) << "</p>";
  }
  out << "</div>\n</article>\n";
}

}  // namespace

void write_html(const ReportData& data, std::ostream& out) {
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
         "style-src 'unsafe-inline'; img-src 'self' data:; media-src 'self'\">\n"
         "<title>vidbatch report: "
      << html_escape(data.title) << "</title>\n<style>" << k_css << "</style>\n</head>\n<body>\n"
      << "<main>\n<h1>vidbatch report</h1>\n<p class=\"sub\">" << html_escape(data.title)
      << " \xC2\xB7 generated " << html_escape(format_iso8601(data.generated_at)) << "</p>\n";
  write_summary(data, out);
  write_timeline(data, out);
  out << "<h2>Videos</h2>\n";
  if (data.jobs.empty()) {
    out << "<p class=\"sub\">No jobs match.</p>\n";
  }
  out << "<section class=\"sheet\" aria-label=\"contact sheet\">\n";
  auto timings = job_timings(data.events);
  for (const JobRecord& job : data.jobs) {
    auto it = timings.find(job.row_id);
    write_card(data, job, it == timings.end() ? JobTimings{} : it->second, out);
  }
  out << "</section>\n<footer>Costs are estimates from the list prices in the configuration "
         "([prices]), not the provider's bill. Videos play from their local files, linked "
         "relative to this report.</footer>\n</main>\n</body>\n</html>\n";
}

}  // namespace vb::report_detail
