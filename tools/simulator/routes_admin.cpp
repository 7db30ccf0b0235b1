// Test-only control routes. No auth and no fault injection, so a test can always read the
// truth about what the "provider" saw.
#include "routes.h"

namespace sim {

void register_admin_routes(httplib::Server& server, SimContext& ctx)
{
  server.Get("/__health", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  server.Get("/__stats", [&ctx](const httplib::Request& req, httplib::Response& res) {
    const bool counters_only = req.get_param_value("counters") == "1";
    send_json(res, 200, ctx.stats.to_json(ctx.store, counters_only));
  });
  server.Get("/__faults", [&ctx](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, ctx.faults.config_json());
  });
  server.Post("/__faults", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (const auto error = ctx.faults.update_from_json(req.body); !error.empty()) {
      return send_error(res, 400, error);
    }
    send_json(res, 200, ctx.faults.config_json());
  });
  server.Post("/__reset-stats", [&ctx](const httplib::Request&, httplib::Response& res) {
    ctx.stats.reset();
    send_json(res, 200, "{\"reset\":true}");
  });
}

} // namespace sim
