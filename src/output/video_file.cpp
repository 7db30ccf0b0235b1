#include "output/video_file.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vb {

namespace {

constexpr std::size_t k_head_bytes = 64 * 1024;
constexpr std::size_t k_write_buffer_bytes = 128 * 1024;
constexpr std::size_t k_direct_write_bytes = 32 * 1024;
constexpr std::size_t k_signature_bytes = 8;  // size + "ftyp" of the first MP4 box
// Smaller files are written by the batch's flush alone: its one pass costs less than a
// writeback started per file on our thread, and their disk time is short anyway.
constexpr std::int64_t k_early_writeback_bytes = 1024 * 1024;
// Bodies this large get their blocks reserved up front (begin()). 1 MiB videos: download phase
// higher in 18 of 23 alternating pairs. 64 KiB ones reserved too cost more CPU per job in 2 of
// 3 pairs (+7%): a few pages are cheap to reserve one write(2) at a time.
constexpr std::int64_t k_reserve_bytes = 1024 * 1024;
// A download starts the writeback of each 256 KiB as soon as it is in the file, so the disk
// writes while the rest streams in and the flush before `done` waits for the tail alone. Without
// it a file's bytes stay dirty until it is sealed (the kernel's own writeback waits ~30 s).
// Smaller files never cross a step: they are written by the batch's flush as before.
constexpr std::int64_t k_writeback_step = 256 * 1024;

std::string errno_text(int err) {
  return std::strerror(err);
}

std::string folder_of(const std::string& file) {
  std::string dir = std::filesystem::path(file).parent_path().string();
  return dir.empty() ? "." : dir;
}

void fsync_folder(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// fsync of the folder makes the rename itself durable.
void sync_directory(const std::string& file) {
  fsync_folder(folder_of(file));
}

bool has_mp4_signature(const std::string& head) {
  return head.size() >= k_signature_bytes && head.compare(4, 4, "ftyp") == 0;
}

// Write buffers are reused by the thread that frees them: a 128 KiB malloc and free per
// download cost page faults and heap consolidation every time.
constexpr std::size_t k_spare_buffers = 16;

std::vector<std::unique_ptr<char[]>>& spare_buffers() {
  thread_local std::vector<std::unique_ptr<char[]>> spare;
  return spare;
}

std::unique_ptr<char[]> take_buffer() {
  auto& spare = spare_buffers();
  if (spare.empty()) {
    return std::make_unique_for_overwrite<char[]>(k_write_buffer_bytes);
  }
  std::unique_ptr<char[]> buffer = std::move(spare.back());
  spare.pop_back();
  return buffer;
}

void give_back(std::unique_ptr<char[]>& buffer) {
  auto& spare = spare_buffers();
  if (buffer && spare.size() < k_spare_buffers) {
    spare.push_back(std::move(buffer));
  }
  buffer.reset();
}

std::unexpected<Error> cut_short(std::int64_t holds, std::int64_t size, const std::string& path) {
  return fail(ErrorCode::io,
              "the download file holds " + std::to_string(holds) + " of the " +
                  std::to_string(size) + " bytes written (changed by another program?)",
              path);
}

}  // namespace

// Hashing here rather than as bytes arrive keeps the event loop free for the transfers and
// covers a download resumed with Range as a whole.
Result<std::string> sha256_of_file(int fd, const std::string& path, std::int64_t size) {
  constexpr std::size_t k_read_bytes = 256 * 1024;
  thread_local std::unique_ptr<char[]> buffer =
      std::make_unique_for_overwrite<char[]>(k_read_bytes);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (off_t offset = 0; offset < size;) {
    const auto want = static_cast<std::size_t>(std::min<std::int64_t>(k_read_bytes, size - offset));
    ssize_t n = ::pread(fd, buffer.get(), want, offset);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail(ErrorCode::io, "cannot read the video back to hash it: " + errno_text(errno),
                  path);
    }
    if (n == 0) {
      return cut_short(offset, size, path);
    }
    EVP_DigestUpdate(ctx.get(), buffer.get(), static_cast<std::size_t>(n));
    offset += n;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  static const char* k_hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += k_hex[digest[i] >> 4];
    out += k_hex[digest[i] & 15];
  }
  return out;
}

void DirectorySync::sync(const std::string& dir) {
  std::unique_lock lock(m_mutex);
  Folder& folder = m_folders[dir];
  const std::uint64_t ticket = ++folder.requested;  // our rename is done by now
  while (folder.completed < ticket) {
    if (folder.running) {
      m_done.wait(lock);  // that fsync may have begun before our rename: wait for the next
      continue;
    }
    folder.running = true;
    const std::uint64_t covers = folder.requested;  // every rename done before this fsync
    lock.unlock();
    fsync_folder(dir);
    lock.lock();
    folder.completed = covers;
    folder.running = false;
    m_done.notify_all();
  }
}

VideoFile::VideoFile(OutputPaths paths, int fd, Checksum checksum)
    : m_paths(std::move(paths)),
      m_folder(folder_of(m_paths.video)),
      m_fd(fd),
      m_checksum(checksum) {}

VideoFile::~VideoFile() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

namespace {

// Opens `part` and takes its lock (flock: released when the file is closed or the process
// dies); -1 with errno, or with EWOULDBLOCK when another live writer holds it.
int open_locked(const std::string& part, int flags) {
  int fd = ::open(part.c_str(), flags, 0666);
  if (fd < 0 && errno == ENOENT) {  // the first file of its folder: no stat() for the others
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(part).parent_path(), ec);
    fd = ::open(part.c_str(), flags, 0666);
  }
  if (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

}  // namespace

// Two workers can download one job at once: a worker stalled past its lease wakes up after
// the rescuer gave the job to another. Each writes a part file it holds locked, and renames
// only its own: `<video>.part` when free, else `<video>.<pid>.part`. Not truncated before the
// lock is held, so a live writer's bytes are never cut.
Result<std::unique_ptr<VideoFile>> VideoFile::create(const OutputPaths& paths, Checksum checksum) {
  OutputPaths own = paths;
  int fd = open_locked(own.part, O_RDWR | O_CREAT | O_CLOEXEC);
  if (fd < 0 && errno == EWOULDBLOCK) {
    own.part = own.video + "." + std::to_string(::getpid()) + ".part";
    fd = open_locked(own.part, O_RDWR | O_CREAT | O_CLOEXEC);
  }
  if (fd < 0) {
    return fail(ErrorCode::io, "cannot create the download file: " + errno_text(errno), own.part);
  }
  if (::ftruncate(fd, 0) != 0) {
    const int error = errno;
    ::close(fd);
    return fail(ErrorCode::io, "cannot empty the download file: " + errno_text(error), own.part);
  }
  return std::unique_ptr<VideoFile>(new VideoFile(own, fd, checksum));
}

bool VideoFile::begin(int http_status, std::int64_t body_bytes) {
  if (http_status != 206 && m_size > 0 && !restart()) {
    return false;
  }
  if (body_bytes >= k_reserve_bytes) {
    // Blocks reserved in one call cost the event loop less than ext4's reservation page by
    // page inside every write(2), and the video lies in one piece. Best effort: a filesystem
    // without fallocate still takes the writes, and a full disk shows in them.
    ::fallocate(m_fd, FALLOC_FL_KEEP_SIZE, m_size, body_bytes);
  }
  return true;
}

bool VideoFile::write_all(const char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(m_fd, data + done, size - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      m_write_error = errno_text(errno);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool VideoFile::flush() {
  if (m_buffered == 0) {
    return m_write_error.empty();
  }
  const std::size_t n = m_buffered;
  m_buffered = 0;
  return write_all(m_buffer.get(), n);
}

// Of the m_size bytes received, all but the m_buffered still gathered are in the file. Best
// effort: a write error shows again in the flush before `done`.
void VideoFile::start_writeback() {
  const std::int64_t in_file = m_size - static_cast<std::int64_t>(m_buffered);
  const std::int64_t upto = in_file - in_file % k_writeback_step;
  if (upto > m_writeback_from) {
    ::sync_file_range(m_fd, m_writeback_from, upto - m_writeback_from, SYNC_FILE_RANGE_WRITE);
    m_writeback_from = upto;
  }
}

bool VideoFile::write(const char* data, std::size_t size) {
  if (!m_write_error.empty()) {
    return false;
  }
  if (size >= k_direct_write_bytes) {
    // Large chunks go straight from curl's buffer to the file: copying them through ours cost
    // more CPU than the write(2) calls it saved. libcurl 7.88 passes at most 16 KiB per call
    // (CURL_MAX_WRITE_SIZE), so this serves only a libcurl that passes more.
    if (!flush() || !write_all(data, size)) {
      return false;
    }
  } else {
    // Small chunks (every chunk of libcurl 7.88, plain HTTP or TLS) are gathered, so a
    // write(2) carries 128 KiB: a write(2) per 16 KiB chunk measured slower (bench/JOURNAL.md).
    if (m_buffered + size > k_write_buffer_bytes && !flush()) {
      return false;
    }
    if (!m_buffer) {
      m_buffer = take_buffer();
    }
    std::memcpy(m_buffer.get() + m_buffered, data, size);
    m_buffered += size;
  }
  keep_head(data, size);
  m_size += static_cast<std::int64_t>(size);
  start_writeback();
  return true;
}

// A body that starts like an MP4 keeps only its signature; anything else (a JSON answer that
// names the real URL, an error page) keeps up to k_head_bytes for the caller to read.
void VideoFile::keep_head(const char* data, std::size_t size) {
  if (m_head_trimmed) {
    return;
  }
  if (m_head.size() < k_signature_bytes) {
    const std::size_t first = std::min(size, k_signature_bytes - m_head.size());
    m_head.append(data, first);
    data += first;
    size -= first;
    if (has_mp4_signature(m_head)) {
      m_head_trimmed = true;
      return;
    }
  }
  m_head.append(data, std::min(size, k_head_bytes - m_head.size()));
}

void VideoFile::settle() {
  flush();  // a failure is kept in m_write_error
  give_back(m_buffer);
  if (m_head.size() > k_signature_bytes) {
    m_head.resize(k_signature_bytes);
  }
  m_head.shrink_to_fit();
  m_head_trimmed = true;
}

Status VideoFile::restart() {
  m_buffered = 0;
  if (::ftruncate(m_fd, 0) != 0 || ::lseek(m_fd, 0, SEEK_SET) != 0) {
    return fail(ErrorCode::io, "cannot truncate the download file: " + errno_text(errno),
                m_paths.part);
  }
  m_size = 0;
  m_writeback_from = 0;
  m_head.clear();
  m_head_trimmed = false;
  m_write_error.clear();
  return {};
}

Result<FinishedVideo> VideoFile::finish(std::int64_t expected_bytes) {
  std::string sha256 = VB_TRY(seal(expected_bytes));
  VB_TRY(sync_all({this}));
  Result<FinishedVideo> video = place(std::move(sha256));
  if (video) {
    fsync_folder(m_folder);
  }
  return video;
}

Result<std::string> VideoFile::seal(std::int64_t expected_bytes) {
  if (expected_bytes >= 0 && expected_bytes != m_size) {
    return fail(ErrorCode::network,
                "truncated download: got " + std::to_string(m_size) + " of " +
                    std::to_string(expected_bytes) + " bytes",
                m_paths.part);
  }
  if (!has_mp4_signature(m_head)) {
    return fail(ErrorCode::protocol, "the downloaded file is not an MP4 (no ftyp box)",
                m_paths.part);
  }
  if (!flush()) {
    return fail(ErrorCode::io, "cannot write the download file: " + m_write_error, m_paths.part);
  }
  give_back(m_buffer);
  if (m_size >= k_early_writeback_bytes) {
    // The disk starts writing the rest of this file while we hash it (and the others of the
    // batch): the flush that follows then waits for less. A failure there shows again in it.
    ::sync_file_range(m_fd, m_writeback_from, 0, SYNC_FILE_RANGE_WRITE);  // 0: to the end
  }
  return checksum_of_file();
}

Result<std::string> VideoFile::checksum_of_file() const {
  if (m_checksum == Checksum::sha256) {
    return sha256_of_file(m_fd, m_paths.part, m_size);
  }
  // Nothing is read back, so the file's length is what shows a cut behind our back.
  struct stat st {};
  if (::fstat(m_fd, &st) != 0) {
    return fail(ErrorCode::io, "cannot stat the download file: " + errno_text(errno), m_paths.part);
  }
  if (st.st_size != m_size) {
    return cut_short(st.st_size, m_size, m_paths.part);
  }
  return std::string();
}

Result<FinishedVideo> VideoFile::place(std::string sha256) {
  // Renamed while still locked: once closed, the part file's name is free for another writer.
  if (::rename(m_paths.part.c_str(), m_paths.video.c_str()) != 0) {
    return fail(ErrorCode::io, "cannot rename the finished video: " + errno_text(errno),
                m_paths.video);
  }
  ::close(m_fd);
  m_fd = -1;
  FinishedVideo video;
  video.path = m_paths.video;
  video.bytes = m_size;
  video.sha256 = std::move(sha256);
  return video;
}

Status VideoFile::sync_all(const std::vector<VideoFile*>& files) {
  if (files.size() == 1) {  // its own fsync: no need to flush the whole filesystem
    if (::fsync(files[0]->m_fd) != 0) {
      return fail(ErrorCode::io, "cannot flush the video to disk: " + errno_text(errno),
                  files[0]->m_paths.part);
    }
    return {};
  }
  // One syncfs per filesystem writes every file's data and inode in one pass (merged I/O, one
  // drive flush) instead of three waits per file. An fdatasync of one file then flushes the
  // drive's cache once more: syncfs may write inode tables after its own flush (ext4 without a
  // journal), and the renames that follow must never reach the disk before the data.
  std::vector<std::pair<dev_t, int>> devices;  // first file's fd on each filesystem
  std::vector<std::string> folders;            // a folder's files share its filesystem
  for (VideoFile* file : files) {
    if (std::find(folders.begin(), folders.end(), file->folder()) != folders.end()) {
      continue;
    }
    folders.push_back(file->folder());
    struct stat st {};
    if (::fstat(file->m_fd, &st) != 0) {
      return fail(ErrorCode::io, "cannot stat the download file: " + errno_text(errno),
                  file->m_paths.part);
    }
    if (std::none_of(devices.begin(), devices.end(),
                     [&](const auto& device) { return device.first == st.st_dev; })) {
      devices.emplace_back(st.st_dev, file->m_fd);
    }
  }
  for (const auto& [device, fd] : devices) {
    if (::syncfs(fd) != 0 || ::fdatasync(fd) != 0) {
      return fail(ErrorCode::io, "cannot flush the videos to disk: " + errno_text(errno),
                  files.front()->m_paths.part);
    }
  }
  // syncfs reports any write error of the filesystem; this reports each file's own.
  for (VideoFile* file : files) {
    if (::sync_file_range(file->m_fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE) != 0) {
      return fail(ErrorCode::io, "cannot flush the video to disk: " + errno_text(errno),
                  file->m_paths.part);
    }
  }
  return {};
}

void VideoFile::discard() {
  m_buffered = 0;
  if (m_fd < 0) {
    return;  // renamed into place, or discarded already
  }
  ::unlink(m_paths.part.c_str());  // while locked: the name may be another writer's once closed
  ::close(m_fd);
  m_fd = -1;
}

Status write_file_atomically(const std::string& path, const std::string& content, bool durable) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    return fail(ErrorCode::io, "cannot create file: " + errno_text(errno), tmp);
  }
  std::size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(ErrorCode::io, "cannot write file: " + errno_text(err), tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  bool ok = !durable || ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail(ErrorCode::io, "cannot save file: " + errno_text(err), path);
  }
  if (durable) {
    sync_directory(path);
  }
  return {};
}

}  // namespace vb
