// OutputLayout: every file name vidbatch writes in the output tree comes from
// here (final video, temporary part file, sidecar, thumbnail). Pure; thread-safe.
// Ids and batch names are validated by the manifest ([A-Za-z0-9._-]+), and the
// expanded layout is checked again so that nothing lands outside the root.
#pragma once

#include <string>

#include "config/config.h"
#include "util/error.h"

namespace vb {

struct OutputPaths {
  std::string video;    // root/<layout expanded>
  std::string part;     // video + ".part": written, checked, fsynced, then renamed
  std::string sidecar;  // video without extension + ".json"
  std::string
      thumbnail;  // video without extension + ".webp" (".thumbnail.webp" if the video is .webp)
};

// Expands {batch} and {id}; fails (invalid_input) if the result would escape the root.
Result<OutputPaths> output_paths(const OutputConfig& output, const std::string& batch,
                                 const std::string& job_id);

// The thumbnail beside a video: "<stem>.webp" (".thumbnail.webp" when the video is .webp).
std::string thumbnail_path(const std::string& video);

// An alternative take of a job's video (a paid, unclaimed video saved by `vidbatch adopt`):
// beside the video as "<stem>.take-<remote id>.<ext>", characters other than
// [A-Za-z0-9._-] of the id as '_'. No thumbnail.
OutputPaths take_paths(const OutputPaths& video, const std::string& remote_id);

}  // namespace vb
