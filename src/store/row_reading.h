// Internal to src/store: one reading of a job or event row for both databases. `Row` is a
// small adapter over the current row of a query (SqliteRow, PgRow) with:
//   std::int64_t int64(int column); int integer(int); std::string text(int);
//   bool is_null(int); double real(int);
// Columns in the order of k_job_select / k_event_select (store/ledger_rules.h).
#pragma once

#include <string>

#include "store/job_store.h"

namespace vb::store_detail {

// Named in errors only: built when a row turns out bad, not for every row read.
inline std::string job_where(const JobRecord& job) {
  return "job " + job.batch + " row " + std::to_string(job.row_id);
}

inline Error unknown_state(const std::string& text, const std::string& where) {
  return Error{ErrorCode::database,
               "unknown job state '" + text + "' in the database (written by a newer vidbatch?)",
               where};
}

template <typename Row>
std::optional<double> optional_real(const Row& row, int column) {
  if (row.is_null(column)) {
    return std::nullopt;
  }
  return row.real(column);
}

// The video_checks columns of a job row (all NULL for a job never checked).
template <typename Row>
void read_check_row(const Row& row, VideoCheck& check) {
  constexpr int first = 19;
  if (row.is_null(first)) {
    return;
  }
  check.verdict = row.text(first);
  check.mismatches = row.text(first + 1);
  check.checked_at = row.int64(first + 2);
  check.probed = row.integer(first + 3) != 0;
  check.container = row.text(first + 4);
  check.has_video = row.integer(first + 5) != 0;
  check.video_codec = row.text(first + 6);
  check.duration_ms = row.int64(first + 7);
  check.width = row.integer(first + 8);
  check.height = row.integer(first + 9);
  check.frame_rate = row.real(first + 10);
  check.has_audio = row.integer(first + 11) != 0;
  check.audio_codec = row.text(first + 12);
}

// Fills `job` (a fresh record) from `row`; `location` names the ledger in errors.
template <typename Row>
Status read_job_row(const Row& row, const std::string& location, JobRecord& job) {
  job.row_id = row.int64(0);
  job.batch = row.text(1);
  auto spec = job_spec_from_json(row.text(2));
  if (!spec) {
    return fail(ErrorCode::database, "the stored spec of this job is not valid JSON: " + location,
                job_where(job));
  }
  job.spec = std::move(*spec);
  const std::string state_text = row.text(3);
  auto state = parse_job_state(state_text);
  if (!state) {
    return std::unexpected(unknown_state(state_text, job_where(job)));
  }
  job.state = *state;
  job.attempt = row.integer(4);
  job.remote_id = row.text(5);
  job.progress = optional_real(row, 6);
  job.not_before = row.int64(7);
  job.created_at = row.int64(8);
  job.submitted_at = row.int64(9);
  job.completed_at = row.int64(10);
  job.downloaded_at = row.int64(11);
  job.output_path = row.text(12);
  job.bytes = row.int64(13);
  job.sha256 = row.text(14);
  job.error_code = row.text(15);
  job.error_message = row.text(16);
  job.polls = row.integer(17);
  job.retries = row.integer(18);
  read_check_row(row, job.check);
  constexpr int url = 32;  // after the video_checks columns
  if (!row.is_null(url)) {
    job.download.url = row.text(url);
    job.download.expires_at = row.int64(url + 1);
    job.download.recorded_at = row.int64(url + 2);
  }
  return {};
}

template <typename Row>
Result<EventRecord> read_event_row(const Row& row) {
  EventRecord event;
  event.id = row.int64(0);
  event.job_row_id = row.int64(1);
  event.batch = row.text(2);
  event.job_id = row.text(3);
  event.at = row.int64(4);
  const std::string where = "event " + std::to_string(event.id);
  if (!row.is_null(5)) {
    const std::string from = row.text(5);
    auto state = parse_job_state(from);
    if (!state) {
      return std::unexpected(unknown_state(from, where));
    }
    event.from = *state;
  }
  const std::string to = row.text(6);
  auto state = parse_job_state(to);
  if (!state) {
    return std::unexpected(unknown_state(to, where));
  }
  event.to = *state;
  event.progress = optional_real(row, 7);
  event.http_status = row.integer(8);
  event.message = row.text(9);
  event.worker = row.text(10);
  return event;
}

// Columns: provider, remote_id, job_id, status, created_at, seen_at, take_path, batch name,
// job key, spec_json.
template <typename Row>
Result<UnclaimedVideo> read_unclaimed_row(const Row& row) {
  UnclaimedVideo v;
  v.provider = row.text(0);
  v.remote_id = row.text(1);
  v.job_row_id = row.int64(2);
  v.status = row.text(3);
  v.created_at = row.int64(4);
  v.seen_at = row.int64(5);
  v.take_path = row.text(6);
  v.batch = row.text(7);
  v.job_id = row.text(8);
  auto spec = job_spec_from_json(row.text(9));
  if (!spec) {
    return fail(ErrorCode::database, "the stored spec of a job is not valid JSON",
                "job " + v.batch + "/" + v.job_id);
  }
  v.spec = std::move(*spec);
  return v;
}

}  // namespace vb::store_detail
