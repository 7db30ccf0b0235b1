// Test-only control routes. No auth and no fault injection, so a test can always read the
// truth about what the "provider" saw.
#include "routes.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sim {

namespace {

// Keys of POST /__faults that set the fault proxy's rules rather than the simulator's knobs.
bool is_wire_key(std::string_view key) {
  return key == "faults" || key == "stall_ms";
}

std::string faults_json(SimContext& ctx) {
  if (!ctx.wire_front) {
    return ctx.faults.config_json();
  }
  rapidjson::Document doc;
  doc.Parse(ctx.faults.config_json().c_str());
  rapidjson::Document wire(&doc.GetAllocator());
  wire.Parse(ctx.wire.config_json().c_str());
  doc.AddMember("wire", wire, doc.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  doc.Accept(w);
  return buffer.GetString();
}

// The simulator's knobs and the proxy's rules change together or not at all.
std::string update_faults(SimContext& ctx, const std::string& body) {
  rapidjson::Document doc;
  if (doc.Parse(body.c_str()).HasParseError() || !doc.IsObject()) {
    return "body must be a JSON object";
  }
  rapidjson::Document knobs(rapidjson::kObjectType);
  bool wire = false;
  for (const auto& member : doc.GetObject()) {
    if (is_wire_key(member.name.GetString())) {
      wire = true;
    } else {
      knobs.AddMember(rapidjson::Value(member.name, knobs.GetAllocator()),
                      rapidjson::Value(member.value, knobs.GetAllocator()), knobs.GetAllocator());
    }
  }
  if (wire && !ctx.wire_front) {
    return "\"faults\" and \"stall_ms\" are wire faults: start vidbatch-sim with --fault KIND or "
           "--wire-faults "
           "so the fault proxy sits in front of the API";
  }
  rapidjson::Document wire_doc(rapidjson::kObjectType);
  for (const auto& member : doc.GetObject()) {
    if (is_wire_key(member.name.GetString()) || member.name == "seed") {
      wire_doc.AddMember(rapidjson::Value(member.name, wire_doc.GetAllocator()),
                         rapidjson::Value(member.value, wire_doc.GetAllocator()),
                         wire_doc.GetAllocator());
    }
  }
  const auto to_text = [](const rapidjson::Document& d) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    d.Accept(w);
    return std::string(buffer.GetString());
  };
  if (wire) {
    // Checked on a copy first, so a bad rule leaves the simulator's knobs unchanged too.
    WireFaults check(ctx.wire.config(), 0);
    if (auto error = check.update_from_json(to_text(wire_doc), true); !error.empty()) {
      return error;
    }
  }
  if (auto error = ctx.faults.update_from_json(to_text(knobs)); !error.empty()) {
    return error;
  }
  return ctx.wire_front ? ctx.wire.update_from_json(to_text(wire_doc), true) : std::string();
}

}  // namespace

void register_admin_routes(httplib::Server& server, SimContext& ctx) {
  server.Get("/__health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server.Get("/__stats", [&ctx](const httplib::Request& req, httplib::Response& res) {
    const bool counters_only = req.get_param_value("counters") == "1";
    send_json(res, 200,
              ctx.stats.to_json(ctx.store, counters_only,
                                ctx.wire_front ? ctx.wire.stats_json() : ""));
  });
  server.Get("/__faults", [&ctx](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, faults_json(ctx));
  });
  server.Post("/__faults", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (const auto error = update_faults(ctx, req.body); !error.empty()) {
      return send_error(res, 400, error);
    }
    send_json(res, 200, faults_json(ctx));
  });
  server.Post("/__reset-stats", [&ctx](const httplib::Request&, httplib::Response& res) {
    ctx.stats.reset();
    ctx.wire.reset_stats();
    send_json(res, 200, "{\"reset\":true}");
  });
}

}  // namespace sim
