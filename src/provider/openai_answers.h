// How the OpenAI video format, and the gateways that relay it, answer: the OpenAI error
// envelope {"error": {"message", "type", "code"}}, 429 for pacing, and 5xx from the provider
// or from a proxy in front of it. Internal to the provider module (both the openai and the
// unified dialects answer this way). Pure; thread-safe.
#pragma once

#include "provider/answer_class.h"

namespace vb {

// A paid request is retried only when the answer proves it was refused before any work: 408,
// 409, 429 (not "insufficient_quota": that stops the run) and a 503/529 in the provider's own
// envelope saying it is overloaded. Every other 5xx may come after the work was done (a
// gateway whose upstream timed out, an HTML page of a proxy, a gateway's "do request failed"),
// so it is ambiguous. Other 4xx are refusals for good, 401/403 stop the run; a 3xx is a
// refusal (following it would send the body again). A download's 401/403/404/410 means its
// URL or content expired; a listing's 404/405/501 means there is none.
AnswerClass classify_openai_answer(RequestPhase phase, const HttpResult& result, Millis now);

}  // namespace vb
