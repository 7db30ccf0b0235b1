// `vidbatch status`: jobs per state per batch, and the ambiguous jobs that wait
// for the user (they must never be missed, so they are listed one by one).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <array>
#include <iomanip>
#include <map>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "plan/pricing.h"
#include "report/report.h"
#include "store/job_json.h"

namespace vb {

namespace {

using Counts = std::array<std::int64_t, k_job_state_count>;

struct StatusData {
  std::map<std::string, Counts> batches;  // ordered by name
  Counts totals{};
  std::vector<JobRecord> ambiguous;
  std::vector<MismatchCount> mismatched;  // videos that are not what was asked, per batch
  std::vector<UnclaimedVideo> unclaimed;
  std::vector<std::optional<double>> unclaimed_cost;  // each one's estimate
};

std::int64_t total(const Counts& counts) {
  return std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
}

Result<StatusData> gather(JobStore& store, const PriceTable& prices) {
  auto counts = VB_TRY(store.count_states());
  auto ambiguous = VB_TRY(store.list_jobs(JobFilter{std::nullopt, JobState::ambiguous}));
  StatusData data;
  for (const StateCount& count : counts) {
    const auto state = static_cast<std::size_t>(count.state);
    data.batches[count.batch][state] += count.count;
    data.totals[state] += count.count;
  }
  data.ambiguous = std::move(ambiguous);
  data.mismatched = VB_TRY(store.count_mismatched());
  data.unclaimed = VB_TRY(store.unclaimed_videos(std::nullopt));
  for (const auto& video : data.unclaimed) {
    data.unclaimed_cost.push_back(estimate_cost(video.spec, prices));
  }
  return data;
}

using Row = std::vector<std::string>;

// Columns only for states some job is in, so the table stays narrow.
Row count_cells(const std::string& name, const Counts& counts, const Counts& totals) {
  Row row{name};
  for (std::size_t s = 0; s < counts.size(); ++s) {
    if (totals[s] > 0) {
      row.push_back(std::to_string(counts[s]));
    }
  }
  row.push_back(std::to_string(total(counts)));
  return row;
}

Row header_cells(const Counts& totals) {
  Row row{"batch"};
  for (std::size_t s = 0; s < totals.size(); ++s) {
    if (totals[s] > 0) {
      row.push_back(to_string(static_cast<JobState>(s)));
    }
  }
  row.push_back("total");
  return row;
}

// Batch names left-aligned, counts right-aligned, columns two spaces apart.
void write_table(const StatusData& data, std::ostream& out) {
  std::vector<Row> rows{header_cells(data.totals)};
  for (const auto& [name, counts] : data.batches) {
    rows.push_back(count_cells(name, counts, data.totals));
  }
  if (data.batches.size() > 1) {
    rows.push_back(count_cells("total", data.totals, data.totals));
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const Row& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  for (const Row& row : rows) {
    out << std::left << std::setw(static_cast<int>(widths[0])) << row[0] << std::right;
    for (std::size_t c = 1; c < row.size(); ++c) {
      out << "  " << std::setw(static_cast<int>(widths[c])) << row[c];
    }
    out << '\n';
  }
}

void write_ambiguous_text(const std::vector<JobRecord>& jobs, std::ostream& out) {
  if (jobs.empty()) {
    return;
  }
  out << '\n'
      << jobs.size() << " ambiguous job(s): the create request was sent but its answer was lost,\n"
      << "so the provider may have started a (paid) video. vidbatch never resubmits these on\n"
      << "its own: check them at the provider, then resolve each one explicitly.\n";
  for (const JobRecord& job : jobs) {
    out << "  " << job.batch << '/' << job.spec.id << "  attempt " << job.attempt
        << "  remote id: " << (job.remote_id.empty() ? "(unknown)" : job.remote_id) << '\n';
  }
}

std::int64_t mismatched_total(const StatusData& data) {
  std::int64_t total = 0;
  for (const MismatchCount& count : data.mismatched) {
    total += count.count;
  }
  return total;
}

void write_mismatched_text(const StatusData& data, std::ostream& out) {
  if (data.mismatched.empty()) {
    return;
  }
  out << '\n'
      << mismatched_total(data) << " video(s) do not match what was asked (shorter, smaller or "
      << "not a video):";
  for (const MismatchCount& count : data.mismatched) {
    out << (&count == &data.mismatched.front() ? " " : ", ") << count.batch << ' ' << count.count;
  }
  out << ".\n`vidbatch report` shows what was asked and what came in its verify columns;\n"
      << "`vidbatch retry --mismatched` queues them again after printing what that costs.\n";
}

std::string usd(std::optional<double> cost) {
  if (!cost) {
    return "unpriced";
  }
  std::ostringstream text;
  text << '$' << std::fixed << std::setprecision(2) << *cost;
  return text.str();
}

void write_unclaimed_text(const StatusData& data, std::ostream& out) {
  if (data.unclaimed.empty()) {
    return;
  }
  double total = 0;
  for (const auto& cost : data.unclaimed_cost) {
    total += cost.value_or(0.0);
  }
  out << '\n'
      << data.unclaimed.size() << " paid, unclaimed video(s), estimated " << usd(total)
      << ": the provider made them for these jobs and no job holds them.\n"
      << "`vidbatch adopt REMOTE_ID` saves one as its job's alternative take "
         "(`--all`: every one).\n";
  for (std::size_t i = 0; i < data.unclaimed.size(); ++i) {
    const UnclaimedVideo& v = data.unclaimed[i];
    out << "  " << v.batch << '/' << v.job_id << "  remote id: " << v.remote_id << "  " << v.status
        << "  " << usd(data.unclaimed_cost[i])
        << (v.take_path.empty() ? "" : "  saved: " + v.take_path) << '\n';
  }
}

void put_counts(JsonWriter& w, const Counts& counts) {
  w.StartObject();
  for (std::size_t s = 0; s < counts.size(); ++s) {
    w.Key(to_string(JobState(s)));
    w.Int64(counts[s]);
  }
  w.Key("total");
  w.Int64(total(counts));
  w.EndObject();
}

void put_string(JsonWriter& w, const std::string& text) {
  put_json_string(w, text);
}

void write_json(const StatusData& data, std::ostream& out) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("batches");
  w.StartObject();
  for (const auto& [name, counts] : data.batches) {
    put_string(w, name);  // as the key
    put_counts(w, counts);
  }
  w.EndObject();
  w.Key("totals");
  put_counts(w, data.totals);
  w.Key("mismatched");
  w.StartObject();
  w.Key("total");
  w.Int64(mismatched_total(data));
  w.Key("batches");
  w.StartObject();
  for (const MismatchCount& count : data.mismatched) {
    put_string(w, count.batch);  // as the key
    w.Int64(count.count);
  }
  w.EndObject();
  w.EndObject();
  w.Key("ambiguous");
  w.StartArray();
  for (const JobRecord& job : data.ambiguous) {
    w.StartObject();
    put_job_fields(w, job);
    w.EndObject();
  }
  w.EndArray();
  w.Key("unclaimed");
  w.StartArray();
  for (std::size_t i = 0; i < data.unclaimed.size(); ++i) {
    const UnclaimedVideo& v = data.unclaimed[i];
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
    w.Key("estimated_cost_usd");
    if (data.unclaimed_cost[i]) {
      w.Double(*data.unclaimed_cost[i]);
    } else {
      w.Null();
    }
    w.Key("take_path");
    put_string(w, v.take_path);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  out.write(buffer.GetString(), static_cast<std::streamsize>(buffer.GetSize()));
  out << '\n';
}

}  // namespace

Status write_status(JobStore& store, const PriceTable& prices, bool json, std::ostream& out) {
  auto data = VB_TRY(gather(store, prices));
  if (json) {
    write_json(data, out);
  } else if (data.batches.empty()) {
    out << "No jobs yet: import a manifest first.\n";
  } else {
    write_table(data, out);
    write_ambiguous_text(data.ambiguous, out);
    write_mismatched_text(data, out);
    write_unclaimed_text(data, out);
  }
  out.flush();
  if (!out) {
    return fail(ErrorCode::io, "could not write the status (output closed or disk full?)");
  }
  return {};
}

}  // namespace vb
