// vidbatch-sim --dialect kling over real sockets: the JWT check, the family paths, list pages with
// external_task_id, vendor refusals, the gateway prefix in both shapes and a wire fault in front.
#include "sim/native_sim.h"
#include "support/fake_fs.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace vidbatch::test;

namespace {

const std::string k_access = "AK-sim-test";
const std::string k_secret = "SK-sim-test-secret";
// A 1x1 PNG's first bytes, Base64: what Kling accepts inline (no data: prefix).
const std::string k_png_base64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+"
    "M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

std::vector<std::string> kling_flags(std::vector<std::string> extra = {}) {
  return native_sim_flags({"--dialect", "kling", "--kling-access-key", k_access,
                           "--kling-secret-key", k_secret},
                          extra);
}

std::string auth() {
  return "Authorization: Bearer " + kling_token(k_access, k_secret);
}

std::string task_status(const rapidjson::Document& doc) {
  return doc.HasMember("data") && doc["data"].IsObject() ? member_text(doc["data"], "task_status")
                                                         : "";
}

HttpResponse create(const SimProcess& sim, const std::string& family, const std::string& body,
                    const std::string& header = auth()) {
  return post_json(sim.base_url() + "/videos/" + family, body, {header});
}

std::string created_id(const HttpResponse& response) {
  INFO(response.body);
  REQUIRE(response.status == 200);
  return member_text(parse_body(response.body)["data"], "task_id");
}

}  // namespace

TEST_CASE("sim kling: text2video from create to a real MP4, echoing external_task_id",
          "[e2e][sim]") {
  SimProcess sim(
      kling_flags({"--gen-ms", "1000"}));  // 900 ms processing: polls see it even on a busy machine
  const HttpResponse created =
      create(sim, "text2video",
             R"({"model_name":"kling-v2-6","prompt":"a red fox","duration":"5",)"
             R"("mode":"std","aspect_ratio":"9:16","external_task_id":"job-fox-1"})");
  REQUIRE(created.status == 200);
  const auto doc = parse_body(created.body);
  CHECK(doc["code"].GetInt() == 0);
  CHECK(member_text(doc, "message") == "SUCCEED");
  CHECK(member_text(doc, "request_id").size() == 36);
  const std::string id = member_text(doc["data"], "task_id");
  CHECK(id.size() == 18);
  CHECK(id.find_first_not_of("0123456789") == std::string::npos);
  CHECK(member_text(doc["data"], "task_status") == "submitted");
  CHECK(member_text(doc["data"]["task_info"], "external_task_id") == "job-fox-1");
  CHECK(doc["data"]["created_at"].GetInt64() > 1'000'000'000'000);  // milliseconds

  std::set<std::string> seen;
  const auto done = parse_body(poll_until(sim.base_url() + "/videos/text2video/" + id, {auth()},
                                          task_status, {"succeed", "failed"}, seen));
  CHECK(seen.contains("processing"));
  REQUIRE(member_text(done["data"], "task_status") == "succeed");
  CHECK(member_text(done["data"]["task_info"], "external_task_id") == "job-fox-1");
  const auto& result = done["data"]["task_result"]["videos"][0];
  CHECK(member_text(result, "duration") == "5.0");
  CHECK(member_text(result, "id").size() == 18);
  const std::string url = member_text(result, "url");
  CHECK(url.starts_with("http://127.0.0.1:" + std::to_string(sim.cdn_port()) + "/files/" + id +
                        ".mp4?"));

  const HttpResponse file = http_get(url);  // the CDN needs no key
  REQUIRE(file.status == 200);
  CHECK(file.body.size() == 8192);
  CHECK(file.body.substr(4, 4) == "ftyp");
  const auto stats = parse_body(sim.stats());
  CHECK(member_text(stats["videos"][0], "sha256") == vb::fake::reference_sha256(file.body));
  CHECK(stats["creates_by_prompt"]["a red fox"].GetInt64() == 1);
  CHECK(stats["create_requests_by_external_task_id"]["job-fox-1"].GetInt64() == 1);
  CHECK(stats["requests_by_route"]["POST /v1/videos/text2video"].GetInt64() == 1);
  CHECK(stats["requests_by_route"]["GET /v1/videos/text2video/{id}"].GetInt64() >= 2);
  CHECK(stats["auth_headers_seen_on_files"].GetInt64() == 0);
}

TEST_CASE("sim kling: bad tokens answer 401 with codes 1000-1004 and create nothing",
          "[e2e][sim]") {
  SimProcess sim(kling_flags());
  const std::string body = R"({"prompt":"p"})";
  const auto code_of = [&](const std::string& header) {
    const HttpResponse response = create(sim, "text2video", body, header);
    CHECK(response.status == 401);
    return parse_body(response.body)["code"].GetInt();
  };
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  CHECK(code_of("X-Nothing: 1") == 1001);
  CHECK(code_of("Authorization: Bearer not-a-jwt") == 1002);
  const std::string good = kling_token(k_access, k_secret);
  CHECK(code_of("Authorization: Bearer " + kling_token(k_access, "another-secret")) == 1002);
  CHECK(code_of("Authorization: Bearer " + good.substr(0, good.size() - 2) + "AA") == 1002);
  CHECK(code_of("Authorization: Bearer " + kling_token("someone-else", k_secret)) == 1000);
  CHECK(code_of("Authorization: Bearer " + kling_token(k_access, k_secret, 60, 1800)) == 1003);
  CHECK(code_of("Authorization: Bearer " + kling_token(k_access, k_secret, -1800, -1)) == 1004);
  const std::string none_alg =
      sign_jwt(R"({"alg":"none"})",
               R"({"iss":")" + k_access + R"(","exp":)" + std::to_string(now + 1800) + "}",
               k_secret);
  CHECK(code_of("Authorization: Bearer " + none_alg) == 1002);

  CHECK(create(sim, "text2video", body, "Authorization: Bearer " + good).status == 200);
  const auto stats = parse_body(sim.stats());
  CHECK(stats["jwt_rejected"].GetInt64() == 8);
  CHECK(stats["jwt_rejected_by_code"]["1002"].GetInt64() == 4);
  CHECK(stats["jwt_rejected_by_code"]["1004"].GetInt64() == 1);
  CHECK(stats["creates_total"].GetInt64() == 1);
}

TEST_CASE("sim kling: validation, the family path and a duplicate external_task_id", "[e2e][sim]") {
  SimProcess sim(kling_flags());
  const auto refused = [&](const std::string& family, const std::string& body, int status,
                           int code) {
    const HttpResponse response = create(sim, family, body);
    INFO(body << " -> " << response.body);
    CHECK(response.status == status);
    CHECK(parse_body(response.body)["code"].GetInt() == code);
  };
  refused("text2video", R"({"prompt":"p","duration":5})", 400, 1201);
  refused("text2video", R"({"prompt":"p","duration":"7"})", 400, 1201);
  refused("text2video", R"({"prompt":"p","mode":"fast"})", 400, 1201);
  refused("text2video", R"({"prompt":"p","aspect_ratio":"4:3"})", 400, 1201);
  refused("text2video", R"({"model_name":"kling-v9","prompt":"p"})", 404, 1203);
  refused("text2video", R"({"model_name":"kling-v2-1","prompt":"p"})", 404,
          1203);  // image2video only
  refused("text2video", R"({"duration":"5"})", 400, 1201);
  refused("text2video", "not json", 400, 1200);
  refused("image2video", R"({"prompt":"p"})", 400, 1201);
  refused("image2video", R"({"image":"data:image/png;base64,)" + k_png_base64 + R"("})", 400, 1201);
  refused("image2video", R"({"image":"bm90IGFuIGltYWdl"})", 400, 1201);
  refused("text2video",
          R"({"prompt":"p","camera_control":{"type":"down_back"},"model_name":"kling-v2-6"})", 400,
          1201);
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 0);

  const std::string image_id =
      created_id(create(sim, "image2video",
                        R"({"model_name":"kling-v2-1","image":")" + k_png_base64 +
                            R"(","external_task_id":"job-2"})"));
  const HttpResponse wrong_family =
      http_get(sim.base_url() + "/videos/text2video/" + image_id, {auth()});
  CHECK(wrong_family.status == 404);
  CHECK(parse_body(wrong_family.body)["code"].GetInt() == 1203);
  CHECK(http_get(sim.base_url() + "/videos/image2video/" + image_id, {auth()}).status == 200);
  CHECK(http_get(sim.base_url() + "/videos/image2video/123456789012345678", {auth()}).status ==
        404);

  refused("text2video", R"({"prompt":"again","external_task_id":"job-2"})", 400, 1201);
  const auto stats = parse_body(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 1);
  CHECK(stats["create_requests_by_external_task_id"]["job-2"].GetInt64() == 2);
  CHECK(stats["vendor_codes_sent"]["1201"].GetInt64() == 10);
}

TEST_CASE("sim kling: list pages per family, newest first, with external_task_id", "[e2e][sim]") {
  SimProcess sim(kling_flags({"--gen-ms", "100000"}));
  std::vector<std::string> ids;
  for (const char* job : {"job-a", "job-b", "job-c"}) {
    ids.push_back(
        created_id(create(sim, "text2video",
                          R"({"prompt":"p","external_task_id":")" + std::string(job) + "\"}")));
  }
  created_id(create(sim, "image2video",
                    R"({"image":"https://example.com/a.png","external_task_id":"job-i"})"));
  const auto page = [&](const std::string& query) {
    const HttpResponse response = http_get(sim.base_url() + "/videos/text2video" + query, {auth()});
    REQUIRE(response.status == 200);
    return parse_body(response.body);
  };
  const auto first = page("?pageNum=1&pageSize=2");
  REQUIRE(first["data"].Size() == 2);
  CHECK(member_text(first["data"][0], "task_id") == ids[2]);
  CHECK(member_text(first["data"][0]["task_info"], "external_task_id") == "job-c");
  CHECK(member_text(first["data"][1]["task_info"], "external_task_id") == "job-b");
  const auto second = page("?pageNum=2&pageSize=2");
  REQUIRE(second["data"].Size() == 1);
  CHECK(member_text(second["data"][0]["task_info"], "external_task_id") == "job-a");
  CHECK(page("")["data"].Size() == 3);  // default pageSize 30
  CHECK(page("?pageNum=3&pageSize=2")["data"].Size() == 0);
  const auto images =
      parse_body(http_get(sim.base_url() + "/videos/image2video?pageNum=1", {auth()}).body);
  REQUIRE(images["data"].Size() == 1);
  CHECK(member_text(images["data"][0]["task_info"], "external_task_id") == "job-i");
  const HttpResponse bad = http_get(sim.base_url() + "/videos/text2video?pageSize=501", {auth()});
  CHECK(bad.status == 400);
  CHECK(parse_body(bad.body)["code"].GetInt() == 1201);
}

TEST_CASE("sim kling: the fail marker fails with a content-policy task_status_msg", "[e2e][sim]") {
  SimProcess sim(kling_flags());
  const std::string id =
      created_id(create(sim, "text2video", R"({"prompt":"bad [[fail]] prompt"})"));
  std::set<std::string> seen;
  const auto done = parse_body(poll_until(sim.base_url() + "/videos/text2video/" + id, {auth()},
                                          task_status, {"succeed", "failed"}, seen));
  CHECK(member_text(done["data"], "task_status") == "failed");
  CHECK(member_text(done["data"], "task_status_msg").find("content policy") != std::string::npos);
  CHECK_FALSE(done["data"].HasMember("task_result"));
}

TEST_CASE("sim kling: vendor refusals and the concurrency limit answer Kling's codes",
          "[e2e][sim]") {
  SimProcess sim(kling_flags(
      {"--gen-ms", "100000", "--vendor-fault", "balance:first=1", "--max-in-flight", "1"}));
  const auto code_of = [&](int status) {
    const HttpResponse response = create(sim, "text2video", R"({"prompt":"p"})");
    CHECK(response.status == status);
    return parse_body(response.body)["code"].GetInt();
  };
  CHECK(code_of(429) == 1102);
  CHECK(code_of(200) == 0);
  CHECK(code_of(429) == 1303);  // one unfinished video is the limit
  sim.set_faults(
      R"({"max_in_flight":0,"vendor_faults":["sensitive:first=1","rate_limit:first=1"]})");
  CHECK(code_of(400) == 1301);
  CHECK(code_of(429) == 1302);
  sim.set_faults(R"({"rate_500":1.0})");
  CHECK(code_of(500) == 5000);
  const auto stats = parse_body(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 1);
  CHECK(stats["faults_injected"]["vendor_balance"].GetInt64() == 1);
  CHECK(stats["faults_injected"]["vendor_sensitive"].GetInt64() == 1);
  CHECK(stats["faults_injected"]["in_flight_429"].GetInt64() == 1);
  CHECK(stats["vendor_codes_sent"]["1303"].GetInt64() == 1);
  CHECK(stats["vendor_codes_sent"]["5000"].GetInt64() == 1);
}

TEST_CASE("sim kling: behind a gateway prefix, native shape, Bearer key instead of the JWT",
          "[e2e][sim]") {
  SimProcess sim({"--dialect", "kling", "--gateway-prefix", "/kling", "--require-key", "sk-gateway",
                  "--gen-ms", "200"});
  const std::string gateway = sim.root_url() + "/kling/v1/videos";
  const std::string key = "Authorization: Bearer sk-gateway";
  CHECK(post_json(sim.base_url() + "/videos/text2video", R"({"prompt":"p"})", {key}).status == 404);
  const HttpResponse no_key = post_json(gateway + "/text2video", R"({"prompt":"p"})", {});
  CHECK(no_key.status == 401);
  CHECK(member_text(parse_body(no_key.body)["error"], "type") == "new_api_error");
  CHECK(post_json(gateway + "/text2video", R"({"prompt":"p"})", {"Authorization: Bearer sk-other"})
            .status == 401);

  const std::string id = created_id(
      post_json(gateway + "/text2video", R"({"prompt":"p","external_task_id":"g-1"})", {key}));
  std::set<std::string> seen;
  const auto done = parse_body(
      poll_until(gateway + "/text2video/" + id, {key}, task_status, {"succeed", "failed"}, seen));
  REQUIRE(member_text(done["data"], "task_status") == "succeed");
  CHECK(http_get(member_text(done["data"]["task_result"]["videos"][0], "url")).status == 200);
  const auto listed =
      parse_body(http_get(gateway + "/text2video?pageNum=1&pageSize=10", {key}).body);
  CHECK(member_text(listed["data"][0]["task_info"], "external_task_id") == "g-1");
  const auto stats = parse_body(sim.stats());
  CHECK(stats["requests_by_route"]["POST /kling/v1/videos/text2video"].GetInt64() == 3);
  CHECK(stats["jwt_rejected"].GetInt64() == 0);
}

TEST_CASE("sim kling: behind new-api, taskdto shape", "[e2e][sim]") {
  SimProcess sim({"--dialect", "kling", "--gateway-prefix", "/kling", "--gateway-shape", "taskdto",
                  "--gen-ms", "1000"});
  const std::string gateway = sim.root_url() + "/kling/v1/videos";
  const std::string key = "Authorization: Bearer sk-any";
  // new-api posts a body without an image to text2video, whatever route it came in on.
  const HttpResponse created =
      post_json(gateway + "/image2video", R"({"prompt":"p","duration":5})", {key});
  REQUIRE(created.status == 200);
  const auto video = parse_body(created.body);
  const std::string id = member_text(video, "id");
  CHECK(id.starts_with("task_"));
  CHECK(member_text(video, "task_id") == id);
  CHECK(member_text(video, "object") == "video");
  CHECK(member_text(video, "status") == "queued");
  CHECK(member_text(video, "model") == "kling-v1");

  std::set<std::string> seen;
  const auto done = parse_body(poll_until(gateway + "/image2video/" + id, {key}, record_status,
                                          {"SUCCESS", "FAILURE"}, seen));
  CHECK(member_text(done, "code") == "success");
  const auto& record = done["data"];
  CHECK(seen.contains("IN_PROGRESS"));
  REQUIRE(member_text(record, "status") == "SUCCESS");
  CHECK(member_text(record, "progress") == "100%");
  CHECK(member_text(record, "task_id") == id);
  CHECK(member_text(record, "action") == "textGenerate");
  CHECK(record["finish_time"].GetInt64() >= record["submit_time"].GetInt64());
  const std::string url = member_text(record, "result_url");
  CHECK(url == member_text(record["data"]["data"]["task_result"]["videos"][0], "url"));
  CHECK(member_text(record["data"]["data"], "task_status") == "succeed");
  CHECK(http_get(url).status == 200);

  CHECK(http_get(gateway + "/text2video?pageNum=1", {key}).status ==
        404);  // new-api relays no listing
  const HttpResponse unknown = http_get(gateway + "/text2video/task_nope", {key});
  CHECK(unknown.status == 400);
  CHECK(member_text(parse_body(unknown.body), "code") == "task_not_exist");

  sim.set_faults(R"({"vendor_faults":["concurrency:first=1"]})");
  const HttpResponse refused = post_json(gateway + "/text2video", R"({"prompt":"p"})", {key});
  CHECK(refused.status == 429);
  const auto error = parse_body(refused.body);
  CHECK(member_text(error, "code") == "fail_to_fetch_task");
  CHECK(parse_body(member_text(error, "message"))["code"].GetInt() ==
        1303);  // the upstream body, verbatim
}

TEST_CASE("sim kling: a create cut by the fault proxy still made its video, found by the listing",
          "[e2e][sim]") {
  SimProcess sim(kling_flags({"--fault", "reset:first=1"}));
  const HttpResponse cut =
      create(sim, "text2video", R"({"prompt":"cut","external_task_id":"job-cut"})");
  CHECK(cut.status == 0);
  CHECK(cut.curl_code != 0);
  const auto stats = parse_body(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 1);
  CHECK(stats["wire_faults"]["fired"]["reset"].GetInt64() == 1);
  const auto listed =
      parse_body(http_get(sim.base_url() + "/videos/text2video?pageSize=500", {auth()}).body);
  REQUIRE(listed["data"].Size() == 1);
  CHECK(member_text(listed["data"][0]["task_info"], "external_task_id") == "job-cut");
  // The retry with the same external_task_id is refused: no second video.
  const HttpResponse retry =
      create(sim, "text2video", R"({"prompt":"cut","external_task_id":"job-cut"})");
  CHECK(retry.status == 400);
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 1);
}
