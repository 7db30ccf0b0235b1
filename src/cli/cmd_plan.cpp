// `vidbatch plan MANIFEST`: validate and expand a manifest, print its jobs, the
// seconds of video and the estimated cost. Touches no ledger, sends nothing.
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "manifest/manifest.h"
#include "plan/plan.h"

namespace vb {

void register_plan(CLI::App& app, CommandContext& ctx) {
  struct Flags {
    std::string manifest;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "plan", "show the jobs of a manifest, seconds of video and estimated cost; submits nothing");
  cmd->footer("Example: vidbatch plan jobs/examples/demo.yaml --budget 20");
  cmd->add_option("manifest", flags->manifest, "YAML manifest of jobs")->required();
  cmd->add_flag("--json", flags->json, "print one JSON document");
  cmd->add_option_function<std::string>(
      "--config", [&ctx](const std::string& v) { ctx.flags.overrides.config_path = v; },
      "TOML configuration (prices, budget, provider rules)");
  cmd->add_option_function<double>(
      "--budget", [&ctx](double v) { ctx.flags.overrides.budget_usd = v; },
      "compare the estimate with this budget in USD (limits.budget_usd)");
  cmd->callback([&ctx, flags] {
    ctx.action = [&ctx, flags](Ledger&) -> Result<int> {
      const Manifest manifest = VB_TRY(load_manifest(flags->manifest));
      const Config config = VB_TRY(resolve_config(ctx));
      write_plan(VB_TRY(make_plan(manifest, config)), flags->json, std::cout);
      return std::cout ? k_exit_ok : k_exit_runtime;
    };
  });
}

}  // namespace vb
