// In-memory state of the simulator: videos (with their deterministic content) and characters.
// A video's lifecycle is a pure function of wall time (created_ms + gen_ms), so nothing has to
// tick in the background. VideoStore is thread-safe; it hands out copies (content is shared and
// immutable), never references into its maps.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace sim {

enum class Phase { queued, in_progress, completed, failed };

struct Video {
  std::string id;
  std::string model;
  std::string prompt;
  std::string size;     // OpenAI "720x1280" or gateway "small"/"large"
  std::string seconds;  // always a string, as in the OpenAI object
  std::string orientation = "portrait";
  std::vector<std::string> images;
  std::string remixed_from;  // empty = null
  int width = 720;
  int height = 1280;
  int64_t created_ms = 0;
  int64_t gen_ms = 0;
  bool will_fail = false;
  bool never_finishes = false;                 // stuck at the provider forever
  std::shared_ptr<const std::string> content;  // the MP4 bytes
  std::string sha256;                          // hex of *content
  // Native dialects: what the vendor's answers echo, and the other names the video is found by.
  std::string family;            // kling: text2video | image2video (the path it was created on)
  std::string external_task_id;  // kling: the client's own id, unique per account
  std::string file_id;           // minimax: the id files/retrieve takes
  std::string public_id;         // a gateway's own task id (taskdto shape), when it has one
  std::string mode;              // kling: std | pro
  std::string aspect_ratio;      // vidu: as asked ("16:9"...)
  std::string payload;           // vidu: the client's pass-through string, echoed by the query
  int64_t seq = 0;      // 1, 2, ... in creation order (set by VideoStore::add): a gateway's row id
  int64_t wait_ms = 0;  // queued this long for a run slot before its generation began
  int64_t cancelled_ms =
      0;  // when a client cancelled it while queued (0 = never): failed from then
  int64_t expire_at_ms = 0;  // seedance: still unfinished then, it expires (0 = never)
  int64_t seed = 0;          // seedance: as asked, echoed
  int64_t queries = 0;       // wan: queries of the task so far (--unknown-queries)
};

struct VideoState {
  Phase phase = Phase::queued;
  int progress = 0;         // 0..100, OpenAI shape
  double progress_pct = 0;  // 0..1, task shape
  int64_t status_update_ms = 0;
  int64_t started_ms = 0;   // when it left the queue
  int64_t finished_ms = 0;  // completion or failure time
};

// Derives the phase at `now_ms`: queued while waiting for a run slot (wait_ms) and for the first
// 10% of gen_ms after it, then in progress; failed from cancelled_ms on.
VideoState video_state(const Video& video, int64_t now_ms);
bool is_terminal(Phase phase);

struct Character {
  std::string id;
  std::string name;
  int64_t created_s = 0;
};

struct VideoPage {
  std::vector<Video> items;
  bool has_more = false;
};

class VideoStore {
 public:
  VideoStore();
  VideoStore(const VideoStore&) = delete;
  VideoStore& operator=(const VideoStore&) = delete;

  std::string new_video_id();                         // video_<48 hex>
  std::string new_task_id(const std::string& model);  // <model>:task_<26 ulid-like>
  std::string new_character_id();                     // char_<32 hex>
  std::string new_numeric_id(size_t digits);          // decimal digits, the first non-zero
  std::string new_public_task_id();                   // task_<32 alphanumerics>
  std::string new_request_id();                       // a UUID v4

  // Adds the video; returns how many videos are unfinished afterwards (for max_in_flight_seen).
  int64_t add(Video video);
  // Like add, unless another video already has its non-empty external_task_id: nullopt, nothing
  // added. With run_slots > 0 at most that many videos generate at once: the new one waits
  // (wait_ms) until a slot frees, after every video added before it.
  std::optional<int64_t> add_unless_taken(Video video, size_t run_slots = 0);
  std::optional<Video> find(const std::string& id) const;
  // Counts a query of the video: how many it has had, this one included (0: unknown id).
  int64_t count_query(const std::string& id);
  // By file_id, public_id or external_task_id (each kind of name has its own namespace).
  std::optional<Video> find_by_file_id(const std::string& file_id) const;
  std::optional<Video> find_by_public_id(const std::string& public_id) const;
  bool remove(const std::string& id);
  // Cancels the video if it is still queued at now_ms; false when it is unknown or past the queue.
  bool cancel_if_queued(const std::string& id, int64_t now_ms);
  VideoPage list(bool descending, const std::string& after, size_t limit) const;
  std::vector<Video> all() const;
  int64_t count_in_flight(int64_t now_ms) const;

  void add_character(Character character);
  std::optional<Character> find_character(const std::string& id) const;

 private:
  std::string random_hex(size_t chars);
  int64_t add_locked(Video video);
  int64_t slot_wait(int64_t now_ms, size_t run_slots) const;
  std::optional<Video> find_alias(const std::string& key) const;

  mutable std::mutex m_mutex;
  std::mt19937_64 m_rng;  // ids only; seeded from random_device so ids differ between runs
  std::vector<std::string> m_order;  // creation order
  std::unordered_map<std::string, Video> m_videos;
  int64_t m_added = 0;
  std::unordered_map<std::string, std::string> m_aliases;  // "file:", "pub:", "ext:" + name -> id
  std::unordered_map<std::string, Character> m_characters;
};

int64_t now_ms();

}  // namespace sim
