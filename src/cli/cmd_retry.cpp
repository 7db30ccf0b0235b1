// `vidbatch retry`: put failed (or canceled) jobs back in the queue, or jobs whose video does
// not match its request (--mismatched, after printing what regenerating them costs). The next
// run or resume submits them as a new attempt (the attempt counter keeps counting); one event
// per job records the user's decision.
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "plan/plan.h"
#include "plan/pricing.h"

namespace vb {

namespace {

struct RetryFlags {
  std::string batch;
  bool failed = false;
  bool canceled = false;
  bool mismatched = false;
  std::vector<std::string> jobs;
};

// A done job only when its video does not match its request.
bool retryable(const JobRecord& job) {
  return job.state == JobState::failed || job.state == JobState::canceled ||
         (job.state == JobState::done && job.check.mismatched());
}

// Done or failed (verify_mismatch) jobs whose video is not what was asked.
Result<std::vector<JobRecord>> mismatched_jobs(JobStore& store, const RetryFlags& flags) {
  JobFilter filter;
  if (!flags.batch.empty()) {
    filter.batch = flags.batch;
  }
  filter.mismatched = true;
  auto jobs = store.list_jobs(filter);
  if (jobs) {
    std::erase_if(*jobs, [&](const JobRecord& job) {
      // A failed one is picked by --failed too: listed once.
      return !(job.state == JobState::done || job.state == JobState::failed) ||
             (flags.failed && job.state == JobState::failed);
    });
  }
  return jobs;
}

// "3 mismatched video(s) to generate again: estimated $1.20 at list prices" (and the unpriced).
void print_regeneration_cost(const std::vector<JobRecord>& jobs, const Config& config) {
  ProviderCatalog catalog(config);
  double total = 0;
  int unpriced = 0;
  for (const JobRecord& job : jobs) {
    const ProviderCatalog::Entry* provider = catalog.find(job.spec.provider);
    auto cost = provider ? estimate_cost(job.spec, provider->config.prices) : std::nullopt;
    total += cost.value_or(0.0);
    unpriced += cost ? 0 : 1;
  }
  std::cout << jobs.size() << " video(s) not matching their request to generate again: estimated "
            << format_usd(total) << " at list prices"
            << (unpriced > 0 ? " plus " + std::to_string(unpriced) + " unpriced job(s)" : "")
            << "; nothing is sent before `vidbatch resume`\n";
}

Result<std::vector<JobRecord>> select_jobs(JobStore& store, const RetryFlags& flags) {
  if (!flags.jobs.empty()) {
    auto jobs = find_jobs_by_id(store, flags.batch, flags.jobs);
    if (!jobs) {
      return jobs;
    }
    for (const JobRecord& job : *jobs) {
      if (!retryable(job)) {
        return fail(ErrorCode::invalid_input,
                    std::string("the job is ") + to_string(job.state) +
                        "; only failed or canceled jobs, and done jobs whose video does not "
                        "match its request, can be retried (nothing was changed)",
                    "job " + job.batch + "/" + job.spec.id);
      }
    }
    return jobs;
  }
  JobFilter filter;
  if (!flags.batch.empty()) {
    filter.batch = flags.batch;
  }
  std::vector<JobRecord> selected;
  for (JobState state : {JobState::failed, JobState::canceled}) {
    if ((state == JobState::failed && !flags.failed) ||
        (state == JobState::canceled && !flags.canceled)) {
      continue;
    }
    filter.state = state;
    auto jobs = store.list_jobs(filter);
    if (!jobs) {
      return jobs;
    }
    selected.insert(selected.end(), jobs->begin(), jobs->end());
  }
  if (flags.mismatched) {
    auto jobs = mismatched_jobs(store, flags);
    if (!jobs) {
      return jobs;
    }
    selected.insert(selected.end(), jobs->begin(), jobs->end());
  }
  return selected;
}

std::string what_to_retry(const RetryFlags& flags) {
  std::vector<std::string> kinds;
  if (flags.failed) {
    kinds.push_back("failed");
  }
  if (flags.canceled) {
    kinds.push_back("canceled");
  }
  if (flags.mismatched) {
    kinds.push_back("mismatched");
  }
  std::string text;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == kinds.size() ? " or " : ", ") + kinds[i];
  }
  return text;
}

Result<int> retry(Ledger& ledger, const RetryFlags& flags) {
  const Millis now = SystemClock().now_ms();
  const auto jobs = VB_TRY(select_jobs(*ledger.store, flags));
  if (jobs.empty()) {
    std::cout << "no " << what_to_retry(flags) << " jobs"
              << (flags.batch.empty() ? "" : " in batch " + flags.batch) << " to retry\n";
    return k_exit_ok;
  }
  if (flags.mismatched) {
    print_regeneration_cost(jobs, ledger.config);
  }
  std::vector<Transition> moves;
  for (const JobRecord& job : jobs) {
    Transition t;
    t.row_id = job.row_id;
    t.from = job.state;
    t.to = JobState::queued;
    t.at = now;
    t.message = "retry requested by the user after attempt " + std::to_string(job.attempt);
    if (!job.remote_id.empty()) {
      t.message += " (previous remote id " + job.remote_id + ")";
    }
    if (!job.error_code.empty() || !job.error_message.empty()) {
      t.message +=
          "; last error: " +
          (job.error_code.empty() ? job.error_message : job.error_code + ": " + job.error_message);
    }
    // A fresh start: the new create gets a new remote id; old errors and back-off go.
    t.update.remote_id = "";
    t.update.error_code = "";
    t.update.error_message = "";
    t.update.not_before = 0;
    t.update.check = VideoCheck{};  // describes the old file; the new one gets its own
    if (job.check.mismatched()) {
      t.message += "; the video did not match its request (" + job.check.verdict + ")";
    }
    moves.push_back(std::move(t));
  }
  VB_TRY(ledger.store->apply(moves));
  std::cout << moves.size() << " job(s) queued again; `vidbatch resume` submits them\n";
  return k_exit_ok;
}

}  // namespace

void register_retry(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<RetryFlags>();
  CLI::App* cmd = app.add_subcommand("retry", "queue failed, canceled or mismatched jobs again");
  cmd->footer(
      "Examples:\n"
      "  vidbatch retry --batch demo --failed && vidbatch resume\n"
      "  vidbatch retry --batch demo --mismatched\n"
      "  vidbatch retry --batch demo --job cat-surfing --job dog-skating");
  cmd->add_option("--batch", flags->batch, "only jobs of this batch");
  auto* failed = cmd->add_flag("--failed", flags->failed, "every failed job");
  auto* canceled = cmd->add_flag("--canceled", flags->canceled, "every canceled job");
  auto* mismatched = cmd->add_flag(
      "--mismatched", flags->mismatched,
      "every job whose video does not match its request (output.verify); prints the cost first");
  auto* jobs = cmd->add_option("--job", flags->jobs, "these jobs (repeat, or list several ids)");
  jobs->excludes(failed)->excludes(canceled)->excludes(mismatched);
  add_common_flags(*cmd, ctx, false);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx, flags] {
    if (!flags->failed && !flags->canceled && !flags->mismatched && flags->jobs.empty()) {
      usage_error("retry", "say which jobs: --failed, --canceled, --mismatched or --job ID...");
    }
    ctx.action = [flags](Ledger& ledger) { return retry(ledger, *flags); };
  });
}

}  // namespace vb
