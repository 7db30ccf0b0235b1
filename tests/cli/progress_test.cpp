// [cli] The live progress display's pure part (ProgressBoard, format_batch_line)
// and the json log format, with fake time.
#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <cstdio>

#include "cli/cli_log.h"
#include "cli/progress.h"

using namespace vb;

namespace {

constexpr Millis k_t0 = 1'700'000'000'000;
constexpr Millis k_min = 60'000;

// A board with `count` queued jobs of batch "demo", started at k_t0.
ProgressBoard board_of(int count) {
  ProgressBoard board(k_t0);
  board.seed("demo", JobState::queued, count);
  return board;
}

// Moves one job of "demo" through the happy path to done at `at`.
void finish_one(ProgressBoard& board, Millis at) {
  const JobState path[] = {JobState::queued,  JobState::submitting, JobState::submitted,
                           JobState::running, JobState::ready,      JobState::downloading,
                           JobState::done};
  for (std::size_t i = 1; i < std::size(path); ++i) {
    board.apply("demo", path[i - 1], path[i], at);
  }
}

}  // namespace

TEST_CASE("format_duration picks the two largest units", "[cli]") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(42'999) == "42s");
  CHECK(format_duration(185'000) == "3m05s");
  CHECK(format_duration(2 * 3600'000 + 7 * k_min + 30'000) == "2h07m");
  CHECK(format_duration(3 * 86'400'000LL + 4 * 3600'000) == "3d04h");
  CHECK(format_duration(-5) == "0s");
}

TEST_CASE("the rate and ETA come from jobs finished in this run, not provider progress", "[cli]") {
  ProgressBoard board = board_of(40);
  CHECK_FALSE(board.rate_per_minute("demo", k_t0).has_value());
  // Jobs at the provider, however far along, give no ETA.
  board.apply("demo", JobState::queued, JobState::submitting, k_t0 + 1000);
  board.apply("demo", JobState::submitting, JobState::running, k_t0 + 2000);
  CHECK_FALSE(board.eta("demo", k_t0 + 30'000).has_value());

  // 4 jobs settle in the first 2 minutes (one of them failed): 2 per minute.
  board.apply("demo", JobState::running, JobState::failed, k_t0 + 40'000);
  for (int i = 0; i < 3; ++i) {
    finish_one(board, k_t0 + 60'000 + i * 10'000);
  }
  const Millis now = k_t0 + 2 * k_min;
  REQUIRE(board.rate_per_minute("demo", now).has_value());
  CHECK(*board.rate_per_minute("demo", now) == Approx(2.0));
  // 36 jobs left at 2 per minute.
  CHECK(board.eta("demo", now) == 18 * k_min);
  const auto& counts = board.counts("demo");
  CHECK(counts[static_cast<std::size_t>(JobState::done)] == 3);
  CHECK(counts[static_cast<std::size_t>(JobState::failed)] == 1);
  CHECK(counts[static_cast<std::size_t>(JobState::queued)] == 36);
}

TEST_CASE("the rate looks at the last ten minutes of the run only", "[cli]") {
  ProgressBoard board = board_of(100);
  for (int i = 0; i < 20; ++i) {
    finish_one(board, k_t0 + i * 1000);  // a burst in the first 20 s
  }
  CHECK(*board.rate_per_minute("demo", k_t0 + 5 * k_min) == Approx(4.0));  // 20 in 5 min
  // 30 minutes in, the burst has left the window: nothing finished lately.
  CHECK_FALSE(board.rate_per_minute("demo", k_t0 + 30 * k_min).has_value());
  CHECK_FALSE(board.eta("demo", k_t0 + 30 * k_min).has_value());
  finish_one(board, k_t0 + 29 * k_min);
  finish_one(board, k_t0 + 29 * k_min);
  CHECK(*board.rate_per_minute("demo", k_t0 + 30 * k_min) == Approx(0.2));  // 2 in 10 min
  CHECK(board.eta("demo", k_t0 + 30 * k_min) == 78 * 5 * k_min);            // 78 left
}

TEST_CASE("a job that goes back to the queue is not counted as finished twice", "[cli]") {
  ProgressBoard board = board_of(2);
  board.apply("demo", JobState::queued, JobState::submitting, k_t0 + 1);
  board.apply("demo", JobState::submitting, JobState::ambiguous, k_t0 + 2);
  board.apply("demo", JobState::ambiguous, JobState::queued, k_t0 + 3);  // reconciled: absent
  board.apply("demo", JobState::queued, JobState::submitting, k_t0 + 4);
  board.apply("demo", JobState::submitting, JobState::ambiguous, k_t0 + 5);
  board.apply("demo", JobState::ambiguous, JobState::submitted, k_t0 + 6);  // adopted
  CHECK(*board.rate_per_minute("demo", k_t0 + k_min) == Approx(2.0));       // two settlings
  const auto& counts = board.counts("demo");
  CHECK(counts[static_cast<std::size_t>(JobState::submitted)] == 1);
  CHECK(counts[static_cast<std::size_t>(JobState::ambiguous)] == 0);
}

TEST_CASE("redraws happen at most four times a second", "[cli]") {
  ProgressBoard board = board_of(1);
  int draws = 0;
  for (Millis t = 0; t < 2000; t += 10) {
    draws += board.redraw_due(k_t0 + t) ? 1 : 0;
  }
  CHECK(draws == 8);
}

TEST_CASE("a batch line shows done/total, states, rate and ETA, and fits the width", "[cli]") {
  BatchLineData d;
  d.batch = "spring-teasers";
  auto set = [&](JobState s, std::int64_t n) { d.counts[static_cast<std::size_t>(s)] = n; };
  set(JobState::queued, 20);
  set(JobState::running, 6);
  set(JobState::downloading, 2);
  set(JobState::done, 11);
  set(JobState::failed, 1);
  d.rate_per_minute = 3.25;
  d.eta = 8 * k_min + 45'000;

  std::string wide = format_batch_line(d, 200);
  CHECK(wide ==
        "spring-teasers [#########.....................] 11/40 | queued 20, at provider 6, "
        "downloading 2, failed 1 | 3.2/min ETA 8m45s");
  for (int width : {150, 120, 100, 79, 60, 40, 30, 20, 10, 5}) {
    INFO("width " << width);
    std::string line = format_batch_line(d, width);
    CHECK(static_cast<int>(line.size()) <= width);
    CHECK(line.find('\n') == std::string::npos);
    if (width >= 20) {
      CHECK_THAT(line, Catch::Contains("11/40"));
    }
  }
  CHECK_THAT(format_batch_line(d, 110), Catch::Contains("queued 20"));
  CHECK_THAT(format_batch_line(d, 79), Catch::Contains("ETA 8m45s"));
  CHECK(format_batch_line(d, 79).find("queued") == std::string::npos);  // counts dropped first
  CHECK(format_batch_line(d, 40) == "spring-teasers 11/40 | 3.2/min ETA 8m45s");

  d.rate_per_minute.reset();
  d.eta.reset();
  set(JobState::ambiguous, 2);
  CHECK_THAT(format_batch_line(d, 200), Catch::EndsWith("failed 1, ambiguous 2 | ETA --"));
}

TEST_CASE("past eight batches the rest share one line", "[cli]") {
  ProgressBoard board(k_t0);
  for (int i = 0; i < 12; ++i) {
    board.seed("b" + std::to_string(10 + i), JobState::queued, 3);
  }
  auto lines = board.lines(k_t0, 120);
  REQUIRE(lines.size() == ProgressBoard::k_max_lines);
  CHECK(lines.front().starts_with("b10 "));
  CHECK(lines.back().starts_with("5 more batches "));
  CHECK_THAT(lines.back(), Catch::Contains(" 0/15 "));
}

TEST_CASE("a json log event is one object with the fields that apply", "[cli]") {
  LogEvent e;
  e.level = LogLevel::error;
  e.event = "transition";
  e.batch = "demo";
  e.job = "cat \"surfing\"";
  e.from = JobState::running;
  e.to = JobState::failed;
  e.message = "moderation_blocked:\nblocked";
  e.http_status = 400;
  std::string line = format_json_event(e, k_t0);
  CHECK(line.find('\n') == std::string::npos);
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK(std::string(doc["ts"].GetString()) == "2023-11-14T22:13:20.000Z");
  CHECK(std::string(doc["level"].GetString()) == "error");
  CHECK(std::string(doc["job"].GetString()) == "cat \"surfing\"");
  CHECK(std::string(doc["from"].GetString()) == "running");
  CHECK(std::string(doc["to"].GetString()) == "failed");
  CHECK(doc["http_status"].GetInt() == 400);

  LogEvent notice;
  notice.event = "notice";
  notice.message = "interrupted";
  doc.Parse(format_json_event(notice, k_t0).c_str());
  REQUIRE_FALSE(doc.HasParseError());
  CHECK_FALSE(doc.HasMember("batch"));
  CHECK_FALSE(doc.HasMember("http_status"));
  CHECK(std::string(doc["level"].GetString()) == "info");
}

TEST_CASE("off a terminal, routine transition lines are held until a flush or a problem", "[cli]") {
  SystemClock clock;
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  auto written = [out] {
    std::fflush(out);
    std::string text(static_cast<std::size_t>(std::ftell(out)), '\0');
    std::rewind(out);
    std::size_t n = std::fread(text.data(), 1, text.size(), out);
    text.resize(n);
    std::fseek(out, 0, SEEK_END);
    return text;
  };
  {
    CliLog log(LogOptions{}, out, false, clock);
    LogEvent routine;
    routine.event = "transition";
    routine.text = "b/j1 queued -> submitting";
    log.write(routine);
    CHECK(written().empty());  // held: no write(2) per transition

    LogEvent failure = routine;
    failure.level = LogLevel::error;
    failure.text = "b/j2 running -> failed";
    log.write(failure);  // a problem goes out at once, after what was held, in order
    CHECK(written() == "b/j1 queued -> submitting\nb/j2 running -> failed\n");

    log.write(routine);
    log.flush();
    CHECK(written() ==
          "b/j1 queued -> submitting\nb/j2 running -> failed\n"
          "b/j1 queued -> submitting\n");
    log.write(routine);
  }  // and whatever is still held when the log ends
  CHECK(written() ==
        "b/j1 queued -> submitting\nb/j2 running -> failed\n"
        "b/j1 queued -> submitting\nb/j1 queued -> submitting\n");
  std::fclose(out);
}
