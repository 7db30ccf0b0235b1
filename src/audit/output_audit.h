// Output audit: the files of finished jobs checked again, long after their run, against what the
// ledger recorded and what their requests asked: the file is there, has the recorded size and
// SHA-256 (when one was stored), and its headers still match the request (src/probe). Finds the
// videos deleted, truncated or changed since. `vidbatch verify` prints the findings.
// audit_files() hashes and probes on several threads; it touches no ledger. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "probe/verify_rules.h"

namespace vb {

// One finished video as the ledger knows it.
struct AuditTask {
  std::string batch;
  std::string job_id;
  std::string path;              // output_path
  std::int64_t bytes = 0;        // recorded size
  std::string sha256;            // recorded hash; empty: none stored (output.checksum = "none")
  Expectation expected;          // what its request asked
  bool check_headers = true;     // compare the headers with `expected` (output.verify not "off")
  std::string recorded_verdict;  // the ledger's verify verdict ("" unchecked): a known mismatch
};

// What is off with one file: a code for scripts and a sentence for people.
//   missing, not_a_file, unreadable, size_changed, sha256_changed, and the verify mismatch codes
//   of probe/verify_rules.h (not_a_video, truncated, duration_short, resolution_mismatch...).
struct AuditProblem {
  std::string code;
  std::string message;
};

struct AuditFinding {
  const AuditTask* task = nullptr;     // into the tasks audited
  std::vector<AuditProblem> problems;  // empty: the file is as recorded and as asked
  std::int64_t bytes_on_disk = -1;     // -1: no file
  bool hashed = false;                 // its SHA-256 was computed and compared

  bool ok() const { return problems.empty(); }
  // Every problem is a mismatch the ledger already recorded at download (nothing changed since).
  bool known_mismatch_only() const;
};

// One file (the work of one thread).
AuditFinding audit_file(const AuditTask& task);

// Every task, on `threads` threads (at least 1); findings in the order of `tasks`.
std::vector<AuditFinding> audit_files(const std::vector<AuditTask>& tasks, int threads);

}  // namespace vb
