#!/usr/bin/env python3
"""A/B of `hoopoe worker` builds on the peers' job, longer and steadier than `make bench`'s peers section.

    python3 scripts/bench-ab.py [--jobs 60000] [--rounds 3] [--history on|off] [--perf] [--cmds] [--threads]
                                [--json] [--perf-record PREFIX] [--callgrind PREFIX] [--redis-callgrind PREFIX]
                                label=/path/to/hoopoe[,ENV=value...] ...

Why: the peers' harness measures about 0.3 s of steady processing at N = 20,000, so one run swings by ±25 % on these
VMs (docs/benchmarks.md, session 8). Here each run drains a larger backlog, and the builds alternate round by round,
so a change's effect shows as a ratio within each pair rather than as two figures from different minutes. The order
turns every round (A B, then B A), so neither build always runs first. The last lines count, for each build against
the first one named, the rounds in which it was lower or higher, with the median of its ratios. One build's worker CPU
a job swings from 20 to 33 µs between rounds on session 12's VM (docs/benchmarks.md, session 14), so a conclusion
rests on that count, not on one pair or one median.

Each run: its own redis-server (a free loopback port, no persistence); the worker (`--concurrency 20`, the peers'
setting) started first and left idle; the backlog (`diag.incr` of `bench:done`, envelopes by the Python client in
jobs/examples) written to a side stream with the workers' group already made, then RENAMEd onto the queue's stream,
so the worker starts on a full backlog and the counters cover only the run. It ends when `bench:done` reaches N and
the stream is empty.

Printed per run: steady jobs/s (first INCR to last), the worker's CPU µs a job and its user part (/proc), Redis's CPU µs
a job (INFO cpu), Redis commands a job (commandstats, scripts' inner calls included, less this harness's own
GET/XLEN/INFO). `--perf` adds `perf stat` counts a job on the worker (context switches, system calls, futex, sendto,
recvfrom) and on Redis (context switches, system calls, read, write, writev, epoll_wait: each round trip costs Redis a
read and a write); `--cmds` each command's calls and µs a job; `--perf-record PREFIX` writes `perf record -g` profiles
of the worker and Redis. `,ENV=value` after a path sets the worker's environment for that label (a toggle); a label
ending in `-off` runs with job history off. The medians come last.

`--threads` adds where the machine's vCPUs went from the backlog's rename to the last job (`/proc`, no profiler): each
of the worker's threads by name (Swift's pool threads summed as `pool`), Redis, the rest of the machine, and idle, in
vCPUs. Idle vCPUs while the worker drains a backlog mean the run waited on hand-overs (wake-ups), not on CPU
(docs/benchmarks.md, session 34); the line ends with how the machine's idle vCPUs wait (a KVM guest's halt polling,
session 35). `--json` ends the output with one JSON line of the last run's figures, and the medians of that build's
runs, for scripts/bench.sh.

`--callgrind PREFIX` runs the worker under `valgrind --tool=callgrind`, collecting only from the backlog's rename to
its last acknowledgement (`callgrind_control -i on/off`), and prints the worker's instructions a job: a count a noisy
VM does not move, for changes too small for the timings (docs/benchmarks.md, sessions 12 and 13). Each run's profile
is kept as PREFIX.LABEL.rN.out for `callgrind_annotate`. Under valgrind the timings mean nothing; use a few thousand
jobs (20,000 take ~25 s).

`--redis-callgrind PREFIX` does the same for redis-server: Redis's instructions a job, for a change to what a job
asks of Redis (a script's arguments, a command fewer). Redis under valgrind is the bottleneck, so the worker's batches
run larger than at full speed: the count compares builds in that regime, it is not the full-speed figure.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "jobs", "examples"))
from hoopoe_enqueue import envelope  # noqa: E402

STREAM = "hoopoe:{default}:stream"
SIDE = "hoopoe:{default}:seed"
PERF_EVENTS = "task-clock,context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_futex," \
              "syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom"
REDIS_PERF_EVENTS = "context-switches,raw_syscalls:sys_enter,syscalls:sys_enter_read,syscalls:sys_enter_write," \
                    "syscalls:sys_enter_writev,syscalls:sys_enter_epoll_wait"
HARNESS_COMMANDS = {"config|resetstat", "info", "rename", "xadd", "get", "xlen", "exists", "xinfo|groups", "xgroup|create"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid, user_only=False):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + (0 if user_only else int(fields[12]))
    return ticks / os.sysconf("SC_CLK_TCK")


def thread_ticks(pid):
    """CPU ticks so far of each thread of `pid`, summed by thread name (Swift's pool threads, `*.default-qos`, as
    `pool`)."""
    ticks = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue  # a thread that ended meanwhile
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        name = "pool" if name.endswith("default-qos") else name
        ticks[name] = ticks.get(name, 0) + int(fields[11]) + int(fields[12])
    return ticks


def machine_ticks():
    """(busy, idle) ticks of all vCPUs so far (/proc/stat's first line; iowait counted idle, steal busy)."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values[:8]) - idle, idle


def vcpu_shares(before, after, seconds):
    """Where the vCPUs went between two snapshots (``snapshot_threads``), in vCPUs: the worker's threads, Redis, the
    rest of the machine, idle."""
    hz = os.sysconf("SC_CLK_TCK") * seconds
    worker = {name: (ticks - before["worker"].get(name, 0)) / hz for name, ticks in after["worker"].items()}
    redis_share = (after["redis"] - before["redis"]) / hz
    busy = (after["machine"][0] - before["machine"][0]) / hz
    return dict(seconds=seconds, vcpus=os.cpu_count(), worker={k: v for k, v in worker.items() if v > 0},
                worker_total=sum(worker.values()), redis=redis_share,
                other=max(0.0, busy - sum(worker.values()) - redis_share),
                idle=(after["machine"][1] - before["machine"][1]) / hz)


def idle_polling(sys_root="/sys"):
    """How this machine's idle vCPUs wait (session 35): the cpuidle driver and, under `haltpoll` (a KVM guest's), how
    long a vCPU polls before it halts (`haltpoll.guest_halt_poll_ns`; Linux's default 200,000; 0 on the VM type of
    session 35). The parameter is read only under that driver: the module's parameter is there whether or not its
    driver runs, and without a cpuidle driver (`none`, the VM type of session 36) the kernel's default idle halts at
    once, whatever it says. A halted vCPU is woken through the host (34–39 µs on session 34's VM type); a polling one
    at once. `words` says it for a report ("" when the machine did not say); scripts/bench-targets.py prints them
    beside the 1-process row."""
    def read(path):
        try:
            with open(os.path.join(sys_root, path)) as f:
                return f.read().strip() or None
        except OSError:
            return None
    driver = read("devices/system/cpu/cpuidle/current_driver")
    poll = read("module/haltpoll/parameters/guest_halt_poll_ns") if driver == "haltpoll" else None
    poll_ns = int(poll) if poll is not None and poll.isdigit() else None
    if not driver:
        words = ""
    elif driver == "none":
        words = "the idle vCPUs halt at once (no cpuidle driver: the kernel's default idle)"
    elif poll_ns is None:
        words = f"the idle vCPUs' cpuidle driver: {driver}"
    else:
        words = f"the idle vCPUs poll {poll_ns:,} ns before they halt (cpuidle {driver}, guest_halt_poll_ns; Linux's default 200,000)"
    return dict(driver=driver, poll_ns=poll_ns, words=words)


def snapshot_threads(worker_pid, server_pid):
    return dict(worker=thread_ticks(worker_pid), redis=sum(thread_ticks(server_pid).values()), machine=machine_ticks(),
                at=time.monotonic())


def redis_cpu(r):
    c = r.info("cpu")
    return c["used_cpu_user"] + c["used_cpu_sys"]


def wait_until(check, tries, pause):
    for _ in range(tries):
        if check():
            return True
        time.sleep(pause)
    return False


def fill_side_stream(r, n):
    r.xgroup_create(SIDE, "workers", id="0", mkstream=True)
    pipe = r.pipeline(transaction=False)
    for i in range(n):
        pipe.xadd(SIDE, {"job": json.dumps(envelope("diag.incr", {"key": "bench:done"}), separators=(",", ":"))})
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def start_profilers(args, label, worker_pid, server_pid, counts_file):
    if args.perf_record:
        return [subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "4000", "-g", "-p", str(pid),
                                  "-o", f"{args.perf_record}.{label}.{name}.data"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for name, pid in (("worker", worker_pid), ("redis", server_pid))]
    if args.perf:
        return [subprocess.Popen(["perf", "stat", "-x", ",", "-e", events, "-p", str(pid), "-o", path],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _, pid, events, path in perf_outputs(worker_pid, server_pid, counts_file)]
    return []


def perf_outputs(worker_pid, server_pid, counts_file):
    """`perf stat`'s targets: the worker's counts go to the temporary file itself, Redis's beside it."""
    return (("worker", worker_pid, PERF_EVENTS, counts_file), ("redis", server_pid, REDIS_PERF_EVENTS, counts_file + ".redis"))


def callgrind_control(pid, on):
    subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(pid)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)


def callgrind_total(path):
    """The instructions a callgrind profile counted (its last `totals:` line; `summary:` is 0 with --instr-atstart=no)."""
    total = None
    with open(path) as f:
        for line in f:
            if line.startswith("totals:"):
                total = int(line.split()[1])
    if total is None:
        sys.exit(f"{path}: no totals in the profile")
    return total


def one_run(args, label, binary, env_extra, history, rnd):
    port = free_port()
    server_command = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]
    redis_profile = f"{args.redis_callgrind}.{label}.r{rnd}.out" if args.redis_callgrind else None
    if redis_profile:
        server_command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                          f"--callgrind-out-file={redis_profile}"] + server_command
    server = subprocess.Popen(server_command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    r = redis.Redis.from_url(url)

    def answers():
        try:
            return r.ping()
        except redis.ConnectionError:
            return False

    if not wait_until(answers, 1500 if redis_profile else 250, 0.02):
        sys.exit(f"redis-server on port {port} did not answer")
    env = dict(os.environ, REDIS_URL=url, LOG_LEVEL="warning", **env_extra)
    if not history:
        env["HOOPOE_HISTORY_MAX_JOBS"] = "0"
    log = tempfile.TemporaryFile()
    command = [binary, "worker", "--concurrency", "20"]
    profile = f"{args.callgrind}.{label}.r{rnd}.out" if args.callgrind else None
    if profile:
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={profile}"] + command
    worker = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=ROOT)
    profilers = []
    counts_file = tempfile.NamedTemporaryFile(suffix=".perf", delete=False).name
    try:
        if not wait_until(lambda: r.exists(STREAM) and r.xinfo_groups(STREAM), 3000 if profile else 500, 0.02):
            log.seek(0)
            sys.exit(f"{label}: the worker made no consumer group: " + log.read().decode()[-2000:])
        time.sleep(0.3)
        fill_side_stream(r, args.jobs)
        r.config_resetstat()
        profilers = start_profilers(args, label, worker.pid, server.pid, counts_file)
        if profilers:
            time.sleep(0.5)
        if profile:
            time.sleep(2)  # the worker's start-up under valgrind, out of the count
            callgrind_control(worker.pid, True)
        if redis_profile:
            callgrind_control(server.pid, True)
        redis0, worker0, user0 = redis_cpu(r), cpu_seconds(worker.pid), cpu_seconds(worker.pid, True)
        threads0 = snapshot_threads(worker.pid, server.pid) if args.threads else None
        r.rename(SIDE, STREAM)
        first = None
        while True:
            done = int(r.get("bench:done") or 0)
            now = time.monotonic()
            if done and first is None:
                first = (now, done)
            if done >= args.jobs:
                last = now
                threads1 = snapshot_threads(worker.pid, server.pid) if args.threads else None
                break
            if worker.poll() is not None:
                log.seek(0)
                sys.exit(f"{label}: the worker exited: " + log.read().decode()[-2000:])
            time.sleep(0.1 if redis_profile else 0.005)  # under valgrind, fewer of the harness's own commands
        while r.xlen(STREAM) > 0:
            time.sleep(0.1 if redis_profile else 0.01)
        time.sleep(1.0 if profile or redis_profile else 0.05)  # under valgrind, the last acknowledgements' replies
        if profile:
            callgrind_control(worker.pid, False)
        if redis_profile:
            callgrind_control(server.pid, False)
        worker_s = cpu_seconds(worker.pid) - worker0
        user_s = cpu_seconds(worker.pid, True) - user0
        redis_s = redis_cpu(r) - redis0
        stats = r.info("commandstats")
        for p in profilers:
            p.send_signal(signal.SIGINT)
            p.wait()
        counts = {}
        if args.perf and not args.perf_record:
            for name, _, _, path in perf_outputs(worker.pid, server.pid, counts_file):
                with open(path) as f:
                    for line in f:
                        parts = line.strip().split(",")
                        if len(parts) > 2 and parts[0][:1].isdigit() and parts[2] != "task-clock":
                            counts[(name, parts[2].split(":")[-1])] = float(parts[0]) / args.jobs
    finally:
        for p in profilers:
            if p.poll() is None:
                p.kill()
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
        server.terminate()
        server.wait()
        for _, _, _, path in perf_outputs(worker.pid, server.pid, counts_file):
            if os.path.exists(path):
                os.unlink(path)
    n = args.jobs
    instructions = callgrind_total(profile) / n if profile else None
    redis_instructions = callgrind_total(redis_profile) / n if redis_profile else None
    commands = {k[8:]: (v["calls"] / n, v["usec"] / n) for k, v in stats.items()
                if k.startswith("cmdstat_") and k[8:] not in HARNESS_COMMANDS}
    return dict(jps=(n - first[1]) / (last - first[0]) if last > first[0] else 0.0,
                worker_us=worker_s * 1e6 / n, user_us=user_s * 1e6 / n, redis_us=redis_s * 1e6 / n,
                commands_a_job=sum(calls for calls, _ in commands.values()), commands=commands, counts=counts,
                instructions=instructions, redis_instructions=redis_instructions,
                threads=dict(vcpu_shares(threads0, threads1, threads1["at"] - threads0["at"]), idle_polling=idle_polling())
                if args.threads else None)


def median(values):
    values = sorted(values)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=60000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--history", choices=("on", "off"), default="on")
    p.add_argument("--perf", action="store_true", help="perf stat counts a job on the worker and on Redis")
    p.add_argument("--cmds", action="store_true", help="each Redis command's calls and µs a job")
    p.add_argument("--threads", action="store_true", help="where the vCPUs went: the worker's threads, Redis, idle")
    p.add_argument("--json", action="store_true", help="end with one JSON line of the last run's figures")
    p.add_argument("--perf-record", metavar="PREFIX", help="perf record -g the worker and Redis during each run")
    p.add_argument("--callgrind", metavar="PREFIX", help="the worker under callgrind: its instructions a job")
    p.add_argument("--redis-callgrind", metavar="PREFIX", help="redis-server under callgrind: its instructions a job")
    p.add_argument("builds", nargs="+", metavar="label=/path/to/hoopoe[,ENV=value...]")
    args = p.parse_args()
    builds = []
    for spec in args.builds:
        label, _, rest = spec.partition("=")
        binary, *envs = rest.split(",")
        if not label or not os.access(binary, os.X_OK):
            p.error(f"{spec!r}: expected label=/path/to/an/executable/hoopoe")
        builds.append((label, binary, dict(e.split("=", 1) for e in envs)))
    results = {}
    for rnd in range(args.rounds):
        for label, binary, env_extra in (builds if rnd % 2 == 0 else builds[::-1]):
            res = one_run(args, label, binary, env_extra, args.history == "on" and not label.endswith("-off"), rnd)
            results.setdefault(label, []).append(res)
            print(f"r{rnd} {label:14} {res['jps']:8.0f} jobs/s  worker {res['worker_us']:5.1f} µs/job "
                  f"(user {res['user_us']:5.1f})  redis {res['redis_us']:5.1f} µs/job  "
                  f"commands {res['commands_a_job']:.3f}/job", flush=True)
            if res["instructions"] is not None:
                print(f"      instructions {res['instructions']:,.0f}/job (callgrind)", flush=True)
            if res["redis_instructions"] is not None:
                print(f"      Redis instructions {res['redis_instructions']:,.0f}/job (callgrind)", flush=True)
            for side in ("worker", "redis"):
                side_counts = {k: v for (s, k), v in res["counts"].items() if s == side}
                if side_counts:
                    print(f"      {side:6} " + "  ".join(f"{k} {v:.3f}" for k, v in side_counts.items()), flush=True)
            if res["threads"]:
                print("      " + threads_line(res["threads"]), flush=True)
            if args.cmds:
                for name, (calls, us) in sorted(res["commands"].items(), key=lambda kv: -kv[1][1]):
                    print(f"      {name:18} {calls:6.3f} calls/job {us:6.2f} µs/job", flush=True)
    print("medians:")
    for label, rs in results.items():
        print(f"  {label:14} {median(x['jps'] for x in rs):8.0f} jobs/s  worker {median(x['worker_us'] for x in rs):5.1f} "
              f"(user {median(x['user_us'] for x in rs):5.1f})  redis {median(x['redis_us'] for x in rs):5.1f}  "
              f"commands {median(x['commands_a_job'] for x in rs):.3f}"
              + (f"  instructions {median(x['instructions'] for x in rs):,.0f}/job" if args.callgrind else "")
              + (f"  Redis instructions {median(x['redis_instructions'] for x in rs):,.0f}/job" if args.redis_callgrind else ""))
    for line in pair_lines(results, [label for label, _, _ in builds]):
        print(line)
    if args.json and args.rounds > 0:
        print(json.dumps(json_line(args.jobs, res, results[label])))


def json_line(jobs, last, runs):
    """`--json`'s line: the last run's figures, and under "medians" the medians of that build's runs (for a count that
    moves with its runs' batches, such as Redis's instructions under callgrind: scripts/bench.sh section 9)."""
    figures = ("jps", "worker_us", "redis_us", "commands_a_job", "instructions", "redis_instructions")
    medians = {k: median(r[k] for r in runs) for k in figures if all(r.get(k) is not None for r in runs)}
    return {"jobs": jobs, **{k: v for k, v in last.items() if k != "counts"}, "runs": len(runs), "medians": medians}


def threads_line(t):
    """One run's ``vcpu_shares`` as a line: the largest of the worker's threads first."""
    threads = ", ".join(f"{name} {share:.2f}" for name, share in sorted(t["worker"].items(), key=lambda kv: -kv[1]))
    return (f"vCPUs over {t['seconds']:.2f} s (of {t['vcpus']}): Redis {t['redis']:.2f}, "
            f"the worker {t['worker_total']:.2f} ({threads}), the rest {t['other']:.2f}, idle {t['idle']:.2f}"
            + (f"; {words}" if (words := (t.get("idle_polling") or {}).get("words")) else ""))


def pair_lines(results, labels):
    """Each build against the first, round by round: how often lower and higher, and the median ratio."""
    lines = []
    base = labels[0]
    for label in labels[1:]:
        pairs = list(zip(results[base], results[label]))
        lines.append(f"{label} against {base}, {len(pairs)} rounds:")
        for key, name in (("worker_us", "worker CPU a job"), ("user_us", "its user part"), ("redis_us", "Redis CPU a job"),
                          ("jps", "jobs/s")):
            lower = sum(b[key] < a[key] for a, b in pairs)
            higher = sum(b[key] > a[key] for a, b in pairs)
            ratios = [b[key] / a[key] for a, b in pairs if a[key]]
            ratio = f"{median(ratios):.2f}×" if ratios else "n/a"
            lines.append(f"  {name:17} {ratio} (median of the rounds' ratios), lower in {lower}, higher in {higher}")
    return lines


if __name__ == "__main__":
    main()
