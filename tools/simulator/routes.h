// Route registration for both listeners, and the create/answer helpers the route files share.
// Handlers run on httplib worker threads and touch shared state only through SimContext.
#pragma once

#include "http_util.h"
#include "sim_context.h"
#include "video_json.h"

#include <httplib.h>

#include <string>
#include <vector>

namespace sim {

void register_video_routes(httplib::Server& server, SimContext& ctx);    // /v1/videos...
void register_content_routes(httplib::Server& server, SimContext& ctx);  // /content, /files
void register_gateway_routes(httplib::Server& server,
                             SimContext& ctx);  // /v1/video/..., characters, edits
void register_admin_routes(httplib::Server& server, SimContext& ctx);  // /__stats, /__faults...
void register_cdn_routes(httplib::Server& server,
                         SimContext& ctx);  // signed /files on the CDN port
void register_kling_routes(httplib::Server& server, SimContext& ctx);     // --dialect kling
void register_minimax_routes(httplib::Server& server, SimContext& ctx);   // --dialect minimax
void register_wan_routes(httplib::Server& server, SimContext& ctx);       // --dialect wan
void register_vidu_routes(httplib::Server& server, SimContext& ctx);      // --dialect vidu
void register_seedance_routes(httplib::Server& server, SimContext& ctx);  // --dialect seedance
void register_chat_routes(httplib::Server& server, SimContext& ctx);      // --dialect chat

// What a create answers with.
enum class CreateAnswer {
  by_shape,     // Video object (--shape openai) or task stub with object fields (--shape task)
  task_created  // gateway /v1/video/create: {id, status, status_update_time}
};

struct NewVideo {
  std::string model = "sora-2";
  std::string prompt;
  std::string size = "720x1280";
  std::string seconds = "4";
  std::string orientation = "portrait";
  std::vector<std::string> images;
  std::string remixed_from;
  int width = 720;
  int height = 1280;
  bool task_id = false;  // id style "<model>:task_..." instead of "video_..."
};

// Applies --rpm and --max-in-flight, creates and counts the video, then answers, or loses the
// answer when the lost-create fault fires (the video still exists and is counted).
void finish_create(SimContext& ctx, httplib::Response& res, NewVideo spec, const Dice& dice,
                   CreateAnswer answer);

// --max-in-flight, then --rpm (which records an admitted create); a refusal is counted as
// in_flight_429 / rpm_429 whatever status the dialect answers it with.
enum class CreateLimit { none, in_flight, rpm };
CreateLimit check_create_limits(SimContext& ctx);
// The same limits answered as the OpenAI API does (429, Retry-After); true when refused.
bool refused_by_limits(SimContext& ctx, httplib::Response& res);
// The dropped-create fault: true when the answer was replaced by a cut connection (nothing
// created).
bool drop_create(SimContext& ctx, httplib::Response& res);

// Sets what every new video gets from the options: creation time, generation time, fail and
// stuck markers, its MP4 (from id, prompt, seconds, width and height, which must be set) and
// sha256.
void complete_video(const SimContext& ctx, Video& video);
// The lost-answer fault on a create that did create a video: counted, then the answer is cut
// (after stalling, in delay mode).
void lose_create_answer(SimContext& ctx, httplib::Response& res);

// GET answers of an existing video per --shape (or always the task shape for the gateway).
std::string query_answer(SimContext& ctx, const Video& video, bool task_shape);
MediaUrls signed_media_urls(const SimContext& ctx, const Video& video);
// A URL of `name` on the CDN listener, valid until expires_ms (the `se`/`sig` form).
std::string signed_url(const SimContext& ctx, const std::string& name, int64_t expires_ms);
// The OSS form (`Expires` in Unix seconds, `OSSAccessKeyId`, `Signature`), on /files or
// /backup/files.
std::string oss_signed_url(const SimContext& ctx, const std::string& name, int64_t expires_s,
                           bool backup);
bool is_pro_model(const std::string& model);

// A GET drop fault: true when the answer was replaced by a cut connection.
bool apply_drop(SimContext& ctx, const Dice& dice, httplib::Response& res);

std::string percent_decode(const std::string& text);

}  // namespace sim
