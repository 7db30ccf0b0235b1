#include "audit/output_audit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "output/video_file.h"
#include "probe/video_probe.h"

namespace vb {

namespace {

void add(AuditFinding& finding, std::string code, std::string message) {
  finding.problems.push_back({std::move(code), std::move(message)});
}

// The size and the hash against the ledger's record; the descriptor stays open for the hash.
void check_bytes(const AuditTask& task, AuditFinding& finding) {
  const int fd = ::open(task.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) {
      add(finding, "missing", "the file is gone (deleted or moved since it was saved)");
    } else {
      add(finding, "unreadable", std::string("cannot open the file: ") + std::strerror(error));
    }
    return;
  }
  struct stat info {};
  const bool stated = ::fstat(fd, &info) == 0;
  if (!stated || !S_ISREG(info.st_mode)) {
    ::close(fd);
    add(finding, "not_a_file", "the path no longer names a regular file");
    return;
  }
  finding.bytes_on_disk = info.st_size;
  if (info.st_size != task.bytes) {
    const bool shorter = info.st_size < task.bytes;
    add(finding, "size_changed",
        "the file holds " + std::to_string(info.st_size) + " bytes, the ledger recorded " +
            std::to_string(task.bytes) + (shorter ? " (truncated since)" : " (changed since)"));
  } else if (!task.sha256.empty()) {
    auto sha256 = sha256_of_file(fd, task.path, task.bytes);
    finding.hashed = sha256.has_value();
    if (!sha256) {
      add(finding, "unreadable", sha256.error().message);
    } else if (*sha256 != task.sha256) {
      add(finding, "sha256_changed",
          "its content changed since it was saved (SHA-256 " + sha256->substr(0, 12) +
              "..., the ledger recorded " + task.sha256.substr(0, 12) + "...)");
    }
  }
  ::close(fd);
}

}  // namespace

bool AuditFinding::known_mismatch_only() const {
  if (problems.empty() || task == nullptr) {
    return false;
  }
  const std::string known = "," + task->recorded_verdict + ",";
  return std::all_of(problems.begin(), problems.end(), [&](const AuditProblem& p) {
    return known.find("," + p.code + ",") != std::string::npos;
  });
}

AuditFinding audit_file(const AuditTask& task) {
  AuditFinding finding;
  finding.task = &task;
  check_bytes(task, finding);
  if (finding.bytes_on_disk < 0 || !task.check_headers) {
    return finding;
  }
  const Result<VideoProbe> probe = probe_video(task.path);
  for (const Mismatch& mismatch : verify(task.expected, probe).mismatches) {
    add(finding, to_string(mismatch.code), mismatch.message);
  }
  return finding;
}

std::vector<AuditFinding> audit_files(const std::vector<AuditTask>& tasks, int threads) {
  std::vector<AuditFinding> findings(tasks.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t i = next++; i < tasks.size(); i = next++) {
      findings[i] = audit_file(tasks[i]);
    }
  };
  const auto helpers = static_cast<std::size_t>(std::max(threads, 1) - 1);
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < std::min(helpers, tasks.size()); ++t) {
    pool.emplace_back(work);
  }
  work();  // the calling thread is one of them
  for (auto& thread : pool) {
    thread.join();
  }
  return findings;
}

}  // namespace vb
