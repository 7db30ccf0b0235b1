// CliLog: every line a command writes to stderr, in one of two formats.
//
// - text (default): lines for people; on a terminal (stdout and stderr both
//   TTYs) the live progress block is drawn in place and log lines are printed
//   above it.
// - json (`--log-format json`): one JSON object per line and event, for log
//   shippers: {"ts","level","event","message"} plus "batch","job","from","to",
//   "http_status" where they apply. Never escape codes or carriage returns.
//
// `--quiet` keeps only error events (and the command's data on stdout).
// While a CliLogScope is alive, std::cerr is routed through the log line by
// line (a line saying "warning:" is a warn event, others info), so code that
// writes to std::cerr directly follows the chosen format too.
// Single-threaded: the command's thread only.
#pragma once

#include <cstdio>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "job/job_state.h"
#include "util/clock.h"

namespace vb {

enum class LogFormat { text, json };
enum class LogLevel { info, warn, error };

struct LogOptions {
  bool quiet = false;
  LogFormat format = LogFormat::text;
};

struct LogEvent {
  LogLevel level = LogLevel::info;
  std::string event = "message";  // "transition", "notice", "error", "message"
  std::string text;               // the whole line in text format
  std::string message;            // the message alone (json "message")
  std::optional<std::string> batch;
  std::optional<std::string> job;
  std::optional<JobState> from;
  std::optional<JobState> to;
  int http_status = 0;  // 0 = none
};

const char* to_string(LogLevel level);
// The json line of `event` (no newline), stamped `ts`.
std::string format_json_event(const LogEvent& event, Millis ts);

class CliLog {
 public:
  // `terminal`: stdout and stderr are terminals, so the progress may be drawn.
  CliLog(LogOptions options, std::FILE* out, bool terminal, const Clock& clock);
  ~CliLog();
  CliLog(const CliLog&) = delete;
  CliLog& operator=(const CliLog&) = delete;

  const LogOptions& options() const { return m_options; }
  // Prints the event unless --quiet hides it; a live block is erased first and
  // comes back below the line at the next draw(). Off a terminal, routine
  // transition lines are held until flush(), a problem or 64 KiB: a busy run
  // makes thousands a second, and each would be one write(2).
  void write(const LogEvent& event);
  // Writes the held lines (the run calls it on every progress tick).
  void flush();
  // True when the live progress is drawn: text format, not quiet, a terminal.
  bool live() const { return m_live; }
  // Replaces the live block with `lines` (no-op unless live()).
  void draw(const std::vector<std::string>& lines);
  // Leaves the live block on screen and moves below it.
  void end_live();
  // Columns of the terminal minus one (80 when unknown).
  int width() const;

 private:
  void erase_block();

  LogOptions m_options;
  std::FILE* m_out;
  bool m_live;
  const Clock& m_clock;
  std::vector<std::string> m_block;  // what is drawn now; empty = nothing
  std::string m_held;                // lines not written yet (see write())
};

// True when stdout and stderr are terminals and TERM is not "dumb".
bool on_terminal();

// The log of the running command: the one a CliLogScope installed, else a text log.
CliLog& cli_log();

// Installs a log for the command's lifetime and routes std::cerr through it.
class CliLogScope {
 public:
  explicit CliLogScope(const LogOptions& options);
  ~CliLogScope();
  CliLogScope(const CliLogScope&) = delete;
  CliLogScope& operator=(const CliLogScope&) = delete;

 private:
  class LineBuffer;
  SystemClock m_clock;
  std::unique_ptr<CliLog> m_log;
  std::unique_ptr<LineBuffer> m_buffer;
  std::streambuf* m_saved = nullptr;
  CliLog* m_previous = nullptr;
};

}  // namespace vb
