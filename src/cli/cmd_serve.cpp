// `vidbatch serve`: the dashboard (src/serve) over an existing ledger, until Ctrl-C. Prints the
// URL to open on stdout; notices on stderr.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/cli.h"
#include "cli/commands.h"
#include "serve/dashboard_server.h"

namespace vb {

namespace {

struct ServeFlags {
  std::string bind = "127.0.0.1";
  int port = 8765;
  std::string out;
};

// The ledger was opened for reading (it exists and can be read); each request opens its own.
Result<int> serve_dashboard(Ledger& ledger, const ServeFlags& flags) {
  DashboardOptions options;
  options.db_path = ledger.config.db_path;
  options.output_root = flags.out.empty() ? ledger.config.output.root : flags.out;
  options.bind = flags.bind;
  options.port = flags.port;
  ledger.store.reset();
  DashboardServer server(options, ledger.config);
  const int port = VB_TRY(server.bind());
  // Before the URL is out: whoever reads it may stop the server at once.
  install_signal_handlers();
  if (!is_loopback_address(flags.bind)) {
    std::cerr << "vidbatch serve: warning: listening on " << flags.bind
              << ", not only on this machine: anyone who can reach it can read the ledger's "
                 "prompts and videos (no key is ever shown)\n";
  }
  // The address to open: the one listened on, or this machine's loopback for "any".
  std::string host = flags.bind;
  if (host == "0.0.0.0") {
    host = "127.0.0.1";
  } else if (host == "::") {
    host = "::1";
  }
  std::cout << "http://" << (host.find(':') != std::string::npos ? "[" + host + "]" : host) << ':'
            << port << "/" << std::endl;
  std::cerr << "vidbatch serve: " << options.db_path << " read-only, videos from "
            << options.output_root << "; open the URL above. Ctrl-C stops.\n";
  std::atomic<bool> served{false};
  std::thread watcher([&server, &served] {
    // A stop asked for before serve() listens is kept until it does.
    while (!served.load() && !(stop_requests().load() > 0 && server.stop())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  server.serve();
  served.store(true);
  watcher.join();
  return k_exit_ok;
}

}  // namespace

void register_serve(CLI::App& app, CommandContext& ctx) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd =
      app.add_subcommand("serve",
                         "a live, read-only web page over the ledger: progress, costs, videos");
  cmd->footer(
      "Loopback only unless --bind says otherwise. Usable while a run writes the ledger.\n"
      "Examples:\n"
      "  vidbatch serve --db vidbatch.db\n"
      "  vidbatch serve --port 0 --out /data/videos");
  cmd->add_option("--port", flags->port, "TCP port (default 8765; 0: any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--bind", flags->bind,
                  "address to listen on (default 127.0.0.1; another one is reachable by others)");
  cmd->add_option("--out", flags->out,
                  "the output folder whose videos may be served (default output.root)");
  add_common_flags(*cmd, ctx, false);
  add_log_flags(*cmd, ctx);
  cmd->callback([&ctx, flags] {
    ctx.action = [flags](Ledger& ledger) { return serve_dashboard(ledger, *flags); };
  });
}

}  // namespace vb
