// End-to-end checks of vidbatch-sim itself over real HTTP: if these fail, every e2e test of the
// orchestrator is suspect, so they pin the wire behaviour the other tests rely on.
#include "support/sim_process.h"
#include "support/test_http.h"

#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

using vidbatch::test::http_get;
using vidbatch::test::http_send;
using vidbatch::test::HttpRequest;
using vidbatch::test::HttpResponse;
using vidbatch::test::SimProcess;

namespace {

const std::string k_auth = "Authorization: Bearer sk-test";

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  return doc;
}

HttpResponse create_multipart(const SimProcess& sim, const std::string& prompt,
                              std::vector<std::string> headers = {}) {
  HttpRequest request;
  request.method = "POST";
  request.url = sim.base_url() + "/videos";
  request.headers = std::move(headers);
  request.headers.push_back(k_auth);
  request.form = {{"model", "sora-2"}, {"prompt", prompt}, {"seconds", "4"}, {"size", "720x1280"}};
  return http_send(request);
}

int64_t creates_total(const SimProcess& sim) {
  return parse(sim.stats())["creates_total"].GetInt64();
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    const char* hex = "0123456789abcdef";
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

std::string poll_until_terminal(const SimProcess& sim, const std::string& id) {
  for (int i = 0; i < 200; ++i) {
    const auto doc = parse(http_get(sim.base_url() + "/videos/" + id, {k_auth}).body);
    const std::string status = doc["status"].GetString();
    if (status == "completed" || status == "failed") {
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return "timeout";
}

}  // namespace

TEST_CASE("sim: creates are counted and Idempotency-Key is ignored", "[e2e][sim]") {
  // Queued for the first tenth of --gen-ms: 6 s, so a loaded machine still sees "queued".
  SimProcess sim({"--gen-ms", "60000"});
  const HttpResponse first = create_multipart(sim, "a calico cat", {"Idempotency-Key: key-1"});
  REQUIRE(first.status == 200);
  const auto video = parse(first.body);
  CHECK(std::string(video["id"].GetString()).starts_with("video_"));
  CHECK(std::string(video["status"].GetString()) == "queued");
  CHECK(video["completed_at"].IsNull());
  CHECK(creates_total(sim) == 1);

  const HttpResponse second = create_multipart(sim, "a calico cat", {"Idempotency-Key: key-1"});
  REQUIRE(second.status == 200);
  CHECK(std::string(parse(second.body)["id"].GetString()) != video["id"].GetString());
  CHECK(creates_total(sim) == 2);
}

TEST_CASE("sim: JSON create rejects an integer seconds", "[e2e][sim]") {
  SimProcess sim;
  HttpRequest request;
  request.method = "POST";
  request.url = sim.base_url() + "/videos";
  request.headers = {k_auth, "Content-Type: application/json"};
  request.body = R"({"model":"sora-2","prompt":"x","seconds":8})";
  const HttpResponse response = http_send(request);
  CHECK(response.status == 400);
  const auto doc = parse(response.body);
  CHECK(
      std::string(doc["error"]["message"].GetString()) ==
      "Invalid type for 'seconds': expected one of '4', '8', or '12', but got an integer instead.");
  CHECK(std::string(doc["error"]["type"].GetString()) == "invalid_request_error");
  CHECK(creates_total(sim) == 0);
}

TEST_CASE("sim: a video completes and its content matches /__stats", "[e2e][sim]") {
  SimProcess sim({"--gen-ms", "200", "--video-bytes", "4096"});
  const std::string id = parse(create_multipart(sim, "a dog").body)["id"].GetString();
  CHECK(http_get(sim.base_url() + "/videos/" + id + "/content", {k_auth}).status == 400);
  REQUIRE(poll_until_terminal(sim, id) == "completed");

  const HttpResponse content = http_get(sim.base_url() + "/videos/" + id + "/content", {k_auth});
  REQUIRE(content.status == 200);
  CHECK(content.header("content-type") == "video/mp4");
  REQUIRE(content.body.size() == 4096);
  CHECK(content.body.substr(4, 8) == "ftypisom");
  const auto stats = parse(sim.stats());
  CHECK(std::string(stats["videos"][0]["sha256"].GetString()) == sha256_hex(content.body));
  const auto counters = parse(http_get(sim.root_url() + "/__stats?counters=1").body);
  CHECK(counters["creates_total"].GetInt64() == 1);
  CHECK(counters["content_requests"].GetInt64() == stats["content_requests"].GetInt64());
  CHECK_FALSE(counters.HasMember("videos"));  // the lists stay out
  CHECK_FALSE(counters.HasMember("creates_by_prompt"));

  const HttpResponse tail =
      http_get(sim.base_url() + "/videos/" + id + "/content", {k_auth, "Range: bytes=4000-"});
  CHECK(tail.status == 206);
  CHECK(tail.header("content-range") == "bytes 4000-4095/4096");
  CHECK(tail.body == content.body.substr(4000));
}

TEST_CASE("sim: task shape exposes pending_info.progress_pct", "[e2e][sim]") {
  SimProcess sim({"--shape", "task", "--gen-ms", "2000"});
  const auto created = parse(create_multipart(sim, "a bird").body);
  const std::string id = created["id"].GetString();
  CHECK(id.starts_with("sora-2:task_"));
  CHECK(std::string(created["status"].GetString()) == "pending");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const auto doc = parse(http_get(sim.base_url() + "/videos/" + id, {k_auth}).body);
  CHECK(std::string(doc["status"].GetString()) == "processing");
  REQUIRE(doc["detail"]["pending_info"]["progress_pct"].IsNumber());
  CHECK(doc["detail"]["pending_info"]["progress_pct"].GetDouble() > 0.0);
  CHECK(doc["detail"]["pending_info"]["progress_pct"].GetDouble() < 1.0);
  CHECK(doc["status_update_time"].GetInt64() > 1'000'000'000'000);
}

TEST_CASE("sim: injected 429 carries Retry-After and creates nothing", "[e2e][sim]") {
  SimProcess sim;
  sim.set_faults(R"({"rate_429":1.0})");
  const HttpResponse response = create_multipart(sim, "rate limited");
  CHECK(response.status == 429);
  CHECK(response.header("retry-after") == "1");
  CHECK(response.header("retry-after-ms") == "200");
  CHECK(parse(response.body)["error"].IsObject());
  const auto stats = parse(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 0);
  CHECK(stats["faults_injected"]["429"].GetInt64() == 1);
  CHECK(sim.stop() == 0);
}

// A provider counts its in-flight videos atomically: creates arriving together must not pass
// the cap side by side (the check and the add were two steps: 11 videos against a cap of 3).
TEST_CASE("sim: creates arriving together never pass --max-in-flight", "[e2e][sim]") {
  SimProcess sim(
      {"--gen-ms", "600000", "--max-in-flight", "3", "--latency-ms", "50", "--threads", "40"});
  constexpr int k_creates = 32;
  std::atomic<int> waiting{k_creates};
  std::vector<std::thread> threads;
  for (int i = 0; i < k_creates; ++i) {
    threads.emplace_back([&] {
      for (--waiting; waiting > 0;) {
        std::this_thread::yield();
      }
      create_multipart(sim, "together");
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const auto stats = parse(sim.stats());
  CHECK(stats["creates_total"].GetInt64() == 3);
  CHECK(stats["max_in_flight_seen"].GetInt64() == 3);
  CHECK(stats["faults_injected"]["in_flight_429"].GetInt64() == k_creates - 3);
}

TEST_CASE("sim: lost create answers, dropped GETs and truncated downloads", "[e2e][sim]") {
  SimProcess sim({"--gen-ms", "100", "--video-bytes", "8192", "--lose-create-answers", "1",
                  "--truncate-downloads", "1"});
  const HttpResponse lost = create_multipart(sim, "lost answer");
  CHECK(lost.curl_code == 18);     // headers arrived, then the connection closed mid-body
  CHECK(creates_total(sim) == 1);  // ...but the video exists and counts
  const std::string id = parse(sim.stats())["videos"][0]["id"].GetString();
  REQUIRE(poll_until_terminal(sim, id) == "completed");

  const std::string url = sim.base_url() + "/videos/" + id + "/content";
  const HttpResponse cut = http_get(url, {k_auth});
  CHECK(cut.curl_code == 18);
  CHECK(cut.body.size() == 4096);
  const HttpResponse rest =
      http_get(url, {k_auth, "Range: bytes=" + std::to_string(cut.body.size()) + "-"});
  CHECK(rest.status == 206);
  CHECK(sha256_hex(cut.body + rest.body) == parse(sim.stats())["videos"][0]["sha256"].GetString());

  sim.set_faults(R"({"rate_drop":1.0})");
  CHECK(http_get(sim.base_url() + "/videos/" + id, {k_auth}).curl_code == 18);
  const auto stats = parse(sim.stats());
  const auto& faults = stats["faults_injected"];
  CHECK(faults["lost_create"].GetInt64() == 1);
  CHECK(faults["truncate"].GetInt64() == 1);
  CHECK(faults["drop"].GetInt64() == 1);
}

TEST_CASE("sim: unified gateway format with signed CDN URLs", "[e2e][sim]") {
  // A URL lives 1.5 s: long enough for the two downloads below on a loaded machine (300 ms
  // was not, at ctest -j4), short enough to wait out.
  SimProcess sim({"--gen-ms", "100", "--url-ttl-ms", "1500"});
  HttpRequest request;
  request.method = "POST";
  request.url = sim.base_url() + "/video/create";
  request.headers = {k_auth, "Content-Type: application/json"};
  request.body =
      R"({"model":"sora-2","prompt":"p","images":[],"orientation":"portrait","size":"small","duration":10})";
  const auto created = parse(http_send(request).body);
  const std::string id = created["id"].GetString();
  REQUIRE(id.starts_with("sora-2:task_"));
  rapidjson::Document done;
  auto signed_at = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    signed_at = std::chrono::steady_clock::now();
    done = parse(http_get(sim.base_url() + "/video/query?id=" + id, {k_auth}).body);
    if (std::string(done["status"].GetString()) == "completed") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(std::string(done["status"].GetString()) == "completed");
  const std::string video_url = done["video_url"].GetString();
  CHECK(video_url.starts_with("http://127.0.0.1:" + std::to_string(sim.cdn_port()) + "/files/"));
  CHECK(std::string(done["detail"]["draft_info"]["downloadable_url"].GetString()) == video_url);

  const HttpResponse file = http_get(video_url);
  CHECK(file.status == 200);
  CHECK(file.body.substr(4, 4) == "ftyp");
  CHECK(http_get(video_url, {k_auth}).status == 200);
  CHECK(parse(sim.stats())["auth_headers_seen_on_files"].GetInt64() == 1);
  std::this_thread::sleep_until(signed_at + std::chrono::milliseconds(1600));
  CHECK(http_get(video_url).status == 403);  // the signed time has passed
}

TEST_CASE("Subprocess reports exit codes like a shell", "[support]") {
  using vidbatch::test::Subprocess;
  const auto argv = [](std::vector<std::string> args) {
    vidbatch::test::SubprocessOptions options;
    options.argv = std::move(args);
    return options;
  };
  Subprocess ok(argv({"/bin/true"}));
  CHECK(ok.wait() == 0);
  Subprocess failing(argv({"/bin/false"}));
  CHECK(failing.wait() == 1);
  Subprocess sleeper(argv({"/bin/sleep", "30"}));
  CHECK_FALSE(sleeper.wait_for(std::chrono::milliseconds(50)).has_value());
  sleeper.send_signal(SIGTERM);
  CHECK(sleeper.wait() == 128 + SIGTERM);
  CHECK_THROWS(Subprocess(argv({"/nonexistent/program"})));
}
