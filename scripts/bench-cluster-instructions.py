#!/usr/bin/env python3
"""`make bench`, section 9: Redis's instructions a job, one Redis against a three-primary cluster, every server under
callgrind: whether spreading the queues over three primaries adds work a job, in a count the VM's speed does not move.

The cluster row of section 6 compares CPU time, and on a 2-vCPU machine its three primaries share two vCPUs' caches
with each other and with the worker: each primary's microseconds a read run higher than one Redis's for the same
commands (docs/benchmarks.md, sessions 6 and 48). This count says whether the excess is work the cluster adds or the
machine's. It is named beside the row, never counted (decision 0094).

Each round drains the topology rows' backlog (`hoopoe-bench fill N` of `diag.incr` jobs over four queues, one
`hoopoe worker --concurrency 20`, its default settings) from one Redis, then from the cluster, every redis-server under
`valgrind --tool=callgrind`, collecting only while the worker drains (`callgrind_control -i on/off`). Before each
drain the servers are counted idle for IDLE_S seconds with the backlog filled and no client (the `hz` cron, and on a
cluster the bus's pings), and that rate a second, times the drain's seconds, is taken off: a slower drain under
valgrind must not read as work a job. As in `bench-ab.py --redis-callgrind`, Redis under valgrind is the bottleneck, so
the worker's batches run larger than at full speed: the count compares the two topologies in that regime.

    HOOPOE_BIN=.build/release/hoopoe HOOPOE_BENCH_BIN=.build/release/hoopoe-bench scripts/bench-cluster-instructions.py

Env: BENCH_CLUSTER_INSTRUCTIONS_JOBS (jobs a drain, 20000), BENCH_CLUSTER_INSTRUCTIONS_ROUNDS (3),
BENCH_CLUSTER_INSTRUCTIONS_PORT (the first of four loopback ports, 7480). Run from the checkout (the worker reads
jobs/sms_templates.yaml). Prints a line a drain, then one JSON line: each row's instructions a job a round, each round's
ratio (cluster ÷ one Redis) and their median. Exit 1 when a drain does not finish (the reason on stderr).
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOOPOE = os.environ.get("HOOPOE_BIN", os.path.join(ROOT, ".build/release/hoopoe"))
BENCH = os.environ.get("HOOPOE_BENCH_BIN", os.path.join(ROOT, ".build/release/hoopoe-bench"))
N = int(os.environ.get("BENCH_CLUSTER_INSTRUCTIONS_JOBS", "20000"))
ROUNDS = int(os.environ.get("BENCH_CLUSTER_INSTRUCTIONS_ROUNDS", "3"))
PORT = int(os.environ.get("BENCH_CLUSTER_INSTRUCTIONS_PORT", "7480"))
QUEUES = "default,mail,critical,low"  # as bench-topologies.py's rows: on three different primaries of the cluster
COUNTER = "bench:done"
IDLE_S = 5.0
TIMEOUT_S = 600


def per_job(drained, idle, idle_seconds, drain_seconds, jobs):
    """Instructions a job: those counted while the worker drained, less the servers' idle rate over as long."""
    return (drained - idle / idle_seconds * drain_seconds) / jobs


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=60).stdout.strip()


class Server:
    """A redis-server under callgrind, counting nothing until told; its profile dumped on request."""

    def __init__(self, root, port, *args):
        self.port = port
        self.directory = os.path.join(root, str(port))
        os.makedirs(self.directory)
        self.process = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={self.directory}/callgrind.out",
             "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", self.directory, "--save", "",
             "--appendonly", "no", "--logfile", os.path.join(self.directory, "log"), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.counted = 0  # what earlier dumps held
        deadline = time.monotonic() + 60  # valgrind's start-up
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"redis-server under valgrind did not start on {port}")
                time.sleep(0.1)

    def collect(self, on):
        subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(self.process.pid)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def take(self):
        """The instructions counted since the last take: a dump (callgrind zeroes its counters at each), summed."""
        subprocess.run(["callgrind_control", "-d", str(self.process.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=60)
        total = 0
        for name in os.listdir(self.directory):
            if name.startswith("callgrind.out"):
                with open(os.path.join(self.directory, name)) as f:
                    for line in f:
                        if line.startswith("totals:"):
                            total += int(line.split()[1])
        taken, self.counted = total - self.counted, total
        return taken

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def drain(url, servers, counter_port):
    """One drain of N jobs: (instructions a job, idle instructions a second, the drain's seconds)."""
    for server in servers:
        cli(server.port, "FLUSHALL")
    env = {**os.environ, "REDIS_URL": url}
    fill = subprocess.run([BENCH, "fill", str(N), QUEUES], env=env, capture_output=True, text=True, cwd=ROOT)
    if fill.returncode != 0:
        raise RuntimeError(f"fill failed: {fill.stderr.strip()[-400:]}")
    for server in servers:
        server.take()  # whatever was counted before, out
        server.collect(True)
    time.sleep(IDLE_S)
    for server in servers:
        server.collect(False)
    idle = sum(server.take() for server in servers)
    for server in servers:
        server.collect(True)
    started = time.monotonic()
    worker = subprocess.Popen([HOOPOE, "worker", "--queues", QUEUES, "--concurrency", "20"], cwd=ROOT,
                              env={**env, "LOG_LEVEL": "warning"}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while int(cli(counter_port, "GET", COUNTER) or 0) < N:
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited {worker.returncode}: {worker.stderr.read()[-400:]}")
            if time.monotonic() - started > TIMEOUT_S:
                raise RuntimeError(f"{N} jobs did not finish within {TIMEOUT_S} s")
            time.sleep(0.1)
        time.sleep(1.0)  # the last acknowledgements' replies, under valgrind
        seconds = time.monotonic() - started
    finally:
        for server in servers:
            server.collect(False)
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    drained = sum(server.take() for server in servers)
    return per_job(drained, idle, IDLE_S, seconds, N), idle / IDLE_S, seconds


def main():
    root = tempfile.mkdtemp(prefix="hoopoe-bench-cluster-instructions-")
    servers = []
    try:
        one = Server(root, PORT)
        servers.append(one)
        ports = [PORT + 1, PORT + 2, PORT + 3]
        cluster = [Server(root, p, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "15000")
                   for p in ports]
        servers += cluster
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-yes"],
                       capture_output=True, check=True, timeout=120)
        deadline = time.monotonic() + 120
        while not all("cluster_state:ok" in cli(p, "CLUSTER", "INFO") for p in ports):
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not agree")
            time.sleep(0.2)
        owner = next(p for p in ports if "MOVED" not in cli(p, "GET", COUNTER))
        rows = {"plain": [], "cluster": []}
        for round_ in range(1, ROUNDS + 1):
            for name, url, nodes, counter in (
                ("plain", f"redis://127.0.0.1:{PORT}", [one], PORT),
                ("cluster", "redis-cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports), cluster, owner),
            ):
                instructions, idle, seconds = drain(url, nodes, counter)
                rows[name].append(instructions)
                print(f"round {round_}, {'one Redis' if name == 'plain' else 'three primaries'}: {instructions:,.0f} instructions a job "
                      f"({N:,} jobs in {seconds:.1f} s; idle {idle:,.0f} a second taken off)", flush=True)
        ratios = [c / p for p, c in zip(rows["plain"], rows["cluster"])]
        print(json.dumps({"jobs": N, "plain": rows["plain"], "cluster": rows["cluster"], "ratios": ratios, "ratio": median(ratios)}))
    except (RuntimeError, subprocess.SubprocessError, OSError, ValueError) as error:
        print(f"bench-cluster-instructions: {error}", file=sys.stderr)
        sys.exit(1)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
