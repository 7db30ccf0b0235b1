#!/usr/bin/env bash
# Store benchmark (issue 21): claims and transitions per second on SQLite and on PostgreSQL,
# 1, 2 and 4 workers (threads with a connection each) on JOBS jobs, and PostgreSQL / SQLite
# ratios. Prints figures only (no targets). Never part of tools/test.
# usage: bench/store.sh [JOBS=10000] [WORKERS="1 2 4"] [budget]
# With "budget", admission runs under a budget every job fits in (its cost: the spending sum).
# PostgreSQL runs as a throwaway server on a unix socket, with fsync and synchronous_commit on
# as in production (SQLite: synchronous = FULL, the default), removed at the end.
# Environment: BENCH_BUILD_DIR (default build-bench/), BENCH_JOBS (parallel compile jobs,
# default 2).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$REPO/build-bench}
JOBS=${1:-10000}
WORKERS=${2:-"1 2 4"}
BUDGET=${3:-}
"$REPO/tools/bootstrap" --test
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"${BENCH_JOBS:-2}" --target vidbatch-store-bench >/dev/null
BENCH="$BUILD/vidbatch-store-bench"

work=$(mktemp -d /tmp/vbbench.XXXXXX)
# shellcheck source=bench/lib/throwaway_pg.sh
source "$REPO/bench/lib/throwaway_pg.sh"
cleanup() {
  pg_stop
  rm -rf "$work"
}
trap cleanup EXIT
pg_start "$work"

# Runs one store's figures; prints them and keeps them in $work/<tag>.txt.
run() {  # tag location workers
  "$BENCH" "$2" "$JOBS" "$3" ${BUDGET:+"$BUDGET"} | tee "$work/$1.txt"
}

for w in $WORKERS; do
  echo "== SQLite, $w worker(s), $JOBS jobs"
  run "sqlite-$w" "$work/ledger-$w.db" "$w"
  echo "== PostgreSQL, $w worker(s), $JOBS jobs"
  run "pg-$w" "$(pg_createdb "bench_$w")" "$w"
done

echo "== PostgreSQL / SQLite (per second; > 1: PostgreSQL faster)"
for w in $WORKERS; do
  paste "$work/pg-$w.txt" "$work/sqlite-$w.txt" | awk -v w="$w" -F'\t' '
    $1 ~ /\/s$/ {
      n = split($1, pf, " "); m = split($2, sf, " ");
      printf "%d worker(s)  %-22s %5.2fx\n", w, substr($1, 1, 22), pf[n-1] / sf[m-1]
    }'
done
