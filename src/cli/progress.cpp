#include "cli/progress.h"

#include <algorithm>
#include <cstdio>

namespace vb {

namespace {

std::int64_t of(const StateCounts& c, JobState s) {
  return c[static_cast<std::size_t>(s)];
}

std::int64_t sum(const StateCounts& c) {
  std::int64_t total = 0;
  for (auto n : c) {
    total += n;
  }
  return total;
}

std::int64_t settled(const StateCounts& c) {
  return of(c, JobState::done) + of(c, JobState::failed) + of(c, JobState::canceled) +
         of(c, JobState::ambiguous);
}

std::string state_counts_text(const StateCounts& c) {
  auto n = [](std::int64_t v) { return std::to_string(v); };
  std::string text =
      "queued " + n(of(c, JobState::queued)) + ", at provider " +
      n(of(c, JobState::submitting) + of(c, JobState::submitted) + of(c, JobState::running)) +
      ", downloading " + n(of(c, JobState::ready) + of(c, JobState::downloading)) + ", failed " +
      n(of(c, JobState::failed));
  if (of(c, JobState::ambiguous) > 0) {
    text += ", ambiguous " + n(of(c, JobState::ambiguous));
  }
  if (of(c, JobState::canceled) > 0) {
    text += ", canceled " + n(of(c, JobState::canceled));
  }
  return text;
}

std::string rate_text(const BatchLineData& d) {
  std::string text;
  if (d.rate_per_minute) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f/min ", *d.rate_per_minute);
    text = buf;
  }
  return text + "ETA " + (d.eta ? format_duration(*d.eta) : "--");
}

std::string bar_text(const StateCounts& c, int width) {
  std::int64_t total = sum(c);
  int filled = total == 0 ? 0 : static_cast<int>(settled(c) * width / total);
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(width - filled), '.') + "]";
}

}  // namespace

bool is_settled(JobState s) {
  return s == JobState::done || s == JobState::failed || s == JobState::canceled ||
         s == JobState::ambiguous;
}

std::string format_duration(Millis ms) {
  long long s = std::max<Millis>(ms, 0) / 1000;
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
  }
  return buf;
}

std::string format_batch_line(const BatchLineData& d, int width) {
  constexpr std::size_t k_name_max = 24;
  constexpr int k_bar_min = 10;
  constexpr int k_bar_max = 30;
  std::string name = d.batch.size() > k_name_max ? d.batch.substr(0, k_name_max - 1) + "~"
                                                 : d.batch;
  std::string numbers =
      std::to_string(of(d.counts, JobState::done)) + "/" + std::to_string(sum(d.counts));
  std::string states = " | " + state_counts_text(d.counts);
  std::string rate = " | " + rate_text(d);
  auto fits = [&](const std::string& line) { return static_cast<int>(line.size()) <= width; };
  // Widest first: every part with a bar as wide as the room allows, then fewer parts.
  for (const std::string& middle : {states, std::string()}) {
    std::string tail = " " + numbers + middle + rate;
    int room = width - static_cast<int>(name.size() + tail.size()) - 3;  // " [" and "]"
    if (room >= k_bar_min) {
      return name + " " + bar_text(d.counts, std::min(room, k_bar_max)) + tail;
    }
  }
  for (const std::string& line : {name + " " + numbers + rate, name + " " + numbers}) {
    if (fits(line)) {
      return line;
    }
  }
  return (name + " " + numbers).substr(0, static_cast<std::size_t>(std::max(width, 0)));
}

ProgressBoard::ProgressBoard(Millis started) : m_started(started) {}

void ProgressBoard::seed(const std::string& batch, JobState state, std::int64_t count) {
  m_batches[batch].counts[static_cast<std::size_t>(state)] += count;
}

void ProgressBoard::apply(const std::string& batch, JobState from, JobState to, Millis now) {
  Batch& b = m_batches[batch];
  auto& from_count = b.counts[static_cast<std::size_t>(from)];
  from_count = std::max<std::int64_t>(from_count - 1, 0);
  b.counts[static_cast<std::size_t>(to)] += 1;
  if (is_settled(to) && !is_settled(from)) {
    b.finished.push_back(now);
  }
  while (!b.finished.empty() && b.finished.front() < now - k_rate_window_ms) {
    b.finished.pop_front();
  }
}

bool ProgressBoard::redraw_due(Millis now) {
  if (m_last_draw >= 0 && now - m_last_draw < k_redraw_interval_ms) {
    return false;
  }
  m_last_draw = now;
  return true;
}

const StateCounts& ProgressBoard::counts(const std::string& batch) const {
  static const StateCounts k_none{};
  auto it = m_batches.find(batch);
  return it == m_batches.end() ? k_none : it->second.counts;
}

std::optional<double> ProgressBoard::rate_of(const Batch& b, Millis now) const {
  Millis window = std::min(k_rate_window_ms, now - m_started);
  if (window <= 0) {
    return std::nullopt;
  }
  auto recent = std::count_if(b.finished.begin(), b.finished.end(),
                              [&](Millis at) { return at >= now - window; });
  if (recent == 0) {
    return std::nullopt;
  }
  return static_cast<double>(recent) * 60000.0 / static_cast<double>(window);
}

std::optional<double> ProgressBoard::rate_per_minute(const std::string& batch, Millis now) const {
  auto it = m_batches.find(batch);
  return it == m_batches.end() ? std::nullopt : rate_of(it->second, now);
}

BatchLineData ProgressBoard::line_data(const std::string& name, const Batch& b, Millis now) const {
  BatchLineData d{name, b.counts, rate_of(b, now), std::nullopt};
  if (d.rate_per_minute) {
    auto remaining = static_cast<double>(sum(b.counts) - settled(b.counts));
    d.eta = static_cast<Millis>(remaining * 60000.0 / *d.rate_per_minute);
  }
  return d;
}

std::optional<Millis> ProgressBoard::eta(const std::string& batch, Millis now) const {
  auto it = m_batches.find(batch);
  return it == m_batches.end() ? std::nullopt : line_data(batch, it->second, now).eta;
}

std::vector<std::string> ProgressBoard::lines(Millis now, int width) const {
  std::vector<std::string> out;
  Batch rest;
  std::size_t rest_batches = 0;
  for (const auto& [name, b] : m_batches) {
    if (out.size() + 1 < k_max_lines || m_batches.size() <= k_max_lines) {
      out.push_back(format_batch_line(line_data(name, b, now), width));
      continue;
    }
    rest_batches += 1;
    for (std::size_t i = 0; i < rest.counts.size(); ++i) {
      rest.counts[i] += b.counts[i];
    }
    rest.finished.insert(rest.finished.end(), b.finished.begin(), b.finished.end());
  }
  if (rest_batches > 0) {
    std::string name = std::to_string(rest_batches) + " more batches";
    out.push_back(format_batch_line(line_data(name, rest, now), width));
  }
  return out;
}

}  // namespace vb
