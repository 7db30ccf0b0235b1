// [provider] Kling: family paths chosen by the job, external_task_id, codes in the body, the
// native and gateway answer shapes, and the listing walk over both families.
#include <catch2/catch.hpp>

#include <string>

#include "provider/kling_provider.h"
#include "provider/provider_answers.h"

using namespace vb;
using namespace vb::provider_test;

namespace {

KlingProvider kling_provider() {
  ProviderConfig c;
  c.dialect = Dialect::kling;
  c.base_url = "https://kling.test";
  return KlingProvider(c);
}

JobSpec spec_with(int images) {
  JobSpec s;
  s.id = "a";
  s.model = "kling-v2-1";
  s.prompt = "a fox";
  s.seconds = 5;
  for (int i = 0; i < images; ++i) {
    s.images.push_back("https://img.test/" + std::to_string(i) + ".png");
  }
  return s;
}

}  // namespace

TEST_CASE("kling: the family path follows the job, for create and query", "[provider]") {
  const KlingProvider p = kling_provider();
  CreateContext context;
  context.job_key = "vb-b-a";
  auto text = p.create_request(spec_with(0), context);
  REQUIRE(text.has_value());
  CHECK(text->url == "https://kling.test/v1/videos/text2video");
  CHECK(text->body == R"({"model_name":"kling-v2-1","prompt":"a fox","duration":"5","mode":"std",)"
                      R"("aspect_ratio":"16:9","external_task_id":"vb-b-a"})");
  auto image = p.create_request(spec_with(2), context);
  REQUIRE(image.has_value());
  CHECK(image->url == "https://kling.test/v1/videos/image2video");
  CHECK(image->body.find(
            R"("image":"https://img.test/0.png","image_tail":"https://img.test/1.png")") !=
        std::string::npos);
  CHECK(p.query_request(spec_with(0), "8672").url ==
        "https://kling.test/v1/videos/text2video/8672");
  CHECK(p.query_request(spec_with(1), "8672").url ==
        "https://kling.test/v1/videos/image2video/8672");
}

TEST_CASE("kling: check names the field Kling cannot take", "[provider]") {
  const KlingProvider p = kling_provider();
  JobSpec s = spec_with(0);
  CHECK(p.check(s).has_value());
  s.seconds = 8;
  CHECK(p.check(s).error().message == "seconds: kling-v2-1 takes 5 or 10, got 8");
  s = spec_with(0);
  s.model = "sora-2";
  CHECK(p.check(s).error().message.starts_with("model: Kling takes its own model names"));
  s = spec_with(1);
  s.images[0] = "/tmp/a.png";
  CHECK(p.check(s).error().message.starts_with("images: '/tmp/a.png' is a local file"));
}

TEST_CASE("kling: the code in the body decides, not the HTTP status", "[provider]") {
  const KlingProvider p = kling_provider();
  const auto kind = [&](RequestPhase phase, int status, const char* body) {
    return p.classify(phase, answered(status, body), 0).kind;
  };
  CHECK(kind(RequestPhase::submit, 200, R"({"code":0,"data":{"task_id":"1"}})") == AnswerKind::ok);
  CHECK(kind(RequestPhase::submit, 429, R"({"code":1302,"message":"rate"})") ==
        AnswerKind::slow_down);
  CHECK(kind(RequestPhase::submit, 429, R"({"code":1303,"message":"pack"})") ==
        AnswerKind::slow_down);
  CHECK(kind(RequestPhase::submit, 429, R"({"code":1102,"message":"used up"})") ==
        AnswerKind::stop_run);
  CHECK(kind(RequestPhase::submit, 401, R"({"code":1004,"message":"expired"})") ==
        AnswerKind::stop_run);
  CHECK(kind(RequestPhase::submit, 400, R"({"code":1201,"message":"bad"})") ==
        AnswerKind::rejected);
  CHECK(kind(RequestPhase::poll, 200, R"({"code":1200,"message":"bad task"})") ==
        AnswerKind::rejected);
  const AnswerClass moderated =
      p.classify(RequestPhase::submit, answered(400, R"({"code":1301,"message":"policy"})"), 0);
  CHECK(moderated.kind == AnswerKind::rejected);
  CHECK(moderated.code == "moderation");
  CHECK(moderated.detail == "HTTP 400, Kling code 1301: policy");
  // A gateway's own 502 page is no Kling answer: a create may have started a video.
  CHECK(kind(RequestPhase::submit, 502, "<html>bad gateway</html>") == AnswerKind::ambiguous);
}

TEST_CASE("kling: native and gateway answers", "[provider]") {
  const KlingProvider p = kling_provider();
  HttpResponse native;
  native.status = 200;
  native.body = R"({"code":0,"message":"SUCCEED","data":{"task_id":"867283741759111202",)"
                R"("task_status":"submitted","task_info":{"external_task_id":"vb-b-a"}}})";
  auto created = p.parse_create(native);
  REQUIRE(created.has_value());
  CHECK(created->remote_id == "867283741759111202");
  CHECK(created->status.phase == RemotePhase::queued);
  HttpResponse relayed;
  relayed.status = 200;
  relayed.body = R"({"id":"task_abc","object":"video","status":"queued"})";
  created = p.parse_create(relayed);
  REQUIRE(created.has_value());
  CHECK(created->remote_id == "task_abc");

  HttpResponse done;
  done.status = 200;
  done.body = R"({"code":0,"data":{"task_id":"1","task_status":"succeed",)"
              R"("task_result":{"videos":[{"id":"v","url":"https://cdn.test/v.mp4"}]}}})";
  auto status = p.parse_query(done);
  REQUIRE(status.has_value());
  CHECK(status->phase == RemotePhase::completed);
  CHECK(status->video_url == "https://cdn.test/v.mp4");
  HttpResponse record;
  record.status = 200;
  record.body = R"({"code":"success","data":{"task_id":"task_abc","status":"IN_PROGRESS",)"
                R"("progress":"50%","data":{"code":0,"data":{"task_status":"processing"}}}})";
  status = p.parse_query(record);
  REQUIRE(status.has_value());
  CHECK(status->phase == RemotePhase::running);
  REQUIRE(status->progress.has_value());
  CHECK(*status->progress == 50.0);
  record.body = R"({"code":"success","data":{"status":"FAILURE","fail_reason":"content risk"}})";
  status = p.parse_query(record);
  REQUIRE(status.has_value());
  CHECK(status->phase == RemotePhase::failed);
  CHECK(status->error_message == "content risk");
}

TEST_CASE("kling: the listing walks text2video, then image2video; matched by job key",
          "[provider]") {
  const KlingProvider p = kling_provider();
  CHECK(p.list_request("").url == "https://kling.test/v1/videos/text2video?pageNum=1&pageSize=100");
  HttpResponse page;
  page.status = 200;
  page.body = R"({"code":0,"data":[{"task_id":"2","task_status":"processing",)"
              R"("task_info":{"external_task_id":"vb-b-a"},"created_at":1774805076166}]})";
  auto text = p.parse_list("", page);
  REQUIRE(text.has_value());
  CHECK(text->partial);
  CHECK(text->has_more);
  CHECK(text->last_id == "image2video:1");
  REQUIRE(text->videos.size() == 1);
  CHECK(text->videos[0].created_at == 1774805076166);
  CHECK(p.matches(spec_with(0), "vb-b-a", text->videos[0]));
  CHECK_FALSE(p.matches(spec_with(0), "vb-b-b", text->videos[0]));
  CHECK(p.list_request(text->last_id).url ==
        "https://kling.test/v1/videos/image2video?pageNum=1&pageSize=100");
  auto image = p.parse_list("image2video:1", page);
  REQUIRE(image.has_value());
  CHECK_FALSE(image->partial);
  CHECK_FALSE(image->has_more);
}
