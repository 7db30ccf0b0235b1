#!/usr/bin/env bash
# `vidbatch verify` benchmark (issue 22: "checks a finished tree in seconds"): a ledger of FILES
# done jobs and their videos (BYTES each, written once by vidbatch-verify-tree), then
# `vidbatch verify` timed: files out of the page cache (a tree written long ago) and cached
# (right after a run), with the SHA-256 of every byte and with --no-hash (size and headers).
# Prints files/s and MB/s (no targets). Never part of tools/test.
# usage: bench/verify.sh [FILES=10000] [BYTES=262144]
# Environment: BENCH_BUILD_DIR (default build-bench/), BENCH_WORK (default a fresh
# /tmp/vidbatch-verify-bench.XXXXXX, removed at the end unless given), BENCH_JOBS (default 2).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$REPO/build-bench}
FILES=${1:-10000}
BYTES=${2:-262144}
"$REPO/tools/bootstrap"
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"${BENCH_JOBS:-2}" --target vidbatch vidbatch-verify-tree >/dev/null
if [[ -n "${BENCH_WORK:-}" ]]; then
  work=$BENCH_WORK
else
  work=$(mktemp -d /tmp/vidbatch-verify-bench.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
"$BUILD/vidbatch-verify-tree" "$work" "$FILES" "$BYTES"

# Drops the videos from the page cache, so that verify reads them from the disk.
evict() {
  python3 - "$work/out" <<'PY'
import os, sys
for root, _, names in os.walk(sys.argv[1]):
    for name in names:
        fd = os.open(os.path.join(root, name), os.O_RDONLY)
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
PY
}

measure() {  # label, then verify's flags
  local label=$1
  shift
  local start end
  start=$(date +%s.%N)
  "$BUILD/vidbatch" verify --db "$work/ledger.db" --json "$@" >"$work/verify.json"
  end=$(date +%s.%N)
  python3 - "$label" "$start" "$end" "$FILES" "$BYTES" "$work/verify.json" <<'PY'
import json, sys
label, start, end, files, size, out = sys.argv[1:]
seconds = float(end) - float(start)
report = json.load(open(out))
assert report["checked"] == int(files) and report["off"] == 0, report
mb = int(files) * int(size) / 1e6
print(f"{label}: {int(files)} files in {seconds:.2f} s: {int(files) / seconds:.0f} files/s, "
      f"{mb / seconds:.0f} MB/s (verify's own count: {report['seconds']:.2f} s)")
PY
}

evict
measure "verify, SHA-256 + headers, not cached"
measure "verify, SHA-256 + headers, cached"
evict
measure "verify --no-hash, not cached" --no-hash
measure "verify --no-hash, cached" --no-hash
measure "verify --no-hash --threads 1, cached" --no-hash --threads 1
