#!/usr/bin/env python3
"""One run of bench/workers.sh: N `vidbatch run` processes on one ledger against a fresh
vidbatch-sim. The first worker imports the batch; the others start once the ledger holds every
job (so they join, as a second host would). CPU per worker comes from wait4(2) of each process.
Prints aligned figures; the first five lines are the same for every N (bench/workers.sh pastes
them side by side). Standard library only."""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request


def ledger_query(ledger, sql):
    """Rows of `sql` on a SQLite file or, through psql, a PostgreSQL URL; [] when none yet."""
    if ledger.startswith("postgresql://"):
        psql = os.path.join(subprocess.check_output(["pg_config", "--bindir"], text=True).strip(),
                            "psql")
        done = subprocess.run([psql, ledger, "-tAF", "\t", "-c", sql], capture_output=True,
                              text=True)
        if done.returncode != 0:
            return []
        return [tuple(line.split("\t")) for line in done.stdout.splitlines() if line]
    if not os.path.exists(ledger):
        return []
    try:
        con = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=5)
        return con.execute(sql).fetchall()
    except sqlite3.Error:
        return []


def start_sim(args):
    port_file = os.path.join(args.work, "sim.port")
    if os.path.exists(port_file):
        os.remove(port_file)
    sim = subprocess.Popen([args.sim, "--port", "0", "--port-file", port_file, "--quiet",
                            "--gen-ms", str(args.gen_ms), "--video-bytes", "4096",
                            "--threads", "512"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return sim, int(open(port_file).read())
        time.sleep(0.05)
    sys.exit("workers_run: the simulator did not start")


def main():
    p = argparse.ArgumentParser()
    for name in ("--vidbatch", "--sim", "--work", "--ledger"):
        p.add_argument(name, required=True)
    p.add_argument("--gen-ms", type=int, default=200)
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--jobs", type=int, required=True)
    args = p.parse_args()

    sim, port = start_sim(args)
    out = os.path.join(args.work, "out")
    shutil.rmtree(out, ignore_errors=True)
    command = [args.vidbatch, "run", os.path.join(args.work, "jobs.yaml"),
               "--config", os.path.join(args.work, "config.toml"), "--db", args.ledger,
               "--base-url", f"http://127.0.0.1:{port}/v1", "--out", out]
    procs = []

    def start(i):
        log = open(os.path.join(args.work, f"worker-{args.workers}-{i}.log"), "w")
        procs.append(subprocess.Popen(command, stdout=log, stderr=log))

    t0 = time.monotonic()
    start(0)
    while args.workers > 1:
        rows = ledger_query(args.ledger, "SELECT count(*) FROM jobs")
        if rows and int(rows[0][0]) == args.jobs:
            break
        if procs[0].poll() is not None:
            sys.exit("workers_run: the first worker stopped before its import was seen")
        time.sleep(0.02)
    for i in range(1, args.workers):
        start(i)
    cpu = {}
    last_exit = t0
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        last_exit = time.monotonic()
        cpu[proc.pid] = usage.ru_utime + usage.ru_stime
        if os.waitstatus_to_exitcode(status) != 0:
            print(f"warning: worker pid {proc.pid} exited with "
                  f"{os.waitstatus_to_exitcode(status)}", file=sys.stderr)
    wall = last_exit - t0
    stats = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/__stats"))
    sim.terminate()
    sim.wait()

    done = int(ledger_query(args.ledger, "SELECT count(*) FROM jobs WHERE state = 'done'")[0][0])
    # The worker that finished each job: its id is host:pid:random.
    by_pid = {}
    for worker, count in ledger_query(
            args.ledger, "SELECT worker, count(*) FROM events WHERE to_state = 'done' "
                         "GROUP BY worker"):
        parts = str(worker).split(":")
        if len(parts) >= 3 and parts[-2].isdigit():
            by_pid[int(parts[-2])] = by_pid.get(int(parts[-2]), 0) + int(count)
    total_cpu = sum(cpu.values())
    per_worker = [cpu[p.pid] / by_pid[p.pid] * 1000 for p in procs if by_pid.get(p.pid)]
    print(f"{'wall s':36} {wall:.2f}")
    print(f"{'jobs done per second':36} {done / wall:.1f}")
    print(f"{'CPU ms per job, all workers':36} {total_cpu / max(done, 1) * 1000:.3f}")
    print(f"{'CPU ms per job per worker, mean':36} "
          f"{sum(per_worker) / max(len(per_worker), 1):.3f}")
    print(f"{'jobs done':36} {done}")
    print(f"{'simulator creates':36} {stats.get('creates_total')}")
    for i, proc in enumerate(procs):
        jobs = by_pid.get(proc.pid, 0)
        per_job = f"{cpu[proc.pid] / jobs * 1000:.3f} ms per job" if jobs else "no job finished"
        print(f"worker {i + 1}: {jobs} jobs done, CPU {cpu[proc.pid]:.2f} s, {per_job}")


if __name__ == "__main__":
    main()
