#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <string>

#include "plan/pricing.h"
#include "report/report.h"
#include "report/report_writers.h"
#include "store/job_json.h"

namespace vb::report_detail {

namespace {

void put_string(JsonWriter& w, const std::string& text) {
  put_json_string(w, text);
}

void put_time(JsonWriter& w, Millis ms) {
  put_json_time(w, ms);
}

void put_optional(JsonWriter& w, std::optional<double> value);

// Keys and order as k_columns (a test holds them together); types per report/report.h.
void put_job(JsonWriter& w, const JobRecord& job, std::string_view unclaimed) {
  w.StartObject();
  put_job_fields(w, job);
  w.Key("unclaimed");
  put_json_string(w, unclaimed);
  w.Key("verify");
  put_string(w, job.check.verdict);
  w.Key("verify_detail");
  put_string(w, verify_detail(job.check));
  w.EndObject();
}

void put_unclaimed(JsonWriter& w, const std::vector<UnclaimedVideo>& videos,
                   const PriceTable& prices) {
  w.StartArray();
  for (const auto& v : videos) {
    w.StartObject();
    w.Key("batch");
    put_string(w, v.batch);
    w.Key("id");
    put_string(w, v.job_id);
    w.Key("provider");
    put_string(w, v.provider);
    w.Key("remote_id");
    put_string(w, v.remote_id);
    w.Key("status");
    put_string(w, v.status);
    w.Key("created_at");
    put_time(w, v.created_at);
    w.Key("estimated_cost_usd");
    auto cost = estimate_cost(v.spec, prices);
    put_optional(w, cost ? std::optional<double>(std::round(*cost * 100.0) / 100.0) : std::nullopt);
    w.Key("take_path");
    put_string(w, v.take_path);
    w.EndObject();
  }
  w.EndArray();
}

// Moves what the writer produced so far to `out`, keeping memory flat for large reports.
void drain(rapidjson::StringBuffer& buffer, std::ostream& out) {
  out.write(buffer.GetString(), static_cast<std::streamsize>(buffer.GetSize()));
  buffer.Clear();
}

void put_optional(JsonWriter& w, std::optional<double> value) {
  if (value) {
    w.Double(std::round(*value * 1000.0) / 1000.0);
  } else {
    w.Null();
  }
}

void put_durations(JsonWriter& w, const DurationStats& d) {
  w.StartObject();
  w.Key("count");
  w.Int64(d.count);
  w.Key("total");
  put_optional(w, d.total_s);
  w.Key("mean");
  put_optional(w, d.mean_s);
  w.Key("p50");
  put_optional(w, d.p50_s);
  w.Key("p95");
  put_optional(w, d.p95_s);
  w.EndObject();
}

void put_summary(JsonWriter& w, const ReportSummary& s) {
  w.StartObject();
  w.Key("jobs");
  w.Int64(s.total_jobs);
  w.Key("states");
  const std::string states = state_counts_json(s.by_state);
  w.RawValue(states.c_str(), states.size(), rapidjson::kObjectType);
  w.Key("success_rate");
  put_optional(w, s.success_rate);
  w.Key("queue_s");
  put_durations(w, s.queue);
  w.Key("generation_s");
  put_durations(w, s.generation);
  w.Key("download_s");
  put_durations(w, s.download);
  w.Key("videos_downloaded");
  w.Int64(s.videos_downloaded);
  w.Key("bytes_downloaded");
  w.Int64(s.bytes_downloaded);
  w.Key("retries");
  w.Int64(s.retries);
  w.Key("http_429");
  w.Int64(s.http_429);
  w.Key("estimated_cost_usd");
  put_optional(w, std::round(s.estimated_cost_usd * 100.0) / 100.0);
  w.Key("submitted_cost_usd");
  put_optional(w, std::round(s.submitted_cost_usd * 100.0) / 100.0);
  w.Key("unpriced_jobs");
  w.Int64(s.unpriced_jobs);
  w.Key("unclaimed_videos");
  w.Int64(s.unclaimed_videos);
  w.Key("unclaimed_cost_usd");
  put_optional(w, std::round(s.unclaimed_cost_usd * 100.0) / 100.0);
  w.Key("videos_verified");
  w.Int64(s.videos_verified);
  w.Key("videos_mismatched");
  w.Int64(s.videos_mismatched);
  w.EndObject();
}

}  // namespace

}  // namespace vb::report_detail

namespace vb {

std::string state_counts_json(const std::array<std::int64_t, k_job_state_count>& counts) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  for (int i = 0; i < k_job_state_count; ++i) {
    w.Key(to_string(static_cast<JobState>(i)));
    w.Int64(counts[static_cast<std::size_t>(i)]);
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string event_json(const EventRecord& e) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("event");
  w.Int64(e.id);
  w.Key("at");
  report_detail::put_string(w, format_iso8601(e.at));
  w.Key("batch");
  report_detail::put_string(w, e.batch);
  w.Key("job");
  report_detail::put_string(w, e.job_id);
  w.Key("from");
  if (e.from) {
    w.String(to_string(*e.from));
  } else {
    w.Null();
  }
  w.Key("to");
  w.String(to_string(e.to));
  w.Key("progress");
  if (e.progress) {
    w.Double(*e.progress);
  } else {
    w.Null();
  }
  w.Key("http_status");
  if (e.http_status != 0) {
    w.Int(e.http_status);
  } else {
    w.Null();
  }
  w.Key("message");
  report_detail::put_string(w, e.message);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace vb

namespace vb::report_detail {

void write_json_line(const JobRecord& job, std::string_view unclaimed, std::ostream& out) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);  // one writer per line: each line is a complete document
  put_job(w, job, unclaimed);
  drain(buffer, out);
  out << '\n';
}

void write_json(const ReportData& data, std::ostream& out) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("generated_at");
  put_time(w, data.generated_at);
  w.Key("summary");
  put_summary(w, data.summary);
  w.Key("jobs");
  w.StartArray();
  for (const JobRecord& job : data.jobs) {
    auto it = data.unclaimed_by_job.find(job.row_id);
    put_job(w, job, it == data.unclaimed_by_job.end() ? std::string_view() : it->second);
    drain(buffer, out);
  }
  w.EndArray();
  w.Key("unclaimed");
  put_unclaimed(w, data.unclaimed, data.prices);
  w.EndObject();
  drain(buffer, out);
  out << '\n';
}

}  // namespace vb::report_detail
