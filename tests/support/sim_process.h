// SimProcess: one running vidbatch-sim for an e2e test. Starts VIDBATCH_SIM_BIN on free ports
// (--port 0 --port-file, --cdn-port 0 --cdn-port-file) in a private temp dir, waits until
// /__health answers (10 s at most), and stops it on destruction (SIGTERM, then SIGKILL after 5 s).
// Its stdout/stderr go to files in that dir (log_dir()), kept when KEEP_SIM_LOGS is set.
// SimProcess::fault_proxy starts `vidbatch-sim --fault-proxy` instead: only the fault proxy, in
// front of another server (no CDN listener; healthy once /__fault-proxy/stats answers).
#pragma once

#include "support/subprocess.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vidbatch::test {

class SimProcess {
 public:
  // Throws std::runtime_error if the simulator does not come up.
  explicit SimProcess(std::vector<std::string> extra_flags = {});
  static std::unique_ptr<SimProcess> fault_proxy(const std::string& upstream_url,
                                                 std::vector<std::string> flags = {});
  ~SimProcess();
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  int port() const { return m_port; }
  int cdn_port() const { return m_cdn_port; }
  std::string base_url() const;  // http://127.0.0.1:PORT/v1
  std::string root_url() const;  // http://127.0.0.1:PORT
  const std::string& log_dir() const { return m_dir; }
  Subprocess& process() { return *m_process; }

  std::string stats() const;       // raw JSON of GET /__stats
  std::string wire_stats() const;  // raw JSON of GET /__fault-proxy/stats
  // POST /__faults (/__fault-proxy/faults for a fault proxy); throws on a non-200.
  void set_faults(const std::string& json) const;
  void reset_stats() const;  // POST /__reset-stats

  // Stops now (SIGTERM, wait); returns the exit code. Idempotent.
  int stop();

 private:
  SimProcess(bool proxy_only, std::vector<std::string> flags);

  std::string m_dir;
  bool m_proxy_only = false;
  std::unique_ptr<Subprocess> m_process;
  int m_port = 0;
  int m_cdn_port = 0;
  std::optional<int> m_exit_code;
};

}  // namespace vidbatch::test
