#include "provider/answer_class.h"
#include "job/failure_codes.h"

namespace vb {

const char* to_string(RequestPhase phase) {
  switch (phase) {
    case RequestPhase::submit:
      return "submit";
    case RequestPhase::poll:
      return "poll";
    case RequestPhase::download:
      return "download";
    case RequestPhase::list:
      return "list";
    case RequestPhase::thumbnail:
      return "thumbnail";
  }
  return "submit";
}

const char* to_string(AnswerKind kind) {
  switch (kind) {
    case AnswerKind::ok:
      return "ok";
    case AnswerKind::retry:
      return "retry";
    case AnswerKind::slow_down:
      return "slow_down";
    case AnswerKind::ambiguous:
      return "ambiguous";
    case AnswerKind::rejected:
      return "rejected";
    case AnswerKind::expired:
      return "expired";
    case AnswerKind::stop_run:
      return "stop_run";
  }
  return "rejected";
}

AnswerClass classify_transport_failure(RequestPhase phase, const HttpResult& result) {
  AnswerClass c;
  c.detail = std::string(to_string(result.failure)) +
             (result.error_text.empty() ? "" : ": " + result.error_text);
  c.code = to_string(result.failure);
  switch (result.failure) {
    case TransportFailure::none:
      c.kind = AnswerKind::ok;
      return c;
    case TransportFailure::not_sent:
      c.kind = AnswerKind::retry;  // the server certainly saw nothing
      return c;
    case TransportFailure::sink_failed:
      c.kind = AnswerKind::rejected;
      c.code = failure::disk_write_failed;
      c.detail = "could not write the video to disk (" + c.detail + ")";
      return c;
    case TransportFailure::timeout:
    case TransportFailure::connection_lost:
    case TransportFailure::too_large:
    case TransportFailure::other:
      break;
  }
  if (phase == RequestPhase::submit) {
    c.kind = AnswerKind::ambiguous;
    c.code = failure::create_ambiguous;
  } else {
    c.kind = AnswerKind::retry;
  }
  return c;
}

}  // namespace vb
