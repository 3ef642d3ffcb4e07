#!/usr/bin/env python3
"""Redis's instructions a settle of the acknowledge script, counted under callgrind: the same calls in several forms.

    python3 scripts/bench-acknowledge-callgrind.py [--jobs 20] [--settles 300] [--order in|reverse] [--cluster]
                                                    FORM ...

Why: a change to what a settle asks of Redis (an argument fewer, a command moved out of the script) is a few percent
of Redis's work, below what this VM's speed lets a timing see. The instructions a private redis-server runs do not
move with it. `bench-ab.py --redis-callgrind` counts them for a whole worker run; this counts one settle, with the
batch size fixed, so two forms are compared on exactly the same calls (decision 0063).

Each FORM runs on its own redis-server under `valgrind --tool=callgrind` (counting only while the settles are sent):
the stream filled with `--jobs × --settles` entries and all of them delivered first, then one settle a write, each
acknowledging `--jobs` entries (in the order they were delivered, so the script takes its `XTRIM` path, as most of a
worker's settles do; `--order reverse` keeps older entries pending, so it takes `XDEL`). The history's records are
left out (their `HSET` is the same in every form). The arguments are built here as `JobStore.acknowledgeCall` builds
them; a settle that does not acknowledge and list every job stops the run, so a layout this copy no longer matches
fails loudly. FORMs:
- `script`: the committed acknowledge script (history.lua before it), the job ids in its arguments, as the worker
  sends it;
- `lpush-after`: the same script without the job ids (no `LPUSH` inside), then `LPUSH history:ids` of them in the same
  write;
- `empty`: a script that returns at once, given the same arguments as `script` (what entering Lua costs);
- `ping`: a `PING` a write (a round trip's floor);
- `multi-script`: `MULTI`, the committed script given only the entry ids (`XACK` and their removal), then the history
  list's `LPUSH` and the two counters' `HINCRBY`s as plain commands, `EXEC`: what taking the job ids and the counters
  out of Lua while keeping the settle atomic would save (decision 0064);
- `multi`: `MULTI`, `XACK`, `XTRIM MINID` past the batch's newest, `LPUSH`, the `HINCRBY`s, `EXEC`: no Lua at all. A
  bound, not a design: only the script can see whether older entries are still pending (`--order in` only);
- `multi-keep`: the same without the `XTRIM` (acknowledged entries left in the stream): the floor of a settle.
`--cluster` starts each server in cluster mode, owning every slot (what cluster mode adds to the same calls).
Prints the instructions a settle and a job for each form.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# bench-ab.py's free port and callgrind total, not copies of them.
_spec = importlib.util.spec_from_file_location("bench_ab", os.path.join(ROOT, "scripts", "bench-ab.py"))
bench_ab = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_ab)
LUA = os.path.join(ROOT, "Sources", "HoopoeCore", "Store", "Lua")
NS = "hoopoe:{default}"
KEYS = [f"{NS}:stream", f"{NS}:stats:d", f"{NS}:stats:h", f"{NS}:history:ids", f"{NS}:history:jobs"]
FORMS = ("script", "lpush-after", "empty", "ping", "multi-script", "multi", "multi-keep")
# The one counter, type and minute every settle counts under, in the script's arguments and the plain commands alike.
COUNTER, TYPE, MINUTE = "processed", "diag.incr", "m1"


def arguments(entries, jobs, with_ids, counted=True):
    """The acknowledge script's ARGV as JobStore.acknowledgeCall builds it for one queue and one counter, no unique
    keys, no answers, a cap high enough that no settle trims (`counted=False`: no type/count pair, so no counter)."""
    n = len(entries)
    fixed = ["workers", str(n), "0", "0", "60", MINUTE, "7200", str(n if with_ids else 0), entries[-1], "100000000", ""]
    return fixed + entries + (jobs if with_ids else []) + [COUNTER] + ([TYPE, str(n)] if counted else [])


def plain_tail(pipe, entries, jobs):
    """The history list's push and the two counters as plain commands (the `multi` forms)."""
    pipe.lpush(KEYS[3], *jobs)
    pipe.hincrby(KEYS[1], f"{COUNTER}:{TYPE}", len(entries))
    pipe.hincrby(KEYS[2], f"{MINUTE}:{COUNTER}", len(entries))


def count(form, args, directory):
    port = bench_ab.free_port()
    profile = os.path.join(directory, f"{form}.out")
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={profile}", "redis-server",
               "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory]
    if args.cluster:
        command += ["--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{form}.conf"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(port=port)
        for _ in range(600):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        if args.cluster:
            r.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
            while r.cluster("info")["cluster_state"] != "ok":
                time.sleep(0.2)
        source = "local n = tonumber(ARGV[2])\nreturn {n, 0}\n" if form == "empty" else \
            open(os.path.join(LUA, "history.lua")).read() + "\n" + open(os.path.join(LUA, "acknowledge.lua")).read()
        sha = r.script_load(source)
        total = args.jobs * args.settles
        envelope = json.dumps({"id": "01JD3Q8Z6N4Y2K7VBX0RS5TMWE", "type": TYPE, "queue": "default",
                               "payload": {"key": "bench:done"}, "attempt": 0, "max_attempts": 25})
        r.xgroup_create(KEYS[0], "workers", id="$", mkstream=True)
        pipe = r.pipeline(transaction=False)
        for _ in range(total):
            pipe.xadd(KEYS[0], {"job": envelope})
        pipe.execute()
        entries = [e[0].decode() for e in r.xreadgroup("workers", "c1", {KEYS[0]: ">"}, count=total)[0][1]]
        jobs = [f"01JD3Q8Z6N4Y2K7VBX{j:08d}" for j in range(total)]
        settles = [(entries[i:i + args.jobs], jobs[i:i + args.jobs]) for i in range(0, total, args.jobs)]
        if args.order == "reverse":
            settles.reverse()
        subprocess.run(["callgrind_control", "-i", "on", str(server.pid)], capture_output=True, check=True)
        for e, j in settles:
            pipe = r.pipeline(transaction=False)
            if form == "ping":
                pipe.ping()
            elif form == "multi-script":
                pipe.multi()
                pipe.evalsha(sha, len(KEYS), *KEYS, *arguments(e, j, False, counted=False))
                plain_tail(pipe, e, j)
            elif form in ("multi", "multi-keep"):
                pipe.multi()
                pipe.xack(KEYS[0], "workers", *e)
                if form == "multi":
                    ms, seq = e[-1].split("-")
                    pipe.xtrim(KEYS[0], minid=f"{ms}-{int(seq) + 1}", approximate=False)
                plain_tail(pipe, e, j)
            elif form == "lpush-after":
                pipe.evalsha(sha, len(KEYS), *KEYS, *arguments(e, j, False))
                pipe.lpush(KEYS[3], *j)
            else:
                pipe.evalsha(sha, len(KEYS), *KEYS, *arguments(e, j, True))
            pipe.execute()
        subprocess.run(["callgrind_control", "-i", "off", str(server.pid)], capture_output=True, check=True)
        listed = r.llen(KEYS[3])
        removes = form in ("script", "lpush-after", "multi-script", "multi")
        if removes and (listed != total or r.xlen(KEYS[0]) != 0):
            raise SystemExit(f"{form}: {listed} of {total} ids listed, {r.xlen(KEYS[0])} entries left: not a settle")
        if form.startswith("multi") and r.hget(KEYS[1], f"{COUNTER}:{TYPE}") != str(total).encode():
            raise SystemExit(f"{form}: the counter reads {r.hget(KEYS[1], f'{COUNTER}:{TYPE}')}, not {total}")
    finally:
        server.terminate()  # callgrind writes its profile as the server exits
        server.wait()
    return bench_ab.callgrind_total(profile)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=20, help="jobs a settle")
    p.add_argument("--settles", type=int, default=300)
    p.add_argument("--order", choices=("in", "reverse"), default="in")
    p.add_argument("--cluster", action="store_true")
    p.add_argument("forms", nargs="+", choices=FORMS, metavar="FORM")
    args = p.parse_args()
    if "multi" in args.forms and args.order == "reverse":
        p.error("multi: --order in only (its XTRIM past the batch's newest would drop entries still pending)")
    with tempfile.TemporaryDirectory(prefix="hoopoe-ack-callgrind-") as directory:
        for form in args.forms:
            total = count(form, args, directory)
            print(f"{form:12} {args.jobs} jobs a settle{' (cluster mode)' if args.cluster else ''}: "
                  f"{total / args.settles:,.0f} instructions a settle, {total / args.settles / args.jobs:,.0f} a job", flush=True)


if __name__ == "__main__":
    main()
