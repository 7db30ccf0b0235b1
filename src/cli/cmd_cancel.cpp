// `vidbatch cancel`: stop working on jobs. Queued and ambiguous jobs are never
// submitted; jobs already at the provider are marked canceled in the ledger and
// no longer polled or downloaded. The openai dialect has no way to stop a
// generation in progress (DELETE /videos/{id} only removes finished videos), so
// nothing is sent to the provider: such a video may still finish and be billed.
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"

namespace vb {

namespace {

struct CancelFlags {
  std::string batch;
  std::vector<std::string> jobs;
};

Result<std::vector<JobRecord>> select_jobs(JobStore& store, const CancelFlags& flags) {
  if (!flags.jobs.empty()) {
    auto jobs = find_jobs_by_id(store, flags.batch, flags.jobs);
    if (!jobs) {
      return jobs;
    }
    for (const JobRecord& job : *jobs) {
      if (!is_allowed_transition(job.state, JobState::canceled)) {
        return fail(ErrorCode::invalid_input,
                    std::string("the job is ") + to_string(job.state) +
                        " and cannot be canceled (nothing was changed)",
                    "job " + job.batch + "/" + job.spec.id);
      }
    }
    return jobs;
  }
  JobFilter filter;
  filter.batch = flags.batch;
  auto jobs = store.list_jobs(filter);
  if (!jobs) {
    return jobs;
  }
  if (jobs->empty()) {
    return fail(ErrorCode::not_found, "no such batch in the ledger", "batch " + flags.batch);
  }
  std::erase_if(*jobs, [](const JobRecord& job) {
    return !is_allowed_transition(job.state, JobState::canceled);
  });
  return jobs;
}

Result<int> cancel(Ledger& ledger, const CancelFlags& flags) {
  const Millis now = SystemClock().now_ms();
  const auto jobs = VB_TRY(select_jobs(*ledger.store, flags));
  if (jobs.empty()) {
    std::cout << "nothing to cancel: every job of batch " << flags.batch << " is finished\n";
    return k_exit_ok;
  }
  std::vector<Transition> moves;
  int at_provider = 0;
  for (const JobRecord& job : jobs) {
    Transition t;
    t.row_id = job.row_id;
    t.from = job.state;
    t.to = JobState::canceled;
    t.at = now;
    t.message = "canceled by the user";
    bool remote = job.state == JobState::submitted || job.state == JobState::running ||
                  job.state == JobState::ready;
    if (remote || job.state == JobState::ambiguous) {
      at_provider += 1;
      t.message +=
          "; not canceled at the provider (the dialect cannot stop a generation), "
          "it may still finish and be billed";
    }
    moves.push_back(std::move(t));
  }
  VB_TRY(ledger.store->apply(moves));
  std::cout << moves.size() << " job(s) canceled\n";
  if (at_provider > 0) {
    std::cout << at_provider
              << " of them had been sent to the provider, which may still generate and bill "
                 "them; vidbatch will not poll or download them (`vidbatch retry --canceled` "
                 "queues them again)\n";
  }
  return k_exit_ok;
}

}  // namespace

void register_cancel(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<CancelFlags>();
  CLI::App* cmd = app.add_subcommand("cancel", "stop submitting, polling and downloading jobs");
  cmd->footer(
      "Examples:\n"
      "  vidbatch cancel --batch demo\n"
      "  vidbatch cancel --batch demo --job cat-surfing");
  cmd->add_option("--batch", flags->batch,
                  "every unfinished job of this batch (or with --job: their batch)");
  cmd->add_option("--job", flags->jobs, "these jobs (repeat, or list several ids)");
  add_common_flags(*cmd, ctx, false);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx, flags] {
    if (flags->batch.empty() && flags->jobs.empty()) {
      usage_error("cancel", "say which jobs: --batch NAME and/or --job ID...");
    }
    ctx.action = [flags](Ledger& ledger) { return cancel(ledger, *flags); };
  });
}

}  // namespace vb
