// VideoCheck: what a downloaded video's headers say and whether that is what its request asked
// for, flattened as the ledger (schema 006), the sidecar, the reports and the dashboard keep it.
// check_video() probes a file and compares it (probe_video + verify); to_json() writes one for
// the sidecar and the dashboard. Value type; the functions are thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "probe/verify_rules.h"
#include "util/clock.h"

namespace vb {

struct VideoCheck {
  std::string verdict;     // "" = not checked; "ok"; else the mismatch codes, comma-separated
  std::string mismatches;  // one sentence per mismatch (what was asked, what came), "\n"-separated
  Millis checked_at = 0;
  bool probed = false;  // the headers could be read; the fields below are theirs
  std::string container;
  bool has_video = false;
  std::string video_codec;
  std::int64_t duration_ms = 0;
  int width = 0;
  int height = 0;
  double frame_rate = 0;
  bool has_audio = false;
  std::string audio_codec;

  bool checked() const { return !verdict.empty(); }
  bool mismatched() const { return checked() && verdict != "ok"; }
};

// The check of the file at `path` against `expected`. `shown_as` names the file in the
// sentences when it differs from `path` (a part file probed before its rename); empty: `path`.
VideoCheck check_video(const std::string& path, const Expectation& expected, Millis now,
                       const std::string& shown_as = "");

// A probe and its comparison as a VideoCheck.
VideoCheck video_check_of(const Result<VideoProbe>& probe, const VerifyResult& result, Millis now);

// "the video does not match its request: " and the sentences joined by "; " (an error message).
std::string mismatch_summary(const VideoCheck& check);

// {"verdict": "ok"|codes, "mismatches": [sentence...], "checked_at": ISO 8601,
//  "probe": {"container", "video_codec", "duration_s", "width", "height", "frame_rate",
//            "audio_codec"} | null (not probed)}; "null" when not checked.
std::string to_json(const VideoCheck& check);

}  // namespace vb
