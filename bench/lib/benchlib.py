#!/usr/bin/env python3
"""Helpers of bench/run: parse /usr/bin/time -v output, read ledgers, sample the
simulator, and print the final table. Standard library only."""
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request


def parse_time_v(path):
    """wall seconds, user seconds, sys seconds, peak RSS in KiB from `/usr/bin/time -v -o path`."""
    text = open(path).read()
    def grab(label):
        m = re.search(re.escape(label) + r":\s*(\S+)", text)
        if not m:
            raise SystemExit(f"benchlib: no '{label}' in {path}:\n{text}")
        return m.group(1)
    wall = grab("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(p) for p in wall.split(":")]
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds, float(grab("User time (seconds)")), float(grab("System time (seconds)")), \
        int(grab("Maximum resident set size (kbytes)"))


def cmd_time(args):
    """time PREFIX FILE [WALL_OVERRIDE]: prints PREFIX.wall/.cpu/.user/.sys/.rss_mb result lines."""
    prefix, path = args[0], args[1]
    wall, user, sys_, rss = parse_time_v(path)
    if len(args) > 2:  # a finer wall clock measured by the caller (time -v rounds to 10 ms)
        wall = float(args[2])
    print(f"{prefix}.wall {wall:.3f}")
    print(f"{prefix}.cpu {user + sys_:.3f}")
    print(f"{prefix}.user {user:.3f}")
    print(f"{prefix}.sys {sys_:.3f}")
    print(f"{prefix}.rss_mb {rss / 1024:.1f}")


def ledger(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    return con


def cmd_ledger_run(args):
    """ledger-run PREFIX DB: done jobs, events, transitions/s over the run, polls stored."""
    prefix, db = args
    con = ledger(db)
    done = con.execute("select count(*) from jobs where state='done'").fetchone()[0]
    total = con.execute("select count(*) from jobs").fetchone()[0]
    # Transitions written by the run: every event except the import's creation rows.
    ev, t0, t1 = con.execute(
        "select count(*), min(at), max(at) from events where from_state is not null").fetchone()
    polls = con.execute("select coalesce(sum(polls),0) from jobs").fetchone()[0]
    print(f"{prefix}.jobs_done {done}")
    print(f"{prefix}.jobs_total {total}")
    print(f"{prefix}.transitions {ev}")
    if ev and t1 > t0:
        print(f"{prefix}.transitions_per_s {ev / ((t1 - t0) / 1000):.1f}")
    print(f"{prefix}.polls_stored {polls}")


def cmd_ledger_download(args):
    """ledger-download PREFIX DB SINCE_MS: download-phase throughput of the downloads started
    after SINCE_MS: bytes / (last downloaded_at - first `downloading` event)."""
    prefix, db, since = args[0], args[1], int(args[2])
    con = ledger(db)
    start = con.execute(
        "select min(at) from events where to_state='downloading' and at >= ?", (since,)).fetchone()[0]
    end, nbytes, n = con.execute(
        "select max(downloaded_at), sum(bytes), count(*) from jobs where state='done' "
        "and downloaded_at >= ?", (since,)).fetchone()
    if not start or not end or end <= start:
        print(f"{prefix}.dl_error 1")
        return
    secs = (end - start) / 1000
    print(f"{prefix}.dl_files {n}")
    print(f"{prefix}.dl_seconds {secs:.3f}")
    print(f"{prefix}.dl_mib_per_s {nbytes / secs / 1048576:.1f}")


def cmd_list_poll_estimate(args):
    """list-poll-estimate PREFIX DB INTERVAL_MS: how many `GET /videos?limit=100` pages would have
    told the run the status of every job it polled, from the run's own timeline in the ledger.
    Every INTERVAL_MS, one sweep pages through the listing (newest first) back to the oldest
    video still generating; a job's last state change before it ended generation bounds it."""
    prefix, db, interval = args[0], args[1], int(args[2])
    con = ledger(db)
    rows = con.execute(
        "select j.id, j.submitted_at, coalesce((select min(at) from events e where e.job_id = j.id "
        "and e.to_state in ('ready', 'failed', 'canceled')), 0) from jobs j "
        "where j.submitted_at > 0").fetchall()
    if not rows:
        print(f"{prefix}.list_error 1")
        return
    created = sorted(r[1] for r in rows)
    spans = [(r[1], r[2] or created[-1]) for r in rows]
    t, end = min(created), max(e for _, e in spans)
    pages = 0
    sweeps = 0
    import bisect
    while t <= end:
        generating = [c for c, e in spans if c <= t < e]
        if generating:
            oldest = min(generating)
            listed = bisect.bisect_right(created, t) - bisect.bisect_left(created, oldest)
            pages += (listed + 99) // 100
            sweeps += 1
        t += interval
    print(f"{prefix}.list_sweeps {sweeps}")
    print(f"{prefix}.list_pages {pages}")


def cmd_remote_ids(args):
    """remote-ids DB: one remote id a line."""
    con = ledger(args[0])
    for (rid,) in con.execute("select remote_id from jobs where remote_id != '' order by id"):
        print(rid)


def sim_stats(base):
    with urllib.request.urlopen(base + "/__stats", timeout=30) as r:
        return json.load(r)


def cmd_sim_stats(args):
    """sim-stats PREFIX ROOT_URL: the simulator's request counters."""
    prefix, base = args
    s = sim_stats(base)
    print(f"{prefix}.sim_requests {s['requests_total']}")
    print(f"{prefix}.sim_queries {s['queries']}")
    print(f"{prefix}.sim_creates {s['creates_total']}")
    print(f"{prefix}.sim_content {s['content_requests']}")
    print(f"{prefix}.sim_max_in_flight_seen {s.get('max_in_flight_seen', 0)}")
    # The simulator's own sliding window over query arrivals (exact, unlike the 0.5 s samples).
    print(f"{prefix}.sim_max_queries_in_1s {s.get('max_queries_in_1s', 0)}")
    for route, n in sorted(s["requests_by_route"].items()):
        print(f"{prefix}.route[{route.replace(' ', '_')}] {n}", file=sys.stderr)


def cmd_sample_queries(args):
    """sample-queries ROOT_URL OUT_FILE STOP_FILE: every ~0.5 s, `epoch_s queries` until STOP_FILE exists."""
    base, out, stop = args
    pattern = re.compile(rb'"queries":(\d+)')
    with open(out, "w") as f:
        while not os.path.exists(stop):
            t = time.time()
            try:
                # The counters alone: the full document lists every video and prompt (a
                # megabyte at 4,000 jobs), which cost the simulator CPU next to the run measured.
                with urllib.request.urlopen(base + "/__stats?counters=1", timeout=10) as r:
                    m = pattern.search(r.read())
                if m:  # the count was read somewhere between t and now
                    f.write(f"{t:.3f} {time.time():.3f} {int(m.group(1))}\n")
                    f.flush()
            except OSError:
                pass
            time.sleep(max(0.0, 0.5 - (time.time() - t)))


def cmd_poll_rate(args):
    """poll-rate PREFIX SAMPLES PPS: the highest query rate over 1 s and 5 s windows, and whether
    every window stayed within the token bucket's bound (rate * window + burst, burst = max(1, rate/2))."""
    prefix, path, pps = args[0], args[1], float(args[2])
    rows = []
    for line in open(path):
        f = [float(x) for x in line.split()]
        if len(f) == 2:
            f = [f[0], f[0] + 0.05, f[1]]
        if len(f) == 3:
            rows.append(f)
    burst = max(1.0, pps * 0.5)
    worst_excess = 0.0
    best = {1.0: 0.0, 5.0: 0.0}
    for i, (t0, t0_end, q0) in enumerate(rows):
        for t1, t1_end, q1 in rows[i + 1:]:
            span = t1 - t0
            # The counts were read somewhere in [t, t_end]: the queries between two samples were
            # sent within at most t1_end - t0 seconds (the bound used) and at least t1 - t0_end.
            allowed = pps * (t1_end - t0) + burst
            worst_excess = max(worst_excess, (q1 - q0) - allowed)
            for w in best:
                if abs(span - w) <= 0.26:
                    best[w] = max(best[w], (q1 - q0) / span)
            if span > 30:
                break
    print(f"{prefix}.poll_max_rate_1s {best[1.0]:.1f}")
    print(f"{prefix}.poll_max_rate_5s {best[5.0]:.1f}")
    print(f"{prefix}.poll_limit {pps:g}")
    print(f"{prefix}.poll_excess_over_bucket {worst_excess:.1f}")
    print(f"{prefix}.poll_samples {len(rows)}")


def cmd_import_probe(args):
    """import-probe PREFIX TIME_OUT -- CMD...: runs CMD (under /usr/bin/time -v), notes when the
    'batch X: N new' line appears on stderr, then interrupts the run twice (abort) and waits."""
    prefix, time_out = args[0], args[1]
    cmd = args[args.index("--") + 1:]
    t0 = time.monotonic()
    proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", time_out] + cmd,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    imported_at = None
    line_seen = ""
    for raw in proc.stderr:
        line = raw.decode(errors="replace")
        if imported_at is None and re.search(r"batch .*: \d+ new", line):
            imported_at = time.monotonic() - t0
            line_seen = line.strip()
            child = child_of(proc.pid)
            for _ in range(2):
                if child:
                    try:
                        os.kill(child, signal.SIGINT)
                    except ProcessLookupError:
                        break
                time.sleep(0.05)
    proc.wait()
    if imported_at is None:
        print(f"{prefix}.import_error 1")
        return
    _, user, sys_, rss = parse_time_v(time_out)
    print(f"{prefix}.wall {imported_at:.3f}")
    print(f"{prefix}.rss_mb {rss / 1024:.1f}")
    print(f"{prefix}.cpu {user + sys_:.3f}")
    print(f"import-probe: {line_seen}", file=sys.stderr)


def child_of(pid):
    for _ in range(100):
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            return None
        time.sleep(0.01)
    return None


def cmd_sync_tree(args):
    """sync-tree SRC DST: make DST a copy of SRC, rewriting only the files whose bytes differ (and
    deleting those SRC lacks), so that make rebuilds only what changed between two snapshots."""
    src, dst = args
    kept = set()
    for root, _, files in os.walk(src):
        rel = os.path.relpath(root, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in files:
            s = os.path.join(root, name)
            d = os.path.normpath(os.path.join(dst, rel, name))
            kept.add(d)
            with open(s, "rb") as f:
                data = f.read()
            try:
                with open(d, "rb") as f:
                    if f.read() == data:
                        continue
            except FileNotFoundError:
                pass
            with open(d, "wb") as f:
                f.write(data)
            os.chmod(d, os.stat(s).st_mode)
    for root, _, files in os.walk(dst):
        for name in files:
            d = os.path.normpath(os.path.join(root, name))
            if d not in kept:
                os.remove(d)


# ---- summary ---------------------------------------------------------------

def load_results(path):
    values = {}
    for line in open(path):
        parts = line.split()
        if len(parts) != 2:
            continue
        try:
            values.setdefault(parts[0], []).append(float(parts[1]))
        except ValueError:
            pass
    return values


def fmt(vals, unit="", digits=2):
    if not vals:
        return "n/a"
    med = statistics.median(vals)
    if len(vals) == 1:
        return f"{med:.{digits}f}{unit} (1 run)"
    return f"{med:.{digits}f}{unit} [min {min(vals):.{digits}f}, max {max(vals):.{digits}f}, n={len(vals)}]"


def paired_ratio(values, a, b):
    xs, ys = values.get(a, []), values.get(b, [])
    return [x / y for x, y in zip(xs, ys) if y > 0]


def cmd_summary(args):
    path = args[0]
    v = load_results(path)
    meta = {}
    for line in open(path):
        if line.startswith("# meta "):
            k, _, val = line[len("# meta "):].strip().partition(" ")
            meta[k] = val
    out = []
    verdicts = []

    def verdict(name, vals, op, limit, unit="", digits=2):
        if not vals:
            verdicts.append((name, "n/a", f"{op} {limit}{unit}", "NOT MEASURED"))
            return
        med = statistics.median(vals)
        ok = med <= limit if op == "<=" else med >= limit
        verdicts.append((name, fmt(vals, unit, digits), f"{op} {limit}{unit}", "PASS" if ok else "FAIL"))

    out.append(f"machine: {meta.get('machine', '?')}")
    out.append(f"vidbatch: {meta.get('built', '?')}")
    out.append(f"sizes: {meta.get('sizes', '?')}")
    out.append("")
    out.append(f"== 1. peer comparison: N={meta.get('n_peer')} jobs, concurrency 64, 1 MiB videos, gen 500 ms, poll every 200 ms ==")
    for who in ("peer", "vidbatch"):
        out.append(f"  {who:9s} wall {fmt(v.get(who + '.wall'), ' s')}")
        out.append(f"  {who:9s} cpu  {fmt(v.get(who + '.cpu'), ' s')}  (user {fmt(v.get(who + '.user'), ' s')}, sys {fmt(v.get(who + '.sys'), ' s')})")
        out.append(f"  {who:9s} rss  {fmt(v.get(who + '.rss_mb'), ' MB', 1)}")
        out.append(f"  {who:9s} simulator requests {fmt(v.get(who + '.sim_requests'), '', 0)}, status queries {fmt(v.get(who + '.sim_queries'), '', 0)}")
    for metric in ("wall", "cpu", "rss_mb"):
        out.append(f"  ratio vidbatch/peer {metric}: {fmt(paired_ratio(v, 'vidbatch.' + metric, 'peer.' + metric), 'x')}")
    verdict("peer: wall vidbatch/peer", paired_ratio(v, "vidbatch.wall", "peer.wall"), "<=", 1.0, "x")
    verdict("peer: CPU vidbatch/peer", paired_ratio(v, "vidbatch.cpu", "peer.cpu"), "<=", 0.33, "x")
    verdict("peer: peak RSS vidbatch/peer", paired_ratio(v, "vidbatch.rss_mb", "peer.rss_mb"), "<=", 0.25, "x")

    out.append("")
    out.append(f"== 2. download ceiling: the same {meta.get('n_peer')} files, 64 at once, the same work on each side ==")
    out.append(f"  (a) curl --parallel                {fmt(v.get('curl.mib_per_s'), ' MiB/s', 1)}  (wall {fmt(v.get('curl.wall'), ' s')}, cpu {fmt(v.get('curl.cpu'), ' s')})")
    out.append(f"      vidbatch, checksum = \"none\"     {fmt(v.get('dlnone.dl_mib_per_s'), ' MiB/s', 1)}  (download phase {fmt(v.get('dlnone.dl_seconds'), ' s')}, whole resume {fmt(v.get('dlnone.proc_mib_per_s'), ' MiB/s', 1)}, cpu {fmt(v.get('dlnone.cpu'), ' s')})")
    plain = paired_ratio(v, "dlnone.dl_mib_per_s", "curl.mib_per_s")
    out.append(f"      ratio download phase / curl: {fmt(plain, 'x')}; whole resume / curl: {fmt(paired_ratio(v, 'dlnone.proc_mib_per_s', 'curl.mib_per_s'), 'x')}")
    out.append(f"  (b) curl --parallel, then sha256sum {fmt(v.get('curlsha.mib_per_s'), ' MiB/s', 1)}  (wall {fmt(v.get('curlsha.wall'), ' s')}, cpu {fmt(v.get('curlsha.cpu'), ' s')})")
    out.append(f"      vidbatch, SHA-256 of each file  {fmt(v.get('dl.dl_mib_per_s'), ' MiB/s', 1)}  (download phase {fmt(v.get('dl.dl_seconds'), ' s')}, whole resume {fmt(v.get('dl.proc_mib_per_s'), ' MiB/s', 1)}, cpu {fmt(v.get('dl.cpu'), ' s')})")
    hashed = paired_ratio(v, "dl.dl_mib_per_s", "curlsha.mib_per_s")
    out.append(f"      ratio download phase / curl+sha256sum: {fmt(hashed, 'x')}; whole resume: {fmt(paired_ratio(v, 'dl.proc_mib_per_s', 'curlsha.mib_per_s'), 'x')}")
    out.append(f"  vidbatch in the peer run (downloads interleaved with generation) {fmt(v.get('vidbatch.dl_mib_per_s'), ' MiB/s', 1)}")
    verdict("download, no hash: vidbatch / curl --parallel", plain, ">=", 1.0, "x")
    verdict("download, SHA-256: vidbatch / curl --parallel + sha256sum", hashed, ">=", 1.0, "x")

    out.append("")
    out.append(f"== 3a. scale: {meta.get('n_scale')}-job manifest ==")
    for step in ("validate", "import", "status", "csv"):
        out.append(f"  {step:8s} wall {fmt(v.get('scale.' + step + '.wall'), ' s')}  cpu {fmt(v.get('scale.' + step + '.cpu'), ' s')}  rss {fmt(v.get('scale.' + step + '.rss_mb'), ' MB', 1)}")
    verdict("scale: validate wall", v.get("scale.validate.wall"), "<=", 2.0, " s")
    verdict("scale: import wall", v.get("scale.import.wall"), "<=", 5.0, " s")
    verdict("scale: status wall", v.get("scale.status.wall"), "<=", 0.5, " s")
    verdict("scale: CSV report wall", v.get("scale.csv.wall"), "<=", 2.0, " s")
    rss_all = []
    for step in ("validate", "import", "status", "csv"):
        rss_all += v.get("scale." + step + ".rss_mb", [])
    verdict("scale: peak RSS (max of the 4 commands)", [max(rss_all)] if rss_all else [], "<=", 300, " MB", 1)

    out.append("")
    out.append(f"== 3b. in flight: {meta.get('n_flight')} jobs, {meta.get('in_flight')} in flight, gen 5000 ms, 64 KiB videos ==")
    out.append(f"  wall {fmt(v.get('flight.wall'), ' s')}  cpu {fmt(v.get('flight.cpu'), ' s')}  rss {fmt(v.get('flight.rss_mb'), ' MB', 1)}")
    out.append(f"  jobs done {fmt(v.get('flight.jobs_done'), '', 0)}; simulator requests {fmt(v.get('flight.sim_requests'), '', 0)} ({fmt(v.get('flight.req_per_s'), ' req/s', 0)}); max in flight seen by the simulator {fmt(v.get('flight.sim_max_in_flight_seen'), '', 0)}")
    out.append(f"  CPU per completed job {fmt(v.get('flight.cpu_ms_per_job'), ' ms', 3)}")
    out.append(f"  status polls sent {fmt(v.get('flight.sim_queries'), '', 0)}; the same knowledge from the list endpoint (GET /videos?limit=100, one sweep per poll_interval_ms back to the oldest video generating): {fmt(v.get('flight.list_pages'), ' pages', 0)} in {fmt(v.get('flight.list_sweeps'), ' sweeps', 0)}")
    verdict("in flight: peak RSS", v.get("flight.rss_mb"), "<=", 150, " MB", 1)
    verdict("in flight: CPU per completed job", v.get("flight.cpu_ms_per_job"), "<=", 1.0, " ms", 3)

    out.append("")
    out.append("== 4. durability: transitions written per second ==")
    for mode in ("full", "normal", "off"):
        out.append(f"  sync={mode:6s} run: {fmt(v.get('dur.' + mode + '.transitions_per_s'), ' tr/s', 0)}  (wall {fmt(v.get('dur.' + mode + '.wall'), ' s')}, cpu {fmt(v.get('dur.' + mode + '.cpu'), ' s')}, {fmt(v.get('dur.' + mode + '.tr_per_txn'), ' transitions per store.apply', 1)})")
    for mode in ("full", "normal", "off"):
        out.append(f"  sync={mode:6s} micro: 1 transition/txn {fmt(v.get('micro.' + mode + '.per1'), ' tr/s', 0)}; 64 transitions/txn {fmt(v.get('micro.' + mode + '.per64'), ' tr/s', 0)}")
    out.append(f"  group commit gain (64/txn vs 1/txn, sync=full): {fmt(paired_ratio(v, 'micro.full.per64', 'micro.full.per1'), 'x', 1)}")

    out.append("")
    out.append("== 5. polling rate (simulator GET /__stats: `queries` sampled every 0.5 s, and its exact 1 s window) ==")
    for who in ("flight", "vidbatch"):
        out.append(f"  {who}: limit {fmt(v.get(who + '.poll_limit'), '/s', 0)}, highest 1 s window {fmt(v.get(who + '.poll_max_rate_1s'), '/s', 0)}, highest 5 s window {fmt(v.get(who + '.poll_max_rate_5s'), '/s', 0)}, worst excess over the bucket bound {fmt(v.get(who + '.poll_excess_over_bucket'), '', 1)}")
        out.append(f"  {who}: the simulator's exact highest 1 s window {fmt(v.get(who + '.sim_max_queries_in_1s'), '', 0)} (bucket bound: limit x 1.5)")
    # "Never": the worst second of any run, as the simulator counted arrivals, against the limit.
    worst = [q / l for q, l in zip(v.get("flight.sim_max_queries_in_1s", []), v.get("flight.poll_limit", [])) if l]
    verdict("polling never exceeds polls_per_second (worst second / limit)", [max(worst)] if worst else [], "<=", 1.0, "x", 3)

    out.append("")
    out.append("== targets ==")
    width = max(len(n) for n, *_ in verdicts)
    for name, measured, target, result in verdicts:
        out.append(f"  {result:12s} {name:{width}s}  {measured}  (target {target})")
    print("\n".join(out))


COMMANDS = {
    "time": cmd_time,
    "ledger-run": cmd_ledger_run,
    "ledger-download": cmd_ledger_download,
    "remote-ids": cmd_remote_ids,
    "list-poll-estimate": cmd_list_poll_estimate,
    "sim-stats": cmd_sim_stats,
    "sample-queries": cmd_sample_queries,
    "poll-rate": cmd_poll_rate,
    "import-probe": cmd_import_probe,
    "summary": cmd_summary,
    "sync-tree": cmd_sync_tree,
}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](sys.argv[2:])
