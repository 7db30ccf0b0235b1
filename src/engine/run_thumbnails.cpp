// Thumbnails in the run loop (output.thumbnails): once a job's video is done,
// its thumbnail, where the dialect offers one, is fetched into memory and saved
// next to the video (temporary file, then rename). Best effort: a thumbnail
// never fails a job or the run, is retried at most once, and its requests do
// not count against limits.max_in_flight or limits.max_downloads.
#include <algorithm>

#include "engine/run_loop.h"
#include "output/output_layout.h"

namespace vb {

namespace {

constexpr std::uint64_t k_thumbnail_tag_base = std::uint64_t{1} << 61;  // + row id
constexpr int k_thumbnail_attempts = 2;         // one retry
constexpr Millis k_thumbnail_retry_max_ms = 2000;  // the run's end waits at most this for a retry
constexpr int k_thumbnail_notices = 3;          // failures shown one by one, then counted

bool is_image(std::string_view body) {
  const bool webp = body.size() >= 12 && body.substr(0, 4) == "RIFF" && body.substr(8, 4) == "WEBP";
  const bool jpeg = body.starts_with("\xFF\xD8\xFF");
  const bool png = body.starts_with("\x89PNG\r\n\x1A\n");
  return webp || jpeg || png;
}

}  // namespace

bool RunEngine::Loop::is_thumbnail_tag(std::uint64_t tag) {
  return tag >= k_thumbnail_tag_base && tag < (k_thumbnail_tag_base << 1);
}

void RunEngine::Loop::queue_thumbnail(const LiveJob& job, Millis now) {
  if (!m_e.m_config.output.thumbnails || m_thumbnails_off) {
    return;
  }
  auto request = m_e.m_provider.thumbnail_request(job.rec.remote_id, job.last);
  auto paths = output_paths(m_e.m_config.output, job.rec.batch, job.rec.spec.id);
  if (!request || !paths) {
    return;
  }
  request->timeout_ms = m_e.m_config.http.request_timeout_ms;
  request->sink = nullptr;  // small: collected in memory
  ThumbnailTask task{std::move(*request), paths->thumbnail, job.rec.batch + "/" + job.rec.spec.id};
  task.due = now;
  m_thumbnails.insert_or_assign(k_thumbnail_tag_base + static_cast<std::uint64_t>(job.rec.row_id),
                                std::move(task));
}

void RunEngine::Loop::start_thumbnails(Millis now) {
  for (auto& [tag, task] : m_thumbnails) {
    if (!task.in_flight && task.due <= now) {
      task.in_flight = true;
      m_e.m_transport.start(task.request, tag);
    }
  }
}

Millis RunEngine::Loop::next_thumbnail_due(Millis wake) const {
  for (const auto& [tag, task] : m_thumbnails) {
    if (!task.in_flight) {
      wake = std::min(wake, task.due);
    }
  }
  return wake;
}

void RunEngine::Loop::on_thumbnail_answer(HttpResult& result, Millis now) {
  auto it = m_thumbnails.find(result.tag);
  if (it == m_thumbnails.end()) {
    return;
  }
  ThumbnailTask& task = it->second;
  task.in_flight = false;
  task.attempts += 1;
  const AnswerClass answer = m_e.m_provider.classify(RequestPhase::thumbnail, result, now);
  std::string problem;
  if (answer.kind != AnswerKind::ok) {
    problem = answer.detail;
  } else if (!is_image(result.response.body)) {
    problem = "the answer is not a WebP, JPEG or PNG image";
  } else if (auto saved = write_file_atomically(task.path, result.response.body, false); !saved) {
    problem = saved.error().describe();  // the disk: a retry would not help
  } else {
    m_thumbnails_saved += 1;
    m_thumbnails.erase(it);
    return;
  }
  // Worth the one retry: the request may not have been served at all.
  const bool transient = answer.kind == AnswerKind::retry || answer.kind == AnswerKind::slow_down;
  if (transient && task.attempts < k_thumbnail_attempts && !m_stopping) {
    task.due = now + std::min(m_e.m_config.retry.base_delay_ms, k_thumbnail_retry_max_ms);
    return;
  }
  note_thumbnail_failure(task, answer.kind == AnswerKind::rejected, problem);
  m_thumbnails.erase(it);
}

void RunEngine::Loop::note_thumbnail_failure(const ThumbnailTask& task, bool refused,
                                             const std::string& problem) {
  m_thumbnail_failures += 1;
  if (m_thumbnail_failures <= k_thumbnail_notices) {
    m_e.m_observer.on_notice(
        "thumbnail of " + task.job + " not saved (" + problem + "); the video is fine" +
        (m_thumbnail_failures == k_thumbnail_notices ? "; further thumbnail failures are not shown"
                                                     : ""));
  }
  // A provider that refuses every thumbnail request (a gateway without the
  // variant) is not asked again for each of the other videos of the run.
  if (refused && m_thumbnails_saved == 0 && m_thumbnail_failures >= k_thumbnail_notices &&
      !m_thumbnails_off) {
    m_thumbnails_off = true;
    m_e.m_observer.on_notice(
        "the provider refused " + std::to_string(m_thumbnail_failures) +
        " thumbnail requests and served none: no more are sent in this run "
        "(set output.thumbnails = false to skip them)");
  }
}

}  // namespace vb
