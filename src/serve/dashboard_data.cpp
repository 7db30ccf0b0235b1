#include "serve/dashboard_data.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

#include "output/output_layout.h"
#include "plan/plan.h"
#include "plan/pricing.h"
#include "report/report.h"
#include "serve/media_files.h"
#include "store/job_json.h"

namespace vb {

namespace {

constexpr Millis k_rate_window_ms = 10 * 60 * 1000;  // the rate is of the last 10 minutes...
constexpr std::size_t k_rate_min_samples = 50;       // ...or of the last 50 videos, if longer
constexpr std::size_t k_series_points = 60;          // points of the progress chart
constexpr std::size_t k_failure_examples = 20;       // job ids listed per failure reason

void put(JsonWriter& w, const char* key, const std::string& value) {
  put_json_member(w, key, value);
}

void put(JsonWriter& w, const char* key, std::int64_t value) {
  w.Key(key);
  w.Int64(value);
}

// Rounded to `scale` (100: cents); null when unknown.
void put_number(JsonWriter& w, const char* key, std::optional<double> value, double scale) {
  w.Key(key);
  if (value) {
    w.Double(std::round(*value * scale) / scale);
  } else {
    w.Null();
  }
}

void put_money(JsonWriter& w, const char* key, std::optional<double> usd) {
  put_number(w, key, usd, 100.0);
}

std::string provider_name(const JobSpec& spec) {
  return spec.provider.empty() ? "default" : spec.provider;
}

std::string text_of(rapidjson::StringBuffer& buffer) {
  return {buffer.GetString(), buffer.GetSize()};
}

// The files a job has to show, served only from inside the output tree.
struct JobFiles {
  bool video = false;
  bool poster = false;
};

JobFiles files_of(const JobRecord& job, const std::string& output_root) {
  JobFiles files;
  if (job.output_path.empty()) {
    return files;
  }
  files.video = file_inside(output_root, job.output_path).has_value();
  files.poster = file_inside(output_root, thumbnail_path(job.output_path)).has_value();
  return files;
}

// ---- batch progress --------------------------------------------------------

struct Rate {
  std::optional<double> per_minute;
  std::optional<double> eta_s;
  std::vector<std::pair<Millis, std::int64_t>> series;  // (time, videos done by then)
};

Rate rate_of(std::vector<Millis> done_at, std::int64_t remaining, Millis now) {
  Rate rate;
  std::sort(done_at.begin(), done_at.end());
  if (done_at.empty()) {
    return rate;
  }
  // Recent videos: those of the last window, at least the last k_rate_min_samples.
  const Millis window_start = done_at.back() - k_rate_window_ms;
  auto first = std::lower_bound(done_at.begin(), done_at.end(), window_start);
  const std::size_t at_least = std::min(done_at.size(), k_rate_min_samples);
  first = std::min(first, done_at.end() - static_cast<std::ptrdiff_t>(at_least));
  // While jobs remain, the time since the last video counts too: a stalled run slows down.
  const Millis end = remaining > 0 ? std::max(now, done_at.back()) : done_at.back();
  const auto count = static_cast<double>(done_at.end() - first);
  const double span_ms = static_cast<double>(end - *first);
  if (count >= 2 && span_ms > 0) {
    rate.per_minute = (count - 1) / span_ms * 60000.0;
    rate.eta_s = remaining == 0 ? 0.0 : static_cast<double>(remaining) / *rate.per_minute * 60.0;
  }
  const Millis start = done_at.front();
  for (std::size_t p = 0; p < k_series_points; ++p) {
    const Millis at =
        start + (end - start) * static_cast<Millis>(p) / static_cast<Millis>(k_series_points - 1);
    const auto done = std::upper_bound(done_at.begin(), done_at.end(), at) - done_at.begin();
    rate.series.emplace_back(at, done);
  }
  return rate;
}

struct FailureGroup {
  std::int64_t count = 0;
  std::string message;  // the first job's
  std::vector<std::string> jobs;
};

struct BatchView {
  std::array<std::int64_t, k_job_state_count> states{};
  std::int64_t total = 0;
  std::vector<Millis> done_at;
  double estimate_usd = 0;
  double so_far_usd = 0;
  std::int64_t unpriced = 0;
  std::map<std::string, FailureGroup> failures;
  std::vector<JobRecord> ambiguous;
  std::int64_t mismatched = 0;
  std::int64_t verified = 0;
  std::set<std::string> providers;
  std::set<std::string> models;
  std::map<std::int64_t, std::string> id_of_row;  // for the unclaimed videos
};

void add_job(BatchView& view, const JobRecord& job, ProviderCatalog& catalog) {
  view.states[static_cast<std::size_t>(job.state)] += 1;
  view.total += 1;
  view.providers.insert(provider_name(job.spec));
  view.models.insert(job.spec.model);
  view.id_of_row[job.row_id] = job.spec.id;
  view.mismatched += job.check.mismatched() ? 1 : 0;
  view.verified += job.check.checked() ? 1 : 0;
  if (job.state == JobState::done && job.downloaded_at > 0) {
    view.done_at.push_back(job.downloaded_at);
  }
  const ProviderCatalog::Entry* provider = catalog.find(job.spec.provider);
  const auto cost = provider ? estimate_cost(job.spec, provider->config.prices) : std::nullopt;
  if (!cost) {
    view.unpriced += 1;
  } else {
    view.estimate_usd += *cost;
    // What the provider accepted, or may have (ambiguous): what a bill can hold so far.
    if (job.submitted_at != 0 || job.state == JobState::ambiguous) {
      view.so_far_usd += *cost;
    }
  }
  if (job.state == JobState::failed) {
    FailureGroup& group = view.failures[job.error_code.empty() ? "unknown" : job.error_code];
    if (group.count++ == 0) {
      group.message = job.error_message;
    }
    if (group.jobs.size() < k_failure_examples) {
      group.jobs.push_back(job.spec.id);
    }
  } else if (job.state == JobState::ambiguous) {
    view.ambiguous.push_back(job);
  }
}

void put_states(JsonWriter& w, const BatchView& view) {
  w.Key("states");
  const std::string states = state_counts_json(view.states);
  w.RawValue(states.c_str(), states.size(), rapidjson::kObjectType);
}

void put_rate(JsonWriter& w, const Rate& rate) {
  w.Key("rate");
  w.StartObject();
  put_number(w, "per_minute", rate.per_minute, 10.0);
  put_number(w, "eta_s", rate.eta_s, 10.0);
  w.Key("series");
  w.StartArray();
  for (const auto& [at, done] : rate.series) {
    w.StartArray();
    w.Int64(at);
    w.Int64(done);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
}

void put_failures(JsonWriter& w, const BatchView& view) {
  std::vector<std::pair<std::string, const FailureGroup*>> groups;
  for (const auto& [code, group] : view.failures) {
    groups.emplace_back(code, &group);
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const auto& a, const auto& b) { return a.second->count > b.second->count; });
  w.Key("failures");
  w.StartArray();
  for (const auto& [code, group] : groups) {
    w.StartObject();
    put(w, "code", code);
    put(w, "count", group->count);
    put(w, "message", group->message);
    w.Key("jobs");
    w.StartArray();
    for (const auto& id : group->jobs) {
      w.String(id.c_str(), static_cast<rapidjson::SizeType>(id.size()));
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
}

void put_ambiguous(JsonWriter& w, const std::string& batch, const BatchView& view) {
  w.Key("ambiguous");
  w.StartArray();
  for (const JobRecord& job : view.ambiguous) {
    w.StartObject();
    put(w, "id", job.spec.id);
    put(w, "remote_id", job.remote_id);
    w.Key("attempts");
    w.Int(job.attempt);
    put(w, "message", job.error_message);
    put(w, "todo",
        "The create request left but its answer was lost: a (paid) video may exist. Where the "
        "provider lists videos, the next run settles it. Otherwise look at the provider, then "
        "`vidbatch resolve --resubmit --batch " +
            batch + " " + job.spec.id +
            "` if it made no video, or `vidbatch resolve --fail --batch " + batch + " " +
            job.spec.id + "`.");
    w.EndObject();
  }
  w.EndArray();
}

void put_unclaimed(JsonWriter& w, const BatchView& view, const std::vector<UnclaimedVideo>& videos,
                   ProviderCatalog& catalog) {
  w.Key("unclaimed");
  w.StartArray();
  for (const UnclaimedVideo& video : videos) {
    const auto it = view.id_of_row.find(video.job_row_id);
    const std::string id = it == view.id_of_row.end() ? video.job_id : it->second;
    const ProviderCatalog::Entry* provider = catalog.find(video.spec.provider);
    w.StartObject();
    put(w, "id", id);
    put(w, "provider", video.provider);
    put(w, "remote_id", video.remote_id);
    put(w, "status", video.status);
    put_money(w, "cost_usd",
              provider ? estimate_cost(video.spec, provider->config.prices) : std::nullopt);
    put(w, "take_path", video.take_path);
    put(w, "todo",
        video.take_path.empty()
            ? "Paid for and held by no job: `vidbatch adopt " + video.remote_id +
                  "` saves it as an alternative take of " + id + "."
            : "Saved as an alternative take.");
    w.EndObject();
  }
  w.EndArray();
}

void put_names(JsonWriter& w, const char* key, const std::set<std::string>& names) {
  w.Key(key);
  w.StartArray();
  for (const auto& name : names) {
    w.String(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
  }
  w.EndArray();
}

bool is_settled(JobState s) {
  return is_terminal(s) || s == JobState::ambiguous;
}

// ---- jobs ------------------------------------------------------------------

bool matches(const JobRecord& job, const JobQuery& query) {
  return (!query.provider || provider_name(job.spec) == *query.provider) &&
         (!query.model || job.spec.model == *query.model);
}

// The provider's progress of a job it is generating (0..100), null when unknown or over: a
// streamed create's deltas land here without a transition.
void put_progress(JsonWriter& w, const JobRecord& job) {
  w.Key("progress");
  const bool generating = job.state == JobState::submitted || job.state == JobState::running;
  if (generating && job.progress) {
    w.Double(*job.progress);
  } else {
    w.Null();
  }
}

void put_card(JsonWriter& w, const JobRecord& job, const std::string& output_root) {
  const JobFiles files = files_of(job, output_root);
  w.StartObject();
  put(w, "id", job.spec.id);
  w.Key("state");
  w.String(to_string(job.state));
  put(w, "model", job.spec.model);
  put(w, "provider", provider_name(job.spec));
  put(w, "size", priced_size(job.spec));
  w.Key("seconds");
  w.Int(job.spec.seconds);
  put(w, "prompt", job.spec.prompt);
  w.Key("attempts");
  w.Int(job.attempt);
  put_progress(w, job);
  put(w, "error_code", job.error_code);
  put(w, "error_message", job.error_message);
  put(w, "verify", job.check.verdict);
  std::string detail = job.check.mismatches;
  std::replace(detail.begin(), detail.end(), '\n', ';');
  put(w, "verify_detail", detail);
  w.Key("video");
  w.Bool(files.video);
  w.Key("poster");
  w.Bool(files.poster);
  w.EndObject();
}

void put_time(JsonWriter& w, const char* key, Millis at) {
  w.Key(key);
  if (at == 0) {
    w.Null();
  } else {
    w.Int64(at);
  }
}

void put_events(JsonWriter& w, const std::vector<EventRecord>& events) {
  w.Key("events");
  w.StartArray();
  for (const EventRecord& e : events) {
    const std::string event = event_json(e);  // as `vidbatch events --json` prints it
    w.RawValue(event.c_str(), event.size(), rapidjson::kObjectType);
  }
  w.EndArray();
}

}  // namespace

Result<std::string> version_json(JobStore& store) {
  auto version = VB_TRY(store.latest_event_id());
  return "{\"version\":" + std::to_string(version) + "}";
}

Result<std::string> batches_json(JobStore& store) {
  auto version = store.latest_event_id();
  auto counts = VB_TRY(version ? store.count_states() : std::unexpected(version.error()));
  struct Totals {
    std::int64_t total = 0, done = 0, failed = 0, active = 0;
  };
  std::map<std::string, Totals> batches;
  for (const StateCount& c : counts) {
    Totals& t = batches[c.batch];
    t.total += c.count;
    t.done += c.state == JobState::done ? c.count : 0;
    t.failed += c.state == JobState::failed ? c.count : 0;
    t.active += is_settled(c.state) ? 0 : c.count;
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "version", *version);
  w.Key("batches");
  w.StartArray();
  for (const auto& [name, t] : batches) {
    w.StartObject();
    put(w, "name", name);
    put(w, "total", t.total);
    put(w, "done", t.done);
    put(w, "failed", t.failed);
    put(w, "active", t.active);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return text_of(buffer);
}

Result<std::string> batch_json(JobStore& store, const std::string& batch, const Config& config,
                               Millis now) {
  // The version first: a transition committed while the rest is read shows as a newer version
  // at the next poll, never as a missed one.
  auto version = VB_TRY(store.latest_event_id());
  ProviderCatalog catalog(config);
  BatchView view;
  JobFilter filter;
  filter.batch = batch;
  auto walked = store.for_each_job(filter, [&](const JobRecord& job) -> Status {
    add_job(view, job, catalog);
    return {};
  });
  auto unclaimed = VB_TRY(walked ? store.unclaimed_videos(batch) : std::unexpected(walked.error()));
  if (view.total == 0) {
    return fail(ErrorCode::not_found, "no batch of this name in the ledger", "batch " + batch);
  }
  std::int64_t finished = 0;
  std::int64_t remaining = 0;
  for (int i = 0; i < k_job_state_count; ++i) {
    const auto state = static_cast<JobState>(i);
    const std::int64_t n = view.states[static_cast<std::size_t>(i)];
    finished += is_terminal(state) ? n : 0;
    remaining += is_settled(state) ? 0 : n;
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "batch", batch);
  put(w, "version", version);
  put(w, "now", now);
  put(w, "total", view.total);
  put_states(w, view);
  put(w, "finished", finished);
  put(w, "remaining", remaining);
  put_rate(w, rate_of(std::move(view.done_at), remaining, now));
  w.Key("cost");
  w.StartObject();
  put_money(w, "estimate_usd", view.estimate_usd);
  put_money(w, "so_far_usd", view.so_far_usd);
  put_money(w, "budget_usd", config.budget_usd);
  put(w, "unpriced", view.unpriced);
  w.EndObject();
  put_failures(w, view);
  put_ambiguous(w, batch, view);
  put_unclaimed(w, view, unclaimed, catalog);
  put(w, "mismatched", view.mismatched);
  put(w, "verified", view.verified);
  put_names(w, "providers", view.providers);
  put_names(w, "models", view.models);
  w.EndObject();
  return text_of(buffer);
}

Result<std::string> jobs_json(JobStore& store, const JobQuery& query,
                              const std::string& output_root) {
  auto version = VB_TRY(store.latest_event_id());
  JobFilter filter;
  filter.batch = query.batch;
  filter.state = query.state;
  filter.mismatched = query.mismatched;
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "version", version);
  w.Key("offset");
  w.Int(query.offset);
  w.Key("jobs");
  w.StartArray();
  std::int64_t total = 0;
  auto walked = store.for_each_job(filter, [&](const JobRecord& job) -> Status {
    if (!matches(job, query)) {
      return {};
    }
    if (total >= query.offset && total < std::int64_t{query.offset} + query.limit) {
      put_card(w, job, output_root);
    }
    total += 1;
    return {};
  });
  if (!walked) {
    return std::unexpected(std::move(walked.error()));
  }
  w.EndArray();
  put(w, "total", total);
  w.EndObject();
  return text_of(buffer);
}

Result<std::optional<std::string>> job_json(JobStore& store, const std::string& batch,
                                            const std::string& job_id,
                                            const std::string& output_root) {
  auto found = store.find_job(batch, job_id);
  if (!found || !*found) {
    return found ? Result<std::optional<std::string>>(std::nullopt)
                 : std::unexpected(std::move(found.error()));
  }
  const JobRecord& job = **found;
  auto events = VB_TRY(store.events(job.row_id));
  const JobFiles files = files_of(job, output_root);
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  put(w, "batch", job.batch);
  put(w, "id", job.spec.id);
  w.Key("state");
  w.String(to_string(job.state));
  w.Key("spec");
  const std::string spec = job.spec.canonical_json();
  w.RawValue(spec.c_str(), spec.size(), rapidjson::kObjectType);
  put(w, "provider", provider_name(job.spec));
  put(w, "size_sent", priced_size(job.spec));
  put(w, "remote_id", job.remote_id);
  w.Key("attempts");
  w.Int(job.attempt);
  w.Key("polls");
  w.Int(job.polls);
  w.Key("retries");
  w.Int(job.retries);
  put_progress(w, job);
  put_time(w, "created_at", job.created_at);
  put_time(w, "submitted_at", job.submitted_at);
  put_time(w, "completed_at", job.completed_at);
  put_time(w, "downloaded_at", job.downloaded_at);
  put(w, "output_path", job.output_path);
  put(w, "bytes", job.bytes);
  put(w, "sha256", job.sha256);
  put(w, "error_code", job.error_code);
  put(w, "error_message", job.error_message);
  w.Key("check");
  const std::string check = to_json(job.check);
  w.RawValue(check.c_str(), check.size(),
             job.check.checked() ? rapidjson::kObjectType : rapidjson::kNullType);
  w.Key("video");
  w.Bool(files.video);
  w.Key("poster");
  w.Bool(files.poster);
  put_events(w, events);
  w.EndObject();
  return std::optional<std::string>(text_of(buffer));
}

}  // namespace vb
