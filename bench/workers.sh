#!/usr/bin/env bash
# Scale-out benchmark (issue 21): 1, 2 and 4 `vidbatch run` processes as workers of one ledger
# (a SQLite file, then PostgreSQL) on JOBS jobs, against vidbatch-sim with limits that never
# bind (short generations, a shared cap of 500 in flight, 600,000 creates a minute). Prints per
# run: wall from the first worker's start to the last one's exit, jobs done per second, the
# workers' CPU (user + sys, from wait4 of each process) per job done in total and per worker
# (each worker's CPU over the jobs it finished), and the ratios to the single-process figures
# of the same store. Figures only, no targets; never part of tools/test.
# usage: bench/workers.sh [JOBS=10000] [WORKERS="1 2 4"] [STORES="sqlite postgresql"]
# Environment: BENCH_BUILD_DIR (default build-bench/), BENCH_NO_BUILD=1 (use its binaries as
# they are), BENCH_JOBS (parallel compile jobs, default 2), BENCH_GEN_MS (generation time,
# default 200), BENCH_WORK (default a fresh /tmp/vbworkers.XXXXXX, removed at the end).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$REPO/build-bench}
JOBS=${1:-10000}
WORKERS=${2:-"1 2 4"}
STORES=${3:-"sqlite postgresql"}
if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
  "$REPO/tools/bootstrap" --test
  cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"${BENCH_JOBS:-2}" --target vidbatch vidbatch-sim >/dev/null
fi
work=${BENCH_WORK:-$(mktemp -d /tmp/vbworkers.XXXXXX)}
mkdir -p "$work/pg"
chmod 755 "$work"  # the server's folder inside it is the postgres user's
# shellcheck source=bench/lib/throwaway_pg.sh
source "$REPO/bench/lib/throwaway_pg.sh"
cleanup() {
  pg_stop
  [[ -n "${BENCH_WORK:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT
if [[ " $STORES " == *" postgresql "* ]]; then
  pg_start "$work/pg"
fi
export OPENAI_API_KEY=sim-bench-key

# shellcheck source=bench/lib/manifest.sh
source "$REPO/bench/lib/manifest.sh"
bench_manifest "$work/jobs.yaml" "$JOBS" scale "a paper boat on a gutter stream"
cat >"$work/config.toml" <<EOF
[limits]
max_in_flight = 500
submits_per_minute = 600000
polls_per_second = 2000
poll_interval_ms = 200
poll_interval_max_ms = 400
max_downloads = 64
[output]
thumbnails = false
sidecars = false
EOF

for store in $STORES; do
  for w in $WORKERS; do
    if [[ $store == sqlite ]]; then
      ledger=$work/ledger-$w.db
    else
      ledger=$(pg_createdb "scale_$w")
    fi
    echo "== $store, $w worker(s), $JOBS jobs"
    python3 "$REPO/bench/lib/workers_run.py" --vidbatch "$BUILD/vidbatch" \
      --sim "$BUILD/vidbatch-sim" --gen-ms "${BENCH_GEN_MS:-200}" --work "$work" \
      --ledger "$ledger" --workers "$w" --jobs "$JOBS" | tee "$work/$store-$w.txt"
  done
  echo "== $store: ratios to 1 worker (jobs per second: higher is faster; CPU: lower is less)"
  for w in $WORKERS; do
    paste "$work/$store-$w.txt" "$work/$store-1.txt" | awk -v w="$w" -F'\t' '
      $1 ~ /^(jobs done per second|CPU ms per job)/ {
        n = split($1, a, " "); m = split($2, b, " ");
        printf "%d worker(s)  %-36s %5.2fx\n", w, substr($1, 1, 36), a[n] / b[m]
      }'
  done
done
