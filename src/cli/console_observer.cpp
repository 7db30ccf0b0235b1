#include "cli/console_observer.h"

#include <unistd.h>

#include <cstdio>
#include <string>

namespace vb {

namespace {

std::string format_eta(Millis ms) {
  std::int64_t secs = ms / 1000;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(secs / 60),
                static_cast<long long>(secs % 60));
  return buf;
}

}  // namespace

ConsoleObserver::ConsoleObserver() : m_live(isatty(STDOUT_FILENO) && isatty(STDERR_FILENO)) {}

void ConsoleObserver::on_transition(const JobRecord& job, JobState from, JobState to,
                                    const std::string& message) {
  if (m_live && to != JobState::failed && to != JobState::ambiguous) {
    return;  // the live line shows the counts; only problems get their own line
  }
  close();
  std::fprintf(stderr, "%s %s/%s %s -> %s: %s\n", format_iso8601(SystemClock().now_ms()).c_str(),
               job.batch.c_str(), job.spec.id.c_str(), to_string(from), to_string(to),
               message.c_str());
}

void ConsoleObserver::on_tick(const RunCounts& counts, Millis now) {
  std::int64_t done = counts.of(JobState::done);
  if (m_done_at_start < 0) {
    m_done_at_start = done;
    m_started = now;
  }
  if (!m_live) {
    return;
  }
  std::int64_t at_provider =
      counts.of(JobState::submitting) + counts.of(JobState::submitted) + counts.of(JobState::running);
  std::int64_t downloading = counts.of(JobState::ready) + counts.of(JobState::downloading);
  std::int64_t remaining = counts.total() - done - counts.of(JobState::failed) -
                           counts.of(JobState::canceled) - counts.of(JobState::ambiguous);
  std::string eta = "--:--";
  std::int64_t finished_here = done - m_done_at_start;
  if (finished_here > 0 && now > m_started) {
    // From observed throughput, never from the providers' progress numbers.
    eta = format_eta(remaining * (now - m_started) / finished_here);
  }
  std::fprintf(stderr,
               "\r[vidbatch] done %lld/%lld | queued %lld | at provider %lld | downloading %lld | "
               "failed %lld | ambiguous %lld | ETA %s\x1b[K",
               static_cast<long long>(done), static_cast<long long>(counts.total()),
               static_cast<long long>(counts.of(JobState::queued)),
               static_cast<long long>(at_provider), static_cast<long long>(downloading),
               static_cast<long long>(counts.of(JobState::failed)),
               static_cast<long long>(counts.of(JobState::ambiguous)), eta.c_str());
  std::fflush(stderr);
  m_line_open = true;
}

void ConsoleObserver::on_notice(const std::string& message) {
  close();
  std::fprintf(stderr, "vidbatch: %s\n", message.c_str());
}

void ConsoleObserver::close() {
  if (m_line_open) {
    std::fputc('\n', stderr);
    m_line_open = false;
  }
}

}  // namespace vb
