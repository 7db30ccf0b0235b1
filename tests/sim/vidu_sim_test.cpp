// vidbatch-sim --dialect vidu over real sockets: the Token scheme, the four create routes, the
// per-organisation run slots (the rest queueing), payload echoed by the query but not the listing,
// the credits page, vendor refusals, the gateway prefix and a wire fault in front.
#include "sim/native_sim.h"
#include "support/fake_fs.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace vidbatch::test;

namespace {

const std::string k_token = "Authorization: Token vd-key";
const std::string k_vidu_t2v =
    R"({"model":"viduq2","prompt":"a paper boat","duration":5,"payload":"job-7"})";

std::vector<std::string> vidu_flags(std::vector<std::string> extra = {}) {
  return native_sim_flags({"--dialect", "vidu", "--require-key", "vd-key"}, extra);
}

std::string state_of(const rapidjson::Document& doc) {
  return member_text(doc, "state");
}

HttpResponse vidu_create(const SimProcess& sim, const std::string& route, const std::string& body,
                         const std::string& header = k_token) {
  return post_json(sim.root_url() + "/ent/v2/" + route, body, {header});
}

std::string vidu_created_id(const HttpResponse& response) {
  INFO(response.body);
  REQUIRE(response.status == 200);
  return member_text(parse_body(response.body), "task_id");
}

std::string creations_url(const SimProcess& sim, const std::string& id) {
  return sim.root_url() + "/ent/v2/tasks/" + id + "/creations";
}

}  // namespace

TEST_CASE("sim vidu: text2video with a payload, to a video and its cover", "[e2e][sim]") {
  SimProcess sim(vidu_flags({"--gen-ms", "1000"}));
  const HttpResponse response = vidu_create(sim, "text2video", k_vidu_t2v);
  REQUIRE(response.status == 200);
  const auto created = parse_body(response.body);
  const std::string id = member_text(created, "task_id");
  CHECK(id.size() == 18);
  CHECK(state_of(created) == "created");
  CHECK(member_text(created, "payload") == "job-7");
  CHECK(member_text(created, "resolution") == "720p");
  CHECK(created["credits"].GetInt() == 10);
  CHECK(member_text(created, "created_at").ends_with("Z"));

  std::set<std::string> seen;
  const auto done = parse_body(
      poll_until(creations_url(sim, id), {k_token}, state_of, {"success", "failed"}, seen));
  CHECK(seen.contains("processing"));
  REQUIRE(state_of(done) == "success");
  CHECK(member_text(done, "payload") == "job-7");
  CHECK(member_text(done, "err_code").empty());
  const auto& creation = done["creations"][0];
  CHECK(creation["video"]["resolution"]["width"].GetInt() == 1280);
  const HttpResponse video = http_get(member_text(creation, "url"));
  REQUIRE(video.status == 200);
  CHECK(video.body.substr(4, 4) == "ftyp");
  CHECK(member_text(parse_body(sim.stats())["videos"][0], "sha256") ==
        vb::fake::reference_sha256(video.body));
  const HttpResponse cover = http_get(member_text(creation, "cover_url"));
  CHECK(cover.status == 200);
  CHECK(cover.body.substr(8, 4) == "WEBP");
}

TEST_CASE("sim vidu: the Token scheme, the routes' image counts and the models' limits",
          "[e2e][sim]") {
  SimProcess sim(vidu_flags());
  const auto refused = [&](const std::string& route, const std::string& body, int status,
                           const std::string& reason, const std::string& header = k_token) {
    const HttpResponse response = vidu_create(sim, route, body, header);
    INFO(route << " " << body << " -> " << response.body);
    CHECK(response.status == status);
    const auto doc = parse_body(response.body);
    CHECK(doc["code"].GetInt() == status);
    CHECK(member_text(doc, "reason") == reason);
    CHECK(member_text(doc["metadata"], "trace_id").size() == 32);
  };
  refused("text2video", k_vidu_t2v, 401, "Unauthorized", "Authorization: Bearer vd-key");
  refused("text2video", k_vidu_t2v, 401, "Unauthorized", "Authorization: Token other");
  refused("text2video", R"({"prompt":"p"})", 400, "FieldLacking");
  refused("text2video", R"({"model":"viduq2"})", 400, "FieldLacking");
  refused("text2video", R"({"model":"vidu2.0","prompt":"p"})", 400,
          "FieldInvalid");  // no text-to-video
  refused("text2video", R"({"model":"viduq2","prompt":"p","images":["https://e.x/a.png"]})", 400,
          "FieldUnwanted");
  refused("text2video", R"({"model":"viduq2","prompt":"p","duration":"5"})", 400, "FieldInvalid");
  refused("text2video", R"({"model":"viduq1","prompt":"p","duration":8})", 400, "FieldInvalid");
  refused("text2video", R"({"model":"viduq1","prompt":"p","aspect_ratio":"4:3"})", 400,
          "FieldInvalid");
  refused("img2video", R"({"model":"viduq2-pro","images":[]})", 400, "FieldItemCountOutOfRange");
  refused("img2video", R"({"model":"viduq2-pro","images":["iVBORw0KGgo="]})", 400,
          "ImageFormatInvalid");
  refused("img2video",
          R"({"model":"vidu2.0","images":["https://e.x/a.png"],"duration":8,"resolution":"1080p"})",
          400, "FieldInvalid");
  refused("start-end2video", R"({"model":"viduq2-pro","images":["https://e.x/a.png"]})", 400,
          "FieldItemCountOutOfRange");
  CHECK(parse_body(sim.stats())["creates_total"].GetInt64() == 0);

  vidu_created_id(
      vidu_create(sim, "img2video",
                  R"({"model":"viduq2-pro","images":["data:image/png;base64,iVBORw0KGgo="]})"));
  vidu_created_id(
      vidu_create(sim, "start-end2video",
                  R"({"model":"viduq1","images":["https://e.x/a.png","https://e.x/b.png"]})"));
  vidu_created_id(vidu_create(sim, "reference2video",
                              R"({"model":"viduq2","prompt":"p","images":["https://e.x/a.png"]})"));
  const auto stats = parse_body(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 3);
  CHECK(stats["vendor_codes_sent"]["FieldItemCountOutOfRange"].GetInt64() == 2);
}

TEST_CASE("sim vidu: beyond the organisation's run slots, tasks wait queueing", "[e2e][sim]") {
  SimProcess sim(vidu_flags({"--gen-ms", "2000", "--run-slots", "2"}));
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(vidu_created_id(vidu_create(sim, "text2video", k_vidu_t2v)));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const auto state = [&](const std::string& id) {
    return state_of(parse_body(http_get(creations_url(sim, id), {k_token}).body));
  };
  CHECK(state(ids[0]) == "processing");
  CHECK(state(ids[1]) == "processing");
  CHECK(state(ids[2]) == "queueing");
  CHECK(state(ids[3]) == "queueing");
  const auto credits = parse_body(http_get(sim.root_url() + "/ent/v2/credits", {k_token}).body);
  CHECK(credits["remains"][0]["concurrency_limit"].GetInt() == 2);
  CHECK(credits["remains"][0]["current_concurrency"].GetInt() == 2);
  CHECK(credits["remains"][0]["queue_count"].GetInt() == 2);
  std::set<std::string> seen;
  poll_until(creations_url(sim, ids[3]), {k_token}, state_of, {"success", "failed"}, seen);
  CHECK(seen.contains("processing"));
  CHECK(state(ids[0]) == "success");
  CHECK(parse_body(sim.stats())["max_in_flight_seen"].GetInt64() ==
        4);  // unfinished, queued included
}

TEST_CASE("sim vidu: the listing filters, pages, and leaves the payload out", "[e2e][sim]") {
  SimProcess sim(vidu_flags({"--gen-ms", "100000"}));
  const std::string a = vidu_created_id(vidu_create(sim, "text2video", k_vidu_t2v));
  const std::string b = vidu_created_id(vidu_create(sim, "text2video", k_vidu_t2v));
  const std::string c = vidu_created_id(
      vidu_create(sim, "img2video",
                  R"({"model":"vidu2.0","images":["https://e.x/a.png"],"payload":"job-9"})"));
  const auto list = [&](const std::string& query) {
    const HttpResponse response = http_get(sim.root_url() + "/ent/v2/tasks" + query, {k_token});
    INFO(response.body);
    REQUIRE(response.status == 200);
    return parse_body(response.body);
  };
  const auto all = list("");
  REQUIRE(all["tasks"].Size() == 3);
  CHECK(member_text(all["tasks"][0], "id") == c);
  CHECK_FALSE(all["tasks"][0].HasMember("payload"));
  CHECK(member_text(all["tasks"][0], "prompt").empty());
  CHECK(list("?model_versions=2.0")["tasks"].Size() == 1);
  CHECK(list("?model_versions=q2&model_versions=2.0")["tasks"].Size() == 3);
  CHECK(list("?task_ids=" + a)["tasks"].Size() == 1);
  CHECK(list("?states=success")["tasks"].Size() == 0);
  CHECK(list("?created_at.from=2099-01-01T00:00:00Z&created_at.to=2099-01-02T00:00:00Z")["tasks"]
            .Size() == 0);
  const auto first = list("?paper.page=0&paper.pagesz=2");
  CHECK(first["tasks"].Size() == 2);
  CHECK(member_text(first, "next_page_token") == "1");
  const auto second = list("?pager.page_token=1&paper.pagesz=2");
  REQUIRE(second["tasks"].Size() == 1);
  CHECK(member_text(second["tasks"][0], "id") == a);
  CHECK(member_text(second, "next_page_token").empty());
  CHECK(member_text(parse_body(http_get(creations_url(sim, b), {k_token}).body), "payload") ==
        "job-7");
}

TEST_CASE("sim vidu: failures, unknown tasks and vendor refusals", "[e2e][sim]") {
  SimProcess sim(vidu_flags({"--gen-ms", "300", "--vendor-fault", "balance:first=1",
                             "--vendor-fault", "sensitive:first=1"}));
  const auto reason_of = [&](int status) {
    const HttpResponse response = vidu_create(sim, "text2video", k_vidu_t2v);
    CHECK(response.status == status);
    return member_text(parse_body(response.body), "reason");
  };
  CHECK(reason_of(400) == "CreditInsufficient");
  CHECK(reason_of(400) == "TaskPromptPolicyViolation");
  const std::string id = vidu_created_id(
      vidu_create(sim, "text2video", R"({"model":"viduq2","prompt":"[[fail]] boat"})"));
  std::set<std::string> seen;
  const auto failed = parse_body(
      poll_until(creations_url(sim, id), {k_token}, state_of, {"success", "failed"}, seen));
  CHECK(state_of(failed) == "failed");
  CHECK(member_text(failed, "err_code") == "CreationPolicyViolation");
  CHECK(failed["creations"].Size() == 0);
  const HttpResponse unknown = http_get(creations_url(sim, "123"), {k_token});
  CHECK(unknown.status == 404);
  CHECK(member_text(parse_body(unknown.body), "reason") == "TaskNotFound");
  sim.set_faults(R"({"max_in_flight":1,"vendor_faults":[]})");
  vidu_created_id(vidu_create(sim, "text2video", R"({"model":"viduq2","prompt":"[[stuck]]"})"));
  CHECK(reason_of(429) == "QuotaExceeded");
  sim.set_faults(R"({"max_in_flight":0,"rate_429":1.0})");
  CHECK(reason_of(429) == "TooManyRequests");
}

TEST_CASE("sim vidu: behind gateways, a Bearer key replaces the Token scheme", "[e2e][sim]") {
  SimProcess relay({"--dialect", "vidu", "--gateway-prefix", "/vidu", "--require-key", "sk-gw",
                    "--gen-ms", "300"});
  const std::string base = relay.root_url() + "/vidu/ent/v2";
  const std::string key = "Authorization: Bearer sk-gw";
  CHECK(post_json(base + "/text2video", k_vidu_t2v, {"Authorization: Token sk-gw"}).status == 401);
  const std::string id = vidu_created_id(post_json(base + "/text2video", k_vidu_t2v, {key}));
  std::set<std::string> seen;
  const auto done = parse_body(
      poll_until(base + "/tasks/" + id + "/creations", {key}, state_of, {"success"}, seen));
  CHECK(member_text(done, "payload") == "job-7");

  SimProcess newapi({"--dialect", "vidu", "--gateway-prefix", "/", "--gateway-shape", "taskdto",
                     "--gen-ms", "300"});
  const HttpResponse created = post_json(newapi.root_url() + "/ent/v2/img2video",
                                         R"({"model":"viduq2-pro","images":["https://e.x/a.png"]})",
                                         {key});
  REQUIRE(created.status == 200);
  const std::string task = member_text(parse_body(created.body), "id");
  const auto record =
      parse_body(poll_until(newapi.root_url() + "/ent/v2/tasks/" + task + "/creations", {key},
                            record_status, {"SUCCESS", "FAILURE"}, seen));
  CHECK(member_text(record["data"], "action") == "generate");
  CHECK(member_text(record["data"]["data"], "state") == "success");
  CHECK(http_get(member_text(record["data"], "result_url")).status == 200);
}

TEST_CASE("sim vidu: a create answered by a relay's 500 still made its video", "[e2e][sim]") {
  SimProcess sim(vidu_flags({"--fault", "upstream_500:first=1"}));
  const HttpResponse spoiled = vidu_create(sim, "text2video", k_vidu_t2v);
  CHECK(spoiled.status == 500);
  CHECK(member_text(parse_body(spoiled.body)["error"], "code") == "do_request_failed");
  const auto listed =
      parse_body(http_get(sim.root_url() + "/ent/v2/tasks?model_versions=q2", {k_token}).body);
  REQUIRE(listed["tasks"].Size() == 1);
  const std::string id = member_text(listed["tasks"][0], "id");
  CHECK(member_text(parse_body(http_get(creations_url(sim, id), {k_token}).body), "payload") ==
        "job-7");
}
