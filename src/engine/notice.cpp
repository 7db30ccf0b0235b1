#include "engine/notice.h"

namespace vb {

const char* to_string(NoticeKind kind) {
  switch (kind) {
    case NoticeKind::interrupted:
      return "interrupted";
    case NoticeKind::stopping:
      return "stopping";
    case NoticeKind::budget_reached:
      return "budget_reached";
    case NoticeKind::derived_waiting:
      return "derived_waiting";
    case NoticeKind::character_held:
      return "character_held";
    case NoticeKind::character_ambiguous:
      return "character_ambiguous";
    case NoticeKind::character_created:
      return "character_created";
    case NoticeKind::unknown_status:
      return "unknown_status";
    case NoticeKind::task_lost:
      return "task_lost";
    case NoticeKind::job_timeout:
      return "job_timeout";
    case NoticeKind::no_listing:
      return "no_listing";
    case NoticeKind::listing_too_short:
      return "listing_too_short";
    case NoticeKind::unclaimed_videos:
      return "unclaimed_videos";
    case NoticeKind::request_resent:
      return "request_resent";
    case NoticeKind::sweep_off:
      return "sweep_off";
    case NoticeKind::sidecar_failed:
      return "sidecar_failed";
    case NoticeKind::thumbnail_failed:
      return "thumbnail_failed";
    case NoticeKind::thumbnails_off:
      return "thumbnails_off";
    case NoticeKind::limit_learnt:
      return "limit_learnt";
  }
  return "notice";
}

}  // namespace vb
