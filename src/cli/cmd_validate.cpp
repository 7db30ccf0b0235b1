// `vidbatch validate MANIFEST`: the manifest and its provider's rules, checked; no database.
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "manifest/manifest.h"
#include "plan/plan.h"

namespace vb {

void register_validate(CLI::App& app, CommandContext& ctx) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("validate", "check a manifest; touches no database");
  cmd->footer("Example: vidbatch validate jobs/examples/demo.yaml");
  cmd->add_option("manifest", *path, "YAML manifest of jobs")->required();
  cmd->add_option_function<std::string>(
      "--config", [&ctx](const std::string& v) { ctx.flags.overrides.config_path = v; },
      "TOML configuration (its provider's rules are checked too)");
  cmd->callback([&ctx, path] {
    ctx.action = [&ctx, path](Ledger&) -> Result<int> {
      const Manifest manifest = VB_TRY(load_manifest(*path));
      const Config config = VB_TRY(resolve_config(ctx));
      VB_TRY(check_jobs(manifest, config));
      std::cout << *path << ": ok, batch " << manifest.batch << ", " << manifest.jobs.size()
                << " jobs\n";
      return k_exit_ok;
    };
  });
}

}  // namespace vb
