// `vidbatch events`: the transition history of jobs, for people or as JSON Lines.
#include <cmath>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "report/report.h"

namespace vb {

namespace {

void write_json_line(const EventRecord& e, std::ostream& out) {
  out << event_json(e) << '\n';
}

// "2026-11-24T21:18:57.123Z  demo/cat  submitting -> ambiguous  (http 502)  message"
void write_text_line(const EventRecord& e, std::ostream& out) {
  out << format_iso8601(e.at) << "  " << e.batch << '/' << e.job_id << "  "
      << (e.from ? std::string(to_string(*e.from)) + " -> " : std::string("created -> "))
      << to_string(e.to);
  if (e.progress && e.to == JobState::running) {
    out << "  " << std::lround(*e.progress) << '%';
  }
  if (e.http_status != 0) {
    out << "  (http " << e.http_status << ')';
  }
  if (!e.message.empty()) {
    std::string message = e.message;
    for (char& c : message) {
      c = (c == '\n' || c == '\r') ? ' ' : c;
    }
    out << "  " << message;
  }
  out << '\n';
}

}  // namespace

void register_events(CLI::App& app, CommandContext& ctx) {
  struct Flags {
    std::string job;
    std::string batch;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("events", "the state transitions of jobs, oldest first");
  cmd->footer(
      "Examples:\n"
      "  vidbatch events --batch demo --job cat-surfing\n"
      "  vidbatch events --json | jq 'select(.http_status == 429)'");
  cmd->add_option("--job", flags->job,
                  "only this job (add --batch when ids repeat across batches)");
  cmd->add_option("--batch", flags->batch, "only this batch");
  cmd->add_flag("--json", flags->json, "one JSON object per event and line (JSON Lines)");
  add_common_flags(*cmd, ctx, false);
  cmd->callback([&ctx, flags] {
    ctx.action = [flags](Ledger& ledger) -> Result<int> {
      JobStore& store = *ledger.store;
      std::vector<EventRecord> events;
      if (!flags->job.empty()) {
        const auto jobs = VB_TRY(find_jobs_by_id(store, flags->batch, {flags->job}));
        events = VB_TRY(store.events(jobs.front().row_id));
      } else if (!flags->batch.empty()) {
        events = VB_TRY(store.batch_events(flags->batch));
      } else {
        events = VB_TRY(store.events(std::nullopt));
      }
      for (const EventRecord& e : events) {
        if (flags->json) {
          write_json_line(e, std::cout);
        } else {
          write_text_line(e, std::cout);
        }
      }
      std::cout.flush();
      return std::cout ? k_exit_ok : k_exit_runtime;
    };
  });
}

}  // namespace vb
