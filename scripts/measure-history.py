#!/usr/bin/env python3
"""What job history costs: Redis memory per 100k finished jobs, Redis script time per job, and worker throughput,
with history on (HOOPOE_HISTORY_MAX_JOBS large enough to keep every job) and off (0).

    scripts/measure-history.py [--jobs 100000] [--hoopoe .build/release/hoopoe]

Starts its own redis-server on a free port (no persistence), writes N ready `diag.incr` jobs straight into a
queue's stream (an envelope of ~230 bytes, a payload with a user id and a note, like a small domain job), runs one
`hoopoe worker --concurrency 20` until all are processed, and reads INFO memory, MEMORY USAGE of the history keys
and INFO commandstats. Then the same with history off. The figures in docs/operating.md ("Job history") come from
this script; run it on an idle machine for throughput (Redis-side figures do not depend on load).
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

import redis


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(r, ns, n):
    stream = f"{ns}:{{bench}}:stream"
    now = time.time()
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        envelope = (
            '{"id":"%s","type":"diag.incr","queue":"bench","payload":{"key":"%s:count","user_id":%d,'
            '"note":"a payload of about the size of a small domain job, e.g. an email or an SMS"},'
            '"attempt":0,"enqueued_at":%.3f}' % (f"J{i:09d}", ns, 100000 + i, now)
        )
        pipe.xadd(stream, {"job": envelope})
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def run(hoopoe, url, n, history_jobs):
    r = redis.Redis.from_url(url)
    r.flushall()
    ns = "mh"
    seed(r, ns, n)
    used_before = r.info("memory")["used_memory"]
    r.config_resetstat()
    env = dict(os.environ, REDIS_URL=url, HOOPOE_NAMESPACE=ns, LOG_LEVEL="warning", HOOPOE_HISTORY_MAX_JOBS=str(history_jobs))
    log = tempfile.TemporaryFile()
    start = time.monotonic()
    worker = subprocess.Popen([hoopoe, "worker", "--queues", "bench", "--concurrency", "20"], env=env, stdout=log, stderr=log)
    try:
        while int(r.get(f"{ns}:count") or 0) < n:
            if worker.poll() is not None:
                log.seek(0)
                sys.exit("the worker exited: " + log.read().decode())
            time.sleep(0.05)
        elapsed = time.monotonic() - start
        # The last acknowledgements follow the last INCR by a moment.
        while r.xlen(f"{ns}:{{bench}}:stream") > 0:
            time.sleep(0.05)
    finally:
        worker.terminate()
        worker.wait()
    info = r.info("memory")
    stats = r.info("commandstats")
    history = r.memory_usage(f"{ns}:{{bench}}:history", samples=0) or 0
    records = r.memory_usage(f"{ns}:{{bench}}:history:jobs", samples=0) or 0
    evalsha = stats.get("cmdstat_evalsha", {"calls": 0, "usec": 0})
    return {
        "history_jobs": history_jobs,
        "kept": r.zcard(f"{ns}:{{bench}}:history"),
        "jobs_per_s": n / elapsed,
        "used_memory_delta": info["used_memory"] - used_before,
        "history_bytes": history + records,
        "evalsha_calls": evalsha["calls"],
        "evalsha_usec_per_job": evalsha["usec"] / n,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--hoopoe", default=".build/release/hoopoe")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}"
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        for _ in range(args.rounds):
            for history_jobs in (args.jobs, 0):
                result = run(args.hoopoe, url, args.jobs, history_jobs)
                print(
                    f"history {'on ' if history_jobs else 'off'} kept={result['kept']:>7} {result['jobs_per_s']:8.0f} jobs/s  "
                    f"history keys {result['history_bytes'] / 1048576:7.1f} MiB ({result['history_bytes'] / max(1, result['kept']):5.0f} B/job)  "
                    f"used_memory +{result['used_memory_delta'] / 1048576:7.1f} MiB  "
                    f"scripts {result['evalsha_usec_per_job']:5.1f} us/job in {result['evalsha_calls']} calls",
                    flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
