#include "cli/cli.h"

#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <iostream>

#include "cli/commands.h"

namespace vb {

namespace {

struct CommandEntry {
  const char* name;
  LedgerNeed ledger;  // opened before the action runs
  CommandRegistrar registrar;
};

// The subcommands, in the order `vidbatch --help` lists them.
constexpr CommandEntry k_commands[] = {
    {"run", LedgerNeed::none, register_run},
    {"resume", LedgerNeed::none, register_resume},
    {"status", LedgerNeed::read, register_status},
    {"report", LedgerNeed::read, register_report},
    {"validate", LedgerNeed::none, register_validate},
    {"resolve", LedgerNeed::write, register_resolve},
    {"jobs", LedgerNeed::read, register_jobs},
    {"events", LedgerNeed::read, register_events},
    {"plan", LedgerNeed::none, register_plan},
    {"retry", LedgerNeed::write, register_retry},
    {"cancel", LedgerNeed::write, register_cancel},
    {"adopt", LedgerNeed::write, register_adopt},
    {"verify", LedgerNeed::read, register_verify},
    {"serve", LedgerNeed::read, register_serve},
    {"migrate", LedgerNeed::none, register_migrate},
    {"workers", LedgerNeed::read, register_workers},
    {"completion", LedgerNeed::none, register_completion},
};

std::atomic<int> g_stop_requests{0};

void on_stop_signal(int) {
  int seen = g_stop_requests.fetch_add(1) + 1;
  if (seen >= 3) {
    _exit(k_exit_interrupted);  // the ledger is transactional: safe even now
  }
}

}  // namespace

std::atomic<int>& stop_requests() {
  return g_stop_requests;
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int exit_code_for(const Error& error) {
  switch (error.code) {
    case ErrorCode::invalid_input:
    case ErrorCode::conflict:
    case ErrorCode::not_found:
      return k_exit_usage;
    case ErrorCode::busy:
    default:
      return k_exit_runtime;
  }
}

void usage_error(const std::string& command, const std::string& problem) {
  throw CLI::ValidationError("vidbatch " + command + ": " + problem);
}

int or_report(const Result<int>& result) {
  return result ? *result : report_error(result.error());
}

int report_error(const Error& error) {
  LogEvent event;
  event.level = LogLevel::error;
  event.event = "error";
  event.message = error.describe();
  event.text = "vidbatch: " + event.message;
  cli_log().write(event);
  return exit_code_for(error);
}

void add_log_flags(CLI::App& cmd, CommandContext& ctx) {
  cmd.add_flag_function(
      "-q,--quiet", [&ctx](std::int64_t) { ctx.log.quiet = true; },
      "print only errors (and the final summary on stdout)");
  cmd.add_option_function<std::string>(
         "--log-format",
         [&ctx](const std::string& v) {
           ctx.log.format = v == "json" ? LogFormat::json : LogFormat::text;
         },
         "stderr as text (default) or json: one JSON object per event and line, for log shippers")
      ->check(CLI::IsMember({"text", "json"}));
}

void add_common_flags(CLI::App& cmd, CommandContext& ctx, bool engine_flags) {
  auto& o = ctx.flags.overrides;
  cmd.add_option_function<std::string>(
      "--db", [&o](const std::string& v) { o.db_path = v; },
      "ledger: a SQLite file (default ./vidbatch.db) or a postgresql://user@host/db URL");
  cmd.add_option_function<std::string>(
      "--config", [&o](const std::string& v) { o.config_path = v; },
      "TOML configuration (default ./vidbatch.toml if present)");
  if (!engine_flags) {
    return;
  }
  cmd.add_option_function<std::string>(
      "--out", [&o](const std::string& v) { o.out_dir = v; }, "output folder (default ./out)");
  cmd.add_option_function<std::string>(
      "--base-url", [&o](const std::string& v) { o.base_url = v; },
      "provider base URL ending in /v1 (default $OPENAI_BASE_URL, then the config)");
  cmd.add_option_function<int>(
         "--concurrency", [&o](int v) { o.concurrency = v; },
         "maximum jobs in flight at the provider")
      ->check(CLI::PositiveNumber);
  cmd.add_option_function<double>(
      "--budget", [&o](double v) { o.budget_usd = v; },
      "stop submitting before the estimated cost would pass this many USD");
}

Result<Config> resolve_config(const CommandContext& ctx) {
  return load_config(ctx.flags.overrides, process_env());
}

int cli_main(int argc, char** argv) {
  CLI::App app{"vidbatch: run batches of AI video generations, resumably, without paying twice"};
  app.set_version_flag("--version", "vidbatch " VIDBATCH_VERSION);
  app.require_subcommand(1);
  CommandContext ctx;
  for (const auto& entry : k_commands) {
    entry.registrar(app, ctx);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? k_exit_ok : k_exit_usage;
  }
  if (!ctx.action) {
    return k_exit_usage;
  }
  CliLogScope log(ctx.log);
  const std::string chosen = app.get_subcommands().front()->get_name();
  const auto* entry = std::find_if(std::begin(k_commands), std::end(k_commands),
                                   [&](const CommandEntry& e) { return chosen == e.name; });
  auto ledger = open_ledger(ctx, entry->ledger, SystemClock().now_ms());
  if (!ledger) {
    return report_error(ledger.error());
  }
  return or_report(ctx.action(*ledger));
}

}  // namespace vb
