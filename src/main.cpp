#include <malloc.h>

#include "cli/cli.h"

int main(int argc, char** argv) {
  // glibc serves blocks of 128 KiB and more (curl's receive buffers, buffers of downloads) with
  // a fresh mmap each time and returns freed heap above 128 KiB to the system, so every
  // download faulted its pages in again: ~60 page faults per video, a sixth of a download
  // run's CPU on a virtual machine. Keep such blocks on the heap and the heap's free memory.
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  return vb::cli_main(argc, argv);
}
