// `vidbatch resolve --resubmit|--fail JOB...`: the user's decision on ambiguous
// jobs (a create whose answer was lost, where no listing could settle it).
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/run_lock.h"
#include "engine/run_engine.h"

namespace vb {

namespace {

struct ResolveFlags {
  bool resubmit = false;
  bool fail = false;
  std::string batch;
  std::vector<std::string> jobs;
};

// The ambiguous job named `id` (in `batch` when given); an error names what is wrong.
Result<JobRecord> find_ambiguous(JobStore& store, const std::string& batch, const std::string& id) {
  JobFilter filter;
  if (!batch.empty()) {
    filter.batch = batch;
  }
  auto jobs = store.list_jobs(filter);
  if (!jobs) {
    return std::unexpected(jobs.error());
  }
  std::vector<JobRecord> matches;
  for (auto& job : *jobs) {
    if (job.spec.id == id) {
      matches.push_back(std::move(job));
    }
  }
  if (matches.empty()) {
    return fail(ErrorCode::not_found, "no job with this id" + (batch.empty() ? "" : " in batch " + batch),
                "job " + id);
  }
  if (matches.size() > 1) {
    return fail(ErrorCode::invalid_input, "several batches have a job with this id; add --batch",
                "job " + id);
  }
  if (matches.front().state != JobState::ambiguous) {
    return fail(ErrorCode::invalid_input,
                std::string("the job is ") + to_string(matches.front().state) +
                    ", not ambiguous; only ambiguous jobs need resolving",
                "job " + matches.front().batch + "/" + id);
  }
  return matches.front();
}

int resolve(const CommandContext& ctx, const ResolveFlags& flags) {
  auto config = resolve_config(ctx);
  if (!config) {
    return report_error(config.error());
  }
  auto lock = RunLock::acquire(config->db_path);
  if (!lock) {
    report_error(lock.error());
    return k_exit_runtime;
  }
  auto store = open_store(*config);
  if (!store) {
    report_error(store.error());
    return k_exit_runtime;
  }
  Millis now = SystemClock().now_ms();
  // A run killed mid-create left `submitting` jobs: they are ambiguous too.
  if (auto recovered = recover_interrupted_jobs(**store, now); !recovered) {
    report_error(recovered.error());
    return k_exit_runtime;
  }
  std::vector<Transition> moves;
  for (const auto& id : flags.jobs) {
    auto job = find_ambiguous(**store, flags.batch, id);
    if (!job) {
      return report_error(job.error());
    }
    Transition t{job->row_id, JobState::ambiguous, JobState::queued, now, 0, "", {}};
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
  if (auto status = (*store)->apply(moves); !status) {
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
