// Deterministic bytes for the simulator's media: a stable seed from a string and a PRNG whose
// output is fully specified, so a test can recompute a file and a resumed download splices back
// to the same sha256. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sim {

// FNV-1a: a stable seed from the id (std::hash is not stable across implementations).
inline uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

// splitmix64: tiny, fast and fully specified, unlike std distributions.
inline void append_prng_bytes(std::string& out, size_t count, uint64_t seed) {
  uint64_t state = seed;
  while (count > 0) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    for (int i = 0; i < 8 && count > 0; ++i, --count) {
      out.push_back(static_cast<char>((z >> (8 * i)) & 0xff));
    }
  }
}

}  // namespace sim
