// Status queries: a due job's own GET of its status, and what any status (of a query, a
// create answer or a listing page) means for the job.
#include <algorithm>

#include "engine/run_parts.h"
#include "job/failure_codes.h"

namespace vb {

StatusPolls::StatusPolls(RunCore& core, FailedRequests& failures, ListingSweep& sweep)
    : m_core(core), m_failures(failures), m_sweep(sweep) {}

void StatusPolls::start_waiting(Millis now) {
  m_sweep.advance(now);  // first: one page may answer for a hundred jobs
  auto& waiting = m_core.scheduler().waiting(WaitQueue::poll);
  while (!waiting.empty()) {
    LiveJob* job = m_core.due_job(waiting.front());
    if (job == nullptr) {
      waiting.pop_front();
      continue;
    }
    if (!m_core.status_may_start(now)) {
      return;
    }
    waiting.pop_front();
    start(*job, now);
  }
}

void StatusPolls::start(LiveJob& job, Millis now) {
  if (m_core.provider().streams_create()) {
    // No status query (chat): the link its stream named is all there is, fetched again until
    // the download attempts are spent. Without a link, nothing can follow the job.
    if (job.rec.state == JobState::ready) {
      job.status_fresh = true;
      m_core.schedule(job, now);
    } else {
      m_core.fail_job(job, failure::create_ambiguous,
                      "its stream is gone and the dialect has no status query; a video may "
                      "have been made (vidbatch retry makes it again)");
    }
    return;
  }
  job.in_flight = RequestKind::poll;
  m_core.send(m_core.provider().query_request(job.rec.spec, job.rec.remote_id), Traffic::status,
              *this, job.rec.row_id, now);
}

void StatusPolls::on_answer(std::int64_t row_id, HttpResult& result, Millis now) {
  LiveJob* found = m_core.answered(row_id);
  if (found == nullptr) {
    return;
  }
  LiveJob& job = *found;
  auto status = m_failures.read_poll_answer(job, result, now, [this](const HttpResponse& r) {
    return m_core.provider().parse_query(r);
  });
  if (!status) {
    return;
  }
  job.streak(RequestPhase::poll) = {};
  job.unsaved_polls += 1;
  job.poll_directly = false;
  if (job.listed_url) {
    m_sweep.learn(*job.listed_url, *status);
    job.listed_url.reset();
  }
  on_status(job, *status, result.response.status, now);
}

void StatusPolls::on_status(LiveJob& job, const RemoteStatus& status, int http_status, Millis now) {
  apply(job, status, http_status, now);
  if (job.forgotten ||
      (job.rec.state != JobState::submitted && job.rec.state != JobState::running)) {
    return;
  }
  const LimitsConfig& limits = m_core.config().limits;
  if (now - job.rec.submitted_at > limits.job_timeout_ms && job.rec.submitted_at > 0) {
    if (limits.on_job_timeout == JobTimeoutAction::fail) {
      m_core.fail_job(job, failure::timeout,
                      "no result from the provider " +
                          std::to_string((now - job.rec.submitted_at) / 1000) +
                          " s after it accepted the job (limits.job_timeout_ms)");
      return;
    }
    if (!job.timeout_noted) {
      job.timeout_noted = true;
      m_core.notice(NoticeKind::job_timeout, job.rec.batch + "/" + job.rec.spec.id,
                    "job " + job.rec.spec.id + " passed limits.job_timeout_ms; still polling it");
    }
  }
  job.poll_interval = std::min(limits.poll_interval_max_ms, job.poll_interval * 3 / 2);
  m_core.schedule(job, now + job.poll_interval);
}

void StatusPolls::apply(LiveJob& job, const RemoteStatus& status, int http_status, Millis now) {
  JobUpdate update;
  update.progress = status.progress;
  switch (status.phase) {
    case RemotePhase::queued:
      break;
    case RemotePhase::lost:
      on_lost(job, status);
      break;
    case RemotePhase::unknown:
      if (!job.unknown_status_noted) {
        job.unknown_status_noted = true;
        m_core.notice(NoticeKind::unknown_status, job.rec.batch + "/" + job.rec.spec.id,
                      "job " + job.rec.spec.id + ": unknown status '" + status.raw_status +
                          "', treated as still running");
      }
      break;
    case RemotePhase::running:
      if (job.rec.state == JobState::submitted) {
        m_core.transition(job, JobState::running, "generating", update, http_status);
      }
      break;
    case RemotePhase::completed:
      job.last = status;
      job.status_fresh = true;
      if (job.rec.state != JobState::ready) {
        update.progress = 100.0;
        update.completed_at = now;
        // A new completion's URL (or none yet: MiniMax's comes from files/retrieve) replaces
        // whatever an earlier generation of the job left in the ledger.
        update.download = DownloadUrl{status.video_url, status.expires_at.value_or(0), now};
        m_core.transition(job, JobState::ready, "generation completed", update, http_status);
      }
      m_core.schedule(job, now);
      break;
    case RemotePhase::failed:
      m_core.fail_job(job, status.error_code,
                      status.error_message.empty()
                          ? "the provider reported the video as failed ('" + status.raw_status +
                                "')"
                          : status.error_message,
                      http_status);
      break;
  }
}

void StatusPolls::on_lost(LiveJob& job, const RemoteStatus& status) {
  const std::string what =
      "the provider does not know task " + job.rec.remote_id + " ('" + status.raw_status + "')";
  if (!m_sweep.may_list()) {
    hold_lost(job, what + " and has no listing to find it in");
    return;
  }
  if (job.lost_listed_done) {
    hold_lost(job, what + "; its listing shows it completed but names no URL");
    return;
  }
  if (!job.lost) {
    job.lost = true;
    m_core.notice(NoticeKind::task_lost, job.rec.batch + "/" + job.rec.spec.id,
                  "job " + job.rec.spec.id + ": " + what + "; looking for it in the listing");
  }
}

void StatusPolls::hold_lost(LiveJob& job, const std::string& why) {
  const std::string message = why + "; never created again (vidbatch resolve decides)";
  JobUpdate update;
  update.error_code = failure::task_lost;
  update.error_message = message;
  m_core.transition(job, JobState::ambiguous, message, update);
  m_core.forget(job);
}

}  // namespace vb
