#!/usr/bin/env python3
"""What job history costs: Redis memory per 100k finished jobs, Redis script time per job, and worker throughput,
with history keeping every job (HOOPOE_HISTORY_MAX_JOBS = --jobs), at the default cap (10,000: the steady state,
where every record added is one trimmed) and off (0).

    scripts/measure-history.py [--jobs 100000] [--hoopoe .build/release/hoopoe] [--hoopoe before=/tmp/old/hoopoe ...]
    scripts/measure-history.py --layouts [--batch 17] # history's layout beside the alternatives of decision 0059

Starts its own redis-server on a free port (no persistence), writes N ready `diag.incr` jobs straight into a
queue's stream (an envelope of ~230 bytes, a payload with a user id and a note, like a small domain job), runs one
`hoopoe worker --concurrency 20` until all are processed, and reads INFO memory, MEMORY USAGE of the history keys
INFO commandstats, Redis's CPU (INFO cpu) and the worker's (/proc/PID/stat) per job. Each --hoopoe binary (label=path; several are run in turn, round by round, so an A/B is
measured side by side on the same machine and Redis) runs each setting. The figures in docs/operating.md ("Job
history") and docs/benchmarks.md ("History cost") come from this script; run it on an idle machine for throughput.

(Its --scripts-from mode called the acknowledge script alone with the records among its arguments; since decision
0062 the records go in an HSET beside the script, so a worker A/B, above or with scripts/bench-ab.py, measures it.)

--layouts writes 60,000 records of ~390 bytes (the ones above: a small domain job's) in script calls of --batch
records, as an acknowledgement carries them, at the default cap of 10,000, in four layouts (decision 0059): the
records only carried (the script returns at once: the cost of shipping them, the same in all), the shipped one
(history.lua's `history_add` and `history_trim`: a hash of records and a list of ids), one stream entry a batch (`XADD
MAXLEN ~`, no lookup by id), and that stream with a hash from each id to its entry (not trimmed: a floor). It prints
Redis's CPU a job (INFO cpu: the commands and their I/O), best of three rounds.
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
    cpu_before = redis_cpu(r)
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
        redis_seconds = redis_cpu(r) - cpu_before
        worker_seconds = process_cpu(worker.pid)
    finally:
        worker.terminate()
        worker.wait()
    info = r.info("memory")
    stats = r.info("commandstats")
    # The order: a list since decision 0033 (history:ids), a sorted set before (history); a binary writes one of them.
    history = sum(r.memory_usage(f"{ns}:{{bench}}:{key}", samples=0) or 0 for key in ("history:ids", "history"))
    records = r.memory_usage(f"{ns}:{{bench}}:history:jobs", samples=0) or 0
    evalsha = stats.get("cmdstat_evalsha", {"calls": 0, "usec": 0})
    return {
        "history_jobs": history_jobs,
        "kept": r.llen(f"{ns}:{{bench}}:history:ids") + r.zcard(f"{ns}:{{bench}}:history"),
        "jobs_per_s": n / elapsed,
        "used_memory_delta": info["used_memory"] - used_before,
        "history_bytes": history + records,
        "evalsha_calls": evalsha["calls"],
        "evalsha_usec_per_job": evalsha["usec"] / n,
        "redis_cpu_usec_per_job": redis_seconds * 1e6 / n,
        "worker_cpu_usec_per_job": worker_seconds * 1e6 / n,
    }


def redis_cpu(r):
    """Redis's CPU seconds so far (main thread and all, user + system: INFO cpu)."""
    cpu = r.info("cpu")
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"]


def process_cpu(pid):
    """A live process's CPU seconds so far (user + system, /proc/PID/stat), start-up included."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def record(i, now):
    envelope = (
        '{"id":"J%09d","type":"diag.incr","queue":"bench","payload":{"key":"mh:count","user_id":%d,'
        '"note":"a payload of about the size of a small domain job, e.g. an email or an SMS"},"attempt":0,"enqueued_at":%.3f}' % (i, i, now))
    header = ('{"id":"J%09d","type":"diag.incr","queue":"bench","outcome":"processed","attempt":1,"finished_at":%.3f,'
              '"duration":0.000123,"worker":"host:12345:abcd1234"}' % (i, now))
    return envelope, header + "\n" + envelope


LAYOUTS = {
    "records carried only": "return 0",
    "shipped: hash + list of ids": """
local size = history_add(KEYS[1], KEYS[2], KEYS[3], ARGV, 1, #ARGV / 2)
history_trim(KEYS[1], KEYS[2], KEYS[3], size, {cap}, 86400, {now}, false)
return size""",
    "one stream entry a batch": """
return redis.call('XADD', KEYS[4], 'MAXLEN', '~', math.floor({cap} / (#ARGV / 2)), '*', unpack(ARGV))""",
    "stream + id index hash (untrimmed)": """
local entry = redis.call('XADD', KEYS[4], 'MAXLEN', '~', math.floor({cap} / (#ARGV / 2)), '*', unpack(ARGV))
local index = {}
for i = 1, #ARGV, 2 do index[#index + 1] = ARGV[i]; index[#index + 1] = entry end
redis.call('HSET', KEYS[2], unpack(index))
return entry""",
}


def compare_layouts(url, batch, total=60_000, cap=10_000):
    """Redis CPU a job for each of LAYOUTS, best of 3 rounds (decision 0059)."""
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True).stdout.strip()
    shared = open(os.path.join(root, "Sources/HoopoeCore/Store/Lua/history.lua")).read()
    r = redis.Redis.from_url(url)
    now = time.time()
    keys = ["ml:{q}:history:ids", "ml:{q}:history:jobs", "ml:{q}:history", "ml:{q}:history:stream"]
    best = {}
    for _ in range(3):
        for name, body in LAYOUTS.items():
            r.flushall()
            body = body.replace("{cap}", str(cap)).replace("{now}", "%.3f" % now)  # numbers in the text: KEYS holds keys only
            sha = r.script_load(shared + body if "history_" in body else body)
            pipe = r.pipeline(transaction=False)
            before = redis_cpu(r)
            for start in range(0, total, batch):
                args = []
                for i in range(start, min(total, start + batch)):
                    args += ["J%09d" % i, record(i, now)[1]]
                pipe.evalsha(sha, len(keys), *keys, *args)
                if start // batch % 50 == 49:
                    pipe.execute()
            pipe.execute()
            best[name] = min(best.get(name, 1e9), (redis_cpu(r) - before) * 1e6 / total)
    print(f"Redis CPU a job (us, best of 3); {total:,} records of ~390 bytes, {batch} a call, cap {cap:,}")
    for name in LAYOUTS:
        print(f"  {name:36} {best[name]:5.2f} us/job", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--hoopoe", action="append", help="path, or label=path; repeat for an A/B")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--settings", default="all,cap,off", help="which of all (keep every job), cap (10,000), off")
    parser.add_argument("--layouts", action="store_true", help="history's layout beside the alternatives (decision 0059)")
    parser.add_argument("--batch", type=int, default=17, help="records a script call, with --layouts")
    args = parser.parse_args()
    binaries = [(h.split("=", 1) if "=" in h else (h, h)) for h in (args.hoopoe or [".build/release/hoopoe"])]
    settings = {"all": args.jobs, "cap": 10_000, "off": 0}
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
        if args.layouts:
            compare_layouts(url, args.batch)
            return
        for _ in range(args.rounds):
            for setting in args.settings.split(","):
                for label, hoopoe in binaries:
                    result = run(hoopoe, url, args.jobs, settings[setting])
                    print(
                        f"{label:>10} history {setting:3} kept={result['kept']:>7} {result['jobs_per_s']:8.0f} jobs/s  "
                        f"history keys {result['history_bytes'] / 1048576:7.1f} MiB ({result['history_bytes'] / max(1, result['kept']):5.0f} B/job)  "
                        f"used_memory +{result['used_memory_delta'] / 1048576:7.1f} MiB  "
                        f"Redis CPU {result['redis_cpu_usec_per_job']:5.1f} us/job, worker CPU {result['worker_cpu_usec_per_job']:5.1f} us/job  "
                        f"scripts {result['evalsha_usec_per_job']:5.1f} us/job in {result['evalsha_calls']} calls "
                        f"({args.jobs / max(1, result['evalsha_calls']):.1f} jobs a call)",
                        flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
