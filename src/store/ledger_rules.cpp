#include "store/ledger_rules.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>
#include <unordered_set>

namespace vb {

namespace {

constexpr std::array<const char*, 4> k_character_states = {"pending", "creating", "created",
                                                           "ambiguous"};

}  // namespace

const char* to_string(CharacterState s) {
  return k_character_states[static_cast<std::size_t>(s)];
}

namespace store_detail {

namespace {

Error spec_conflict(const std::string& batch, const JobSpec& spec, const ExistingJob& existing,
                    bool allow_spec_changes) {
  const std::string job = "job '" + spec.id + "' of batch '" + batch + "'";
  std::string message;
  if (allow_spec_changes) {
    message = job + " has a different spec but is already " + existing.state +
              ", so it can no longer be replaced; nothing was imported. Rename the job in "
              "the manifest to make a new video";
  } else {
    message = job + " is already recorded with a different spec (now " + existing.state +
              "); nothing was imported. Rename the job in the manifest to make a new "
              "video, or pass --allow-spec-change to replace jobs that are still queued";
  }
  return Error{ErrorCode::conflict, std::move(message), "job " + batch + "/" + spec.id};
}

}  // namespace

Result<ImportPlan> plan_import(const std::string& batch, const std::vector<JobSpec>& jobs,
                               const std::unordered_map<std::string, ExistingJob>& known,
                               bool allow_spec_changes) {
  ImportPlan plan;
  plan.steps.reserve(jobs.size());
  std::unordered_set<std::string_view> seen;
  seen.reserve(jobs.size());
  int conflicts = 0;
  std::optional<Error> first_conflict;
  for (const JobSpec& spec : jobs) {
    if (!seen.insert(spec.id).second) {
      return fail(ErrorCode::invalid_input,
                  "job id '" + spec.id + "' appears twice in batch '" + batch + "'",
                  "job " + batch + "/" + spec.id);
    }
    std::string json = spec.canonical_json();
    auto it = known.find(spec.id);
    if (it == known.end()) {
      plan.steps.push_back({&spec, std::move(json), 0});
    } else if (it->second.spec_json == json) {
      ++plan.unchanged;
    } else if (allow_spec_changes && it->second.state == to_string(JobState::queued)) {
      plan.steps.push_back({&spec, std::move(json), it->second.row_id});
    } else if (conflicts++ == 0) {
      first_conflict = spec_conflict(batch, spec, it->second, allow_spec_changes);
    }
  }
  if (first_conflict) {
    if (conflicts > 1) {
      first_conflict->message += " (" + std::to_string(conflicts - 1) + " more jobs conflict)";
    }
    return std::unexpected(std::move(*first_conflict));
  }
  return plan;
}

Error transition_error(const Transition& t, const std::optional<JobIdentity>& job,
                       bool edge_allowed) {
  const std::string edge = std::string(to_string(t.from)) + " -> " + to_string(t.to);
  if (!job) {
    return Error{ErrorCode::not_found,
                 "no job has row id " + std::to_string(t.row_id) + "; nothing was written",
                 "job row " + std::to_string(t.row_id)};
  }
  std::string message;
  if (!edge_allowed) {
    message = "transition " + edge + " is not allowed; nothing was written";
  } else if (job->state != to_string(t.from)) {
    message = "job is " + job->state + ", not " + to_string(t.from) + " as the transition " + edge +
              " expects (another writer changed it); nothing was written";
  } else if (t.lease &&
             (job->lease_owner != t.lease->owner || job->lease_token != t.lease->token)) {
    const std::string held = job->lease_owner.empty()
                                 ? "is not leased"
                                 : "is leased by worker " + job->lease_owner + " (token " +
                                       std::to_string(job->lease_token) + ")";
    message = "job " + held + ", not by worker " + t.lease->owner + " with token " +
              std::to_string(t.lease->token) + " as the transition " + edge +
              " expects (its lease was rescued or claimed again); nothing was written";
  } else {
    message = "worker " + (t.lease ? t.lease->owner : std::string()) +
              " is no longer alive (its heartbeat expired), so transition " + edge +
              " may not start; nothing was written";
  }
  return Error{ErrorCode::conflict, std::move(message), "job " + job->name};
}

bool releases_lease(const Transition& t) {
  return t.release_lease || is_terminal(t.to) || t.to == JobState::ambiguous;
}

AroundWorker release_message(bool expired) {
  if (expired) {
    return {"lease expired: worker ", " stopped heartbeating"};
  }
  return {"lease released: worker ", " stopped"};
}

AroundWorker release_ambiguous_message(bool expired) {
  return {"worker ", std::string(expired ? " stopped heartbeating" : " stopped") +
                         " after the create request may have left and before its answer was "
                         "stored; a video may have been started"};
}

std::string late_answer_message(const std::string& worker) {
  return "late create answer: worker " + worker +
         " lost its lease before the answer arrived; the remote id is kept";
}

ProviderLimits with_learnt(const ProviderLimits& limits, const LearntLimits& learnt) {
  ProviderLimits applied = limits;
  if (learnt.in_flight) {
    applied.max_in_flight =
        std::clamp(static_cast<int>(std::floor(*learnt.in_flight)), 1, limits.max_in_flight);
  }
  if (limits.interval_ms <= 0 && learnt.per_minute && *learnt.per_minute > 0) {
    applied.interval_ms = static_cast<Millis>(std::ceil(60000.0 / *learnt.per_minute));
  }
  return applied;
}

const char* learnt_column(LearntLimit limit) {
  return limit == LearntLimit::in_flight ? "learnt_in_flight" : "learnt_per_minute";
}

int gcra_allowed(const ProviderLimits& limits, Millis tat_ms, Millis now, int want,
                 std::int64_t room) {
  std::int64_t allowed = std::clamp<std::int64_t>(room, 0, std::max(want, 0));
  if (limits.interval_ms > 0) {
    const std::int64_t budget =
        (now + limits.burst * limits.interval_ms - std::max(tat_ms, now)) / limits.interval_ms;
    allowed = std::clamp<std::int64_t>(budget, 0, allowed);
  }
  return static_cast<int>(allowed);
}

Millis gcra_charge(const ProviderLimits& limits, Millis tat_ms, Millis now, int count) {
  return std::max(tat_ms, now) + count * std::max<Millis>(limits.interval_ms, 0);
}

BudgetFit fit_budget(std::span<const JobRecord> candidates, const CreateBudget& budget,
                     double spent_usd) {
  BudgetFit fit;
  for (const JobRecord& job : candidates) {
    const std::optional<double> cost = budget.cost(job.spec);
    if (!cost || spent_usd + *cost > budget.limit_usd) {
      fit.stopped = true;
      break;
    }
    spent_usd += *cost;
    fit.charges.push_back(*cost);
  }
  return fit;
}

double legacy_charge(const JobSpec& spec, const CreateBudget& budget) {
  return budget.cost(spec).value_or(0.0);
}

Status check_limits(const std::string& provider, const ProviderLimits& limits) {
  if (limits.interval_ms < 0 || limits.burst < 1 || limits.max_in_flight < 1) {
    return fail(ErrorCode::invalid_input,
                "create limits need interval_ms >= 0, burst >= 1 and max_in_flight >= 1 (got " +
                    std::to_string(limits.interval_ms) + ", " + std::to_string(limits.burst) +
                    ", " + std::to_string(limits.max_in_flight) + ")",
                "provider " + provider);
  }
  return {};
}

Error no_limits(const std::string& provider, const std::string& where) {
  return Error{ErrorCode::not_found,
               "provider '" + provider +
                   "' has no create limits in the ledger; set them before admitting creates",
               where};
}

Status check_claim_states(std::span<const JobState> states) {
  for (JobState s : states) {
    if (s == JobState::queued || s == JobState::submitting) {
      return fail(ErrorCode::invalid_input,
                  std::string("jobs in state ") + to_string(s) +
                      " cannot be claimed: queued jobs go through create admission, "
                      "submitting ones belong to the worker that sends their create");
    }
  }
  return {};
}

Status check_create_answer(const Transition& answer) {
  const bool answered = answer.to == JobState::submitted || answer.to == JobState::running ||
                        answer.to == JobState::ready;
  if (answer.from != JobState::submitting || !answered || !answer.lease ||
      !answer.update.remote_id || answer.update.remote_id->empty()) {
    return fail(ErrorCode::invalid_input,
                "a create answer is a leased transition out of submitting (to submitted, running "
                "or ready) that carries the remote id",
                "job row " + std::to_string(answer.row_id));
  }
  return {};
}

std::string state_list_sql(std::span<const JobState> states) {
  std::string list;
  for (JobState s : states) {
    list += (list.empty() ? "'" : ", '") + std::string(to_string(s)) + "'";
  }
  return list;
}

std::optional<CharacterState> parse_character_state(const std::string& text) {
  for (std::size_t i = 0; i < k_character_states.size(); ++i) {
    if (text == k_character_states[i]) {
      return static_cast<CharacterState>(i);
    }
  }
  return std::nullopt;
}

Error character_conflict(const CharacterRecord& wanted, const std::string& known_video,
                         const std::string& where) {
  return Error{ErrorCode::conflict,
               "character '" + wanted.name + "' of provider '" + wanted.provider +
                   "' was made from " + known_video + ", not " + wanted.video_path +
                   "; give the new one another name",
               where};
}

Error character_state_conflict(const std::string& name, CharacterState from,
                               const std::string& where) {
  return Error{ErrorCode::conflict,
               "character '" + name + "' is no longer " + to_string(from) +
                   "; another process changed it",
               where};
}

Error unknown_unclaimed(const std::string& provider, const std::string& remote_id,
                        const std::string& where) {
  return Error{ErrorCode::not_found,
               "no unclaimed video " + remote_id + " of provider '" + provider + "'", where};
}

Error worker_exists(const std::string& id, const std::string& where) {
  return Error{ErrorCode::conflict,
               "a worker with id " + id + " is already registered; give each process its own id",
               where};
}

}  // namespace store_detail

}  // namespace vb
