// [store] characters and paid, unclaimed videos, on both ledgers (SQLite and PostgreSQL).
#include <algorithm>
#include <tuple>

#include "store/store_fixtures.h"

using namespace vb;
using namespace vb::store_test;

TEMPLATE_TEST_CASE("characters are created once per provider and name, by compare-and-set",
                   "[store]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  const std::vector<CharacterRecord> wanted =
      {{"sim", "ada", "/videos/ada.mp4", CharacterState::pending, "", 0},
       {"sim", "bob", "/videos/bob.mp4", CharacterState::pending, "", 0},
       {"other", "ada", "/videos/ada2.mp4", CharacterState::pending, "", 0}};
  REQUIRE(store->import_characters(wanted, 1000).has_value());
  REQUIRE(store->import_characters(wanted, 2000).has_value());  // known: left alone

  auto ada = store->find_character("sim", "ada");
  REQUIRE(ada.has_value());
  REQUIRE(ada->has_value());
  CHECK((*ada)->video_path == "/videos/ada.mp4");
  CHECK((*ada)->state == CharacterState::pending);
  CHECK((*ada)->updated_at == 1000);
  CHECK_FALSE(store->find_character("sim", "carol")->has_value());

  auto moved = store->set_character_state("sim", "ada", CharacterState::pending,
                                          CharacterState::creating, "", 3000);
  REQUIRE(moved.has_value());
  REQUIRE(store
              ->set_character_state("sim", "ada", CharacterState::creating, CharacterState::created,
                                    "char_123", 4000)
              .has_value());
  auto created = store->find_character("sim", "ada");
  CHECK((*created)->state == CharacterState::created);
  CHECK((*created)->remote_id == "char_123");
  CHECK((*created)->updated_at == 4000);
  auto stale = store->set_character_state("sim", "ada", CharacterState::pending,
                                          CharacterState::creating, "", 5000);
  REQUIRE_FALSE(stale.has_value());
  CHECK(stale.error().code == ErrorCode::conflict);
  CHECK_THAT(stale.error().message, Catch::Contains("no longer pending"));

  SECTION("the same name from another video is a conflict, and nothing is written") {
    const std::vector<CharacterRecord> changed = {{"sim", "dan", "/videos/dan.mp4",
                                                   CharacterState::pending, "", 0},
                                                  {"sim", "bob", "/videos/other.mp4",
                                                   CharacterState::pending, "", 0}};
    auto refused = store->import_characters(changed, 6000);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == ErrorCode::conflict);
    CHECK_THAT(refused.error().message,
               Catch::Contains("bob") && Catch::Contains("/videos/bob.mp4"));
    CHECK_FALSE(store->find_character("sim", "dan")->has_value());
  }
}

TEMPLATE_TEST_CASE("unclaimed videos are kept until a job claims them", "[store]", SqliteLedger,
                   PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  REQUIRE(store->import_jobs("a", make_specs(2), 1000, false).has_value());
  REQUIRE(store->import_jobs("b", make_specs(1), 1000, false).has_value());
  const auto a0 = row_of(*store, "a", "job-0");
  const auto b0 = row_of(*store, "b", "job-0");
  REQUIRE(store
              ->note_unclaimed({{"sim", "video_2", a0, "completed", 2000, 5000, "", "", "", {}},
                                {"sim", "video_1", b0, "in_progress", 1000, 5000, "", "", "", {}}})
              .has_value());
  // Seen again: status and seen_at move, the rest stays.
  REQUIRE(store->note_unclaimed({{"sim", "video_1", a0, "completed", 1, 6000, "", "", "", {}}})
              .has_value());

  auto all = store->unclaimed_videos(std::nullopt);
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].remote_id == "video_1");  // oldest first
  CHECK((*all)[0].status == "completed");
  CHECK((*all)[0].seen_at == 6000);
  CHECK((*all)[0].created_at == 1000);
  CHECK((*all)[0].job_row_id == b0);
  CHECK((*all)[0].batch == "b");
  CHECK((*all)[0].spec.prompt == "prompt number 0");
  CHECK(store->unclaimed_videos("a")->size() == 1);
  CHECK(store->unclaimed_videos("zzz")->empty());

  REQUIRE(store->record_take("sim", "video_2", "out/a/job-0.take2.mp4").has_value());
  CHECK(store->unclaimed_videos("a")->front().take_path == "out/a/job-0.take2.mp4");
  auto unknown = store->record_take("sim", "video_9", "x");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == ErrorCode::not_found);

  // A job adopts video_1: no longer unclaimed.
  Transition t = step(a0, JobState::queued, JobState::submitting);
  REQUIRE(store->apply({&t, 1}).has_value());
  t = step(a0, JobState::submitting, JobState::submitted);
  t.update.remote_id = "video_1";
  REQUIRE(store->apply({&t, 1}).has_value());
  CHECK(store->unclaimed_videos(std::nullopt)->size() == 1);
  CHECK(store->known_remote_ids({"video_9", "video_1", "video_2"}).value() ==
        std::vector<std::string>{"video_1"});
}

TEMPLATE_TEST_CASE("prompts, providers, last entry and events read alike on both ledgers",
                   "[store]", SqliteLedger, PgLedger) {
  TestType ledger;
  auto store = open_store(ledger.location());
  auto specs = make_specs(3);
  specs[1].provider = "kling";
  specs[2].prompt = "it's \"quoted\", {braced} and back\\slashed";
  REQUIRE(store->import_jobs("b", specs, 1000, false).has_value());
  auto found = store->jobs_with_prompts({specs[2].prompt, "prompt number 0", "absent"});
  REQUIRE(found.has_value());
  REQUIRE(found->size() == 2);
  CHECK(found->front().spec.id == "job-0");
  CHECK(found->back().spec.prompt == specs[2].prompt);

  auto providers = store->unfinished_providers();
  REQUIRE(providers.has_value());
  std::sort(providers->begin(), providers->end());
  CHECK(*providers == std::vector<std::string>{"", "kling"});

  const auto row = row_of(*store, "b", "job-1");
  for (auto [from, to, at] : {std::tuple{JobState::queued, JobState::canceled, Millis{2000}},
                              {JobState::canceled, JobState::queued, Millis{3000}},
                              {JobState::queued, JobState::canceled, Millis{4000}}}) {
    Transition t = step(row, from, to, at);
    REQUIRE(store->apply({&t, 1}).has_value());
  }
  CHECK(store->last_entered(row, JobState::canceled).value() == 4000);
  CHECK(store->last_entered(row, JobState::done).value() == 0);
  CHECK(store->unfinished_providers()->size() == 1);
  CHECK(store->batch_events("b")->size() == 6);
  CHECK(store->batch_events("nope")->empty());
  CHECK(store->events(row)->size() == 4);
}
