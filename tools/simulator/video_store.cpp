#include "video_store.h"

#include <algorithm>
#include <chrono>
#include <climits>

namespace sim {

namespace {

constexpr const char* k_hex = "0123456789abcdef";
constexpr const char* k_crockford = "0123456789abcdefghjkmnpqrstvwxyz";

int64_t count_unfinished(const std::unordered_map<std::string, Video>& videos, int64_t now) {
  return std::count_if(videos.begin(), videos.end(), [now](const auto& entry) {
    return !is_terminal(video_state(entry.second, now).phase);
  });
}

}  // namespace

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool is_terminal(Phase phase) {
  return phase == Phase::completed || phase == Phase::failed;
}

VideoState video_state(const Video& video, int64_t now) {
  VideoState state;
  const int64_t begin =
      video.created_ms + video.wait_ms;  // a video waiting for a run slot is queued
  const int64_t elapsed = std::max<int64_t>(0, now - begin);
  const int64_t queue_ms = video.gen_ms / 10;
  state.started_ms = begin + queue_ms;
  state.finished_ms = begin + video.gen_ms;
  if (video.cancelled_ms > 0 && now >= video.cancelled_ms) {
    state.phase = Phase::failed;
    state.finished_ms = video.cancelled_ms;
    state.status_update_ms = video.cancelled_ms;
    return state;
  }
  if (elapsed >= video.gen_ms && !video.never_finishes) {
    state.phase = video.will_fail ? Phase::failed : Phase::completed;
    state.progress = video.will_fail ? 0 : 100;
    state.progress_pct = video.will_fail ? 0.0 : 1.0;
    state.status_update_ms = state.finished_ms;
    return state;
  }
  if (now < begin || elapsed < queue_ms) {
    state.status_update_ms = video.created_ms;
    return state;
  }
  state.phase = Phase::in_progress;
  const double fraction =
      video.never_finishes ? 0.5 : static_cast<double>(elapsed) / static_cast<double>(video.gen_ms);
  state.progress = std::clamp(static_cast<int>(fraction * 100.0), 0, 99);
  state.progress_pct = std::clamp(fraction, 0.0, 0.999);
  state.status_update_ms = state.started_ms;
  return state;
}

VideoStore::VideoStore() : m_rng(std::random_device{}()) {}

std::string VideoStore::random_hex(size_t chars) {
  std::string out(chars, '0');
  for (auto& c : out) {
    c = k_hex[m_rng() % 16];
  }
  return out;
}

std::string VideoStore::new_video_id() {
  std::lock_guard lock(m_mutex);
  return "video_" + random_hex(48);
}

std::string VideoStore::new_task_id(const std::string& model) {
  std::lock_guard lock(m_mutex);
  // ULID layout: 10 chars of millisecond time, then 16 random chars, Crockford base32 lowercase.
  std::string ulid(26, '0');
  uint64_t t = static_cast<uint64_t>(now_ms());
  for (int i = 9; i >= 0; --i) {
    ulid[static_cast<size_t>(i)] = k_crockford[t % 32];
    t /= 32;
  }
  for (size_t i = 10; i < ulid.size(); ++i) {
    ulid[i] = k_crockford[m_rng() % 32];
  }
  return model + ":task_" + ulid;
}

std::string VideoStore::new_character_id() {
  std::lock_guard lock(m_mutex);
  return "char_" + random_hex(32);
}

std::string VideoStore::new_numeric_id(size_t digits) {
  std::lock_guard lock(m_mutex);
  std::string out(digits, '0');
  for (size_t i = 0; i < digits; ++i) {
    out[i] = static_cast<char>('0' + (i == 0 ? 1 + m_rng() % 9 : m_rng() % 10));
  }
  return out;
}

std::string VideoStore::new_public_task_id() {
  static constexpr std::string_view k_alnum =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::lock_guard lock(m_mutex);
  std::string out = "task_";
  for (int i = 0; i < 32; ++i) {
    out.push_back(k_alnum[m_rng() % k_alnum.size()]);
  }
  return out;
}

std::string VideoStore::new_request_id() {
  std::string hex;
  {
    std::lock_guard lock(m_mutex);
    hex = random_hex(32);
  }
  hex[12] = '4';
  hex[16] = k_hex[8 + (hex[16] % 4)];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

int64_t VideoStore::add_locked(Video video) {
  video.seq = ++m_added;
  for (const auto& [prefix, name] :
       {std::pair{"file:", video.file_id}, std::pair{"pub:", video.public_id},
        std::pair{"ext:", video.external_task_id}}) {
    if (!name.empty()) {
      m_aliases[prefix + name] = video.id;
    }
  }
  m_order.push_back(video.id);
  m_videos.emplace(video.id, std::move(video));
  return count_unfinished(m_videos, now_ms());
}

int64_t VideoStore::add(Video video) {
  std::lock_guard lock(m_mutex);
  return add_locked(std::move(video));
}

std::optional<int64_t> VideoStore::add_unless_taken(Video video, size_t run_slots) {
  std::lock_guard lock(m_mutex);
  if (!video.external_task_id.empty() && m_aliases.contains("ext:" + video.external_task_id)) {
    return std::nullopt;
  }
  if (run_slots > 0) {
    video.wait_ms = slot_wait(video.created_ms, run_slots);
  }
  return add_locked(std::move(video));
}

int64_t VideoStore::slot_wait(int64_t now, size_t run_slots) const {
  // Every unfinished video holds a slot until it ends; first come, first served.
  std::vector<int64_t> ends;
  for (const auto& [id, video] : m_videos) {
    const int64_t end = video.cancelled_ms > 0 ? video.cancelled_ms
                        : video.never_finishes ? INT64_MAX
                                               : video.created_ms + video.wait_ms + video.gen_ms;
    if (end > now) {
      ends.push_back(end);
    }
  }
  if (ends.size() < run_slots) {
    return 0;
  }
  std::sort(ends.begin(), ends.end());
  const int64_t free_at = ends[ends.size() - run_slots];
  return free_at == INT64_MAX ? INT64_MAX / 4 : free_at - now;
}

std::optional<Video> VideoStore::find_alias(const std::string& key) const {
  std::lock_guard lock(m_mutex);
  const auto alias = m_aliases.find(key);
  if (alias == m_aliases.end()) {
    return std::nullopt;
  }
  const auto it = m_videos.find(alias->second);
  if (it == m_videos.end()) {
    return std::nullopt;
  }
  return it->second;
}

std::optional<Video> VideoStore::find_by_file_id(const std::string& file_id) const {
  return find_alias("file:" + file_id);
}

std::optional<Video> VideoStore::find_by_public_id(const std::string& public_id) const {
  return find_alias("pub:" + public_id);
}

std::optional<Video> VideoStore::find(const std::string& id) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_videos.find(id);
  if (it == m_videos.end()) {
    return std::nullopt;
  }
  return it->second;
}

int64_t VideoStore::count_query(const std::string& id) {
  std::lock_guard lock(m_mutex);
  const auto it = m_videos.find(id);
  return it == m_videos.end() ? 0 : ++it->second.queries;
}

bool VideoStore::remove(const std::string& id) {
  std::lock_guard lock(m_mutex);
  if (m_videos.erase(id) == 0) {
    return false;
  }
  std::erase(m_order, id);
  return true;
}

bool VideoStore::cancel_if_queued(const std::string& id, int64_t now) {
  std::lock_guard lock(m_mutex);
  const auto it = m_videos.find(id);
  if (it == m_videos.end() || video_state(it->second, now).phase != Phase::queued) {
    return false;
  }
  it->second.cancelled_ms = now;
  return true;
}

VideoPage VideoStore::list(bool descending, const std::string& after, size_t limit) const {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> ids = m_order;
  if (descending) {
    std::reverse(ids.begin(), ids.end());
  }
  auto begin = ids.begin();
  if (!after.empty()) {
    const auto cursor = std::find(ids.begin(), ids.end(), after);
    begin = cursor == ids.end() ? ids.end() : cursor + 1;
  }
  VideoPage page;
  for (auto it = begin; it != ids.end(); ++it) {
    if (page.items.size() == limit) {
      page.has_more = true;
      break;
    }
    page.items.push_back(m_videos.at(*it));
  }
  return page;
}

std::vector<Video> VideoStore::all() const {
  std::lock_guard lock(m_mutex);
  std::vector<Video> out;
  out.reserve(m_order.size());
  for (const auto& id : m_order) {
    out.push_back(m_videos.at(id));
  }
  return out;
}

int64_t VideoStore::count_in_flight(int64_t now) const {
  std::lock_guard lock(m_mutex);
  return count_unfinished(m_videos, now);
}

void VideoStore::add_character(Character character) {
  std::lock_guard lock(m_mutex);
  m_characters[character.id] = std::move(character);
}

std::optional<Character> VideoStore::find_character(const std::string& id) const {
  std::lock_guard lock(m_mutex);
  const auto it = m_characters.find(id);
  if (it == m_characters.end()) {
    return std::nullopt;
  }
  return it->second;
}

}  // namespace sim
