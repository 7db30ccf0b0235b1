// libFuzzer entry point for one target of fuzz_targets.h, chosen at compile
// time with -DVB_FUZZ_TARGET=<function>. A broken invariant aborts, so the
// fuzzer records the input as a crash like any sanitizer report.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fuzz/fuzz_targets.h"

#ifndef VB_FUZZ_TARGET
#error "define VB_FUZZ_TARGET to one of the functions in fuzz_targets.h"
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string problem =
      vb::fuzz::VB_FUZZ_TARGET(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!problem.empty()) {
    std::fprintf(stderr, "invariant broken: %s\n", problem.c_str());
    std::abort();
  }
  return 0;
}
