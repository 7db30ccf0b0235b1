// [output] Finishing several videos together: seal, one flush for all, publish; FinishPool.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "output/finish_pool.h"
#include "simulator/mp4_writer.h"
#include "support/fake_fs.h"

using namespace vb;
using vb::fake::fake_mp4;
using vb::fake::reference_sha256;
using vb::fake::ScratchDir;
using vb::fake::slurp;

namespace fs = std::filesystem;

namespace {

OutputPaths clip_paths(const ScratchDir& dir, int i) {
  auto p = output_paths(OutputConfig{dir.file("out"), "{batch}/{id}.mp4"}, "b",
                        "clip-" + std::to_string(i));
  REQUIRE(p.has_value());
  return *p;
}

std::unique_ptr<VideoFile> written_file(const OutputPaths& paths, const std::string& bytes) {
  auto f = VideoFile::create(paths);
  REQUIRE(f.has_value());
  REQUIRE((*f)->write(bytes.data(), bytes.size()));
  return std::move(*f);
}

}  // namespace

TEST_CASE("video file: seal, sync_all and place finish several files with one flush", "[output]") {
  ScratchDir dir;
  std::vector<std::unique_ptr<VideoFile>> files;
  std::vector<std::string> videos;
  for (int i = 0; i < 3; ++i) {
    videos.push_back(fake_mp4(1000 + 70000 * i));
    files.push_back(written_file(clip_paths(dir, i), videos.back()));
  }
  std::vector<std::string> hashes;
  for (auto& f : files) {
    auto sha256 = f->seal(f->size());
    REQUIRE(sha256.has_value());
    hashes.push_back(*sha256);
  }
  CHECK_FALSE(fs::exists(clip_paths(dir, 0).video));  // sealed is not published
  REQUIRE(VideoFile::sync_all({files[0].get(), files[1].get(), files[2].get()}).has_value());
  DirectorySync folders;
  for (int i = 0; i < 3; ++i) {
    auto done = files[i]->place(hashes[i]);
    REQUIRE(done.has_value());
    folders.sync(files[i]->folder());
    CHECK(done->sha256 == reference_sha256(videos[i]));
    CHECK(done->bytes == static_cast<std::int64_t>(videos[i].size()));
    CHECK(slurp(clip_paths(dir, i).video) == videos[i]);
    CHECK_FALSE(fs::exists(clip_paths(dir, i).part));
  }
}

TEST_CASE(
    "finish pool: every queued video is finished, hashed, with its sidecar; a bad one is handed "
    "back",
    "[output]") {
  ScratchDir dir;
  std::atomic<int> wakes{0};
  // One worker hashes and flushes in turn; two hash at once while one of them flushes.
  const int workers = GENERATE(1, 2);
  INFO(workers << " worker(s)");
  FinishPool pool(workers, [&] { wakes += 1; });
  constexpr int k_files = 40;
  std::vector<std::string> videos;
  for (int i = 0; i < k_files; ++i) {
    // File 7 is not an MP4: its failure must not hold back the others sharing its flush.
    videos.push_back(i == 7 ? std::string(5000, 'x') : fake_mp4(20000 + i));
    OutputPaths paths = clip_paths(dir, i);
    FinishTask task;
    task.row_id = i;
    task.file = written_file(paths, videos.back());
    task.expected_bytes = static_cast<std::int64_t>(videos.back().size());
    task.sidecar_path = paths.sidecar;
    task.sidecar = [](const FinishedVideo& v) { return "{\"sha256\":\"" + v.sha256 + "\"}"; };
    pool.submit(std::move(task));
  }
  std::vector<FinishOutcome> outcomes;
  for (int spins = 0; outcomes.size() < k_files && spins < 3000; ++spins) {
    for (auto& o : pool.take_done()) {
      outcomes.push_back(std::move(o));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(outcomes.size() == k_files);
  CHECK(pool.pending() == 0);
  CHECK(wakes.load() >= 1);
  for (auto& o : outcomes) {
    const int i = static_cast<int>(o.row_id);
    INFO("file " << i);
    OutputPaths paths = clip_paths(dir, i);
    if (i == 7) {
      REQUIRE_FALSE(o.video.has_value());
      CHECK(o.video.error().code == ErrorCode::protocol);
      REQUIRE(o.file != nullptr);  // handed back for a retry
      CHECK(fs::exists(paths.part));
      CHECK_FALSE(fs::exists(paths.video));
      continue;
    }
    REQUIRE(o.video.has_value());
    CHECK(o.video->sha256 == reference_sha256(videos[i]));
    CHECK(slurp(paths.video) == videos[i]);
    CHECK(slurp(paths.sidecar) == "{\"sha256\":\"" + reference_sha256(videos[i]) + "\"}");
    CHECK(o.sidecar_error.empty());
  }
}

TEST_CASE("finish pool: each video asked to be checked is probed before its sidecar is written",
          "[output][probe]") {
  ScratchDir dir;
  FinishPool pool(2, [] {});
  const Expectation expected = expectation_for(8, Orientation::landscape, "1280x720");
  struct Case {
    std::string bytes;
    bool check;
    std::string verdict;
  };
  const std::vector<Case> cases = {
      {sim::write_mp4({1280, 720, 8000, true}, 70000, 1), true, "ok"},
      {sim::write_mp4({1280, 720, 4000, true}, 70000, 2), true, "duration_short"},
      {sim::write_mp4({640, 360, 8000, true}, 70000, 3), true, "resolution_mismatch"},
      {sim::write_not_a_video(70000, 4), true, "not_a_video"},
      {sim::write_mp4({640, 360, 4000, true}, 70000, 5), false, ""},  // output.verify = "off"
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    OutputPaths paths = clip_paths(dir, static_cast<int>(i));
    FinishTask task;
    task.row_id = static_cast<std::int64_t>(i);
    task.file = written_file(paths, cases[i].bytes);
    task.expected_bytes = static_cast<std::int64_t>(cases[i].bytes.size());
    if (cases[i].check) {
      task.expected = expected;
      task.checked_at = 1234;
    }
    task.sidecar_path = paths.sidecar;
    task.sidecar = [](const FinishedVideo& v) { return to_json(v.check); };
    pool.submit(std::move(task));
  }
  pool.hurry();
  std::vector<FinishOutcome> outcomes;
  for (int spins = 0; outcomes.size() < cases.size() && spins < 3000; ++spins) {
    for (auto& o : pool.take_done()) {
      outcomes.push_back(std::move(o));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(outcomes.size() == cases.size());
  for (auto& o : outcomes) {
    const Case& c = cases[static_cast<std::size_t>(o.row_id)];
    INFO("file " << o.row_id);
    REQUIRE(o.video.has_value());  // a mismatch never stops the file being saved
    CHECK(o.video->check.verdict == c.verdict);
    const std::string sidecar = slurp(clip_paths(dir, static_cast<int>(o.row_id)).sidecar);
    if (!c.check) {
      CHECK(sidecar == "null");
      continue;
    }
    CHECK(o.video->check.checked_at == 1234);
    CHECK_THAT(sidecar, Catch::Contains("\"verdict\":\"" + c.verdict + "\""));
    if (c.verdict == "not_a_video") {
      CHECK_FALSE(o.video->check.probed);
      // Named by its final path, not the part file the probe read.
      CHECK_THAT(o.video->check.mismatches, Catch::StartsWith(o.video->path + ": not a video"));
    } else {
      CHECK(o.video->check.probed);
      CHECK(o.video->check.video_codec == "h264");
    }
  }
}

TEST_CASE("finish pool: files still queued when the pool closes are finished before it joins",
          "[output]") {
  ScratchDir dir;
  constexpr int k_files = 30;
  std::vector<std::string> videos;
  const int workers = GENERATE(1, 2);
  INFO(workers << " worker(s)");
  {
    FinishPool pool(workers, [] {});
    for (int i = 0; i < k_files; ++i) {
      videos.push_back(fake_mp4(30000 + i));
      FinishTask task;
      task.row_id = i;
      task.file = written_file(clip_paths(dir, i), videos.back());
      task.expected_bytes = static_cast<std::int64_t>(videos.back().size());
      pool.submit(std::move(task));
    }
    // Closes at once: most files are still waiting to be hashed or for their 10 ms gather.
  }
  for (int i = 0; i < k_files; ++i) {
    INFO("file " << i);
    CHECK(slurp(clip_paths(dir, i).video) == videos[i]);
    CHECK_FALSE(fs::exists(clip_paths(dir, i).part));
  }
}

TEST_CASE("finish pool: hurry() flushes what was submitted without waiting out the gather time",
          "[output]") {
  ScratchDir dir;
  const int workers = GENERATE(1, 2);
  INFO(workers << " worker(s)");
  // A gather time no test waits out: a flush before close comes only from hurry().
  FinishPool pool(
      workers, [] {}, std::chrono::hours(1));
  auto submit = [&](int i) {
    FinishTask task;
    task.row_id = i;
    task.file = written_file(clip_paths(dir, i), fake_mp4(40000 + i));
    task.expected_bytes = task.file->size();
    pool.submit(std::move(task));
  };
  auto collect = [&](std::size_t want, std::chrono::milliseconds limit) {
    std::vector<FinishOutcome> got;
    for (auto waited = std::chrono::milliseconds(0); got.size() < want && waited < limit;
         waited += std::chrono::milliseconds(5)) {
      for (auto& o : pool.take_done()) {
        got.push_back(std::move(o));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return got;
  };
  for (int i = 0; i < 3; ++i) {
    submit(i);
  }
  CHECK(collect(1, std::chrono::milliseconds(300)).empty());  // gathering, none published
  CHECK_FALSE(fs::exists(clip_paths(dir, 0).video));

  pool.hurry();
  auto outcomes = collect(3, std::chrono::seconds(20));
  REQUIRE(outcomes.size() == 3);
  for (auto& o : outcomes) {
    CHECK(o.video.has_value());
  }

  // A later submit gathers again: hurry() lasts until the next file.
  submit(3);
  CHECK(collect(1, std::chrono::milliseconds(300)).empty());
  pool.hurry();
  CHECK(collect(1, std::chrono::seconds(20)).size() == 1);
}

namespace {

// Nice values of this process's threads other than the caller, from /proc/self/task/*/stat.
std::vector<int> other_threads_nice() {
  std::vector<int> nice;
  const std::string self = std::to_string(::gettid());
  for (const auto& task : fs::directory_iterator("/proc/self/task")) {
    if (task.path().filename() == self) {
      continue;
    }
    std::string stat = slurp(task.path() / "stat");
    const auto end_of_name = stat.rfind(')');
    if (end_of_name == std::string::npos) {
      continue;
    }
    std::istringstream fields(stat.substr(end_of_name + 2));
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i) {  // field 19 is the nice value
    }
    nice.push_back(std::stoi(field));
  }
  return nice;
}

}  // namespace

TEST_CASE("finish pool: the workers run at a lower priority than the thread that made them",
          "[output]") {
  const int base = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  if (base >= 19) {
    WARN("already at nice 19: nothing lower to check");
    return;
  }
  const int expected = std::min(base + 10, 19);
  FinishPool pool(2, [] {});
  int lowered = 0;
  for (int spins = 0; spins < 1000 && lowered < 2; ++spins) {  // each worker lowers itself
    const auto nice = other_threads_nice();
    lowered = static_cast<int>(std::count(nice.begin(), nice.end(), expected));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(lowered == 2);
}
