// Notice: something a run tells its user that is not a job's transition (a stop, a held
// character, a listing the provider does not have...). Structured: a kind, the thing it is
// about and the engine's sentence. The front end adds what to do about it (a command to run,
// a key to press), which the engine cannot know. Value type.
#pragma once

#include <string>

namespace vb {

enum class NoticeKind {
  interrupted,          // a stop was asked: requests in flight finish
  stopping,             // the run cannot go on (credentials, disk, database); text: the error
  budget_reached,       // submissions stopped at limits.budget_usd; the rest stays queued
  derived_waiting,      // derived jobs whose parent is not done stay queued
  character_held,       // a character's earlier create lost its answer: jobs using it wait
  character_ambiguous,  // a character's create lost its answer now: never created again
  character_created,    // subject: the character's name
  unknown_status,       // a status word no table knows, treated as running
  task_lost,            // the provider does not know a job's id: its listing is asked
  job_timeout,          // a job passed limits.job_timeout_ms and is still polled
  no_listing,           // the provider does not list videos: ambiguous jobs follow the policy
  listing_too_short,    // the listing does not reach back to a job's create
  unclaimed_videos,     // paid videos match ledger jobs but belong to none
  request_resent,       // a paid request went on the wire more than once
  sweep_off,            // status by listing stopped: each job is queried
  sidecar_failed,
  thumbnail_failed,
  thumbnails_off,
  limit_learnt,  // the provider refused for pacing: the learnt limits were halved
};

const char* to_string(NoticeKind kind);

struct Notice {
  NoticeKind kind = NoticeKind::stopping;
  std::string subject;  // the job ("batch/id"), character name or provider it is about; may be ""
  std::string text;     // the engine's sentence, without a remedy
};

}  // namespace vb
