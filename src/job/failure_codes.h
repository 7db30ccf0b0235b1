// FailureCode: every `error_code` vidbatch itself writes in the ledger (jobs.error_code), shown
// in reports, `vidbatch jobs --json` and `status`. They are part of the interface: scripts match
// on them. docs/failure-codes.md explains each one and what to do.
//
// Besides these, a job's error_code may hold the provider's own word for a failed generation
// (e.g. "moderation_blocked"), passed through as the provider wrote it, "http_<status>" for a
// refusal the dialect did not name, "auth_<status>" for refused credentials, and the transport's
// failure names ("not_sent", "timeout", "connection_lost"...) while a retry is pending.
#pragma once

#include <string>

namespace vb::failure {

// Creates (and other paid requests).
inline constexpr const char* create_ambiguous = "create_ambiguous";  // may have started a video
inline constexpr const char* create_resent = "create_resent";        // left twice below vidbatch
inline constexpr const char* invalid_request = "invalid_request";    // could not be built
inline constexpr const char* insufficient_quota = "insufficient_quota";
// Chains and characters.
inline constexpr const char* parent_failed = "parent_failed";
inline constexpr const char* character_failed = "character_failed";
inline constexpr const char* character_unknown = "character_unknown";
inline constexpr const char* character_ambiguous = "character_ambiguous";
inline constexpr const char* character_resent = "character_resent";
// Generation, status and download.
inline constexpr const char* timeout = "timeout";  // limits.job_timeout_ms
// The provider no longer knows the job's id and its listing does not settle the job (ambiguous).
inline constexpr const char* task_lost = "task_lost";
inline constexpr const char* content_expired = "content_expired";
inline constexpr const char* disk_write_failed = "disk_write_failed";
inline constexpr const char* unreadable_answer = "unreadable_answer";
inline constexpr const char* download_unusable = "download_unusable";
// The saved video does not match its request and output.verify is "fail".
inline constexpr const char* verify_mismatch = "verify_mismatch";
// Any phase: failures that counted past retry.*_attempts and retry.give_up_after_ms.
inline constexpr const char* retries_exhausted = "retries_exhausted";

// "http_<status>": the provider refused the request with this status.
inline std::string http(int status) {
  return "http_" + std::to_string(status);
}
// "auth_<status>": the provider refused the credentials.
inline std::string auth(int status) {
  return "auth_" + std::to_string(status);
}

}  // namespace vb::failure
