// `vidbatch status`: jobs per state per batch, the ambiguous jobs and the paid, unclaimed
// videos (report/status.cpp writes them).
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "report/report.h"

namespace vb {

void register_status(CLI::App& app, CommandContext& ctx) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand("status", "jobs per state, per batch; lists ambiguous jobs");
  cmd->footer("Example: vidbatch status --db vidbatch.db --json");
  cmd->add_flag("--json", *json, "print JSON instead of a table");
  add_common_flags(*cmd, ctx, false);
  cmd->callback([&ctx, json] {
    ctx.action = [json](Ledger& ledger) -> Result<int> {
      VB_TRY(write_status(*ledger.store, ledger.config.prices, *json, std::cout));
      return k_exit_ok;
    };
  });
}

}  // namespace vb
