// VideoProvider: one provider dialect, as pure translation between JobSpecs
// and HTTP messages. No I/O, no state: requests are built here, sent by the
// engine through HttpTransport, and answers are parsed back here. A new
// gateway route (Kling, Wan, the unified task format...) is one more class.
// Parsers never trust the answer: any shape, type or size is handled with an
// Error (ErrorCode::protocol), never a crash. Thread-safe (const methods).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "http/http_transport.h"
#include "job/job_spec.h"
#include "provider/answer_class.h"
#include "util/error.h"

namespace vb {

// `unknown`: a status word no table knows (treated as still running, with a notice). `lost`: the
// provider says it does not know the id (expired, asked in another region or with another key):
// not a failure, and no proof either way, so the engine looks for the id in the listing.
enum class RemotePhase { queued, running, completed, failed, unknown, lost };

const char* to_string(RemotePhase p);

// What one query (or create) answer says about a remote video.
struct RemoteStatus {
  RemotePhase phase = RemotePhase::unknown;
  std::string raw_status;          // as the provider wrote it, for logs
  std::optional<double> progress;  // 0..100, only when the answer had a sane number
  std::string video_url;           // where to download, when the answer names one
  std::string thumbnail_url;
  std::string error_code;  // for failed videos: e.g. moderation_blocked
  std::string error_message;
  std::optional<Millis> expires_at;  // when the downloadable assets expire
  std::string file_id;               // what the resolve step turns into a URL (MiniMax)
};

// One entry of a provider's video listing: for reconciling ambiguous creates,
// and for learning that many jobs are still running with one request.
struct RemoteVideo {
  std::string id;
  std::string prompt;
  std::string model;
  std::string size;     // as the provider writes it ("1280x720")
  std::string seconds;  // as the provider writes it ("8")
  std::string job_key;  // the client's tag sent at create (Kling external_task_id); "" = none
  Millis created_at = 0;
  RemoteStatus status;  // read as from a query answer (phase, progress, URL, error)
};

struct RemotePage {
  std::vector<RemoteVideo> videos;  // newest first
  bool has_more = false;
  std::string last_id;  // cursor for the next page
  // A page of one part of a listing in parts (Kling lists each family path on its own): its
  // dates prove nothing about how far back the whole listing reaches.
  bool partial = false;
};

// What a create request needs beyond the spec, found in the ledger at submit time.
struct CreateContext {
  std::string parent_remote_id;            // the parent's video, when spec.derived != none
  std::vector<std::string> character_ids;  // in the order of spec.characters
  std::string job_key;                     // job_key(batch, spec.id): a dialect's client tag
};

struct CreateAnswer {
  std::string remote_id;  // verbatim: poll with exactly this id
  RemoteStatus status;
};

class VideoProvider {
 public:
  virtual ~VideoProvider() = default;
  virtual Dialect dialect() const = 0;
  // Dialect rules a manifest cannot know (allowed seconds, image kinds...).
  // The Error names the field, e.g. "seconds: ...".
  virtual Status check(const JobSpec& spec) const = 0;
  // Whether the dialect has a route for JobSpec::reference_images (Vidu's reference2video); the
  // plan refuses them for every other dialect before check() runs.
  virtual bool takes_reference_images() const { return false; }
  // What a finished request of `phase` means (provider/answer_class.h): the dialect's own
  // status codes and error bodies, read by nobody else. `now` measures Retry-After dates.
  virtual AnswerClass classify(RequestPhase phase, const HttpResult& result, Millis now) const = 0;
  virtual Result<HttpRequest> create_request(const JobSpec& spec,
                                             const CreateContext& context) const = 0;
  virtual Result<CreateAnswer> parse_create(const HttpResponse& response) const = 0;
  // Whether the create answer streams until the video is done (chat): the create request stays
  // open for the whole generation (bounded by limits.job_timeout_ms), its body is read as it
  // arrives, and parse_create reads the whole stream. Such a dialect has no status query.
  virtual bool streams_create() const { return false; }
  // The progress (0..100) that newly arrived complete lines of a streamed create answer report.
  virtual std::optional<double> stream_progress(std::string_view) const { return std::nullopt; }
  // The status query of the job's video: a dialect may need the job (Kling's family path
  // depends on whether the job has images), not only the remote id.
  virtual HttpRequest query_request(const JobSpec& spec, const std::string& remote_id) const = 0;
  virtual Result<RemoteStatus> parse_query(const HttpResponse& response) const = 0;
  // Downloads the video: from the answer's URL when it has one, else the content route.
  virtual HttpRequest download_request(const std::string& remote_id,
                                       const RemoteStatus& status) const = 0;
  // The request between "completed" and the bytes where the dialect has one (MiniMax's
  // files/retrieve): nullopt when `status` names the video's URL already. Retried as a poll.
  virtual std::optional<HttpRequest> resolve_request(const RemoteStatus&) const {
    return std::nullopt;
  }
  // `status` with the URL (and its expiry) the resolve answer names.
  virtual Result<RemoteStatus> parse_resolve(const HttpResponse&, RemoteStatus status) const {
    return status;
  }
  // Whether download_request works from the remote id alone (a content route), so that a
  // job the ledger holds as completed can be fetched without asking its status first.
  virtual bool downloads_by_id() const = 0;
  // The size of the video the provider delivers for `spec`: "WxH" where the request fixes the
  // pixels, "small" / "large" where the provider picks them within that class (src/probe).
  virtual std::string delivered_size(const JobSpec& spec) const = 0;
  // The thumbnail (a small still image) of a completed video, where the dialect
  // offers one: nullopt when it has none for this answer. The body is small and
  // collected in memory (no sink).
  virtual std::optional<HttpRequest> thumbnail_request(const std::string& remote_id,
                                                       const RemoteStatus& status) const = 0;
  // A content answer that is JSON instead of bytes names the URL to follow.
  virtual Result<std::string> parse_content_redirect(std::string_view json_body) const = 0;

  // Listing recent videos (newest first), where the dialect has it: the only
  // proof that an ambiguous create did or did not start a video. The defaults: no listing.
  virtual bool can_list() const { return false; }
  virtual HttpRequest list_request(const std::string&) const { return {}; }
  // The page answering list_request(after_id).
  virtual Result<RemotePage> parse_list(const std::string&, const HttpResponse&) const {
    return fail(ErrorCode::protocol, "this dialect has no video listing");
  }
  // Whether a listed video is this job's: by the client tag where the dialect sends one
  // (`job_key`), else by having exactly the parameters this spec would send.
  virtual bool matches(const JobSpec&, const std::string&, const RemoteVideo&) const {
    return false;
  }

  // Characters (cameos) where the dialect has them: created from a local video,
  // answered with the id that create requests then carry (CreateContext). The defaults: none.
  virtual bool can_create_characters() const { return false; }
  virtual HttpRequest character_request(const std::string&, const std::string&) const { return {}; }
  virtual Result<std::string> parse_character(const HttpResponse&) const {
    return fail(ErrorCode::protocol, "this dialect has no character route");
  }
};

// Maps any provider's status word to a phase with one table (docs/wire-formats.md).
RemotePhase map_status(std::string_view raw);

// The message of an error answer: the OpenAI envelope's error.message, else a
// bounded, printable excerpt of the body.
std::string error_message_from_body(std::string_view body);

}  // namespace vb
