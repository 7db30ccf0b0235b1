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

#include "app/batch_run.h"
#include "app/run_lock.h"
#include "cli/cli_log.h"
#include "config/config.h"
#include "store/job_store.h"
#include "util/error.h"

namespace vb {

// Flags every ledger-using command accepts (--db, --config, --out, --base-url, --concurrency).
struct CommonFlags {
  ConfigOverrides overrides;
};

// What a command needs opened before its action runs (after ninja's Tool::When): nothing, an
// existing ledger opened for reading, or an existing ledger held for writing (the run lock,
// then the jobs a crashed run left mid-request recovered: submitting -> ambiguous, downloading
// -> ready). The command table (cli.cpp) says which.
enum class LedgerNeed { none, read, write };

// The ledger a command's need opened: empty for LedgerNeed::none; `lock` only for write.
struct Ledger {
  Config config;
  std::unique_ptr<JobStore> store;
  std::unique_ptr<RunLock> lock;
};

struct CommandContext {
  CommonFlags flags;
  LogOptions log;  // --quiet, --log-format (stderr for the whole command)
  // Set by the chosen subcommand's callback. Its value is the exit code; its error is printed
  // and mapped to one in one place (or_report).
  std::function<Result<int>(Ledger&)> action;
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
void register_verify(CLI::App& app, CommandContext& ctx);
void register_serve(CLI::App& app, CommandContext& ctx);
void register_migrate(CLI::App& app, CommandContext& ctx);
void register_workers(CLI::App& app, CommandContext& ctx);

// --db/--config/--out/--base-url/--concurrency on `cmd`, filling ctx.flags.
void add_common_flags(CLI::App& cmd, CommandContext& ctx, bool engine_flags);

// --quiet and --log-format text|json on `cmd`, filling ctx.log.
void add_log_flags(CLI::App& cmd, CommandContext& ctx);

// Prints "vidbatch: <where>: <message>" to stderr (an error event of cli_log()) and returns the
// exit code for it.
int report_error(const Error& error);
int exit_code_for(const Error& error);
// A command's exit code: its value, or its error printed (report_error) and mapped.
int or_report(const Result<int>& result);
// For a subcommand's callback: flags that do not go together are a usage error (exit 2),
// found before any ledger is opened.
[[noreturn]] void usage_error(const std::string& command, const std::string& problem);

// Loads the configuration from ctx.flags (file, environment, flags); prints nothing.
Result<Config> resolve_config(const CommandContext& ctx);

// Opens what `need` asks for (see LedgerNeed). Fails with ErrorCode::not_found when the
// ledger does not exist (never created here), busy when another process holds it.
Result<Ledger> open_ledger(const CommandContext& ctx, LedgerNeed need, Millis now);

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
