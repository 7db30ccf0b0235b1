// Characters (cameos) in the run loop: a job naming characters is sent once
// each of them has an id at the provider. A character is created at most once
// per provider and name: `creating` is committed before its request leaves,
// and a request whose answer is lost leaves it `ambiguous` for the user.
#include <algorithm>

#include "engine/run_loop.h"
#include "job/failure_codes.h"

namespace vb {

namespace {

constexpr std::uint64_t k_character_tag_base = std::uint64_t{1} << 62;

}  // namespace

bool RunEngine::Loop::is_character_tag(std::uint64_t tag) {
  return tag >= k_character_tag_base;
}

RunEngine::Loop::CharacterTask& RunEngine::Loop::character_task(const std::string& name) {
  auto [it, added] = m_character_index.try_emplace(name, m_characters.size());
  if (added) {
    m_characters.emplace_back().name = name;
  }
  return m_characters[it->second];
}

// Fills context.character_ids when every character of the front job has an id;
// otherwise the job waits for the missing ones (which get created) or fails.
RunEngine::Loop::ParentGate RunEngine::Loop::gate_on_characters(CreateContext& context) {
  const JobRecord& rec = m_queue.front();
  const std::string& provider = m_e.m_config.provider.name;
  for (const auto& name : rec.spec.characters) {
    auto found = m_e.m_store.find_character(provider, name);
    if (!found) {
      set_fatal(found.error());
      return ParentGate::stop;
    }
    if (*found && (*found)->state == CharacterState::created) {
      context.character_ids.push_back((*found)->remote_id);
      continue;
    }
    context.character_ids.clear();
    JobRecord job = std::move(m_queue.front());
    m_queue.pop_front();
    if (!*found || !m_e.m_provider.can_create_characters()) {
      LiveJob& live = m_live[job.row_id];
      live.rec = std::move(job);
      fail_job(live, failure::character_unknown,
               "characters: '" + name + "' is not in the ledger for provider '" + provider +
                   "' (import the manifest that defines it)");
      return ParentGate::skipped;
    }
    CharacterTask& task = character_task(name);
    task.state = (*found)->state;
    task.video_path = (*found)->video_path;
    task.waiting.push_back(std::move(job));
    if (task.state != CharacterState::pending && !task.noted) {
      task.noted = true;
      m_e.m_observer.on_notice(
          "character '" + name + "': a create request of an earlier run lost its answer, so it "
          "may exist at the provider; jobs using it stay queued. Find its id and run `vidbatch "
          "resolve --character " + name + " --id ID`, or `--recreate` to create it again");
    }
    return ParentGate::skipped;
  }
  return ParentGate::submit;
}

// A character still to be created keeps the run going for the jobs that wait on it.
bool RunEngine::Loop::characters_pending() const {
  return std::any_of(m_characters.begin(), m_characters.end(), [](const CharacterTask& task) {
    return !task.waiting.empty() && task.state == CharacterState::pending;
  });
}

void RunEngine::Loop::start_characters(Millis now) {
  for (std::size_t i = 0; i < m_characters.size(); ++i) {
    CharacterTask& task = m_characters[i];
    if (task.in_flight || task.waiting.empty() || task.state != CharacterState::pending ||
        task.due > now) {
      continue;
    }
    const std::string& provider = m_e.m_config.provider.name;
    auto marked = m_e.m_store.set_character_state(provider, task.name, CharacterState::pending,
                                                  CharacterState::creating, "", now);
    if (!marked) {
      set_fatal(marked.error());
      return;
    }
    task.state = CharacterState::creating;
    task.in_flight = true;
    HttpRequest request = m_e.m_provider.character_request(task.name, task.video_path);
    request.timeout_ms = m_e.m_config.http.request_timeout_ms;
    request.paid = true;
    m_e.m_transport.start(std::move(request), k_character_tag_base + i);
  }
}

void RunEngine::Loop::on_character_answer(HttpResult& result, Millis now) {
  CharacterTask& task = m_characters[result.tag - k_character_tag_base];
  task.in_flight = false;
  const std::string& provider = m_e.m_config.provider.name;
  AnswerClass answer = m_e.m_provider.classify(RequestPhase::submit, result, now);
  if (result.request_sends > 1) {
    m_resent += 1;
    m_e.m_observer.on_notice("WARNING: character '" + task.name + "': its create request went on "
                             "the wire more than once; more than one may have been made");
    answer = {AnswerKind::ambiguous, {}, failure::character_resent,
              "the request went on the wire " + std::to_string(result.request_sends) +
                  " times (a layer below vidbatch resent it)"};
  }
  auto id = answer.kind == AnswerKind::ok ? m_e.m_provider.parse_character(result.response)
                                          : Result<std::string>(fail(ErrorCode::http, "no answer"));
  CharacterState to = CharacterState::created;
  RetryDecision decision;
  if (!id) {
    if (answer.kind == AnswerKind::ok) {
      answer = {AnswerKind::ambiguous, {}, failure::character_ambiguous, "the answer named no character id"};
    }
    if (answer.kind != AnswerKind::slow_down) {
      task.failures.count(now);
    }
    decision = decide_retry(m_e.m_config.retry, RequestPhase::submit, task.failures, answer, now,
                            jitter());
    to = decision.verdict == Verdict::ambiguous ? CharacterState::ambiguous
                                                : CharacterState::pending;
  }
  auto stored = m_e.m_store.set_character_state(provider, task.name, CharacterState::creating, to,
                                                id ? *id : "", now);
  if (!stored) {
    set_fatal(stored.error());
    return;
  }
  task.state = to;
  if (to == CharacterState::created) {
    m_e.m_observer.on_notice("character '" + task.name + "' created as " + *id);
    for (auto& job : task.waiting) {
      m_queue.push_front(std::move(job));
    }
    task.waiting.clear();
    return;
  }
  settle_failed_character(task, decision, now);
}

void RunEngine::Loop::settle_failed_character(CharacterTask& task, const RetryDecision& decision,
                                              Millis now) {
  switch (decision.verdict) {
    case Verdict::retry:
      task.due = now + decision.delay_ms;
      return;
    case Verdict::stop_run:
      set_fatal(Error{ErrorCode::auth, decision.reason, ""});
      return;
    case Verdict::ambiguous:
      m_e.m_observer.on_notice("character '" + task.name + "': " + decision.reason +
                               "; it may exist at the provider, so it is not created again. "
                               "Run `vidbatch resolve --character " + task.name +
                               " --id ID` (or --recreate)");
      return;
    case Verdict::give_up:
      break;
  }
  std::vector<JobRecord> waiting = std::move(task.waiting);
  task.waiting.clear();
  for (auto& job : waiting) {
    LiveJob& live = m_live[job.row_id];
    live.rec = std::move(job);
    fail_job(live, failure::character_failed, "characters: '" + task.name + "' could not be created: " +
                                           decision.reason);
  }
}

}  // namespace vb
