// Fetching one video that no job drives: a paid, unclaimed video saved as its job's alternative
// take (`vidbatch adopt`). One status query, then the download, through the provider's own
// translation and classification and the same VideoFile as a run (verified, hashed, durable,
// renamed). Never creates anything. Synchronous; runs its own transport loop.
#pragma once

#include <string>

#include "config/config.h"
#include "http/http_transport.h"
#include "output/video_file.h"
#include "provider/video_provider.h"
#include "util/clock.h"

namespace vb {

// Saves `remote_id` at `paths`. Fails with ErrorCode::invalid_input when the video is not
// completed (nothing written), or with what the provider or the disk said.
Result<FinishedVideo> fetch_video(const VideoProvider& provider, HttpTransport& transport,
                                  const Config& config, const JobSpec& spec,
                                  const std::string& remote_id, const OutputPaths& paths,
                                  const Clock& clock);

}  // namespace vb
