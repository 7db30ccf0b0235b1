#!/usr/bin/env bash
# Store benchmark (issue 21): claims and transitions per second on SQLite and on PostgreSQL,
# 1, 2 and 4 workers (threads with a connection each) on JOBS jobs, and PostgreSQL / SQLite
# ratios. Prints figures only (no targets). Never part of tools/test.
# usage: bench/store.sh [JOBS=10000] [WORKERS="1 2 4"]
# PostgreSQL runs as a throwaway server on a unix socket, with fsync and synchronous_commit on
# as in production (SQLite: synchronous = FULL, the default), removed at the end.
# Environment: BENCH_BUILD_DIR (default build-bench/), BENCH_JOBS (parallel compile jobs,
# default 2).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$REPO/build-bench}
JOBS=${1:-10000}
WORKERS=${2:-"1 2 4"}
"$REPO/tools/bootstrap" --test
cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"${BENCH_JOBS:-2}" --target vidbatch-store-bench >/dev/null
BENCH="$BUILD/vidbatch-store-bench"

work=$(mktemp -d /tmp/vbbench.XXXXXX)
PGBIN=$(pg_config --bindir)
as_postgres=()
cleanup() {
  if [[ -f "$work/data/postmaster.pid" ]]; then
    "${as_postgres[@]}" "$PGBIN/pg_ctl" -D "$work/data" -m fast stop >/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
if [[ $(id -u) -eq 0 ]]; then
  chown postgres:postgres "$work"
  as_postgres=(runuser -u postgres --)
fi
"${as_postgres[@]}" "$PGBIN/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --no-locale \
  >"$work/initdb.log"
"${as_postgres[@]}" "$PGBIN/pg_ctl" -D "$work/data" -l "$work/server.log" -w -t 60 \
  -o "-k $work -c listen_addresses= -c max_connections=50" start >/dev/null

# Runs one store's figures; prints them and keeps them in $work/<tag>.txt.
run() {  # tag location workers
  "$BENCH" "$2" "$JOBS" "$3" | tee "$work/$1.txt"
}

for w in $WORKERS; do
  echo "== SQLite, $w worker(s), $JOBS jobs"
  run "sqlite-$w" "$work/ledger-$w.db" "$w"
  echo "== PostgreSQL, $w worker(s), $JOBS jobs"
  "${as_postgres[@]}" "$PGBIN/createdb" -h "$work" -U postgres "bench_$w"
  run "pg-$w" "postgresql://postgres@/bench_$w?host=$work" "$w"
done

echo "== PostgreSQL / SQLite (per second; > 1: PostgreSQL faster)"
for w in $WORKERS; do
  paste "$work/pg-$w.txt" "$work/sqlite-$w.txt" | awk -v w="$w" -F'\t' '
    $1 ~ /\/s$/ {
      n = split($1, pf, " "); m = split($2, sf, " ");
      printf "%d worker(s)  %-22s %5.2fx\n", w, substr($1, 1, 22), pf[n-1] / sf[m-1]
    }'
done
