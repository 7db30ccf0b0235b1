// Ambiguous creates: the listing-based reconciliation of the run.
#include <algorithm>

#include "engine/run_parts.h"
#include "job/failure_codes.h"

namespace vb {

namespace {

constexpr int k_max_listing_pages = 20;
constexpr int k_failures_to_give_up = 5;
constexpr Millis k_reconcile_retry_ms = 2000;

}  // namespace

Reconciliation::Reconciliation(RunCore& core, Submitter& submitter)
    : m_core(core), m_submitter(submitter), m_pages(core) {}

Status Reconciliation::load() {
  m_jobs.clear();
  const JobState ambiguous[] = {JobState::ambiguous};
  JobStore& store = m_core.store();
  return m_core.each_stored(ambiguous, [&](JobRecord rec) -> Status {
    // A job created and then lost by the provider (its id unknown, its listing silent): no
    // listing can prove that it never started, so only `vidbatch resolve` decides.
    if (m_left_to_user.contains(rec.row_id) || rec.error_code == failure::task_lost) {
      return {};
    }
    auto sent = store.last_entered(rec.row_id, JobState::submitting);
    auto found = store.last_entered(rec.row_id, JobState::ambiguous);
    if (!sent || !found) {
      return std::unexpected(!sent ? sent.error() : found.error());
    }
    m_jobs.push_back(
        {{rec.row_id, rec.spec, job_key(rec.batch, rec.spec.id), *sent, *found}, std::move(rec)});
    return {};
  });
}

void Reconciliation::hold(LiveJob& job, const std::string& code, const std::string& message,
                          int http_status, Millis now) {
  JobUpdate update;
  update.error_code = code;
  update.error_message = message;
  m_core.transition(job, JobState::ambiguous, message, update, http_status);
  if (m_core.worker() != nullptr) {
    m_core.forget(job);  // the leader of the provider's listings reconciles it
    m_due = std::min(m_due, now);
    return;
  }
  m_jobs.push_back(
      {{job.rec.row_id, job.rec.spec, job_key(job.rec.batch, job.rec.spec.id), job.sent_at, now},
       job.rec});
  m_due = std::min(m_due == 0 ? now : m_due, now);
  m_core.forget(job);
}

Millis Reconciliation::next_wake(Millis wake) const {
  return !m_jobs.empty() && !m_pages.in_flight() ? std::min(wake, m_due) : wake;
}

// Worker mode: one worker at a time lists a provider's videos (the leadership of
// "reconcile:<provider>"); it takes every ambiguous job of the scope from the ledger.
bool Reconciliation::lead(Millis now) {
  const WorkerSeat& worker = *m_core.worker();
  m_due = now;
  m_core.flush();
  auto leading = m_core.store().hold_leadership("reconcile:" + m_core.config().provider.name,
                                                worker.id(), worker.ttl_ms());
  if (!leading) {
    m_core.set_fatal(leading.error());
    return false;
  }
  if (*leading) {
    if (auto loaded = load(); !loaded) {
      m_core.set_fatal(loaded.error());
      return false;
    }
  } else {
    m_jobs.clear();
  }
  if (m_jobs.empty()) {
    m_due = now + k_reconcile_retry_ms;
  }
  return !m_jobs.empty();
}

void Reconciliation::start(Millis now) {
  if (m_pages.in_flight() || now < m_due) {
    return;
  }
  if (m_core.worker() != nullptr && m_pages.pages() == 0 && !lead(now)) {
    return;
  }
  if (m_jobs.empty()) {
    return;
  }
  if (!m_core.provider().can_list()) {
    apply_policy();
    return;
  }
  if (m_pages.pages() == 0) {
    m_listing = Listing{};
    m_listing.covers_since = now;
    m_listing.requested_at = now;
  }
  m_pages.send_next(*this, Traffic::plain, now);
}

void Reconciliation::on_answer(std::int64_t, HttpResult& result, Millis now) {
  AnswerKind kind = AnswerKind::ok;
  auto page = m_pages.read(result, now, kind);
  if (!page) {
    // A rate limit is the provider's pacing, not a sign that it has no listing.
    const bool counts = kind != AnswerKind::slow_down;
    if (kind == AnswerKind::rejected || (counts && ++m_failures >= k_failures_to_give_up)) {
      m_core.notice(NoticeKind::no_listing, m_core.config().provider.name,
                    "the provider does not list videos here (" + page.error().message +
                        "); ambiguous jobs are held");
      apply_policy();
      return;
    }
    m_pages.restart();
    m_due = now + k_reconcile_retry_ms;
    return;
  }
  m_failures = 0;
  for (auto& video : page->videos) {
    if (!page->partial) {
      m_listing.covers_since = std::min(m_listing.covers_since, video.created_at);
    }
    m_listing.videos.push_back(std::move(video));
  }
  Millis oldest_needed = m_listing.covers_since;
  for (const auto& held : m_jobs) {
    oldest_needed = std::min(oldest_needed, held.create.sent_at - ReconcileRules{}.clock_skew_ms);
  }
  bool need_more = page->has_more && (page->partial || m_listing.covers_since > oldest_needed);
  if (!page->has_more) {
    m_listing.covers_since = 0;  // the whole history was listed
  }
  if (need_more && m_pages.pages() < k_max_listing_pages) {
    return;  // start() fetches the next page
  }
  m_pages.restart();
  decide(now);
}

// A held job that a late create answer made `submitted` while the listing was read, and that
// this worker then claimed for its polls, is live here. Acting on its stale held record would
// replace the live job's, have the transition refused and drop the job with its lease still
// held, so that no worker would ever poll it again.
void Reconciliation::drop_taken_up() {
  std::erase_if(m_jobs,
                [this](const Held& held) { return m_core.find(held.rec.row_id) != nullptr; });
}

void Reconciliation::decide(Millis now) {
  std::vector<std::string> ids;
  for (const auto& video : m_listing.videos) {
    ids.push_back(video.id);
  }
  m_core.flush();  // remote ids learnt this turn are in the ledger before it is asked
  auto known = m_core.store().known_remote_ids(ids);
  if (!known) {
    m_core.set_fatal(known.error());
    return;
  }
  std::unordered_set<std::string> claimed(known->begin(), known->end());
  drop_taken_up();
  ReconcileRules rules;
  rules.settle_ms = m_core.config().retry.ambiguous_settle_ms;
  std::vector<AmbiguousCreate> creates;
  for (const auto& held : m_jobs) {
    creates.push_back(held.create);
  }
  auto decisions = reconcile(creates, m_listing, claimed, m_core.provider(), rules);
  for (const auto& d : decisions) {
    if (d.verdict == ReconcileVerdict::adopt) {
      claimed.insert(d.video.id);
    }
  }
  note_unclaimed(claimed, now);
  std::unordered_map<std::int64_t, Held> held_by_id;
  for (auto& held : m_jobs) {
    held_by_id.emplace(held.create.row_id, std::move(held));
  }
  m_jobs.clear();
  for (const auto& d : decisions) {
    Held held = std::move(held_by_id.at(d.row_id));
    if (d.verdict == ReconcileVerdict::wait) {
      if (now - held.create.sent_at <= 2 * rules.settle_ms + rules.clock_skew_ms) {
        m_jobs.push_back(std::move(held));
      } else {
        // The listing never reached back far enough: leave it to the user.
        m_core.notice(NoticeKind::listing_too_short, held.rec.batch + "/" + held.rec.spec.id,
                      "job " + held.rec.spec.id +
                          ": the listing does not reach back to its "
                          "create request; held as ambiguous");
        m_left_to_user.insert(held.create.row_id);
      }
      continue;
    }
    LiveJob& job = m_core.admit(std::move(held.rec));
    JobUpdate update;
    update.error_code = "";
    update.error_message = "";
    if (d.verdict == ReconcileVerdict::adopt) {
      update.remote_id = d.video.id;
      update.submitted_at = now;
      m_core.transition(job, JobState::submitted,
                        "reconciled: the provider's listing holds this job's video " + d.video.id,
                        update);
      if (m_core.worker() != nullptr) {
        m_core.forget(job);  // unleased: claimed for its polls like any submitted job
      } else {
        m_core.schedule(job, now);
      }
    } else {
      m_core.transition(job, JobState::queued,
                        "reconciled: the provider's listing proves no video was started; "
                        "submitting again",
                        update);
      m_submitter.push_front(job.rec);
      m_core.forget(job);
    }
  }
  m_due =
      now + std::max<Millis>(k_reconcile_retry_ms, m_core.config().retry.ambiguous_settle_ms / 4);
}

// Listed videos nobody holds, even after this pass, made for a job of the ledger (its
// parameters, created after the job was): paid for and unclaimed. A duplicate the provider made
// anyway, or one of a crashed run of another tool; recorded for status, reports and `adopt`.
void Reconciliation::note_unclaimed(const std::unordered_set<std::string>& claimed, Millis now) {
  std::vector<const RemoteVideo*> candidates;
  std::vector<std::string> prompts;
  for (const auto& video : m_listing.videos) {
    if (!claimed.contains(video.id) && video.status.phase != RemotePhase::failed) {
      candidates.push_back(&video);
      prompts.push_back(video.prompt);
    }
  }
  auto jobs = m_core.store().jobs_with_prompts(prompts);
  if (!jobs) {
    m_core.set_fatal(jobs.error());
    return;
  }
  const Millis skew = ReconcileRules{}.clock_skew_ms;
  const std::string& provider = m_core.config().provider.name;
  std::vector<UnclaimedVideo> found;
  for (const RemoteVideo* video : candidates) {
    for (const auto& job : *jobs) {
      if (m_core.for_this_provider(job) && video->created_at >= job.created_at - skew &&
          m_core.provider().matches(job.spec, job_key(job.batch, job.spec.id), *video)) {
        found.push_back({provider,
                         video->id,
                         job.row_id,
                         video->status.raw_status,
                         video->created_at,
                         now,
                         "",
                         "",
                         "",
                         {}});
        break;
      }
    }
  }
  if (auto stored = m_core.store().note_unclaimed(found); !stored) {
    m_core.set_fatal(stored.error());
    return;
  }
  std::erase_if(found, [this](const UnclaimedVideo& v) {
    return !m_unclaimed_noted.insert(v.remote_id).second;
  });
  if (!found.empty()) {
    m_core.notice(NoticeKind::unclaimed_videos, provider,
                  std::to_string(found.size()) +
                      " video(s) at the provider match jobs of this ledger but belong to none: "
                      "paid, unclaimed");
  }
}

void Reconciliation::apply_policy() {
  drop_taken_up();
  const AmbiguousPolicy policy = m_core.config().retry.ambiguous_policy;
  std::vector<Held> jobs = std::move(m_jobs);
  m_jobs.clear();
  if (policy == AmbiguousPolicy::hold) {
    for (const Held& held : jobs) {
      m_left_to_user.insert(held.create.row_id);  // `vidbatch resolve` decides
    }
    return;
  }
  for (auto& held : jobs) {
    LiveJob& job = m_core.admit(std::move(held.rec));
    if (policy == AmbiguousPolicy::resubmit) {
      m_core.transition(job, JobState::queued, "ambiguous_policy = resubmit: submitting again");
      m_submitter.push_front(job.rec);
      m_core.forget(job);
    } else {
      m_core.fail_job(job, failure::create_ambiguous,
                      "ambiguous_policy = fail: " + job.rec.error_message);
    }
  }
}

}  // namespace vb
