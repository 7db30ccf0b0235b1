// Status by listing (limits.poll_by_listing): where the dialect lists videos,
// due jobs wait for a sweep of GET /videos pages (100 videos each, one poll
// token per page) instead of one query each. A page says "still queued or
// running". A job it shows failed, and a job no page showed, gets its own query
// next, so error details come from the answer the dialect defines for them. A
// job it shows completed does too, until one such query has answered with the
// same download URL as the page (none, for OpenAI's Video objects): from then
// on a completed entry stands for the job's own answer.
#include <algorithm>

#include "engine/run_loop.h"

namespace vb {

namespace {

constexpr std::size_t k_page_size = 100;   // the dialect's list_request asks for 100
constexpr int k_extra_pages = 3;           // for other clients' videos between ours
constexpr int k_failures_to_stop = 3;      // pages failed in a row
constexpr int k_empty_sweeps_to_stop = 3;  // sweeps in a row that found none of their jobs

bool still_generating(RemotePhase phase) {
  return phase == RemotePhase::queued || phase == RemotePhase::running;
}

}  // namespace

bool RunEngine::Loop::sweep_enabled() const {
  return !m_sweep_off && m_e.m_config.limits.poll_by_listing && m_e.m_provider.can_list();
}

bool RunEngine::Loop::sweep_wants_page() const {
  return sweep_enabled() && !m_sweep.in_flight && (m_sweep.active || !m_sweep_waiting.empty());
}

void RunEngine::Loop::advance_sweep(Millis now) {
  if (!sweep_wants_page()) {
    return;
  }
  if (!m_sweep.active) {
    std::erase_if(m_sweep_waiting, [this](const Timer& t) { return due_job(t) == nullptr; });
    if (m_sweep_waiting.empty()) {
      return;
    }
  }
  if (!poll_may_start(now)) {
    return;
  }
  if (!m_sweep.active) {
    begin_sweep();
  }
  HttpRequest request = m_e.m_provider.list_request(m_sweep.after);
  request.timeout_ms = m_e.m_config.http.request_timeout_ms;
  m_sweep.in_flight = true;
  poll_sent(k_sweep_tag, now);
  m_e.m_transport.start(std::move(request), k_sweep_tag);
}

void RunEngine::Loop::begin_sweep() {
  m_sweep = Sweep{};
  m_sweep.active = true;
  m_sweep.targets = std::move(m_sweep_waiting);
  m_sweep_waiting.clear();
  for (const auto& [row_id, job] : m_live) {
    bool at_provider = job.rec.state == JobState::submitted || job.rec.state == JobState::running;
    if (at_provider && !job.rec.remote_id.empty()) {
      m_sweep.by_remote_id.emplace(job.rec.remote_id, row_id);
    }
  }
  m_sweep.max_pages =
      static_cast<int>(m_sweep.by_remote_id.size() / k_page_size) + 1 + k_extra_pages;
}

void RunEngine::Loop::on_sweep_answer(HttpResult& result, Millis now) {
  m_sweep.in_flight = false;
  AnswerClass answer = m_e.m_provider.classify(RequestPhase::list, result, now);
  auto page = answer.kind == AnswerKind::ok
                  ? m_e.m_provider.parse_list(result.response)
                  : Result<RemotePage>(fail(ErrorCode::http, answer.detail));
  if (!page) {
    if (answer.kind == AnswerKind::rejected || ++m_sweep_failures >= k_failures_to_stop) {
      stop_sweeping("the provider does not list videos here (" + page.error().message + ")");
    }
    end_sweep();
    return;
  }
  m_sweep_failures = 0;
  m_sweep.pages += 1;
  for (const auto& video : page->videos) {
    auto seen = m_sweep.by_remote_id.find(video.id);
    if (seen == m_sweep.by_remote_id.end()) {
      continue;  // not ours, or already seen on an earlier page
    }
    auto it = m_live.find(seen->second);
    m_sweep.by_remote_id.erase(seen);
    if (it == m_live.end() || it->second.in_flight != RequestKind::none) {
      continue;
    }
    LiveJob& job = it->second;
    if (job.rec.state != JobState::submitted && job.rec.state != JobState::running) {
      continue;
    }
    m_sweep.found += 1;
    const bool completed = video.status.phase == RemotePhase::completed;
    if (still_generating(video.status.phase) ||
        (completed && m_listed_answers == ListedAnswers::final)) {
      on_status(job, video.status, result.response.status, now);
    } else {
      if (completed) {
        job.listed_url = video.status.video_url;
      }
      job.poll_directly = true;  // its own answer carries the URL or the error
      schedule(job, now);
    }
  }
  bool targets_left = std::any_of(m_sweep.targets.begin(), m_sweep.targets.end(),
                                  [this](const Timer& t) { return due_job(t) != nullptr; });
  if (page->has_more && targets_left && !m_sweep.by_remote_id.empty() &&
      m_sweep.pages < m_sweep.max_pages) {
    m_sweep.after = page->last_id;
    return;  // advance_sweep() asks for the next page
  }
  end_sweep();
}

// Jobs the sweep did not find are queried one by one this time.
void RunEngine::Loop::end_sweep() {
  int unseen = 0;
  for (const Timer& target : m_sweep.targets) {
    if (LiveJob* job = due_job(target)) {
      job->poll_directly = true;
      m_polls_waiting.push_back(target);
      unseen += 1;
    }
  }
  bool found_none = m_sweep.found == 0 && unseen > 0;
  m_sweeps_empty = found_none ? m_sweeps_empty + 1 : 0;
  m_sweep = Sweep{};
  if (m_sweeps_empty >= k_empty_sweeps_to_stop && !m_sweep_off) {
    stop_sweeping("the provider's listing does not show this run's videos");
  }
}

void RunEngine::Loop::learn_from_listing(const std::string& listed_url,
                                         const RemoteStatus& answer) {
  if (m_listed_answers == ListedAnswers::unverified && answer.phase == RemotePhase::completed) {
    m_listed_answers =
        answer.video_url == listed_url ? ListedAnswers::final : ListedAnswers::not_final;
  }
}

void RunEngine::Loop::stop_sweeping(const std::string& why) {
  if (m_sweep_off) {
    return;
  }
  m_sweep_off = true;
  m_e.m_observer.on_notice(why + "; querying each job's status instead");
  for (const Timer& t : m_sweep_waiting) {
    m_polls_waiting.push_back(t);
  }
  m_sweep_waiting.clear();
}

}  // namespace vb
