// vidbatch-sim --fault-proxy in front of a small cpp-httplib server of the test, over real
// sockets: what libcurl sees for each wire fault, that reset_keepalive only hits a kept-alive
// connection (and that libcurl then sends the POST again), seeded reproducibility, and framing
// (chunked, HEAD, 204, Expect: 100-continue, a 1 MiB body) kept intact on one connection.
#include "support/sim_process.h"
#include "support/test_http.h"

#include <httplib.h>
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <curl/curl.h>

#include <map>
#include <mutex>
#include <thread>

using namespace vidbatch::test;

namespace {

const std::string k_chunks[] = {"alpha", "beta", "gamma"};

std::string big_body() {
  std::string body(1 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>('a' + (i * 7 + i / 1000) % 26);
  }
  return body;
}

// The upstream: counts every POST /work... it receives (by path and body), echoes sizes and
// hashes of bodies, and serves chunked, large, HEAD and 204 answers. Keeps connections open.
class Upstream {
 public:
  Upstream() {
    m_server.set_keep_alive_max_count(1000);
    m_server.Post(R"(/work(/\w+)?)", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(m_mutex);
      const int seen = ++m_received[req.path + " " + req.body];
      res.set_content("{\"received\":" + std::to_string(seen) + "}", "application/json");
    });
    m_server.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(std::to_string(req.body.size()) + " " +
                          std::to_string(std::hash<std::string>{}(req.body)),
                      "text/plain");
    });
    m_server.Get("/chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
        const size_t index = offset == 0 ? 0 : offset == 5 ? 1 : 2;
        sink.write(k_chunks[index].data(), k_chunks[index].size());
        if (index == 2) {
          sink.done();
        }
        return true;
      });
    });
    m_server.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(big_body(), "application/octet-stream");
    });
    m_server.Get("/nothing",
                 [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
    m_port = m_server.bind_to_any_port(
        "127.0.0.1");  // listening from here on; accepted once the loop runs
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }

  ~Upstream() {
    m_server.stop();
    m_thread.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

  // How many times the upstream received this POST (path and body).
  int received(const std::string& path, const std::string& body) const {
    std::lock_guard lock(m_mutex);
    const auto it = m_received.find(path + " " + body);
    return it == m_received.end() ? 0 : it->second;
  }

 private:
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  mutable std::mutex m_mutex;
  std::map<std::string, int> m_received;
};

HttpRequest post(const SimProcess& proxy, const std::string& path, const std::string& body) {
  HttpRequest request;
  request.method = "POST";
  request.url = proxy.root_url() + path;
  request.headers = {"Content-Type: text/plain"};
  request.body = body;
  return request;
}

HttpRequest get(const SimProcess& proxy, const std::string& path,
                const std::string& method = "GET") {
  HttpRequest request;
  request.method = method;
  request.url = proxy.root_url() + path;
  return request;
}

int64_t fired(const SimProcess& proxy, const std::string& kind) {
  rapidjson::Document doc;
  doc.Parse(proxy.wire_stats().c_str());
  REQUIRE(doc.IsObject());
  return doc["fired"][kind.c_str()].GetInt64();
}

struct Expected {
  std::string rule;  // JSON of one fault rule
  int curl_code;
  long status;
  std::string body_has;
  bool fires = true;
};

}  // namespace

TEST_CASE("fault proxy: each wire fault as libcurl sees it, after the upstream did the work",
          "[e2e][sim][fault-proxy]") {
  const std::map<std::string, Expected> cases = {
      {"reset", {R"({"kind":"reset"})", CURLE_RECV_ERROR, 0, ""}},
      {"reset_keepalive",
       {R"({"kind":"reset_keepalive"})", CURLE_OK, 200, "\"received\":1", false}},
      {"fin", {R"({"kind":"fin"})", CURLE_GOT_NOTHING, 0, ""}},
      {"stall", {R"({"kind":"stall"})", CURLE_OPERATION_TIMEDOUT, 0, ""}},
      {"gateway_502",
       {R"({"kind":"gateway_502"})", CURLE_OK, 502, "<center><h1>502 Bad Gateway</h1></center>"}},
      {"gateway_504",
       {R"({"kind":"gateway_504"})", CURLE_OK, 504,
        "<center><h1>504 Gateway Time-out</h1></center>"}},
      {"gateway_52x", {R"({"kind":"gateway_52x","status":522})", CURLE_OK, 522, "Error code 522"}},
      {"upstream_500",
       {R"({"kind":"upstream_500"})", CURLE_OK, 500,
        R"({"error":{"message":"do request failed: Post \"https://upstream/work\": read: connection reset by peer",)"
        R"("type":"new_api_error","param":"","code":"do_request_failed"}})"}},
      {"partial", {R"({"kind":"partial"})", CURLE_PARTIAL_FILE, 200, ""}},
  };
  for (const auto& [kind, expected] : cases) {
    DYNAMIC_SECTION(kind) {
      Upstream upstream;
      auto proxy = SimProcess::fault_proxy(upstream.url());
      proxy->set_faults(R"({"stall_ms":5000,"faults":[)" + expected.rule + "]}");
      HttpRequest request = post(*proxy, "/work", kind);
      request.timeout_ms = 500;                          // the stall outlasts it
      const HttpResponse response = http_send(request);  // a fresh connection: its first request
      CHECK(response.curl_code == expected.curl_code);
      CHECK(response.status == expected.status);
      CHECK(response.body.find(expected.body_has) != std::string::npos);
      CHECK(upstream.received("/work", kind) == 1);  // forwarded once: the work was done
      CHECK(fired(*proxy, kind) == (expected.fires ? 1 : 0));
      // A GET is out of the default scope (paid requests = POST).
      CHECK(http_get(proxy->root_url() + "/chunked").status == 200);
      if (kind == "gateway_52x") {
        CHECK(response.header("server") == "cloudflare");
      }
    }
  }
}

TEST_CASE("libcurl sends a POST again when its kept-alive connection is reset before the answer",
          "[e2e][sim][fault-proxy][never-pay-twice]") {
  // The reason paid requests must not travel on a reused connection: libcurl 7.88 takes a reset
  // before any answer byte on a reused connection for a stale one and silently retries.
  Upstream upstream;
  SECTION("reused connection: one request from the client, two at the server") {
    auto proxy = SimProcess::fault_proxy(upstream.url(), {"--fault", "reset_keepalive"});
    HttpSession session;
    const HttpResponse first = session.send(post(*proxy, "/work", "first"));
    REQUIRE(first.curl_code == CURLE_OK);
    CHECK(fired(*proxy, "reset_keepalive") == 0);  // the first request of its connection
    HttpRequest second = post(*proxy, "/work", "second");
    second.trace = true;
    const HttpResponse answer = session.send(second);
    INFO(answer.trace);
    CHECK(answer.curl_code == CURLE_OK);
    CHECK(answer.status == 200);  // the resend went on a fresh connection, out of the fault's reach
    CHECK(answer.trace.find("Connection died, retrying a fresh connect") != std::string::npos);
    CHECK(fired(*proxy, "reset_keepalive") == 1);
    REQUIRE(upstream.received("/work", "second") == 2);
  }
  SECTION("fresh connection: the same reset is an error and the POST arrived once") {
    auto proxy = SimProcess::fault_proxy(upstream.url(), {"--fault", "reset:scope=^/work/paid$"});
    HttpSession session;
    REQUIRE(session.send(post(*proxy, "/work/free", "first")).curl_code == CURLE_OK);
    HttpRequest paid = post(*proxy, "/work/paid", "second");
    paid.fresh_connection = true;
    const HttpResponse answer = session.send(paid);
    CHECK(answer.curl_code == CURLE_RECV_ERROR);
    CHECK(fired(*proxy, "reset") == 1);
    REQUIRE(upstream.received("/work/paid", "second") == 1);
  }
}

TEST_CASE("fault proxy: seeded draws repeat, first-N rules go first, scopes pick requests",
          "[e2e][sim][fault-proxy]") {
  Upstream upstream;
  SECTION("the same seed gives the same faults, another seed others") {
    auto statuses = [&](const std::string& seed) {
      auto proxy = SimProcess::fault_proxy(upstream.url(),
                                           {"--seed", seed, "--fault", "gateway_502:rate=0.5"});
      std::vector<long> out;
      for (int i = 0; i < 30; ++i) {
        out.push_back(http_send(post(*proxy, "/work", seed + "-" + std::to_string(i))).status);
      }
      return out;
    };
    const auto first = statuses("7");
    CHECK(statuses("7") == first);
    CHECK(statuses("8") != first);
    const auto spoiled = std::count(first.begin(), first.end(), 502);
    CHECK(spoiled >= 5);
    CHECK(spoiled <= 25);
    CHECK(std::count(first.begin(), first.end(), 200) == 30 - spoiled);
  }
  SECTION("first N before the rates, at most one fault a request, GETs out of the post scope") {
    auto proxy = SimProcess::fault_proxy(upstream.url(), {"--fault", "fin:first=2", "--fault",
                                                          "gateway_504:rate=1"});
    std::vector<int> codes;
    std::vector<long> statuses;
    for (int i = 0; i < 5; ++i) {
      const HttpResponse response = http_send(post(*proxy, "/work", "n" + std::to_string(i)));
      codes.push_back(response.curl_code);
      statuses.push_back(response.status);
      CHECK(http_send(get(*proxy, "/chunked")).status == 200);
    }
    CHECK(codes ==
          std::vector<int>{CURLE_GOT_NOTHING, CURLE_GOT_NOTHING, CURLE_OK, CURLE_OK, CURLE_OK});
    CHECK(statuses == std::vector<long>{0, 0, 504, 504, 504});
    CHECK(fired(*proxy, "fin") == 2);
    CHECK(fired(*proxy, "gateway_504") == 3);
  }
  SECTION("a path regex scope, set at run time") {
    auto proxy = SimProcess::fault_proxy(upstream.url());
    proxy->set_faults(R"({"faults":[{"kind":"upstream_500","scope":"^/work/paid$"}]})");
    CHECK(http_send(post(*proxy, "/work/free", "x")).status == 200);
    CHECK(http_send(post(*proxy, "/work/paid", "x")).status == 500);
    CHECK(upstream.received("/work/paid", "x") == 1);
    HttpRequest bad =
        post(*proxy, "/__fault-proxy/faults", R"({"faults":[{"kind":"reset","rate":2}]})");
    const HttpResponse refused = http_send(bad);
    CHECK(refused.status == 400);
    CHECK(refused.body.find("faults[0]: rate must be a number from 0 to 1") != std::string::npos);
  }
}

TEST_CASE(
    "fault proxy: framing survives chunked, HEAD, 204, 100-continue and large bodies on one "
    "connection",
    "[e2e][sim][fault-proxy]") {
  Upstream upstream;
  auto proxy =
      SimProcess::fault_proxy(upstream.url(), {"--fault", "gateway_502:scope=^/work/spoiled$"});
  HttpSession session;
  long connects = 0;
  auto send = [&](const HttpRequest& request) {
    HttpResponse response = session.send(request);
    connects += response.connects;
    REQUIRE(response.curl_code == CURLE_OK);
    return response;
  };
  CHECK(send(get(*proxy, "/chunked")).body == "alphabetagamma");

  HttpRequest chunked = post(*proxy, "/echo", std::string(100000, 'c'));
  chunked.headers.push_back("Transfer-Encoding: chunked");
  CHECK(send(chunked).body == "100000 " + std::to_string(std::hash<std::string>{}(chunked.body)));

  HttpRequest expecting = post(*proxy, "/echo", big_body() + big_body());
  expecting.headers.push_back("Expect: 100-continue");
  CHECK(send(expecting).body ==
        "2097152 " + std::to_string(std::hash<std::string>{}(expecting.body)));

  const HttpResponse head = send(get(*proxy, "/big", "HEAD"));
  CHECK(head.header("content-length") == "1048576");
  CHECK(head.body.empty());
  CHECK(send(get(*proxy, "/nothing")).status == 204);
  CHECK(send(get(*proxy, "/big")).body == big_body());

  const HttpResponse spoiled = send(post(*proxy, "/work/spoiled", "x"));
  CHECK(spoiled.status == 502);
  CHECK(upstream.received("/work/spoiled", "x") == 1);
  CHECK(send(get(*proxy, "/chunked")).body == "alphabetagamma");  // the connection is still in step

  CHECK(connects == 1);
  rapidjson::Document stats;
  stats.Parse(proxy->wire_stats().c_str());
  CHECK(stats["max_requests_on_a_connection"].GetInt64() == 8);
  CHECK(stats["upstream_errors"].GetInt64() == 0);
  CHECK(stats["fired"]["gateway_502"].GetInt64() == 1);
}

TEST_CASE("sim: wire faults in front of the simulator, set at run time and counted in /__stats",
          "[e2e][sim][fault-proxy]") {
  auto create = [](const SimProcess& sim, const std::string& prompt) {
    HttpRequest request;
    request.method = "POST";
    request.url = sim.base_url() + "/videos";
    request.headers = {"Authorization: Bearer sk-test"};
    request.form = {{"model", "sora-2"}, {"prompt", prompt}};
    return http_send(request);
  };
  auto stats = [](const SimProcess& sim) {
    rapidjson::Document doc;
    doc.Parse(sim.stats().c_str());
    REQUIRE(doc.IsObject());
    return doc;
  };
  SimProcess sim({"--wire-faults", "--gen-ms", "100", "--quiet"});
  sim.set_faults(R"({"faults":[{"kind":"gateway_504","first":1}],"latency_ms":0})");
  CHECK(create(sim, "first").status == 504);
  CHECK(create(sim, "second").status == 200);
  auto doc = stats(sim);
  CHECK(doc["creates_total"].GetInt() == 2);  // the spoiled create was made all the same
  CHECK(doc["wire_faults"]["fired"]["gateway_504"].GetInt() == 1);
  CHECK(doc["wire_faults"]["requests"].GetInt() == 2);  // admin routes are not counted as requests

  // A bad rule changes nothing, not even the simulator's knobs sent with it.
  HttpRequest bad;
  bad.method = "POST";
  bad.url = sim.root_url() + "/__faults";
  bad.body = R"({"rate_500":1.0,"faults":[{"kind":"gateway_999"}]})";
  const HttpResponse refused = http_send(bad);
  CHECK(refused.status == 400);
  CHECK(refused.body.find("unknown fault kind 'gateway_999'") != std::string::npos);
  CHECK(create(sim, "third").status == 200);

  sim.reset_stats();
  CHECK(stats(sim)["wire_faults"]["requests"].GetInt() == 0);

  SimProcess direct({"--quiet"});
  bad.url = direct.root_url() + "/__faults";
  bad.body = R"({"faults":[]})";
  const HttpResponse no_proxy = http_send(bad);
  CHECK(no_proxy.status == 400);
  CHECK(no_proxy.body.find("start vidbatch-sim with --fault KIND or --wire-faults") !=
        std::string::npos);
}
