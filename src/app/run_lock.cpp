#include "app/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace vb {

Result<std::unique_ptr<RunLock>> RunLock::acquire(const std::string& db_path) {
  std::string path = db_path + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    return fail(ErrorCode::io, std::string("cannot open the lock file: ") + std::strerror(errno),
                path);
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail(ErrorCode::busy,
                "another vidbatch process is already running on this database; wait for it "
                "or stop it (it keeps its place: `vidbatch resume` continues later)",
                db_path);
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::write(fd, pid.data(), pid.size());
    (void)ignored;  // the pid is informational only
  }
  return std::unique_ptr<RunLock>(new RunLock(fd));
}

RunLock::~RunLock() {
  ::close(m_fd);  // releases the lock
}

}  // namespace vb
