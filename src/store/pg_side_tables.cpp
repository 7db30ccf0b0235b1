// Characters and paid, unclaimed videos in the PostgreSQL ledger.
#include "store/pg_job_store.h"
#include "store/row_reading.h"

namespace vb::store_detail {

Status PgJobStore::import_characters(const std::vector<CharacterRecord>& characters, Millis now) {
  auto transaction = VB_TRY(PgTransaction::begin(*m_db));
  for (const CharacterRecord& c : characters) {
    // Inserted unless known; the row returned is the one the ledger holds either way.
    auto row =
        VB_TRY(m_db->exec(R"sql(
WITH ins AS (
  INSERT INTO characters (provider, name, video_path, state, created_at, updated_at)
  VALUES ($1, $2, $3, 'pending', $4, $4) ON CONFLICT (provider, name) DO NOTHING
  RETURNING video_path)
SELECT video_path FROM ins UNION ALL
SELECT video_path FROM characters WHERE provider = $1 AND name = $2)sql",
                          PgParams().add(c.provider).add(c.name).add(c.video_path).add(now)));
    if (row.rows() > 0 && row.text(0, 0) != c.video_path) {
      return std::unexpected(character_conflict(c, row.text(0, 0), location()));
    }
  }
  return transaction.commit();
}

Result<std::optional<CharacterRecord>> PgJobStore::find_character(const std::string& provider,
                                                                  const std::string& name) {
  auto row =
      VB_TRY(m_db->exec("SELECT video_path, state, remote_id, updated_at FROM characters "
                        "WHERE provider = $1 AND name = $2",
                        PgParams().add(provider).add(name)));
  if (row.rows() == 0) {
    return std::optional<CharacterRecord>();
  }
  const auto state = parse_character_state(row.text(0, 1));
  if (!state) {
    return fail(ErrorCode::database, "character '" + name + "' has an unknown state", location());
  }
  return CharacterRecord{provider, name, row.text(0, 0), *state, row.text(0, 2), row.int64(0, 3)};
}

Status PgJobStore::set_character_state(const std::string& provider, const std::string& name,
                                       CharacterState from, CharacterState to,
                                       const std::string& remote_id, Millis now) {
  auto updated =
      VB_TRY(m_db->exec("UPDATE characters SET state = $3, updated_at = $4, "
                        "remote_id = CASE WHEN $5 = '' THEN remote_id ELSE $5 END "
                        "WHERE provider = $1 AND name = $2 AND state = $6",
                        PgParams()
                            .add(provider)
                            .add(name)
                            .add(to_string(to))
                            .add(now)
                            .add(remote_id)
                            .add(to_string(from))));
  if (updated.affected() != 1) {
    return std::unexpected(character_state_conflict(name, from, location()));
  }
  return {};
}

Status PgJobStore::note_unclaimed(const std::vector<UnclaimedVideo>& videos) {
  if (videos.empty()) {
    return {};
  }
  auto transaction = VB_TRY(PgTransaction::begin(*m_db));
  for (const UnclaimedVideo& v : videos) {
    VB_TRY(m_db->exec(R"sql(
INSERT INTO unclaimed_videos (provider, remote_id, job_id, status, created_at, seen_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (provider, remote_id) DO UPDATE SET status = excluded.status, seen_at = excluded.seen_at
)sql",
                      PgParams()
                          .add(v.provider)
                          .add(v.remote_id)
                          .add(v.job_row_id)
                          .add(v.status)
                          .add(v.created_at)
                          .add(v.seen_at)));
  }
  return transaction.commit();
}

Result<std::vector<UnclaimedVideo>> PgJobStore::unclaimed_videos(
    const std::optional<std::string>& batch) {
  PgParams params;
  params.add(batch);
  auto rows = VB_TRY(m_db->exec(R"sql(
SELECT u.provider, u.remote_id, u.job_id, u.status, u.created_at, u.seen_at, u.take_path,
       b.name, j.job_key, j.spec_json
FROM unclaimed_videos u JOIN jobs j ON j.id = u.job_id JOIN batches b ON b.id = j.batch_id
WHERE ($1::text IS NULL OR b.name = $1)
  AND NOT EXISTS (SELECT 1 FROM jobs c WHERE c.remote_id = u.remote_id)
ORDER BY u.created_at, u.id
)sql",
                                params));
  std::vector<UnclaimedVideo> videos;
  for (int r = 0; r < rows.rows(); ++r) {
    auto video = VB_TRY(read_unclaimed_row(PgRow(rows, r)));
    videos.push_back(std::move(video));
  }
  return videos;
}

Status PgJobStore::record_take(const std::string& provider, const std::string& remote_id,
                               const std::string& path) {
  auto updated = VB_TRY(m_db->exec(
      "UPDATE unclaimed_videos SET take_path = $3 WHERE provider = $1 AND remote_id = $2",
      PgParams().add(provider).add(remote_id).add(path)));
  if (updated.affected() == 0) {
    return std::unexpected(unknown_unclaimed(provider, remote_id, location()));
  }
  return {};
}

}  // namespace vb::store_detail
