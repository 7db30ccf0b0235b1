// [engine] RunEngine against FakeProvider, a dialect of its own with switchable capabilities
// (listing, downloads by id, thumbnails): what the engine does must follow what the dialect
// offers, not what the OpenAI format happens to have. Real JobStore on a temp SQLite file,
// FakeTransport and FakeClock.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/run_engine.h"
#include "store/job_store.h"
#include "support/fake_clock.h"
#include "support/fake_fs.h"
#include "support/fake_provider.h"
#include "support/fake_transport.h"
#include "support/test_ledger.h"

using namespace vb;
using namespace vb::fake;

namespace {

const char* const k_fake_base = "https://fake.test/api";

class QuietObserver final : public RunObserver {
 public:
  void on_transition(const JobRecord&, JobState, JobState, const std::string&, int) override {}
  void on_tick(const RunCounts&, Millis) override {}
  void on_notice(const Notice& notice) override { notices.push_back(notice.text); }
  std::vector<std::string> notices;
};

struct FakeDialectRun {
  explicit FakeDialectRun(FakeCapabilities caps)
      : server(clock, k_fake_base, caps), provider(k_fake_base, caps) {
    config.provider.base_url = k_fake_base;
    config.limits.max_in_flight = 4;
    config.limits.submits_per_minute = 6000;
    config.limits.polls_per_second = 1000;
    config.limits.poll_interval_ms = 1000;
    config.limits.poll_interval_max_ms = 2000;
    config.limits.poll_by_listing = false;
    config.retry.base_delay_ms = 100;
    config.output.root = dir.file("out");
    config.db_path = dir.file("ledger.db");
    auto s = JobStore::open(config.db_path, SyncMode::normal);
    REQUIRE(s.has_value());
    store = std::move(*s);
    net.set_budget(&stop, 100000);
    server.video = fake_mp4(700);
  }

  void import(int count) { import_numbered_jobs(*store, "b1", count, clock.now_ms()); }

  RunSummary run() {
    server.install(net);
    RunEngine engine(*store, provider, net, clock, config, observer);
    auto summary = engine.run(RunScope{}, stop);
    INFO((summary ? std::string() : summary.error().describe()));
    REQUIRE(summary.has_value());
    for (const auto& u : net.unscripted()) UNSCOPED_INFO("unscripted: " << u);
    CHECK(net.unscripted().empty());
    CHECK_FALSE(net.budget_exceeded());
    return *summary;
  }

  JobRecord job(const std::string& id) { return stored_job(*store, "b1", id); }
  std::string chain(const std::string& id) { return state_chain(*store, job(id).row_id); }

  std::size_t requests(const std::string& method, const std::string& url_part) const {
    return net.started(method, url_part).size();
  }

  ScratchDir dir;
  FakeClock clock;
  FakeTransport net{clock};
  FakeTaskServer server;
  FakeProvider provider;
  std::unique_ptr<JobStore> store;
  Config config;
  QuietObserver observer;
  std::atomic<int> stop{0};
};

FakeCapabilities capabilities(bool listing, bool by_id, bool thumbnails) {
  FakeCapabilities caps;
  caps.listing = listing;
  caps.downloads_by_id = by_id;
  caps.thumbnails = thumbnails;
  return caps;
}

}  // namespace

TEST_CASE("engine on a fake dialect: every set of capabilities takes each job to done once",
          "[engine]") {
  const bool listing = GENERATE(false, true);
  const bool by_id = GENERATE(false, true);
  const bool thumbnails = GENERATE(false, true);
  INFO("listing " << listing << ", downloads by id " << by_id << ", thumbnails " << thumbnails);
  FakeDialectRun r(capabilities(listing, by_id, thumbnails));
  r.config.output.thumbnails = true;
  r.import(6);
  RunSummary summary = r.run();
  CHECK(summary.counts.of(JobState::done) == 6);
  CHECK(r.server.creates() == 6);
  CHECK(r.requests("GET", ".mp4") == 6);
  // Thumbnails only where the dialect names them; no listing unless a create was lost.
  CHECK(r.requests("GET", ".jpg") == (thumbnails ? 6u : 0u));
  CHECK(r.requests("GET", "/tasks?") == 0);
  CHECK(slurp(r.job("job-3").output_path) == r.server.video);
}

TEST_CASE(
    "engine on a fake dialect: a lost create answer is adopted from the listing where the "
    "dialect lists, and held where it does not, never sent again",
    "[engine]") {
  const bool listing = GENERATE(false, true);
  INFO("listing " << listing);
  FakeDialectRun r(capabilities(listing, true, false));
  r.server.lose_create_answer(1);
  r.import(3);
  RunSummary summary = r.run();
  CHECK(r.server.creates() == 3);  // one create per job, whatever happened to its answer
  CHECK(r.requests("POST", "/tasks") == 3);
  if (listing) {
    CHECK(summary.counts.of(JobState::done) == 3);
    CHECK(r.requests("GET", "/tasks?") >= 1);
    CHECK(r.job("job-1").remote_id == "t_1");
    CHECK(r.chain("job-1").starts_with("queued>submitting>ambiguous>submitted"));
  } else {
    CHECK(summary.counts.of(JobState::done) == 2);
    CHECK(summary.counts.of(JobState::ambiguous) == 1);
    CHECK(r.job("job-1").state == JobState::ambiguous);
    CHECK(r.job("job-1").remote_id.empty());
    CHECK(r.requests("GET", "/tasks?") == 0);  // no listing asked of a dialect without one
  }
}

TEST_CASE(
    "engine on a fake dialect: resumed ready jobs skip the status query only when the "
    "dialect downloads by id",
    "[engine]") {
  const bool by_id = GENERATE(false, true);
  INFO("downloads by id " << by_id);
  FakeDialectRun r(capabilities(true, by_id, false));
  r.import(2);
  std::vector<Transition> moves;
  for (int i = 0; i < 2; ++i) {
    const std::string id = "t_old" + std::to_string(i);
    r.server.seed_task(id, "prompt " + std::to_string(i));
    const JobState path[] = {JobState::queued, JobState::submitting, JobState::submitted,
                             JobState::running, JobState::ready};
    for (int k = 0; k + 1 < 5; ++k) {
      Transition t;
      t.row_id = r.job("job-" + std::to_string(i)).row_id;
      t.from = path[k];
      t.to = path[k + 1];
      t.at = r.clock.now_ms();
      if (t.to == JobState::submitted) t.update.remote_id = id;
      moves.push_back(t);
    }
  }
  REQUIRE(r.store->apply(moves).has_value());
  RunSummary summary = r.run();
  CHECK(summary.counts.of(JobState::done) == 2);
  CHECK(r.server.creates() == 2);  // the two seeded tasks; nothing created
  CHECK(r.requests("POST", "/tasks") == 0);
  if (by_id) {
    CHECK(r.requests("GET", "/file") == 2);
    CHECK(r.requests("GET", ".mp4") == 0);
  } else {
    CHECK(r.requests("GET", "/file") == 0);
    CHECK(r.requests("GET", ".mp4") == 2);  // the URL the status query named
  }
}

TEST_CASE("engine on a fake dialect: a failed task fails its job with the dialect's code",
          "[engine]") {
  FakeDialectRun r(capabilities(false, false, false));
  r.server.fail_prompts("prompt 1", "moderation");
  r.import(3);
  RunSummary summary = r.run();
  CHECK(summary.counts.of(JobState::done) == 2);
  CHECK(summary.counts.of(JobState::failed) == 1);
  CHECK(r.job("job-1").state == JobState::failed);
  CHECK(r.job("job-1").error_code == "moderation");
}

TEST_CASE(
    "engine on a fake dialect: rate-limited listing pages are asked again, not taken for "
    "a provider without a listing",
    "[engine]") {
  FakeDialectRun r(capabilities(true, true, false));
  r.server.lose_create_answer(1);
  r.server.list_rate_limits = 8;  // more than the failures that give the listing up
  r.import(3);
  RunSummary summary = r.run();
  CHECK(r.server.creates() == 3);
  CHECK(summary.counts.of(JobState::done) == 3);
  CHECK(r.job("job-1").remote_id == "t_1");
  CHECK(r.requests("GET", "/tasks?") > 8);
  for (const auto& notice : r.observer.notices) {
    CHECK(notice.find("does not list") == std::string::npos);
  }
}
