// The gateways' chat-completions route for video models (--dialect chat): `POST
// /v1/chat/completions` with stream:true answers Server-Sent Events whose deltas carry progress
// text while the video generates, then a markdown link to the MP4, then [DONE]. The stream is the
// only handle: there is no id to poll and no listing. OpenAI-style auth, errors and faults; a lost
// create answer is a stream cut after the request left (the video is still made and paid).
#include "json_out.h"
#include "routes.h"

#include <algorithm>
#include <atomic>
#include <memory>

namespace sim {

namespace {

// What the request asked for; the last user message is the prompt.
struct ChatRequest {
  std::string model;
  bool stream = false;
  NewVideo spec;
};

std::optional<std::string> read_user_message(const Fields& fields, NewVideo& spec) {
  std::string last;
  for (size_t i = 0; fields.contains("messages." + std::to_string(i)); ++i) {
    if (string_field(fields, "messages." + std::to_string(i) + ".role") == "user") {
      last = "messages." + std::to_string(i) + ".content";
    }
  }
  if (last.empty()) {
    return "messages must hold a user message";
  }
  if (const auto text = string_field(fields, last)) {
    spec.prompt = *text;
  }
  for (size_t i = 0; fields.contains(last + "." + std::to_string(i)); ++i) {
    const std::string part = last + "." + std::to_string(i);
    const std::string type = string_field(fields, part + ".type").value_or("");
    if (type == "text") {
      spec.prompt += string_field(fields, part + ".text").value_or("");
    } else if (type == "image_url") {
      spec.images.push_back(string_field(fields, part + ".image_url.url").value_or(""));
    }
  }
  return spec.prompt.empty() ? std::optional<std::string>("the user message needs a text")
                             : std::nullopt;
}

// Model names of the chat route: sora-2, sora-2-pro, and the older
// sora_video2[-landscape][-15s|-25s].
std::optional<std::string> read_chat_request(const httplib::Request& req, ChatRequest& out) {
  Fields fields;
  if (auto error = read_fields(req, fields); !error.empty()) {
    return error;
  }
  out.model = string_field(fields, "model").value_or("");
  const bool pro = out.model.starts_with("sora-2-pro");
  if (out.model != "sora-2" && !pro && !out.model.starts_with("sora_video2")) {
    return "The model `" + out.model + "` does not exist or you do not have access to it.";
  }
  out.stream = fields.contains("stream") && fields.at("stream").text == "true";
  if (auto error = read_user_message(fields, out.spec)) {
    return error;
  }
  NewVideo& spec = out.spec;
  spec.model = out.model;
  spec.task_id = true;
  spec.orientation = out.model.find("landscape") != std::string::npos ? "landscape" : "portrait";
  spec.seconds = out.model.ends_with("-25s") ? "25" : (out.model.ends_with("-15s") ? "15" : "10");
  spec.size = pro ? "large" : "small";
  const int narrow = pro ? 1080 : 352;
  const int wide = pro ? 1920 : 640;
  spec.width = spec.orientation == "portrait" ? narrow : wide;
  spec.height = spec.orientation == "portrait" ? wide : narrow;
  return std::nullopt;
}

// {id, object, created, model, choices:[{index:0, ... (left open for the caller)
void start_completion(JsonWriter& w, const std::string& id, std::string_view object,
                      const Video& video) {
  w.StartObject();
  put(w, "id", id);
  put(w, "object", object);
  w.Key("created");
  w.Int64(video.created_ms / 1000);
  put(w, "model", video.model);
  w.Key("choices");
  w.StartArray();
  w.StartObject();
  w.Key("index");
  w.Int(0);
}

std::string chunk_json(const std::string& id, const Video& video, std::string_view content,
                       bool role, const char* finish_reason) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  start_completion(w, id, "chat.completion.chunk", video);
  w.Key("delta");
  w.StartObject();
  if (role) {
    put(w, "role", "assistant");
  }
  if (finish_reason == nullptr) {
    put(w, "content", content);
  }
  w.EndObject();
  w.Key("finish_reason");
  finish_reason ? w.String(finish_reason) : w.Null();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return std::string("data: ") + buffer.GetString() + "\n\n";
}

// The last words of the assistant: the link, or why there is none.
std::string final_text(const SimContext& ctx, const Video& video, const VideoState& state) {
  if (state.phase == Phase::failed) {
    return "\n\nvideo generation failed: " + std::string(k_failure_message);
  }
  const std::string url = signed_url(ctx, video.id + ".mp4", now_ms() + ctx.options.url_ttl_ms);
  return "\n\nvideo generated successful,[click here](" + url + ")";
}

struct ChatStream {
  Video video;
  std::string id;
  bool cut = false;  // the lost-answer fault: the stream breaks after two progress chunks
  int chunks = 0;
  bool ended = false;
};

// One call, one SSE event: the role first, then a progress line every tenth of the generation time.
bool next_event(SimContext& ctx, ChatStream& stream, httplib::DataSink& sink) {
  if (stream.ended) {
    const std::string done = "data: [DONE]\n\n";
    sink.write(done.data(), done.size());
    sink.done();
    return true;
  }
  if (stream.cut && stream.chunks >= 3) {
    return false;  // closes the connection mid-stream: no terminating chunk
  }
  std::string event;
  if (stream.chunks == 0) {
    event = chunk_json(stream.id, stream.video, "", true, nullptr);
  } else {
    const auto interval =
        std::chrono::milliseconds(std::max<int64_t>(50, stream.video.gen_ms / 10));
    if (!ctx.shutdown.sleep_for(interval)) {
      return false;
    }
    const VideoState state = video_state(stream.video, now_ms());
    if (is_terminal(state.phase)) {
      event = chunk_json(stream.id, stream.video, final_text(ctx, stream.video, state), false,
                         nullptr) +
              chunk_json(stream.id, stream.video, "", false, "stop");
      stream.ended = true;
    } else {
      const std::string word = state.phase == Phase::queued ? "Queued" : "Generating";
      event = chunk_json(stream.id, stream.video,
                         "\n> " + word + ": " + std::to_string(state.progress) + "%", false,
                         nullptr);
    }
  }
  ++stream.chunks;
  return sink.write(event.data(), event.size());
}

std::string completion_json(const std::string& id, const Video& video, const std::string& content) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  start_completion(w, id, "chat.completion", video);
  w.Key("message");
  w.StartObject();
  put(w, "role", "assistant");
  put(w, "content", content);
  w.EndObject();
  put(w, "finish_reason", "stop");
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return buffer.GetString();
}

// stream:false: the answer waits for the video (a client's read timeout may well fire first).
void answer_whole(SimContext& ctx, httplib::Response& res, const Video& video,
                  const std::string& id) {
  VideoState state = video_state(video, now_ms());
  while (!is_terminal(state.phase)) {
    if (!ctx.shutdown.sleep_for(std::chrono::milliseconds(50))) {
      return cut_answer(res, "application/json", 512);
    }
    state = video_state(video, now_ms());
  }
  send_json(res, 200, completion_json(id, video, final_text(ctx, video, state)));
}

void handle_chat(SimContext& ctx, const httplib::Request& req, httplib::Response& res) {
  Dice dice;
  if (!api_prologue(ctx, req, res, "POST /v1/chat/completions", dice)) {
    return;
  }
  ChatRequest chat;
  if (const auto error = read_chat_request(req, chat)) {
    return send_error(res, 400, *error, "invalid_request_error");
  }
  std::unique_lock admitting(ctx.admitting);
  if (refused_by_limits(ctx, res) || drop_create(ctx, res)) {
    return;
  }
  Video video;
  video.id = ctx.store.new_task_id(chat.model);
  video.model = chat.model;
  video.prompt = chat.spec.prompt;
  video.size = chat.spec.size;
  video.seconds = chat.spec.seconds;
  video.orientation = chat.spec.orientation;
  video.images = chat.spec.images;
  video.width = chat.spec.width;
  video.height = chat.spec.height;
  complete_video(ctx, video);
  ctx.stats.count_create(video.prompt);
  ctx.stats.observe_in_flight(ctx.store.add(video));
  admitting.unlock();
  const bool lose = ctx.faults.take_lost_create(dice.lose_create);
  const std::string id = "chatcmpl-" + ctx.store.new_request_id();
  if (!chat.stream) {
    return lose ? lose_create_answer(ctx, res) : answer_whole(ctx, res, video, id);
  }
  if (lose) {
    ctx.stats.count_fault("lost_create");
  }
  auto stream = std::make_shared<ChatStream>(ChatStream{video, id, lose});
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream",
                                   [&ctx, stream](size_t, httplib::DataSink& sink) {
                                     return next_event(ctx, *stream, sink);
                                   });
}

}  // namespace

void register_chat_routes(httplib::Server& server, SimContext& ctx) {
  server.Post("/v1/chat/completions",
              [&ctx](const auto& req, auto& res) { handle_chat(ctx, req, res); });
}

}  // namespace sim
