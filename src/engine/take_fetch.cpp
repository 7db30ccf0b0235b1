#include "engine/take_fetch.h"

#include "http/response_headers.h"

namespace vb {

namespace {

constexpr int k_attempts = 3;  // per request: a passing failure gets two more chances

HttpResult exchange(HttpTransport& transport, HttpRequest request) {
  transport.start(std::move(request), 1);
  while (true) {
    auto done = transport.poll(1000);
    if (!done.empty()) {
      return std::move(done.front());
    }
  }
}

// The answer of `request`, retried while the provider classifies its failure as passing.
Result<HttpResult> ask(const VideoProvider& provider, HttpTransport& transport,
                       const HttpRequest& request, RequestPhase phase, const Clock& clock,
                       VideoFile* file = nullptr) {
  AnswerClass answer;
  for (int attempt = 1; attempt <= k_attempts; ++attempt) {
    HttpRequest sent = request;
    if (file != nullptr) {
      sent.sink = file;
      sent.range_from = file->size();
    }
    HttpResult result = exchange(transport, std::move(sent));
    answer = provider.classify(phase, result, clock.now_ms());
    if (answer.kind == AnswerKind::ok) {
      return result;
    }
    if (answer.kind != AnswerKind::retry && answer.kind != AnswerKind::slow_down) {
      break;
    }
  }
  return fail(ErrorCode::http, std::string(to_string(phase)) + " failed: " + answer.detail,
              request.url);
}

}  // namespace

Result<FinishedVideo> fetch_video(const VideoProvider& provider, HttpTransport& transport,
                                  const Config& config, const JobSpec& spec,
                                  const std::string& remote_id, const OutputPaths& paths,
                                  const Clock& clock) {
  HttpRequest query = provider.query_request(spec, remote_id);
  query.timeout_ms = config.http.request_timeout_ms;
  auto answered = VB_TRY(ask(provider, transport, query, RequestPhase::poll, clock));
  auto status = VB_TRY(provider.parse_query(answered.response));
  if (status.phase != RemotePhase::completed) {
    return fail(ErrorCode::invalid_input,
                "the video is '" + status.raw_status + "', not completed; adopt it once it is",
                "video " + remote_id);
  }
  if (auto resolve = provider.resolve_request(status)) {
    resolve->timeout_ms = config.http.request_timeout_ms;
    auto resolved = VB_TRY(ask(provider, transport, *resolve, RequestPhase::poll, clock));
    status = VB_TRY(provider.parse_resolve(resolved.response, status));
  }
  auto file = VB_TRY(VideoFile::create(paths, config.output.checksum));
  HttpRequest download = provider.download_request(remote_id, status);
  download.timeout_ms = config.http.download_timeout_ms;
  download.low_speed_time_ms = config.http.low_speed_time_ms;
  auto fetched = ask(provider, transport, download, RequestPhase::download, clock, file.get());
  if (!fetched) {
    file->discard();
    return std::unexpected(fetched.error());
  }
  file->settle();
  const std::int64_t had_before = file->size() - fetched->body_bytes;
  auto finished = file->finish(expected_total_bytes(fetched->response, had_before));
  if (!finished) {
    file->discard();
  }
  return finished;
}

}  // namespace vb
