// `vidbatch run MANIFEST` and `vidbatch resume`: import, then drive jobs to the end.
#include <algorithm>
#include <iostream>

#include "app/batch_run.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/console_observer.h"
#include "manifest/manifest.h"
#include "plan/plan.h"

namespace vb {

namespace {

struct RunFlags {
  std::string manifest_path;
  bool dry_run = false;
  bool allow_spec_change = false;
  bool insecure = false;
};

// What the console shows of a batch run: the import, then the engines' progress.
class ConsoleHooks final : public BatchRunHooks {
 public:
  ConsoleHooks(const Clock& clock, std::string batch) : m_clock(clock), m_batch(std::move(batch)) {}
  void on_imported(const ImportSummary& summary) override {
    std::cerr << "vidbatch: batch " << summary.batch << ": " << summary.added << " new, "
              << summary.unchanged << " already known\n";
  }
  RunObserver& observer(JobStore& store) override {
    m_observer.emplace(cli_log(), store, m_clock, m_batch);
    return *m_observer;
  }
  void close() {
    if (m_observer) {
      m_observer->close();
    }
  }

 private:
  const Clock& m_clock;
  std::string m_batch;
  std::optional<ConsoleObserver> m_observer;
};

void print_summary(const RunSummary& summary, const Config& config) {
  const RunCounts& c = summary.counts;
  std::cout << "done " << c.of(JobState::done) << "/" << c.total() << ", failed "
            << c.of(JobState::failed) << ", ambiguous " << c.of(JobState::ambiguous)
            << ", canceled " << c.of(JobState::canceled) << "\n";
  std::cout << "videos: " << config.output.root << "\nledger: " << config.db_path << "\n";
  if (summary.budget_reached) {
    std::cout << "stopped at the budget: " << c.of(JobState::queued)
              << " job(s) left queued; raise limits.budget_usd (or --budget) and resume\n";
  }
  if (summary.resent_requests > 0) {
    std::cout << "WARNING: " << summary.resent_requests
              << " paid request(s) went on the wire more than once below vidbatch (a proxy or "
                 "the HTTP library resent them); their jobs are held as ambiguous and the "
                 "provider may have billed duplicates: see `vidbatch status`\n";
  }
  if (c.of(JobState::ambiguous) > 0) {
    std::cout << "ambiguous jobs may have been started and billed by the provider; see "
                 "`vidbatch status` before resubmitting them\n";
  }
}

int exit_code(const RunSummary& summary) {
  if (summary.interrupted) {
    return k_exit_interrupted;
  }
  if (summary.budget_reached) {
    return k_exit_runtime;
  }
  if (summary.fatal) {
    return exit_code_for(*summary.fatal) == k_exit_usage ? k_exit_runtime
                                                         : exit_code_for(*summary.fatal);
  }
  const RunCounts& c = summary.counts;
  bool unfinished = c.total() != c.of(JobState::done) + c.of(JobState::failed) +
                                     c.of(JobState::canceled) + c.of(JobState::ambiguous);
  if (unfinished) {
    return k_exit_runtime;
  }
  bool all_done = c.of(JobState::done) == c.total();
  return all_done ? k_exit_ok : k_exit_jobs_failed;
}

// Shared by run and resume once the configuration is known.
Result<int> execute(const Config& config, const RunFlags& flags, std::optional<Manifest> manifest) {
  if (manifest) {
    VB_TRY(check_jobs(*manifest, config));
  }
  if (flags.insecure) {
    std::cerr << "vidbatch: warning: TLS certificate verification is OFF (--insecure)\n";
  }
  SystemClock clock;
  ConsoleHooks hooks(clock, manifest ? manifest->batch : std::string());
  BatchRunRequest request{config, std::move(manifest), flags.allow_spec_change, flags.insecure};
  install_signal_handlers();
  auto summary = run_batch(request, hooks, clock, stop_requests());
  hooks.close();
  if (!summary) {
    return std::unexpected(std::move(summary.error()));
  }
  print_summary(*summary, config);
  if (summary->fatal) {
    std::cerr << "vidbatch: " << summary->fatal->describe() << "\n";
  }
  return exit_code(*summary);
}

}  // namespace

void register_run(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("run", "import a manifest and run its jobs to the end");
  cmd->footer("Example: vidbatch run jobs/examples/demo.yaml --base-url http://127.0.0.1:8080/v1");
  cmd->add_option("manifest", flags->manifest_path, "YAML manifest of jobs")->required();
  cmd->add_flag("--dry-run", flags->dry_run,
                "validate, expand and price the jobs; submit nothing, write no database");
  cmd->add_flag("--allow-spec-change", flags->allow_spec_change,
                "replace queued jobs whose spec changed instead of failing");
  cmd->add_flag("--insecure", flags->insecure, "skip TLS verification (local testing only)");
  add_common_flags(*cmd, ctx, true);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx, flags] {
    ctx.action = [&ctx, flags](Ledger&) -> Result<int> {
      Manifest manifest = VB_TRY(load_manifest(flags->manifest_path));
      const Config config = VB_TRY(resolve_config(ctx));
      if (flags->dry_run) {
        write_plan(VB_TRY(make_plan(manifest, config)), false, std::cout);
        return k_exit_ok;
      }
      return execute(config, *flags, std::move(manifest));
    };
  });
}

void register_resume(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand("resume", "continue every unfinished job in the ledger");
  cmd->footer("Example: vidbatch resume --db vidbatch.db");
  cmd->add_flag("--insecure", flags->insecure, "skip TLS verification (local testing only)");
  add_common_flags(*cmd, ctx, true);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx, flags] {
    ctx.action = [&ctx, flags](Ledger&) -> Result<int> {
      return execute(VB_TRY(resolve_config(ctx)), *flags, std::nullopt);
    };
  });
}

}  // namespace vb
