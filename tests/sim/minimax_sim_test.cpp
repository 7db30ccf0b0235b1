// vidbatch-sim --dialect minimax over real sockets: HTTP 200 with base_resp for everything, the
// three-step download (query -> file_id -> files/retrieve -> URL), URLs and tasks that expire,
// vendor refusals, the gateway shapes (native, taskdto, yunwu) and a wire fault in front.
#include "sim/native_sim.h"
#include "support/fake_fs.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace vidbatch::test;

namespace {

const std::string k_minimax_key = "Authorization: Bearer mm-key";

std::vector<std::string> minimax_flags(std::vector<std::string> extra = {}) {
  return native_sim_flags({"--dialect", "minimax", "--require-key", "mm-key"}, extra);
}

int status_code(const rapidjson::Document& doc) {
  return doc["base_resp"]["status_code"].GetInt();
}

std::string create_task(const std::string& url, const std::string& body,
                        const std::string& header = k_minimax_key) {
  const HttpResponse response = post_json(url, body, {header});
  INFO(response.body);
  REQUIRE(response.status == 200);
  const auto doc = parse_body(response.body);
  REQUIRE(status_code(doc) == 0);
  return member_text(doc, "task_id");
}

std::string query_status(const rapidjson::Document& doc) {
  return member_text(doc, "status");
}

// Polls the query until Success or Fail; returns its body.
rapidjson::Document settle(const std::string& query_url, std::set<std::string>& seen) {
  return parse_body(
      poll_until(query_url, {k_minimax_key}, query_status, {"Success", "Fail"}, seen));
}

}  // namespace

TEST_CASE("sim minimax: create, query, retrieve, download: file_id a string, then a number",
          "[e2e][sim]") {
  SimProcess sim(minimax_flags(
      {"--gen-ms", "3000"}));  // 300 ms queued: the first poll sees it even on a busy machine
  const std::string id = create_task(
      sim.base_url() + "/video_generation",
      R"({"model":"MiniMax-Hailuo-02","prompt":"a heron","duration":6,"resolution":"768P"})");
  CHECK(id.size() == 15);
  CHECK(id.find_first_not_of("0123456789") == std::string::npos);
  std::set<std::string> seen;
  const auto done = settle(sim.base_url() + "/query/video_generation?task_id=" + id, seen);
  CHECK((seen.contains("Queueing") || seen.contains("Preparing")));
  CHECK(seen.contains("Processing"));
  REQUIRE(member_text(done, "status") == "Success");
  CHECK(status_code(done) == 0);
  REQUIRE(done["file_id"].IsString());
  const std::string file_id = done["file_id"].GetString();
  CHECK(done["video_width"].GetInt() == 1366);
  CHECK(done["video_height"].GetInt() == 768);

  const HttpResponse retrieved =
      http_get(sim.base_url() + "/files/retrieve?file_id=" + file_id, {k_minimax_key});
  REQUIRE(retrieved.status == 200);
  const auto file = parse_body(retrieved.body);
  CHECK(status_code(file) == 0);
  REQUIRE(file["file"]["file_id"].IsInt64());
  CHECK(std::to_string(file["file"]["file_id"].GetInt64()) == file_id);
  CHECK(file["file"]["bytes"].GetInt() == 0);
  CHECK(member_text(file["file"], "filename") == "output.mp4");
  const std::string url = member_text(file["file"], "download_url");
  CHECK(url.starts_with("http://127.0.0.1:" + std::to_string(sim.cdn_port()) + "/files/"));
  CHECK(url.find("Expires=") != std::string::npos);
  const HttpResponse video = http_get(url);
  REQUIRE(video.status == 200);
  CHECK(video.body.size() == 8192);
  CHECK(video.body.substr(4, 4) == "ftyp");
  CHECK(http_get(member_text(file["file"], "backup_download_url")).body == video.body);
  const auto stats = parse_body(sim.stats());
  CHECK(member_text(stats["videos"][0], "sha256") == vb::fake::reference_sha256(video.body));
  CHECK(stats["file_retrieves"].GetInt64() == 1);
  CHECK(stats["creates_by_prompt"]["a heron"].GetInt64() == 1);
  CHECK(stats["requests_by_route"]["GET /v1/files/retrieve"].GetInt64() == 1);
}

TEST_CASE("sim minimax: every error is HTTP 200 with base_resp", "[e2e][sim]") {
  SimProcess sim(minimax_flags());
  const std::string url = sim.base_url() + "/video_generation";
  const auto code_of = [&](const std::string& body, const std::string& header = k_minimax_key) {
    const HttpResponse response = post_json(url, body, {header});
    INFO(body << " -> " << response.body);
    CHECK(response.status == 200);
    const auto doc = parse_body(response.body);
    CHECK_FALSE(doc.HasMember("status"));
    return status_code(doc);
  };
  const std::string t2v = R"({"model":"MiniMax-Hailuo-2.3","prompt":"p"})";
  CHECK(code_of(t2v, "X-None: 1") == 1004);
  CHECK(code_of(t2v, "Authorization: Bearer wrong") == 2049);
  CHECK(
      code_of(R"({"model":"MiniMax-Hailuo-02","prompt":"p","duration":10,"resolution":"1080P"})") ==
      2013);
  CHECK(code_of(R"({"model":"MiniMax-Hailuo-02","prompt":"p","duration":"6"})") == 2013);
  CHECK(code_of(R"({"model":"MiniMax-Hailuo-2.3","prompt":"p","resolution":"512P"})") == 2013);
  CHECK(code_of(R"({"model":"T2V-01","prompt":"p","duration":10})") == 2013);
  CHECK(code_of(R"({"model":"Hailuo-9","prompt":"p"})") == 2013);
  CHECK(code_of(R"({"model":"I2V-01","prompt":"p"})") == 2013);
  CHECK(code_of(R"({"model":"MiniMax-Hailuo-2.3-Fast","prompt":"p"})") == 2013);
  CHECK(code_of(R"({"model":"MiniMax-Hailuo-2.3","first_frame_image":"iVBORw0KGgo="})") == 2013);
  CHECK(code_of(R"({"model":"MiniMax-Hailuo-2.3","first_frame_image":"https://e.x/a.png",)"
                R"("last_frame_image":"https://e.x/b.png"})") == 2013);
  CHECK(code_of(R"({"model":"MiniMax-Hailuo-02","first_frame_image":"https://e.x/a.png",)"
                R"("last_frame_image":"https://e.x/b.png","resolution":"512P"})") == 2013);
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 0);

  CHECK(
      code_of(
          R"({"model":"MiniMax-Hailuo-02","first_frame_image":"data:image/png;base64,iVBORw0KGgo=",)"
          R"("last_frame_image":"https://e.x/b.png","duration":10})") == 0);
  CHECK(code_of(R"({"model":"I2V-01","first_frame_image":"https://e.x/a.png"})") == 0);
  const HttpResponse missing =
      http_get(sim.base_url() + "/query/video_generation?task_id=999999999999999", {k_minimax_key});
  CHECK(missing.status == 200);
  CHECK(status_code(parse_body(missing.body)) == 2013);
  const auto stats = parse_body(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 2);
  CHECK(stats["vendor_codes_sent"]["2013"].GetInt64() == 11);
}

TEST_CASE("sim minimax: download URLs expire and are retrieved again; tasks are forgotten",
          "[e2e][sim]") {
  // Each URL lives 2-3 s (Expires is in whole seconds), the task 6 s after it finished.
  SimProcess sim(
      minimax_flags({"--gen-ms", "100", "--url-ttl-ms", "3000", "--task-ttl-ms", "6000"}));
  const std::string id =
      create_task(sim.base_url() + "/video_generation", R"({"model":"T2V-01","prompt":"p"})");
  std::set<std::string> seen;
  const std::string file_id =
      member_text(settle(sim.base_url() + "/query/video_generation?task_id=" + id, seen),
                  "file_id");
  const auto retrieve = [&] {
    return parse_body(
        http_get(sim.base_url() + "/files/retrieve?file_id=" + file_id, {k_minimax_key}).body);
  };
  const std::string first_url = member_text(retrieve()["file"], "download_url");
  CHECK(http_get(first_url).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  const HttpResponse expired = http_get(first_url);
  CHECK(expired.status == 403);
  CHECK(expired.body.find("<Code>AccessDenied</Code>") != std::string::npos);
  const std::string second_url = member_text(retrieve()["file"], "download_url");
  CHECK(second_url != first_url);
  CHECK(http_get(second_url).status == 200);
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 1);

  std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // past the task's time to live
  const auto gone = parse_body(
      http_get(sim.base_url() + "/query/video_generation?task_id=" + id, {k_minimax_key}).body);
  CHECK_FALSE(gone.HasMember("status"));
  CHECK(status_code(gone) != 0);
  CHECK(status_code(retrieve()) != 0);
}

TEST_CASE("sim minimax: the fail marker ends in Fail with base_resp set", "[e2e][sim]") {
  SimProcess sim(minimax_flags());
  const std::string id = create_task(sim.base_url() + "/video_generation",
                                     R"({"model":"MiniMax-Hailuo-2.3","prompt":"[[fail]] p"})");
  std::set<std::string> seen;
  const auto done = settle(sim.base_url() + "/query/video_generation?task_id=" + id, seen);
  CHECK(member_text(done, "status") == "Fail");
  CHECK(status_code(done) == 1027);
  CHECK_FALSE(done.HasMember("file_id"));
}

TEST_CASE("sim minimax: vendor refusals and the RPM limit live in base_resp", "[e2e][sim]") {
  SimProcess sim(minimax_flags({"--rpm", "1"}));
  const std::string url = sim.base_url() + "/video_generation";
  const std::string body = R"({"model":"MiniMax-Hailuo-2.3","prompt":"p"})";
  const auto code_of = [&] {
    const HttpResponse response = post_json(url, body, {k_minimax_key});
    CHECK(response.status == 200);
    return status_code(parse_body(response.body));
  };
  CHECK(code_of() == 0);
  CHECK(code_of() == 1002);  // the second create within a minute
  sim.set_faults(
      R"({"rpm":0,"vendor_faults":["balance:first=1","sensitive:first=1","invalid:first=1",)"
      R"("rate_limit:first=1","server:first=1"]})");
  CHECK(code_of() == 1008);
  CHECK(code_of() == 1026);
  CHECK(code_of() == 2013);
  CHECK(code_of() == 1002);
  CHECK(code_of() == 1024);
  CHECK(code_of() == 0);
  sim.set_faults(R"({"rate_429":1.0})");
  const auto limited = parse_body(
      http_get(sim.base_url() + "/query/video_generation?task_id=1", {k_minimax_key}).body);
  CHECK(status_code(limited) == 1002);
  CHECK_FALSE(limited.HasMember("status"));
  const auto stats = parse_body(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 2);
  CHECK(stats["faults_injected"]["rpm_429"].GetInt64() == 1);
  CHECK(stats["faults_injected"]["vendor_server"].GetInt64() == 1);
  CHECK(stats["vendor_codes_sent"]["1002"].GetInt64() == 3);
}

TEST_CASE("sim minimax: behind new-api, taskdto shape", "[e2e][sim]") {
  SimProcess sim({"--dialect", "minimax", "--gateway-prefix", "/minimax", "--gateway-shape",
                  "taskdto", "--gen-ms", "300"});
  const std::string gateway = sim.root_url() + "/minimax/v1";
  const std::string key = "Authorization: Bearer sk-gw";
  const HttpResponse created = post_json(gateway + "/video_generation",
                                         R"({"model":"MiniMax-Hailuo-02","prompt":"p"})", {key});
  REQUIRE(created.status == 200);
  const std::string id = member_text(parse_body(created.body), "id");
  CHECK(id.starts_with("task_"));
  std::set<std::string> seen;
  const auto done = parse_body(poll_until(gateway + "/query/video_generation?task_id=" + id, {key},
                                          record_status, {"SUCCESS", "FAILURE"}, seen));
  const auto& record = done["data"];
  REQUIRE(member_text(record, "status") == "SUCCESS");
  CHECK(seen.contains("IN_PROGRESS"));
  CHECK(member_text(record["data"], "status") == "Success");
  CHECK(record["data"]["file_id"].IsString());
  CHECK(http_get(member_text(record, "result_url")).status == 200);
  CHECK(
      http_get(gateway + "/files/retrieve?file_id=" + member_text(record["data"], "file_id"), {key})
          .status == 404);

  sim.set_faults(R"({"vendor_faults":["sensitive:first=1"]})");
  const HttpResponse refused = post_json(gateway + "/video_generation",
                                         R"({"model":"MiniMax-Hailuo-02","prompt":"p"})", {key});
  CHECK(refused.status == 400);
  const auto error = parse_body(refused.body);
  CHECK(member_text(error, "code") == "1026");
  CHECK(member_text(error, "message").starts_with("hailuo api error: "));
}

TEST_CASE("sim minimax: behind a yunwu-style gateway, the merged record", "[e2e][sim]") {
  SimProcess sim({"--dialect", "minimax", "--gateway-prefix", "/minimax", "--gateway-shape",
                  "yunwu", "--gen-ms", "200"});
  const std::string gateway = sim.root_url() + "/minimax/v1";
  const std::string key = "Authorization: Bearer sk-gw";
  const std::string id = create_task(gateway + "/video_generation",
                                     R"({"model":"MiniMax-Hailuo-2.3","prompt":"p"})", key);
  std::set<std::string> seen;
  const auto done = parse_body(poll_until(gateway + "/query/video_generation?task_id=" + id, {key},
                                          record_status, {"SUCCESS", "FAILURE"}, seen));
  const auto& record = done["data"];
  REQUIRE(member_text(record, "status") == "SUCCESS");
  CHECK(member_text(record, "task_id") == id);
  const std::string file_id = member_text(record, "fail_reason");  // yunwu puts the file_id there
  CHECK(member_text(record["data"], "file_id") == file_id);
  CHECK(std::to_string(record["data"]["file"]["file_id"].GetInt64()) == file_id);
  CHECK(http_get(member_text(record["data"]["file"], "download_url")).status == 200);
  CHECK(http_get(gateway + "/files/retrieve?file_id=" + file_id, {key}).status == 200);
}

TEST_CASE("sim minimax: a 502 from the fault proxy after the video was made", "[e2e][sim]") {
  SimProcess sim(minimax_flags(
      {"--fault", "gateway_502:first=1", "--fault", "partial:first=1:scope=/query/"}));
  const HttpResponse spoiled = post_json(sim.base_url() + "/video_generation",
                                         R"({"model":"MiniMax-Hailuo-2.3","prompt":"p"})",
                                         {k_minimax_key});
  CHECK(spoiled.status == 502);
  CHECK(spoiled.body.find("Bad Gateway") != std::string::npos);
  const auto stats = parse_body(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 1);
  const std::string id = member_text(stats["videos"][0], "id");
  CHECK(http_get(sim.base_url() + "/query/video_generation?task_id=" + id, {k_minimax_key})
            .curl_code == 18);
  CHECK(
      http_get(sim.base_url() + "/query/video_generation?task_id=" + id, {k_minimax_key}).status ==
      200);
  CHECK(parse_body(sim.stats())["wire_faults"]["fired"]["partial"].GetInt64() == 1);
}
