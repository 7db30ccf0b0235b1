// vidbatch-verify-tree: writes what `vidbatch verify` checks, as a finished run leaves it: FILES
// done jobs in a ledger (DIR/ledger.db), each with its video in DIR/out/bench/ (the simulator's
// MP4s of the request's size and length, BYTES each), its size, SHA-256 and check recorded.
// Kept between runs (an existing ledger is reused). bench/verify.sh times `vidbatch verify` on it.
// usage: vidbatch-verify-tree DIR [FILES=10000] [BYTES=262144]
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "output/video_file.h"
#include "simulator/mp4_writer.h"
#include "simulator/prng.h"
#include "store/job_store.h"

namespace {

vb::JobSpec spec_of(std::size_t i) {
  vb::JobSpec spec;
  spec.id = "v" + std::to_string(i);
  spec.prompt = "benchmark video number " + std::to_string(i);
  spec.seconds = i % 3 == 0 ? 8 : 4;
  spec.orientation = i % 2 == 0 ? vb::Orientation::landscape : vb::Orientation::portrait;
  return spec;
}

std::string sha256(const std::string& path, std::int64_t bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  auto hash = vb::sha256_of_file(fd, path, bytes);
  ::close(fd);
  if (!hash) {
    std::fprintf(stderr, "%s\n", hash.error().describe().c_str());
    std::exit(1);
  }
  return *hash;
}

void die(const vb::Error& error) {
  std::fprintf(stderr, "vidbatch-verify-tree: %s\n", error.describe().c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [FILES=10000] [BYTES=262144]\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const std::size_t files = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10000;
  const std::size_t bytes = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 262144;
  const std::string db = dir + "/ledger.db";
  if (std::filesystem::exists(db)) {
    std::printf("reusing %s\n", db.c_str());
    return 0;
  }
  std::filesystem::create_directories(dir + "/out/bench");
  std::vector<vb::JobSpec> specs;
  for (std::size_t i = 0; i < files; ++i) {
    specs.push_back(spec_of(i));
  }
  auto store = vb::JobStore::open(db, vb::SyncMode::off);
  if (!store) {
    die(store.error());
  }
  if (auto imported = (*store)->import_jobs("bench", specs, 1, false); !imported) {
    die(imported.error());
  }
  const vb::JobState path[] = {vb::JobState::queued,      vb::JobState::submitting,
                               vb::JobState::submitted,   vb::JobState::ready,
                               vb::JobState::downloading, vb::JobState::done};
  std::vector<vb::Transition> moves;
  for (std::size_t i = 0; i < files; ++i) {
    const vb::JobSpec& spec = specs[i];
    const bool landscape = spec.orientation == vb::Orientation::landscape;
    const std::string file = dir + "/out/bench/" + spec.id + ".mp4";
    std::ofstream(file, std::ios::binary)
        << sim::write_mp4({landscape ? 1280 : 720, landscape ? 720 : 1280, spec.seconds * 1000,
                           true},
                          bytes, sim::fnv1a(file));
    for (std::size_t step = 1; step < std::size(path); ++step) {
      vb::Transition t;
      t.row_id = static_cast<std::int64_t>(i + 1);
      t.from = path[step - 1];
      t.to = path[step];
      t.at = 2;
      if (t.to == vb::JobState::done) {
        t.update.output_path = file;
        t.update.bytes = static_cast<std::int64_t>(bytes);
        t.update.sha256 = sha256(file, static_cast<std::int64_t>(bytes));
        vb::VideoCheck check;
        check.verdict = "ok";
        t.update.check = check;
      }
      moves.push_back(std::move(t));
    }
    if (moves.size() >= 5000 || i + 1 == files) {
      if (auto applied = (*store)->apply(moves); !applied) {
        die(applied.error());
      }
      moves.clear();
    }
  }
  std::printf("%zu done jobs with videos of %zu bytes in %s\n", files, bytes, dir.c_str());
  return 0;
}
