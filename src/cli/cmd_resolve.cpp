// `vidbatch resolve --resubmit|--fail JOB...`: the user's decision on ambiguous
// jobs (a create whose answer was lost, where no listing could settle it).
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"

namespace vb {

namespace {

struct ResolveFlags {
  bool resubmit = false;
  bool fail = false;
  std::string batch;
  std::vector<std::string> jobs;
};

// The jobs named by `ids`, each of which must be ambiguous; an error names what is wrong.
Result<std::vector<JobRecord>> find_ambiguous(JobStore& store, const std::string& batch,
                                              const std::vector<std::string>& ids) {
  auto jobs = find_jobs_by_id(store, batch, ids);
  if (!jobs) {
    return jobs;
  }
  for (const JobRecord& job : *jobs) {
    if (job.state != JobState::ambiguous) {
      return fail(ErrorCode::invalid_input,
                  std::string("the job is ") + to_string(job.state) +
                      ", not ambiguous; only ambiguous jobs need resolving",
                  "job " + job.batch + "/" + job.spec.id);
    }
  }
  return jobs;
}

int resolve(const CommandContext& ctx, const ResolveFlags& flags) {
  const Millis now = SystemClock().now_ms();
  auto ledger = lock_ledger(ctx, now);
  if (!ledger) {
    return ledger.error();
  }
  auto jobs = find_ambiguous(*ledger->store, flags.batch, flags.jobs);
  if (!jobs) {
    return report_error(jobs.error());
  }
  std::vector<Transition> moves;
  for (const JobRecord& job : *jobs) {
    Transition t{job.row_id, JobState::ambiguous, JobState::queued, now, 0, "", {}};
    if (flags.resubmit) {
      t.message = "resolved by the user: submit again (the lost create may also be billed)";
      t.update.error_code = "";
      t.update.error_message = "";
    } else {
      t.to = JobState::failed;
      t.message = "resolved by the user: failed, not resubmitted";
    }
    moves.push_back(std::move(t));
  }
  if (auto status = ledger->store->apply(moves); !status) {
    report_error(status.error());
    return k_exit_runtime;
  }
  std::cout << moves.size() << (flags.resubmit ? " job(s) queued again" : " job(s) marked failed")
            << (flags.resubmit ? "; `vidbatch resume` submits them\n" : "\n");
  return k_exit_ok;
}

}  // namespace

void register_resolve(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<ResolveFlags>();
  CLI::App* cmd = app.add_subcommand("resolve", "decide what to do with ambiguous jobs");
  cmd->footer("Example: vidbatch resolve --resubmit --batch demo cat-surfing");
  auto* resubmit = cmd->add_flag("--resubmit", flags->resubmit,
                                 "queue them again (risks paying twice if the lost create ran)");
  auto* failed = cmd->add_flag("--fail", flags->fail, "mark them failed");
  resubmit->excludes(failed);
  cmd->add_option("--batch", flags->batch, "the batch of the jobs");
  cmd->add_option("jobs", flags->jobs, "job ids")->required();
  add_common_flags(*cmd, ctx, false);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx, flags] {
    ctx.action = [&ctx, flags] {
      if (!flags->resubmit && !flags->fail) {
        std::cerr << "vidbatch: resolve: choose --resubmit or --fail\n";
        return static_cast<int>(k_exit_usage);
      }
      return resolve(ctx, *flags);
    };
  });
}

}  // namespace vb
