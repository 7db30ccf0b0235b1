// vidbatch-sim entry point: parses flags, binds the API and CDN listeners on 127.0.0.1, publishes
// the ports (stdout line + atomic port files), serves until SIGTERM/SIGINT. With wire faults the
// published API port is the fault proxy's, forwarding to the API listener on a private port;
// with --fault-proxy only that proxy runs, in front of any --upstream server.
#include "fault_proxy.h"
#include "options.h"
#include "routes.h"
#include "sim_context.h"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <pthread.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

namespace {

// Write-temp-then-rename, so a poller never reads a half-written port number.
bool write_port_file(const std::string& path, int port) {
  if (path.empty()) {
    return true;
  }
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) {
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  return !ec;
}

// Our bodies are sliced by our own Range code; httplib must not slice them (or error
// envelopes) a second time, so its parsed ranges are dropped before routing.
void configure_server(httplib::Server& server, sim::SimContext& ctx) {
  const int threads = ctx.options.threads;
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  // httplib closes a connection after 5 requests by default; real providers keep them open.
  server.set_keep_alive_max_count(1000);
  server.set_pre_routing_handler(
      [&stats = ctx.stats](const httplib::Request& req, httplib::Response&) {
        const_cast<httplib::Request&>(req).ranges.clear();
        if (req.path.rfind("/__", 0) != 0) {
          stats.observe_connection(req.remote_addr, req.remote_port);
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });
  server.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.content_length_ > 0) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        res.set_content(sim::error_json("Invalid URL (" + req.method + " " + req.path + ")",
                                        "invalid_request_error"),
                        "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  if (!ctx.options.quiet) {
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "%s %s -> %d\n", req.method.c_str(), req.target.c_str(), res.status);
    });
  }
}

// Debian's compiled cpp-httplib listens with a backlog of 5, so a client that opens dozens of
// connections at once sees resets no real provider would send. listen(2) on a listening socket
// only updates its backlog, so find our socket by its port and raise it.
void raise_listen_backlog(int port) {
  for (int fd = 0; fd < 1024; ++fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    int listening = 0;
    socklen_t opt_len = sizeof listening;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
        addr.sin_family == AF_INET && ntohs(addr.sin_port) == port &&
        getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &opt_len) == 0 && listening != 0) {
      ::listen(fd, 4096);
    }
  }
}

int bind_loopback(httplib::Server& server, int port) {
  int bound = port == 0 ? server.bind_to_any_port("127.0.0.1")
                        : (server.bind_to_port("127.0.0.1", port) ? port : -1);
  if (bound > 0) {
    raise_listen_backlog(bound);
  }
  return bound;
}

void wait_for_termination() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int signal_number = 0;
  sigwait(&set, &signal_number);
}

// Signals are blocked in every thread and collected here, so stop() never runs in a handler.
void wait_for_signal(sim::SimContext& ctx, httplib::Server& api, httplib::Server& cdn,
                     sim::FaultProxy* proxy) {
  wait_for_termination();
  ctx.shutdown.trigger();
  if (proxy) {
    proxy->stop();  // ends stalled answers too
  }
  // stop() is a no-op until listen has started, so repeat it until both loops are down.
  while (api.is_running() || cdn.is_running()) {
    api.stop();
    cdn.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// --fault-proxy: the wire faults in front of any HTTP/1.1 server.
// Each dialect serves its vendor's routes only: a Kling server knows nothing of /v1/videos/{id}.
void register_dialect_routes(httplib::Server& api, sim::SimContext& ctx) {
  switch (ctx.options.dialect) {
    case sim::Dialect::openai:
      sim::register_gateway_routes(api, ctx);
      sim::register_content_routes(api, ctx);
      sim::register_video_routes(api, ctx);
      return;
    case sim::Dialect::kling:
      return sim::register_kling_routes(api, ctx);
    case sim::Dialect::minimax:
      return sim::register_minimax_routes(api, ctx);
    case sim::Dialect::wan:
      return sim::register_wan_routes(api, ctx);
    case sim::Dialect::vidu:
      return sim::register_vidu_routes(api, ctx);
    case sim::Dialect::seedance:
      return sim::register_seedance_routes(api, ctx);
    case sim::Dialect::chat:
      return sim::register_chat_routes(api, ctx);
  }
}

int run_fault_proxy(const sim::Options& options) {
  auto proxy_options = sim::upstream_from_url(options.upstream);
  if (!proxy_options) {
    std::cerr << "vidbatch-sim: " << proxy_options.error() << "\n";
    return 2;
  }
  proxy_options->port = options.port;
  sim::WireFaults faults(sim::wire_fault_config(options), options.seed);
  sim::FaultProxy proxy(*proxy_options, faults);
  const int port = proxy.start();
  if (port <= 0) {
    std::cerr << "vidbatch-sim: cannot bind 127.0.0.1:" << options.port << " for the fault proxy\n";
    return 2;
  }
  if (!write_port_file(options.port_file, port)) {
    std::cerr << "vidbatch-sim: cannot write port file\n";
    return 2;
  }
  std::cout << "vidbatch-sim fault proxy on http://127.0.0.1:" << port << " -> " << options.upstream
            << std::endl;
  wait_for_termination();
  proxy.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  sim::Options options;
  if (const int rc = sim::parse_options(argc, argv, options); rc >= 0) {
    return rc;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client hanging up mid-download must not kill the server
  if (options.fault_proxy) {
    return run_fault_proxy(options);
  }

  sim::SimContext ctx(options);
  httplib::Server api;
  httplib::Server cdn;
  configure_server(api, ctx);
  configure_server(cdn, ctx);
  sim::register_admin_routes(api, ctx);
  register_dialect_routes(api, ctx);
  sim::register_cdn_routes(cdn, ctx);

  const bool front = options.wire_front || !options.wire_faults.empty();
  const int listener_port = bind_loopback(api, front ? 0 : options.port);
  const int cdn_port = bind_loopback(cdn, options.cdn_port);
  std::unique_ptr<sim::FaultProxy> proxy;
  if (front && listener_port > 0) {
    proxy = std::make_unique<sim::FaultProxy>(sim::FaultProxyOptions{"127.0.0.1", listener_port,
                                                                     options.port},
                                              ctx.wire);
  }
  const int api_port = proxy ? proxy->start() : listener_port;
  if (api_port <= 0 || cdn_port <= 0) {
    std::cerr << "vidbatch-sim: cannot bind 127.0.0.1 (api port " << options.port << ", cdn port "
              << options.cdn_port << ")\n";
    return 2;
  }
  ctx.wire_front = front;
  ctx.api_port = api_port;
  ctx.cdn_port = cdn_port;
  std::thread cdn_thread([&cdn] { cdn.listen_after_bind(); });
  std::thread signal_thread([&] { wait_for_signal(ctx, api, cdn, proxy.get()); });
  if (!write_port_file(options.cdn_port_file, cdn_port) ||
      !write_port_file(options.port_file, api_port)) {
    std::cerr << "vidbatch-sim: cannot write port file\n";
    return 2;
  }
  std::cout << "vidbatch-sim (" << sim::to_string(options.dialect)
            << ") listening on http://127.0.0.1:" << api_port << options.gateway_prefix << "/v1"
            << std::endl;
  std::cout << "vidbatch-sim cdn on http://127.0.0.1:" << cdn_port << "/files" << std::endl;
  api.listen_after_bind();
  signal_thread.join();
  cdn_thread.join();
  return 0;
}
