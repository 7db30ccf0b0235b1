// End-to-end: `vidbatch serve`, the live dashboard. Over raw HTTP: only its own routes and the
// ledger's data, files from inside the output tree only (path traversal, a symlink out, a ledger
// path outside), the loopback by default (Host checked), a warning for any other address, no
// key anywhere. In headless Chromium while a real run writes the ledger: every job shows, the
// counts move without a reload, a failed job shows its reason, and a screenshot is kept.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "e2e/e2e_fixture.h"
#include "support/chromium_session.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::ChromiumSession;
using vidbatch::test::SimProcess;
using vidbatch::test::Subprocess;

namespace {

// A key the pages must never show, read by the run from a variable the config names.
const std::string k_secret = "sk-serve-SECRET-5b1e7c";

struct Answer {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One request exactly as written (no client normalizes its path), over a fresh connection.
Answer raw_http(int port, const std::string& request, const std::string& address = "127.0.0.1") {
  const bool v6 = address.find(':') != std::string::npos;
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_storage to{};
  socklen_t to_size = 0;
  if (v6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&to);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(port));
    REQUIRE(::inet_pton(AF_INET6, address.c_str(), &in6->sin6_addr) == 1);
    to_size = sizeof(sockaddr_in6);
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&to);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(static_cast<std::uint16_t>(port));
    REQUIRE(::inet_pton(AF_INET, address.c_str(), &in4->sin_addr) == 1);
    to_size = sizeof(sockaddr_in);
  }
  Answer answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), to_size) != 0) {
    ::close(fd);
    return answer;  // status 0: refused
  }
  REQUIRE(::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string text;
  char chunk[65536];
  for (ssize_t n; (n = ::read(fd, chunk, sizeof chunk)) > 0;) {
    text.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto head_end = text.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  std::sscanf(text.c_str(), "HTTP/1.1 %d", &answer.status);
  std::size_t at = text.find("\r\n") + 2;
  while (at < head_end) {
    const auto end = text.find("\r\n", at);
    const std::string line = text.substr(at, end - at);
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    answer.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    at = end + 2;
  }
  answer.body = text.substr(head_end + 4);
  return answer;
}

Answer get(int port, const std::string& target, const std::string& host = "127.0.0.1",
           const std::string& extra_headers = "") {
  return raw_http(port, "GET " + target + " HTTP/1.1\r\nHost: " + host + ":" +
                            std::to_string(port) + "\r\n" + extra_headers +
                            "Connection: close\r\n\r\n");
}

struct Served {
  std::unique_ptr<Subprocess> process;
  int port = 0;
  std::string url;
};

// `vidbatch serve --port 0`, once it has printed its URL (on `host`, "127.0.0.1" unless told).
Served start_serve(const E2eFolder& folder, std::vector<std::string> extra = {},
                   const std::string& host = "127.0.0.1") {
  std::vector<std::string> args = {"serve", "--port", "0", "--out", folder.out()};
  args.insert(args.end(), extra.begin(), extra.end());
  Served served;
  served.process = folder.start(args, "", "serve");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (served.url.empty()) {
    const std::string out = read_file(folder.path("serve.out"));
    if (const auto end = out.find('\n'); end != std::string::npos) {
      served.url = out.substr(0, end);
    } else {
      INFO(read_file(folder.path("serve.err")));
      REQUIRE(served.process->running());
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const std::string prefix = "http://" + host + ":";
  INFO(served.url);
  REQUIRE(served.url.starts_with(prefix));
  served.port = std::stoi(served.url.substr(prefix.size()));
  return served;
}

// The local address a listening socket on `port` is bound to, from /proc/net/tcp ("0100007F"
// is 127.0.0.1, "00000000" any); empty when none listens.
std::string listening_address(int port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);
  char hex_port[8];
  std::snprintf(hex_port, sizeof hex_port, "%04X", port);
  while (std::getline(table, line)) {
    char local[64] = {0};
    char remote[64] = {0};
    char state[8] = {0};
    if (std::sscanf(line.c_str(), " %*d: %63s %63s %7s", local, remote, state) == 3 &&
        std::string(state) == "0A" && std::string(local).ends_with(std::string(":") + hex_port)) {
      return std::string(local).substr(0, 8);
    }
  }
  return {};
}

// An IPv4 address of this machine other than the loopback, if it has one.
std::string other_local_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return {};
  }
  std::string found;
  for (ifaddrs* a = list; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr != nullptr && a->ifa_addr->sa_family == AF_INET) {
      char text[INET_ADDRSTRLEN];
      const auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
      ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      if (!std::string(text).starts_with("127.")) {
        found = text;
      }
    }
  }
  ::freeifaddrs(list);
  return found;
}

std::string joined(const std::vector<int>& values) {
  std::string text;
  for (int v : values) {
    text += (text.empty() ? "" : " ") + std::to_string(v);
  }
  return text;
}

}  // namespace

TEST_CASE("serve: the ledger's data and the output tree's files only, nothing else",
          "[e2e][serve]") {
  SimProcess sim({"--gen-ms", "100", "--quiet"});
  E2eFolder folder;
  folder.write_config(8, "[provider]\napi_key_env = \"VB_SERVE_TEST_KEY\"\n");
  folder.set_env("VB_SERVE_TEST_KEY", k_secret);
  const std::string manifest =
      folder.write_manifest("site", 4, {{1, "Please [[fail]] this one"}, {2, "Short [[short]]"}});
  CommandResult run = folder.run({"run", manifest}, sim.base_url());
  INFO(run.err);
  REQUIRE(run.exit_code == 1);
  Served served = start_serve(folder);
  const int port = served.port;

  // The page and its own script and styles, with a policy that allows nothing else.
  Answer page = get(port, "/");
  REQUIRE(page.status == 200);
  CHECK_THAT(page.headers["content-type"], Catch::StartsWith("text/html"));
  CHECK_THAT(page.headers["content-security-policy"], Catch::StartsWith("default-src 'none'"));
  CHECK_THAT(page.headers["content-security-policy"], Catch::Contains("script-src 'self';"));
  CHECK(page.headers["x-content-type-options"] == "nosniff");
  CHECK(page.body.find("http://") == std::string::npos);
  CHECK(page.body.find("https://") == std::string::npos);
  for (const char* asset : {"/app.js", "/style.css", "/favicon.svg"}) {
    Answer answer = get(port, asset);
    INFO(asset);
    CHECK(answer.status == 200);
    CHECK(answer.body.find("https://") == std::string::npos);  // no CDN, no font
  }

  const auto batch = parse_json(get(port, "/api/batch?name=site").body);
  CHECK(batch["total"].GetInt() == 4);
  CHECK(batch["states"]["done"].GetInt() == 3);
  CHECK(batch["failures"][0]["count"].GetInt() == 1);
  CHECK(std::string(batch["failures"][0]["jobs"][0].GetString()) == "job-1");
  CHECK(batch["mismatched"].GetInt() == 1);
  CHECK(batch["cost"]["so_far_usd"].GetDouble() == Approx(1.60));
  const auto jobs = parse_json(get(port, "/api/jobs?batch=site&mismatched=1").body);
  REQUIRE(jobs["total"].GetInt() == 1);
  CHECK(std::string(jobs["jobs"][0]["verify"].GetString()) == "duration_short");
  const auto job = parse_json(get(port, "/api/job?batch=site&id=job-0").body);
  CHECK(std::string(job["state"].GetString()) == "done");
  CHECK(job["events"].Size() >= 6);
  CHECK(job["video"].GetBool());
  CHECK(job["poster"].GetBool());

  // The video itself, whole and by range (a browser seeks with Range).
  const std::string video_file = read_file(folder.out() + "/site/job-0.mp4");
  Answer video = get(port, "/media/video?batch=site&id=job-0");
  CHECK(video.status == 200);
  CHECK(video.headers["content-type"] == "video/mp4");
  CHECK(video.body == video_file);
  Answer slice =
      get(port, "/media/video?batch=site&id=job-0", "127.0.0.1", "Range: bytes=100-199\r\n");
  CHECK(slice.status == 206);
  CHECK(slice.body == video_file.substr(100, 100));
  CHECK(get(port, "/media/poster?batch=site&id=job-0").status == 200);
  CHECK(get(port, "/media/video?batch=site&id=job-1").status == 404);  // failed: no file

  SECTION("path traversal finds nothing outside the output tree") {
    for (const std::string target :
         {"/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/app.js/../../etc/passwd",
          "/media/../../../etc/passwd", "/media/video?batch=..%2F..%2F..%2Fetc&id=passwd",
          "/media/video?batch=site&id=..%2F..%2F..%2F..%2Fetc%2Fpasswd",
          "/media/poster?batch=site&id=job-0%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd", "//etc/passwd",
          "/api/job?batch=site&id=../../ledger.db"}) {
      INFO(target);
      Answer answer = get(port, target);
      CHECK((answer.status == 404 || answer.status == 400));
      CHECK(answer.body.find("root:") == std::string::npos);
    }
    // A poster that is a symbolic link out of the tree, and a ledger path outside it.
    std::filesystem::remove(folder.out() + "/site/job-2.webp");
    std::filesystem::create_symlink("/etc/passwd", folder.out() + "/site/job-2.webp");
    Answer linked = get(port, "/media/poster?batch=site&id=job-2");
    CHECK(linked.status == 403);
    CHECK(linked.body.find("root:") == std::string::npos);
    {
      SQLite::Database db(folder.db(), SQLite::OPEN_READWRITE);
      db.exec("UPDATE jobs SET output_path = '/etc/passwd' WHERE job_key = 'job-3'");
    }
    Answer outside = get(port, "/media/video?batch=site&id=job-3");
    CHECK(outside.status == 403);
    CHECK(outside.body.find("root:") == std::string::npos);
    CHECK_FALSE(parse_json(get(port, "/api/job?batch=site&id=job-3").body)["video"].GetBool());
  }

  SECTION("read-only, and only for requests that name the loopback") {
    Answer post = raw_http(port,
                           "POST /api/batches HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
    CHECK(post.status == 405);
    CHECK(get(port, "/api/batches", "evil.example").status == 403);  // DNS rebinding
    CHECK(get(port, "/", "localhost").status == 200);
    CHECK(get(port, "/nothing-here").status == 404);
  }

  SECTION("no key and no config secret in any page") {
    std::vector<std::string> targets = {"/",
                                        "/app.js",
                                        "/style.css",
                                        "/api/version",
                                        "/api/batches",
                                        "/api/batch?name=site",
                                        "/api/jobs?batch=site",
                                        "/api/jobs?batch=site&state=failed",
                                        "/api/batch?name=nope",
                                        "/api/job?batch=site&id=nope"};
    for (int i = 0; i < 4; ++i) {
      targets.push_back("/api/job?batch=site&id=job-" + std::to_string(i));
    }
    for (const auto& target : targets) {
      INFO(target);
      Answer answer = get(port, target);
      CHECK(answer.status != 0);
      CHECK(answer.body.find(k_secret) == std::string::npos);
      CHECK(answer.body.find("VB_SERVE_TEST_KEY") == std::string::npos);
      CHECK(answer.body.find(sim.base_url()) == std::string::npos);
      for (const auto& [name, value] : answer.headers) {
        CHECK(value.find(k_secret) == std::string::npos);
      }
    }
  }

  served.process->send_signal(SIGINT);
  CHECK(served.process->wait() == 0);
}

TEST_CASE("serve: loopback by default; any other address only when asked, with a warning",
          "[e2e][serve]") {
  SimProcess sim({"--gen-ms", "50", "--quiet"});
  E2eFolder folder;
  REQUIRE(folder.run({"run", folder.write_manifest("bind", 1)}, sim.base_url()).exit_code == 0);
  const std::string other = other_local_address();
  {
    Served served = start_serve(folder);
    CHECK(listening_address(served.port) == "0100007F");
    CHECK(get(served.port, "/").status == 200);
    if (!other.empty()) {
      INFO("via " << other);
      CHECK(raw_http(served.port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", other)
                .status == 0);  // refused: nothing listens there
    }
    CHECK(read_file(folder.path("serve.err")).find("warning") == std::string::npos);
    served.process->send_signal(SIGTERM);
    CHECK(served.process->wait() == 0);
  }
  {
    // The IPv6 loopback: the printed URL names it, and it answers there.
    Served v6 = start_serve(folder, {"--bind", "::1"}, "[::1]");
    CHECK(raw_http(v6.port,
                   "GET /api/batches HTTP/1.1\r\nHost: [::1]:" + std::to_string(v6.port) +
                       "\r\nConnection: close\r\n\r\n",
                   "::1")
              .status == 200);
    CHECK(read_file(folder.path("serve.err")).find("warning") == std::string::npos);
    v6.process->send_signal(SIGINT);
    CHECK(v6.process->wait() == 0);
  }
  Served open = start_serve(folder, {"--bind", "0.0.0.0"});
  CHECK(listening_address(open.port) == "00000000");
  CHECK_THAT(read_file(folder.path("serve.err")),
             Catch::Contains("warning: listening on 0.0.0.0, not only on this machine"));
  if (!other.empty()) {
    Answer remote =
        raw_http(open.port,
                 "GET /api/batches HTTP/1.1\r\nHost: " + other + "\r\nConnection: close\r\n\r\n",
                 other);
    CHECK(remote.status == 200);
  }
  open.process->send_signal(SIGINT);
  CHECK(open.process->wait() == 0);

  // A port in use (the simulator's): a clear error, neither a server on another port nor one
  // sharing the port (SO_REUSEPORT).
  auto busy = folder.start({"serve", "--port", std::to_string(sim.port())}, "", "busy");
  const auto busy_exit = busy->wait_for(std::chrono::seconds(10));
  if (!busy_exit) {
    busy->send_signal(SIGINT);
    busy->wait();
  }
  REQUIRE(busy_exit.has_value());
  CHECK(*busy_exit == 3);
  CHECK_THAT(read_file(folder.path("busy.err")), Catch::Contains("cannot listen"));
}

TEST_CASE("serve: headless Chromium watches a run finish without a reload",
          "[e2e][serve][browser]") {
  // 12 jobs, 3 at a time, 1.5 s each: the run lasts several seconds while the page watches.
  SimProcess sim({"--gen-ms", "1500", "--quiet"});
  E2eFolder folder;
  folder.write_config(3, "[provider]\napi_key_env = \"VB_SERVE_TEST_KEY\"\n");
  folder.set_env("VB_SERVE_TEST_KEY", k_secret);
  const int total = 12;
  const std::string manifest =
      folder.write_manifest("live", total,
                            {{4, "Please [[fail]] this one"}, {7, "A short one [[short]]"}});
  auto run = folder.start({"run", manifest}, sim.base_url());
  wait_for_import(folder, *run);
  // The run waits while the browser starts (seconds on a busy machine), so the page sees it
  // move; well within the worker's time to live (30 s).
  run->send_signal(SIGSTOP);
  Served served = start_serve(folder);

  ChromiumSession browser(served.url);
  browser.evaluate("window.__vb_same_page = 'yes'");  // a reload would drop it
  run->send_signal(SIGCONT);
  const std::string read_state =
      "(async () => { await new Promise(r => setTimeout(r, 50)); "
      "const done = document.querySelector('#states [data-state=done]'); return JSON.stringify({"
      "cards: document.querySelectorAll('#sheet .card').length, "
      "done: done ? parseInt(done.textContent.split(' ')[1]) : 0, "
      "marker: window.__vb_same_page || '', title: document.title}); })()";
  std::vector<int> done_seen;
  int cards = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  bool run_over = false;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto state = parse_json(parse_json(browser.evaluate(read_state)).GetString());
    REQUIRE(std::string(state["marker"].GetString()) == "yes");
    cards = state["cards"].GetInt();
    const int done = state["done"].GetInt();
    if (done_seen.empty() || done_seen.back() != done) {
      done_seen.push_back(done);
    }
    if (!run_over && !run->running()) {
      run_over = true;
    }
    if (run_over && done == total - 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  CommandResult ran = folder.finish(*run);
  INFO(ran.err);
  CHECK(ran.exit_code == 1);  // the [[fail]] job
  INFO("done counts seen: " << joined(done_seen));
  CHECK(done_seen.size() >= 3);  // it moved, more than once, in one page
  CHECK(done_seen.back() == total - 1);
  CHECK(cards == total);

  // The failed job's card says why; the short one carries its mismatch badge.
  const auto failed = parse_json(
      parse_json(
          browser.evaluate(
              "JSON.stringify({error: document.querySelector('#card-job-4 .error').textContent, "
              "badge: document.querySelector('#card-job-7 .badge.off').textContent, "
              "failures: document.querySelector('#problems').textContent})"))
          .GetString());
  CHECK_THAT(failed["error"].GetString(), Catch::Contains("moderation_blocked"));
  CHECK(std::string(failed["badge"].GetString()) == "duration_short");
  CHECK_THAT(failed["failures"].GetString(), Catch::Contains("Failures by reason"));

  // Kept after the test, wherever its temporary folder goes.
  std::string artefacts =
      (std::filesystem::temp_directory_path() / "vidbatch-serve-shots-XXXXXX").string();
  REQUIRE(::mkdtemp(artefacts.data()) != nullptr);
  const std::string shot = artefacts + "/dashboard.png";
  std::ofstream(shot, std::ios::binary) << browser.screenshot_png();
  std::cout << "serve test: dashboard screenshot at " << shot << std::endl;
  CHECK(std::filesystem::file_size(shot) > 20000);

  // Redrawing keeps nothing: 40 more refreshes leave as many nodes and cards as one.
  const auto kept = parse_json(
      parse_json(
          browser.evaluate(
              "(async () => { const count = () => document.getElementsByTagName('*').length; "
              "await refresh(); const before = count(); "
              "for (let i = 0; i < 40; i++) { await refresh(); } "
              "return JSON.stringify({before, after: count(), cards: app.cards.size, "
              "feed: app.feed.length}); })()"))
          .GetString());
  CHECK(kept["after"].GetInt() == kept["before"].GetInt());
  CHECK(kept["cards"].GetInt() == total);
  CHECK(kept["feed"].GetInt() <= 30);

  // The job page: its spec and its event timeline, reached without a reload.
  browser.evaluate("location.hash = '#/job/live/job-4'");
  const auto job_page = parse_json(
      parse_json(
          browser.evaluate(
              "(async () => { for (let i = 0; i < 40 && !document.getElementById('timeline'); i++) "
              "await new Promise(r => setTimeout(r, 50)); return JSON.stringify({rows: "
              "document.querySelectorAll('#timeline tbody tr').length, text: "
              "document.getElementById('view').textContent, marker: window.__vb_same_page}); })()"))
          .GetString());
  CHECK(job_page["rows"].GetInt() >= 5);
  CHECK_THAT(job_page["text"].GetString(), Catch::Contains("Please [[fail]] this one"));
  CHECK(std::string(job_page["marker"].GetString()) == "yes");
  std::ofstream(artefacts + "/job.png", std::ios::binary) << browser.screenshot_png();
  std::cout << "serve test: job page screenshot at " << artefacts << "/job.png" << std::endl;

  const auto& errors = browser.console_errors();
  INFO("console: " << (errors.empty() ? std::string() : errors.front()));
  CHECK(errors.empty());
  const std::string html =
      parse_json(browser.evaluate("document.documentElement.outerHTML")).GetString();
  CHECK(html.find(k_secret) == std::string::npos);
  served.process->send_signal(SIGINT);
  CHECK(served.process->wait() == 0);
}
