// DashboardServer: `vidbatch serve`, a local read-only web page over the ledger (cpp-httplib),
// usable while a run writes it: every request opens its own read-only JobStore (SQLite WAL
// readers never block the writer), so the server threads share no connection.
// Routes: / (the page), /app.js, /style.css, /favicon.svg (embedded, no build step, nothing
// from elsewhere); /api/version, /api/batches, /api/batch?name=, /api/jobs?batch=&state=
// &provider=&model=&mismatched=1&offset=&limit=, /api/job?batch=&id= (serve/dashboard_data.h);
// /media/video?batch=&id= and /media/poster?batch=&id= (files inside the output tree only,
// HTTP Range supported). Only GET and HEAD.
// Safe by default: loopback unless told otherwise; on loopback the Host header must name the
// loopback (a web page elsewhere cannot reach it through DNS rebinding); a Content-Security-
// Policy that allows only this server's own script, styles, images and media; no key, no
// base URL, no config secret in any answer.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "util/error.h"

namespace vb {

struct DashboardOptions {
  std::string db_path;
  std::string output_root;  // files are served only from inside it
  std::string bind = "127.0.0.1";
  int port = 8765;  // 0: any free port
};

// Whether `address` (an IP literal or "localhost") is a loopback address.
bool is_loopback_address(const std::string& address);

class DashboardServer {
 public:
  DashboardServer(DashboardOptions options, Config config);
  ~DashboardServer();
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  // Opens the listening socket; returns the port bound. ErrorCode::io when it cannot.
  Result<int> bind();
  // Answers requests until stop().
  void serve();
  // Ends serve(), from any thread. False while serve() has not started listening yet (nothing
  // to end): call it again.
  bool stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;  // cpp-httplib stays out of this header
};

}  // namespace vb
