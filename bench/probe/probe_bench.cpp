// vidbatch-probe-bench: how fast probe_video reads finished videos.
//   1. one probe of a 1 MiB and of a 50 MiB video (median of 200 probes each): the cost per
//      download, which must not depend on the file's length (only the headers are read);
//   2. FILES probes of FILES different videos (the simulator's MP4s, 4-25 s, every size): first
//      with the files evicted from the page cache (a tree written long ago), then warm (right
//      after a run) on 1 and on THREADS threads: files/s, what `vidbatch verify` can probe.
// Files are written once into DIR (kept for reruns).
// usage: vidbatch-probe-bench DIR [FILES=10000] [THREADS=2]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "probe/video_probe.h"
#include "simulator/mp4_writer.h"
#include "simulator/prng.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Writes the file unless it is there with the right size. `sparse`: only the headers' bytes
// are written and the rest is a hole, so 10,000 files of 1 MiB take ~40 MB of disk.
void write_video(const std::string& path, const sim::Mp4Spec& spec, size_t bytes, bool sparse) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0 && static_cast<size_t>(info.st_size) == bytes) {
    return;
  }
  const std::string data = sim::write_mp4(spec, bytes, sim::fnv1a(path));
  const size_t written = sparse ? std::min(bytes, sim::min_mp4_bytes(spec) + 64) : bytes;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(written));
  }
  if (written < bytes && ::truncate(path.c_str(), static_cast<off_t>(bytes)) != 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
}

void probe_or_die(const std::string& path) {
  const auto probe = vb::probe_video(path);
  if (!probe || !probe->has_video || probe->truncated()) {
    std::fprintf(stderr, "probe failed: %s\n",
                 probe ? path.c_str() : probe.error().describe().c_str());
    std::exit(1);
  }
}

void single_file(const std::string& dir, const char* label, size_t bytes) {
  const std::string path = dir + "/single-" + label + ".mp4";
  write_video(path, {1280, 720, 12000, true}, bytes, false);
  std::vector<double> us;
  for (int i = 0; i < 200; ++i) {
    const auto start = Clock::now();
    probe_or_die(path);
    us.push_back(seconds_since(start) * 1e6);
  }
  std::sort(us.begin(), us.end());
  std::printf("probe of one %s video: median %.0f us [min %.0f, p90 %.0f]\n", label, us[100],
              us.front(), us[180]);
}

// Drops the files' pages from the page cache (after writing back any still dirty), so the next
// probes read from the disk, as `vidbatch verify` does on a tree written long ago.
void evict_from_cache(const std::vector<std::string>& paths) {
  for (const auto& path : paths) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0) {
      ::fdatasync(fd);
      ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      ::close(fd);
    }
  }
}

double files_per_second(const std::vector<std::string>& paths, int threads) {
  std::atomic<size_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < paths.size(); i = next++) {
        probe_or_die(paths[i]);
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  return static_cast<double>(paths.size()) / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [FILES=10000] [THREADS=2]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const size_t files = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10000;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  std::filesystem::create_directories(dir + "/tree");

  single_file(dir, "1 MiB", size_t{1} << 20);
  single_file(dir, "50 MiB", size_t{50} << 20);

  const int sizes[][2] = {{1280, 720}, {720, 1280}, {1792, 1024}, {1024, 1792}, {352, 640}};
  const int seconds[] = {4, 8, 12, 10, 15, 25};
  std::vector<std::string> paths;
  const auto write_start = Clock::now();
  for (size_t i = 0; i < files; ++i) {
    const auto& size = sizes[i % 5];
    const sim::Mp4Spec spec{size[0], size[1], seconds[i % 6] * 1000, i % 7 != 0};
    paths.push_back(dir + "/tree/v" + std::to_string(i) + ".mp4");
    write_video(paths.back(), spec, size_t{1} << 20, true);
  }
  std::printf("%zu files of 1 MiB ready in %.1f s\n", files, seconds_since(write_start));
  evict_from_cache(paths);
  std::printf("probe %zu files on %d thread%s, not in the page cache: %.0f files/s\n", files,
              threads, threads == 1 ? "" : "s", files_per_second(paths, threads));
  std::printf("probe %zu files on 1 thread: %.0f files/s\n", files, files_per_second(paths, 1));
  if (threads > 1) {
    std::printf("probe %zu files on %d threads: %.0f files/s\n", files, threads,
                files_per_second(paths, threads));
  }
  return 0;
}
