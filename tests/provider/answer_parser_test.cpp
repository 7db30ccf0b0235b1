// [provider] Reading answers defensively: the official Video object, the gateway task
// shape (the seed's exact pending JSON), status words, and hostile bodies.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <string>

#include "provider/answer_parser.h"
#include "provider/openai_videos_provider.h"

using namespace vb;

namespace {

Result<RemoteStatus> query(const std::string& body) {
  OpenAiVideosProvider p(ProviderConfig{});
  HttpResponse r;
  r.status = 200;
  r.body = body;
  return p.parse_query(r);
}

RemoteStatus ok(const std::string& body) {
  auto s = query(body);
  INFO(body.substr(0, 300));
  if (!s) {
    INFO(s.error().message);
    FAIL("parse_query failed");
  }
  return *s;
}

// The gateway's pending answer, verbatim from its documentation ("OpenAI Query Task", the
// 200 example; the task shape of docs/wire-formats.md).
const char* const k_seed_pending = R"json({
    "id": "sora-2:task_01k6x15vhrff09dkkqjrzwhm60",
    "detail": {
        "id": "task_01k6x15vhrff09dkkqjrzwhm60",
        "input": {
            "size": "small",
            "model": "sy_ore",
            "images": [
                "https://filesystem.site/cdn/20250612/VfgB5ubjInVt8sG6rzMppxnu7gEfde.png",
                "https://filesystem.site/cdn/20250612/998IGmUiM2koBGZM3UnZeImbPBNIUL.png"
            ],
            "prompt": "make animate",
            "orientation": "portrait"
        },
        "status": "pending",
        "pending_info": {
            "id": "task_01k6x15vhrff09dkkqjrzwhm60",
            "seed": null,
            "type": "video_gen",
            "user": "user-a1sGDUIOXV32hNITe59LEkHa",
            "model": "sy_8",
            "title": "New Video",
            "width": 352,
            "height": 640,
            "prompt": "make animate",
            "sdedit": null,
            "status": "processing",
            "actions": null,
            "guidance": null,
            "n_frames": 450,
            "priority": 2,
            "operation": "simple_compose",
            "preset_id": null,
            "created_at": "2025-10-06T15:10:26.875729Z",
            "n_variants": 1,
            "project_id": null,
            "request_id": null,
            "generations": [],
            "tracking_id": null,
            "progress_pct": 0.9302178175176704,
            "remix_config": null,
            "inpaint_items": [
                {
                    "type": "image",
                    "preset_id": null,
                    "crop_bounds": null,
                    "frame_index": 0,
                    "cameo_file_id": null,
                    "generation_id": null,
                    "upload_media_id": "media_01k6x15tnzezbst05sth2qgd8r",
                    "source_end_frame": 0,
                    "uploaded_file_id": null,
                    "source_start_frame": 0
                },
                {
                    "type": "image",
                    "preset_id": null,
                    "crop_bounds": null,
                    "frame_index": 0,
                    "cameo_file_id": null,
                    "generation_id": null,
                    "upload_media_id": "media_01k6x15tzafwztz74t018v3enw",
                    "source_end_frame": 0,
                    "uploaded_file_id": null,
                    "source_start_frame": 0
                }
            ],
            "interpolation": null,
            "is_storyboard": null,
            "failure_reason": null,
            "organization_id": null,
            "moderation_result": {
                "code": null,
                "type": "passed",
                "task_id": "task_01k6x15vhrff09dkkqjrzwhm60",
                "is_output_rejection": false,
                "results_by_frame_index": {}
            },
            "needs_user_review": false,
            "queue_status_message": null,
            "progress_pos_in_queue": null,
            "num_unsafe_generations": 0,
            "estimated_queue_wait_time": null
        }
    },
    "status": "pending",
    "status_update_time": 1759763621142
})json";

std::string official(const std::string& status, const std::string& extra = "") {
  return R"({"id":"video_123","object":"video","model":"sora-2","status":")" + status +
         R"(","progress":)" +
         (status == "completed" ? "100"
          : status == "queued"  ? "0"
                                : "37") +
         R"(,"created_at":1712697600,"completed_at":null,"expires_at":null,"prompt":"A calico cat","size":"720x1280","seconds":"8","remixed_from_video_id":null,"error":null)" +
         extra + "}";
}

}  // namespace

TEST_CASE("parse_query: the official Video object in each status", "[provider]") {
  RemoteStatus q = ok(official("queued"));
  CHECK(q.phase == RemotePhase::queued);
  CHECK(q.raw_status == "queued");
  REQUIRE(q.progress.has_value());
  CHECK(*q.progress == 0.0);
  CHECK(q.video_url.empty());
  CHECK(q.error_code.empty());
  CHECK_FALSE(q.expires_at.has_value());

  RemoteStatus r = ok(official("in_progress"));
  CHECK(r.phase == RemotePhase::running);
  REQUIRE(r.progress.has_value());
  CHECK(*r.progress == 37.0);

  RemoteStatus c = ok(
      R"({"id":"video_123","object":"video","model":"sora-2","status":"completed","progress":100,"created_at":1712697600,"completed_at":1712697700,"expires_at":1712784100,"prompt":"x","size":"720x1280","seconds":"8","remixed_from_video_id":null,"error":null})");
  CHECK(c.phase == RemotePhase::completed);
  REQUIRE(c.expires_at.has_value());
  CHECK(*c.expires_at == 1712784100000);  // seconds -> ms
  CHECK(c.video_url.empty());             // official: download from /content
  CHECK(c.error_code.empty());

  RemoteStatus f = ok(
      R"({"id":"video_123","object":"video","model":"sora-2","status":"failed","progress":0,"created_at":1712697600,"completed_at":null,"expires_at":null,"prompt":"x","size":"720x1280","seconds":"8","remixed_from_video_id":null,"error":{"code":"moderation_blocked","message":"Your request was blocked by our moderation system."}})");
  CHECK(f.phase == RemotePhase::failed);
  CHECK(f.error_code == "moderation_blocked");
  CHECK(f.error_message == "Your request was blocked by our moderation system.");
}

TEST_CASE("parse_query: expires_at already in ms is kept", "[provider]") {
  RemoteStatus s = ok(R"({"status":"completed","expires_at":1760341326742})");
  REQUIRE(s.expires_at.has_value());
  CHECK(*s.expires_at == 1760341326742);
  CHECK_FALSE(ok(R"({"status":"completed","expires_at":0})").expires_at.has_value());
  CHECK_FALSE(ok(R"({"status":"completed","expires_at":"never"})").expires_at.has_value());
}

TEST_CASE("parse_query: the seed's exact gateway pending answer", "[provider]") {
  RemoteStatus s = ok(k_seed_pending);
  CHECK(s.phase == RemotePhase::queued);
  CHECK(s.raw_status == "pending");
  REQUIRE(s.progress.has_value());
  CHECK(*s.progress == Approx(93.02178175176704));
  CHECK(s.video_url.empty());
  CHECK(s.error_code.empty());
  CHECK(s.error_message.empty());
  CHECK_FALSE(s.expires_at.has_value());
}

TEST_CASE("parse_query: completed gateway task, the URL and its fallbacks", "[provider]") {
  const std::string top =
      R"({"id":"sora-2:task_01k6x","status":"completed","status_update_time":1759763651908,"width":352,"height":640,)"
      R"("video_url":"https://filesystem.site/gptimage/vg-assets/src.mp4?st=2025-10-06T14%3A04Z&se=2025-10-12T15%3A04%3A21Z&sig=abc",)"
      R"("thumbnail_url":"https://filesystem.site/thumbnail.webp?sig=t",)"
      R"("detail":{"status":"completed","url":"https://filesystem.site/other.mp4","gif_url":"https://filesystem.site/p.gif",)"
      R"("draft_info":{"id":"gen_01k6x","kind":"sora_draft","downloadable_url":"https://videos.openai.com/vg-assets/src.mp4?x=1"}}})";
  RemoteStatus a = ok(top);
  CHECK(a.phase == RemotePhase::completed);
  CHECK(a.video_url ==
        "https://filesystem.site/gptimage/vg-assets/"
        "src.mp4?st=2025-10-06T14%3A04Z&se=2025-10-12T15%3A04%3A21Z&sig=abc");
  CHECK(a.thumbnail_url == "https://filesystem.site/thumbnail.webp?sig=t");

  RemoteStatus b = ok(
      R"({"id":"sora-2:task_1","status":"completed","detail":{"status":"completed","url":"https://filesystem.site/detail.mp4","draft_info":{"downloadable_url":"https://videos.openai.com/draft.mp4"}}})");
  CHECK(b.video_url == "https://filesystem.site/detail.mp4");

  RemoteStatus c = ok(
      R"({"id":"sora-2:task_1","status":"completed","detail":{"status":"completed","draft_info":{"downloadable_url":"https://videos.openai.com/draft.mp4"}}})");
  CHECK(c.video_url == "https://videos.openai.com/draft.mp4");

  // A URL that is not http(s) is skipped in favour of the next.
  RemoteStatus d = ok(
      R"j({"status":"success","video_url":"javascript:alert(1)","detail":{"url":"https://ok.test/v.mp4"}})j");
  CHECK(d.phase == RemotePhase::completed);
  CHECK(d.video_url == "https://ok.test/v.mp4");

  RemoteStatus e = ok(R"({"status":"completed","video_url":null,"detail":{"url":42}})");
  CHECK(e.video_url.empty());
}

TEST_CASE("parse_query: progress in its many spellings", "[provider]") {
  struct Case {
    const char* body;
    std::optional<double> progress;
  };
  const Case cases[] = {
      {R"({"status":"processing","progress":45})", 45.0},
      {R"({"status":"processing","progress":"45"})", 45.0},
      {R"({"status":"processing","progress":"45%"})", 45.0},
      {R"({"status":"processing","progress":"0"})", 0.0},
      {R"({"status":"processing","progress":12.5})", 12.5},
      {R"({"status":"processing","progress":100})", 100.0},
      {R"({"status":"processing","detail":{"pending_info":{"progress_pct":0.93}}})", 93.0},
      {R"({"status":"processing","progress":null,"detail":{"pending_info":{"progress_pct":0.5}}})",
       50.0},
      {R"({"status":"processing","progress":-5})", std::nullopt},
      {R"({"status":"processing","progress":250})", std::nullopt},
      {R"({"status":"processing","progress":"NaN"})", std::nullopt},
      {R"({"status":"processing","progress":"nan"})", std::nullopt},
      {R"({"status":"processing","progress":"inf"})", std::nullopt},
      {R"({"status":"processing","progress":1e400})", std::nullopt},
      {R"({"status":"processing","progress":"abc"})", std::nullopt},
      {R"({"status":"processing","progress":""})", std::nullopt},
      {R"({"status":"processing","progress":true})", std::nullopt},
      {R"({"status":"processing","progress":[50]})", std::nullopt},
      {R"({"status":"processing","detail":{"pending_info":{"progress_pct":1.5}}})", std::nullopt},
      {R"({"status":"processing","detail":{"pending_info":{"progress_pct":-0.1}}})", std::nullopt},
      {R"({"status":"processing","detail":"oops"})", std::nullopt},
      {R"({"status":"processing"})", std::nullopt},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    auto s = query(c.body);
    if (!s) {
      // 1e400 may be refused by the JSON reader itself; that is fine, it is not a crash.
      CHECK_FALSE(c.progress.has_value());
      continue;
    }
    CHECK(s->progress.has_value() == c.progress.has_value());
    if (s->progress && c.progress) {
      CHECK(*s->progress == Approx(*c.progress));
    }
  }
}

TEST_CASE("parse_query: failure details from the gateway shapes", "[provider]") {
  RemoteStatus a = ok(R"({"status":"failed","error":"upstream exploded"})");
  CHECK(a.phase == RemotePhase::failed);
  CHECK(a.error_code == "generation_failed");
  CHECK(a.error_message == "upstream exploded");

  RemoteStatus b = ok(
      R"({"status":"failed","detail":{"pending_info":{"failure_reason":"content policy","moderation_result":{"type":"blocked"}}}})");
  CHECK(b.error_code == "moderation_blocked");
  CHECK(b.error_message == "content policy");

  RemoteStatus c = ok(R"({"status":"FAILURE","fail_reason":"quota"})");
  CHECK(c.phase == RemotePhase::failed);
  CHECK(c.error_code == "generation_failed");
  CHECK(c.error_message == "quota");

  RemoteStatus d = ok(R"({"status":"cancelled"})");
  CHECK(d.phase == RemotePhase::failed);
  CHECK(d.error_code == "generation_failed");

  // Not failed: no failure fields even if present.
  RemoteStatus e = ok(R"({"status":"processing","error":{"code":"x","message":"y"}})");
  CHECK(e.error_code.empty());
  CHECK(e.error_message.empty());
}

TEST_CASE("parse_query: unknown status words are not an error", "[provider]") {
  RemoteStatus s = ok(R"({"status":"rendering_frames","progress":10})");
  CHECK(s.phase == RemotePhase::unknown);
  CHECK(s.raw_status == "rendering_frames");
  CHECK(s.error_code.empty());
}

TEST_CASE("parse_query: hostile bodies are protocol errors, not crashes", "[provider]") {
  const std::string bodies[] = {
      "",
      "not json",
      "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
      "[]",
      R"([{"status":"completed"}])",
      "null",
      "42",
      R"("completed")",
      "{}",
      R"({"id":"video_1"})",
      R"({"status":""})",
      R"({"status":null})",
      R"({"status":7})",
      R"({"status":{"phase":"completed"}})",
      R"({"status":"completed")",
      std::string("{\"status\":\"compl\0eted\"}", 23),
  };
  for (const std::string& body : bodies) {
    INFO("body: " << body.substr(0, 80));
    auto s = query(body);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == ErrorCode::protocol);
    CHECK_FALSE(s.error().message.empty());
  }
  auto html = query("<html>" + std::string(5000, 'x') + "</html>");
  REQUIRE_FALSE(html.has_value());
  CHECK(html.error().message ==
        "the answer is not a JSON object: <html>" + std::string(194, 'x') + "...");
  auto missing = query(R"({"id":"video_1"})");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message == R"(the answer has no status: {"id":"video_1"})");
}

TEST_CASE("parse_query: a huge body is read, not feared", "[provider]") {
  std::string filler(8 * 1024 * 1024, 'x');
  std::string body = R"({"status":"completed","padding":")" + filler +
                     R"(","video_url":"https://cdn.test/v.mp4"})";
  RemoteStatus s = ok(body);
  CHECK(s.phase == RemotePhase::completed);
  CHECK(s.video_url == "https://cdn.test/v.mp4");

  auto bad = query(std::string(8 * 1024 * 1024, '{'));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == ErrorCode::protocol);
  CHECK(bad.error().message.size() < 600);
}

// Regression test (bug found and fixed): src/provider/answer_parser.cpp parse_object (and
// outcome_of, error_message_from_body, job_spec_from_json) use rapidjson's default recursive
// parser: a body of deeply nested arrays (the transport accepts up to 16 MiB) overflows the stack
// and kills the process, against the "never a crash" contract of video_provider.h. Fix: parse with
// rapidjson::kParseIterativeFlag (doc.Parse<rapidjson::kParseIterativeFlag>(...)) or
// reject bodies whose nesting exceeds a small depth before parsing.
// Run in a child process so that the crash cannot take the test binary down.
TEST_CASE("parse_query: deeply nested JSON does not crash", "[provider]") {
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // Die quietly: Catch's crash handler would report into the parent's output.
    ::signal(SIGSEGV, SIG_DFL);
    ::signal(SIGBUS, SIG_DFL);
    std::string body = R"({"status":"completed","x":)" + std::string(4 * 1024 * 1024, '[');
    auto s = query(body);
    ::_exit(s.has_value() ? 1 : 0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO("child wait status " << status);
  CHECK(WIFEXITED(status));
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

TEST_CASE("map_status: every word of the gateway table, any case", "[provider]") {
  struct Case {
    const char* word;
    RemotePhase phase;
  };
  const Case cases[] = {
      {"queued", RemotePhase::queued},       {"pending", RemotePhase::queued},
      {"submitted", RemotePhase::queued},    {"not_start", RemotePhase::queued},
      {"preparing", RemotePhase::queued},    {"unknown", RemotePhase::queued},
      {"notstarted", RemotePhase::queued},   {"created", RemotePhase::queued},
      {"starting", RemotePhase::queued},     {"processing", RemotePhase::running},
      {"in_progress", RemotePhase::running}, {"running", RemotePhase::running},
      {"generating", RemotePhase::running},  {"completed", RemotePhase::completed},
      {"complete", RemotePhase::completed},  {"success", RemotePhase::completed},
      {"succeeded", RemotePhase::completed}, {"finished", RemotePhase::completed},
      {"failed", RemotePhase::failed},       {"failure", RemotePhase::failed},
      {"fail", RemotePhase::failed},         {"error", RemotePhase::failed},
      {"cancelled", RemotePhase::failed},    {"canceled", RemotePhase::failed},
  };
  auto upper = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  };
  auto title = [](std::string s) {
    s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
  };
  for (const Case& c : cases) {
    INFO(c.word);
    CHECK(map_status(c.word) == c.phase);
    CHECK(map_status(upper(c.word)) == c.phase);
    CHECK(map_status(title(c.word)) == c.phase);
  }
  for (const char* word : {"", "done", "in progress", " queued", "queued ", "succes", "paused",
                           "expired", "in-progress"}) {
    INFO("'" << word << "'");
    CHECK(map_status(word) == RemotePhase::unknown);
  }
}

TEST_CASE("remote phase names", "[provider]") {
  CHECK(std::string(to_string(RemotePhase::queued)) == "queued");
  CHECK(std::string(to_string(RemotePhase::running)) == "running");
  CHECK(std::string(to_string(RemotePhase::completed)) == "completed");
  CHECK(std::string(to_string(RemotePhase::failed)) == "failed");
  CHECK(std::string(to_string(RemotePhase::unknown)) == "unknown");
}

TEST_CASE("error_message_from_body", "[provider]") {
  CHECK(error_message_from_body(
            R"({"error":{"message":"Invalid size","type":"invalid_request_error"}})") ==
        "Invalid size");
  CHECK(error_message_from_body(R"({"error":"bad key"})") == "bad key");
  CHECK(error_message_from_body(R"({"message":"not found"})") == "not found");
  CHECK(error_message_from_body("") == "(empty body)");
  CHECK(error_message_from_body("line1\nline2\t\x01") == "line1 line2  ");
  CHECK(error_message_from_body(std::string(250, 'y')) == std::string(200, 'y') + "...");
  std::string long_message = R"({"error":{"message":")" + std::string(800, 'm') + R"("}})";
  CHECK(error_message_from_body(long_message) == std::string(500, 'm'));
}

TEST_CASE("encode_path_segment and find_video_url", "[provider]") {
  CHECK(encode_path_segment("AZaz09-_.~:@") == "AZaz09-_.~:@");
  CHECK(encode_path_segment("a b/c?d#e%f&g=h+i") == "a%20b%2Fc%3Fd%23e%25f%26g%3Dh%2Bi");
  CHECK(encode_path_segment(std::string("\x00\xFF", 2)) == "%00%FF");
  CHECK(find_video_url(R"({"url":"https://x.test/a.mp4"})") == "https://x.test/a.mp4");
  CHECK(find_video_url(R"({"url":"ftp://x.test/a.mp4"})").empty());
  CHECK(find_video_url("garbage").empty());
  CHECK(parse_answer_id(R"({"id":"video_9"})").value() == "video_9");
}
