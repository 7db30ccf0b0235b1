// apply_update: JobUpdate's rule for an in-memory row (the SQL of the store is its twin).
#include "store/job_store.h"

namespace vb {

namespace {

template <typename T>
void set_if(T& field, const std::optional<T>& value) {
  if (value) {
    field = *value;
  }
}

}  // namespace

void apply_update(JobRecord& rec, const JobUpdate& update) {
  set_if(rec.remote_id, update.remote_id);
  if (update.progress) {
    rec.progress = update.progress;
  }
  set_if(rec.not_before, update.not_before);
  set_if(rec.submitted_at, update.submitted_at);
  set_if(rec.completed_at, update.completed_at);
  set_if(rec.downloaded_at, update.downloaded_at);
  set_if(rec.output_path, update.output_path);
  set_if(rec.bytes, update.bytes);
  set_if(rec.sha256, update.sha256);
  set_if(rec.error_code, update.error_code);
  set_if(rec.error_message, update.error_message);
  set_if(rec.download, update.download);
  rec.attempt += update.increment_attempt ? 1 : 0;
  rec.polls += update.add_polls;
  rec.retries += update.add_retries;
}

}  // namespace vb
