#!/usr/bin/env python3
"""`make bench`, recovery row: how long a killed worker's jobs wait before they run again (issue 17: ≤ 15 s with
the default lease).

On REDIS_URL (make bench's private server), in a namespace of its own: enqueue JOBS `diag.record` jobs that sleep
SLEEP_MS each (long jobs, next to the bench's no-ops), start a release `hoopoe worker` with its default settings,
wait until every job was delivered to it and none has finished (XPENDING of the queue's group = JOBS, the record set
empty), `kill -9` it, start a second worker at once (default settings), and poll the record set (`diag.record`
writes its member after its sleep) every 10 ms until every job has run.

    recovery = (last record − kill) − SLEEP_MS

The JOBS ≤ the default concurrency (20), so the second worker runs them all at once and each record lands SLEEP_MS
after the job started again: the subtraction leaves the time from the kill until the last job started again. The row
also says each job's attempt number (2 after one recovery: the killed attempt counted).

Prints one JSON line: {"recovery_s": …, "done_s": …, "jobs": …, "sleep_ms": …, "attempts": {...}} or {"error": …}.
Env: HOOPOE_BIN (release binary), BENCH_RECOVERY_JOBS (20), BENCH_RECOVERY_SLEEP_MS (3000).
"""
import json
import os
import signal
import subprocess
import sys
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOOPOE = os.environ.get("HOOPOE_BIN", os.path.join(ROOT, ".build/release/hoopoe"))
JOBS = int(os.environ.get("BENCH_RECOVERY_JOBS", "20"))
SLEEP_MS = int(os.environ.get("BENCH_RECOVERY_SLEEP_MS", "3000"))
TIMEOUT_S = 180


def worker(env):
    return subprocess.Popen([HOOPOE, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait(predicate, what, timeout, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the worker exited {process.returncode} while waiting for {what}: {process.stderr.read()[-300:]}")
        time.sleep(0.01)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def measure():
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    ns = "bench-recovery-%d" % os.getpid()
    r = redis.Redis.from_url(url, decode_responses=True)
    key = f"{ns}:recovered"
    env = {**os.environ, "REDIS_URL": url, "HOOPOE_NAMESPACE": ns, "LOG_LEVEL": "warning"}
    load = subprocess.run([HOOPOE, "functions", "load"], env=env, capture_output=True, text=True)  # the enqueue needs it
    if load.returncode != 0:
        raise RuntimeError(f"hoopoe functions load failed: {(load.stderr or load.stdout).strip()[-300:]}")
    template = json.dumps({"key": key, "member": "job{i}", "sleep_ms": SLEEP_MS})
    enqueue = subprocess.run([sys.executable, os.path.join(ROOT, "jobs/examples/hoopoe_enqueue.py"), "--count", str(JOBS), "diag.record", template],
                             env=env, capture_output=True, text=True)
    if enqueue.returncode != 0:
        raise RuntimeError(f"enqueue failed: {(enqueue.stderr or enqueue.stdout).strip()[-300:]}")
    stream = f"{ns}:{{default}}:stream"
    first = worker(env)
    second = None
    try:
        def delivered():
            groups = r.xinfo_groups(stream) if r.exists(stream) else []
            return bool(groups) and r.xpending(stream, groups[0]["name"])["pending"] == JOBS
        wait(delivered, f"all {JOBS} jobs delivered to the first worker", 60, first)
        time.sleep(0.5)  # they are running, well inside their sleep
        if r.scard(key):
            raise RuntimeError(f"{r.scard(key)} jobs finished before the kill: raise BENCH_RECOVERY_SLEEP_MS")
        first.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        first.wait()
        second = worker(env)
        done = wait(lambda: r.scard(key) >= JOBS, f"all {JOBS} killed jobs to run again", TIMEOUT_S, second)
        attempts = r.hgetall(f"{key}:attempt")
        histogram = {}
        for attempt in attempts.values():
            histogram[attempt] = histogram.get(attempt, 0) + 1
        return {"recovery_s": done - killed - SLEEP_MS / 1000, "done_s": done - killed, "jobs": JOBS, "sleep_ms": SLEEP_MS,
                "attempts": histogram}
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for found in r.scan_iter(match=f"{ns}:*", count=1000):
            r.unlink(found)


def main():
    if not 1 <= JOBS <= 20:  # the formula needs every job running at once on the second worker (default concurrency)
        print(json.dumps({"error": f"BENCH_RECOVERY_JOBS={JOBS}: must be 1-20, the default concurrency"}))
        sys.exit(1)
    if not os.access(HOOPOE, os.X_OK):
        print(json.dumps({"error": f"{HOOPOE} is missing"}))
        sys.exit(1)
    try:
        print(json.dumps(measure()))
    except Exception as error:  # the row says why
        print(json.dumps({"error": str(error)}))
        sys.exit(1)


if __name__ == "__main__":
    main()
