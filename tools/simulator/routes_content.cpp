// Downloads: the authenticated /v1/videos/{id}/content, and unauthenticated /files/{id}.mp4 on the
// API port (json content mode) and on the CDN port (signed, expiring URLs: the task shape's
// `se`/`sig` form, and the OSS form `Expires`/`Signature` of MiniMax's download URLs).
#include "routes.h"

#include "content.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace sim {

namespace {

std::optional<int64_t> parse_iso_ms(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

std::string signature(const SimContext& ctx, const std::string& name, const std::string& se) {
  return sha256_hex(ctx.cdn_secret + "|" + name + "|" + se).substr(0, 32);
}

// Alibaba OSS style (MiniMax's download URLs): Expires in Unix seconds, a key id and a signature.
std::string oss_signature(const SimContext& ctx, const std::string& name,
                          const std::string& expires) {
  return sha256_hex(ctx.cdn_secret + "|oss|" + name + "|" + expires).substr(0, 28);
}

void send_oss_denied(httplib::Response& res, std::string_view code, std::string_view message) {
  res.status = 403;
  res.set_content("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>" +
                      std::string(code) + "</Code>\n  <Message>" + std::string(message) +
                      "</Message>\n  <HostId>127.0.0.1</HostId>\n</Error>\n",
                  "application/xml");
}

// False when the URL's signature holds and has not expired; otherwise true, with the storage's 403
// in res.
bool oss_signature_refused(const SimContext& ctx, const httplib::Request& req,
                           const std::string& name, httplib::Response& res) {
  const std::string expires = req.get_param_value("Expires");
  if (req.get_param_value("Signature") != oss_signature(ctx, name, expires)) {
    send_oss_denied(
        res, "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided.");
    return true;
  }
  if (std::atoll(expires.c_str()) * 1000 < now_ms()) {
    send_oss_denied(res, "AccessDenied", "Request has expired.");
    return true;
  }
  return false;
}

// Splits "ID.mp4" / "ID.webp" into the video and its body; nullopt for unknown names.
struct MediaFile {
  std::shared_ptr<const std::string> body;
  std::string content_type;
  bool is_video = true;
};

std::optional<MediaFile> find_media(SimContext& ctx, const std::string& name) {
  const bool mp4 = name.ends_with(".mp4");
  if (!mp4 && !name.ends_with(".webp")) {
    return std::nullopt;
  }
  const auto video = ctx.store.find(name.substr(0, name.rfind('.')));
  if (!video || video_state(*video, now_ms()).phase != Phase::completed) {
    return std::nullopt;
  }
  if (mp4) {
    return MediaFile{video->content, "video/mp4", true};
  }
  return MediaFile{std::make_shared<const std::string>(make_thumbnail(video->id)), "image/webp",
                   false};
}

// Serves `body` honouring a single Range; the truncate fault stops after half the slice.
void serve_body(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                const MediaFile& file) {
  ctx.stats.count_content_request();
  const size_t size = file.body->size();
  res.set_header("Accept-Ranges", "bytes");
  const auto range = parse_range(req.get_header_value("Range"), size);
  if (!range) {
    res.set_header("Content-Range", "bytes */" + std::to_string(size));
    return send_error(res, 416, "Requested range not satisfiable.");
  }
  res.status = range->partial ? 206 : 200;
  if (range->partial) {
    res.set_header("Content-Range", "bytes " + std::to_string(range->begin) + "-" +
                                        std::to_string(range->end - 1) + "/" +
                                        std::to_string(size));
  }
  const size_t length = range->end - range->begin;
  const bool truncate = file.is_video && ctx.faults.take_truncate();
  if (truncate) {
    ctx.stats.count_fault("truncate");
  }
  const size_t stop_after = truncate ? length / 2 : length;
  auto body = file.body;
  const size_t begin = range->begin;
  res.set_content_provider(length, file.content_type,
                           [&ctx, body, begin, stop_after](size_t offset, size_t,
                                                           httplib::DataSink& sink) {
                             if (offset >= stop_after) {
                               return false;  // the truncate fault: close with bytes still owed
                             }
                             const size_t chunk = std::min<size_t>(stop_after - offset, 64 * 1024);
                             ctx.stats.add_content_bytes(static_cast<int64_t>(chunk));
                             return sink.write(body->data() + begin + offset, chunk);
                           });
}

std::string content_json(SimContext& ctx, const Video& video) {
  const std::string url =
      ctx.options.content_url_port == "cdn"
          ? signed_url(ctx, video.id + ".mp4", now_ms() + ctx.options.url_ttl_ms)
          : "http://127.0.0.1:" + std::to_string(ctx.api_port.load()) + "/files/" + video.id +
                ".mp4";
  const std::string escaped_id = video.id;  // ids contain only [a-z0-9_:-]; no JSON escaping needed
  return "{\"id\":\"" + escaped_id +
         "\",\"object\":\"video\",\"status\":\"completed\",\"progress\":100,"
         "\"url\":\"" +
         url + "\",\"video_url\":\"" + url + "\",\"size\":\"" + video.size + "\",\"seconds\":\"" +
         video.seconds + "\",\"created_at\":" + std::to_string(video.created_ms / 1000) + "}";
}

void handle_content(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "GET /v1/videos/{id}/content", dice) ||
      apply_drop(ctx, dice, res)) {
    return;
  }
  const std::string id = percent_decode(req.matches[1]);
  const auto video = ctx.store.find(id);
  if (!video) {
    return send_error(res, 404, "Video with id '" + id + "' not found.", "invalid_request_error",
                      {}, "video_id");
  }
  const Phase phase = video_state(*video, now_ms()).phase;
  if (phase == Phase::failed) {
    return send_error(res, 400, "Video generation failed; there is no content to download.");
  }
  if (phase != Phase::completed) {
    return send_error(res, 400,
                      "Video is not ready yet, use GET /v1/videos/{video_id} to check status.");
  }
  if (now_ms() > video_state(*video, now_ms()).finished_ms + ctx.options.content_ttl_ms) {
    ctx.stats.count_fault("expired");
    return send_error(res, 404, "The content of video '" + id + "' has expired.",
                      "invalid_request_error", {}, "video_id");
  }
  const std::string variant = req.has_param("variant") ? req.get_param_value("variant") : "video";
  if (variant != "video" && variant != "thumbnail") {
    return send_error(res, 400,
                      "Invalid value: '" + variant +
                          "'. Supported values are: 'video' and 'thumbnail'.",
                      "invalid_request_error", "invalid_value", "variant");
  }
  if (ctx.options.content_mode == "json" && variant == "video") {
    ctx.stats.count_content_request();
    return send_json(res, 200, content_json(ctx, *video));
  }
  serve_body(ctx, req, res, *find_media(ctx, id + (variant == "video" ? ".mp4" : ".webp")));
}

// Shared by both ports. `require_signature` is the CDN's rule; the API port checks a signature
// only when one is given (json content mode hands out plain /files URLs).
void handle_file(SimContext& ctx, const httplib::Request& req, httplib::Response& res,
                 bool require_signature, const std::string& route) {
  ctx.stats.count_request(route);
  if (req.has_header("Authorization")) {
    ctx.stats.count_auth_on_files();  // a signed URL needs no key; sending one leaks it to the CDN
  }
  const std::string name = percent_decode(req.matches[1]);
  if (req.has_param("Expires")) {
    if (oss_signature_refused(ctx, req, name, res)) {
      return;
    }
  } else if (require_signature || req.has_param("sig")) {
    const std::string se = req.get_param_value("se");
    const auto expires = parse_iso_ms(se);
    if (!expires || req.get_param_value("sig") != signature(ctx, name, se) || *expires < now_ms()) {
      res.status = 403;
      res.set_content(
          "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code>"
          "<Message>Signed expiry time has passed or signature is invalid.</Message></Error>",
          "application/xml");
      return;
    }
  }
  const auto file = find_media(ctx, name);
  if (!file) {
    res.status = 404;
    res.set_content(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>BlobNotFound</Code></Error>",
        "application/xml");
    return;
  }
  serve_body(ctx, req, res, *file);
}

}  // namespace

std::string signed_url(const SimContext& ctx, const std::string& name, int64_t expires_ms) {
  const std::string se = iso_time_ms(expires_ms);
  return "http://127.0.0.1:" + std::to_string(ctx.cdn_port.load()) + "/files/" + name +
         "?se=" + se + "&sig=" + signature(ctx, name, se);
}

std::string oss_signed_url(const SimContext& ctx, const std::string& name, int64_t expires_s,
                           bool backup) {
  const std::string expires = std::to_string(expires_s);
  return "http://127.0.0.1:" + std::to_string(ctx.cdn_port.load()) +
         (backup ? "/backup/files/" : "/files/") + name + "?Expires=" + expires +
         "&OSSAccessKeyId=LTAI5tSimulatorKeyId&Signature=" + oss_signature(ctx, name, expires);
}

MediaUrls signed_media_urls(const SimContext& ctx, const Video& video) {
  const int64_t expires = now_ms() + ctx.options.url_ttl_ms;
  return MediaUrls{signed_url(ctx, video.id + ".mp4", expires),
                   signed_url(ctx, video.id + ".webp", expires)};
}

std::string query_answer(SimContext& ctx, const Video& video, bool task_shape) {
  const VideoState state = video_state(video, now_ms());
  if (!task_shape) {
    return video_object_json(video, state);
  }
  return task_json(video, state, signed_media_urls(ctx, video));
}

void register_content_routes(httplib::Server& server, SimContext& ctx) {
  server.Get(R"(/v1/videos/([^/]+)/content)",
             [&ctx](const auto& req, auto& res) { handle_content(ctx, req, res); });
  server.Get(R"(/files/([^/]+))", [&ctx](const auto& req, auto& res) {
    handle_file(ctx, req, res, false, "GET /files/{name}");
  });
}

void register_cdn_routes(httplib::Server& server, SimContext& ctx) {
  server.Get(R"(/files/([^/]+))", [&ctx](const auto& req, auto& res) {
    handle_file(ctx, req, res, true, "CDN GET /files/{name}");
  });
  server.Get(R"(/backup/files/([^/]+))", [&ctx](const auto& req, auto& res) {
    handle_file(ctx, req, res, true, "CDN GET /backup/files/{name}");
  });
}

}  // namespace sim
