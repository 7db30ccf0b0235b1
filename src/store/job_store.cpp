// JobStore's factory: the backend is chosen by the location's form (a postgresql:// or
// postgres:// URL, else a SQLite file path), as ccache chooses its remote storage by scheme.
#include "store/job_store.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "store/pg_job_store.h"
#include "store/sqlite_job_store.h"

namespace vb {

bool JobStore::is_server_url(const std::string& location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string JobStore::display_location(const std::string& location) {
  if (!is_server_url(location)) {
    return location;
  }
  std::string shown = location;
  // scheme://user:password@host...: the password ends at the last '@' of the authority.
  const std::size_t authority = shown.find("://") + 3;
  const std::size_t authority_end = shown.find_first_of("/?", authority);
  const std::size_t at = shown.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority) {
    const std::size_t colon = shown.find(':', authority);
    if (colon != std::string::npos && colon < at) {
      shown.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ...?password=secret&...
  for (std::size_t key = shown.find("password="); key != std::string::npos;
       key = shown.find("password=", key + 1)) {
    const std::size_t start = key + 9;
    const std::size_t end = shown.find('&', start);
    shown.replace(start, (end == std::string::npos ? shown.size() : end) - start, "***");
  }
  return shown;
}

Result<std::unique_ptr<JobStore>> JobStore::open(const std::string& location, SyncMode sync) {
  if (is_server_url(location)) {
    return store_detail::open_pg_store(location, false);
  }
  return store_detail::open_sqlite_store(location, sync);
}

Result<std::unique_ptr<JobStore>> JobStore::open_for_reading(const std::string& location) {
  if (is_server_url(location)) {
    return store_detail::open_pg_store(location, true);
  }
  return store_detail::open_sqlite_for_reading(location);
}

Result<bool> JobStore::exists(const std::string& location) {
  if (is_server_url(location)) {
    return store_detail::pg_ledger_exists(location);
  }
  std::error_code error;
  return std::filesystem::exists(location, error);
}

Result<std::unique_ptr<LedgerLock>> JobStore::lock_exclusive(const std::string& location) {
  if (is_server_url(location)) {
    return store_detail::lock_pg_ledger(location);
  }
  return store_detail::lock_sqlite_ledger(location);
}

DeferredCommits::DeferredCommits(JobStore& store)
    : m_store(store), m_deferred(static_cast<bool>(store.defer_durability(true))) {}

DeferredCommits::~DeferredCommits() {
  if (!m_deferred) {
    return;
  }
  if (auto status = m_store.defer_durability(false); !status) {
    std::fprintf(stderr, "vidbatch: %s\n", status.error().describe().c_str());
    std::abort();
  }
}

}  // namespace vb
