// `vidbatch report`: every job of the ledger as CSV, JSON, JSON Lines, Markdown
// or a self-contained HTML page (summary, timeline, contact sheet).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "report/report.h"

namespace vb {

void register_report(CLI::App& app, CommandContext& ctx) {
  struct Flags {
    std::string format = "csv";
    std::string output;
    std::string batch;
    std::string state;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "report", "one row per job (CSV, JSON, JSON Lines, Markdown) or an HTML page with videos");
  cmd->footer(
      "Examples:\n"
      "  vidbatch report --format csv --output report.csv\n"
      "  vidbatch report --format html --batch demo --output report.html");
  cmd->add_option("--format", flags->format, "csv | json | jsonl | md | html (default csv)")
      ->check(CLI::IsMember({"csv", "json", "jsonl", "md", "html"}));
  cmd->add_option("--output", flags->output,
                  "write to FILE instead of stdout (html: videos are linked relative to it)");
  cmd->add_option("--batch", flags->batch, "only this batch");
  cmd->add_option("--state", flags->state, "only jobs in this state");
  add_common_flags(*cmd, ctx, false);
  cmd->callback([&ctx, flags] {
    ctx.action = [flags](Ledger& ledger) -> Result<int> {
      ReportOptions options;
      if (!flags->batch.empty()) {
        options.filter.batch = flags->batch;
      }
      options.filter.state = VB_TRY(parse_state_flag(flags->state));
      options.format = *parse_report_format(flags->format);
      options.prices = ledger.config.prices;
      if (flags->output.empty()) {
        options.report_dir = ".";
        VB_TRY(write_report(*ledger.store, options, std::cout));
        return k_exit_ok;
      }
      std::filesystem::path parent = std::filesystem::path(flags->output).parent_path();
      options.report_dir = parent.empty() ? "." : parent.string();
      std::error_code ec;
      if (!parent.empty()) {
        std::filesystem::create_directories(parent, ec);  // a failure shows when opening below
      }
      // Written next to the target and renamed: a reader never sees half a report.
      std::string tmp = flags->output + ".tmp";
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      auto status = out ? write_report(*ledger.store, options, out)
                        : Status(fail(ErrorCode::io, "cannot create the report file", tmp));
      out.close();
      if (!status || !out || std::rename(tmp.c_str(), flags->output.c_str()) != 0) {
        std::filesystem::remove(tmp);
        return std::unexpected(status
                                   ? Error{ErrorCode::io, "cannot write the report", flags->output}
                                   : status.error());
      }
      return k_exit_ok;
    };
  });
}

}  // namespace vb
