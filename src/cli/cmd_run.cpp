// `vidbatch run MANIFEST` and `vidbatch resume`: import, then drive jobs to the end.
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/console_observer.h"
#include "cli/run_lock.h"
#include "config/api_key.h"
#include "engine/run_engine.h"
#include "manifest/manifest.h"
#include "plan/plan.h"
#include "provider/video_provider.h"

namespace vb {

namespace {

struct RunFlags {
  std::string manifest_path;
  bool dry_run = false;
  bool allow_spec_change = false;
  bool insecure = false;
};

// The environment variable when set, else provider.api_key_file (config/api_key.h).
Result<std::string> api_key(const Config& config) {
  return resolve_api_key(config.provider, process_env());
}

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
int execute(const Config& config, const RunFlags& flags, const std::optional<Manifest>& manifest) {
  auto provider = make_provider(config.provider);
  if (manifest) {
    if (auto status = check_jobs(*manifest, *provider); !status) {
      return report_error(status.error());
    }
  }
  auto key = api_key(config);
  if (!key) {
    return report_error(key.error());
  }
  auto lock = RunLock::acquire(config.db_path);
  if (!lock) {
    report_error(lock.error());
    return k_exit_runtime;
  }
  auto store = open_store(config);
  if (!store) {
    report_error(store.error());
    return k_exit_runtime;
  }
  SystemClock clock;
  if (manifest) {
    auto imported = (*store)->import_jobs(manifest->batch, manifest->jobs, clock.now_ms(),
                                          flags.allow_spec_change);
    if (!imported) {
      return report_error(imported.error());
    }
    std::cerr << "vidbatch: batch " << imported->batch << ": " << imported->added << " new, "
              << imported->unchanged << " already known\n";
  }
  if (auto recovered = recover_interrupted_jobs(**store, clock.now_ms()); !recovered) {
    report_error(recovered.error());
    return k_exit_runtime;
  }
  TransportOptions transport_options;
  transport_options.bearer_token = *key;
  transport_options.auth_origin = url_origin(config.provider.base_url);
  transport_options.connect_timeout_ms = config.http.connect_timeout_ms;
  transport_options.insecure = flags.insecure;
  if (flags.insecure) {
    std::cerr << "vidbatch: warning: TLS certificate verification is OFF (--insecure)\n";
  }
  auto transport = make_curl_transport(transport_options);
  ConsoleObserver observer(cli_log(), **store, clock, manifest ? manifest->batch : std::string());
  RunEngine engine(**store, *provider, *transport, clock, config, observer);
  install_signal_handlers();
  RunScope scope;
  if (manifest) {
    scope.batch = manifest->batch;
  }
  auto summary = engine.run(scope, stop_requests());
  observer.close();
  if (!summary) {
    report_error(summary.error());
    return k_exit_runtime;
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
    ctx.action = [&ctx, flags] {
      auto manifest = load_manifest(flags->manifest_path);
      if (!manifest) {
        return report_error(manifest.error());
      }
      auto config = resolve_config(ctx);
      if (!config) {
        return report_error(config.error());
      }
      if (flags->dry_run) {
        auto provider = make_provider(config->provider);
        auto plan = make_plan(*manifest, *provider, *config);
        if (!plan) {
          return report_error(plan.error());
        }
        write_plan(*plan, false, std::cout);
        return static_cast<int>(k_exit_ok);
      }
      return execute(*config, *flags, *manifest);
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
    ctx.action = [&ctx, flags] {
      auto config = resolve_config(ctx);
      if (!config) {
        return report_error(config.error());
      }
      return execute(*config, *flags, std::nullopt);
    };
  });
}

}  // namespace vb
