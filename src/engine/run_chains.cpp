// Derived jobs (remix_of, edit_of, extend_of) and their parents: a child is sent once its
// parent is done, waits while the parent is on its way, and fails when the parent failed.
#include "engine/run_loop.h"
#include "job/failure_codes.h"

namespace vb {

std::string RunEngine::Loop::waiting_key(const std::string& batch, const std::string& job_id) {
  return batch + '\n' + job_id;
}

// Whether the queue's front job may be sent now (with its parent's remote id).
RunEngine::Loop::ParentGate RunEngine::Loop::gate_on_parent(CreateContext& context) {
  const JobRecord& rec = m_queue.front();
  if (rec.spec.derived == DerivedKind::none) {
    return ParentGate::submit;
  }
  flush();  // the parent's latest transition may still be waiting
  auto parent = m_e.m_store.find_job(rec.batch, rec.spec.parent);
  if (!parent) {
    set_fatal(parent.error());
    return ParentGate::stop;
  }
  const JobState state = *parent ? (*parent)->state : JobState::failed;
  if (state == JobState::done && !(*parent)->remote_id.empty()) {
    context.parent_remote_id = (*parent)->remote_id;
    return ParentGate::submit;
  }
  JobRecord child = std::move(m_queue.front());
  m_queue.pop_front();
  if (state == JobState::failed || state == JobState::canceled || state == JobState::done) {
    fail_child(std::move(child), *parent ? std::optional<JobRecord>(**parent) : std::nullopt);
  } else {
    m_waiting[waiting_key(child.batch, child.spec.parent)].push_back(std::move(child));
  }
  return ParentGate::skipped;
}

void RunEngine::Loop::fail_child(JobRecord child, const std::optional<JobRecord>& parent) {
  std::string why = !parent ? "is not in the ledger"
                    : parent->state == JobState::done
                        ? "is done but has no remote id"
                        : std::string("ended ") + to_string(parent->state) +
                              (parent->error_code.empty() ? "" : " (" + parent->error_code + ")");
  LiveJob& job = m_live[child.row_id];
  const std::string message = std::string(to_string(child.spec.derived)) + ": parent job '" +
                              child.spec.parent + "' " + why;
  job.rec = std::move(child);
  fail_job(job, failure::parent_failed, message);
}

void RunEngine::Loop::note_waiting_children() {
  std::size_t count = 0;
  const JobRecord* example = nullptr;
  for (const auto& [key, children] : m_waiting) {
    count += children.size();
    example = &children.front();
  }
  if (example != nullptr) {
    m_e.m_observer.on_notice(std::to_string(count) + " derived job(s) stay queued: their parent "
                             "is not done (e.g. " + example->batch + "/" + example->spec.id +
                             " waits for " + example->spec.parent + "); resume once it is");
  }
}

// Called on every transition: children waiting for this job go on or fail with it.
void RunEngine::Loop::release_children(const JobRecord& parent) {
  if (m_waiting.empty() || !is_terminal(parent.state)) {
    return;
  }
  auto it = m_waiting.find(waiting_key(parent.batch, parent.spec.id));
  if (it == m_waiting.end()) {
    return;
  }
  std::vector<JobRecord> children = std::move(it->second);
  m_waiting.erase(it);
  for (auto& child : children) {
    if (parent.state == JobState::done) {
      m_queue.push_front(std::move(child));
    } else {
      fail_child(std::move(child), parent);
    }
  }
}

}  // namespace vb
