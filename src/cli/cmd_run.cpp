// `vidbatch run MANIFEST` and `vidbatch resume`: import, then drive jobs to the end.
#include <algorithm>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/console_observer.h"
#include "cli/run_lock.h"
#include "engine/provider_runs.h"
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

// The providers this run needs: those the manifest's jobs name, or for a
// resume those of the ledger's unfinished jobs ("" = the default provider).
Result<std::vector<std::string>> providers_needed(const std::optional<Manifest>& manifest,
                                                  const Config& config) {
  std::vector<std::string> names;
  if (manifest) {
    for (const auto& spec : manifest->jobs) {
      names.push_back(spec.provider);
    }
  } else {
    auto store = open_store(config);
    if (!store) {
      return std::unexpected(store.error());
    }
    auto unfinished = (*store)->unfinished_providers();
    if (!unfinished) {
      return std::unexpected(unfinished.error());
    }
    names = std::move(*unfinished);
  }
  for (auto& name : names) {
    if (name.empty()) {
      name = config.default_provider;
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  if (names.empty()) {
    names.push_back(config.default_provider);
  }
  return names;
}

// The manifest's characters as ledger rows, each under its provider's name.
std::vector<CharacterRecord> character_records(const Manifest& manifest, const Config& config) {
  std::vector<CharacterRecord> records;
  for (const auto& c : manifest.characters) {
    const std::string& provider = c.provider.empty() ? config.default_provider : c.provider;
    records.push_back({provider, c.name, c.video, CharacterState::pending, "", 0});
  }
  return records;
}

// Each provider's engine runs on its own thread with its own connection.
Status open_stores(const Config& config, std::vector<ProviderRun>& runs) {
  for (auto& run : runs) {
    auto store = open_store(config);
    if (!store) {
      return std::unexpected(store.error());
    }
    run.store = std::move(*store);
  }
  return {};
}

Result<std::vector<ProviderRun>> make_provider_runs(const Config& config, const RunFlags& flags,
                                                    const std::vector<std::string>& names) {
  std::vector<ProviderRun> runs;
  for (const auto& name : names) {
    auto run = make_provider_run(config, name, flags.insecure);
    if (!run) {
      return std::unexpected(run.error());
    }
    runs.push_back(std::move(*run));
  }
  return runs;
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
int execute(const Config& config, const RunFlags& flags, const std::optional<Manifest>& manifest) {
  if (manifest) {
    if (auto status = check_jobs(*manifest, config); !status) {
      return report_error(status.error());
    }
  }
  auto lock = RunLock::acquire(config.db_path);
  if (!lock) {
    report_error(lock.error());
    return k_exit_runtime;
  }
  auto names = providers_needed(manifest, config);
  if (!names) {
    report_error(names.error());
    return k_exit_runtime;
  }
  // Keys and providers are checked before the ledger is touched.
  auto runs = make_provider_runs(config, flags, *names);
  if (!runs) {
    return report_error(runs.error());
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
    if (auto characters = (*store)->import_characters(character_records(*manifest, config),
                                                      clock.now_ms());
        !characters) {
      return report_error(characters.error());
    }
  }
  if (auto recovered = recover_interrupted_jobs(**store, clock.now_ms()); !recovered) {
    report_error(recovered.error());
    return k_exit_runtime;
  }
  if (flags.insecure) {
    std::cerr << "vidbatch: warning: TLS certificate verification is OFF (--insecure)\n";
  }
  if (auto opened = open_stores(config, *runs); !opened) {
    report_error(opened.error());
    return k_exit_runtime;
  }
  ConsoleObserver observer(cli_log(), **store, clock, manifest ? manifest->batch : std::string());
  install_signal_handlers();
  RunScope scope;
  if (manifest) {
    scope.batch = manifest->batch;
  }
  auto summary = run_providers(*runs, clock, observer, scope, stop_requests());
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
        auto plan = make_plan(*manifest, *config);
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
