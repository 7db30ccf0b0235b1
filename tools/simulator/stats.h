// Counters behind GET /__stats. Thread-safe (one mutex); the video list is rendered from the
// VideoStore at read time, so Stats itself only holds counters.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace sim {

class VideoStore;

class Stats {
 public:
  void count_request(const std::string& route);
  void count_create(const std::string& prompt);
  void count_character(const std::string& name);  // a character was created
  void count_query();
  void count_content_request();
  void add_content_bytes(int64_t bytes);
  void count_fault(
      const std::string& kind);  // "429", "500", "drop", "lost_create", "truncate", ...
  void observe_in_flight(int64_t in_flight);
  // A request arrived over this client connection (address and port); admin routes excluded.
  void observe_connection(const std::string& address, int port);
  void count_auth_on_files();
  // Native dialects.
  void count_external_task_id(
      const std::string& external_task_id);         // a valid kling create request carried it
  void count_file_retrieve();                       // a minimax files/retrieve call
  void count_jwt_rejected(int code);                // kling 401 with code 1000-1004
  void count_vendor_code(const std::string& code);  // a vendor error code the simulator answered
                                                    // (kling code, base_resp)
  void reset();

  // counters_only: the scalar counters alone (no per-prompt, per-route or per-video lists), cheap
  // enough for a benchmark to sample every half second while a large batch runs.
  // wire_json: the fault proxy's stats object, embedded as "wire_faults" when not empty.
  std::string to_json(const VideoStore& store, bool counters_only = false,
                      const std::string& wire_json = {}) const;

 private:
  mutable std::mutex m_mutex;
  int64_t m_creates_total = 0;
  std::map<std::string, int64_t> m_creates_by_prompt;
  int64_t m_characters_total = 0;
  std::map<std::string, int64_t> m_characters_by_name;
  int64_t m_requests_total = 0;
  std::map<std::string, int64_t> m_requests_by_route;
  int64_t m_queries = 0;
  std::deque<int64_t> m_recent_queries_ms;  // arrival times within the last second
  int64_t m_max_queries_1s = 0;             // most queries that arrived within any 1 s
  int64_t m_content_requests = 0;
  int64_t m_content_bytes = 0;
  std::map<std::string, int64_t> m_faults;
  int64_t m_max_in_flight_seen = 0;
  std::set<std::string> m_connections;  // "address:port" of every client connection used
  int64_t m_auth_on_files = 0;
  std::map<std::string, int64_t> m_creates_by_external_id;
  int64_t m_file_retrieves = 0;
  int64_t m_jwt_rejected = 0;
  std::map<std::string, int64_t> m_jwt_rejected_by_code;
  std::map<std::string, int64_t> m_vendor_codes;
};

}  // namespace sim
