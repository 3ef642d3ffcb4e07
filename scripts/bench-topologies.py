#!/usr/bin/env python3
"""`make bench`, section 6: one `hoopoe worker` draining the same backlog on each Redis topology, in one run.

Rows: one plain Redis (the baseline); the same over TLS (`rediss://`, a CA made by `openssl` now); a primary with
one replica, without and with `REDIS_WAIT_REPLICAS=1` (every enqueue and settle waits for the replica); a
three-primary Redis Cluster (`redis-cluster://`, queues spread over the three primaries), and before it a one-primary
cluster (one cluster-enabled server owning every slot) that runs the cluster's code path (the client's routing and
per-queue fetches, a cluster-mode server) without spreading anything, so the two rows split what a cluster costs. Each row: FLUSHALL,
`hoopoe-bench fill N` (diag.incr jobs round-robin over four queues), then a release `hoopoe worker --concurrency 20`
started on them; the counter they increment is polled every 5 ms. Like the peers' driver
(../shared/bench/peers/driver.py), the steady rate and the CPU per job count from the first finished job to the
last; Redis CPU is summed over the primaries (`INFO cpu`), the worker's from /proc.

Redis CPU a job is the servers' CPU over that span less their idle CPU over as long: each row first measures its
primaries with the backlog filled and no client for IDLE_S seconds (the `hz` cron, and on a cluster the bus's
pings — about 2 ms/s a node here, 0.1–0.3 µs/job at 20k jobs/s), and the table says how much it took off. Everything
a job's traffic costs stays in, on every node. The round trips a job column is `total_reads_processed` summed over
the primaries: the requests Redis read, each a wake-up and a read and a write system call, which is where a cluster
spends most of what it adds (session 6: a cluster's per-queue fetches read a few jobs each, and each node's share of
a pipeline is smaller). The bench's own polling (a GET every 5 ms) is in both columns, about 0.01 a job. The
commands a job column is `total_commands_processed` summed over the primaries: every command Redis ran, the calls a
script makes included (an acknowledgement's `EVALSHA` counts with its `XACK`, `XDEL`, `HSET`...), so both sides
show the same work or say where it differs. After the table, each row with more than one primary gets a line a
primary: its reads a job, commands a read, CPU a job (idle not taken off) and the part of it spent in scripts (`INFO
commandstats`: the acknowledgement's `EVALSHA`), so the cost of spreading is seen node by node (decisions 0040, 0096).
Then, for one Redis, the one-primary cluster and the three primaries (first round), where each primary's command time
went: the acknowledge script's calls a job and jobs a call, its µs a job split into the commands it calls (`XACK`,
`XDEL`, `XTRIM`, `XPENDING`, `LPUSH`, the trim's `RPOP` and `HDEL`, `HINCRBY`, `EXPIRE`: in this workload only
scripts call them) and the rest, Lua's own work (its arguments, `redis.call`'s glue, collection), also as µs a call;
and the fetch's `XREADGROUP` and the records' `HSET` (decision 0040's amendment of session 21).

Then BENCH_TOPOLOGY_REPEAT (default 2) more rounds of the plain, TLS and three-primary rows, printed as a small table
and appended to BENCH_FACTS as {"fact": "topology-repeat", "round": k, "row": ...}: the Targets table reads the TLS
and cluster ratios as medians of the rounds (decision 0049).

Every server is private (loopback ports from BENCH_TOPOLOGY_PORT, default 7400) and removed at the end.
Env: BENCH_TOPOLOGY_N (jobs per row, default 100000), HOOPOE_BIN / HOOPOE_BENCH_BIN (release binaries),
BENCH_FACTS (a file each row is appended to as a JSON line, {"fact": "topology", "row": plain|tls|replica|wait|cluster1|cluster,
...}, for make bench's Targets table).
Prints a Markdown table; exit 1 when a row does not finish (its reason is printed).
"""
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import json
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOOPOE = os.environ.get("HOOPOE_BIN", os.path.join(ROOT, ".build/release/hoopoe"))
BENCH = os.environ.get("HOOPOE_BENCH_BIN", os.path.join(ROOT, ".build/release/hoopoe-bench"))
N = int(os.environ.get("BENCH_TOPOLOGY_N", "100000"))
PORT = int(os.environ.get("BENCH_TOPOLOGY_PORT", "7400"))
QUEUES = "default,mail,critical,low"  # on three different primaries of a three-primary cluster
COUNTER = "bench:done"
FACTS = os.environ.get("BENCH_FACTS")
CLK = os.sysconf("SC_CLK_TCK")
TIMEOUT_S = 300
IDLE_S = 1.0  # how long each row's idle baseline is measured


class Node:
    """One RESP connection to a server (TLS when given a context): enough to run INFO, GET, FLUSHALL."""

    def __init__(self, port, tls=None):
        self.port = port
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = tls.wrap_socket(raw, server_hostname="127.0.0.1") if tls else raw
        self.buffer = b""

    def __call__(self, *args):
        out = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in (str(x).encode() for x in args))
        self.sock.sendall(out)
        return self._read()

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"server on {self.port} closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            while len(self.buffer) < size + 2:
                self.buffer += self.sock.recv(65536)
            data, self.buffer = self.buffer[:size], self.buffer[size + 2:]
            return data.decode()
        if kind == b"*":
            return [self._read() for _ in range(int(rest))]
        raise ValueError(f"unexpected reply {line!r}")

    def info(self, section):
        return dict(l.split(":", 1) for l in self("INFO", section).splitlines() if ":" in l)

    def cpu(self):
        info = self.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def reads(self):
        """Requests read from clients so far (each a wake-up, a read and, for its replies, a write)."""
        return int(self.info("stats")["total_reads_processed"])

    def commands(self):
        """Commands run so far, those a script calls included."""
        return int(self.info("stats")["total_commands_processed"])

    def snapshot(self):
        """(CPU s, reads, commands, µs spent in scripts) now, for the per-primary lines. Scripts' time from INFO
        commandstats (`EVALSHA`, `EVAL`, `FCALL`): it includes the commands they call, which are also counted on their
        own lines, so no sum over all lines would mean anything."""
        stats, commandstats = self.info("stats"), self.info("commandstats")
        calls = {k.split("_", 1)[1]: (int(v.split("calls=", 1)[1].split(",", 1)[0]), int(v.split("usec=", 1)[1].split(",", 1)[0]))
                 for k, v in commandstats.items()}
        in_scripts = sum(usec for name, (_, usec) in calls.items()
                         if name in ("evalsha", "eval", "fcall", "evalsha_ro", "eval_ro", "fcall_ro"))
        return self.cpu(), int(stats["total_reads_processed"]), int(stats["total_commands_processed"]), in_scripts, calls


class Servers:
    """The private redis-servers of the run, each in its own directory under one temporary root."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="hoopoe-bench-topologies-")
        self.processes = []
        self.next_port = PORT

    def port(self):
        self.next_port += 1
        return self.next_port - 1

    def start(self, *args, port=None, tls_port=False):
        port = port or self.port()
        directory = os.path.join(self.root, str(port))
        os.makedirs(directory)
        listen = ["--port", "0", "--tls-port", str(port)] if tls_port else ["--port", str(port)]
        process = subprocess.Popen(
            ["redis-server", *listen, "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no",
             "--logfile", os.path.join(directory, "log"), *args], stdout=subprocess.DEVNULL)
        self.processes.append(process)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on {port} did not start")

    def stop(self):
        for process in self.processes:
            process.kill()
            process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def certificates(directory):
    """A CA and a server certificate for 127.0.0.1 it signed, as the TLS tests make them."""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    ca, key = os.path.join(directory, "ca.pem"), os.path.join(directory, "ca.key")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", ca,
            "-days", "1", "-subj", "/CN=bench-ca", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    server, server_key, csr, ext = (os.path.join(directory, f) for f in ("server.pem", "server.key", "server.csr", "server.ext"))
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", server_key,
            "-out", csr, "-subj", "/CN=127.0.0.1")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", key, "-CAcreateserial", "-out", server, "-days", "1", "-extfile", ext)
    return ca, server, server_key


def wait_until(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def process_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK  # utime, stime


def idle_cpu_per_second(primaries):
    """The primaries' summed CPU a second with no client at work: cron, and on a cluster the bus (not per-job cost)."""
    time.sleep(0.2)  # let the fill's last replies and frees settle
    cpu, started = sum(n.cpu() for n in primaries), time.monotonic()
    time.sleep(IDLE_S)
    return (sum(n.cpu() for n in primaries) - cpu) / (time.monotonic() - started)


def run_row(url, primaries, counter_node, extra_env=None):
    """Fills N jobs, lets one worker drain them; returns (steady jobs/s, worker µs/job, Redis µs/job less idle,
    idle Redis µs/s subtracted, Redis round trips/job, Redis commands/job)."""
    for node in primaries:
        node("FLUSHALL")
    env = {**os.environ, "REDIS_URL": url}
    fill = subprocess.run([BENCH, "fill", str(N), QUEUES], env=env, capture_output=True, text=True)
    if fill.returncode != 0:
        raise RuntimeError(f"fill failed: {fill.stderr.strip()[-400:]}")
    idle = idle_cpu_per_second(primaries)
    worker = subprocess.Popen(
        [HOOPOE, "worker", "--queues", QUEUES, "--concurrency", "20"],
        env={**env, "LOG_LEVEL": "warning", **(extra_env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        done = lambda: int(counter_node("GET", COUNTER) or 0)
        started = time.monotonic()
        first = 0
        while first == 0:
            first = done()
            if worker.poll() is not None:
                raise RuntimeError(f"the worker exited {worker.returncode}: {worker.stderr.read()[-400:]}")
            if time.monotonic() - started > TIMEOUT_S:
                raise RuntimeError("no job finished")
            time.sleep(0.005)
        t_first, cpu_first, redis_first = time.monotonic(), process_cpu(worker.pid), sum(n.cpu() for n in primaries)
        nodes_first = [n.snapshot() for n in primaries]
        reads_first = sum(n.reads() for n in primaries)
        commands_first = sum(n.commands() for n in primaries)
        jobs = first
        while jobs < N:
            if time.monotonic() - started > TIMEOUT_S:
                raise RuntimeError(f"{jobs} of {N} jobs ran within {TIMEOUT_S} s")
            time.sleep(0.005)
            jobs = done()
        t_end, cpu_end, redis_end = time.monotonic(), process_cpu(worker.pid), sum(n.cpu() for n in primaries)
        nodes_end = [n.snapshot() for n in primaries]
        reads_end = sum(n.reads() for n in primaries)
        commands_end = sum(n.commands() for n in primaries)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    counted, wall = N - first, t_end - t_first
    redis = redis_end - redis_first - idle * wall
    per_node = []  # each primary: reads a job, commands a read, CPU µs a job (idle not taken off), µs a job in scripts,
    # and each command's (calls, µs) a job
    for node, a, b in zip(primaries, nodes_first, nodes_end):
        reads = b[1] - a[1]
        commands = {name: ((calls - a[4].get(name, (0, 0))[0]) / counted, (usec - a[4].get(name, (0, 0))[1]) / counted)
                    for name, (calls, usec) in b[4].items()}
        per_node.append((node.port, reads / counted, (b[2] - a[2]) / max(1, reads), 1e6 * (b[0] - a[0]) / counted, (b[3] - a[3]) / counted,
                         commands))
    return (counted / wall, 1e6 * (cpu_end - cpu_first) / counted, 1e6 * redis / counted, 1e6 * idle,
            (reads_end - reads_first) / counted, (commands_end - commands_first) / counted, per_node)


SCRIPT_ONLY = ("xack", "xdel", "xtrim", "xpending", "lpush", "rpop", "hdel", "hincrby", "expire")  # the acknowledgement's inner calls


def command_split(commands, whole=True):
    """One primary's (or a sum's) command time a job: the acknowledge script, split into the commands it calls and Lua's
    own work, then the fetch and the records' writes. Jobs a call only for a `whole` row (one primary, or the sum): a
    primary of several acknowledges only its queues' share of the jobs."""
    calls, usec = commands.get("evalsha", (0.0, 0.0))
    inner = sum(commands.get(name, (0.0, 0.0))[1] for name in SCRIPT_ONLY)
    own = usec - inner
    share = f" ({1 / calls if calls else 0:.1f} jobs a call)" if whole else ""
    text = (f"acknowledge script {calls:.3f} calls/job{share}, {usec:.2f} µs/job: "
            f"{inner:.2f} in the commands it calls, {own:.2f} its own ({own / calls if calls else 0:.0f} µs a call)")
    for name, label in (("xreadgroup", "XREADGROUP"), ("hset", "HSET")):
        text += f"; {label} {commands.get(name, (0.0, 0.0))[1]:.2f}"
    return text


def fact(kind="topology", **fields):
    """One row's figures for make bench's Targets table (BENCH_FACTS), when it asked for them; `kind` "topology-repeat"
    for the repeated rounds (with their `round`)."""
    if FACTS:
        with open(FACTS, "a") as f:
            f.write(json.dumps({"fact": kind, **fields}) + "\n")


def main():
    for binary in (HOOPOE, BENCH):
        if not os.access(binary, os.X_OK):
            sys.exit(f"{binary} is missing: build it with `swift build -c release` (make bench does)")
    servers = Servers()
    rows = []
    try:
        # 1. One plain Redis.
        plain = servers.start()
        node = Node(plain)
        rows.append(("plain", "one Redis, `redis://`", f"redis://127.0.0.1:{plain}/0", [node], node, None))

        # 2. The same over TLS.
        ca, cert, key = certificates(servers.root)
        tls_port = servers.start("--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", ca,
                                 "--tls-auth-clients", "no", tls_port=True)
        context = ssl.create_default_context(cafile=ca)
        tls_node = Node(tls_port, context)
        rows.append(("tls", "one Redis over TLS, `rediss://`", f"rediss://127.0.0.1:{tls_port}/0?ca={ca}", [tls_node], tls_node, None))

        # 3. A primary and a replica, without and with WAIT.
        primary = servers.start()
        replica = servers.start("--replicaof", "127.0.0.1", str(primary))
        primary_node = Node(primary)
        wait_until(lambda: "state=online" in primary_node("INFO", "replication"), "the replica to sync")
        url = f"redis://127.0.0.1:{primary}/0"
        rows.append(("replica", "primary + 1 replica, no WAIT", url, [primary_node], primary_node, None))
        rows.append(("wait", "primary + 1 replica, `REDIS_WAIT_REPLICAS=1`", url, [primary_node], primary_node, {"REDIS_WAIT_REPLICAS": "1"}))

        # 4. A one-primary cluster (the cluster's code path, nothing spread), then a three-primary cluster.
        single = Node(servers.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"))
        single("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        wait_until(lambda: "cluster_state:ok" in single("CLUSTER", "INFO"), "the one-primary cluster to be ok")
        rows.append(("cluster1", "Redis Cluster, 1 primary (every slot; the cluster's code path, nothing spread)",
                     f"redis-cluster://127.0.0.1:{single.port}", [single], single, None))
        ports = [servers.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000")
                 for _ in range(3)]
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-yes"],
                       check=True, capture_output=True)
        cluster = [Node(p) for p in ports]
        wait_until(lambda: all("cluster_state:ok" in n("CLUSTER", "INFO") for n in cluster), "the cluster to be ok")
        slot = cluster[0]("CLUSTER", "KEYSLOT", COUNTER)
        owner = next(n for n in cluster if not isinstance(n("GET", COUNTER), RuntimeError))
        rows.append(("cluster", f"Redis Cluster, 3 primaries (queues on all three; counter in slot {slot})",
                     "redis-cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports), cluster, owner, None))

        print(f"{N:,} `diag.incr` jobs a row over queues {QUEUES}; one `hoopoe worker --concurrency 20`.\n")
        print("| topology | steady jobs/s | worker CPU µs/job | Redis CPU µs/job (primaries, less idle) | Redis idle µs/s (subtracted) "
              "| Redis round trips/job | Redis commands/job | per-job worker cost vs one Redis |")
        print("|---|--:|--:|--:|--:|--:|--:|--:|")
        baseline = None
        failed = False
        spread = []  # the per-primary lines of the rows with more than one primary, printed after the table
        by_command = []  # the compared rows' command time, printed last
        for key, name, url, primaries, counter_node, extra in rows:
            try:
                rate, worker_us, redis_us, idle_us_per_s, round_trips, commands, per_node = run_row(url, primaries, counter_node, extra)
            except Exception as error:  # one failed row is reported, the others still run
                print(f"| {name} | failed: {error} | | | | | | |")
                fact(row=key, error=str(error))
                failed = True
                continue
            fact(row=key, rate=rate, worker_us=worker_us, redis_us=redis_us, redis_idle_us_per_s=idle_us_per_s, round_trips=round_trips,
                 commands=commands)
            baseline = baseline or worker_us
            print(f"| {name} | {rate:,.0f} | {worker_us:.1f} | {redis_us:.1f} | {idle_us_per_s:,.0f} | {round_trips:.2f} "
                  f"| {commands:.2f} | {worker_us / baseline:.2f}× |")
            if len(per_node) > 1:
                spread.append((key, counter_node.port, per_node))
            if key in ("plain", "cluster1", "cluster"):
                by_command.append((name.split(" (")[0], per_node))
        # BENCH_TOPOLOGY_REPEAT (default 2) more rounds of the rows the targets compare (plain, TLS, the 3-primary
        # cluster), each round's rows one after the other: the Targets table reads the median of each round's ratio
        # (decision 0049; one 100k-job row swings with the VM as the peers' rows do).
        repeat = int(os.environ.get("BENCH_TOPOLOGY_REPEAT", "2"))
        again = [row for row in rows if row[0] in ("plain", "tls", "cluster")]
        if repeat > 0 and not failed:
            print(f"\nThe compared rows again ({repeat} more rounds; Redis and worker CPU µs/job):\n")
            print("| round | " + " | ".join(name.split(",")[0] for _, name, *_ in again) + " |")
            print("|---|" + "--:|" * len(again))
        for round_ in range(1, repeat + 1 if not failed else 1):
            cells = []
            for key, name, url, primaries, counter_node, extra in again:
                try:
                    rate, worker_us, redis_us, idle_us_per_s, round_trips, commands, _ = run_row(url, primaries, counter_node, extra)
                except Exception as error:
                    cells.append(f"failed: {error}")
                    fact(row=key, round=round_, error=str(error), kind="topology-repeat")
                    continue
                fact(row=key, round=round_, rate=rate, worker_us=worker_us, redis_us=redis_us, kind="topology-repeat")
                cells.append(f"{rate:,.0f} jobs/s, Redis {redis_us:.1f}, worker {worker_us:.1f}")
            print(f"| {round_ + 1} | " + " | ".join(cells) + " |")
        for key, counter_port, per_node in spread:
            # Where a spread row's Redis CPU goes (decisions 0040, 0096): how often each primary wakes for how much.
            print(f"\nPer primary, `{key}` row (CPU with idle not taken off; µs in scripts from INFO commandstats):")
            for port, reads, per_read, cpu_us, in_scripts, _ in per_node:
                mark = " (holds the counter)" if port == counter_port else ""
                print(f"- :{port}{mark}: {reads:.3f} reads/job, {per_read:.1f} commands/read, {cpu_us:.2f} µs CPU/job "
                      f"({in_scripts:.2f} in scripts), {cpu_us / max(reads, 1e-9):.0f} µs/read")
        if by_command:
            print("\nWhere the compared rows' command time went (first round; µs a job, INFO commandstats; a row of several "
                  "primaries also summed):")
            for name, per_node in by_command:
                lines = [command_split(commands, whole=len(per_node) == 1) for *_, commands in per_node]
                if len(per_node) > 1:
                    summed = {}
                    for *_, commands in per_node:
                        for command, (calls, usec) in commands.items():
                            c, u = summed.get(command, (0.0, 0.0))
                            summed[command] = (c + calls, u + usec)
                    lines.append("summed: " + command_split(summed))
                for port_line, (port, *_) in zip(lines, per_node + [(None,)]):
                    print(f"- {name}" + (f", :{port}" if port and len(per_node) > 1 else "") + f": {port_line}")
        sys.exit(1 if failed else 0)
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
