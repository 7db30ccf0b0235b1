#!/usr/bin/env bash
# Probe benchmark (issue 22): one probe of a 1 MiB and a 50 MiB video, then files/s over a tree
# of 10,000 videos, first out of the page cache, then cached on 1 and 2 threads. Prints figures
# only (no targets). Never part of tools/test.
# usage: bench/probe.sh [FILES=10000] [THREADS=2]
# Environment: BENCH_BUILD_DIR (default build-bench/), BENCH_WORK (default a fresh
# /tmp/vidbatch-probe-bench.XXXXXX, removed at the end unless given), BENCH_JOBS (default 2).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$REPO/build-bench}
"$REPO/tools/bootstrap"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"${BENCH_JOBS:-2}" --target vidbatch-probe-bench >/dev/null
if [[ -n "${BENCH_WORK:-}" ]]; then
  work=$BENCH_WORK
else
  work=$(mktemp -d /tmp/vidbatch-probe-bench.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
"$BUILD/vidbatch-probe-bench" "$work" "${1:-10000}" "${2:-2}"
