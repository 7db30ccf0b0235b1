// SqliteJobStore's deferred durability (JobStore::defer_durability, commit_syncer).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "store/sqlite_job_store.h"
#include "store/sqlite_util.h"

namespace vb::store_detail {

namespace {

// The ledger's write-ahead log: in WAL mode a commit only appends to it, so one fdatasync of
// it makes every commit so far durable, as synchronous = FULL does after each. Opened on the
// first sync; the connection that keeps it open also keeps SQLite from deleting it.
class WalFile {
 public:
  explicit WalFile(std::string path) : m_path(std::move(path)) {}
  ~WalFile() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  WalFile(const WalFile&) = delete;
  WalFile& operator=(const WalFile&) = delete;

  Status sync() {
    std::lock_guard lock(m_mutex);
    if (m_fd < 0) {
      m_fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (m_fd < 0) {
        return fail(ErrorCode::io,
                    std::string("cannot open the ledger's log to flush it: ") +
                        std::strerror(errno),
                    m_path);
      }
    }
    if (::fdatasync(m_fd) != 0) {
      return fail(ErrorCode::io,
                  std::string("cannot flush the ledger's log to disk: ") + std::strerror(errno) +
                      "; the last transitions may be lost in a power cut, check the disk",
                  m_path);
    }
    return {};
  }

 private:
  std::string m_path;
  std::mutex m_mutex;
  int m_fd = -1;
};

}  // namespace

// A deferred commit is one made with synchronous = NORMAL: in WAL mode the log is then synced
// only before a checkpoint, and the database stays consistent whatever is lost.
Status SqliteJobStore::defer_durability(bool defer) {
  if (m_sync != SyncMode::full || defer == m_deferring) {
    return {};
  }
  return guard_sql(m_path, [&]() -> Status {
    m_db->exec(sync_pragma(defer ? SyncMode::normal : SyncMode::full));
    m_deferring = defer;
    return {};
  });
}

std::function<Status()> SqliteJobStore::commit_syncer() {
  if (m_sync != SyncMode::full || m_path == ":memory:") {
    return {};
  }
  auto wal = std::make_shared<WalFile>(m_path + "-wal");
  return [wal] { return wal->sync(); };
}

}  // namespace vb::store_detail
