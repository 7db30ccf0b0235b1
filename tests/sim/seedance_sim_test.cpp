// vidbatch-sim --dialect seedance over real sockets: content[] creates, Ark's error envelope, run
// slots (the rest queued), expiry, cancel and delete, the filtered listing, vendor refusals, the
// gateway prefix and a wire fault in front.
#include "sim/native_sim.h"
#include "support/fake_fs.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace vidbatch::test;

namespace {

const std::string k_seedance_key = "Authorization: Bearer ark-key";
const std::string k_tasks = "/api/v3/contents/generations/tasks";
const std::string k_pro = "doubao-seedance-1-0-pro-250528";
const std::string k_seedance_t2v =
    R"({"model":"doubao-seedance-1-0-pro-250528","content":[{"type":"text","text":"a kite"}],)"
    R"("ratio":"16:9","duration":5,"resolution":"1080p"})";

std::vector<std::string> seedance_flags(std::vector<std::string> extra = {}) {
  return native_sim_flags({"--dialect", "seedance", "--require-key", "ark-key"}, extra);
}

std::string status_of(const rapidjson::Document& doc) {
  return member_text(doc, "status");
}

std::string seedance_created_id(const HttpResponse& response) {
  INFO(response.body);
  REQUIRE(response.status == 200);
  return member_text(parse_body(response.body), "id");
}

std::string seedance_create(const SimProcess& sim, const std::string& body) {
  return seedance_created_id(post_json(sim.root_url() + k_tasks, body, {k_seedance_key}));
}

rapidjson::Document query(const SimProcess& sim, const std::string& id) {
  return parse_body(http_get(sim.root_url() + k_tasks + "/" + id, {k_seedance_key}).body);
}

}  // namespace

TEST_CASE("sim seedance: a content[] create runs to a video, 1920x1088 on 1.0-pro", "[e2e][sim]") {
  SimProcess sim(seedance_flags({"--gen-ms", "1000"}));
  const std::string id = seedance_create(sim, k_seedance_t2v);
  CHECK(id.starts_with("cgt-"));
  CHECK(id.size() == 24);
  std::set<std::string> seen;
  const auto done = parse_body(poll_until(sim.root_url() + k_tasks + "/" + id, {k_seedance_key},
                                          status_of, {"succeeded", "failed", "expired"}, seen));
  CHECK(seen.contains("running"));
  REQUIRE(status_of(done) == "succeeded");
  CHECK(member_text(done, "model") == k_pro);
  CHECK(member_text(done, "resolution") == "1080p");
  CHECK(member_text(done, "ratio") == "16:9");
  CHECK(done["duration"].GetInt() == 5);
  CHECK(done["framespersecond"].GetInt() == 30);
  CHECK(done["usage"]["total_tokens"].GetInt64() == 1920LL * 1088 * 30 * 5 / 1024);
  CHECK(done["created_at"].GetInt64() < 100'000'000'000);  // seconds
  const HttpResponse video = http_get(member_text(done["content"], "video_url"));
  REQUIRE(video.status == 200);
  CHECK(video.body.substr(4, 4) == "ftyp");
  CHECK(member_text(parse_body(sim.stats())["videos"][0], "sha256") ==
        vb::fake::reference_sha256(video.body));
}

TEST_CASE("sim seedance: Ark's error envelope for keys, models and content", "[e2e][sim]") {
  SimProcess sim(seedance_flags());
  const auto refused = [&](const std::string& body, int status, const std::string& code,
                           const std::string& header = k_seedance_key) {
    const HttpResponse response = post_json(sim.root_url() + k_tasks, body, {header});
    INFO(body << " -> " << response.body);
    CHECK(response.status == status);
    const auto doc = parse_body(response.body);
    CHECK(member_text(doc["error"], "code") == code);
    CHECK_FALSE(member_text(doc, "request_id").empty());
  };
  refused(k_seedance_t2v, 401, "AuthenticationError", "X-None: 1");
  refused(k_seedance_t2v, 401, "AuthenticationError", "Authorization: Bearer other");
  refused(R"({"content":[{"type":"text","text":"p"}]})", 400, "MissingParameter");
  refused(R"({"model":"doubao-x","content":[{"type":"text","text":"p"}]})", 404,
          "InvalidEndpointOrModel.NotFound");
  refused(R"({"model":")" + k_pro + R"("})", 400, "MissingParameter");
  refused(R"({"model":")" + k_pro + R"(","content":[{"type":"text","text":"p"}],"duration":"5"})",
          400, "InvalidParameter");
  refused(R"({"model":")" + k_pro + R"(","content":[{"type":"text","text":"p"}],"duration":13})",
          400, "InvalidParameter");
  refused(R"({"model":")" + k_pro +
              R"(","content":[{"type":"text","text":"p"}],"ratio":"adaptive"})",
          400, "InvalidParameter");
  refused(R"({"model":")" + k_pro +
              R"(","content":[{"type":"text","text":"p"}],"generate_audio":true})",
          400, "InvalidParameter");
  refused(R"({"model":")" + k_pro +
              R"(","content":[{"type":"image_url","image_url":{"url":"https://e.x/b.png"},)"
              R"("role":"last_frame"}]})",
          400, "InvalidParameter");
  refused(R"({"model":"doubao-seedance-1-0-lite-t2v-250428","content":[{"type":"text","text":"p"},)"
          R"({"type":"image_url","image_url":{"url":"https://e.x/a.png"}}]})",
          400, "InvalidParameter");
  refused(
      R"({"model":"doubao-seedance-1-0-lite-i2v-250428","content":[{"type":"text","text":"p"}]})",
      400, "InvalidParameter");
  refused(R"({"model":")" + k_pro +
              R"(","content":[{"type":"image_url","image_url":{"url":"iVBORw0KGgo="}}]})",
          400, "InvalidParameter");
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 0);

  seedance_create(
      sim,
      R"({"model":")" + k_pro +
          R"(","content":[{"type":"text","text":"p"},)"
          R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="},"role":"first_frame"},)"
          R"({"type":"image_url","image_url":{"url":"https://e.x/b.png"},"role":"last_frame"}]})");
  seedance_create(
      sim,
      R"({"model":"doubao-seedance-1-0-lite-i2v-250428","content":[{"type":"text","text":"p"},)"
      R"({"type":"image_url","image_url":{"url":"https://e.x/a.png"},"role":"reference_image"}]})");
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 2);
}

TEST_CASE("sim seedance: queued beyond the run slots, cancelled while queued, deleted after",
          "[e2e][sim]") {
  SimProcess sim(seedance_flags({"--gen-ms", "1500", "--run-slots", "1"}));
  const std::string first = seedance_create(sim, k_seedance_t2v);
  const std::string second = seedance_create(sim, k_seedance_t2v);
  const std::string third = seedance_create(sim, k_seedance_t2v);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  CHECK(status_of(query(sim, first)) == "running");
  CHECK(status_of(query(sim, second)) == "queued");
  const auto remove = [&](const std::string& id) {
    HttpRequest request;
    request.method = "DELETE";
    request.url = sim.root_url() + k_tasks + "/" + id;
    request.headers = {k_seedance_key};
    return http_send(request);
  };
  CHECK(remove(first).status == 400);  // running: neither cancelled nor deleted
  CHECK(remove(third).status == 200);
  CHECK(status_of(query(sim, third)) == "cancelled");
  std::set<std::string> seen;
  poll_until(sim.root_url() + k_tasks + "/" + second, {k_seedance_key}, status_of, {"succeeded"},
             seen);
  CHECK(seen.contains("running"));
  CHECK(remove(second).status == 200);  // finished: the record goes
  const HttpResponse gone = http_get(sim.root_url() + k_tasks + "/" + second, {k_seedance_key});
  CHECK(gone.status == 404);
  CHECK(member_text(parse_body(gone.body)["error"], "code") == "ResourceNotFound");
}

TEST_CASE("sim seedance: stuck tasks expire, failures carry error, the listing filters",
          "[e2e][sim]") {
  SimProcess sim(seedance_flags({"--gen-ms", "200", "--execution-expiry-ms", "600"}));
  const std::string stuck =
      seedance_create(sim, R"({"model":")" + k_pro +
                               R"(","content":[{"type":"text","text":"[[stuck]]"}]})");
  const std::string failing =
      seedance_create(sim, R"({"model":")" + k_pro +
                               R"(","content":[{"type":"text","text":"[[fail]]"}]})");
  const std::string fine = seedance_create(sim, k_seedance_t2v);
  std::set<std::string> seen;
  poll_until(sim.root_url() + k_tasks + "/" + stuck, {k_seedance_key}, status_of, {"expired"},
             seen);
  const auto failed = query(sim, failing);
  CHECK(status_of(failed) == "failed");
  CHECK(member_text(failed["error"], "code") == "OutputVideoSensitiveContentDetected");
  const auto list = [&](const std::string& query_string) {
    const HttpResponse response =
        http_get(sim.root_url() + k_tasks + query_string, {k_seedance_key});
    REQUIRE(response.status == 200);
    return parse_body(response.body);
  };
  const auto all = list("?page_num=1&page_size=2");
  CHECK(all["total"].GetInt() == 3);
  REQUIRE(all["items"].Size() == 2);
  CHECK(member_text(all["items"][0], "id") == fine);
  CHECK(list("?filter.status=expired")["total"].GetInt() == 1);
  const auto failures = list("?filter.status=failed");
  REQUIRE(failures["items"].Size() == 1);
  CHECK(member_text(failures["items"][0]["failure_reason"], "code") ==
        "OutputVideoSensitiveContentDetected");
  CHECK(list("?filter.task_ids=" + stuck + "&filter.task_ids=" + fine)["total"].GetInt() == 2);
  CHECK(list("?filter.model=doubao-seedance-2-0-260128")["total"].GetInt() == 0);
}

TEST_CASE("sim seedance: vendor refusals carry Ark's codes", "[e2e][sim]") {
  SimProcess sim(seedance_flags({"--gen-ms", "100000", "--max-in-flight", "1", "--vendor-fault",
                                 "balance:first=1", "--vendor-fault", "sensitive:first=1",
                                 "--vendor-fault", "rate_limit:first=1"}));
  const auto code_of = [&](int status) {
    const HttpResponse response =
        post_json(sim.root_url() + k_tasks, k_seedance_t2v, {k_seedance_key});
    CHECK(response.status == status);
    return response.status == 200 ? std::string()
                                  : member_text(parse_body(response.body)["error"], "code");
  };
  CHECK(code_of(403) == "AccountOverdueError");
  CHECK(code_of(400) == "InputTextSensitiveContentDetected");
  CHECK(code_of(429) == "RateLimitExceeded.EndpointRPMExceeded");
  CHECK(code_of(200).empty());
  CHECK(code_of(429) == "ServerOverloaded");
}

TEST_CASE("sim seedance: behind new-api (taskdto), expired tasks stay in progress", "[e2e][sim]") {
  SimProcess sim({"--dialect", "seedance", "--gateway-prefix", "/", "--gateway-shape", "taskdto",
                  "--gen-ms", "200", "--execution-expiry-ms", "500"});
  const std::string key = "Authorization: Bearer sk-gw";
  const auto create_task = [&](const std::string& prompt) {
    const HttpResponse created =
        post_json(sim.root_url() + k_tasks,
                  R"({"model":")" + k_pro + R"(","content":[{"type":"text","text":")" + prompt +
                      "\"}]}",
                  {key});
    REQUIRE(created.status == 200);
    return member_text(parse_body(created.body), "id");
  };
  const std::string done_id = create_task("a kite");
  const std::string stuck_id = create_task("[[stuck]]");
  std::set<std::string> seen;
  const auto done = parse_body(poll_until(sim.root_url() + k_tasks + "/" + done_id, {key},
                                          record_status, {"SUCCESS", "FAILURE"}, seen));
  CHECK(http_get(member_text(done["data"], "result_url")).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const auto stuck = parse_body(http_get(sim.root_url() + k_tasks + "/" + stuck_id, {key}).body);
  CHECK(member_text(stuck["data"]["data"], "status") == "expired");
  CHECK(member_text(stuck["data"], "status") == "IN_PROGRESS");
  CHECK(http_get(sim.root_url() + k_tasks, {key}).status == 404);
}

TEST_CASE("sim seedance: a stalled create answer, the task found in the listing", "[e2e][sim]") {
  SimProcess sim(seedance_flags({"--fault", "stall:first=1", "--stall-ms", "3000"}));
  HttpRequest request;
  request.method = "POST";
  request.url = sim.root_url() + k_tasks;
  request.headers = {k_seedance_key, "Content-Type: application/json"};
  request.body = k_seedance_t2v;
  request.timeout_ms = 500;
  CHECK(http_send(request).curl_code == 28);
  const auto listed = parse_body(
      http_get(sim.root_url() + k_tasks + "?filter.model=" + k_pro, {k_seedance_key}).body);
  CHECK(listed["total"].GetInt() == 1);
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 1);
}
