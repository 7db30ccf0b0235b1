// `vidbatch jobs`: one line per job with its state, progress and output path;
// and parse_state_flag, shared with `report`.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"

namespace vb {

Result<std::optional<JobState>> parse_state_flag(const std::string& text) {
  if (text.empty()) {
    return std::optional<JobState>{};
  }
  auto state = parse_job_state(text);
  if (!state) {
    std::string names;
    for (int i = 0; i < k_job_state_count; ++i) {
      names += (i == 0 ? "" : ", ") + std::string(to_string(static_cast<JobState>(i)));
    }
    return fail(ErrorCode::invalid_input, "unknown state; expected one of: " + names,
                "--state " + text);
  }
  return std::optional<JobState>{*state};
}

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void put_string(JsonWriter& w, const std::string& text) {
  w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
}

// Progress only means something while the provider works on the job.
std::optional<double> shown_progress(const JobRecord& job) {
  if (job.state == JobState::done) {
    return 100.0;
  }
  if (is_at_provider(job.state) && job.progress) {
    return job.progress;
  }
  return std::nullopt;
}

void write_json_lines(const std::vector<JobRecord>& jobs, std::ostream& out) {
  for (const JobRecord& job : jobs) {
    rapidjson::StringBuffer buffer;
    JsonWriter w(buffer);
    w.StartObject();
    w.Key("batch");
    put_string(w, job.batch);
    w.Key("id");
    put_string(w, job.spec.id);
    w.Key("state");
    w.String(to_string(job.state));
    w.Key("progress");
    if (auto p = shown_progress(job)) {
      w.Double(*p);
    } else {
      w.Null();
    }
    w.Key("attempts");
    w.Int(job.attempt);
    w.Key("remote_id");
    put_string(w, job.remote_id);
    w.Key("output_path");
    put_string(w, job.output_path);
    w.Key("error");
    put_string(w, job.error_code.empty() ? job.error_message
                                         : job.error_code + ": " + job.error_message);
    w.EndObject();
    out.write(buffer.GetString(), static_cast<std::streamsize>(buffer.GetSize()));
    out << '\n';
  }
}

void write_table(const std::vector<JobRecord>& jobs, std::ostream& out) {
  if (jobs.empty()) {
    out << "No jobs match.\n";
    return;
  }
  std::vector<std::array<std::string, 6>> rows;
  rows.push_back({"batch", "id", "state", "progress", "attempts", "output / error"});
  for (const JobRecord& job : jobs) {
    std::string progress = "-";
    if (auto p = shown_progress(job)) {
      progress = std::to_string(static_cast<int>(std::lround(*p))) + "%";
    }
    std::string last = job.output_path;
    if (job.state == JobState::failed || job.state == JobState::ambiguous || last.empty()) {
      std::string error = job.error_code.empty() ? job.error_message
                                                 : job.error_code + ": " + job.error_message;
      last = error.empty() ? last : error;
    }
    rows.push_back({job.batch, job.spec.id, to_string(job.state), progress,
                    std::to_string(job.attempt), last});
  }
  std::array<std::size_t, 6> widths{};
  for (const auto& row : rows) {
    for (std::size_t c = 0; c + 1 < row.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  for (const auto& row : rows) {
    for (std::size_t c = 0; c + 1 < row.size(); ++c) {
      bool numeric = c == 3 || c == 4;
      out << (numeric ? std::right : std::left) << std::setw(static_cast<int>(widths[c])) << row[c]
          << "  ";
    }
    out << row.back() << '\n';
  }
}

}  // namespace

void register_jobs(CLI::App& app, CommandContext& ctx) {
  struct Flags {
    std::string batch;
    std::string state;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("jobs", "list jobs with their state, progress and output");
  cmd->footer("Example: vidbatch jobs --batch demo --state failed");
  cmd->add_option("--batch", flags->batch, "only this batch");
  cmd->add_option("--state", flags->state, "only jobs in this state (queued, done, failed...)");
  cmd->add_flag("--json", flags->json, "one JSON object per job and line (JSON Lines)");
  add_common_flags(*cmd, ctx, false);
  cmd->callback([&ctx, flags] {
    ctx.action = [flags](Ledger& ledger) -> Result<int> {
      JobFilter filter;
      if (!flags->batch.empty()) {
        filter.batch = flags->batch;
      }
      filter.state = VB_TRY(parse_state_flag(flags->state));
      const auto jobs = VB_TRY(ledger.store->list_jobs(filter));
      if (flags->json) {
        write_json_lines(jobs, std::cout);
      } else {
        write_table(jobs, std::cout);
      }
      std::cout.flush();
      return std::cout ? k_exit_ok : k_exit_runtime;
    };
  });
}

}  // namespace vb
