#include "support/sim_process.h"

#include "support/test_http.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#ifndef VIDBATCH_SIM_BIN
#error "VIDBATCH_SIM_BIN must be defined by tests/CMakeLists.txt"
#endif

namespace vidbatch::test {

namespace {

constexpr auto k_start_timeout = std::chrono::seconds(10);
constexpr auto k_stop_timeout = std::chrono::seconds(5);

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "vidbatch-sim-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("SimProcess: mkdtemp failed");
  }
  return pattern;
}

// The sim writes port files by rename, so a readable number is always complete.
int read_port(const std::string& path) {
  std::ifstream in(path);
  int port = 0;
  return (in >> port) ? port : 0;
}

}  // namespace

SimProcess::SimProcess(std::vector<std::string> extra_flags)
    : SimProcess(false, std::move(extra_flags)) {}

std::unique_ptr<SimProcess> SimProcess::fault_proxy(const std::string& upstream_url,
                                                    std::vector<std::string> flags) {
  flags.insert(flags.begin(), {"--fault-proxy", "--upstream", upstream_url});
  return std::unique_ptr<SimProcess>(new SimProcess(true, std::move(flags)));
}

SimProcess::SimProcess(bool proxy_only, std::vector<std::string> flags)
    : m_dir(make_temp_dir()), m_proxy_only(proxy_only) {
  const std::string port_file = m_dir + "/port";
  const std::string cdn_port_file = m_dir + "/cdn-port";
  SubprocessOptions options;
  options.argv = {VIDBATCH_SIM_BIN, "--port", "0", "--port-file", port_file};
  if (!proxy_only) {
    options.argv.insert(options.argv.end(), {"--cdn-port", "0", "--cdn-port-file", cdn_port_file});
  }
  options.argv.insert(options.argv.end(), flags.begin(), flags.end());
  const std::string health = proxy_only ? "/__fault-proxy/stats" : "/__health";
  options.stdout_path = m_dir + "/stdout.log";
  options.stderr_path = m_dir + "/stderr.log";
  m_process = std::make_unique<Subprocess>(options);

  const auto deadline = std::chrono::steady_clock::now() + k_start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!m_process->running()) {
      throw std::runtime_error("SimProcess: vidbatch-sim exited early; see " + options.stderr_path);
    }
    m_port = read_port(port_file);
    m_cdn_port = proxy_only ? 0 : read_port(cdn_port_file);
    if (m_port > 0 && http_get(root_url() + health).status == 200) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("SimProcess: vidbatch-sim did not become healthy within 10 s");
}

SimProcess::~SimProcess() {
  stop();
  if (std::getenv("KEEP_SIM_LOGS") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(m_dir, ignored);
  }
}

int SimProcess::stop() {
  if (m_exit_code) {
    return *m_exit_code;
  }
  m_process->send_signal(SIGTERM);
  m_exit_code = m_process->wait_for(k_stop_timeout);
  if (!m_exit_code) {
    m_process->send_signal(SIGKILL);
    m_exit_code = m_process->wait();
  }
  return *m_exit_code;
}

std::string SimProcess::base_url() const {
  return root_url() + "/v1";
}

std::string SimProcess::root_url() const {
  return "http://127.0.0.1:" + std::to_string(m_port);
}

std::string SimProcess::stats() const {
  return http_get(root_url() + "/__stats").body;
}

std::string SimProcess::wire_stats() const {
  return http_get(root_url() + "/__fault-proxy/stats").body;
}

void SimProcess::set_faults(const std::string& json) const {
  HttpRequest request;
  request.method = "POST";
  request.url = root_url() + (m_proxy_only ? "/__fault-proxy/faults" : "/__faults");
  request.headers = {"Content-Type: application/json"};
  request.body = json;
  const HttpResponse response = http_send(request);
  if (response.status != 200) {
    throw std::runtime_error("SimProcess: /__faults rejected " + json + ": " + response.body);
  }
}

void SimProcess::reset_stats() const {
  HttpRequest request;
  request.method = "POST";
  request.url = root_url() + "/__reset-stats";
  request.body = "{}";  // an explicit body gives the POST a Content-Length
  http_send(request);
}

}  // namespace vidbatch::test
