#include "cli/console_observer.h"

#include <set>

namespace vb {

ConsoleObserver::ConsoleObserver(CliLog& log, JobStore& store, const Clock& clock,
                                 const std::string& scope_batch)
    : m_log(log), m_clock(clock), m_board(clock.now_ms()) {
  auto counts = store.count_states();
  if (!counts) {
    return;  // the engine reports database problems; the display starts from zero
  }
  std::set<std::string> shown;
  for (const StateCount& c : *counts) {
    if (scope_batch.empty() ? !is_settled(c.state) && c.count > 0 : c.batch == scope_batch) {
      shown.insert(c.batch);
    }
  }
  for (const StateCount& c : *counts) {
    if (shown.contains(c.batch)) {
      m_board.seed(c.batch, c.state, c.count);
    }
  }
}

void ConsoleObserver::on_transition(const JobRecord& job, JobState from, JobState to,
                                    const std::string& message, int http_status) {
  m_board.apply(job.batch, from, to, m_clock.now_ms());
  LogEvent event;
  event.level = to == JobState::failed      ? LogLevel::error
                : to == JobState::ambiguous ? LogLevel::warn
                                            : LogLevel::info;
  if (m_log.live() && event.level == LogLevel::info) {
    return;  // the live block shows the counts; only problems get their own line
  }
  if (m_log.options().quiet && event.level != LogLevel::error) {
    return;
  }
  event.event = "transition";
  event.batch = job.batch;
  event.job = job.spec.id;
  event.from = from;
  event.to = to;
  event.message = message;
  event.text = format_iso8601(m_clock.now_ms()) + " " + job.batch + "/" + job.spec.id + " " +
               to_string(from) + " -> " + to_string(to) + ": " + message;
  event.http_status = http_status;
  m_log.write(event);
}

void ConsoleObserver::on_tick(const RunCounts&, Millis now) {
  m_log.flush();
  if (m_log.live() && m_board.redraw_due(now)) {
    m_log.draw(m_board.lines(now, m_log.width()));
  }
}

namespace {

// What the user can do about a notice, in this front end's commands and keys.
std::string remedy(const Notice& notice) {
  const std::string resolve = "`vidbatch resolve --character " + notice.subject + " --id ID`";
  switch (notice.kind) {
    case NoticeKind::interrupted:
      return " (Ctrl-C again to abort)";
    case NoticeKind::stopping:
      return "; once fixed, run `vidbatch resume`";
    case NoticeKind::budget_reached:
      return "; run `vidbatch resume` once the budget allows";
    case NoticeKind::derived_waiting:
      return "; run `vidbatch resume` once it is";
    case NoticeKind::character_held:
      return ". Find its id and run " + resolve + ", or `--recreate` to create it again";
    case NoticeKind::character_ambiguous:
      return ". Run " + resolve + " (or --recreate)";
    case NoticeKind::unclaimed_videos:
      return " (see `vidbatch status`)";
    default:
      return "";
  }
}

}  // namespace

void ConsoleObserver::on_notice(const Notice& notice) {
  const std::string message = notice.text + remedy(notice);
  LogEvent event;
  event.event = "notice";
  event.level = notice.kind == NoticeKind::stopping ? LogLevel::error : LogLevel::warn;
  event.message = notice.kind == NoticeKind::stopping ? "stopping: " + message : message;
  event.text = "vidbatch: " + event.message;
  m_log.write(event);
}

void ConsoleObserver::close() {
  m_log.flush();
  if (m_log.live()) {
    m_log.draw(m_board.lines(m_clock.now_ms(), m_log.width()));
  }
  m_log.end_live();
}

}  // namespace vb
