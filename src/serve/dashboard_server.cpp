#include "serve/dashboard_server.h"

#include <httplib.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include "output/output_layout.h"
#include "serve/dashboard_assets.h"
#include "serve/dashboard_data.h"
#include "serve/media_files.h"
#include "store/job_store.h"

namespace vb {

namespace {

constexpr const char* k_content_security_policy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

constexpr std::size_t k_media_chunk = 256 * 1024;

// By file name ending; anything else served is a video.
const char* content_type_of(std::string_view path) {
  static constexpr std::pair<std::string_view, const char*> k_types[] =
      {{".html", "text/html; charset=utf-8"},
       {".js", "text/javascript; charset=utf-8"},
       {".css", "text/css; charset=utf-8"},
       {".svg", "image/svg+xml"},
       {".webp", "image/webp"},
       {".png", "image/png"},
       {".jpg", "image/jpeg"},
       {".jpeg", "image/jpeg"},
       {".webm", "video/webm"}};
  for (const auto& [ending, type] : k_types) {
    if (path.ends_with(ending)) {
      return type;
    }
  }
  return "video/mp4";
}

void send_json(httplib::Response& res, int status, const std::string& json) {
  res.status = status;
  res.set_content(json, "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, const Error& error) {
  int status = 500;
  if (error.code == ErrorCode::not_found) {
    status = 404;
  } else if (error.code == ErrorCode::invalid_input) {
    status = 400;
  }
  // The message names ledger data only; a database error names the ledger file, never a key.
  std::string message = error.message;
  for (char& c : message) {
    c = (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  }
  send_json(res, status, "{\"error\":\"" + message + "\"}");
}

// A query parameter, or nullopt when absent or empty.
std::optional<std::string> param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) {
    return std::nullopt;
  }
  std::string value = req.get_param_value(name);
  return value.empty() ? std::nullopt : std::optional<std::string>(std::move(value));
}

int int_param(const httplib::Request& req, const char* name, int fallback, int low, int high) {
  const auto text = param(req, name);
  int value = fallback;
  if (text) {
    std::from_chars(text->data(), text->data() + text->size(), value);
  }
  return std::clamp(value, low, high);
}

// The host part of a Host header: "127.0.0.1:8765" -> "127.0.0.1", "[::1]:80" -> "::1".
std::string host_of(const std::string& header) {
  if (header.starts_with("[")) {
    const auto end = header.find(']');
    return end == std::string::npos ? header : header.substr(1, end - 1);
  }
  return header.substr(0, header.find(':'));
}

}  // namespace

bool is_loopback_address(const std::string& address) {
  if (address == "localhost") {
    return true;
  }
  in_addr v4{};
  if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  return ::inet_pton(AF_INET6, address.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

struct DashboardServer::Impl {
  DashboardOptions options;
  Config config;
  httplib::Server server;

  Impl(DashboardOptions o, Config c) : options(std::move(o)), config(std::move(c)) {}

  // A reader of its own for each request: JobStore is not thread-safe, and a SQLite WAL reader
  // never blocks the run writing the ledger.
  Result<std::unique_ptr<JobStore>> store() const {
    return JobStore::open_for_reading(options.db_path);
  }

  template <typename Answer>
  void answer_json(httplib::Response& res, Answer&& answer) const {
    auto store_opened = store();
    if (!store_opened) {
      send_error(res, store_opened.error());
      return;
    }
    auto json = answer(**store_opened);
    if (!json) {
      send_error(res, json.error());
      return;
    }
    send_json(res, 200, *json);
  }

  // Requests on the loopback must name it: a web page elsewhere that points its own host name
  // at 127.0.0.1 (DNS rebinding) sends its name, and is refused.
  bool host_allowed(const httplib::Request& req) const {
    if (!is_loopback_address(options.bind)) {
      return true;
    }
    const std::string host = host_of(req.get_header_value("Host"));
    return is_loopback_address(host);
  }

  void serve_media(const httplib::Request& req, httplib::Response& res, bool poster) const {
    const auto batch = param(req, "batch");
    const auto id = param(req, "id");
    if (!batch || !id) {
      send_error(res, Error{ErrorCode::invalid_input, "batch and id are required", ""});
      return;
    }
    auto store_opened = store();
    auto job = store_opened ? (*store_opened)->find_job(*batch, *id)
                            : std::unexpected(store_opened.error());
    if (!job || !*job) {
      send_error(res, job ? Error{ErrorCode::not_found, "no such job", ""} : job.error());
      return;
    }
    const std::string& video = (*job)->output_path;
    auto path = file_inside(options.output_root, poster ? thumbnail_path(video) : video);
    if (!path) {
      const bool outside = path.error().code == ErrorCode::invalid_input;
      res.status = outside ? 403 : 404;
      send_json(res, res.status,
                outside ? "{\"error\":\"the file is outside the output folder\"}"
                        : "{\"error\":\"no file for this job\"}");
      return;
    }
    const int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
    struct stat info {};
    if (fd < 0 || ::fstat(fd, &info) != 0) {
      if (fd >= 0) {
        ::close(fd);
      }
      send_json(res, 404, "{\"error\":\"cannot open the file\"}");
      return;
    }
    res.set_content_provider(
        static_cast<std::size_t>(info.st_size), content_type_of(*path),
        [fd](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          std::string buffer(std::min(length, k_media_chunk), '\0');
          const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(offset));
          if (n <= 0) {
            return false;  // the file shrank under us: end the answer
          }
          return sink.write(buffer.data(), static_cast<std::size_t>(n));
        },
        [fd](bool) { ::close(fd); });
  }

  void routes() {
    for (const auto& asset : serve_detail::k_assets) {
      const std::string route = asset.path == "/index.html" ? "/" : std::string(asset.path);
      server.Get(route, [asset](const httplib::Request&, httplib::Response& res) {
        res.set_content(asset.text.data(), asset.text.size(), content_type_of(asset.path));
      });
    }
    server.Get("/api/version", [this](const httplib::Request&, httplib::Response& res) {
      answer_json(res, [](JobStore& s) { return version_json(s); });
    });
    server.Get("/api/batches", [this](const httplib::Request&, httplib::Response& res) {
      answer_json(res, [](JobStore& s) { return batches_json(s); });
    });
    server.Get("/api/batch", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string name = param(req, "name").value_or("");
      answer_json(res,
                  [&](JobStore& s) { return batch_json(s, name, config, SystemClock().now_ms()); });
    });
    server.Get("/api/jobs", [this](const httplib::Request& req, httplib::Response& res) {
      JobQuery query;
      query.batch = param(req, "batch").value_or("");
      if (const auto state = param(req, "state")) {
        query.state = parse_job_state(*state);
        if (!query.state) {
          send_error(res, Error{ErrorCode::invalid_input, "unknown state", ""});
          return;
        }
      }
      query.provider = param(req, "provider");
      query.model = param(req, "model");
      query.mismatched = param(req, "mismatched").has_value();
      query.offset = int_param(req, "offset", 0, 0, 1 << 30);
      query.limit = int_param(req, "limit", 120, 1, 1000);
      answer_json(res, [&](JobStore& s) { return jobs_json(s, query, options.output_root); });
    });
    server.Get("/api/job", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string batch = param(req, "batch").value_or("");
      const std::string id = param(req, "id").value_or("");
      answer_json(res, [&](JobStore& s) -> Result<std::string> {
        auto json = job_json(s, batch, id, options.output_root);
        if (json && !*json) {
          return fail(ErrorCode::not_found, "no such job");
        }
        return json ? Result<std::string>(**json) : std::unexpected(json.error());
      });
    });
    server.Get("/media/video", [this](const httplib::Request& req, httplib::Response& res) {
      serve_media(req, res, false);
    });
    server.Get("/media/poster", [this](const httplib::Request& req, httplib::Response& res) {
      serve_media(req, res, true);
    });
  }

  void guards() {
    server.set_default_headers({
        {"Content-Security-Policy", k_content_security_policy},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
        {"Cross-Origin-Resource-Policy", "same-origin"},
        {"Cache-Control", "no-store"},
    });
    server.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (req.method != "GET" && req.method != "HEAD") {
        send_json(res, 405, "{\"error\":\"read-only: GET only\"}");
        res.set_header("Allow", "GET, HEAD");
        return httplib::Server::HandlerResponse::Handled;
      }
      if (!host_allowed(req)) {
        send_json(res, 403, "{\"error\":\"the Host header must name the loopback address\"}");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) {
        send_json(res, res.status, "{\"error\":\"not found\"}");
      }
    });
    // cpp-httplib's default is SO_REUSEPORT: a second server on a port in use would then share
    // it, each taking some of the connections. SO_REUSEADDR only: a port in use is refused.
    server.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server.set_keep_alive_timeout(2);
    server.set_payload_max_length(64 * 1024);  // GET only: no body worth reading
  }
};

DashboardServer::DashboardServer(DashboardOptions options, Config config)
    : m_impl(std::make_unique<Impl>(std::move(options), std::move(config))) {
  m_impl->guards();
  m_impl->routes();
}

DashboardServer::~DashboardServer() = default;

Result<int> DashboardServer::bind() {
  const std::string& address = m_impl->options.bind;
  const int port = m_impl->options.port;
  const int bound = port == 0 ? m_impl->server.bind_to_any_port(address)
                              : (m_impl->server.bind_to_port(address, port) ? port : -1);
  if (bound <= 0) {
    return fail(ErrorCode::io,
                "cannot listen on this address and port (in use, or not an address of this "
                "machine); pass another --port, or --port 0 for any free one",
                address + ":" + std::to_string(port));
  }
  return bound;
}

void DashboardServer::serve() {
  m_impl->server.listen_after_bind();
}

bool DashboardServer::stop() {
  if (!m_impl->server.is_running()) {
    return false;
  }
  m_impl->server.stop();
  return true;
}

}  // namespace vb
