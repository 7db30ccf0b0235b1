#include "options.h"

#include "vendor_faults.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <iostream>
#include <map>
#include <utility>

namespace sim {

namespace {

constexpr int64_t k_hour_ms = 3600 * 1000;
constexpr int64_t k_day_ms = 24 * k_hour_ms;

constexpr std::array<std::pair<std::string_view, Dialect>, 7> k_dialects = {
    {{"openai", Dialect::openai},
     {"kling", Dialect::kling},
     {"minimax", Dialect::minimax},
     {"wan", Dialect::wan},
     {"vidu", Dialect::vidu},
     {"seedance", Dialect::seedance},
     {"chat", Dialect::chat}}};

// A CLI11 check that runs a rule parser (returning std::expected) and reports its error.
template <typename Parse>
CLI::Validator rule_validator(Parse parse, const std::string& description) {
  return CLI::Validator(
      [parse](std::string& spec) {
        const auto rule = parse(spec);
        return rule ? std::string() : rule.error();
      },
      description);
}

// The dialect and the gateway shape as typed; check_dialect turns them into the enums.
struct DialectText {
  std::string dialect = "openai";
  std::string shape;
};

void add_dialect_flags(CLI::App& app, Options& o, DialectText& text) {
  app.add_option("--dialect", text.dialect,
                 "Wire format of the API: openai, kling, minimax, wan, vidu, seedance, chat")
      ->check(CLI::IsMember({"openai", "kling", "minimax", "wan", "vidu", "seedance", "chat"}));
  app.add_option("--kling-access-key", o.kling_access_key,
                 "kling: the access key a JWT must name as iss");
  app.add_option("--kling-secret-key", o.kling_secret_key,
                 "kling: the secret key JWTs are signed with (HS256)");
  app.add_option("--gateway-prefix", o.gateway_prefix,
                 "Serve the dialect's routes under this prefix (/ = bare vendor paths) with a "
                 "Bearer gateway key");
  app.add_option("--gateway-shape", text.shape,
                 "Gateway answers: native, taskdto or yunwu (minimax)")
      ->check(CLI::IsMember({"native", "taskdto", "yunwu"}));
  app.add_option(
         "--task-ttl-ms", o.task_ttl_ms,
         "Native dialects: a finished task is forgotten after this long (kling 30 d, others 24 h)")
      ->check(CLI::PositiveNumber);
  app.add_option("--unknown-queries", o.unknown_queries,
                 "wan: each task's first N queries answer UNKNOWN, as from another region, while "
                 "the task listing still shows it")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--run-slots", o.run_slots,
                 "Native dialects: at most N tasks generate at once, later ones wait queued (vidu "
                 "5, seedance 10)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--execution-expiry-ms", o.execution_expiry_ms,
                 "seedance: a task unfinished this long after its create expires (instead of "
                 "execution_expires_after)")
      ->check(CLI::PositiveNumber);
}

// Cross-flag rules CLI11 cannot express; an empty string when the options hang together.
std::string check_dialect(const DialectText& text, Options& o) {
  const std::map<std::string, GatewayShape> shapes = {{"", GatewayShape::none},
                                                      {"native", GatewayShape::native},
                                                      {"taskdto", GatewayShape::taskdto},
                                                      {"yunwu", GatewayShape::yunwu}};
  o.dialect = std::find_if(k_dialects.begin(), k_dialects.end(), [&](const auto& d) {
                return d.first == text.dialect;
              })->second;
  o.gateway_shape = shapes.at(text.shape);
  while (o.gateway_prefix.size() > 1 && o.gateway_prefix.back() == '/') {
    o.gateway_prefix.pop_back();
  }
  const bool gateway = !o.gateway_prefix.empty();
  if (o.gateway_shape != GatewayShape::none && !gateway) {
    return "--gateway-shape needs --gateway-prefix";
  }
  if (gateway && (o.dialect == Dialect::openai || o.dialect == Dialect::chat)) {
    return "--gateway-prefix needs a native --dialect (kling, minimax, wan, vidu, seedance)";
  }
  if (gateway && o.gateway_prefix.front() != '/') {
    return "--gateway-prefix must start with / (e.g. /kling)";
  }
  if (o.gateway_shape == GatewayShape::yunwu && o.dialect != Dialect::minimax) {
    return "--gateway-shape yunwu is the merged MiniMax record: use it with --dialect minimax";
  }
  if (o.dialect == Dialect::kling && !gateway &&
      (o.kling_access_key.empty() || o.kling_secret_key.empty())) {
    return "--dialect kling needs --kling-access-key and --kling-secret-key (or a "
           "--gateway-prefix)";
  }
  if (gateway && o.gateway_shape == GatewayShape::none) {
    o.gateway_shape = GatewayShape::native;
  }
  if (o.gateway_prefix == "/") {
    o.gateway_prefix.clear();
  }
  return {};
}

// Defaults that follow the vendor: how long its URLs and its tasks live.
void apply_dialect_defaults(const CLI::App& app, Options& o) {
  if (app.count("--url-ttl-ms") == 0) {
    switch (o.dialect) {
      case Dialect::openai:
      case Dialect::chat:
        break;
      case Dialect::kling:
        o.url_ttl_ms = 30 * k_day_ms;
        break;
      case Dialect::minimax:
        o.url_ttl_ms = 9 * k_hour_ms;
        break;
      case Dialect::wan:
      case Dialect::vidu:
      case Dialect::seedance:
        o.url_ttl_ms = k_day_ms;
        break;
    }
  }
  if (app.count("--run-slots") == 0 && o.dialect == Dialect::vidu) {
    o.run_slots = 5;  // "Each organization can use up to 5 concurrent tasks"; the rest queue
  }
  if (app.count("--run-slots") == 0 && o.dialect == Dialect::seedance) {
    o.run_slots = 10;  // the pro models' documented concurrency; the rest queue
  }
  if (app.count("--task-ttl-ms") == 0) {
    o.task_ttl_ms = o.dialect == Dialect::kling ? 30 * k_day_ms : k_day_ms;
  }
}

void add_server_flags(CLI::App& app, Options& o) {
  app.add_option("--port", o.port, "Port of the API listener on 127.0.0.1 (0 = pick a free one)");
  app.add_option("--port-file", o.port_file, "Write the bound API port here once listening");
  app.add_option("--cdn-port", o.cdn_port, "Port of the signed-URL file listener (0 = free)");
  app.add_option("--cdn-port-file", o.cdn_port_file, "Write the bound CDN port here");
  app.add_option("--threads", o.threads, "Worker threads per listener")->check(CLI::Range(2, 1024));
  app.add_flag("--quiet", o.quiet, "Do not log each request to stderr");
  app.add_flag("--no-list", o.no_list, "Answer 404 to GET /v1/videos (no listing)");
  app.add_flag("--gateway-seconds", o.gateway_seconds,
               "POST /v1/videos also accepts seconds 10, 15, 25 (gateways relaying Sora)");
}

void add_behaviour_flags(CLI::App& app, Options& o) {
  app.add_option("--shape", o.shape, "Query answer shape")
      ->check(CLI::IsMember({"openai", "task"}));
  app.add_option("--content-mode", o.content_mode, "What /content answers")
      ->check(CLI::IsMember({"bytes", "json"}));
  app.add_option(
         "--content-url-port", o.content_url_port,
         "Where a json /content answer points: api (same origin) or cdn (signed URL, other origin)")
      ->check(CLI::IsMember({"api", "cdn"}));
  app.add_option("--gen-ms", o.gen_ms, "Generation time per video in ms")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--fail-marker", o.fail_marker, "Prompts containing this fail moderation");
  app.add_option("--stuck-marker", o.stuck_marker, "Prompts containing this never finish");
  app.add_option("--content-ttl-ms", o.content_ttl_ms, "Content expires this long after completion")
      ->check(CLI::PositiveNumber);
  app.add_option("--video-bytes", o.video_bytes, "Size of each generated MP4")
      ->check(CLI::Range(int64_t{64}, int64_t{1} << 30));
  app.add_option("--url-ttl-ms", o.url_ttl_ms, "Lifetime of signed CDN URLs");
  app.add_option("--require-key", o.require_key, "Only this bearer key is accepted");
  app.add_flag("--forbid", o.forbid, "Answer 403 to every authenticated API request");
  app.add_option("--seed", o.seed, "Seed of the fault-injection PRNG");
}

void add_fault_flags(CLI::App& app, FaultConfig& f) {
  const auto probability = CLI::Range(0.0, 1.0);
  app.add_option("--rate-429", f.rate_429, "Probability of an injected 429")->check(probability);
  app.add_option("--rate-500", f.rate_500, "Probability of an injected 500")->check(probability);
  app.add_option("--rate-drop", f.rate_drop, "Probability a GET answer is cut off")
      ->check(probability);
  app.add_option("--rate-lost-create", f.rate_lost_create, "Probability a create's answer is lost")
      ->check(probability);
  app.add_option("--lose-create-answers", f.lose_create_answers,
                 "Lose the answers of the first N creates");
  app.add_option("--drop-creates", f.drop_creates,
                 "Cut the first N creates before creating anything");
  app.add_option("--lost-answer-mode", f.lost_answer_mode,
                 "abort: cut the answer; delay: stall then cut")
      ->check(CLI::IsMember({"abort", "delay"}));
  app.add_option("--lost-answer-delay-ms", f.lost_answer_delay_ms,
                 "Stall before cutting (delay mode)");
  app.add_option("--truncate-downloads", f.truncate_downloads,
                 "Cut the first N downloads half-way");
  app.add_option("--latency-ms", f.latency_ms, "Added to every API answer");
  app.add_option("--retry-after-ms", f.retry_after_ms, "Value of the retry-after-ms header on 429");
  app.add_option("--rpm", f.rpm, "Max creates per rolling 60 s (0 = unlimited)");
  app.add_option("--max-in-flight", f.max_in_flight, "Max unfinished videos (0 = unlimited)");
  const auto vendor_check = rule_validator(parse_vendor_rule, "KIND[:rate=P][:first=N]");
  app.add_option("--vendor-fault", f.vendor_faults,
                 "A vendor refusal of native creates (repeatable): rate_limit, concurrency, "
                 "balance, sensitive, "
                 "invalid, server")
      ->check(vendor_check);
}

void add_dishonesty_flags(CLI::App& app, DishonestyMarkers& m) {
  app.add_option("--short-marker", m.short_video, "Prompts with it get half the duration asked");
  app.add_option("--small-marker", m.small, "Prompts with it get half the width and height asked");
  app.add_option("--silent-marker", m.silent, "Prompts with it get a video without audio");
  app.add_option("--garbage-marker", m.garbage, "Prompts with it get an ftyp box and no video");
}

void add_wire_flags(CLI::App& app, Options& o) {
  const auto rule_check =
      rule_validator(parse_wire_rule, "KIND[:rate=P][:first=N][:status=S][:scope=post|all|REGEX]");
  app.add_option("--fault", o.wire_faults,
                 "A wire fault after forwarding (repeatable): reset_keepalive, reset, fin, stall, "
                 "gateway_502, "
                 "gateway_504, gateway_52x, upstream_500, partial")
      ->check(rule_check);
  app.add_option("--stall-ms", o.stall_ms,
                 "How long the stall fault holds an answer before cutting it")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--wire-faults", o.wire_front,
               "Put the API listener behind the fault proxy even without --fault (POST /__faults "
               "sets them)");
  app.add_flag("--fault-proxy", o.fault_proxy,
               "Run only the fault proxy, forwarding to --upstream");
  app.add_option("--upstream", o.upstream,
                 "With --fault-proxy: the server behind it, http://HOST:PORT");
}

}  // namespace

int parse_options(int argc, char** argv, Options& out) {
  CLI::App app{"vidbatch-sim: fake OpenAI video API / gateway with fault injection"};
  add_server_flags(app, out);
  add_behaviour_flags(app, out);
  add_fault_flags(app, out.faults);
  add_dishonesty_flags(app, out.dishonesty);
  add_wire_flags(app, out);
  DialectText dialect_text;
  add_dialect_flags(app, out, dialect_text);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (const auto error = check_dialect(dialect_text, out); !error.empty()) {
    std::cerr << "vidbatch-sim: " << error << "\n";
    return 2;
  }
  apply_dialect_defaults(app, out);
  if (out.fault_proxy && out.upstream.empty()) {
    std::cerr << "vidbatch-sim: --fault-proxy needs --upstream http://HOST:PORT\n";
    return 2;
  }
  return -1;
}

std::string_view to_string(Dialect dialect) {
  return std::find_if(k_dialects.begin(), k_dialects.end(),
                      [&](const auto& d) { return d.second == dialect; })
      ->first;
}

bool is_gateway(const Options& options) {
  return options.gateway_shape != GatewayShape::none;
}

WireFaultConfig wire_fault_config(const Options& options) {
  WireFaultConfig config;
  config.stall_ms = options.stall_ms;
  for (const auto& spec : options.wire_faults) {
    config.rules.push_back(parse_wire_rule(spec).value());
  }
  return config;
}

}  // namespace sim
