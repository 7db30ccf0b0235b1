// Plumbing shared by the native dialects (kling, minimax): where their routes are served (under a
// gateway prefix or not), the prologue every request passes (the vendor's own credentials or a
// gateway's Bearer key, latency, injected faults), how a refusal reaches the client (the vendor's
// body, or a gateway's wrapper of it), and the steps every paid create goes through. All functions
// are safe on any worker thread (state lives in SimContext).
#pragma once

#include "routes.h"
#include "vendor_faults.h"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

// Which request of a task's life a route serves: gateways word errors differently per step.
enum class Step { create, query, list, retrieve };

// A vendor's refusal: the HTTP status it travels with (MiniMax: always 200), its code (digits for
// the vendors whose codes are numbers) and message.
struct VendorError {
  int http_status = 200;
  std::string code;
  std::string message;
};

// The vendor path (e.g. "/v1/videos/text2video") as served: under --gateway-prefix, if any.
std::string served_path(const SimContext& ctx, std::string_view vendor_path);
// The same for a route regex: the prefix is escaped, the vendor part kept as a regex.
std::string served_pattern(const SimContext& ctx, std::string_view vendor_regex);

// Runs before every native route. Counts the request under `route`, sleeps --latency-ms, checks
// the credentials (the vendor's own directly, the Bearer gateway key behind a prefix), then the
// injected 429/500 in the words of the dialect (or of the gateway, for a taskdto/yunwu query).
// Returns false when `res` already holds the answer. `dice` receives this request's fault draws.
bool native_prologue(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                     const std::string& route, Step step, Dice& dice);

// A vendor fault kind in the words of the running dialect.
VendorError vendor_refusal(const SimContext& ctx, VendorFaultKind kind);

// Answers `error` and counts its code in vendor_codes_sent: the vendor's body directly and through
// a native gateway; on a create through the taskdto shape, new-api's task error wrapping it
// ({code, message, data:null}: an upstream non-200 as "fail_to_fetch_task" with the upstream's
// status and raw body, a MiniMax base_resp error as HTTP 400 with the code as a string).
void send_vendor_error(SimContext& ctx, httplib::Response& res, Step step,
                       const VendorError& error);

// A gateway's own error: new-api's OpenAI-style envelope with type "new_api_error".
void send_gateway_error(httplib::Response& res, int status, std::string_view message,
                        std::string_view code = {});
// new-api's answer to a query of a task it does not know: 400 {code:"task_not_exist", ...}.
void send_task_not_exist(httplib::Response& res);

// Everything after a valid native create: a vendor fault, --max-in-flight (the dialect's
// concurrency refusal) and --rpm (its rate-limit refusal), the dropped-create fault; then `video`
// (complete_video done) is stored unless its external_task_id is taken, which answers `duplicate`.
// The stored video is counted; the lost-answer fault may then cut the answer. Returns the video
// when the route must answer it, nullopt when `res` already holds the answer.
std::optional<Video> admit_native_create(SimContext& ctx, httplib::Response& res, Video video,
                                         const Dice& dice, const VendorError& duplicate);

// Gives `video` (validated) the gateway's own id in the taskdto shape, completes it
// (complete_video) and runs admit_native_create; in the taskdto shape it also answers new-api's
// OpenAI video object. Returns the video when the route must answer natively.
std::optional<Video> create_native_task(SimContext& ctx, httplib::Response& res, Video video,
                                        const Dice& dice, const VendorError& duplicate = {});

// A dialect's taskdto record of a task (gateway_json.h), at `now_ms`.
using TaskDtoBody =
    std::function<std::string(SimContext&, const Video&, const VideoState&, int64_t now_ms)>;

struct TaskLookup {
  bool answered = false;      // res holds the answer
  std::optional<Video> task;  // otherwise the task named, if known
};

// The start of every task query: the prologue, the query count, the drop fault, the lookup of `id`
// (find_task); in the taskdto shape the whole answer (`task_dto_body`, or task_not_exist).
TaskLookup start_task_query(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                            const std::string& route, const std::string& id,
                            const TaskDtoBody& task_dto_body);

// The start of a task listing: the prologue, the drop fault, and the 404 of a gateway that relays
// no listing (taskdto shape) or of --no-list. False when `res` already holds the answer.
bool start_task_list(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                     const std::string& path);

// The tasks the vendor still knows (not past --task-ttl-ms) that `keep` accepts, newest first.
using TaskFilter = std::function<bool(const Video&, const VideoState&)>;
std::vector<Video> known_tasks(const SimContext& ctx, int64_t now_ms, const TaskFilter& keep);

// Items [begin, end) of page `index` (from 0) of `size` items, out of `total`.
struct PageRange {
  size_t begin = 0;
  size_t end = 0;
};
PageRange page_range(size_t total, size_t index, size_t size);

// A finished task the vendor no longer knows (--task-ttl-ms after it finished).
bool task_forgotten(const SimContext& ctx, const Video& video, int64_t now_ms);

// The task a client names: the gateway's public id in the taskdto shape, else the vendor's id.
std::optional<Video> find_task(const SimContext& ctx, const std::string& id);

}  // namespace sim
