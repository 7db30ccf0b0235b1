// Status by listing (limits.poll_by_listing): see ListingSweep in engine/run_parts.h.
#include <algorithm>

#include "engine/run_parts.h"

namespace vb {

namespace {

constexpr std::size_t k_page_size = 100;   // the dialect's list_request asks for 100
constexpr int k_extra_pages = 3;           // for other clients' videos between ours
constexpr int k_failures_to_stop = 3;      // pages failed in a row
constexpr int k_empty_sweeps_to_stop = 3;  // sweeps in a row that found none of their jobs

bool still_generating(RemotePhase phase) {
  return phase == RemotePhase::queued || phase == RemotePhase::running;
}

bool at_provider(const LiveJob& job) {
  return job.rec.state == JobState::submitted || job.rec.state == JobState::running;
}

}  // namespace

ListingSweep::ListingSweep(RunCore& core, StatusPolls& polls)
    : m_core(core), m_polls(polls), m_pages(core) {}

bool ListingSweep::may_list() const {
  return !m_off && m_core.provider().can_list();
}

bool ListingSweep::enabled() const {
  return may_list() && m_core.config().limits.poll_by_listing;
}

bool ListingSweep::wants_page() const {
  return may_list() && !m_pages.in_flight() &&
         (m_active || !m_core.scheduler().waiting(WaitQueue::sweep).empty());
}

void ListingSweep::advance(Millis now) {
  if (!wants_page()) {
    return;
  }
  auto& waiting = m_core.scheduler().waiting(WaitQueue::sweep);
  if (!m_active) {
    std::erase_if(waiting, [this](const Timer& t) { return m_core.due_job(t) == nullptr; });
    if (waiting.empty()) {
      return;
    }
  }
  if (!m_core.status_may_start(now)) {
    return;
  }
  if (!m_active) {
    begin();
  }
  m_pages.send_next(*this, Traffic::status, now);
}

void ListingSweep::begin() {
  auto& waiting = m_core.scheduler().waiting(WaitQueue::sweep);
  m_active = true;
  m_targets.assign(waiting.begin(), waiting.end());
  waiting.clear();
  m_by_remote_id.clear();
  m_found = 0;
  m_pages.restart();
  const bool sweeping = enabled();
  m_core.each_live([this, sweeping](LiveJob& job) {
    if (at_provider(job) && !job.rec.remote_id.empty() && (sweeping || job.lost)) {
      m_by_remote_id.emplace(job.rec.remote_id, job.rec.row_id);
    }
  });
  m_max_pages = static_cast<int>(m_by_remote_id.size() / k_page_size) + 1 + k_extra_pages;
}

void ListingSweep::on_answer(std::int64_t, HttpResult& result, Millis now) {
  AnswerKind kind = AnswerKind::ok;
  auto page = m_pages.read(result, now, kind);
  if (!page) {
    const bool counts = kind != AnswerKind::slow_down;  // pacing, not a missing listing
    if (kind == AnswerKind::rejected || (counts && ++m_failures >= k_failures_to_stop)) {
      stop_sweeping("the provider does not list videos here (" + page.error().message + ")");
    }
    end(false, now);
    return;
  }
  m_failures = 0;
  for (const auto& video : page->videos) {
    auto seen = m_by_remote_id.find(video.id);
    if (seen == m_by_remote_id.end()) {
      continue;  // not ours, or already seen on an earlier page
    }
    LiveJob* found = m_core.find(seen->second);
    m_by_remote_id.erase(seen);
    if (found == nullptr || found->in_flight != RequestKind::none || !at_provider(*found)) {
      continue;
    }
    LiveJob& job = *found;
    m_found += 1;
    if (job.lost) {
      settle_lost(job, video.status, result.response.status, now);
      continue;
    }
    const bool completed = video.status.phase == RemotePhase::completed;
    if (still_generating(video.status.phase) ||
        (completed && m_listed_answers == ListedAnswers::final)) {
      m_polls.on_status(job, video.status, result.response.status, now);
    } else {
      if (completed) {
        job.listed_url = video.status.video_url;
      }
      job.poll_directly = true;  // its own answer carries the URL or the error
      m_core.schedule(job, now);
    }
  }
  bool targets_left = std::any_of(m_targets.begin(), m_targets.end(),
                                  [this](const Timer& t) { return m_core.due_job(t) != nullptr; });
  if (page->has_more && targets_left && !m_by_remote_id.empty() && m_pages.pages() < m_max_pages) {
    return;  // advance() asks for the next page
  }
  end(true, now);
}

// A job whose id the provider lost, found in the listing: the status there is all there is. A
// completed entry without a URL proves the video was made: its own query is asked once more.
void ListingSweep::settle_lost(LiveJob& job, const RemoteStatus& listed, int http_status,
                               Millis now) {
  if (listed.phase == RemotePhase::completed && listed.video_url.empty()) {
    job.lost_listed_done = true;
    job.poll_directly = true;
    m_core.schedule(job, now);
    return;
  }
  m_polls.on_status(job, listed, http_status, now);
}

// Jobs the sweep did not find are queried one by one this time; a job whose id the provider
// lost is held, unless a failed page cut the walk short (then it is looked for again).
void ListingSweep::end(bool walked, Millis now) {
  int unseen = 0;
  auto& polls = m_core.scheduler().waiting(WaitQueue::poll);
  for (const Timer& target : m_targets) {
    if (LiveJob* job = m_core.due_job(target)) {
      if (job->lost && (walked || !may_list())) {
        m_polls.hold_lost(*job, "the provider does not know task " + job->rec.remote_id +
                                    (walked ? " and its listing does not show it"
                                            : " and its listing cannot be read"));
        continue;
      }
      if (job->lost) {
        m_core.schedule(*job, now + job->poll_interval);
        continue;
      }
      job->poll_directly = true;
      polls.push_back(target);
      unseen += 1;
    }
  }
  bool found_none = m_found == 0 && unseen > 0;
  m_empty_sweeps = found_none ? m_empty_sweeps + 1 : 0;
  m_active = false;
  m_targets.clear();
  m_by_remote_id.clear();
  m_found = 0;
  if (m_empty_sweeps >= k_empty_sweeps_to_stop && !m_off) {
    stop_sweeping("the provider's listing does not show this run's videos");
  }
}

void ListingSweep::learn(const std::string& listed_url, const RemoteStatus& answer) {
  if (m_listed_answers == ListedAnswers::unverified && answer.phase == RemotePhase::completed) {
    m_listed_answers = answer.video_url == listed_url ? ListedAnswers::final
                                                      : ListedAnswers::not_final;
  }
}

void ListingSweep::stop_sweeping(const std::string& why) {
  if (m_off) {
    return;
  }
  m_off = true;
  m_core.notice(NoticeKind::sweep_off, m_core.config().provider.name,
                why + "; querying each job's status instead");
  auto& sweep = m_core.scheduler().waiting(WaitQueue::sweep);
  auto& polls = m_core.scheduler().waiting(WaitQueue::poll);
  polls.insert(polls.end(), sweep.begin(), sweep.end());
  sweep.clear();
}

}  // namespace vb
