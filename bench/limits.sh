#!/usr/bin/env bash
# Learnt limits benchmark (issue 19, "limits learnt, not guessed"): vidbatch against a simulated
# provider that allows 5 videos generating at once and 600 creates a minute (vidbatch-sim
# --max-in-flight 5 --rpm 600), with limits.max_in_flight = CAP (default 16) and
# submits_per_minute = "auto". Prints per run: the time from the first create until accepted
# creates first run at 80% of what the provider allows (5 / generation time) over a window of
# four generation times, the 429s provoked (also per 100 accepted creates), the share of the
# provider's 5 slots used over the run, and the halvings vidbatch noticed. Then the same for
# max_in_flight = 5 pinned (the ideal, told the real limit). No targets; never part of tools/test.
# usage: bench/limits.sh [JOBS=150] [GEN_MS=2000] [CAP=16]
# Environment: BENCH_BUILD_DIR (default build-bench/), BENCH_WORK (default a fresh
# /tmp/vidbatch-limits-bench.XXXXXX, removed at the end unless given), BENCH_JOBS (default 2),
# BENCH_REPS (default 3), BENCH_NO_BUILD=1 (use the binaries in BENCH_BUILD_DIR as they are).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BENCH_BUILD_DIR:-$REPO/build-bench}
JOBS=${1:-150}
GEN_MS=${2:-2000}
CAP=${3:-16}
REPS=${BENCH_REPS:-3}
if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
  "$REPO/tools/bootstrap"
  cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"${BENCH_JOBS:-2}" --target vidbatch vidbatch-sim >/dev/null
fi
if [[ -n "${BENCH_WORK:-}" ]]; then
  work=$BENCH_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d /tmp/vidbatch-limits-bench.XXXXXX)
  trap 'rm -rf "$work"' EXIT
fi
export OPENAI_API_KEY=sim-bench-key

# shellcheck source=bench/lib/manifest.sh
source "$REPO/bench/lib/manifest.sh"
bench_manifest "$work/jobs.yaml" "$JOBS" limits "a kite over a beach"

RUN=0
one_run() {  # label max_in_flight; keeps run-N.log and ledger-N.db
  local label=$1 cap=$2 sim_pid port db
  RUN=$((RUN + 1))
  db=$work/ledger-$RUN.db
  rm -rf "$work/out" "$db"* "$work/sim.port"
  "$BUILD/vidbatch-sim" --port 0 --port-file "$work/sim.port" --quiet --gen-ms "$GEN_MS" \
    --max-in-flight 5 --rpm 600 --video-bytes 4096 >"$work/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do [[ -s "$work/sim.port" ]] && break; sleep 0.05; done
  port=$(cat "$work/sim.port")
  cat >"$work/config.toml" <<EOF
[limits]
max_in_flight = $cap
submits_per_minute = "auto"
poll_interval_ms = 500
poll_interval_max_ms = 1000
polls_per_second = 50
[output]
thumbnails = false
sidecars = false
EOF
  "$BUILD/vidbatch" run "$work/jobs.yaml" --config "$work/config.toml" --db "$db" \
    --base-url "http://127.0.0.1:$port/v1" --out "$work/out" --log-format json \
    >"$work/run-$RUN.log" 2>&1 || echo "run failed: see $work/run-$RUN.log" >&2
  curl -s "http://127.0.0.1:$port/__stats" >"$work/stats.json"
  kill "$sim_pid"
  wait "$sim_pid" 2>/dev/null || true
  python3 - "$label" "$db" "$work/stats.json" "$work/run-$RUN.log" "$GEN_MS" <<'PY'
import json, sqlite3, sys
label, db, stats_path, log_path, gen_ms = sys.argv[1:]
gen_ms = int(gen_ms)
con = sqlite3.connect(db)
first = con.execute("SELECT min(at) FROM events WHERE to_state = 'submitting'").fetchone()[0]
last = con.execute("SELECT max(at) FROM events WHERE to_state = 'done'").fetchone()[0]
accepted = [r[0] for r in con.execute(
    "SELECT at FROM events WHERE to_state = 'submitted' ORDER BY at")]
window = 4 * gen_ms
ceiling = 5 / gen_ms  # creates per ms the provider allows in the steady state
converge = None
for i, at in enumerate(accepted):
    inside = [a for a in accepted[: i + 1] if a > at - window]
    if at - first >= window and len(inside) >= 0.8 * ceiling * window:
        converge = at - first
        break
stats = json.load(open(stats_path))
faults = stats.get("faults_injected", {})
refused = faults.get("in_flight_429", 0) + faults.get("rpm_429", 0)
halvings = 0
for line in open(log_path):
    try:
        event = json.loads(line)
    except ValueError:
        continue
    if event.get("event") == "notice" and "refused a create for pacing" in event.get("message", ""):
        halvings += 1
wall = (last - first) / 1000
used = len(accepted) * gen_ms / (5 * (last - first))
conv = f"{converge / 1000:.1f} s" if converge is not None else "never"
print(f"{label}: converged in {conv}; 429s {refused} "
      f"({100 * refused / max(1, len(accepted)):.1f} per 100 creates); "
      f"slots used {100 * used:.0f}%; halvings {halvings}; {len(accepted)} creates in {wall:.1f} s")
PY
}

echo "limits bench: $JOBS jobs, provider 5 at once / 600 rpm, generation ${GEN_MS} ms," \
  "commit $(git -C "$REPO" rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC')"
for rep in $(seq "$REPS"); do
  one_run "learnt (max_in_flight $CAP, auto) #$rep" "$CAP"
  one_run "told (max_in_flight 5) #$rep" 5
done
