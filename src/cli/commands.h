// Internal to the CLI: the subcommand table and what the commands share.
// Each command lives in cmd_<name>.cpp and registers itself through one
// function listed in k_commands (cli.cpp).
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_log.h"
#include "cli/run_lock.h"
#include "config/config.h"
#include "engine/provider_runs.h"
#include "store/job_store.h"
#include "util/error.h"

namespace vb {

// Flags every ledger-using command accepts (--db, --config, --out, --base-url, --concurrency).
struct CommonFlags {
  ConfigOverrides overrides;
  std::string concurrency_text;
};

struct CommandContext {
  CommonFlags flags;
  LogOptions log;                // --quiet, --log-format (stderr for the whole command)
  std::function<int()> action;   // set by the chosen subcommand's callback
};

using CommandRegistrar = void (*)(CLI::App& app, CommandContext& ctx);

void register_run(CLI::App& app, CommandContext& ctx);
void register_resume(CLI::App& app, CommandContext& ctx);
void register_status(CLI::App& app, CommandContext& ctx);
void register_report(CLI::App& app, CommandContext& ctx);
void register_validate(CLI::App& app, CommandContext& ctx);
void register_resolve(CLI::App& app, CommandContext& ctx);
void register_jobs(CLI::App& app, CommandContext& ctx);
void register_events(CLI::App& app, CommandContext& ctx);
void register_plan(CLI::App& app, CommandContext& ctx);
void register_retry(CLI::App& app, CommandContext& ctx);
void register_cancel(CLI::App& app, CommandContext& ctx);
void register_completion(CLI::App& app, CommandContext& ctx);
void register_adopt(CLI::App& app, CommandContext& ctx);

// --db/--config/--out/--base-url/--concurrency on `cmd`, filling ctx.flags.
void add_common_flags(CLI::App& cmd, CommandContext& ctx, bool engine_flags);

// --quiet and --log-format text|json on `cmd`, filling ctx.log.
void add_log_flags(CLI::App& cmd, CommandContext& ctx);

// Prints "vidbatch: <where>: <message>" to stderr (an error event of cli_log()) and returns the exit code for it.
int report_error(const Error& error);
int exit_code_for(const Error& error);

// Loads the configuration from ctx.flags (file, environment, flags); prints nothing.
Result<Config> resolve_config(const CommandContext& ctx);

// Opens the ledger named by the configuration (ErrorCode::database on failure).
Result<std::unique_ptr<JobStore>> open_store(const Config& config);

// An existing ledger (never created here), opened for reading only, and the configuration
// that names it.
struct Ledger {
  Config config;
  std::unique_ptr<JobStore> store;
};
// Fails with ErrorCode::not_found when the database file does not exist.
Result<Ledger> open_ledger(const CommandContext& ctx);

// A ledger held for writing by retry, cancel or resolve: the run lock (a running
// `run` makes it fail), the existing database (never created here), and jobs a
// crashed run left mid-request recovered (submitting -> ambiguous, downloading ->
// ready). On failure the error is printed and its exit code returned: 2 for a
// missing ledger or bad config, 3 for a held lock or a database error.
struct LockedLedger {
  std::unique_ptr<RunLock> lock;
  Config config;
  std::unique_ptr<JobStore> store;
};
std::expected<LockedLedger, int> lock_ledger(const CommandContext& ctx, Millis now);

// The jobs named by `ids` (in `batch` when not empty), once each, in the order given.
// Fails with not_found for an unknown id, invalid_input when an id is in several batches.
Result<std::vector<JobRecord>> find_jobs_by_id(JobStore& store, const std::string& batch,
                                               const std::vector<std::string>& ids);

// A --state value: nullopt for "", invalid_input naming the valid states otherwise.
Result<std::optional<JobState>> parse_state_flag(const std::string& text);

// Set by SIGINT/SIGTERM: 1 = stop gracefully, 2 = abort now.
std::atomic<int>& stop_requests();
void install_signal_handlers();

}  // namespace vb
