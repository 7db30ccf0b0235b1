// Thumbnails (output.thumbnails): once a job's video is done, its thumbnail, where the dialect
// offers one, is fetched into memory and saved next to the video (temporary file, then rename).
#include <algorithm>

#include "engine/run_parts.h"
#include "output/output_layout.h"

namespace vb {

namespace {

constexpr int k_thumbnail_attempts = 2;            // one retry
constexpr Millis k_thumbnail_retry_max_ms = 2000;  // the run's end waits at most this for a retry
constexpr int k_thumbnail_notices = 3;             // failures shown one by one, then counted

bool is_image(std::string_view body) {
  const bool webp = body.size() >= 12 && body.substr(0, 4) == "RIFF" && body.substr(8, 4) == "WEBP";
  const bool jpeg = body.starts_with("\xFF\xD8\xFF");
  const bool png = body.starts_with("\x89PNG\r\n\x1A\n");
  return webp || jpeg || png;
}

}  // namespace

void ThumbnailFetcher::queue(const LiveJob& job, Millis now) {
  const Config& config = m_core.config();
  if (!config.output.thumbnails || m_off) {
    return;
  }
  auto request = m_core.provider().thumbnail_request(job.rec.remote_id, job.last);
  auto paths = output_paths(config.output, job.rec.batch, job.rec.spec.id);
  if (!request || !paths) {
    return;
  }
  request->sink = nullptr;  // small: collected in memory
  Task task{std::move(*request), paths->thumbnail, job.rec.batch + "/" + job.rec.spec.id};
  task.due = now;
  m_tasks.insert_or_assign(job.rec.row_id, std::move(task));
}

void ThumbnailFetcher::start(Millis now) {
  for (auto& [row_id, task] : m_tasks) {
    if (!task.in_flight && task.due <= now) {
      task.in_flight = true;
      m_core.send(task.request, Traffic::plain, *this, row_id, now);
    }
  }
}

Millis ThumbnailFetcher::next_wake(Millis wake) const {
  for (const auto& [row_id, task] : m_tasks) {
    if (!task.in_flight) {
      wake = std::min(wake, task.due);
    }
  }
  return wake;
}

void ThumbnailFetcher::on_answer(std::int64_t row_id, HttpResult& result, Millis now) {
  auto it = m_tasks.find(row_id);
  if (it == m_tasks.end()) {
    return;
  }
  Task& task = it->second;
  task.in_flight = false;
  task.attempts += 1;
  const AnswerClass answer = m_core.provider().classify(RequestPhase::thumbnail, result, now);
  std::string problem;
  if (answer.kind != AnswerKind::ok) {
    problem = answer.detail;
  } else if (!is_image(result.response.body)) {
    problem = "the answer is not a WebP, JPEG or PNG image";
  } else if (auto saved = write_file_atomically(task.path, result.response.body, false); !saved) {
    problem = saved.error().describe();  // the disk: a retry would not help
  } else {
    m_saved += 1;
    m_tasks.erase(it);
    return;
  }
  // Worth the one retry: the request may not have been served at all.
  const bool transient = answer.kind == AnswerKind::retry || answer.kind == AnswerKind::slow_down;
  if (transient && task.attempts < k_thumbnail_attempts && !m_core.stopping()) {
    task.due = now + std::min(m_core.config().retry.base_delay_ms, k_thumbnail_retry_max_ms);
    return;
  }
  note_failure(task, answer.kind == AnswerKind::rejected, problem);
  m_tasks.erase(it);
}

void ThumbnailFetcher::note_failure(const Task& task, bool refused, const std::string& problem) {
  m_failures += 1;
  if (m_failures <= k_thumbnail_notices) {
    m_core.notice(NoticeKind::thumbnail_failed, task.job,
                  "thumbnail of " + task.job + " not saved (" + problem + "); the video is fine" +
                      (m_failures == k_thumbnail_notices
                           ? "; further thumbnail failures are not shown"
                           : ""));
  }
  // A provider that refuses every thumbnail request (a gateway without the
  // variant) is not asked again for each of the other videos of the run.
  if (refused && m_saved == 0 && m_failures >= k_thumbnail_notices && !m_off) {
    m_off = true;
    m_core.notice(NoticeKind::thumbnails_off, m_core.config().provider.name,
                  "the provider refused " + std::to_string(m_failures) +
                      " thumbnail requests and served none: no more are sent in this run "
                      "(set output.thumbnails = false to skip them)");
  }
}

}  // namespace vb
