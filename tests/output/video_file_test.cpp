// [output] VideoFile: streaming into `.part`, hashing, checking, renaming; atomic writes.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "output/video_file.h"
#include "support/fake_fs.h"

using namespace vb;
using vb::fake::fake_mp4;
using vb::fake::reference_sha256;
using vb::fake::ScratchDir;
using vb::fake::slurp;
using vb::fake::spit;

namespace fs = std::filesystem;

namespace {

OutputPaths paths_in(const ScratchDir& dir, const std::string& name = "b/clip.mp4") {
  auto p = output_paths(OutputConfig{dir.file("out"), name}, "b", "clip");
  REQUIRE(p.has_value());
  return *p;
}

std::unique_ptr<VideoFile> open_file(const OutputPaths& paths,
                                     Checksum checksum = Checksum::sha256) {
  auto f = VideoFile::create(paths, checksum);
  INFO((f ? std::string() : f.error().describe()));
  REQUIRE(f.has_value());
  return std::move(*f);
}

bool put(VideoFile& f, const std::string& data) {
  return f.write(data.data(), data.size());
}

// As libcurl 7.88 hands a body over: 16 KiB at a time.
void put_in_chunks(VideoFile& f, const std::string& data) {
  for (std::size_t at = 0; at < data.size(); at += 16384) {
    REQUIRE(f.write(data.data() + at, std::min<std::size_t>(16384, data.size() - at)));
  }
}

bool can_reserve_blocks(const std::string& probe) {
  const int fd = ::open(probe.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  const bool ok = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096) == 0;
  ::close(fd);
  return ok;
}

// Pages of `path`'s first `bytes` that are dirty in the page cache (written, not yet on their
// way to disk), read from /proc/kpageflags through the page's frame number in
// /proc/self/pagemap. -1 where the kernel will not tell: frame numbers need root, and tmpfs
// pages never leave the page cache.
long dirty_pages(const std::string& path, std::size_t bytes) {
  struct statfs fs_info {};
  if (::statfs(path.c_str(), &fs_info) != 0 || fs_info.f_type == TMPFS_MAGIC) {
    return -1;
  }
  const int fd = ::open(path.c_str(), O_RDONLY);
  const int pagemap = ::open("/proc/self/pagemap", O_RDONLY);
  const int kpageflags = ::open("/proc/kpageflags", O_RDONLY);
  void* map = fd >= 0 ? ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  long dirty = (pagemap >= 0 && kpageflags >= 0 && map != MAP_FAILED) ? 0 : -1;
  for (std::size_t at = 0; dirty >= 0 && at < bytes; at += page) {
    const auto* address = static_cast<const volatile char*>(map) + at;
    (void)*address;  // maps the page-cache page
    std::uint64_t entry = 0;
    const off_t slot = static_cast<off_t>(reinterpret_cast<std::uintptr_t>(address) / page * 8);
    if (::pread(pagemap, &entry, 8, slot) != 8) {
      dirty = -1;
      break;
    }
    const std::uint64_t frame = entry & ((1ULL << 55) - 1);  // bits 0-54
    std::uint64_t flags = 0;
    if (frame == 0 || ::pread(kpageflags, &flags, 8, static_cast<off_t>(frame * 8)) != 8) {
      dirty = -1;
      break;
    }
    dirty += static_cast<long>((flags >> 4) & 1);  // KPF_DIRTY
  }
  if (map != MAP_FAILED) ::munmap(map, bytes);
  for (int open_fd : {fd, pagemap, kpageflags}) {
    if (open_fd >= 0) ::close(open_fd);
  }
  return dirty;
}

}  // namespace

TEST_CASE("video file: the reference hash matches the known vector", "[output]") {
  CHECK(reference_sha256("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(reference_sha256("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("video file: writes, hashes and renames into place", "[output]") {
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  auto f = open_file(paths);
  CHECK(fs::exists(paths.part));  // created with its folders
  CHECK_FALSE(fs::exists(paths.video));
  const std::string video = fake_mp4(100000);
  REQUIRE(f->begin(200, -1));
  // In uneven chunks, as a network delivers them.
  std::size_t at = 0;
  for (std::size_t chunk : {1u, 7u, 4096u, 16384u, 100000u}) {
    std::size_t n = std::min(chunk, video.size() - at);
    REQUIRE(f->write(video.data() + at, n));
    at += n;
  }
  REQUIRE(at == video.size());
  CHECK(f->size() == static_cast<std::int64_t>(video.size()));
  CHECK(f->write_error().empty());
  CHECK(f->head() == video.substr(0, 8));  // an MP4 keeps its signature only (read in 1 + 7)

  auto done = f->finish(static_cast<std::int64_t>(video.size()));
  INFO((done ? std::string() : done.error().describe()));
  REQUIRE(done.has_value());
  CHECK(done->path == paths.video);
  CHECK(done->bytes == static_cast<std::int64_t>(video.size()));
  CHECK(done->sha256 == reference_sha256(video));
  CHECK(slurp(paths.video) == video);
  CHECK_FALSE(fs::exists(paths.part));
}

TEST_CASE("video file: two writers of one video each rename their own file", "[output]") {
  // A worker stalled past its lease wakes up while another downloads the same job again.
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  auto stalled = open_file(paths);
  const std::string first = fake_mp4(600000);
  REQUIRE(stalled->begin(200, -1));
  REQUIRE(put(*stalled, first.substr(0, 400000)));  // past the write buffer: on disk
  const auto written = fs::file_size(stalled->paths().part);
  REQUIRE(written > 0);
  auto other = open_file(paths);
  CHECK(other->paths().part != stalled->paths().part);
  CHECK(other->paths().video == paths.video);
  CHECK(fs::file_size(stalled->paths().part) == written);  // not cut by the second writer

  const std::string second = fake_mp4(60000);
  REQUIRE(other->begin(200, -1));
  REQUIRE(put(*other, second));
  auto placed = other->finish(static_cast<std::int64_t>(second.size()));
  INFO((placed ? std::string() : placed.error().describe()));
  REQUIRE(placed.has_value());
  REQUIRE(put(*stalled, first.substr(400000)));
  auto late = stalled->finish(static_cast<std::int64_t>(first.size()));
  INFO((late ? std::string() : late.error().describe()));
  REQUIRE(late.has_value());  // its own part file is still there to rename
  CHECK(slurp(paths.video) == first);
  CHECK_FALSE(fs::exists(paths.part));
  CHECK_FALSE(fs::exists(other->paths().part));

  auto next = open_file(paths);  // both closed: the plain name is free again
  CHECK(next->paths().part == paths.part);
}

TEST_CASE("video file: gathered small chunks and direct large ones keep their order", "[output]") {
  // Chunks under 32 KiB are gathered (up to 128 KiB), larger ones are written as they come:
  // the file must hold the bytes in arrival order whatever the mix.
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  auto f = open_file(paths);
  const std::string video = fake_mp4(600000);
  REQUIRE(f->begin(200, -1));
  std::size_t at = 0;
  for (std::size_t chunk :
       {20000u, 40000u, 30000u, 30000u, 30000u, 30000u, 30000u, 200000u, 5u, 32768u, 32767u, 1u}) {
    REQUIRE(f->write(video.data() + at, chunk));
    at += chunk;
  }
  REQUIRE(f->write(video.data() + at, video.size() - at));
  auto done = f->finish(static_cast<std::int64_t>(video.size()));
  INFO((done ? std::string() : done.error().describe()));
  REQUIRE(done.has_value());
  CHECK(slurp(paths.video) == video);
  CHECK(done->sha256 == reference_sha256(video));
}

TEST_CASE("video file: unknown length (-1) is accepted", "[output]") {
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  auto f = open_file(paths);
  const std::string video = fake_mp4(10);
  REQUIRE(put(*f, video));
  auto done = f->finish(-1);
  REQUIRE(done.has_value());
  CHECK(done->sha256 == reference_sha256(video));
}

TEST_CASE("video file: finish refuses a length mismatch and keeps no final file", "[output]") {
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  auto f = open_file(paths);
  const std::string video = fake_mp4(76);  // 100 bytes
  REQUIRE(put(*f, video));
  for (std::int64_t expected : {200, 99, 0}) {
    INFO("expected " << expected);
    auto r = f->finish(expected);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::network);
    CHECK(r.error().message ==
          "truncated download: got 100 of " + std::to_string(expected) + " bytes");
    CHECK(r.error().where == paths.part);
    CHECK_FALSE(fs::exists(paths.video));
    CHECK(fs::exists(paths.part));  // kept for a Range resume
  }
  // The part file is still usable: the rest arrives and finish succeeds.
  const std::string more = "tail-bytes";
  REQUIRE(put(*f, more));
  auto r = f->finish(110);
  REQUIRE(r.has_value());
  CHECK(r->sha256 == reference_sha256(video + more));
  CHECK(slurp(paths.video) == video + more);
}

TEST_CASE("video file: finish refuses what is not an MP4", "[output]") {
  const std::string not_videos[] = {
      R"({"error":{"message":"Task is not completed yet"}})",
      "<html><body>AccessDenied</body></html>",
      std::string("\0\0\0\x18"
                  "ftzpisom",
                  12),
      std::string("ftypisom"),  // ftyp at offset 0, not 4
      std::string("\0\0\0\x18"
                  "fty",
                  7),  // too short
      "",
  };
  for (const std::string& body : not_videos) {
    INFO("body: " << body.substr(0, 40));
    ScratchDir dir;
    OutputPaths paths = paths_in(dir);
    auto f = open_file(paths);
    REQUIRE(put(*f, body));
    auto r = f->finish(static_cast<std::int64_t>(body.size()));
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::protocol);
    CHECK(r.error().message == "the downloaded file is not an MP4 (no ftyp box)");
    CHECK_FALSE(fs::exists(paths.video));
  }
}

TEST_CASE("video file: a failed finish never replaces an existing final file", "[output]") {
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  auto f = open_file(paths);
  spit(paths.video, "previous video");
  REQUIRE(put(*f, "garbage"));
  REQUIRE_FALSE(f->finish(7).has_value());
  CHECK(slurp(paths.video) == "previous video");
}

TEST_CASE("video file: a known length reserves the blocks, not the size", "[output]") {
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  auto f = open_file(paths);
  const std::string video = fake_mp4(1 << 20);
  REQUIRE(f->begin(200, static_cast<std::int64_t>(video.size())));
  struct stat st {};
  REQUIRE(::stat(paths.part.c_str(), &st) == 0);
  CHECK(st.st_size == 0);  // a reader of the part file sees what was written, no more
  if (can_reserve_blocks(dir.file("probe"))) {
    CHECK(st.st_blocks * 512 >= static_cast<std::int64_t>(video.size()));
  } else {
    WARN("the scratch filesystem has no fallocate: nothing reserved, nothing to check");
  }
  REQUIRE(put(*f, video.substr(0, 1000)));
  REQUIRE(f->begin(200, static_cast<std::int64_t>(video.size())));  // a server that ignored Range
  REQUIRE(put(*f, video));
  auto done = f->finish(static_cast<std::int64_t>(video.size()));
  REQUIRE(done.has_value());
  CHECK(done->sha256 == reference_sha256(video));
  CHECK(slurp(paths.video) == video);
}

TEST_CASE("video file: begin(200) after partial data restarts, begin(206) continues", "[output]") {
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  const std::string video = fake_mp4(5000);
  const std::string first = video.substr(0, 1234);
  const std::string rest = video.substr(1234);

  SECTION("206 continues after the bytes we have") {
    auto f = open_file(paths);
    REQUIRE(f->begin(200, -1));
    REQUIRE(put(*f, first));
    REQUIRE(f->begin(206, -1));
    CHECK(f->size() == 1234);
    REQUIRE(put(*f, rest));
    auto done = f->finish(static_cast<std::int64_t>(video.size()));
    REQUIRE(done.has_value());
    CHECK(done->sha256 == reference_sha256(video));
    CHECK(slurp(paths.video) == video);
  }
  SECTION("200 starts over: the server ignored our Range") {
    auto f = open_file(paths);
    REQUIRE(f->begin(200, -1));
    REQUIRE(put(*f, first));
    REQUIRE(f->begin(200, -1));
    CHECK(f->size() == 0);
    CHECK(f->head().empty());
    REQUIRE(put(*f, video));
    auto done = f->finish(static_cast<std::int64_t>(video.size()));
    REQUIRE(done.has_value());
    CHECK(done->bytes == static_cast<std::int64_t>(video.size()));
    CHECK(done->sha256 == reference_sha256(video));
    CHECK(slurp(paths.video) == video);
  }
  SECTION("begin(200) on an empty file is a no-op") {
    auto f = open_file(paths);
    REQUIRE(f->begin(200, -1));
    REQUIRE(f->begin(200, -1));
    REQUIRE(put(*f, video));
    CHECK(f->finish(static_cast<std::int64_t>(video.size())).has_value());
  }
}

TEST_CASE("video file: restart forgets everything written", "[output]") {
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  auto f = open_file(paths);
  REQUIRE(put(*f, R"({"url":"https://cdn.test/v.mp4"})"));
  CHECK(f->head() == R"({"url":"https://cdn.test/v.mp4"})");
  REQUIRE(f->restart().has_value());
  CHECK(f->size() == 0);
  CHECK(f->head().empty());
  CHECK(fs::file_size(paths.part) == 0);
  const std::string video = fake_mp4(300);
  REQUIRE(put(*f, video));
  auto done = f->finish(static_cast<std::int64_t>(video.size()));
  REQUIRE(done.has_value());
  CHECK(done->sha256 == reference_sha256(video));  // the hash restarted too
  CHECK(slurp(paths.video) == video);
}

TEST_CASE("video file: head keeps what is not an MP4, at most 64 KiB", "[output]") {
  ScratchDir dir;
  auto f = open_file(paths_in(dir));
  std::string body = R"({"url":"https://cdn.test/v.mp4","padding":")" + std::string(200000, 'x');
  REQUIRE(f->write(body.data(), 3));  // the signature arrives in pieces
  REQUIRE(f->write(body.data() + 3, body.size() - 3));
  CHECK(f->head().size() == 64 * 1024);
  CHECK(f->head() == body.substr(0, 64 * 1024));
}

TEST_CASE("video file: a part file cut short behind its back fails the finish", "[output]") {
  // Hashing reads the file back and meets its end; without a hash its length tells.
  for (Checksum checksum : {Checksum::sha256, Checksum::none}) {
    INFO("checksum " << static_cast<int>(checksum));
    ScratchDir dir;
    OutputPaths paths = paths_in(dir);
    auto f = open_file(paths, checksum);
    const std::string video = fake_mp4(300000);
    REQUIRE(put(*f, video));
    f->settle();
    fs::resize_file(paths.part, 1000);  // another program truncates it
    auto done = f->finish(static_cast<std::int64_t>(video.size()));
    REQUIRE_FALSE(done.has_value());
    CHECK(done.error().code == ErrorCode::io);
    CHECK_THAT(done.error().message,
               Catch::Contains("holds 1000 of the " + std::to_string(video.size()) +
                               " bytes written"));
    CHECK_FALSE(fs::exists(paths.video));
  }
}

TEST_CASE("video file: with Checksum::none nothing is hashed and the video is intact", "[output]") {
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  auto f = open_file(paths, Checksum::none);
  const std::string video = fake_mp4(600000);
  REQUIRE(f->begin(200, static_cast<std::int64_t>(video.size())));
  put_in_chunks(*f, video);
  auto done = f->finish(static_cast<std::int64_t>(video.size()));
  INFO((done ? std::string() : done.error().describe()));
  REQUIRE(done.has_value());
  CHECK(done->sha256.empty());
  CHECK(done->bytes == static_cast<std::int64_t>(video.size()));
  CHECK(slurp(paths.video) == video);
}

TEST_CASE("video file: a download starts the writeback of each 256 KiB as it arrives", "[output]") {
  // Without it every byte stays dirty until the file is sealed, and the flush before `done`
  // waits for the whole file (bench part 2: +28% download phase without hashing, +6% with).
  // 16 KiB chunks are gathered (libcurl 7.88's size); 64 KiB ones are written directly.
  for (std::size_t chunk : {16384u, 65536u}) {
    INFO("chunks of " << chunk);
    ScratchDir dir;
    OutputPaths paths = paths_in(dir);
    auto f = open_file(paths);
    const std::string video = fake_mp4(1100 * 1024);
    REQUIRE(f->begin(200, static_cast<std::int64_t>(video.size())));
    for (std::size_t at = 0; at < video.size(); at += chunk) {
      REQUIRE(f->write(video.data() + at, std::min(chunk, video.size() - at)));
    }
    // At least the first 1 MiB is in the file (gathered: the last 76 KiB may still be in the
    // buffer), so four 256 KiB steps have had their writeback started.
    const long dirty = dirty_pages(paths.part, 1024 * 1024);
    if (dirty < 0) {
      WARN("page flags unreadable here (not root, or tmpfs): writeback not checked");
    } else {
      CHECK(dirty == 0);
    }
    auto done = f->finish(static_cast<std::int64_t>(video.size()));
    REQUIRE(done.has_value());
    CHECK(slurp(paths.video) == video);
  }
}

TEST_CASE("video file: an MP4 body keeps only its signature in head", "[output]") {
  ScratchDir dir;
  auto f = open_file(paths_in(dir));
  const std::string video = fake_mp4(200000);
  REQUIRE(put(*f, video.substr(0, 5)));
  CHECK(f->head() == video.substr(0, 5));
  REQUIRE(put(*f, video.substr(5)));
  CHECK(f->head() == video.substr(0, 8));
  auto done = f->finish(static_cast<std::int64_t>(video.size()));
  REQUIRE(done.has_value());
  CHECK(done->sha256 == reference_sha256(video));
}

TEST_CASE("video file: create truncates a stale part file, discard deletes it", "[output]") {
  ScratchDir dir;
  OutputPaths paths = paths_in(dir);
  fs::create_directories(fs::path(paths.part).parent_path());
  spit(paths.part, "stale bytes from a crash");
  auto f = open_file(paths);
  CHECK(f->size() == 0);
  CHECK(fs::file_size(paths.part) == 0);
  REQUIRE(put(*f, "abc"));
  f->discard();
  CHECK_FALSE(fs::exists(paths.part));
  CHECK_FALSE(fs::exists(paths.video));
}

TEST_CASE("video file: create fails with an io error when the folder cannot exist", "[output]") {
  ScratchDir dir;
  spit(dir.file("blocker"), "a file where a folder should be");
  OutputPaths paths;
  paths.video = dir.file("blocker/clip.mp4");
  paths.part = paths.video + ".part";
  paths.sidecar = dir.file("blocker/clip.json");
  auto f = VideoFile::create(paths);
  REQUIRE_FALSE(f.has_value());
  CHECK(f.error().code == ErrorCode::io);
  CHECK(f.error().where == paths.part);
}

TEST_CASE("write_file_atomically", "[output]") {
  ScratchDir dir;
  const std::string path = dir.file("clip.json");
  REQUIRE(write_file_atomically(path, R"({"a":1})").has_value());
  CHECK(slurp(path) == R"({"a":1})");
  REQUIRE(write_file_atomically(path, "second").has_value());
  CHECK(slurp(path) == "second");
  REQUIRE(write_file_atomically(path, "").has_value());
  CHECK(slurp(path).empty());
  CHECK(fs::exists(path));
  CHECK_FALSE(fs::exists(path + ".tmp"));

  auto bad = write_file_atomically(dir.file("missing/clip.json"), "x");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == ErrorCode::io);
  CHECK(bad.error().message == "cannot create file: No such file or directory");
  CHECK(bad.error().where == dir.file("missing/clip.json.tmp"));
  CHECK_FALSE(fs::exists(dir.file("missing")));
}
