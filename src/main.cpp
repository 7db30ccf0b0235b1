#include <malloc.h>

#include <cstdio>
#include <exception>

#include "cli/cli.h"

int main(int argc, char** argv) {
  // glibc serves blocks of 128 KiB and more (curl's receive buffers, buffers of downloads) with
  // a fresh mmap each time and returns freed heap above 128 KiB to the system, so every
  // download faulted its pages in again: ~60 page faults per video, a sixth of a download
  // run's CPU on a virtual machine. Keep such blocks on the heap and the heap's free memory.
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  // The one catch of the error convention (util/error.h): an exception is a bug or an
  // exhausted resource (std::bad_alloc); say so and exit 3. Every ledger write is a
  // transaction, so nothing half-written is left behind.
  try {
    return vb::cli_main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr,
                 "vidbatch: internal error: %s; the ledger is consistent, `vidbatch resume` "
                 "continues. Please report this with the command that failed.\n",
                 e.what());
  } catch (...) {
    std::fprintf(stderr,
                 "vidbatch: internal error (unknown exception); the ledger is consistent, "
                 "`vidbatch resume` continues. Please report this.\n");
  }
  return vb::k_exit_runtime;
}
