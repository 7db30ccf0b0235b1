// Downloads: a completed job's video into its part file (resumed with Range where the server
// allows), then verified, hashed and made durable by the FinishPool, then `done`.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "engine/run_parts.h"
#include "http/response_headers.h"
#include "job/failure_codes.h"
#include "probe/video_check.h"
#include "store/job_json.h"

namespace vb {

namespace {

constexpr int k_finish_threads = 2;  // each flush is shared by every file its worker finds waiting
constexpr int k_max_redirects = 3;

bool is_json(const HttpResult& r) {
  auto type = r.response.header("content-type");
  return type && type->find("json") != std::string::npos;
}

}  // namespace

Downloader::Downloader(RunCore& core, FailedRequests& failures, ThumbnailFetcher& thumbnails,
                       UrlResolver& resolver)
    : m_core(core),
      m_failures(failures),
      m_thumbnails(thumbnails),
      m_resolver(resolver),
      m_finisher(
          std::make_unique<FinishPool>(k_finish_threads, [&core] { core.transport().wakeup(); })) {}

void Downloader::start_waiting(Millis now) {
  const auto slots = static_cast<std::size_t>(m_core.config().limits.max_downloads);
  auto& waiting = m_core.scheduler().waiting(WaitQueue::download);
  while (!waiting.empty() && m_in_flight < slots && !m_core.fatal()) {
    LiveJob* job = m_core.due_job(waiting.front());
    waiting.pop_front();
    if (job != nullptr) {
      start(*job, now);
    }
  }
}

void Downloader::start(LiveJob& job, Millis now) {
  if (job.redirect_url.empty() && m_resolver.start(job, now)) {
    return;  // back here once the URL is known
  }
  if (!job.file) {
    const OutputConfig& output = m_core.config().output;
    auto paths = output_paths(output, job.rec.batch, job.rec.spec.id);
    auto file = paths ? VideoFile::create(*paths, output.checksum)
                      : Result<std::unique_ptr<VideoFile>>(std::unexpected(paths.error()));
    if (!file) {
      // The disk refuses files: every job would fail the same way, so stop the run.
      m_core.set_fatal(file.error());
      return;
    }
    job.file = std::move(*file);
    JobUpdate update;
    if (!job.last.video_url.empty() && job.redirect_url.empty()) {
      // Recorded with its expiry: a resumed run downloads from it while it is valid.
      update.download = DownloadUrl{job.last.video_url, job.last.expires_at.value_or(0), now};
    }
    m_core.transition(job, JobState::downloading, "downloading", update);
  }
  HttpRequest request = m_core.provider().download_request(job.rec.remote_id, job.last);
  if (!job.redirect_url.empty()) {
    request = HttpRequest{};
    request.url = job.redirect_url;
    request.with_auth = true;  // dropped by the transport unless it is the provider's origin
  }
  request.sink = job.file.get();
  request.range_from = job.file->size();
  job.in_flight = RequestKind::download;
  m_in_flight += 1;
  job.download_tag = m_core.send(std::move(request), Traffic::download, *this, job.rec.row_id, now);
}

void Downloader::on_answer(std::int64_t row_id, HttpResult& result, Millis now) {
  m_in_flight -= 1;
  LiveJob* found = m_core.answered(row_id);
  if (found == nullptr) {
    return;
  }
  LiveJob& job = *found;
  const bool success = result.failure == TransportFailure::none &&
                       result.response.status / 100 == 2;
  if (success && is_json(result) && job.redirects < k_max_redirects) {
    // Some gateways answer /content with JSON naming the real URL.
    auto url = m_core.provider().parse_content_redirect(job.file->head());
    if (url && job.file->restart()) {
      job.redirect_url = *url;
      job.redirects += 1;
      m_core.schedule(job, now);
      return;
    }
  }
  if (result.failure == TransportFailure::none && result.response.status == 416) {
    // Our Range starts at the end: either every byte is already here, or the file is off.
    std::int64_t total = expected_total_bytes(result.response, job.file->size());
    if (total == job.file->size()) {
      finish(job, result);
      return;
    }
    job.file->restart();
    AnswerClass refused{AnswerKind::retry,
                        {},
                        failure::http(416),
                        "the server refused the resume range (HTTP 416); starting over"};
    m_failures.on_failed(job, RequestPhase::download, refused, 416, now);
    return;
  }
  if (job.file && !job.file->write_error().empty()) {
    // Disk full or similar: the job stays retriable and the run stops cleanly.
    stop_on_disk_error(job, "cannot write " + job.rec.spec.id + ": " + job.file->write_error(),
                       "free some space");
    return;
  }
  AnswerClass answer = m_core.provider().classify(RequestPhase::download, result, now);
  if (answer.kind == AnswerKind::ok) {
    finish(job, result);
    return;
  }
  m_failures.on_failed(job, RequestPhase::download, answer, result.response.status, now);
}

void Downloader::finish(LiveJob& job, const HttpResult& result) {
  std::int64_t had_before = job.file->size() - result.body_bytes;
  const Config& config = m_core.config();
  auto paths = output_paths(config.output, job.rec.batch, job.rec.spec.id);
  FinishTask task;
  task.row_id = job.rec.row_id;
  task.file = std::move(job.file);
  task.expected_bytes = expected_total_bytes(result.response, had_before);
  if (config.output.verify != VideoVerify::off) {
    task.expected = expectation_for(job.rec.spec, m_core.provider().delivered_size(job.rec.spec));
    task.checked_at = m_core.now();
  }
  if (config.output.sidecars && paths) {
    task.sidecar_path = paths->sidecar;
    task.sidecar = [rec = job.rec, now = m_core.now()](const FinishedVideo& video) {
      return sidecar_json(rec, video, now);
    };
  }
  job.in_flight = RequestKind::finishing;
  job.finish_status = result.response.status;
  m_finisher->submit(std::move(task));
  if (m_in_flight == 0 && m_core.scheduler().waiting(WaitQueue::download).empty()) {
    m_finisher->hurry();  // the last video for now: nothing to gather its flush with
  }
}

void Downloader::take_finished(Millis now) {
  for (auto& outcome : m_finisher->take_done()) {
    on_finished(outcome, now);
  }
}

void Downloader::on_finished(FinishOutcome& outcome, Millis now) {
  LiveJob* found = m_core.find(outcome.row_id);
  if (found == nullptr) {
    return;
  }
  LiveJob& job = *found;
  job.in_flight = RequestKind::none;
  if (!outcome.video && outcome.video.error().code == ErrorCode::io) {
    // The disk refused the finished file (fsync, rename, reading it back): downloading it
    // again would meet the same disk, and so would every other video. Stop cleanly instead;
    // the job stays retriable.
    job.file = std::move(outcome.file);
    stop_on_disk_error(job,
                       "cannot save " + job.rec.spec.id + ": " + outcome.video.error().describe(),
                       "fix the output folder");
    return;
  }
  if (!outcome.video) {
    job.file = std::move(outcome.file);
    if (outcome.video.error().code == ErrorCode::protocol) {
      job.file->restart();  // not a video: start over rather than resume
    }
    AnswerClass unusable{AnswerKind::retry,
                         {},
                         failure::download_unusable,
                         outcome.video.error().message};
    m_failures.on_failed(job, RequestPhase::download, unusable, job.finish_status, now);
    return;
  }
  if (!outcome.sidecar_error.empty()) {
    m_core.notice(NoticeKind::sidecar_failed, job.rec.batch + "/" + job.rec.spec.id,
                  "could not write the sidecar: " + outcome.sidecar_error);
  }
  const FinishedVideo& video = *outcome.video;
  JobUpdate update;
  update.output_path = video.path;
  update.bytes = video.bytes;
  update.sha256 = video.sha256;
  update.downloaded_at = now;
  update.error_code = "";
  update.error_message = "";
  if (video.check.checked()) {
    update.check = video.check;
  }
  if (video.check.mismatched() && m_core.config().output.verify == VideoVerify::fail) {
    // Kept where it is, for the user to look at: regenerating is their call (retry --mismatched).
    update.error_code = failure::verify_mismatch;
    update.error_message = mismatch_summary(video.check);
    m_core.transition(job, JobState::failed,
                      "saved " + video.path + " but " + *update.error_message, update,
                      job.finish_status);
  } else {
    m_core.transition(job, JobState::done, "saved " + video.path, update, job.finish_status);
  }
  m_thumbnails.queue(job, now);
  m_core.forget(job);
}

void Downloader::stop_on_disk_error(LiveJob& job, const std::string& message,
                                    const std::string& remedy) {
  job.file->discard();
  job.file.reset();
  m_core.transition(job, JobState::ready, message);
  m_core.set_fatal(Error{ErrorCode::io, message + "; " + remedy, ""});
}

// Any URL it had is forgotten, and its part file dropped (the next download starts over,
// recorded as ready -> downloading).
void Downloader::return_for_status(LiveJob& job, const std::string& message) {
  job.status_fresh = false;
  job.from_ledger = false;
  job.redirect_url.clear();
  if (job.file) {
    job.file->discard();
    job.file.reset();
  }
  if (job.rec.state == JobState::downloading) {
    JobUpdate update;
    update.download = DownloadUrl{};  // refused: no resumed run should try it again
    m_core.transition(job, JobState::ready, message, update);
  }
}

// The job as the ledger holds it once this video is recorded, plus what only the sidecar
// keeps (the orientation asked for).
std::string sidecar_json(const JobRecord& rec, const FinishedVideo& video, Millis now) {
  JobRecord saved = rec;
  saved.state = JobState::done;
  saved.downloaded_at = now;
  saved.bytes = video.bytes;
  saved.sha256 = video.sha256;
  saved.output_path = video.path;
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  put_job_fields(w, saved);
  w.Key("orientation");
  put_json_string(w, to_string(rec.spec.orientation));
  if (video.check.checked()) {  // output.verify = "off" checks nothing
    w.Key("verify");
    const std::string check = to_json(video.check);
    w.RawValue(check.c_str(), check.size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace vb
