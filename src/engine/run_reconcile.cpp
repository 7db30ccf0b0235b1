// Ambiguous creates: the listing-based reconciliation of the run loop.
// Where the dialect can list videos, the listing decides (engine/reconciler.h);
// where it cannot, the configured policy does (hold by default).
#include <algorithm>

#include "engine/run_loop.h"
#include "job/failure_codes.h"

namespace vb {

namespace {

constexpr int k_max_listing_pages = 20;
constexpr Millis k_reconcile_retry_ms = 2000;

}  // namespace

Status RunEngine::Loop::load_ambiguous_jobs() {
  const JobState ambiguous[] = {JobState::ambiguous};
  std::int64_t cursor = 0;
  while (true) {
    auto page = m_e.m_store.jobs_in_states(ambiguous, cursor, 1000);
    if (!page) {
      return std::unexpected(page.error());
    }
    for (const auto& rec : *page) {
      cursor = rec.row_id;
      if (!in_scope(rec)) {
        continue;
      }
      auto sent = m_e.m_store.last_entered(rec.row_id, JobState::submitting);
      auto found = m_e.m_store.last_entered(rec.row_id, JobState::ambiguous);
      if (!sent || !found) {
        return std::unexpected(!sent ? sent.error() : found.error());
      }
      m_ambiguous.push_back({rec.row_id, rec.spec, *sent, *found});
      m_ambiguous_records[rec.row_id] = rec;
    }
    if (page->size() < 1000) {
      return {};
    }
  }
}

void RunEngine::Loop::note_ambiguous(const JobRecord& rec, Millis sent_at, Millis now) {
  m_ambiguous.push_back({rec.row_id, rec.spec, sent_at, now});
  m_ambiguous_records[rec.row_id] = rec;
  m_reconcile_due = std::min(m_reconcile_due == 0 ? now : m_reconcile_due, now);
}

void RunEngine::Loop::start_listing(Millis now) {
  if (m_ambiguous.empty() || m_listing_in_flight || now < m_reconcile_due) {
    return;
  }
  if (!m_e.m_provider.can_list()) {
    apply_ambiguous_policy(now);
    return;
  }
  if (m_listing_pages == 0) {
    m_listing = Listing{};
    m_listing.covers_since = now;
  }
  HttpRequest request = m_e.m_provider.list_request(m_listing_pages == 0 ? "" : m_listing_last_id);
  request.timeout_ms = m_e.m_config.http.request_timeout_ms;
  m_listing_in_flight = true;
  m_e.m_transport.start(std::move(request), k_list_tag);
}

void RunEngine::Loop::on_list_answer(HttpResult& result, Millis now) {
  m_listing_in_flight = false;
  AnswerClass answer = m_e.m_provider.classify(RequestPhase::list, result, now);
  auto page = answer.kind == AnswerKind::ok
                  ? m_e.m_provider.parse_list(result.response)
                  : Result<RemotePage>(fail(ErrorCode::http, answer.detail));
  if (!page) {
    if (answer.kind == AnswerKind::rejected || ++m_listing_failures >= 5) {
      m_e.m_observer.on_notice("the provider does not list videos here (" +
                               page.error().message + "); ambiguous jobs are held");
      apply_ambiguous_policy(now);
      return;
    }
    m_listing_pages = 0;
    m_reconcile_due = now + k_reconcile_retry_ms;
    return;
  }
  m_listing_failures = 0;
  m_listing_pages += 1;
  for (auto& video : page->videos) {
    m_listing.covers_since = std::min(m_listing.covers_since, video.created_at);
    m_listing.videos.push_back(std::move(video));
  }
  Millis oldest_needed = m_listing.covers_since;
  for (const auto& job : m_ambiguous) {
    oldest_needed = std::min(oldest_needed, job.sent_at - ReconcileRules{}.clock_skew_ms);
  }
  bool need_more = page->has_more && m_listing.covers_since > oldest_needed;
  if (!page->has_more) {
    m_listing.covers_since = 0;  // the whole history was listed
  }
  if (need_more && m_listing_pages < k_max_listing_pages) {
    m_listing_last_id = page->last_id;
    return;  // start_listing() fetches the next page
  }
  m_listing_pages = 0;
  decide_ambiguous(now);
}

void RunEngine::Loop::decide_ambiguous(Millis now) {
  std::vector<std::string> ids;
  for (const auto& video : m_listing.videos) {
    ids.push_back(video.id);
  }
  flush();  // remote ids learnt this turn are in the ledger before it is asked
  auto known = m_e.m_store.known_remote_ids(ids);
  if (!known) {
    set_fatal(known.error());
    return;
  }
  std::unordered_set<std::string> claimed(known->begin(), known->end());
  ReconcileRules rules;
  rules.settle_ms = m_e.m_config.retry.ambiguous_settle_ms;
  auto decisions = reconcile(m_ambiguous, m_listing, claimed, m_e.m_provider, rules, now);
  for (const auto& d : decisions) {
    if (d.verdict == ReconcileVerdict::adopt) {
      claimed.insert(d.video.id);
    }
  }
  note_unclaimed(claimed, now);
  std::vector<AmbiguousCreate> still_waiting;
  for (const auto& d : decisions) {
    JobRecord rec = m_ambiguous_records[d.row_id];
    if (d.verdict == ReconcileVerdict::wait) {
      auto it = std::find_if(m_ambiguous.begin(), m_ambiguous.end(),
                             [&](const auto& a) { return a.row_id == d.row_id; });
      if (now - it->sent_at <= 2 * rules.settle_ms + rules.clock_skew_ms) {
        still_waiting.push_back(*it);
      } else {
        // The listing never reached back far enough: leave it to the user.
        m_e.m_observer.on_notice("job " + rec.spec.id +
                                 ": the listing does not reach back to its create request; "
                                 "held as ambiguous");
        m_ambiguous_records.erase(d.row_id);
      }
      continue;
    }
    m_ambiguous_records.erase(d.row_id);
    LiveJob& job = m_live[d.row_id];
    job.rec = std::move(rec);
    job.poll_interval = m_e.m_config.limits.poll_interval_ms;
    JobUpdate update;
    update.error_code = "";
    update.error_message = "";
    if (d.verdict == ReconcileVerdict::adopt) {
      update.remote_id = d.video.id;
      update.submitted_at = now;
      transition(job, JobState::submitted,
                 "reconciled: the provider's listing holds this job's video " + d.video.id, update);
      schedule(job, now);
    } else {
      transition(job, JobState::queued,
                 "reconciled: the provider's listing proves no video was started; submitting "
                 "again",
                 update);
      m_queue.push_front(job.rec);
      forget(job);
    }
  }
  m_ambiguous = std::move(still_waiting);
  m_reconcile_due = now + std::max<Millis>(k_reconcile_retry_ms, m_e.m_config.retry.ambiguous_settle_ms / 4);
}

// Listed videos nobody holds, even after this pass, made for a job of the ledger (its
// parameters, created after the job was): paid for and unclaimed. A duplicate the provider made
// anyway, or one of a crashed run of another tool; recorded for status, reports and `adopt`.
void RunEngine::Loop::note_unclaimed(const std::unordered_set<std::string>& claimed, Millis now) {
  std::vector<const RemoteVideo*> candidates;
  std::vector<std::string> prompts;
  for (const auto& video : m_listing.videos) {
    if (!claimed.contains(video.id) && video.status.phase != RemotePhase::failed) {
      candidates.push_back(&video);
      prompts.push_back(video.prompt);
    }
  }
  auto jobs = m_e.m_store.jobs_with_prompts(prompts);
  if (!jobs) {
    set_fatal(jobs.error());
    return;
  }
  const Millis skew = ReconcileRules{}.clock_skew_ms;
  std::vector<UnclaimedVideo> found;
  for (const RemoteVideo* video : candidates) {
    for (const auto& job : *jobs) {
      if (for_this_provider(job) && video->created_at >= job.created_at - skew &&
          m_e.m_provider.matches(job.spec, *video)) {
        found.push_back({m_e.m_config.provider.name, video->id, job.row_id, video->status.raw_status,
                         video->created_at, now, "", "", "", {}});
        break;
      }
    }
  }
  if (auto stored = m_e.m_store.note_unclaimed(found); !stored) {
    set_fatal(stored.error());
    return;
  }
  std::erase_if(found, [this](const UnclaimedVideo& v) { return !m_unclaimed_noted.insert(v.remote_id).second; });
  if (!found.empty()) {
    m_e.m_observer.on_notice(std::to_string(found.size()) +
                             " video(s) at the provider match jobs of this ledger but belong to "
                             "none: paid, unclaimed (see `vidbatch status`)");
  }
}

void RunEngine::Loop::apply_ambiguous_policy(Millis now) {
  const AmbiguousPolicy policy = m_e.m_config.retry.ambiguous_policy;
  for (const auto& a : m_ambiguous) {
    if (policy == AmbiguousPolicy::hold) {
      continue;  // `vidbatch resolve` decides
    }
    LiveJob& job = m_live[a.row_id];
    job.rec = m_ambiguous_records[a.row_id];
    if (policy == AmbiguousPolicy::resubmit) {
      transition(job, JobState::queued, "ambiguous_policy = resubmit: submitting again");
      m_queue.push_front(job.rec);
      forget(job);
    } else {
      fail_job(job, failure::create_ambiguous, "ambiguous_policy = fail: " + job.rec.error_message);
    }
  }
  (void)now;
  m_ambiguous.clear();
  m_ambiguous_records.clear();
}

}  // namespace vb
