#include "stats.h"

#include <chrono>

#include "video_store.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

namespace sim {

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void write_counts(JsonWriter& w, const std::map<std::string, int64_t>& counts) {
  w.StartObject();
  for (const auto& [key, count] : counts) {
    w.Key(key.c_str(), static_cast<rapidjson::SizeType>(key.size()));
    w.Int64(count);
  }
  w.EndObject();
}

void write_videos(JsonWriter& w, const VideoStore& store) {
  w.StartArray();
  for (const auto& video : store.all()) {
    w.StartObject();
    w.Key("id");
    w.String(video.id.c_str());
    w.Key("prompt");
    w.String(video.prompt.c_str(), static_cast<rapidjson::SizeType>(video.prompt.size()));
    w.Key("sha256");
    w.String(video.sha256.c_str());
    w.Key("bytes");
    w.Int64(static_cast<int64_t>(video.content->size()));
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

void Stats::count_request(const std::string& route) {
  std::lock_guard lock(m_mutex);
  ++m_requests_total;
  ++m_requests_by_route[route];
}

void Stats::observe_connection(const std::string& address, int port) {
  std::lock_guard lock(m_mutex);
  m_connections.insert(address + ":" + std::to_string(port));
}

void Stats::count_create(const std::string& prompt) {
  std::lock_guard lock(m_mutex);
  ++m_creates_total;
  ++m_creates_by_prompt[prompt];
}

void Stats::count_character(const std::string& name) {
  std::lock_guard lock(m_mutex);
  ++m_characters_total;
  ++m_characters_by_name[name];
}

void Stats::count_query() {
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  std::lock_guard lock(m_mutex);
  ++m_queries;
  // Sliding 1 s window: clients promise a polls-per-second rate, tests check it here.
  m_recent_queries_ms.push_back(now_ms);
  while (m_recent_queries_ms.front() <= now_ms - 1000) {
    m_recent_queries_ms.pop_front();
  }
  m_max_queries_1s =
      std::max<int64_t>(m_max_queries_1s, static_cast<int64_t>(m_recent_queries_ms.size()));
}

void Stats::count_content_request() {
  std::lock_guard lock(m_mutex);
  ++m_content_requests;
}

void Stats::add_content_bytes(int64_t bytes) {
  std::lock_guard lock(m_mutex);
  m_content_bytes += bytes;
}

void Stats::count_fault(const std::string& kind) {
  std::lock_guard lock(m_mutex);
  ++m_faults[kind];
}

void Stats::observe_in_flight(int64_t in_flight) {
  std::lock_guard lock(m_mutex);
  m_max_in_flight_seen = std::max(m_max_in_flight_seen, in_flight);
}

void Stats::count_auth_on_files() {
  std::lock_guard lock(m_mutex);
  ++m_auth_on_files;
}

void Stats::count_external_task_id(const std::string& external_task_id) {
  std::lock_guard lock(m_mutex);
  ++m_creates_by_external_id[external_task_id];
}

void Stats::count_file_retrieve() {
  std::lock_guard lock(m_mutex);
  ++m_file_retrieves;
}

void Stats::count_jwt_rejected(int code) {
  std::lock_guard lock(m_mutex);
  ++m_jwt_rejected;
  ++m_jwt_rejected_by_code[std::to_string(code)];
}

void Stats::count_vendor_code(const std::string& code) {
  std::lock_guard lock(m_mutex);
  ++m_vendor_codes[code];
}

void Stats::reset() {
  std::lock_guard lock(m_mutex);
  m_creates_total = 0;
  m_creates_by_prompt.clear();
  m_characters_total = 0;
  m_characters_by_name.clear();
  m_requests_total = 0;
  m_requests_by_route.clear();
  m_queries = 0;
  m_recent_queries_ms.clear();
  m_max_queries_1s = 0;
  m_content_requests = 0;
  m_content_bytes = 0;
  m_faults.clear();
  m_max_in_flight_seen = 0;
  m_connections.clear();
  m_auth_on_files = 0;
  m_creates_by_external_id.clear();
  m_file_retrieves = 0;
  m_jwt_rejected = 0;
  m_jwt_rejected_by_code.clear();
  m_vendor_codes.clear();
}

std::string Stats::to_json(const VideoStore& store, bool counters_only,
                           const std::string& wire_json) const {
  std::lock_guard lock(m_mutex);
  // The five documented fault kinds always appear, so tests can read them without a lookup miss.
  std::map<std::string, int64_t> faults = {{"429", 0},
                                           {"500", 0},
                                           {"drop", 0},
                                           {"lost_create", 0},
                                           {"truncate", 0}};
  for (const auto& [kind, count] : m_faults) {
    faults[kind] = count;
  }
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("creates_total");
  w.Int64(m_creates_total);
  if (!counters_only) {
    w.Key("creates_by_prompt");
    write_counts(w, m_creates_by_prompt);
  }
  w.Key("characters_created");
  w.Int64(m_characters_total);
  if (!counters_only) {
    w.Key("characters_by_name");
    write_counts(w, m_characters_by_name);
  }
  w.Key("requests_total");
  w.Int64(m_requests_total);
  if (!counters_only) {
    w.Key("requests_by_route");
    write_counts(w, m_requests_by_route);
  }
  w.Key("queries");
  w.Int64(m_queries);
  w.Key("max_queries_in_1s");
  w.Int64(m_max_queries_1s);
  w.Key("content_requests");
  w.Int64(m_content_requests);
  w.Key("content_bytes_served");
  w.Int64(m_content_bytes);
  if (!counters_only) {
    w.Key("faults_injected");
    write_counts(w, faults);
  }
  w.Key("max_in_flight_seen");
  w.Int64(m_max_in_flight_seen);
  w.Key("connections_seen");
  w.Int64(static_cast<int64_t>(m_connections.size()));
  w.Key("auth_headers_seen_on_files");
  w.Int64(m_auth_on_files);
  w.Key("file_retrieves");
  w.Int64(m_file_retrieves);
  w.Key("jwt_rejected");
  w.Int64(m_jwt_rejected);
  if (!counters_only) {
    w.Key("create_requests_by_external_task_id");
    write_counts(w, m_creates_by_external_id);
    w.Key("jwt_rejected_by_code");
    write_counts(w, m_jwt_rejected_by_code);
    w.Key("vendor_codes_sent");
    write_counts(w, m_vendor_codes);
  }
  if (!wire_json.empty()) {
    w.Key("wire_faults");
    w.RawValue(wire_json.c_str(), wire_json.size(), rapidjson::kObjectType);
  }
  if (!counters_only) {
    w.Key("videos");
    write_videos(w, store);
  }
  w.EndObject();
  return buffer.GetString();
}

}  // namespace sim
