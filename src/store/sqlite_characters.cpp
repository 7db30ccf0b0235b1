// The characters table of the SQLite ledger (schema/004_characters.sql).
#include "store/sqlite_job_store.h"
#include "store/sqlite_util.h"

namespace vb::store_detail {

Status SqliteJobStore::import_characters(const std::vector<CharacterRecord>& characters,
                                         Millis now) {
  return guard_sql(m_path, [&]() -> Status {
    SQLite::Transaction transaction(*m_db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement find(*m_db,
                           "SELECT video_path FROM characters WHERE provider = ?1 AND name = ?2");
    SQLite::Statement insert(*m_db,
                             "INSERT INTO characters (provider, name, video_path, state, "
                             "created_at, updated_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?4)");
    for (const auto& c : characters) {
      find.reset();
      find.bind(1, c.provider);
      find.bind(2, c.name);
      if (find.executeStep()) {
        const std::string known = find.getColumn(0).getString();
        if (known != c.video_path) {
          return std::unexpected(character_conflict(c, known, m_path));
        }
        continue;
      }
      insert.reset();
      insert.bind(1, c.provider);
      insert.bind(2, c.name);
      insert.bind(3, c.video_path);
      insert.bind(4, static_cast<std::int64_t>(now));
      insert.exec();
    }
    transaction.commit();
    return {};
  });
}

Result<std::optional<CharacterRecord>> SqliteJobStore::find_character(const std::string& provider,
                                                                      const std::string& name) {
  return guard_sql(m_path, [&]() -> Result<std::optional<CharacterRecord>> {
    SQLite::Statement query(*m_db,
                            "SELECT video_path, state, remote_id, updated_at FROM characters "
                            "WHERE provider = ?1 AND name = ?2");
    query.bind(1, provider);
    query.bind(2, name);
    if (!query.executeStep()) {
      return std::optional<CharacterRecord>();
    }
    const auto state = parse_character_state(query.getColumn(1).getString());
    if (!state) {
      return fail(ErrorCode::database, "character '" + name + "' has an unknown state", m_path);
    }
    return CharacterRecord{provider,
                           name,
                           query.getColumn(0).getString(),
                           *state,
                           query.getColumn(2).getString(),
                           query.getColumn(3).getInt64()};
  });
}

Status SqliteJobStore::set_character_state(const std::string& provider, const std::string& name,
                                           CharacterState from, CharacterState to,
                                           const std::string& remote_id, Millis now) {
  return guard_sql(m_path, [&]() -> Status {
    SQLite::Statement update(*m_db,
                             "UPDATE characters SET state = ?3, updated_at = ?4, "
                             "remote_id = CASE WHEN ?5 = '' THEN remote_id ELSE ?5 END "
                             "WHERE provider = ?1 AND name = ?2 AND state = ?6");
    update.bind(1, provider);
    update.bind(2, name);
    update.bind(3, to_string(to));
    update.bind(4, static_cast<std::int64_t>(now));
    update.bind(5, remote_id);
    update.bind(6, to_string(from));
    if (update.exec() != 1) {
      return std::unexpected(character_state_conflict(name, from, m_path));
    }
    return {};
  });
}

}  // namespace vb::store_detail
