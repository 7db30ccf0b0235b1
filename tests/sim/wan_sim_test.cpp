// vidbatch-sim --dialect wan over real sockets: the asynchronous create header, DashScope's string
// error codes, UNKNOWN for forgotten tasks (and, with --unknown-queries, for listed ones), URLs
// issued once, the task listing, vendor refusals, the gateway prefix and a wire fault in front.
#include "sim/native_sim.h"
#include "support/fake_fs.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace vidbatch::test;

namespace {

const std::string k_wan_key = "Authorization: Bearer sk-wan";
const std::string k_async = "X-DashScope-Async: enable";
const std::string k_synthesis = "/api/v1/services/aigc/video-generation/video-synthesis";
const std::string k_keyframes = "/api/v1/services/aigc/image2video/video-synthesis";
const std::string k_t2v =
    R"({"model":"wan2.6-t2v","input":{"prompt":"a lantern"},"parameters":{"size":"1280*720","duration":8}})";

std::vector<std::string> wan_flags(std::vector<std::string> extra = {}) {
  return native_sim_flags({"--dialect", "wan", "--require-key", "sk-wan"}, extra);
}

std::string wan_task_status(const rapidjson::Document& doc) {
  return doc.HasMember("output") ? member_text(doc["output"], "task_status") : "";
}

std::string wan_create_task(const SimProcess& sim, const std::string& path,
                            const std::string& body) {
  const HttpResponse response = post_json(sim.root_url() + path, body, {k_wan_key, k_async});
  INFO(response.body);
  REQUIRE(response.status == 200);
  const auto doc = parse_body(response.body);
  CHECK(member_text(doc["output"], "task_status") == "PENDING");
  return member_text(doc["output"], "task_id");
}

rapidjson::Document wan_settle(const SimProcess& sim, const std::string& id,
                               std::set<std::string>& seen) {
  return parse_body(poll_until(sim.root_url() + "/api/v1/tasks/" + id, {k_wan_key}, wan_task_status,
                               {"SUCCEEDED", "FAILED", "UNKNOWN"}, seen));
}

}  // namespace

TEST_CASE("sim wan: an asynchronous create runs to a video on an expiring OSS URL", "[e2e][sim]") {
  SimProcess sim(wan_flags({"--gen-ms", "1000"}));
  const std::string id = wan_create_task(sim, k_synthesis, k_t2v);
  CHECK(id.size() == 36);  // a UUID
  std::set<std::string> seen;
  const auto done = wan_settle(sim, id, seen);
  CHECK(seen.contains("RUNNING"));
  const auto& output = done["output"];
  REQUIRE(member_text(output, "task_status") == "SUCCEEDED");
  CHECK(member_text(output, "submit_time").size() == 23);  // "2025-07-27 21:05:15.212"
  CHECK(done["usage"]["video_duration"].GetInt() == 8);
  CHECK(done["usage"]["SR"].GetInt() == 720);
  const std::string url = member_text(output, "video_url");
  CHECK(url.find("Expires=") != std::string::npos);
  const HttpResponse file = http_get(url);
  REQUIRE(file.status == 200);
  CHECK(file.body.substr(4, 4) == "ftyp");
  const auto stats = parse_body(sim.stats());
  CHECK(member_text(stats["videos"][0], "sha256") == vb::fake::reference_sha256(file.body));
  CHECK(stats["creates_by_prompt"]["a lantern"].GetInt64() == 1);
  CHECK(stats["requests_by_route"][("POST " + k_synthesis).c_str()].GetInt64() == 1);
  CHECK(stats["requests_by_route"]["GET /api/v1/tasks/{id}"].GetInt64() >= 2);
}

TEST_CASE("sim wan: the async header, keys and parameters are checked before anything is made",
          "[e2e][sim]") {
  SimProcess sim(wan_flags());
  const auto refused = [&](const std::string& path, const std::string& body,
                           std::vector<std::string> headers, int status, const std::string& code) {
    const HttpResponse response = post_json(sim.root_url() + path, body, std::move(headers));
    INFO(body << " -> " << response.body);
    CHECK(response.status == status);
    const auto doc = parse_body(response.body);
    CHECK(member_text(doc, "code") == code);
    CHECK_FALSE(member_text(doc, "request_id").empty());
  };
  refused(k_synthesis, k_t2v, {k_wan_key}, 403, "AccessDenied");
  refused(k_synthesis, k_t2v, {k_async}, 401, "InvalidApiKey");
  refused(k_synthesis, k_t2v, {"Authorization: Bearer sk-other", k_async}, 401, "InvalidApiKey");
  const std::vector<std::string> ok = {k_wan_key, k_async};
  refused(k_synthesis, R"({"input":{"prompt":"p"}})", ok, 400, "BadRequest.EmptyModel");
  refused(k_synthesis, R"({"model":"wan9-t2v","input":{"prompt":"p"}})", ok, 400,
          "InvalidParameter");
  refused(k_synthesis, R"({"model":"wan2.6-t2v"})", ok, 400, "BadRequest.EmptyInput");
  refused(k_synthesis, R"({"model":"wan2.6-t2v","input":{}})", ok, 400, "InvalidParameter");
  refused(k_synthesis,
          R"({"model":"wan2.6-t2v","input":{"prompt":"p"},"parameters":{"size":"1280x720"}})", ok,
          400, "InvalidParameter");
  refused(
      k_synthesis,
      R"({"model":"wanx2.1-t2v-plus","input":{"prompt":"p"},"parameters":{"size":"1920*1080"}})",
      ok, 400, "InvalidParameter");
  refused(k_synthesis,
          R"({"model":"wan2.5-t2v-preview","input":{"prompt":"p"},"parameters":{"duration":7}})",
          ok, 400, "InvalidParameter");
  refused(k_synthesis,
          R"({"model":"wan2.6-t2v","input":{"prompt":"p"},"parameters":{"duration":"5"}})", ok, 400,
          "InvalidParameter");
  refused(k_synthesis, R"({"model":"wan2.6-i2v","input":{"prompt":"p"}})", ok, 400,
          "InvalidParameter");
  refused(k_synthesis, R"({"model":"wan2.6-i2v","input":{"img_url":"iVBORw0KGgo="}})", ok, 400,
          "InvalidURL");
  refused(k_synthesis,
          R"({"model":"wan2.2-i2v-flash","input":{"img_url":"https://e.x/a.png"},)"
          R"("parameters":{"resolution":"1080P"}})",
          ok, 400, "InvalidParameter");
  refused(k_synthesis,
          R"({"model":"wan2.2-kf2v-flash","input":{"first_frame_url":"https://e.x/a.png"}})", ok,
          400, "InvalidParameter");
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 0);

  wan_create_task(
      sim, k_synthesis,
      R"({"model":"wan2.6-i2v","input":{"img_url":"data:image/png;base64,iVBORw0KGgo="},)"
      R"("parameters":{"resolution":"720P","duration":10}})");
  wan_create_task(sim, k_keyframes,
                  R"({"model":"wan2.2-kf2v-flash","input":{"first_frame_url":"https://e.x/a.png",)"
                  R"("last_frame_url":"https://e.x/b.png"}})");
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 2);
}

TEST_CASE("sim wan: failures, UNKNOWN for forgotten ids, and a URL issued once", "[e2e][sim]") {
  // The URL lives 2-3 s from completion (Expires is in whole seconds), the task 6 s.
  SimProcess sim(wan_flags({"--gen-ms", "100", "--url-ttl-ms", "3000", "--task-ttl-ms", "6000"}));
  std::set<std::string> seen;
  const std::string failing =
      wan_create_task(sim, k_synthesis, R"({"model":"wan2.6-t2v","input":{"prompt":"[[fail]]"}})");
  const auto failed = wan_settle(sim, failing, seen);
  CHECK(member_text(failed["output"], "task_status") == "FAILED");
  CHECK(member_text(failed["output"], "code") == "DataInspectionFailed");

  const std::string id = wan_create_task(sim, k_synthesis, k_t2v);
  const auto done = wan_settle(sim, id, seen);
  const std::string url = member_text(done["output"], "video_url");
  CHECK(http_get(url).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  CHECK(http_get(url).status == 403);
  const auto again = parse_body(http_get(sim.root_url() + "/api/v1/tasks/" + id, {k_wan_key}).body);
  CHECK(member_text(again["output"], "video_url") ==
        url);  // no fresh link: the video is gone with it
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  const HttpResponse forgotten = http_get(sim.root_url() + "/api/v1/tasks/" + id, {k_wan_key});
  CHECK(forgotten.status == 200);
  CHECK(wan_task_status(parse_body(forgotten.body)) == "UNKNOWN");
  CHECK(wan_task_status(parse_body(
            http_get(sim.root_url() + "/api/v1/tasks/no-such-id", {k_wan_key}).body)) == "UNKNOWN");
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 2);
}

TEST_CASE("sim wan: --unknown-queries answers UNKNOWN for a task the listing still shows",
          "[e2e][sim]") {
  SimProcess sim(wan_flags({"--gen-ms", "100000", "--unknown-queries", "2"}));
  const std::string id = wan_create_task(sim, k_synthesis, k_t2v);
  const std::string query = sim.root_url() + "/api/v1/tasks/" + id;
  CHECK(wan_task_status(parse_body(http_get(query, {k_wan_key}).body)) == "UNKNOWN");
  CHECK(wan_task_status(parse_body(http_get(query, {k_wan_key}).body)) == "UNKNOWN");
  const auto listing = parse_body(http_get(sim.root_url() + "/api/v1/tasks", {k_wan_key}).body);
  REQUIRE(listing["data"].Size() == 1);
  CHECK(member_text(listing["data"][0], "task_id") == id);
  CHECK(wan_task_status(parse_body(http_get(query, {k_wan_key}).body)) == "PENDING");
  CHECK(parse_body(sim.stats())["faults_injected"]["unknown_query"].GetInt64() == 2);
}

TEST_CASE("sim wan: the task listing filters by window, model and status", "[e2e][sim]") {
  SimProcess sim(wan_flags({"--gen-ms", "100000"}));
  for (int i = 0; i < 3; ++i) {
    wan_create_task(sim, k_synthesis, k_t2v);
  }
  const std::string newest =
      wan_create_task(sim, k_synthesis,
                      R"({"model":"wan2.6-i2v","input":{"img_url":"https://e.x/a.png"}})");
  const auto list = [&](const std::string& query) {
    const HttpResponse response = http_get(sim.root_url() + "/api/v1/tasks" + query, {k_wan_key});
    INFO(response.body);
    REQUIRE(response.status == 200);
    return parse_body(response.body);
  };
  const auto all = list("");
  CHECK(all["total"].GetInt() == 4);
  CHECK(member_text(all["data"][0], "task_id") == newest);
  const auto t2v = list("?model_name=wan2.6-t2v&page_no=2&page_size=2");
  CHECK(t2v["total"].GetInt() == 3);
  CHECK(t2v["total_page"].GetInt() == 2);
  REQUIRE(t2v["data"].Size() == 1);
  CHECK(member_text(t2v["data"][0], "model_name") == "wan2.6-t2v");
  CHECK(list("?status=PENDING")["total"].GetInt() + list("?status=RUNNING")["total"].GetInt() == 4);
  CHECK(list("?status=SUCCEEDED")["total"].GetInt() == 0);
  CHECK(list("?start_time=20990101000000&end_time=20990102000000")["total"].GetInt() == 0);
  CHECK(list("?start_time=20200101000000&end_time=20990102000000")["total"].GetInt() == 4);
  const HttpResponse bad =
      http_get(sim.root_url() + "/api/v1/tasks?start_time=yesterday", {k_wan_key});
  CHECK(bad.status == 400);
  CHECK(member_text(parse_body(bad.body), "code") == "InvalidParameter");
}

TEST_CASE("sim wan: vendor refusals and limits carry DashScope's codes", "[e2e][sim]") {
  SimProcess sim(wan_flags({"--gen-ms", "100000", "--max-in-flight", "1", "--vendor-fault",
                            "balance:first=1", "--vendor-fault", "sensitive:first=1"}));
  const auto code_of = [&](int status) {
    const HttpResponse response =
        post_json(sim.root_url() + k_synthesis, k_t2v, {k_wan_key, k_async});
    CHECK(response.status == status);
    return member_text(parse_body(response.body), "code");
  };
  CHECK(code_of(400) == "Arrearage");
  CHECK(code_of(400) == "DataInspectionFailed");
  CHECK(code_of(200).empty());
  CHECK(code_of(429) == "Throttling.AllocationQuota");
  sim.set_faults(R"({"max_in_flight":0,"rate_429":1.0})");
  CHECK(code_of(429) == "Throttling.RateQuota");
  const auto stats = parse_body(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 1);
  CHECK(stats["vendor_codes_sent"]["Arrearage"].GetInt64() == 1);
  CHECK(stats["vendor_codes_sent"]["Throttling.RateQuota"].GetInt64() == 1);
}

TEST_CASE("sim wan: behind new-api (taskdto) and behind a pass-through prefix", "[e2e][sim]") {
  SimProcess sim({"--dialect", "wan", "--gateway-prefix", "/wan", "--gateway-shape", "taskdto",
                  "--gen-ms", "300"});
  const std::string gateway = sim.root_url() + "/wan";
  const std::string key = "Authorization: Bearer sk-gw";
  const HttpResponse created =
      post_json(gateway + k_synthesis, k_t2v, {key});  // new-api adds the async header
  REQUIRE(created.status == 200);
  const std::string id = member_text(parse_body(created.body), "id");
  CHECK(id.starts_with("task_"));
  std::set<std::string> seen;
  const auto done = parse_body(poll_until(gateway + "/api/v1/tasks/" + id, {key}, record_status,
                                          {"SUCCESS", "FAILURE"}, seen));
  REQUIRE(member_text(done["data"], "status") == "SUCCESS");
  CHECK(member_text(done["data"]["data"]["output"], "task_status") == "SUCCEEDED");
  CHECK(http_get(member_text(done["data"], "result_url")).status == 200);
  CHECK(http_get(gateway + "/api/v1/tasks", {key}).status == 404);

  SimProcess relay(
      {"--dialect", "wan", "--gateway-prefix", "/alibailian", "--require-key", "sk-gw"});
  const std::string path = relay.root_url() + "/alibailian" + k_synthesis;
  CHECK(post_json(path, k_t2v, {key}).status == 403);  // a pass-through relays the header rule too
  CHECK(post_json(path, k_t2v, {"Authorization: Bearer sk-no", k_async}).status == 401);
  const HttpResponse passed = post_json(path, k_t2v, {key, k_async});
  CHECK(passed.status == 200);
  CHECK(member_text(parse_body(passed.body)["output"], "task_status") == "PENDING");
}

TEST_CASE("sim wan: a create cut by the fault proxy is found in the listing", "[e2e][sim]") {
  SimProcess sim(wan_flags({"--fault", "fin:first=1"}));
  const HttpResponse cut = post_json(sim.root_url() + k_synthesis, k_t2v, {k_wan_key, k_async});
  CHECK(cut.curl_code == 52);  // empty reply
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 1);
  const auto listed = parse_body(
      http_get(sim.root_url() + "/api/v1/tasks?model_name=wan2.6-t2v", {k_wan_key}).body);
  CHECK(listed["total"].GetInt() == 1);
  CHECK(parse_body(sim.stats())["wire_faults"]["fired"]["fin"].GetInt64() == 1);
}
