// FakeProvider: a VideoProvider of a small dialect of its own, with switchable capabilities,
// so the engine's unit tests run against more than the OpenAI format. FakeTaskServer answers
// that dialect through FakeTransport, in virtual time.
//
// The wire format ("fake"):
//   POST {base}/tasks            {"prompt": "..."}  ->  {"id": "t_N", "state": "queued"}
//   GET  {base}/tasks/{id}       {"id", "state": queued|running|done|failed, "progress",
//                                 "url" (when done), "thumb" (when done and thumbnails are on),
//                                 "error" (when failed)}
//   GET  {base}/tasks/{id}/file  the video's bytes (only with downloads_by_id)
//   GET  {base}/tasks?after=ID   {"items": [task with "prompt" and "created_ms"], "more": bool}
//   errors                       {"fault": "...", "busy": true when refused before any work}
// Classification: 429 and a 5xx with "busy" slow down / retry; 400/422 refuse the job; 401/403
// stop the run; any other 5xx after a create is ambiguous; a download's 403/404/410 expired.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "provider/video_provider.h"
#include "support/fake_clock.h"
#include "support/fake_transport.h"

namespace vb::fake {

struct FakeCapabilities {
  bool listing = true;          // GET {base}/tasks pages: lost creates are reconciled
  bool downloads_by_id = true;  // GET {base}/tasks/{id}/file: ready jobs skip the status query
  bool thumbnails = true;       // done tasks name a "thumb" URL
};

class FakeProvider final : public VideoProvider {
 public:
  FakeProvider(std::string base_url, FakeCapabilities caps)
      : m_base(std::move(base_url)), m_caps(caps) {}

  // The enum names the shipped dialects only; the engine uses it for words, not behaviour.
  Dialect dialect() const override { return Dialect::unified; }
  Status check(const JobSpec&) const override { return {}; }
  AnswerClass classify(RequestPhase phase, const HttpResult& result, Millis now) const override;
  Result<HttpRequest> create_request(const JobSpec& spec,
                                     const CreateContext& context) const override;
  Result<CreateAnswer> parse_create(const HttpResponse& response) const override;
  HttpRequest query_request(const JobSpec& spec, const std::string& remote_id) const override;
  Result<RemoteStatus> parse_query(const HttpResponse& response) const override;
  HttpRequest download_request(const std::string& remote_id,
                               const RemoteStatus& status) const override;
  bool downloads_by_id() const override { return m_caps.downloads_by_id; }
  std::string delivered_size(const JobSpec& spec) const override { return spec.size; }
  std::optional<HttpRequest> thumbnail_request(const std::string& remote_id,
                                               const RemoteStatus& status) const override;
  Result<std::string> parse_content_redirect(std::string_view json_body) const override;
  bool can_list() const override { return m_caps.listing; }
  HttpRequest list_request(const std::string& after_id) const override;
  Result<RemotePage> parse_list(const std::string& after_id,
                                const HttpResponse& response) const override;
  bool matches(const JobSpec& spec, const std::string& job_key,
               const RemoteVideo& video) const override;
  bool can_create_characters() const override { return false; }
  HttpRequest character_request(const std::string&, const std::string&) const override;
  Result<std::string> parse_character(const HttpResponse& response) const override;

 private:
  std::string m_base;
  FakeCapabilities m_caps;
};

// The provider's side: tasks created by POSTs, each running for `polls_to_finish` status
// queries (or `run_ms` of virtual time, whichever comes first), then done with `video`.
class FakeTaskServer {
 public:
  FakeTaskServer(FakeClock& clock, std::string base_url, FakeCapabilities caps)
      : m_clock(clock), m_base(std::move(base_url)), m_caps(caps) {}

  // Scripts `net` with the dialect's routes. Call once, before the run.
  void install(FakeTransport& net);
  // A task created before the run (a stopped run's job), finished at its first query.
  void seed_task(const std::string& id, const std::string& prompt) {
    m_tasks[id] = Task{id, prompt, m_clock.now_ms() - run_ms, 2};
  }
  // The nth create (0-based) does its work, then its answer is lost (the request timed out).
  void lose_create_answer(int nth) { m_lost.insert(nth); }
  // Tasks whose prompt contains `text` end `failed` with `error`.
  void fail_prompts(std::string text, std::string error) {
    m_fail_text = std::move(text);
    m_fail_error = std::move(error);
  }

  std::string video = "video-bytes";
  Millis run_ms = 3000;
  int list_rate_limits = 0;  // the first N listing requests answer 429
  int page_size = 2;

  int creates() const { return static_cast<int>(m_tasks.size()); }

 private:
  struct Task {
    std::string id;
    std::string prompt;
    Millis created_ms = 0;
    int polls = 0;
  };
  FakeAnswer create(const HttpRequest& request, int nth);
  FakeAnswer query(const HttpRequest& request);
  FakeAnswer list(const HttpRequest& request);
  std::string task_json(const Task& task, bool with_prompt) const;
  bool finished(const Task& task) const;

  FakeClock& m_clock;
  std::string m_base;
  FakeCapabilities m_caps;
  std::map<std::string, Task> m_tasks;
  std::set<int> m_lost;
  std::string m_fail_text;
  std::string m_fail_error;
};

}  // namespace vb::fake
