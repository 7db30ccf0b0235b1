// Command-line options of vidbatch-sim. Parsed once in main(), then read-only except for the
// fault knobs, which live in FaultConfig and may be replaced at run time via POST /__faults
// (see faults.h for their thread-safety).
#pragma once

#include "wire_faults.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sim {

// Every knob that POST /__faults may change. Plain value type: copied under FaultInjector's lock.
struct FaultConfig {
  double rate_429 = 0.0;
  double rate_500 = 0.0;
  double rate_drop = 0.0;
  double rate_lost_create = 0.0;
  int64_t lose_create_answers = 0;  // the first N accepted creates lose their answer
  int64_t drop_creates = 0;         // the first N creates are cut before any video exists
  int64_t truncate_downloads = 0;   // the first N content downloads stop half-way
  int64_t latency_ms = 0;
  int64_t retry_after_ms = 200;
  int64_t rpm = 0;            // 0 = unlimited
  int64_t max_in_flight = 0;  // 0 = unlimited
  int64_t lost_answer_delay_ms = 30000;
  std::string lost_answer_mode = "abort";  // abort | delay
  // Vendor refusals of native creates (vendor_faults.h), as given to --vendor-fault.
  std::vector<std::string> vendor_faults;
};

// Prompts containing a marker get a dishonest video (content.cpp); an empty marker is off.
struct DishonestyMarkers {
  std::string short_video = "[[short]]";  // half the requested duration
  std::string small = "[[small]]";        // half the requested width and height
  std::string silent = "[[silent]]";      // no audio track
  std::string garbage = "[[garbage]]";    // an ftyp box, then no moov: not a video
};

// Which provider's wire format the API listener speaks, and how a gateway in front of it answers.
enum class Dialect { openai, kling, minimax, wan, vidu, seedance, chat };
enum class GatewayShape { none, native, taskdto, yunwu };

struct Options {
  Dialect dialect = Dialect::openai;
  std::string kling_access_key;  // kling: the JWT's iss
  std::string kling_secret_key;  // kling: the JWT's HS256 secret
  std::string gateway_prefix;  // non-empty: the vendor routes under it, Bearer gateway key instead
                               // of vendor auth
  GatewayShape gateway_shape = GatewayShape::none;  // native when a prefix is given without a shape
  int64_t task_ttl_ms = 0;      // native dialects: a task is forgotten this long after it finished
  int64_t unknown_queries = 0;  // wan: each task's first N queries answer UNKNOWN (still listed)
  int64_t run_slots =
      0;  // native dialects: at most N generate at once, later ones wait queued (0 = no limit)
  int64_t execution_expiry_ms =
      0;  // seedance: overrides each task's execution_expires_after (0 = the body's)
  int port = 0;
  std::string port_file;
  int cdn_port = 0;
  std::string cdn_port_file;
  std::string shape = "openai";          // openai | task
  std::string content_mode = "bytes";    // bytes | json
  std::string content_url_port = "api";  // json content answers name a URL on: api | cdn (signed)
  int64_t gen_ms = 3000;
  std::string fail_marker = "[[fail]]";
  std::string stuck_marker = "[[stuck]]";  // prompts with it never finish
  int64_t content_ttl_ms = 3600000;        // content answers 404 this long after completion
  int64_t video_bytes = 65536;
  int64_t url_ttl_ms =
      600000;  // per dialect when not given: openai 10 min, kling 30 d, minimax 9 h, others 24 h
  std::string require_key;
  bool forbid = false;
  uint64_t seed = 1;
  int threads = 64;
  bool quiet = false;
  bool gateway_seconds = false;  // /v1/videos also takes 10, 15, 25 like gateways relaying Sora
  bool no_list = false;          // GET /v1/videos answers 404, like gateways without a listing
  FaultConfig faults;
  DishonestyMarkers dishonesty;
  // Wire faults (fault_proxy.h): rules as given to --fault, and the stall of the stall fault.
  std::vector<std::string> wire_faults;
  int64_t stall_ms = 30000;
  bool wire_front = false;   // the API listener sits behind the fault proxy (implied by --fault)
  bool fault_proxy = false;  // run only the fault proxy, in front of --upstream
  std::string upstream;
};

std::string_view to_string(Dialect dialect);
bool is_gateway(const Options& options);

// Parses argv into `out`. Returns -1 on success, otherwise the exit code main() should return
// (0 for --help, non-zero for bad flags; CLI11 has already printed the message).
int parse_options(int argc, char** argv, Options& out);

// The wire fault rules and stall of the options (their --fault texts were checked by
// parse_options).
WireFaultConfig wire_fault_config(const Options& options);

}  // namespace sim
