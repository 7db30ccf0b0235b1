// `vidbatch migrate --to postgresql://...`: copies the SQLite ledger (--db) into an empty
// PostgreSQL ledger, verified row for row; the SQLite file is only read.
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"

namespace vb {

namespace {

// Workers change a ledger under leases, without the run lock: none may be alive during the
// copy. Workers whose heartbeat expired change nothing (their leases are not copied).
Status refuse_live_workers(const std::string& from) {
  const auto store = VB_TRY(JobStore::open_for_reading(from));
  const Millis now = VB_TRY(store->database_now());
  std::string live;
  int count = 0;
  for (const WorkerRecord& w : VB_TRY(store->list_workers())) {
    if (w.expires_at > now) {
      live += (count++ == 0 ? "" : ", ") + w.id + " (host " + w.host + ", pid " +
              std::to_string(w.pid) + ", heartbeat " +
              std::to_string((now - w.heartbeat_at) / 1000) + " s ago)";
    }
  }
  if (count == 0) {
    return {};
  }
  return fail(ErrorCode::busy,
              std::to_string(count) + " worker(s) are running on this ledger: " + live +
                  "; a copy now could miss what they write. Stop them (Ctrl-C or SIGTERM: a "
                  "graceful stop releases their jobs) or let their runs finish, then migrate "
                  "again; `vidbatch workers --db " +
                  from + "` lists them",
              from);
}

Result<int> migrate(const CommandContext& ctx, const std::string& to) {
  const Config config = VB_TRY(resolve_config(ctx));
  const std::string& from = config.db_path;
  if (JobStore::is_server_url(from) || !JobStore::is_server_url(to)) {
    return fail(ErrorCode::invalid_input,
                "migrate copies a SQLite ledger (--db FILE) into PostgreSQL "
                "(--to postgresql://...)",
                JobStore::display_location(from));
  }
  if (!VB_TRY(JobStore::exists(from))) {
    return fail(ErrorCode::not_found, "no ledger here; pass --db FILE", from);
  }
  // Neither ledger may change during the copy: no command holding the run lock on either, no
  // live worker on the source.
  const auto source_lock = VB_TRY(RunLock::acquire(from));
  const auto target_lock = VB_TRY(RunLock::acquire(to));
  VB_TRY(refuse_live_workers(from));
  const std::vector<CopiedTable> copied = VB_TRY(JobStore::copy_ledger(from, to));
  std::cout << "copied " << from << " into " << JobStore::display_location(to) << "\n";
  for (const CopiedTable& table : copied) {
    char line[128];
    std::snprintf(line, sizeof line, "  %-17s %9lld rows  checksum %016llx\n", table.table.c_str(),
                  static_cast<long long>(table.rows),
                  static_cast<unsigned long long>(table.checksum));
    std::cout << line;
  }
  std::cout << "verified row for row; run on it with --db " << JobStore::display_location(to)
            << " (the SQLite file is unchanged)\n";
  return k_exit_ok;
}

}  // namespace

void register_migrate(CLI::App& app, CommandContext& ctx) {
  auto to = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "migrate", "copy the SQLite ledger into an empty PostgreSQL ledger, verified row for row");
  cmd->footer(
      "Example: vidbatch migrate --db vidbatch.db --to postgresql://vb@db.example/vidbatch");
  cmd->add_option("--to", *to, "the PostgreSQL ledger's URL (its database must exist)")->required();
  add_common_flags(*cmd, ctx, false);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx, to] { ctx.action = [&ctx, to](Ledger&) { return migrate(ctx, *to); }; });
}

}  // namespace vb
