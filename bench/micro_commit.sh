#!/usr/bin/env bash
# Micro-benchmark of group commit, with the sqlite3 CLI on vidbatch's own schema and pragmas
# (WAL, synchronous = MODE): N job transitions (UPDATE jobs + INSERT INTO events, what
# SqliteJobStore::apply_one does), committed one per transaction, then 64 per transaction.
# usage: micro_commit.sh DIR MODE N   -> prints "per1 TRANSITIONS_PER_S" and "per64 ..."
set -euo pipefail
dir=$1 mode=$2 n=$3
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dir"
db=$dir/micro-$mode.db

prepare() {
  rm -f "$db" "$db-wal" "$db-shm"
  {
    echo "PRAGMA journal_mode = WAL;"
    cat "$repo"/schema/*.sql
    echo "INSERT INTO batches (name, created_at) VALUES ('micro', 0);"
    echo "BEGIN;"
    for ((i = 1; i <= n; i++)); do
      echo "INSERT INTO jobs (batch_id, job_key, spec_json, model, size, seconds, orientation, prompt, state, created_at, updated_at) VALUES (1, 'job-$i', '{}', 'sora-2', 'small', 4, 'landscape', 'p', 'submitted', 0, 0);"
    done
    echo "COMMIT;"
  } | sqlite3 "$db" >/dev/null
}

script() {  # script PER_TXN
  local per=$1
  echo "PRAGMA synchronous = $mode;"
  for ((i = 1; i <= n; i++)); do
    ((i % per == 1 || per == 1)) && echo "BEGIN IMMEDIATE;"
    echo "UPDATE jobs SET state='running', progress=10, updated_at=$i WHERE id=$i AND state='submitted';"
    echo "INSERT INTO events (job_id, at, from_state, to_state, progress, http_status, message) VALUES ($i, $i, 'submitted', 'running', 10, 200, 'generating');"
    ((i % per == 0 || i == n)) && echo "COMMIT;"
  done
}

for per in 1 64; do
  prepare
  script "$per" >"$dir/micro.sql"
  t0=$(date +%s.%N)
  sqlite3 "$db" <"$dir/micro.sql" >/dev/null
  t1=$(date +%s.%N)
  python3 -c "print('per$per', round($n / ($t1 - $t0), 1))"
done
