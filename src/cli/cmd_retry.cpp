// `vidbatch retry`: put failed (or canceled) jobs back in the queue. The next
// run or resume submits them as a new attempt (the attempt counter keeps
// counting); one event per job records the user's decision.
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"

namespace vb {

namespace {

struct RetryFlags {
  std::string batch;
  bool failed = false;
  bool canceled = false;
  std::vector<std::string> jobs;
};

bool retryable(JobState s) {
  return s == JobState::failed || s == JobState::canceled;
}

Result<std::vector<JobRecord>> select_jobs(JobStore& store, const RetryFlags& flags) {
  if (!flags.jobs.empty()) {
    auto jobs = find_jobs_by_id(store, flags.batch, flags.jobs);
    if (!jobs) {
      return jobs;
    }
    for (const JobRecord& job : *jobs) {
      if (!retryable(job.state)) {
        return fail(ErrorCode::invalid_input,
                    std::string("the job is ") + to_string(job.state) +
                        "; only failed or canceled jobs can be retried (nothing was changed)",
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
  return selected;
}

Result<int> retry(Ledger& ledger, const RetryFlags& flags) {
  const Millis now = SystemClock().now_ms();
  const auto jobs = VB_TRY(select_jobs(*ledger.store, flags));
  if (jobs.empty()) {
    std::cout << "no " << (flags.failed && flags.canceled ? "failed or canceled"
                           : flags.failed                 ? "failed"
                                                          : "canceled")
              << " jobs" << (flags.batch.empty() ? "" : " in batch " + flags.batch)
              << " to retry\n";
    return k_exit_ok;
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
      t.message += "; last error: " + (job.error_code.empty() ? job.error_message
                                                              : job.error_code + ": " +
                                                                    job.error_message);
    }
    // A fresh start: the new create gets a new remote id; old errors and back-off go.
    t.update.remote_id = "";
    t.update.error_code = "";
    t.update.error_message = "";
    t.update.not_before = 0;
    moves.push_back(std::move(t));
  }
  VB_TRY(ledger.store->apply(moves));
  std::cout << moves.size() << " job(s) queued again; `vidbatch resume` submits them\n";
  return k_exit_ok;
}

}  // namespace

void register_retry(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<RetryFlags>();
  CLI::App* cmd = app.add_subcommand("retry", "queue failed or canceled jobs again");
  cmd->footer(
      "Examples:\n"
      "  vidbatch retry --batch demo --failed && vidbatch resume\n"
      "  vidbatch retry --batch demo --job cat-surfing --job dog-skating");
  cmd->add_option("--batch", flags->batch, "only jobs of this batch");
  auto* failed = cmd->add_flag("--failed", flags->failed, "every failed job");
  auto* canceled = cmd->add_flag("--canceled", flags->canceled, "every canceled job");
  auto* jobs = cmd->add_option("--job", flags->jobs, "these jobs (repeat, or list several ids)");
  jobs->excludes(failed)->excludes(canceled);
  add_common_flags(*cmd, ctx, false);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx, flags] {
    if (!flags->failed && !flags->canceled && flags->jobs.empty()) {
      usage_error("retry", "say which jobs: --failed, --canceled or --job ID...");
    }
    ctx.action = [flags](Ledger& ledger) { return retry(ledger, *flags); };
  });
}

}  // namespace vb
