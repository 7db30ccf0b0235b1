// One table for every provider's status words, after new-api's Sora adaptor
// (docs/wire-formats.md, "Status words"). Matching ignores case.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "provider/video_provider.h"

namespace vb {

namespace {

struct StatusWord {
  std::string_view word;
  RemotePhase phase;
};

constexpr std::array k_status_words = {
    StatusWord{"queued", RemotePhase::queued},
    StatusWord{"pending", RemotePhase::queued},
    StatusWord{"submitted", RemotePhase::queued},
    StatusWord{"not_start", RemotePhase::queued},
    StatusWord{"preparing", RemotePhase::queued},
    StatusWord{"unknown", RemotePhase::queued},
    StatusWord{"notstarted", RemotePhase::queued},
    StatusWord{"created", RemotePhase::queued},
    StatusWord{"starting", RemotePhase::queued},
    StatusWord{"queueing", RemotePhase::queued},
    StatusWord{"processing", RemotePhase::running},
    StatusWord{"in_progress", RemotePhase::running},
    StatusWord{"running", RemotePhase::running},
    StatusWord{"generating", RemotePhase::running},
    StatusWord{"completed", RemotePhase::completed},
    StatusWord{"complete", RemotePhase::completed},
    StatusWord{"success", RemotePhase::completed},
    StatusWord{"succeeded", RemotePhase::completed},
    StatusWord{"succeed", RemotePhase::completed},
    StatusWord{"finished", RemotePhase::completed},
    StatusWord{"failed", RemotePhase::failed},
    StatusWord{"failure", RemotePhase::failed},
    StatusWord{"fail", RemotePhase::failed},
    StatusWord{"error", RemotePhase::failed},
    StatusWord{"cancelled", RemotePhase::failed},
    StatusWord{"canceled", RemotePhase::failed},
};

}  // namespace

const char* to_string(RemotePhase p) {
  switch (p) {
    case RemotePhase::queued:
      return "queued";
    case RemotePhase::running:
      return "running";
    case RemotePhase::completed:
      return "completed";
    case RemotePhase::failed:
      return "failed";
    case RemotePhase::unknown:
      return "unknown";
    case RemotePhase::lost:
      return "lost";
  }
  return "unknown";
}

RemotePhase map_status(std::string_view raw) {
  std::string word(raw);
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& entry : k_status_words) {
    if (entry.word == word) {
      return entry.phase;
    }
  }
  return RemotePhase::unknown;
}

}  // namespace vb
