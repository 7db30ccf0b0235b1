// [report] The summary numbers, the timeline, and the Markdown and HTML reports,
// built from a ledger whose events have known times.
#include <rapidjson/document.h>

#include <regex>
#include <sstream>

#include "plan/pricing.h"
#include "report/report.h"
#include "report/report_writers.h"
#include "report/summary.h"
#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

namespace {

constexpr Millis k_t0 = 1764019137000;

void apply_one(JobStore& store, Transition t) {
  auto applied = store.apply({&t, 1});
  INFO((applied ? std::string() : applied.error().describe()));
  REQUIRE(applied.has_value());
}

// job-0 done (queue 2 s, generation 10 s, download 3 s), job-1 failed after one 429
// and a retry, job-2 still queued. Prompts carry HTML and Markdown specials.
std::unique_ptr<JobStore> run_ledger() {
  auto store = open_store(":memory:");
  std::vector<JobSpec> specs = make_specs(3);
  specs[0].prompt = "a <b>cat</b> | surfing\nat \"dawn\" & 'dusk'";
  specs[1].model = "sora-2-pro";
  specs[1].seconds = 8;
  specs[2].model = "mystery-model";
  REQUIRE(store->import_jobs("nightly", specs, k_t0, false).has_value());
  const std::int64_t a = row_of(*store, "nightly", "job-0");
  const std::int64_t b = row_of(*store, "nightly", "job-1");

  Transition t = step(a, JobState::queued, JobState::submitting, k_t0 + 1000);
  t.update.increment_attempt = true;
  apply_one(*store, t);
  t = step(a, JobState::submitting, JobState::submitted, k_t0 + 2000);
  t.update.submitted_at = k_t0 + 2000;
  t.update.remote_id = "video_a";
  apply_one(*store, t);
  apply_one(*store, step(a, JobState::submitted, JobState::running, k_t0 + 5000));
  apply_one(*store, step(a, JobState::running, JobState::ready, k_t0 + 12000));
  apply_one(*store, step(a, JobState::ready, JobState::downloading, k_t0 + 13000));
  t = step(a, JobState::downloading, JobState::done, k_t0 + 15000);
  t.update.bytes = 4096;
  t.update.output_path = "/nonexistent/out/nightly/job-0.mp4";
  apply_one(*store, t);

  apply_one(*store, step(b, JobState::queued, JobState::submitting, k_t0 + 1000));
  t = step(b, JobState::submitting, JobState::queued, k_t0 + 1500);
  t.http_status = 429;
  apply_one(*store, t);
  apply_one(*store, step(b, JobState::queued, JobState::submitting, k_t0 + 3000));
  t = step(b, JobState::submitting, JobState::submitted, k_t0 + 7000);
  t.update.submitted_at = k_t0 + 7000;
  apply_one(*store, t);
  t = step(b, JobState::submitted, JobState::failed, k_t0 + 9000);
  t.update.error_code = "moderation_blocked";
  t.update.error_message = "blocked <by> policy";
  apply_one(*store, t);
  REQUIRE(store->note_activity(b, 0, 2).has_value());
  return store;
}

std::string report_from_t0(JobStore& store, ReportFormat format, JobFilter filter = {}) {
  ReportOptions options;
  options.format = format;
  options.filter = std::move(filter);
  options.generated_at = k_t0 + 60000;
  std::ostringstream out;
  auto written = write_report(store, options, out);
  INFO((written ? std::string() : written.error().describe()));
  REQUIRE(written.has_value());
  return out.str();
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("percentiles use the nearest rank", "[report]") {
  CHECK_FALSE(percentile({}, 50).has_value());
  CHECK(percentile({7}, 50) == 7);
  CHECK(percentile({7}, 95) == 7);
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) {
    hundred.push_back(101 - i);  // unsorted on purpose
  }
  CHECK(percentile(hundred, 50) == 50);
  CHECK(percentile(hundred, 95) == 95);
  CHECK(percentile(hundred, 100) == 100);
  CHECK(percentile({1, 2, 3, 4}, 50) == 2);
  CHECK(percentile({1, 2, 3, 4}, 95) == 4);
  auto stats = duration_stats({2, 4, 9});
  CHECK(stats.count == 3);
  CHECK(stats.total_s == 15);
  CHECK(stats.mean_s == 5);
}

TEST_CASE("the summary counts states, timings, 429s, retries and cost", "[report]") {
  auto store = run_ledger();
  auto jobs = store->list_jobs({});
  auto events = store->events(std::nullopt);
  REQUIRE(jobs.has_value());
  REQUIRE(events.has_value());
  ReportSummary s = summarize(*jobs, *events, default_prices());
  CHECK(s.total_jobs == 3);
  CHECK(s.of(JobState::done) == 1);
  CHECK(s.of(JobState::failed) == 1);
  CHECK(s.of(JobState::queued) == 1);
  REQUIRE(s.success_rate.has_value());
  CHECK(*s.success_rate == Approx(0.5));
  // Queue: job-0 imported at t0, accepted at +2 s; job-1 re-queued at +1.5 s, accepted at +7 s.
  CHECK(s.queue.count == 2);
  CHECK(*s.queue.p50_s == Approx(2.0));
  CHECK(*s.queue.p95_s == Approx(5.5));
  CHECK(s.generation.count == 1);
  CHECK(s.generation.total_s == Approx(10.0));
  CHECK(*s.generation.mean_s == Approx(10.0));
  CHECK(s.download.count == 1);
  CHECK(*s.download.p50_s == Approx(3.0));
  CHECK(s.videos_downloaded == 1);
  CHECK(s.bytes_downloaded == 4096);
  CHECK(s.http_429 == 1);
  CHECK(s.retries == 2);
  // sora-2 4 s at 0.10 + sora-2-pro 8 s at 0.30; mystery-model has no price.
  CHECK(s.estimated_cost_usd == Approx(0.4 + 2.4));
  CHECK(s.submitted_cost_usd == Approx(0.4 + 2.4));
  CHECK(s.unpriced_jobs == 1);
  CHECK(s.first_event_at == k_t0);
  CHECK(s.last_event_at == k_t0 + 15000);

  auto timings = job_timings(*events);
  const auto& t0 = timings.at(row_of(*store, "nightly", "job-0"));
  CHECK(*t0.queue_s == Approx(2.0));
  CHECK(*t0.generation_s == Approx(10.0));
  CHECK(*t0.download_s == Approx(3.0));
}

TEST_CASE("the timeline samples jobs per state from the first to the last event", "[report]") {
  auto store = run_ledger();
  auto events = store->events(std::nullopt);
  REQUIRE(events.has_value());
  auto samples = timeline(*events, 16);
  REQUIRE(samples.size() == 16);
  CHECK(samples.front().at == k_t0);
  CHECK(samples.back().at == k_t0 + 15000);
  for (const auto& sample : samples) {
    std::int64_t total = 0;
    for (auto c : sample.by_state) {
      total += c;
    }
    CHECK(total == 3);  // every job is somewhere at every instant
  }
  const auto& last = samples.back().by_state;
  CHECK(last[static_cast<std::size_t>(JobState::done)] == 1);
  CHECK(last[static_cast<std::size_t>(JobState::failed)] == 1);
  CHECK(last[static_cast<std::size_t>(JobState::queued)] == 1);
  CHECK(timeline({}, 16).empty());
}

TEST_CASE("the JSON report carries the summary before the jobs", "[report]") {
  auto store = run_ledger();
  rapidjson::Document doc;
  doc.Parse(report_from_t0(*store, ReportFormat::json).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  const auto& s = doc["summary"];
  CHECK(s["jobs"].GetInt() == 3);
  CHECK(s["states"]["done"].GetInt() == 1);
  CHECK(s["states"]["ambiguous"].GetInt() == 0);
  CHECK(s["success_rate"].GetDouble() == Approx(0.5));
  CHECK(s["generation_s"]["p50"].GetDouble() == Approx(10.0));
  CHECK(s["download_s"]["count"].GetInt() == 1);
  CHECK(s["http_429"].GetInt() == 1);
  CHECK(s["estimated_cost_usd"].GetDouble() == Approx(2.8));
  CHECK(s["unpriced_jobs"].GetInt() == 1);
  CHECK(doc["jobs"].Size() == 3);
  // JSON Lines stays one job per line, without a summary.
  CHECK(count(report_from_t0(*store, ReportFormat::jsonl), "\n") == 3);
}

TEST_CASE("the Markdown report escapes table cells and lists every job", "[report]") {
  auto store = run_ledger();
  std::string md = report_from_t0(*store, ReportFormat::md);
  CHECK_THAT(md, Catch::Contains("| Success rate | 50.0 %"));
  CHECK_THAT(md, Catch::Contains("| Retries / 429s | 2 / 1 |"));
  CHECK_THAT(md, Catch::Contains("$2.80"));
  CHECK_THAT(md,
             Catch::Contains("a &lt;b&gt;cat&lt;/b&gt; \\| surfing<br>at \"dawn\" &amp; 'dusk'"));
  CHECK_THAT(md, Catch::Contains("moderation_blocked: blocked &lt;by&gt; policy"));
  CHECK(count(md, "| nightly | job-") == 3);
  std::string only_failed =
      report_from_t0(*store, ReportFormat::md, {std::nullopt, JobState::failed});
  CHECK(count(only_failed, "| nightly | job-") == 1);
  CHECK_THAT(only_failed, Catch::Contains("| Jobs | 1 (failed 1) |"));
}

TEST_CASE("the HTML report is self-contained, escaped, and has one card per job", "[report]") {
  auto store = run_ledger();
  std::string html = report_from_t0(*store, ReportFormat::html);
  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK(count(html, "<article class=\"card\"") == 3);
  CHECK_THAT(html, Catch::Contains("<svg"));
  CHECK_THAT(html, Catch::Contains("<title>done</title></polygon>"));
  CHECK(html.find("<title>ambiguous</title></polygon>") == std::string::npos);
  // Prompts and errors are escaped: no raw tag from the ledger survives.
  CHECK_THAT(html, Catch::Contains("a &lt;b&gt;cat&lt;/b&gt; | surfing\nat &quot;dawn&quot; "
                                   "&amp; &#39;dusk&#39;"));
  CHECK(html.find("<b>cat") == std::string::npos);
  CHECK_THAT(html, Catch::Contains("blocked &lt;by&gt; policy"));
  // Nothing is fetched from the network and no script runs.
  const bool only_svg_namespace = html.find("http://") == html.find("http://www.w3.org/2000/svg");
  CHECK(only_svg_namespace);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<link") == std::string::npos);
  // The done job's file does not exist: a placeholder instead of a broken player.
  CHECK_THAT(html, Catch::Contains("video file missing"));
  CHECK(html.find("<video") == std::string::npos);
}

TEST_CASE("the HTML report links videos and posters relative to its own folder", "[report]") {
  TempDir dir;
  auto store = open_store(dir.file("ledger.db"));
  REQUIRE(store->import_jobs("b", make_specs(1), k_t0, false).has_value());
  std::filesystem::create_directories(dir.file("out/b"));
  std::ofstream(dir.file("out/b/job 0.mp4")) << "video";
  std::ofstream(dir.file("out/b/job 0.webp")) << "poster";
  const std::int64_t row = row_of(*store, "b", "job-0");
  apply_one(*store, step(row, JobState::queued, JobState::submitting, k_t0 + 1));
  apply_one(*store, step(row, JobState::submitting, JobState::ready, k_t0 + 2));
  apply_one(*store, step(row, JobState::ready, JobState::downloading, k_t0 + 3));
  Transition t = step(row, JobState::downloading, JobState::done, k_t0 + 4);
  t.update.output_path = dir.file("out/b/job 0.mp4");
  apply_one(*store, t);

  ReportOptions options;
  options.format = ReportFormat::html;
  options.report_dir = dir.file("reports");
  std::ostringstream out;
  REQUIRE(write_report(*store, options, out).has_value());
  CHECK_THAT(out.str(), Catch::Contains("src=\"../out/b/job%200.mp4\""));
  CHECK_THAT(out.str(), Catch::Contains("poster=\"../out/b/job%200.webp\""));
}

TEST_CASE("text helpers escape for HTML and Markdown and format numbers", "[report]") {
  using namespace report_detail;
  CHECK(html_escape("<a href=\"x\">'&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  CHECK(md_cell("a|b\r\nc") == "a\\|b<br>c");
  CHECK(relative_url("/r/out/a b#1.mp4", "/r/reports") == "../out/a%20b%231.mp4");
  CHECK(relative_url("/r/out/x.mp4", "/r") == "out/x.mp4");
  CHECK(format_duration(std::nullopt) == "\xE2\x80\x93");
  CHECK(format_duration(2.25) == "2.2 s");
  CHECK(format_duration(42) == "42 s");
  CHECK(format_duration(125) == "2 min 05 s");
  CHECK(format_duration(3 * 3600 + 120) == "3 h 02 min");
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(65536) == "64.0 KiB");
  CHECK(format_bytes(3 * 1024 * 1024) == "3.0 MiB");
}

TEST_CASE("report formats md and html parse by name", "[report]") {
  CHECK(parse_report_format("md") == ReportFormat::md);
  CHECK(parse_report_format("html") == ReportFormat::html);
  CHECK_FALSE(parse_report_format("HTML").has_value());
}
