// Characters (cameos) in the run: created once per provider and name, before the jobs that
// name them are sent.
#include <algorithm>

#include "engine/run_parts.h"
#include "job/failure_codes.h"

namespace vb {

CharacterCreator::CharacterCreator(RunCore& core, Submitter& submitter)
    : m_core(core), m_submitter(submitter) {}

CharacterCreator::Task& CharacterCreator::task(const std::string& name) {
  auto [it, added] = m_index.try_emplace(name, m_tasks.size());
  if (added) {
    m_tasks.emplace_back().name = name;
  }
  return m_tasks[it->second];
}

// Fills context.character_ids when every character of the job has an id; otherwise the job
// waits for the missing ones (which get created) or fails.
Gate CharacterCreator::check(JobRecord& rec, CreateContext& context) {
  const std::string& provider = m_core.config().provider.name;
  for (const auto& name : rec.spec.characters) {
    auto found = m_core.store().find_character(provider, name);
    if (!found) {
      m_core.set_fatal(found.error());
      return Gate::stop;
    }
    if (*found && (*found)->state == CharacterState::created) {
      context.character_ids.push_back((*found)->remote_id);
      continue;
    }
    context.character_ids.clear();
    if (!*found || !m_core.provider().can_create_characters()) {
      m_core.fail_job(m_core.admit(std::move(rec)), failure::character_unknown,
                      "characters: '" + name + "' is not in the ledger for provider '" + provider +
                          "' (import the manifest that defines it)");
      return Gate::skipped;
    }
    Task& t = task(name);
    t.state = (*found)->state;
    t.video_path = (*found)->video_path;
    t.waiting.push_back(std::move(rec));
    if (t.state != CharacterState::pending && !t.noted) {
      t.noted = true;
      m_core.notice(NoticeKind::character_held, name,
                    "character '" + name +
                        "': a create request of an earlier run lost its "
                        "answer, so it may exist at the provider; jobs using it stay queued");
    }
    return Gate::skipped;
  }
  return Gate::submit;
}

// A character still to be created keeps the run going for the jobs that wait on it.
bool CharacterCreator::pending() const {
  return std::any_of(m_tasks.begin(), m_tasks.end(), [](const Task& t) {
    return !t.waiting.empty() && t.state == CharacterState::pending;
  });
}

Millis CharacterCreator::next_wake(Millis wake) const {
  for (const auto& t : m_tasks) {
    if (!t.in_flight && !t.waiting.empty() && t.state == CharacterState::pending) {
      wake = std::min(wake, t.due);
    }
  }
  return wake;
}

void CharacterCreator::start(Millis now) {
  for (std::size_t i = 0; i < m_tasks.size(); ++i) {
    Task& t = m_tasks[i];
    if (t.in_flight || t.waiting.empty() || t.state != CharacterState::pending || t.due > now) {
      continue;
    }
    const std::string& provider = m_core.config().provider.name;
    auto marked = m_core.store().set_character_state(provider, t.name, CharacterState::pending,
                                                     CharacterState::creating, "", now);
    if (!marked) {
      m_core.set_fatal(marked.error());
      return;
    }
    t.state = CharacterState::creating;
    t.in_flight = true;
    m_core.send(m_core.provider().character_request(t.name, t.video_path), Traffic::paid, *this,
                static_cast<std::int64_t>(i), now);
  }
}

void CharacterCreator::on_answer(std::int64_t index, HttpResult& result, Millis now) {
  Task& t = m_tasks[static_cast<std::size_t>(index)];
  t.in_flight = false;
  const std::string& provider = m_core.config().provider.name;
  AnswerClass answer = m_core.provider().classify(RequestPhase::submit, result, now);
  if (result.request_sends > 1) {
    m_core.count_resent();
    m_core.notice(NoticeKind::request_resent, t.name,
                  "WARNING: character '" + t.name +
                      "': its create request went on the wire "
                      "more than once; more than one may have been made");
    answer = {AnswerKind::ambiguous,
              {},
              failure::character_resent,
              "the request went on the wire " + std::to_string(result.request_sends) +
                  " times (a layer below vidbatch resent it)"};
  }
  auto id = answer.kind == AnswerKind::ok ? m_core.provider().parse_character(result.response)
                                          : Result<std::string>(fail(ErrorCode::http, "no answer"));
  CharacterState to = CharacterState::created;
  RetryDecision decision;
  if (!id) {
    if (answer.kind == AnswerKind::ok) {
      answer = {AnswerKind::ambiguous,
                {},
                failure::character_ambiguous,
                "the answer named no character id"};
    }
    if (answer.kind != AnswerKind::slow_down) {
      t.failures.count(now);
    }
    decision = decide_retry(m_core.config().retry, RequestPhase::submit, t.failures, answer, now,
                            m_core.jitter());
    to = decision.verdict == Verdict::ambiguous ? CharacterState::ambiguous
                                                : CharacterState::pending;
  }
  auto stored = m_core.store().set_character_state(provider, t.name, CharacterState::creating, to,
                                                   id ? *id : "", now);
  if (!stored) {
    m_core.set_fatal(stored.error());
    return;
  }
  t.state = to;
  if (to == CharacterState::created) {
    m_core.notice(NoticeKind::character_created, t.name,
                  "character '" + t.name + "' created as " + *id);
    for (auto& job : t.waiting) {
      m_submitter.push_front(std::move(job));
    }
    t.waiting.clear();
    return;
  }
  settle_failed(t, decision, now);
}

void CharacterCreator::settle_failed(Task& t, const RetryDecision& decision, Millis now) {
  switch (decision.verdict) {
    case Verdict::retry:
      t.due = now + decision.delay_ms;
      return;
    case Verdict::stop_run:
      m_core.set_fatal(Error{ErrorCode::auth, decision.reason, ""});
      return;
    case Verdict::ambiguous:
      m_core.notice(NoticeKind::character_ambiguous, t.name,
                    "character '" + t.name + "': " + decision.reason +
                        "; it may exist at the provider, so it is not created again");
      return;
    case Verdict::give_up:
      break;
  }
  std::vector<JobRecord> waiting = std::move(t.waiting);
  t.waiting.clear();
  for (auto& job : waiting) {
    m_core.fail_job(m_core.admit(std::move(job)), failure::character_failed,
                    "characters: '" + t.name + "' could not be created: " + decision.reason);
  }
}

}  // namespace vb
