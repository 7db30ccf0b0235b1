// [engine] reconcile(): what a listing proves about ambiguous creates. Pure, with FakeProvider's
// matching (same prompt).
#include <catch2/catch.hpp>

#include "engine/reconciler.h"
#include "support/fake_provider.h"

using namespace vb;

namespace {

AmbiguousCreate create(std::int64_t row, const std::string& prompt, Millis sent, Millis found) {
  AmbiguousCreate c;
  c.row_id = row;
  c.spec.prompt = prompt;
  c.sent_at = sent;
  c.found_at = found;
  return c;
}

RemoteVideo video(const std::string& id, const std::string& prompt, Millis created) {
  RemoteVideo v;
  v.id = id;
  v.prompt = prompt;
  v.created_at = created;
  return v;
}

ReconcileVerdict verdict_for(const AmbiguousCreate& job, const Listing& listing) {
  fake::FakeProvider provider("https://fake.test", {});
  ReconcileRules rules;
  rules.clock_skew_ms = 1000;
  rules.settle_ms = 5000;
  auto decisions = reconcile({job}, listing, {}, provider, rules);
  REQUIRE(decisions.size() == 1);
  return decisions[0].verdict;
}

}  // namespace

TEST_CASE("reconcile: a listed video with the job's parameters is adopted", "[engine]") {
  Listing listing{{video("v1", "a cat", 100'500)}, 0, 200'000};
  CHECK(verdict_for(create(1, "a cat", 100'000, 101'000), listing) == ReconcileVerdict::adopt);
}

TEST_CASE("reconcile: absence from a listing asked for late enough sends the job again",
          "[engine]") {
  Listing listing{{video("v9", "a dog", 100'500)}, 0, 106'000};
  CHECK(verdict_for(create(1, "a cat", 100'000, 101'000), listing) == ReconcileVerdict::resubmit);
}

TEST_CASE("reconcile: a listing asked for before the ambiguous answer came proves nothing",
          "[engine]") {
  // Pages of a sweep were in flight when the create's answer failed: the video may have been
  // registered after the listing was read.
  Listing listing{{}, 0, 106'000};
  CHECK(verdict_for(create(1, "a cat", 100'000, 107'000), listing) == ReconcileVerdict::wait);
}

TEST_CASE("reconcile: a listing asked for within settle_ms of the request proves nothing",
          "[engine]") {
  Listing listing{{}, 0, 104'000};
  CHECK(verdict_for(create(1, "a cat", 100'000, 101'000), listing) == ReconcileVerdict::wait);
}

TEST_CASE("reconcile: a listing that does not reach back to the request proves nothing",
          "[engine]") {
  Listing listing{{video("v9", "a dog", 100'500)}, 100'500, 200'000};
  CHECK(verdict_for(create(1, "a cat", 100'000, 101'000), listing) == ReconcileVerdict::wait);
}
