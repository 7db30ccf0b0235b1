// Paid, unclaimed videos in the SQLite ledger (schema/005_unclaimed_videos.sql).
#include "store/row_reading.h"
#include "store/sqlite_job_store.h"
#include "store/sqlite_util.h"

namespace vb::store_detail {

Status SqliteJobStore::note_unclaimed(const std::vector<UnclaimedVideo>& videos) {
  if (videos.empty()) {
    return {};
  }
  return guard_sql(m_path, [&]() -> Status {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement upsert(*m_db, R"sql(
INSERT INTO unclaimed_videos (provider, remote_id, job_id, status, created_at, seen_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (provider, remote_id) DO UPDATE SET status = excluded.status, seen_at = excluded.seen_at
)sql");
    for (const auto& v : videos) {
      upsert.reset();
      upsert.bind(1, v.provider);
      upsert.bind(2, v.remote_id);
      upsert.bind(3, static_cast<std::int64_t>(v.job_row_id));
      upsert.bind(4, v.status);
      upsert.bind(5, static_cast<std::int64_t>(v.created_at));
      upsert.bind(6, static_cast<std::int64_t>(v.seen_at));
      upsert.exec();
    }
    transaction.commit();
    return {};
  });
}

Result<std::vector<UnclaimedVideo>> SqliteJobStore::unclaimed_videos(
    const std::optional<std::string>& batch) {
  return guard_sql(m_path, [&]() -> Result<std::vector<UnclaimedVideo>> {
    SQLite::Statement query(*m_db, R"sql(
SELECT u.provider, u.remote_id, u.job_id, u.status, u.created_at, u.seen_at, u.take_path,
       b.name, j.job_key, j.spec_json
FROM unclaimed_videos u JOIN jobs j ON j.id = u.job_id JOIN batches b ON b.id = j.batch_id
WHERE (?1 IS NULL OR b.name = ?1)
  AND NOT EXISTS (SELECT 1 FROM jobs c WHERE c.remote_id = u.remote_id)
ORDER BY u.created_at, u.id
)sql");
    if (batch) {
      query.bind(1, *batch);
    }
    std::vector<UnclaimedVideo> videos;
    while (query.executeStep()) {
      auto video = VB_TRY(read_unclaimed_row(SqliteRow(query)));
      videos.push_back(std::move(video));
    }
    return videos;
  });
}

Status SqliteJobStore::record_take(const std::string& provider, const std::string& remote_id,
                                   const std::string& path) {
  return guard_sql(m_path, [&]() -> Status {
    SQLite::Statement update(*m_db,
                             "UPDATE unclaimed_videos SET take_path = ?3 "
                             "WHERE provider = ?1 AND remote_id = ?2");
    update.bind(1, provider);
    update.bind(2, remote_id);
    update.bind(3, path);
    if (update.exec() == 0) {
      return std::unexpected(unknown_unclaimed(provider, remote_id, m_path));
    }
    return {};
  });
}

}  // namespace vb::store_detail
