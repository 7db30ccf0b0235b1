// The answer half of the run loop: what each finished request means for its job.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "engine/run_loop.h"
#include "http/response_headers.h"
#include "probe/video_check.h"

namespace vb {

namespace {

bool is_json(const HttpResult& r) {
  auto type = r.response.header("content-type");
  return type && type->find("json") != std::string::npos;
}

}  // namespace

void RunEngine::Loop::handle(HttpResult result, Millis now) {
  poll_answered(result.tag, now);
  if (result.tag == k_list_tag) {
    on_list_answer(result, now);
    return;
  }
  if (result.tag == k_sweep_tag) {
    on_sweep_answer(result, now);
    return;
  }
  if (is_thumbnail_tag(result.tag)) {
    on_thumbnail_answer(result, now);
    return;
  }
  if (is_character_tag(result.tag)) {
    on_character_answer(result, now);
    return;
  }
  auto it = m_live.find(static_cast<std::int64_t>(result.tag));
  if (it == m_live.end()) {
    return;
  }
  LiveJob& job = it->second;
  RequestKind kind = job.in_flight;
  job.in_flight = RequestKind::none;
  switch (kind) {
    case RequestKind::submit:
      on_submit_answer(job, result, now);
      break;
    case RequestKind::poll:
      on_poll_answer(job, result, now);
      break;
    case RequestKind::download:
      m_downloads -= 1;
      on_download_answer(job, result, now);
      break;
    case RequestKind::none:
    case RequestKind::finishing:
      break;
  }
}

void RunEngine::Loop::on_submit_answer(LiveJob& job, HttpResult& result, Millis now) {
  if (sent_twice(job, result, now)) {
    return;
  }
  AnswerClass answer = m_e.m_provider.classify(RequestPhase::submit, result, now);
  if (answer.kind != AnswerKind::ok) {
    on_failed_answer(job, RequestPhase::submit, answer, result.response.status, now);
    return;
  }
  auto created = m_e.m_provider.parse_create(result.response);
  if (!created) {
    // An accepted create we cannot read may still have started a video.
    JobUpdate update;
    update.error_code = "create_ambiguous";
    update.error_message = "the create answer could not be read (" +
                           created.error().message + "); a video may have been started";
    transition(job, JobState::ambiguous, *update.error_message, update, result.response.status);
    note_ambiguous(job.rec, job.sent_at, now);
    forget(job);
    return;
  }
  JobUpdate update;
  update.remote_id = created->remote_id;
  update.submitted_at = now;
  update.error_code = "";
  update.error_message = "";
  transition(job, JobState::submitted, "accepted as " + created->remote_id, update,
             result.response.status);
  job.streak(RequestPhase::submit) = {};
  std::int64_t id = job.rec.row_id;
  apply_remote_status(job, created->status, result.response.status, now);
  auto it = m_live.find(id);  // a failed answer has removed the job
  if (it != m_live.end() && (it->second.rec.state == JobState::submitted ||
                             it->second.rec.state == JobState::running)) {
    schedule(it->second, now + it->second.poll_interval);
  }
}

// The guard that does not trust the transport's defence: a paid request whose request line
// went on the wire twice may have been executed twice. Whatever its answer says, the job is
// ambiguous: reconciliation finds the video(s) it made, and never sends it again.
bool RunEngine::Loop::sent_twice(LiveJob& job, const HttpResult& result, Millis now) {
  if (result.request_sends <= 1) {
    return false;
  }
  m_resent += 1;
  const std::string message =
      "the create request went on the wire " + std::to_string(result.request_sends) +
      " times (a layer below vidbatch resent it); the provider may have made and billed more "
      "than one video, so the job is held for reconciliation and never sent again";
  m_e.m_observer.on_notice("WARNING: job " + job.rec.spec.id + ": " + message);
  JobUpdate update;
  update.error_code = "create_resent";
  update.error_message = message;
  transition(job, JobState::ambiguous, message, update, result.response.status);
  note_ambiguous(job.rec, job.sent_at, now);
  forget(job);
  return true;
}

void RunEngine::Loop::on_poll_answer(LiveJob& job, HttpResult& result, Millis now) {
  AnswerClass answer = m_e.m_provider.classify(RequestPhase::poll, result, now);
  if (answer.kind != AnswerKind::ok) {
    on_failed_answer(job, RequestPhase::poll, answer, result.response.status, now);
    return;
  }
  auto status = m_e.m_provider.parse_query(result.response);
  if (!status) {
    // Treat an unreadable answer like a failed poll: retry, then give up.
    AnswerClass unreadable{AnswerKind::retry, {}, "unreadable_answer", status.error().message};
    on_failed_answer(job, RequestPhase::poll, unreadable, result.response.status, now);
    return;
  }
  job.streak(RequestPhase::poll) = {};
  job.unsaved_polls += 1;
  job.poll_directly = false;
  if (job.listed_url) {
    learn_from_listing(*job.listed_url, *status);
    job.listed_url.reset();
  }
  on_status(job, *status, result.response.status, now);
}

// A status learned from the job's own query or from a listing page.
void RunEngine::Loop::on_status(LiveJob& job, const RemoteStatus& status, int http_status,
                                Millis now) {
  std::int64_t id = job.rec.row_id;
  apply_remote_status(job, status, http_status, now);
  auto it = m_live.find(id);  // a failed answer has removed the job
  if (it != m_live.end() && (it->second.rec.state == JobState::submitted ||
                             it->second.rec.state == JobState::running)) {
    LiveJob& live = it->second;
    if (now - live.rec.submitted_at > m_e.m_config.limits.job_timeout_ms &&
        live.rec.submitted_at > 0) {
      if (m_e.m_config.limits.on_job_timeout == "fail") {
        fail_job(live, "timeout",
                 "no result from the provider " +
                     std::to_string((now - live.rec.submitted_at) / 1000) +
                     " s after it accepted the job (limits.job_timeout_ms)");
        return;
      }
      if (!live.timeout_noted) {
        live.timeout_noted = true;
        m_e.m_observer.on_notice("job " + live.rec.spec.id +
                                 " passed limits.job_timeout_ms; still polling it");
      }
    }
    live.poll_interval =
        std::min(m_e.m_config.limits.poll_interval_max_ms, live.poll_interval * 3 / 2);
    schedule(live, now + live.poll_interval);
  }
}

void RunEngine::Loop::apply_remote_status(LiveJob& job, const RemoteStatus& status,
                                          int http_status, Millis now) {
  JobUpdate update;
  update.progress = status.progress;
  switch (status.phase) {
    case RemotePhase::queued:
      break;
    case RemotePhase::unknown:
      if (!job.unknown_status_noted) {
        job.unknown_status_noted = true;
        m_e.m_observer.on_notice("job " + job.rec.spec.id + ": unknown status '" +
                                 status.raw_status + "', treated as still running");
      }
      break;
    case RemotePhase::running:
      if (job.rec.state == JobState::submitted) {
        transition(job, JobState::running, "generating", update, http_status);
      }
      break;
    case RemotePhase::completed:
      job.last = status;
      job.status_fresh = true;
      if (job.rec.state != JobState::ready) {
        update.progress = 100.0;
        update.completed_at = now;
        transition(job, JobState::ready, "generation completed", update, http_status);
      }
      schedule(job, now);
      break;
    case RemotePhase::failed:
      fail_job(job, status.error_code,
               status.error_message.empty() ? "the provider reported the video as failed ('" +
                                                  status.raw_status + "')"
                                            : status.error_message,
               http_status);
      break;
  }
}

void RunEngine::Loop::on_download_answer(LiveJob& job, HttpResult& result, Millis now) {
  const bool success = result.failure == TransportFailure::none &&
                       result.response.status / 100 == 2;
  if (success && is_json(result) && job.redirects < 3) {
    // Some gateways answer /content with JSON naming the real URL.
    auto url = m_e.m_provider.parse_content_redirect(job.file->head());
    if (url && job.file->restart()) {
      job.redirect_url = *url;
      job.redirects += 1;
      schedule(job, now);
      return;
    }
  }
  if (result.failure == TransportFailure::none && result.response.status == 416) {
    // Our Range starts at the end: either every byte is already here, or the file is off.
    std::int64_t total = expected_total_bytes(result.response, job.file->size());
    if (total == job.file->size()) {
      finish_download(job, result, now);
      return;
    }
    job.file->restart();
    AnswerClass refused{AnswerKind::retry, {}, "http_416",
                        "the server refused the resume range (HTTP 416); starting over"};
    on_failed_answer(job, RequestPhase::download, refused, 416, now);
    return;
  }
  on_request_failed(job, RequestPhase::download, result, now);
}

void RunEngine::Loop::finish_download(LiveJob& job, const HttpResult& result, Millis) {
  std::int64_t had_before = job.file->size() - result.body_bytes;
  auto paths = output_paths(m_e.m_config.output, job.rec.batch, job.rec.spec.id);
  FinishTask task;
  task.row_id = job.rec.row_id;
  task.file = std::move(job.file);
  task.expected_bytes = expected_total_bytes(result.response, had_before);
  if (m_e.m_config.output.verify != "off") {
    task.expected = expectation_for(job.rec.spec, m_e.m_provider.delivered_size(job.rec.spec));
    task.checked_at = m_e.m_clock.now_ms();
  }
  if (m_e.m_config.output.sidecars && paths) {
    task.sidecar_path = paths->sidecar;
    task.sidecar = [rec = job.rec, now = m_e.m_clock.now_ms()](const FinishedVideo& video) {
      return sidecar_json(rec, video, now);
    };
  }
  job.in_flight = RequestKind::finishing;
  job.finish_status = result.response.status;
  m_finisher->submit(std::move(task));
  if (m_downloads == 0 && m_downloads_waiting.empty()) {
    m_finisher->hurry();  // the last video for now: nothing to gather its flush with
  }
}

void RunEngine::Loop::on_finished(FinishOutcome& outcome, Millis now) {
  auto it = m_live.find(outcome.row_id);
  if (it == m_live.end()) {
    return;
  }
  LiveJob& job = it->second;
  job.in_flight = RequestKind::none;
  if (!outcome.video && outcome.video.error().code == ErrorCode::io) {
    // The disk refused the finished file (fsync, rename, reading it back): downloading it
    // again would meet the same disk, and so would every other video. Stop cleanly instead;
    // the job stays retriable.
    job.file = std::move(outcome.file);
    stop_on_disk_error(job, "cannot save " + job.rec.spec.id + ": " + outcome.video.error().describe(),
                       "fix the output folder");
    return;
  }
  if (!outcome.video) {
    job.file = std::move(outcome.file);
    if (outcome.video.error().code == ErrorCode::protocol) {
      job.file->restart();  // not a video: start over rather than resume
    }
    AnswerClass unusable{AnswerKind::retry, {}, "download_unusable",
                         outcome.video.error().message};
    on_failed_answer(job, RequestPhase::download, unusable, job.finish_status, now);
    return;
  }
  if (!outcome.sidecar_error.empty()) {
    m_e.m_observer.on_notice("could not write the sidecar: " + outcome.sidecar_error);
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
  if (video.check.mismatched() && m_e.m_config.output.verify == "fail") {
    // Kept where it is, for the user to look at: regenerating is their call (retry --mismatched).
    update.error_code = "verify_mismatch";
    update.error_message = mismatch_summary(video.check);
    transition(job, JobState::failed, "saved " + video.path + " but " + *update.error_message,
               update, job.finish_status);
  } else {
    transition(job, JobState::done, "saved " + video.path, update, job.finish_status);
  }
  queue_thumbnail(job, now);
  forget(job);
}

// A disk error is every video's: the job goes back to `ready` (its part file deleted) and
// the run stops with what to do.
void RunEngine::Loop::stop_on_disk_error(LiveJob& job, const std::string& message,
                                         const std::string& remedy) {
  job.file->discard();
  job.file.reset();
  transition(job, JobState::ready, message);
  set_fatal(Error{ErrorCode::io, message + "; " + remedy + " and run `vidbatch resume`", ""});
}

// A finished request that did not succeed: a download the disk refused stops the run;
// everything else is what the provider's classification says (finish_download on success).
void RunEngine::Loop::on_request_failed(LiveJob& job, RequestPhase phase, const HttpResult& result,
                                        Millis now) {
  if (phase == RequestPhase::download && job.file && !job.file->write_error().empty()) {
    // Disk full or similar: the job stays retriable and the run stops cleanly.
    stop_on_disk_error(job, "cannot write " + job.rec.spec.id + ": " + job.file->write_error(),
                       "free some space");
    return;
  }
  AnswerClass answer = m_e.m_provider.classify(phase, result, now);
  if (answer.kind == AnswerKind::ok) {
    finish_download(job, result, now);
    return;
  }
  on_failed_answer(job, phase, answer, result.response.status, now);
}

void RunEngine::Loop::slow_down(RequestPhase phase, Millis until) {
  (phase == RequestPhase::submit ? m_submit_limiter : m_poll_limiter).cool_down_until(until);
}

void RunEngine::Loop::on_failed_answer(LiveJob& job, RequestPhase phase, const AnswerClass& answer,
                                       int http_status, Millis now) {
  const bool expired = answer.kind == AnswerKind::expired;
  if (expired && job.by_id) {
    // Fetched by id, no status asked this run: not a failed attempt, only a sign that the
    // stored completion needs its own answer now.
    return_for_status(job, "download by id refused (" + answer.detail + "); asking for its status");
    schedule(job, now);
    return;
  }
  FailureStreak& streak = job.streak(phase);
  if (answer.kind != AnswerKind::slow_down) {
    streak.count(now);
  }
  RetryDecision d = decide_retry(m_e.m_config.retry, phase, streak, answer, now, jitter());
  if (answer.kind == AnswerKind::slow_down) {
    // The provider's pacing is everyone's: slow the whole queue down, fail nobody.
    slow_down(phase, now + std::max<Millis>(d.delay_ms, 1000));
  }
  switch (d.verdict) {
    case Verdict::stop_run: {
      if (phase == RequestPhase::submit) {
        transition(job, JobState::queued, d.reason, {}, http_status);
      }
      forget(job);
      set_fatal(Error{ErrorCode::auth, d.reason, ""});
      return;
    }
    case Verdict::ambiguous: {
      JobUpdate update;
      update.error_code = d.error_code;
      update.error_message = d.reason;
      transition(job, JobState::ambiguous, d.reason, update, http_status);
      note_ambiguous(job.rec, job.sent_at, now);
      forget(job);
      return;
    }
    case Verdict::give_up:
      fail_job(job, d.error_code, d.reason, http_status);
      return;
    case Verdict::retry:
      break;
  }
  job.unsaved_retries += 1;
  if (phase == RequestPhase::submit) {
    JobUpdate update;
    update.not_before = now + d.delay_ms;
    update.error_code = d.error_code;
    update.error_message = d.reason;
    transition(job, JobState::queued, "create not accepted (" + d.reason + "); retrying", update,
               http_status);
  } else if (expired) {
    return_for_status(job, "download refused (" + answer.detail + "); fetching a fresh status");
  }
  schedule(job, now + d.delay_ms);
}

// A refused download goes back to `ready` to learn a fresh status: any URL it had is
// forgotten, and its part file dropped (the next download starts over, recorded as
// ready -> downloading).
void RunEngine::Loop::return_for_status(LiveJob& job, const std::string& message) {
  job.status_fresh = false;
  job.by_id = false;
  job.redirect_url.clear();
  if (job.file) {
    job.file->discard();
    job.file.reset();
  }
  if (job.rec.state == JobState::downloading) {
    transition(job, JobState::ready, message);
  }
}

void RunEngine::Loop::fail_job(LiveJob& job, const std::string& code, const std::string& message,
                               int http_status) {
  JobUpdate update;
  update.error_code = code;
  update.error_message = message;
  transition(job, JobState::failed, message, update, http_status);
  forget(job);
}

std::string sidecar_json(const JobRecord& rec, const FinishedVideo& video, Millis now) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  const JobSpec& spec = rec.spec;
  w.StartObject();
  str("batch", rec.batch);
  str("id", spec.id);
  str("prompt", spec.prompt);
  str("model", spec.model);
  w.Key("seconds");
  w.Int(spec.seconds);
  str("orientation", to_string(spec.orientation));
  str("size", spec.size);
  str("remote_id", rec.remote_id);
  str("submitted_at", format_iso8601(rec.submitted_at));
  str("completed_at", format_iso8601(rec.completed_at));
  str("downloaded_at", format_iso8601(now));
  w.Key("bytes");
  w.Int64(video.bytes);
  if (!video.sha256.empty()) {  // output.checksum = "none" computes none
    str("sha256", video.sha256);
  }
  if (video.check.checked()) {  // output.verify = "off" checks nothing
    w.Key("verify");
    const std::string check = to_json(video.check);
    w.RawValue(check.c_str(), check.size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace vb
