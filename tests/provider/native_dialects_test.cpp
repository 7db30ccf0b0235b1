// [provider] Wan, Vidu and Seedance: each classifies its own error envelope (a table per
// dialect, as answer_class_test.cpp), maps the manifest's fields into its create body, reads its
// native answers and a gateway's task record, and finds a lost create in its listing.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "provider/provider_answers.h"
#include "provider/registry.h"
#include "provider/seedance_provider.h"
#include "provider/vidu_provider.h"
#include "provider/wan_provider.h"

using namespace vb;
using namespace vb::provider_test;

namespace {

void check_rows(Dialect dialect, const std::vector<AnswerRow>& rows) {
  ProviderConfig config;
  config.dialect = dialect;
  auto provider = make_provider(config);
  for (const AnswerRow& row : rows) {
    INFO(to_string(dialect) << ": " << row.what << " (" << to_string(row.phase) << ")");
    AnswerClass c = provider->classify(row.phase, row.result, 0);
    CHECK(std::string(to_string(c.kind)) == to_string(row.kind));
    CHECK(c.code == row.code);
    if (c.kind != AnswerKind::ok) {
      CHECK_FALSE(c.detail.empty());
    }
  }
}

// What every dialect shares: transport failures, a gateway's own pages, a CDN's refusals.
std::vector<AnswerRow> shared_rows() {
  using P = RequestPhase;
  using K = AnswerKind;
  return {
      {"created", P::submit, answered(200, "{}"), K::ok, ""},
      {"not sent", P::submit, lost(TransportFailure::not_sent), K::retry, "not_sent"},
      {"reset", P::submit, lost(TransportFailure::connection_lost), K::ambiguous,
       "create_ambiguous"},
      {"gateway 502 page", P::submit, answered(502, "<html>502 Bad Gateway</html>"), K::ambiguous,
       "create_ambiguous"},
      {"gateway 429", P::submit,
       answered(429, R"({"error":{"message":"slow down","type":"new_api_error"}})"), K::slow_down,
       "http_429"},
      {"gateway key refused", P::submit,
       answered(401, R"({"error":{"message":"Invalid token","type":"new_api_error"}})"),
       K::stop_run, "auth_401"},
      {"poll reset", P::poll, lost(TransportFailure::connection_lost), K::retry, "connection_lost"},
      {"download 403", P::download, answered(403, "AccessDenied"), K::expired, "content_expired"},
  };
}

std::vector<AnswerRow> with_shared(std::vector<AnswerRow> rows) {
  for (auto& row : shared_rows()) {
    rows.push_back(std::move(row));
  }
  return rows;
}

JobSpec spec_of(std::string model, int seconds, std::vector<std::string> images = {}) {
  JobSpec spec;
  spec.id = "job";
  spec.prompt = "A fox";
  spec.model = std::move(model);
  spec.seconds = seconds;
  spec.images = std::move(images);
  return spec;
}

rapidjson::Document body_of(const HttpRequest& req) {
  rapidjson::Document doc;
  doc.Parse(req.body.c_str());
  REQUIRE(doc.IsObject());
  return doc;
}

std::string header_or_empty(const HttpRequest& req, const std::string& name) {
  for (const auto& h : req.headers) {
    if (h.name == name) {
      return h.value;
    }
  }
  return "";
}

ProviderConfig config_of(Dialect dialect, std::string base_url) {
  ProviderConfig c;
  c.dialect = dialect;
  c.base_url = std::move(base_url);
  return c;
}

}  // namespace

TEST_CASE("wan: DashScope's string codes decide", "[provider]") {
  using P = RequestPhase;
  using K = AnswerKind;
  const auto wan = [](int status, const char* code) {
    return answered(status, std::string(R"({"request_id":"r","code":")") + code +
                                R"(","message":"words"})");
  };
  check_rows(Dialect::wan,
             with_shared({
                 {"rate", P::submit, wan(429, "Throttling.RateQuota"), K::slow_down,
                  "wan_Throttling.RateQuota"},
                 {"quota", P::submit, wan(429, "Throttling.AllocationQuota"), K::slow_down,
                  "wan_Throttling.AllocationQuota"},
                 {"arrears", P::submit, wan(400, "Arrearage"), K::stop_run, "insufficient_quota"},
                 {"key", P::poll, wan(401, "InvalidApiKey"), K::stop_run, "auth_401"},
                 {"sync refused", P::submit, wan(403, "AccessDenied"), K::stop_run, "auth_403"},
                 {"moderation", P::submit, wan(400, "DataInspectionFailed"), K::rejected,
                  "moderation"},
                 {"invalid", P::submit, wan(400, "InvalidParameter"), K::rejected,
                  "wan_InvalidParameter"},
                 {"no input", P::submit, wan(400, "BadRequest.EmptyInput"), K::rejected,
                  "wan_BadRequest.EmptyInput"},
                 {"internal", P::submit, wan(500, "InternalError"), K::retry, "wan_InternalError"},
             }));
}

TEST_CASE("vidu: the reason decides", "[provider]") {
  using P = RequestPhase;
  using K = AnswerKind;
  const auto vidu = [](int status, const char* reason) {
    return answered(status, "{\"code\":" + std::to_string(status) + R"(,"reason":")" + reason +
                                R"(","message":"words","metadata":{"trace_id":"t"}})");
  };
  check_rows(
      Dialect::vidu,
      with_shared({
          {"rate", P::submit, vidu(429, "TooManyRequests"), K::slow_down, "vidu_TooManyRequests"},
          {"concurrency", P::submit, vidu(429, "QuotaExceeded"), K::slow_down,
           "vidu_QuotaExceeded"},
          {"credits", P::submit, vidu(400, "CreditInsufficient"), K::stop_run,
           "insufficient_quota"},
          {"token", P::submit, vidu(401, "Unauthorized"), K::stop_run, "auth_401"},
          {"policy", P::submit, vidu(400, "TaskPromptPolicyViolation"), K::rejected, "moderation"},
          {"field", P::submit, vidu(400, "FieldInvalid"), K::rejected, "vidu_FieldInvalid"},
          {"not found", P::poll, vidu(404, "TaskNotFound"), K::rejected, "vidu_TaskNotFound"},
          {"internal", P::submit, vidu(500, "InternalServiceFailure"), K::retry,
           "vidu_InternalServiceFailure"},
      }));
}

TEST_CASE("seedance: Ark's error code decides", "[provider]") {
  using P = RequestPhase;
  using K = AnswerKind;
  const auto ark = [](int status, const char* code, const char* type) {
    return answered(status, std::string(R"({"error":{"code":")") + code +
                                R"(","message":"words","param":"","type":")" + type +
                                R"("},"request_id":"r"})");
  };
  check_rows(Dialect::seedance,
             with_shared({
                 {"rpm", P::submit,
                  ark(429, "RateLimitExceeded.EndpointRPMExceeded", "TooManyRequests"),
                  K::slow_down, "seedance_RateLimitExceeded.EndpointRPMExceeded"},
                 {"overloaded", P::submit, ark(429, "ServerOverloaded", "TooManyRequests"),
                  K::slow_down, "seedance_ServerOverloaded"},
                 {"key", P::submit, ark(401, "AuthenticationError", "Unauthorized"), K::stop_run,
                  "auth_401"},
                 {"overdue", P::submit, ark(403, "AccountOverdueError", "Forbidden"), K::stop_run,
                  "insufficient_quota"},
                 {"text", P::submit, ark(400, "InputTextSensitiveContentDetected", "BadRequest"),
                  K::rejected, "moderation"},
                 {"invalid", P::submit, ark(400, "InvalidParameter", "BadRequest"), K::rejected,
                  "seedance_InvalidParameter"},
                 {"gone", P::poll, ark(404, "ResourceNotFound", "NotFound"), K::rejected,
                  "seedance_ResourceNotFound"},
                 {"internal", P::submit, ark(500, "InternalServiceError", "InternalServerError"),
                  K::retry, "seedance_InternalServiceError"},
             }));
}

TEST_CASE("wan: the model chooses the route; size and images are mapped", "[provider]") {
  const WanProvider p(config_of(Dialect::wan, "https://ds.test"));
  JobSpec text = spec_of("wan2.6-t2v", 5);
  text.orientation = Orientation::portrait;
  auto req = p.create_request(text, {}).value();
  CHECK(req.url == "https://ds.test/api/v1/services/aigc/video-generation/video-synthesis");
  CHECK(header_or_empty(req, "X-DashScope-Async") == "enable");
  auto body = body_of(req);
  CHECK(std::string(body["parameters"]["size"].GetString()) == "720*1280");
  CHECK(body["parameters"]["duration"].GetInt() == 5);

  JobSpec image = spec_of("wan2.6-i2v", 10, {"https://img.test/a.png"});
  image.size = "large";
  body = body_of(p.create_request(image, {}).value());
  CHECK(std::string(body["input"]["img_url"].GetString()) == "https://img.test/a.png");
  CHECK(std::string(body["parameters"]["resolution"].GetString()) == "1080P");

  JobSpec frames =
      spec_of("wan2.2-kf2v-flash", 5, {"https://img.test/a.png", "https://img.test/b.png"});
  req = p.create_request(frames, {}).value();
  CHECK(req.url == "https://ds.test/api/v1/services/aigc/image2video/video-synthesis");
  body = body_of(req);
  CHECK(std::string(body["input"]["last_frame_url"].GetString()) == "https://img.test/b.png");
  CHECK(p.query_request(frames, "a-b").url == "https://ds.test/api/v1/tasks/a-b");
}

TEST_CASE("wan: check names the field the model cannot take", "[provider]") {
  const WanProvider p(config_of(Dialect::wan, "https://ds.test"));
  const auto error = [&](const JobSpec& spec) {
    auto s = p.check(spec);
    return s ? std::string() : s.error().message;
  };
  CHECK(error(spec_of("wan2.6-t2v", 5)).empty());
  CHECK(error(spec_of("wan2.6-t2v", 16)).starts_with("seconds: wan2.6-t2v takes 2 to 15"));
  CHECK(error(spec_of("wan2.5-t2v-preview", 6))
            .starts_with("seconds: wan2.5-t2v-preview takes 5 or 10"));
  CHECK(error(spec_of("wan2.6-t2v", 5, {"https://img.test/a.png"})).starts_with("images:"));
  CHECK(error(spec_of("wan2.6-i2v", 5)).starts_with("images:"));
  CHECK(error(spec_of("wanx2.1-kf2v-plus", 5, {"/local/a.png"})).starts_with("images:"));
  CHECK(error(spec_of("wan-video", 5)).starts_with("model:"));
  JobSpec large = spec_of("wanx2.1-t2v-plus", 5);
  large.size = "large";
  CHECK(error(large).starts_with("size: wanx2.1-t2v-plus makes 720P"));
  JobSpec exact = spec_of("wan2.2-t2v-plus", 5);
  exact.size = "832x480";
  CHECK(error(exact).empty());
  CHECK(body_of(p.create_request(exact, {}).value())["parameters"]["size"].GetString() ==
        std::string("832*480"));
}

TEST_CASE("wan: native answers, UNKNOWN, the gateway's record and the listing", "[provider]") {
  const WanProvider p(config_of(Dialect::wan, "https://ds.test"));
  auto created = p.parse_create(
      ok_response(R"({"request_id":"r","output":{"task_id":"t-1","task_status":"PENDING"}})"));
  REQUIRE(created.has_value());
  CHECK(created->remote_id == "t-1");
  auto gateway_created =
      p.parse_create(ok_response(R"({"id":"task_abc","object":"video","status":"queued"})"));
  REQUIRE(gateway_created.has_value());
  CHECK(gateway_created->remote_id == "task_abc");

  auto done = p.parse_query(
      ok_response(R"({"request_id":"r","output":{"task_id":"t-1","task_status":"SUCCEEDED",)"
                  R"("video_url":"https://oss.test/v.mp4?Expires=1755538199&Signature=s"}})"));
  REQUIRE(done.has_value());
  CHECK(done->phase == RemotePhase::completed);
  CHECK(done->video_url == "https://oss.test/v.mp4?Expires=1755538199&Signature=s");
  REQUIRE(done->expires_at.has_value());
  CHECK(*done->expires_at == 1755538199000);
  // An id DashScope does not know (expired, another region): not a failure.
  auto unknown = p.parse_query(
      ok_response(R"({"request_id":"r","output":{"task_id":"t-1","task_status":"UNKNOWN"}})"));
  REQUIRE(unknown.has_value());
  CHECK(unknown->phase == RemotePhase::lost);
  auto failed = p.parse_query(
      ok_response(R"({"output":{"task_status":"FAILED","code":"DataInspectionFailed",)"
                  R"("message":"inappropriate"}})"));
  REQUIRE(failed.has_value());
  CHECK(failed->phase == RemotePhase::failed);
  CHECK(failed->error_code == "moderation");
  auto record = p.parse_query(ok_response(
      R"({"code":"success","data":{"task_id":"task_abc","status":"SUCCESS","progress":"100%",)"
      R"("fail_reason":"","data":{"output":{"task_status":"SUCCEEDED","video_url":"https://oss.test/w.mp4"}}}})"));
  REQUIRE(record.has_value());
  CHECK(record->phase == RemotePhase::completed);
  CHECK(record->video_url == "https://oss.test/w.mp4");
  CHECK_FALSE(p.parse_query(ok_response(R"({"output":{"task_status":"SUCCEEDED"}})")).has_value());

  CHECK(p.list_request("").url == "https://ds.test/api/v1/tasks?page_no=1&page_size=100");
  auto page =
      p.parse_list("", ok_response(
                           R"({"data":[{"task_id":"t-2","status":"RUNNING",)"
                           R"("model_name":"wan2.6-t2v","gmt_create":"2025-07-27 21:05:15.212"}],)"
                           R"("total":101,"total_page":2,"page_no":1,"page_size":100})"));
  REQUIRE(page.has_value());
  REQUIRE(page->videos.size() == 1);
  CHECK(page->videos[0].created_at == 1753650315212);
  CHECK(page->has_more);
  CHECK(page->last_id == "2");
  CHECK(p.matches(spec_of("wan2.6-t2v", 5), "", page->videos[0]));
  CHECK_FALSE(p.matches(spec_of("wan2.6-i2v", 5), "", page->videos[0]));
}

TEST_CASE("vidu: the images choose the route; the job key is the payload", "[provider]") {
  const ViduProvider p(config_of(Dialect::vidu, "https://vidu.test"));
  CreateContext context;
  context.job_key = "vb-batch-job";
  JobSpec text = spec_of("viduq3-turbo", 5);
  text.orientation = Orientation::portrait;
  auto req = p.create_request(text, context).value();
  CHECK(req.url == "https://vidu.test/ent/v2/text2video");
  auto body = body_of(req);
  CHECK(std::string(body["aspect_ratio"].GetString()) == "9:16");
  CHECK(std::string(body["resolution"].GetString()) == "720p");
  CHECK(std::string(body["payload"].GetString()) == "vb-batch-job");
  CHECK(p.create_request(spec_of("viduq2-pro", 5, {"https://i/a"}), context)->url ==
        "https://vidu.test/ent/v2/img2video");
  req = p.create_request(spec_of("viduq2-pro", 5, {"https://i/a", "https://i/b"}), context).value();
  CHECK(req.url == "https://vidu.test/ent/v2/start-end2video");
  CHECK(body_of(req)["images"].Size() == 2);
  CHECK_FALSE(body_of(req).HasMember("aspect_ratio"));
  CHECK(p.query_request({}, "8123").url == "https://vidu.test/ent/v2/tasks/8123/creations");

  CHECK_FALSE(p.check(spec_of("viduq2-pro", 11)));
  CHECK_FALSE(p.check(spec_of("vidu2.0", 5)));
  CHECK_FALSE(p.check(spec_of("kling-v2-6", 5)));
  CHECK(p.check(spec_of("viduq2-pro", 10)));
}

TEST_CASE("vidu: reference_images go to reference2video as its images", "[provider]") {
  const ViduProvider p(config_of(Dialect::vidu, "https://vidu.test"));
  CHECK(p.takes_reference_images());
  CreateContext context;
  context.job_key = "vb-batch-job";
  JobSpec refs = spec_of("viduq2", 5);
  refs.reference_images = {"https://i/cat.png", "https://i/window.png"};
  refs.orientation = Orientation::portrait;
  CHECK(p.check(refs));
  auto req = p.create_request(refs, context).value();
  CHECK(req.url == "https://vidu.test/ent/v2/reference2video");
  auto body = body_of(req);
  REQUIRE(body["images"].Size() == 2);
  CHECK(std::string(body["images"][1].GetString()) == "https://i/window.png");
  CHECK(std::string(body["prompt"].GetString()) == refs.prompt);
  CHECK(std::string(body["model"].GetString()) == "viduq2");
  CHECK(std::string(body["aspect_ratio"].GetString()) == "9:16");
  CHECK(std::string(body["payload"].GetString()) == "vb-batch-job");

  JobSpec with_frames = refs;
  with_frames.images = {"https://i/first.png"};
  CHECK_FALSE(p.check(with_frames));
  JobSpec eight = refs;
  eight.reference_images.assign(8, "https://i/x.png");
  CHECK_FALSE(p.check(eight));
  JobSpec local = refs;
  local.reference_images = {"/home/me/cat.png"};
  CHECK_FALSE(p.check(local));
  JobSpec pro = refs;
  pro.model = "viduq2-pro";
  auto refused = p.check(pro);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.starts_with("model: Vidu's reference2video runs on viduq2"));
  JobSpec q1 = refs;
  q1.model = "viduq1";
  q1.size = "large";
  CHECK(p.check(q1));
  CHECK_FALSE(WanProvider(config_of(Dialect::wan, "https://wan.test")).takes_reference_images());
}

TEST_CASE("vidu: creations, cover, record and listing", "[provider]") {
  const ViduProvider p(config_of(Dialect::vidu, "https://vidu.test"));
  auto created =
      p.parse_create(ok_response(R"({"task_id":"8123","state":"created","payload":"vb-x"})"));
  REQUIRE(created.has_value());
  CHECK(created->remote_id == "8123");
  CHECK(created->status.phase == RemotePhase::queued);
  auto done = p.parse_query(ok_response(R"({"state":"success","err_code":"","payload":"vb-x",)"
                                        R"("creations":[{"id":"c","url":"https://cdn.test/v.mp4",)"
                                        R"("cover_url":"https://cdn.test/v.webp"}]})"));
  REQUIRE(done.has_value());
  CHECK(done->phase == RemotePhase::completed);
  CHECK(done->video_url == "https://cdn.test/v.mp4");
  REQUIRE(p.thumbnail_request("8123", *done).has_value());
  CHECK(p.thumbnail_request("8123", *done)->url == "https://cdn.test/v.webp");
  auto failed =
      p.parse_query(ok_response(R"({"state":"failed","err_code":"CreationPolicyViolation"})"));
  REQUIRE(failed.has_value());
  CHECK(failed->error_code == "moderation");
  auto record = p.parse_query(ok_response(
      R"({"code":"success","data":{"task_id":"task_x","status":"IN_PROGRESS","progress":"50%",)"
      R"("fail_reason":"","data":{"state":"processing","creations":[]}}})"));
  REQUIRE(record.has_value());
  CHECK(record->phase == RemotePhase::running);
  REQUIRE(record->progress.has_value());
  CHECK(*record->progress == 50.0);

  auto page =
      p.parse_list("",
                   ok_response(
                       R"({"next_page_token":"1","tasks":[{"id":"8124","state":"processing",)"
                       R"("model":"viduq2-pro","prompt":"A fox","duration":5,"resolution":"720p",)"
                       R"("created_at":"2025-01-01T15:41:31.968000Z"}]})"));
  REQUIRE(page.has_value());
  CHECK(page->has_more);
  CHECK(page->last_id == "1");
  REQUIRE(page->videos.size() == 1);
  CHECK(page->videos[0].created_at == 1735746091968);
  CHECK(p.matches(spec_of("viduq2-pro", 5), "vb-x", page->videos[0]));
  CHECK_FALSE(p.matches(spec_of("viduq2-pro", 8), "vb-x", page->videos[0]));
  // A listing that shows the tag: the tag alone decides.
  RemoteVideo tagged = page->videos[0];
  tagged.job_key = "vb-other";
  CHECK_FALSE(p.matches(spec_of("viduq2-pro", 5), "vb-x", tagged));
}

TEST_CASE("seedance: content[] with roles, ratio, duration, resolution, watermark", "[provider]") {
  const SeedanceProvider p(config_of(Dialect::seedance, "https://ark.test/api/v3"));
  JobSpec spec =
      spec_of("doubao-seedance-1-5-pro-251215", 5, {"https://i/first.png", "https://i/last.png"});
  spec.orientation = Orientation::portrait;
  spec.size = "large";
  auto req = p.create_request(spec, {}).value();
  CHECK(req.url == "https://ark.test/api/v3/contents/generations/tasks");
  auto body = body_of(req);
  REQUIRE(body["content"].Size() == 3);
  CHECK(std::string(body["content"][0]["type"].GetString()) == "text");
  CHECK(std::string(body["content"][1]["role"].GetString()) == "first_frame");
  CHECK(std::string(body["content"][2]["role"].GetString()) == "last_frame");
  CHECK(std::string(body["content"][2]["image_url"]["url"].GetString()) == "https://i/last.png");
  CHECK(std::string(body["ratio"].GetString()) == "9:16");
  CHECK(std::string(body["resolution"].GetString()) == "1080p");
  CHECK(body["duration"].GetInt() == 5);
  CHECK(body["watermark"].GetBool() == false);
  CHECK(p.query_request(spec, "cgt-1").url ==
        "https://ark.test/api/v3/contents/generations/tasks/cgt-1");

  CHECK(p.check(spec_of("doubao-seedance-1-0-pro-250528", 5)));
  CHECK_FALSE(p.check(spec_of("doubao-seedance-1-5-pro-251215", 3)));
  CHECK_FALSE(p.check(spec_of("doubao-seedance-1-0-lite-t2v-250428", 5, {"https://i/a"})));
  CHECK_FALSE(
      p.check(spec_of("doubao-seedance-1-0-pro-fast-251015", 5, {"https://i/a", "https://i/b"})));
  CHECK_FALSE(p.check(spec_of("sora-2", 5)));
}

TEST_CASE("seedance: expired and cancelled end the job; records and listing", "[provider]") {
  const SeedanceProvider p(config_of(Dialect::seedance, "https://ark.test/api/v3"));
  auto created = p.parse_create(ok_response(R"({"id":"cgt-20250331175019-68d9t"})"));
  REQUIRE(created.has_value());
  CHECK(created->remote_id == "cgt-20250331175019-68d9t");
  auto done = p.parse_query(ok_response(
      R"({"id":"cgt-1","status":"succeeded","content":)"
      R"({"video_url":"https://tos.test/v.mp4","last_frame_url":"https://tos.test/l.png"}})"));
  REQUIRE(done.has_value());
  CHECK(done->phase == RemotePhase::completed);
  CHECK(done->thumbnail_url == "https://tos.test/l.png");
  auto expired = p.parse_query(ok_response(R"({"id":"cgt-1","status":"expired"})"));
  REQUIRE(expired.has_value());
  CHECK(expired->phase == RemotePhase::failed);
  CHECK(expired->error_code == "seedance_expired");
  auto cancelled = p.parse_query(ok_response(R"({"id":"cgt-1","status":"cancelled"})"));
  REQUIRE(cancelled.has_value());
  CHECK(cancelled->error_code == "canceled");
  auto moderated = p.parse_query(
      ok_response(R"({"id":"cgt-1","status":"failed","error":)"
                  R"({"code":"OutputVideoSensitiveContentDetected","message":"m"}})"));
  REQUIRE(moderated.has_value());
  CHECK(moderated->error_code == "moderation");
  // new-api keeps an expired task IN_PROGRESS: Ark's own word inside decides.
  auto record = p.parse_query(ok_response(
      R"({"code":"success","data":{"task_id":"task_x","status":"IN_PROGRESS","progress":"50%",)"
      R"("fail_reason":"","data":{"id":"cgt-1","status":"expired"}}})"));
  REQUIRE(record.has_value());
  CHECK(record->phase == RemotePhase::failed);

  auto page =
      p.parse_list("", ok_response(
                           R"({"items":[{"id":"cgt-2","model":"doubao-seedance-1-0-pro-250528",)"
                           R"("status":"running","created_at":1765510475,"resolution":"720p",)"
                           R"("ratio":"16:9","duration":5}],"total":1})"));
  REQUIRE(page.has_value());
  CHECK_FALSE(page->has_more);
  REQUIRE(page->videos.size() == 1);
  CHECK(page->videos[0].created_at == 1765510475000);
  CHECK(p.matches(spec_of("doubao-seedance-1-0-pro-250528", 5), "", page->videos[0]));
  JobSpec portrait = spec_of("doubao-seedance-1-0-pro-250528", 5);
  portrait.orientation = Orientation::portrait;
  CHECK_FALSE(p.matches(portrait, "", page->videos[0]));
}
