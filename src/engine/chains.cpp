// Derived jobs (remix_of, edit_of, extend_of) and their parents: a child is sent once its
// parent is done, waits while the parent is on its way, and fails when the parent failed.
#include "engine/run_parts.h"
#include "job/failure_codes.h"

namespace vb {

namespace {

std::string waiting_key(const std::string& batch, const std::string& job_id) {
  return batch + '\n' + job_id;
}

}  // namespace

ChainGate::ChainGate(RunCore& core, Submitter& submitter) : m_core(core), m_submitter(submitter) {
  m_core.on_terminal([this](const JobRecord& parent) { release(parent); });
}

// Whether `rec` may be sent now (with its parent's remote id).
Gate ChainGate::check(JobRecord& rec, CreateContext& context) {
  if (rec.spec.derived == DerivedKind::none) {
    return Gate::submit;
  }
  m_core.flush();  // the parent's latest transition may still be waiting
  auto parent = m_core.store().find_job(rec.batch, rec.spec.parent);
  if (!parent) {
    m_core.set_fatal(parent.error());
    return Gate::stop;
  }
  const JobState state = *parent ? (*parent)->state : JobState::failed;
  if (state == JobState::done && !(*parent)->remote_id.empty()) {
    context.parent_remote_id = (*parent)->remote_id;
    return Gate::submit;
  }
  if (state == JobState::failed || state == JobState::canceled || state == JobState::done) {
    fail_child(std::move(rec), *parent ? std::optional<JobRecord>(**parent) : std::nullopt);
  } else {
    m_waiting[waiting_key(rec.batch, rec.spec.parent)].push_back(std::move(rec));
  }
  return Gate::skipped;
}

void ChainGate::fail_child(JobRecord child, const std::optional<JobRecord>& parent) {
  std::string why = !parent ? "is not in the ledger"
                    : parent->state == JobState::done
                        ? "is done but has no remote id"
                        : std::string("ended ") + to_string(parent->state) +
                              (parent->error_code.empty() ? "" : " (" + parent->error_code + ")");
  const std::string message = std::string(to_string(child.spec.derived)) + ": parent job '" +
                              child.spec.parent + "' " + why;
  m_core.fail_job(m_core.admit(std::move(child)), failure::parent_failed, message);
}

void ChainGate::note_waiting() {
  std::size_t count = 0;
  const JobRecord* example = nullptr;
  for (const auto& [key, children] : m_waiting) {
    count += children.size();
    example = &children.front();
  }
  if (example != nullptr) {
    m_core.notice(NoticeKind::derived_waiting, example->batch + "/" + example->spec.id,
                  std::to_string(count) +
                      " derived job(s) stay queued: their parent is not "
                      "done (e.g. " +
                      example->batch + "/" + example->spec.id + " waits for " +
                      example->spec.parent + ")");
  }
}

void ChainGate::release(const JobRecord& parent) {
  if (m_waiting.empty()) {
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
      m_submitter.push_front(std::move(child));
    } else {
      fail_child(std::move(child), parent);
    }
  }
}

}  // namespace vb
