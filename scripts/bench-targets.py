#!/usr/bin/env python3
"""`make bench`'s last table: every figure issue 17 sets a target for, beside its target, from this run.

    scripts/bench-targets.py FACTS.jsonl

Each section of scripts/bench.sh appends what it measured to FACTS as one JSON line, {"fact": SECTION, ...}, or
{"fact": SECTION, "error": why} when it failed, or {"fact": SECTION, "skipped": why}. A row whose section did not
measure its figure says so (the reason, not a number); a number outside what makes sense (zero, NaN, a latency run
where not every job started) is a failure, never a "met", and so is a peers' row with a "warning" (the harness's
driver sets it when bench:done ended past N: some jobs ran more than once, which inflates the row's rate).

The peers' section may add {"fact": "peers-repeat", "peers": [...]} lines, one for each further run of the harness with
Sidekiq's and this build's rows only (BENCH_PEERS_REPEAT): the 1-process ratio is then the median of the pairs' ratios
(each pair side by side in one harness run) and the worker and Redis CPU rows the medians of this build's rows, every
value listed (decision 0049). A row may carry "started_s", when the harness began it (seconds into its run, which
scripts/bench.sh reads from the harness's log): two rows that started more than PAIR_WINDOW_S (60 s) apart are not side
by side, and are not paired; the row says so. Likewise:
- {"fact": "client-repeat", ...} lines, more pairs of redis-benchmark's rates then this client's (BENCH_CLIENT_REPEAT):
  the two client rows read the median of the pairs' ratios;
- {"fact": "latency-repeat", ...} lines, more 10,000 jobs/s runs (BENCH_LATENCY_REPEAT): the p99 row reads the median
  p99 of all the runs, and names beside it, without counting it, the median p99 of the {"fact": "latency-floor", ...}
  lines, the machine's floor (a C hiredis pair run after each: decision 0060);
- {"fact": "enqueue-repeat", ...} lines, more batch-enqueue runs (BENCH_ENQUEUE_REPEAT): that row reads the median of
  all the runs, and names beside it, without counting it, the median of the {"fact": "enqueue-ceiling", ...} lines
  (Redis's own pipelined XADD of the same envelope: decision 0060);
- {"fact": "topology-repeat", "round": k, "row": plain|tls|cluster, ...} lines (BENCH_TOPOLOGY_REPEAT): the TLS and
  cluster rows read the median of each round's ratio;
- {"fact": "machine-speed", "loop_ms": ...} lines, one before each run of the peers' harness (bench/floor/cpu_loop.py):
  the worker and Redis CPU rows name them, without counting them, as the machine's speed in those minutes;
- {"fact": "instructions", "who": this|base, "side": worker|redis, "per_job": ...} lines (section 9, callgrind): the
  worker and Redis CPU rows name this build's count, and the base's beside it, without counting them (decision 0078);
- a {"fact": "cluster-instructions", "ratios": [...], "plain": [...], "cluster": [...]} line (section 9, every server
  under callgrind): the cluster row names the three primaries' instructions a job against one Redis's, without
  counting them (decision 0095).
The 1-process row also names, without counting it, the machine's ceiling for each pair: the vCPUs (os.cpu_count())
divided by Hoopoe's worker and Redis CPU a job, as a ratio to that pair's Sidekiq (no run can go faster than its
worker and its Redis can be given CPU); and, from a {"fact": "peers-profile", "jobs": N, "jps": ..., "threads": ...}
line (`bench-ab.py --threads --json`), where the vCPUs went while this build drained a backlog alone: Redis, the
worker, the rest of the machine, idle. Idle vCPUs say the row waited on hand-overs between threads, not on CPU.
The other rows read the first run.
"""
import json
import math
import os
import sys

MIB = 1024 * 1024
PAIR_WINDOW_S = 60  # two peers' rows that started further apart than this are not a pair (decision 0049)


def load(path):
    facts = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                fact = json.loads(line)
                if fact["fact"] == "topology":
                    facts.setdefault("topology", {})[fact["row"]] = fact
                elif fact["fact"] == "peers-repeat":
                    if "peers" in fact:  # a repeat whose report could not be read is left out
                        facts.setdefault("peers-repeat", []).append(fact["peers"])
                elif fact["fact"] in ("latency-repeat", "latency-floor", "enqueue-repeat", "enqueue-ceiling", "machine-speed",
                                      "instructions", "client-repeat"):
                    facts.setdefault(fact["fact"], []).append(fact)
                elif fact["fact"] == "topology-repeat":
                    facts.setdefault("topology-repeat", {}).setdefault(fact["round"], {})[fact["row"]] = fact
                else:
                    facts[fact["fact"]] = fact
    return facts


class Missing(Exception):
    """The figure was not measured in this run; the message says why."""


def need(facts, section):
    fact = facts.get(section)
    if fact is None:
        raise Missing(f"not run ({section} section did not report)")
    if "skipped" in fact:
        raise Missing(f"not run ({fact['skipped']})")
    if "error" in fact:
        raise Missing(f"failed: {fact['error']}")
    return fact


def number(value, what):
    if not isinstance(value, (int, float)) or math.isnan(value) or value <= 0:
        raise Missing(f"failed: {what} is {value!r}")
    return float(value)


def peer(facts, name):
    peers = need(facts, "peers")["peers"]
    row = next((p for p in peers if p.get("peer") == name), None)
    if row is None:
        raise Missing(f"not run ({name} not in BENCH_PEERS)")
    if row.get("error") or row.get("skipped"):
        raise Missing(f"{name} failed: {row.get('error') or row.get('skipped')}")
    if row.get("warning"):
        raise Missing(f"{name} failed: {row['warning']} (some jobs ran more than once, which inflates its rate)")
    return row


def repeated(facts, *names):
    """The rows of `names` from each repeated run of the harness that measured all of them (decision 0049): a list
    of tuples, one a run, in run order. A repeat where one of them failed (an error, or a warning: see `peer`) is left
    out (the main run's rows say why)."""
    runs = []
    for peers in facts.get("peers-repeat", []):
        found = [next((p for p in peers if p.get("peer") == name), None) for name in names]
        if all(r is not None and not r.get("error") and not r.get("skipped") and not r.get("warning") for r in found):
            runs.append(tuple(found))
    return runs


def apart(*rows_):
    """Seconds between the starts of rows of one harness run ("started_s"), or None when one has no start (facts of an
    older run, or a harness whose log could not be read): those are paired by run, as before."""
    starts = [r.get("started_s") for r in rows_]
    if not all(isinstance(s, (int, float)) and not math.isnan(s) for s in starts):
        return None
    return max(starts) - min(starts)


def median(values):
    """The middle value (the mean of the middle two for an even count)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def medianed(values, first_text, noun, show, passes):
    """A row read over several samples (decision 0049): `values[0]` is the first run's, which `first_text` describes.
    One value: that text and its verdict. More: the median with every value, each shown by `show`, the verdict on the
    median, and the first run's text after them."""
    if len(values) == 1:
        return first_text, passes(values[0])
    middle = median(values)
    each = ", ".join(show(v) for v in values)
    return f"median {show(middle)} of {len(values)} {noun}s ({each}); first {noun} {first_text}", passes(middle)


def load_note(*rows_):
    """The peers' harness's flag for CPU the machine spent outside the benchmark while a row ran."""
    busy = max(r.get("other_load_cores", 0) for r in rows_)
    return f" (other load: {busy:.1f} cores busy outside the benchmark)" if busy > 0.15 else ""


def rows(facts):
    """(figure, measured text, target text, met: True/False) for each target; met is None when not measured."""

    def vs_sidekiq(name, minimum):
        steady = lambda row, who: number(row.get("steady_rate"), f"{who}'s steady jobs/s")
        pairs, far = [], []  # far: the runs whose two rows started more than PAIR_WINDOW_S apart, not paired
        for h, t in [(peer(facts, "hoopoe"), peer(facts, name))] + repeated(facts, "hoopoe", name):
            gap = apart(h, t)
            if gap is not None and gap > PAIR_WINDOW_S:
                far.append(gap)
            else:
                pairs.append((h, t))
        why = (f"Hoopoe's and {name}'s rows started {', '.join(f'{g:.0f}' for g in far)} s apart (more than "
               f"{PAIR_WINDOW_S} s: not side by side)")
        if not pairs:
            raise Missing(f"not paired: {why}")
        ratios = [steady(h, "Hoopoe") / steady(t, name) for h, t in pairs]
        (h, t), ratio = pairs[0], ratios[0]
        first = f"{steady(h, 'Hoopoe'):,.0f} / {steady(t, name):,.0f} jobs/s = {ratio:.1f}×{load_note(h, t)}"
        text, met = medianed(ratios, first, "pair", lambda r: f"{r:.1f}×", lambda r: r >= minimum)
        left_out = f"; {len(far)} run{'s' if len(far) > 1 else ''} not paired: {why}" if far else ""
        return text + left_out + (machine_ceiling(pairs) + profile() if name == "sidekiq" else ""), met

    def profile():
        """Where the vCPUs went while this build drained a backlog alone (`bench-ab.py --threads`, session 34): the
        1-process row's profile, named, never counted. Idle vCPUs mean the row waited on hand-overs, not on CPU."""
        fact = facts.get("peers-profile")
        if not fact:
            return ""
        if "error" in fact or "skipped" in fact:
            return f"; its profile failed: {fact.get('error') or fact.get('skipped')}"
        t = fact.get("threads") or {}
        try:
            jobs = number(fact.get("jobs"), "the profile's jobs")
            rate = number(fact.get("jps"), "the profile's jobs/s")
            shares = [t["redis"], t["worker_total"], t["other"], t["idle"]]
            if any(not isinstance(v, (int, float)) or math.isnan(v) or v < 0 for v in shares):
                raise Missing("a share that is not a number")
        except (Missing, KeyError) as error:
            return f"; its profile could not be read: {error}"
        redis_share, worker_share, other, idle = shares
        return (f"; its profile, this build alone draining {jobs:,.0f} jobs at {rate:,.0f} jobs/s (bench-ab.py "
                f"--threads): of {t.get('vcpus', '?')} vCPUs Redis used {redis_share:.2f}, the worker {worker_share:.2f}, "
                f"the rest {other:.2f}, and {idle:.2f} stood idle{idle_polling(t.get('idle_polling'))}")

    def idle_polling(polling):
        """How the machine's idle vCPUs waited during the profile, in bench-ab.py's words (`idle_polling`, session 35):
        on the VM types of sessions 29–36 they halt at once (through haltpoll at 0 ns, or with no cpuidle driver), and a
        wake-up onto a halted vCPU goes through the host."""
        words = polling.get("words") if isinstance(polling, dict) else None
        return f"; {words}" if isinstance(words, str) and words else ""

    def machine_ceiling(pairs):
        """What the machine allows beside the 1-process ratio (decision 0060, amended in session 22): Hoopoe's worker and
        Redis share the machine's vCPUs, so at a pair's CPU a job (worker + Redis, from its first to its last job) no
        run can exceed vCPUs ÷ that many jobs a second; as a ratio to the same pair's Sidekiq. Named, never counted."""
        cores = os.cpu_count() or 1
        bounds = []
        positive = lambda v: isinstance(v, (int, float)) and not math.isnan(v) and v > 0
        for h, t in pairs:
            worker, redis, rate = h.get("worker_cpu_us_per_job"), h.get("redis_cpu_us_per_job"), t.get("steady_rate")
            if positive(worker) and positive(redis) and positive(rate):
                bounds.append(cores * 1e6 / (worker + redis) / rate)
        if not bounds:
            return ""
        each = f" ({', '.join(f'{b:.1f}×' for b in bounds)})" if len(bounds) > 1 else ""
        return (f"; the machine's ceiling at this CPU a job ({cores} vCPUs ÷ the worker's and Redis's CPU a job, against "
                f"the same pair's Sidekiq): {'median ' if len(bounds) > 1 else ''}{median(bounds):.1f}×{each}")

    def hoopoe_peer(field, what, maximum, unit, side):
        row = peer(facts, "hoopoe")
        value = number(row.get(field), what)
        values = [value] + [number(h.get(field), what) for (h,) in repeated(facts, "hoopoe")]
        text, met = medianed(values, f"{value:.1f} {unit}{load_note(row)}", "run", lambda v: f"{v:.1f} {unit}", lambda v: v <= maximum)
        return text + speed() + instructions(side), met

    def instructions(side):
        """The side's instructions a job under callgrind beside its CPU row (decision 0078): a count the VM's speed does
        not move, and the base's beside it in an A/B. Named, never counted: the target is CPU time."""
        readings = facts.get("instructions", [])
        mine = {r.get("who"): r for r in readings if r.get("side") == side}
        positive = lambda v: isinstance(v, (int, float)) and not math.isnan(v) and v > 0
        this, base = mine.get("this", {}), mine.get("base", {})
        if not positive(this.get("per_job")):
            failed = [r["error"] for r in readings if r.get("error")]
            return f"; its instruction count failed: {failed[0]}" if failed else ""
        count, runs = this["per_job"], this.get("runs")
        notes = [f"median of {runs} runs"] if isinstance(runs, int) and runs > 1 else []
        if positive(base.get("per_job")):
            notes.append(f"the base {base['per_job']:,.0f}: {count / base['per_job']:.3f}×")
        said = f" ({'; '.join(notes)})" if notes else ""
        return f"; {count:,.0f} instructions a job under callgrind{said}, which the VM's speed does not move"

    def speed():
        """The machine's speed beside the CPU rows (decision 0060, amended in session 22): a fixed loop's CPU time,
        taken before each run of the peers' harness. Named, never counted: it says which stretch the run fell in."""
        readings = facts.get("machine-speed", [])
        loops = [r["loop_ms"] for r in readings if isinstance(r.get("loop_ms"), (int, float)) and r["loop_ms"] > 0]
        if not loops:
            failed = [r["error"] for r in readings if r.get("error")]
            return f"; the machine's speed failed: {failed[0]}" if failed else ""
        return (f"; the machine's speed: a fixed loop took {', '.join(f'{v:.0f}' for v in loops)} ms before "
                f"{'each run' if len(loops) > 1 else 'the run'} of the peers (bench/floor/cpu_loop.py; larger is slower)")

    def commands():
        row = peer(facts, "hoopoe")
        enqueue = number(row.get("enqueue_cmds_per_job"), "enqueue commands a job")
        process = number(row.get("process_cmds_per_job"), "process commands a job")
        return f"{enqueue:.2f} + {process:.2f} = {enqueue + process:.2f}", enqueue + process <= 2.5

    def batch_enqueue():
        value = number(need(facts, "engine").get("batch_enqueue"), "batch enqueue jobs/s")
        values = [value] + [number(r.get("per_second"), "batch enqueue jobs/s")
                            for r in facts.get("enqueue-repeat", []) if "error" not in r]
        text, met = medianed(values, f"{value:,.0f} jobs/s", "run", lambda v: f"{v:,.0f}", lambda v: v >= 200_000)
        return text + ceiling(), met

    def ceiling():
        """The machine's ceiling beside the batch-enqueue row (decision 0060): Redis's own pipelined XADD of the same
        envelope, in runs beside this build's. Read, never counted: the target is Hoopoe's rate."""
        runs = facts.get("enqueue-ceiling", [])
        if not runs:
            return ""
        measured = [r for r in runs if "error" not in r]
        if not measured:
            return f"; the machine's ceiling failed: {runs[0]['error']}"
        rates = [number(r.get("per_second"), "the ceiling's XADDs/s") for r in measured]
        return (f"; the machine's ceiling (redis-benchmark XADD of the same envelope, -c 1 -P 1000): median "
                f"{median(rates):,.0f} XADDs/s of {len(rates)} ({', '.join(f'{v:,.0f}' for v in rates)})")

    def client(ours, theirs, what):
        """The median of the pairs' ratios (decision 0049): each pair redis-benchmark's rate, then this client's."""
        def ratio(fact):
            return number(fact.get(ours), f"Hoopoe's {what}") / number(fact.get(theirs), f"redis-benchmark's {what}")
        fact = need(facts, "client")
        ratios = [ratio(fact)] + [ratio(r) for r in facts.get("client-repeat", []) if "error" not in r]
        return medianed(ratios, f"{fact[ours]:,.0f} / {fact[theirs]:,.0f} ops/s = {ratios[0]:.2f}×", "pair",
                        lambda r: f"{r:.2f}×", lambda r: r >= 0.9)

    def latency():
        run = need(facts, "engine").get("latency", {}).get("10000")
        if run is None:
            raise Missing("failed: the engine printed no 10,000 jobs/s latency run")
        runs = [run] + [r for r in facts.get("latency-repeat", []) if "error" not in r]
        for r in runs:
            if r["jobs"] < r["expected"]:
                raise Missing(f"failed: only {r['jobs']:,} of {r['expected']:,} jobs started within a run")
        p99 = number(run["p99_ms"], "p99")
        # After the envelope's enqueued_at: the same run without the pacer's lag (where the time goes, not the target).
        after = f"; {number(run['p99_after_enqueue_ms'], 'p99 after enqueue'):.2f} after enqueued_at" if "p99_after_enqueue_ms" in run else ""
        first = f"p99 {p99:.2f} ms (p50 {run['p50_ms']:.2f}, max {run['max_ms']:.1f}; {run['jobs']:,} jobs{after})"
        values = [number(r["p99_ms"], "p99") for r in runs]
        text, met = medianed(values, first, "run", lambda v: f"p99 {v:.2f} ms", lambda v: v <= 1.0)
        return text + floor(), met

    def floor():
        """The machine's floor beside the p99 (decision 0060): what a C hiredis pair did at the same rate, in runs
        alternated with this build's. It is read, never counted: the target is Hoopoe's p99."""
        runs = facts.get("latency-floor", [])
        if not runs:
            return ""
        failed = [r["error"] for r in runs if "error" in r]
        measured = [r for r in runs if "error" not in r and r.get("jobs", 0) >= r.get("expected", 1)]
        if not measured:
            return f"; the machine's floor failed: {(failed or ['not every job arrived'])[0]}"
        p99s = [number(r["p99_ms"], "the floor's p99") for r in measured]
        p50 = median([number(r["p50_ms"], "the floor's p50") for r in measured])
        each = ", ".join(f"{v:.2f}" for v in p99s)
        return (f"; the machine's floor (a C hiredis pair, same rate, alternated): median p99 {median(p99s):.2f} ms "
                f"of {len(measured)} ({each}), p50 {p50:.2f}")

    def idle():
        fact = need(facts, "idle")
        value = number(fact.get("rss_mib"), "idle RSS")
        text = f"{value:.1f} MiB (VmRSS, 3 s after start, the binary not in the page cache)"
        if "anon_mib" in fact and "file_mib" in fact:
            text += (f": its own memory (RssAnon) {number(fact['anon_mib'], 'RssAnon'):.1f}, "
                     f"the binary's pages (RssFile) {number(fact['file_mib'], 'RssFile'):.1f}")
        # Named, never counted: the same binary read whole into the page cache first (decision 0066).
        if "warm_rss_mib" in fact:
            text += f"; the binary read whole first: {number(fact['warm_rss_mib'], 'the warm idle RSS'):.1f} MiB"
        return text, value <= 20

    def recovery():
        fact = need(facts, "recovery")
        value = fact.get("recovery_s")
        if not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
            raise Missing(f"failed: recovery time is {value!r}")
        return f"{value:.1f} s ({fact['jobs']} jobs of {fact['sleep_ms']} ms, kill -9, default settings)", value <= 15

    def topology(name):
        rows_ = facts.get("topology")
        if rows_ is None:
            need(facts, "topologies")  # skipped or failed as a whole
            raise Missing("not run (no topology rows)")
        row = rows_.get(name)
        if row is None:
            raise Missing(f"not run (no {name} row)")
        if "error" in row:
            raise Missing(f"{name} row failed: {row['error']}")
        return row

    def rounds_of(row):
        """The repeated rounds' (plain, `row`) pairs that both finished (decision 0049), in round order."""
        pairs = []
        for _, measured in sorted(facts.get("topology-repeat", {}).items()):
            plain, other = measured.get("plain"), measured.get(row)
            if plain and other and "error" not in plain and "error" not in other:
                pairs.append((plain, other))
        return pairs

    def tls():
        def cost(row, what):
            return number(row["worker_us"], f"{what} worker µs/job") + number(row["redis_us"], f"{what} Redis µs/job")
        plain, secure = topology("plain"), topology("tls")
        base, paid = cost(plain, "plain"), cost(secure, "TLS")
        ratios = [paid / base] + [cost(s, "TLS") / cost(p, "plain") for p, s in rounds_of("tls")]
        return medianed(ratios, f"{paid:.1f} / {base:.1f} µs/job (worker + Redis CPU) = {paid / base:.2f}×", "round",
                        lambda r: f"{r:.2f}×", lambda r: r <= 1.3)

    def cluster():
        plain, cluster_ = topology("plain"), topology("cluster")
        base = number(plain["redis_us"], "plain Redis µs/job")
        cost = number(cluster_["redis_us"], "cluster Redis µs/job")
        ratios = [cost / base] + [number(c["redis_us"], "cluster Redis µs/job") / number(p["redis_us"], "plain Redis µs/job")
                                  for p, c in rounds_of("cluster")]
        # "adds no cost", read with this VM's run-to-run noise (±10 %) as the margin.
        text, met = medianed(ratios, f"{cost:.1f} / {base:.1f} Redis µs/job (3 primaries summed, idle subtracted) = {cost / base:.2f}×",
                             "round", lambda r: f"{r:.2f}×", lambda r: r <= 1.10)
        return text + cluster_instructions(), met

    def cluster_instructions():
        """The cluster's work a job against one Redis's in instructions (section 9, decision 0095): named, never
        counted. The time row also pays for three servers sharing the machine's vCPUs and caches; this count does not."""
        fact = facts.get("cluster-instructions")
        if not fact or "skipped" in fact:
            return ""
        if "error" in fact:
            return f"; its instruction count failed: {fact['error']}"
        try:
            ratios = [number(r, "a round's instruction ratio") for r in fact.get("ratios") or []]
            plains = [number(p, "one Redis's instructions a job") for p in fact.get("plain") or []]
            spreads = [number(c, "the cluster's instructions a job") for c in fact.get("cluster") or []]
            if not (ratios and plains and spreads):
                raise Missing("no round")
            plain, spread = median(plains), median(spreads)
        except (Missing, ValueError, TypeError) as error:
            return f"; its instruction count could not be read: {error}"
        rounds = ", ".join(f"{r:.2f}×" for r in ratios)
        return (f"; in instructions under callgrind, {spread:,.0f} a job against one Redis's {plain:,.0f}: {median(ratios):.2f}× "
                f"(median of {len(ratios)} rounds: {rounds}), which the VM's speed and the servers' shared caches do not move")

    def memory():
        fact = need(facts, "memory")
        parts = []
        for workload in dict.fromkeys(r["workload"] for r in fact["rows"]):
            held = {r["held"]: r for r in fact["rows"] if r["workload"] == workload}
            sizes = ", ".join(f"{h} {number(held[h]['key_bytes'], h + ' bytes') / held[h]['jobs'] * 100_000 / MIB:.1f}"
                              for h in ("ready", "scheduled", "dead", "history") if h in held)
            parts.append(f"{workload}: {sizes} MiB")
        return "; ".join(parts), True

    return [
        ("One worker process vs Sidekiq, 1 process (steady jobs/s)", lambda: vs_sidekiq("sidekiq", 12), "≥ 12×"),
        ("One worker process vs Sidekiq, 2 processes", lambda: vs_sidekiq("sidekiq-2p", 2), "≥ 2×"),
        ("Worker CPU a job (peers' workload)", lambda: hoopoe_peer("worker_cpu_us_per_job", "worker CPU", 15, "µs", "worker"), "≤ 15 µs"),
        ("Redis CPU a job (peers' workload)", lambda: hoopoe_peer("redis_cpu_us_per_job", "Redis CPU", 10, "µs", "redis"), "≤ 10 µs"),
        ("Redis commands a job, enqueue + process", commands, "≤ 2.5"),
        ("Batch enqueue (1,000 a round trip)", batch_enqueue, "≥ 200,000 jobs/s"),
        ("Client, one task's round trips vs `redis-benchmark -c 1`", lambda: client("one_task", "rb_c1", "one-task rate"), "≥ 0.9×"),
        ("Client, pipelines of 16 vs `redis-benchmark -P 16`", lambda: client("p16", "rb_p16", "pipelined rate"), "≥ 0.9×"),
        ("Enqueue→start at 10,000 jobs/s (open loop)", latency, "p99 ≤ 1 ms"),
        ("Idle RSS of `hoopoe worker`", idle, "≤ 20 MiB"),
        ("Recovery of a killed worker's jobs", recovery, "≤ 15 s"),
        ("TLS per-job cost vs plain", tls, "≤ 1.3×"),
        ("3-primary cluster's per-job Redis cost vs one Redis", cluster, "no more (≤ 1.10×, the noise)"),
        ("Redis memory per 100k jobs (ready, scheduled, dead, history)", memory, "measured, documented"),
    ]


def main():
    facts = load(sys.argv[1])
    print("| figure (issue 17) | this run | target | met |")
    print("|---|---|---|---|")
    for figure, measure, target in rows(facts):
        try:
            value, met = measure()
            verdict = "met" if met else "**missed**"
        except Missing as why:
            value, verdict = str(why).replace("|", "/"), "–"
        except (KeyError, TypeError, ValueError) as error:  # a section wrote something unexpected: say so
            value, verdict = f"failed: unreadable figure ({error!r})", "–"
        print(f"| {figure} | {value} | {target} | {verdict} |")


if __name__ == "__main__":
    main()
