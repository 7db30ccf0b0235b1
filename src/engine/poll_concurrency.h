// PollConcurrency: how many status requests (queries and listing pages) may be in flight at
// once. R polls per second whose answers take L seconds need about R x L requests in flight
// (Little's law); more only open connections that then sit idle: a TCP (and TLS) handshake
// each at our end, a socket and often a thread each at the provider's. The limit follows the
// answer time measured: twice what the rate needs, at least k_min, at most k_max (or fewer
// when the transport has fewer connections). It rises with the first slow answer and comes down
// slowly. The answer time includes our own delay in reading it: with the event loop busy
// (64 downloads of large videos) answers look slow, and without k_max every status request of a
// resumed batch went out at once, opening 250 connections that then sat idle.
// Pure logic in virtual time. Not thread-safe.
#pragma once

#include <cstddef>

#include "util/clock.h"

namespace vb {

class PollConcurrency {
 public:
  static constexpr std::size_t k_min = 8;
  // 64 at once carry 128 polls/s answered in 500 ms (the default rate is 5/s).
  static constexpr std::size_t k_max = 64;

  // polls_per_second <= 0: no rate, so no basis for a limit: `ceiling` applies.
  PollConcurrency(double polls_per_second, std::size_t ceiling);

  std::size_t limit() const;
  bool may_start(std::size_t in_flight) const { return in_flight < limit(); }
  // One status request's time from start to answer (or failure).
  void record(Millis answer_ms);
  double answer_ms() const { return m_answer_ms; }

 private:
  double m_rate_per_ms;
  std::size_t m_ceiling;
  double m_answer_ms = 0;  // up at once to a slower answer, down by 1/16 of the gap per answer
};

}  // namespace vb
