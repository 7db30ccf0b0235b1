// When requests start: timers of live jobs, the first-come queues due jobs wait in (for a
// poll token, a free connection, a download slot), and the start of polls and downloads.
#include "engine/run_loop.h"

namespace vb {

namespace {

// Generating at the provider: what a listing page can answer for. A `ready` job whose
// stored status is stale (a resumed run) needs its own answer's URL.
bool generating(JobState s) {
  return s == JobState::submitted || s == JobState::running;
}

}  // namespace

void RunEngine::Loop::schedule(LiveJob& job, Millis at) {
  job.due = at;
  job.timer_seq += 1;
  m_timers.push(Timer{at, job.rec.row_id, job.timer_seq});
}

// Due jobs whose request cannot start yet (no poll token, no free connection, every download
// slot busy) wait in first-come queues rather than being re-timed: fair, and no heap churn.
void RunEngine::Loop::run_timers(Millis now) {
  while (!m_timers.empty() && m_timers.top().at <= now) {
    Timer timer = m_timers.top();
    m_timers.pop();
    LiveJob* job = due_job(timer);
    if (job == nullptr) {
      continue;  // superseded
    }
    if (job->rec.state == JobState::queued) {
      // A create retry is due: back to the submission queue, first in line.
      m_submit_failures[job->rec.row_id] = job->streak(RequestPhase::submit);
      m_queue.push_front(job->rec);
      m_live.erase(timer.row_id);
      continue;
    }
    bool download = (job->rec.state == JobState::ready && (job->status_fresh || job->by_id)) ||
                    job->rec.state == JobState::downloading;
    if (download) {
      m_downloads_waiting.push_back(timer);
    } else if (sweep_enabled() && !job->poll_directly && generating(job->rec.state)) {
      m_sweep_waiting.push_back(timer);
    } else {
      m_polls_waiting.push_back(timer);
    }
  }
  start_waiting_downloads(now);
  start_waiting_polls(now);
}

LiveJob* RunEngine::Loop::due_job(const Timer& timer) {
  auto it = m_live.find(timer.row_id);
  if (it == m_live.end() || it->second.timer_seq != timer.seq ||
      it->second.in_flight != RequestKind::none) {
    return nullptr;
  }
  return &it->second;
}

void RunEngine::Loop::start_waiting_downloads(Millis now) {
  const auto slots = static_cast<std::size_t>(m_e.m_config.limits.max_downloads);
  while (!m_downloads_waiting.empty() && m_downloads < slots && !m_fatal) {
    LiveJob* job = due_job(m_downloads_waiting.front());
    m_downloads_waiting.pop_front();
    if (job != nullptr) {
      start_download(*job, now);
    }
  }
}

// The poll token is taken only when the request can go on the wire at once: a poll left
// waiting inside the transport for a connection would reach the provider late, bunched with
// others, and break the rate the token bucket promised.
void RunEngine::Loop::start_waiting_polls(Millis now) {
  advance_sweep(now);  // first: one page may answer for a hundred jobs
  while (!m_polls_waiting.empty()) {
    LiveJob* job = due_job(m_polls_waiting.front());
    if (job == nullptr) {
      m_polls_waiting.pop_front();
      continue;
    }
    if (!poll_may_start(now)) {
      return;
    }
    m_polls_waiting.pop_front();
    start_poll(*job, now);
  }
}

bool RunEngine::Loop::connection_free(std::size_t reserved) const {
  return m_e.m_transport.in_flight() + reserved < k_connections_per_origin;
}

// Takes a poll token when a status request (query or listing page) may leave now.
bool RunEngine::Loop::poll_may_start(Millis now) {
  return connection_free() && m_poll_concurrency.may_start(m_polls_sent.size()) &&
         m_poll_limiter.try_take(now);
}

void RunEngine::Loop::poll_sent(std::uint64_t tag, Millis now) {
  m_polls_sent[tag] = now;
}

// By tag, not by job: the answer counts even when its job has left the loop meanwhile.
void RunEngine::Loop::poll_answered(std::uint64_t tag, Millis now) {
  auto it = m_polls_sent.find(tag);
  if (it != m_polls_sent.end()) {
    m_poll_concurrency.record(now - it->second);
    m_polls_sent.erase(it);
  }
}

void RunEngine::Loop::start_poll(LiveJob& job, Millis now) {
  HttpRequest request = m_e.m_provider.query_request(job.rec.remote_id);
  request.timeout_ms = m_e.m_config.http.request_timeout_ms;
  job.in_flight = RequestKind::poll;
  poll_sent(static_cast<std::uint64_t>(job.rec.row_id), now);
  m_e.m_transport.start(std::move(request), static_cast<std::uint64_t>(job.rec.row_id));
}

void RunEngine::Loop::start_download(LiveJob& job, Millis) {
  if (!job.file) {
    auto paths = output_paths(m_e.m_config.output, job.rec.batch, job.rec.spec.id);
    auto file = paths ? VideoFile::create(*paths, m_e.m_config.output.checksum)
                      : Result<std::unique_ptr<VideoFile>>(std::unexpected(paths.error()));
    if (!file) {
      // The disk refuses files: every job would fail the same way, so stop the run.
      set_fatal(file.error());
      return;
    }
    job.file = std::move(*file);
    transition(job, JobState::downloading, "downloading");
  }
  HttpRequest request = m_e.m_provider.download_request(job.rec.remote_id, job.last);
  if (!job.redirect_url.empty()) {
    request = HttpRequest{};
    request.url = job.redirect_url;
    request.with_auth = true;  // dropped by the transport unless it is the provider's origin
  }
  request.sink = job.file.get();
  request.range_from = job.file->size();
  request.timeout_ms = m_e.m_config.http.download_timeout_ms;
  request.low_speed_time_ms = m_e.m_config.http.low_speed_time_ms;
  job.in_flight = RequestKind::download;
  m_downloads += 1;
  m_e.m_transport.start(std::move(request), static_cast<std::uint64_t>(job.rec.row_id));
}

}  // namespace vb
