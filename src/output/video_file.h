// VideoFile: one download on its way into the output tree. It is the
// transport's BodySink: bytes stream into `<video>.part` (held locked; another writer of the
// same video writes `<video>.<pid>.part`), gathered to 128 KiB
// per write(2) (libcurl hands them over 16 KiB at a time).
// finish() checks the length and the MP4 signature (an `ftyp` box), computes the
// SHA-256 of the file as written (unless Checksum::none), fsyncs, and renames into place, so a
// final name never holds a partial file. A broken transfer keeps the part file, so the retry can
// continue with an HTTP Range request from size(). Not thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "http/http_transport.h"
#include "output/output_layout.h"
#include "probe/video_check.h"
#include "util/error.h"

namespace vb {

struct FinishedVideo {
  std::string path;
  std::int64_t bytes = 0;
  std::string sha256;  // lower-case hex; empty with Checksum::none
  VideoCheck check;    // what its headers say against the request; unchecked when not asked
};

// Makes renames into a folder durable (fsync of the folder) with group commit: callers on
// several threads that finished their renames before one fsync of the folder began all share
// it, instead of queueing one folder fsync each. Thread-safe.
class DirectorySync {
 public:
  // Returns once an fsync of `dir` that began after this call has ended.
  void sync(const std::string& dir);

 private:
  struct Folder {
    std::uint64_t requested = 0;  // sync() calls so far
    std::uint64_t completed = 0;  // calls covered by a finished fsync
    bool running = false;
  };
  std::mutex m_mutex;
  std::condition_variable m_done;
  std::unordered_map<std::string, Folder> m_folders;  // element references survive rehashing
};

class VideoFile final : public BodySink {
 public:
  // Creates the folders and a fresh part file (removing a stale one from a crash).
  static Result<std::unique_ptr<VideoFile>> create(const OutputPaths& paths,
                                                   Checksum checksum = Checksum::sha256);
  ~VideoFile() override;
  VideoFile(const VideoFile&) = delete;
  VideoFile& operator=(const VideoFile&) = delete;

  // A full answer (200) after a partial download starts the file over. A known length
  // reserves the file's blocks at once (fallocate, size unchanged).
  bool begin(int http_status, std::int64_t body_bytes) override;
  bool write(const char* data, std::size_t size) override;

  // Bytes received so far (some may still sit in the write buffer; a Range resume continues
  // from here because this object, buffer included, lives on between attempts).
  std::int64_t size() const { return m_size; }
  // errno text of the write that failed (ENOSPC...), empty if none failed.
  const std::string& write_error() const { return m_write_error; }
  // Forgets everything written (a server that ignored our Range, or a JSON answer).
  Status restart();
  // The first bytes written, for sniffing a JSON answer (at most 64 KiB kept; of an MP4, and
  // after settle(), only the few that finish() checks).
  const std::string& head() const { return m_head; }

  // The transfer is over: writes out the buffer and frees what only the transfer needed. A
  // file queued for finishing then holds no buffers (thousands may queue behind a slow disk).
  // A failed write shows in write_error() and makes finish() fail.
  void settle();

  // Verifies (expected_bytes < 0: unknown), hashes, fsyncs and renames into place, then fsyncs the
  // folder: one file on its own (FinishPool does the same steps for a batch).
  Result<FinishedVideo> finish(std::int64_t expected_bytes);

  // finish() in steps, so that several files share their flushes: seal() each (verify, write
  // out, hash: returns the SHA-256, empty with Checksum::none), sync_all() of them (one file: its
  // fsync; several: one syncfs per filesystem), place() each (rename into place), then one
  // DirectorySync::sync() per folder().
  Result<std::string> seal(std::int64_t expected_bytes);
  static Status sync_all(const std::vector<VideoFile*>& files);
  Result<FinishedVideo> place(std::string sha256);
  const std::string& folder() const { return m_folder; }  // where the video goes
  const OutputPaths& paths() const { return m_paths; }
  // Deletes the part file.
  void discard();

 private:
  VideoFile(OutputPaths paths, int fd, Checksum checksum);
  bool write_all(const char* data, std::size_t size);  // false: m_write_error says why
  void keep_head(const char* data, std::size_t size);
  bool flush();
  void start_writeback();
  Result<std::string> checksum_of_file() const;

  OutputPaths m_paths;
  std::string m_folder;  // of m_paths.video, computed once
  int m_fd = -1;
  Checksum m_checksum;
  std::int64_t m_size = 0;
  std::int64_t m_writeback_from = 0;  // bytes before this are already on their way to disk
  std::string m_head;
  bool m_head_trimmed = false;  // only the signature bytes are kept (an MP4, or settle())
  std::string m_write_error;
  std::unique_ptr<char[]> m_buffer;  // taken from the thread's spares by the first write
  std::size_t m_buffered = 0;
};

// SHA-256 of the first `size` bytes of the open file `fd`, in lower-case hex, read with pread
// (256 KiB at a time; `path` names it in errors). A file that ends sooner was cut short:
// ErrorCode::io. Thread-safe.
Result<std::string> sha256_of_file(int fd, const std::string& path, std::int64_t size);

// Writes `content` to `path` via a temporary file and a rename, so readers never
// see half a file; `durable` adds the fsyncs that make it survive a power loss.
Status write_file_atomically(const std::string& path, const std::string& content,
                             bool durable = true);

}  // namespace vb
