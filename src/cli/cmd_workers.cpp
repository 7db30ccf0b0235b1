// `vidbatch workers`: the processes registered on the ledger, with their heartbeat and the jobs
// they hold. Times are the database clock's.
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"

namespace vb {

namespace {

std::string seconds(Millis ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms) / 1000.0);
  return text;
}

Result<int> list_workers(Ledger& ledger) {
  const Millis now = VB_TRY(ledger.store->database_now());
  const std::vector<WorkerRecord> workers = VB_TRY(ledger.store->list_workers());
  if (workers.empty()) {
    std::cout << "no workers on this ledger\n";
    return k_exit_ok;
  }
  for (const WorkerRecord& w : workers) {
    std::cout << w.id << "  host " << w.host << "  pid " << w.pid << "  since "
              << format_iso8601(w.started_at) << "  heartbeat " << seconds(now - w.heartbeat_at)
              << " ago  "
              << (w.expires_at > now ? "expires in " + seconds(w.expires_at - now)
                                     : "expired " + seconds(now - w.expires_at) + " ago")
              << "  leases " << w.leases << "\n";
  }
  return k_exit_ok;
}

}  // namespace

void register_workers(CLI::App& app, CommandContext& ctx) {
  CLI::App* cmd = app.add_subcommand(
      "workers", "list the vidbatch processes working on the ledger, their heartbeat and leases");
  cmd->footer("Example: vidbatch workers --db postgresql://vb@db.example/vidbatch");
  add_common_flags(*cmd, ctx, false);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx] { ctx.action = list_workers; });
}

}  // namespace vb
