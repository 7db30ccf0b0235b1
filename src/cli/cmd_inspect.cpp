// Read-only commands: `status`, `validate` (`report` is in cmd_report.cpp).
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "manifest/manifest.h"
#include "plan/plan.h"
#include "provider/video_provider.h"
#include "report/report.h"

namespace vb {

void register_status(CLI::App& app, CommandContext& ctx) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("status", "jobs per state, per batch; lists ambiguous jobs");
  cmd->footer("Example: vidbatch status --db vidbatch.db --json");
  cmd->add_flag("--json", *json, "print JSON instead of a table");
  add_common_flags(*cmd, ctx, false);
  cmd->callback([&ctx, json] {
    ctx.action = [&ctx, json] {
      auto ledger = open_ledger(ctx);
      if (!ledger) {
        return report_error(ledger.error());
      }
      auto status = write_status(*ledger->store, ledger->config.prices, *json, std::cout);
      return status ? static_cast<int>(k_exit_ok) : report_error(status.error());
    };
  });
}

void register_validate(CLI::App& app, CommandContext& ctx) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("validate", "check a manifest; touches no database");
  cmd->footer("Example: vidbatch validate jobs/examples/demo.yaml");
  cmd->add_option("manifest", *path, "YAML manifest of jobs")->required();
  cmd->add_option_function<std::string>(
      "--config", [&ctx](const std::string& v) { ctx.flags.overrides.config_path = v; },
      "TOML configuration (its provider's rules are checked too)");
  cmd->callback([&ctx, path] {
    ctx.action = [&ctx, path] {
      auto manifest = load_manifest(*path);
      if (!manifest) {
        return report_error(manifest.error());
      }
      auto config = resolve_config(ctx);
      if (!config) {
        return report_error(config.error());
      }
      if (auto status = check_jobs(*manifest, *config); !status) {
        return report_error(status.error());
      }
      std::cout << *path << ": ok, batch " << manifest->batch << ", " << manifest->jobs.size()
                << " jobs\n";
      return static_cast<int>(k_exit_ok);
    };
  });
}

}  // namespace vb
