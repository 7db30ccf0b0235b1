// [e2e][proxy] Proxies from the standard environment variables: the curl
// transport sets no CURLOPT_PROXY, so libcurl reads http_proxy, https_proxy and
// no_proxy itself. A run is pointed at a host name that does not resolve
// (vidbatch-sim.invalid); only the test's forward proxy, which connects every
// host to 127.0.0.1, can take it to the simulator.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <thread>

#include "e2e/e2e_fixture.h"
#include "support/forward_proxy.h"

using namespace vb;
using namespace vb::test;
using vidbatch::test::ForwardProxy;
using vidbatch::test::SimProcess;
using vidbatch::test::Subprocess;
using vidbatch::test::SubprocessOptions;

namespace {

const std::string k_proxy_key = "sk-proxy-test-key";

using Env = std::vector<std::pair<std::string, std::string>>;

// `vidbatch run MANIFEST` on the folder's ledger with `env` added (every proxy variable is
// overridden, so the test does not depend on the machine's own settings).
std::unique_ptr<Subprocess> start_run(const E2eFolder& folder, const std::string& manifest,
                                      const std::string& base_url, Env env) {
  SubprocessOptions options;
  options.argv = {VIDBATCH_BIN,
                  "run",
                  manifest,
                  "--db",
                  folder.db(),
                  "--config",
                  folder.path("vidbatch.toml"),
                  "--out",
                  folder.out(),
                  "--base-url",
                  base_url};
  std::map<std::string, std::string> vars = {{"OPENAI_API_KEY", k_proxy_key},
                                             {"http_proxy", ""},
                                             {"https_proxy", ""},
                                             {"HTTPS_PROXY", ""},
                                             {"all_proxy", ""},
                                             {"ALL_PROXY", ""},
                                             {"no_proxy", ""},
                                             {"NO_PROXY", ""}};
  for (auto& [name, value] : env) {
    vars[name] = value;
  }
  options.env.assign(vars.begin(), vars.end());
  options.cwd = folder.dir();
  options.stdout_path = folder.path("run.out");
  options.stderr_path = folder.path("run.err");
  return std::make_unique<Subprocess>(options);
}

CommandResult run_with(const E2eFolder& folder, const std::string& manifest,
                       const std::string& base_url, Env env) {
  auto process = start_run(folder, manifest, base_url, std::move(env));
  return folder.finish(*process);
}

}  // namespace

TEST_CASE("http_proxy from the environment carries a whole run", "[e2e][proxy]") {
  SimProcess sim({"--gen-ms", "100", "--quiet"});
  ForwardProxy proxy;
  E2eFolder folder;
  const std::string host = "vidbatch-sim.invalid:" + std::to_string(sim.port());
  const std::string manifest = folder.write_manifest("proxied", 3);

  CommandResult run =
      run_with(folder, manifest, "http://" + host + "/v1", {{"http_proxy", proxy.url()}});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  // Three creates, their polls and three downloads, all through the proxy; each create once.
  CHECK(proxy.requests() >= 9);
  CHECK(parse_json(sim.stats())["creates_total"].GetInt() == 3);
  CHECK(proxy.hosts().at(host) >= 9);
  CHECK(proxy.tunnels() == 0);
  auto jobs = folder.open_store()->list_jobs({});
  REQUIRE(jobs->size() == 3);
  for (const auto& job : *jobs) {
    CHECK(job.state == JobState::done);
    CHECK(std::filesystem::file_size(job.output_path) > 0);
  }
}

TEST_CASE("loopback is proxied too unless no_proxy names it", "[e2e][proxy]") {
  SimProcess sim({"--gen-ms", "100", "--quiet"});
  ForwardProxy proxy;
  E2eFolder folder;

  // libcurl 7.88 makes no exception for 127.0.0.1: the proxy sees the run.
  CommandResult proxied = run_with(folder, folder.write_manifest("loop", 2), sim.base_url(),
                                   {{"http_proxy", proxy.url()}});
  INFO(proxied.err);
  REQUIRE(proxied.exit_code == 0);
  const int seen = proxy.requests();
  CHECK(seen >= 6);

  // no_proxy lists the address: the next batch goes straight to the simulator.
  CommandResult direct =
      run_with(folder, folder.write_manifest("direct", 2), sim.base_url(),
               {{"http_proxy", proxy.url()}, {"no_proxy", "127.0.0.1,localhost"}});
  INFO(direct.err);
  REQUIRE(direct.exit_code == 0);
  CHECK(proxy.requests() == seen);
}

TEST_CASE("https_proxy: an https provider is reached through a CONNECT tunnel", "[e2e][proxy]") {
  // The simulator speaks plain HTTP, so the TLS handshake inside the tunnel fails; what
  // the test shows is that the CONNECT for the provider's host reaches the proxy, and that
  // the proxy never sees a request (so never the API key) in clear text.
  SimProcess sim({"--quiet"});
  ForwardProxy proxy;
  E2eFolder folder;
  const std::string host = "vidbatch-sim.invalid:" + std::to_string(sim.port());
  auto run = start_run(folder, folder.write_manifest("tls", 1), "https://" + host + "/v1",
                       {{"https_proxy", proxy.url()}});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (proxy.tunnels() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  run->send_signal(SIGTERM);
  CommandResult result = folder.finish(*run);
  INFO(result.err);
  CHECK(proxy.tunnels() >= 1);
  CHECK(proxy.hosts().count(host) == 1);
  CHECK(proxy.requests() == 0);
  CHECK((result.exit_code == 130 || result.exit_code == 1));
}
