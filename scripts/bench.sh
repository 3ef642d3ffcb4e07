#!/usr/bin/env bash
# `make bench` (run inside scripts/test-redis.sh, so REDIS_URL is a private server). Prints, in one run:
#   1. the Redis client beside redis-benchmark on the same server, as ratios (the 1-task row beside `-c 1`), then
#      BENCH_CLIENT_REPEAT (default 2) more pairs, each redis-benchmark's rates then this client's, whose ratios'
#      medians the targets read (decision 0049);
#   2. the engine: batch-enqueue rate (BENCH_ENQUEUE_REPEAT, default 2, more runs, whose median the target reads, each
#      beside the machine's ceiling: Redis's own pipelined XADD of the same envelope, bench/floor/xadd_ceiling.sh,
#      decision 0060), enqueue→start latency at 1,000 and 10,000 jobs/s (open loop: each job's
#      latency counts from its scheduled send time; BENCH_LATENCY_REPEAT, default 2, more 10,000 jobs/s runs, whose
#      median p99 the target reads: decision 0049), each 10,000 jobs/s run followed by the machine's floor (a C hiredis
#      pacer and consumer at the same rate: bench/floor/latency_floor.c, decision 0060), with a base BENCH_LATENCY_PAIRS
#      (default 6) alternated 10,000 jobs/s runs of this build and the base, summed up as medians and counts,
#      promotion of 1M due delayed jobs;
#   3. the idle RSS of a `hoopoe worker`;
#   4. recovery: a default `hoopoe worker` killed (-9) with jobs in flight, a second one started; seconds until every
#      one of them started again (scripts/bench-recovery.py);
#   5. Redis memory per 100k jobs held ready, scheduled, dead and in history, for the peers' envelope and a
#      reminder `sms.send` (hoopoe-bench memory: INFO memory's used_memory delta and MEMORY USAGE of the keys);
#   6. one worker on each Redis topology: plain, TLS, a replica without and with WAIT, a cluster of 1 primary (the
#      cluster code path alone) and of 3 primaries (the target's row) (scripts/bench-topologies.py: private servers
#      on ports 7400+; decision 0040), then BENCH_TOPOLOGY_REPEAT (default 2) more rounds of the plain, TLS and
#      3-primary rows, whose ratios the Targets table reads as medians (decision 0049); then each primary's wake-ups
#      and, for one Redis and both clusters, where the command time went (the acknowledge script's commands and its
#      Lua, the fetch, the records' HSET; decision 0040's session-21 amendment);
#   7. each dashboard page's median answer time on a 100k-job backlog (Tests/browser/bench_dashboard.py, release
#      build; needs .build/browser-venv from scripts/install-deps.sh, skipped with a note without it);
#   8. Hoopoe beside Sidekiq (1 and 2 processes), RQ, arq, dramatiq and Celery (../shared/bench/peers), same
#      workload, same run, this build's row between Sidekiq's two, so both ratios are of rows side by side; then
#      BENCH_PEERS_REPEAT (default 2) more runs of the harness with Sidekiq's and this build's rows only, so the
#      1-process ratio and the CPU rows are medians of pairs, each pair side by side
#      (decision 0049: one pair is ~0.4 s of Hoopoe's steady processing, its 50 ms slices swing between ~30k and ~80k jobs/s),
#      and the Targets table pairs no two rows that started more than 60 s apart (each row's start read from the harness's log);
#      before each run of the harness, the machine's speed (bench/floor/cpu_loop.py, a fixed loop's CPU time), which the
#      CPU rows name without counting it (decision 0060, amended in session 22); last, the 1-process row's profile:
#      this build alone draining BENCH_PROFILE_JOBS (150000) jobs, where the vCPUs went (scripts/bench-ab.py --threads);
#   9. instructions a job under callgrind, the worker's and Redis's, each in runs of its own (scripts/bench-ab.py
#      --callgrind, --redis-callgrind; BENCH_INSTRUCTIONS_JOBS, 20000 a run; Redis's the median of
#      BENCH_INSTRUCTIONS_REDIS_ROUNDS, 3): a count the VM's speed does not move, which the CPU rows name (decision
#      0078), this build's and the base's; then Redis's instructions a job on one Redis against a three-primary cluster,
#      every server under callgrind, over the topology rows' backlog (scripts/bench-cluster-instructions.py, this build;
#      BENCH_CLUSTER_INSTRUCTIONS_ROUNDS, 3), which the cluster row names (decision 0095); valgrind is installed when
#      missing;
#   then "Targets": every figure issue 17 sets a target for, from sections 1–9 of this run, beside its target, met
#   or missed (scripts/bench-targets.py; a section that failed or was skipped gives the reason in its row).
# Env: BENCH_N (client ops, 200000), BENCH_DELAYED (1000000), BENCH_PEERS (peers to run, in that order; default all:
#      sidekiq, hoopoe, sidekiq-2p, the other peers, any base), BENCH_TOPOLOGY_N (jobs a topology row, 100000),
#      BENCH_DASHBOARD_JOBS (backlog of 7, 100000), BENCH_MEMORY_JOBS (jobs a memory row, 100000), BENCH_RECOVERY_JOBS
#      (20, at most 20) and BENCH_RECOVERY_SLEEP_MS (3000),
#      BENCH_BIN_DIR (the folder of the release `hoopoe` and `hoopoe-bench` to measure; default .build/release),
#      BENCH_SKIP_<SECTION>=1 to leave a section out (CLIENT, ENGINE, IDLE, RECOVERY, MEMORY, TOPOLOGIES, DASHBOARD,
#      PEERS, INSTRUCTIONS; the peers take ~10 minutes), BENCH_ONLY="memory recovery ..." to run only the sections named
#      (client engine idle recovery memory topologies dashboard peers instructions),
#      BENCH_BASE=<commit> to measure that commit's release build beside this one in the same run (A/B): sections
#      2, 3, 8 and 9 then have a base row (8 also a `hoopoe-history-off` row: this build, HOOPOE_HISTORY_MAX_JOBS=0); the
#      base is built once under .build/bench-base/<sha> (a detached worktree). BENCH_BASE_BIN_DIR=<folder> instead takes
#      the base's release `hoopoe` and `hoopoe-bench` from that folder, built beforehand (labelled with the folder's name,
#      or BENCH_BASE_LABEL). The Targets table reads this build's rows.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${REDIS_URL##*:}"; port="${port%%/*}"
host="${REDIS_URL#*://}"; host="${host##*@}"; host="${host%%:*}"
n="${BENCH_N:-200000}"
bin="$(cd "${BENCH_BIN_DIR:-.build/release}" && pwd)"  # the release binaries measured
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$work/out"
facts="$work/facts.jsonl"  # what each section measured, one JSON line each, for the Targets table
: > "$facts"
fact() {  # fact SECTION KEY VALUE: one {"fact": SECTION, KEY: VALUE} line (a skipped or failed section)
  python3 -c 'import json, sys; print(json.dumps({"fact": sys.argv[1], sys.argv[2]: sys.argv[3]}))' "$@" >> "$facts"
}
want() {  # want SECTION: false, and the section marked skipped, when BENCH_ONLY leaves it out or BENCH_SKIP_<SECTION> is set
  local skip; skip="BENCH_SKIP_$(echo "$1" | tr '[:lower:]' '[:upper:]')"
  if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $1 "* ]]; then fact "$1" skipped "not in BENCH_ONLY"; return 1; fi
  if [ -n "${!skip:-}" ]; then fact "$1" skipped "$skip"; return 1; fi
}
run() {  # run SECTION CMD...: CMD's output into $out; when it fails, the section is marked failed with its last words
  local section="$1"; shift
  "$@" > "$out" 2> "$work/err" && return 0
  local rc=$? why
  why="$(tail -n 3 "$work/err" | tr '\n' ' ' | cut -c1-300)"
  echo "(failed: $* exited $rc: $why)"
  fact "$section" error "exited $rc: $why"
  return 1
}
report() {  # report FACT TEMPLATE KEY...: the last JSON line of $out (after `run`), printed through TEMPLATE (Python's
  # str.format over its fields), and appended to the facts as {"fact": FACT, KEY: its value, ...}; unreadable: FACT failed
  python3 - "$out" "$facts" "$@" <<'PY' || fact "$1" error "its output could not be read"
import json, sys
out, facts, name, template, *keys = sys.argv[1:]
r = json.loads(open(out).read().strip().splitlines()[-1])
print(template.format(**r))
with open(facts, "a") as f:
    f.write(json.dumps({"fact": name, **{k: r[k] for k in keys}}) + "\n")
PY
}
base=""  # the base's release binaries' folder, for an A/B in this run; $short names it
if [ -n "${BENCH_BASE_BIN_DIR:-}" ]; then
  base="$(cd "$BENCH_BASE_BIN_DIR" && pwd)"
  short="${BENCH_BASE_LABEL:-$(basename "$base")}"
elif [ -n "${BENCH_BASE:-}" ]; then
  sha="$(git rev-parse --verify "${BENCH_BASE}^{commit}")"
  short="${sha:0:7}"
  tree="$PWD/.build/bench-base/$sha"
  base="$tree/.build/release"
  shipped="$tree/.bench-base-built-as-shipped"  # absent: a base built before session 36, by the plain build below
  if [ ! -x "$base/hoopoe" ] || [ ! -x "$base/hoopoe-bench" ] || { [ -x "$tree/scripts/build-release.sh" ] && [ ! -e "$shipped" ]; }; then
    [ -d "$tree" ] || git worktree add --detach "$tree" "$sha" >/dev/null
    echo "[bench] building the base $short (release) in $tree" >&2
    # Built as that commit ships it (its own scripts/build-release.sh: static stdlib, symbol order), as this build is by
    # `make release`; a plain `swift build -c release` linked the stdlib dynamically, and its idle worker faulted in
    # 30 MiB of the binary against 15 (session 36). A commit from before the script gets the plain build.
    build=(swift build -c release)
    [ ! -x "$tree/scripts/build-release.sh" ] || build=(scripts/build-release.sh)
    (cd "$tree" && "${build[@]}" --product hoopoe >&2 && "${build[@]}" --product hoopoe-bench >&2)
    [ "${build[0]}" = swift ] || touch "$shipped"
  fi
fi
echo "# Hoopoe benchmarks, $(date -u '+%F %T') UTC, $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(redis-server --version | cut -d' ' -f3)"
echo "Binaries: $bin (the tree is at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo ', with uncommitted changes'))"

if want client; then
  echo
  echo "## 1. Redis client vs redis-benchmark (same server, same run)"
  rb() {  # redis-benchmark's INCR rate with the given options
    redis-benchmark -p "$port" -q -t incr "$@" | tr '\r' '\n' | grep -E '^INCR' | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/'
  }
  # BENCH_CLIENT_REPEAT (default 2) more pairs: each pair is redis-benchmark's three rates, then this client's, so each
  # ratio is of two measurements side by side, and the Targets table reads the median of the pairs' ratios (decision
  # 0049). One unpaired sample each read 1.12× and 1.65× against `-c 1`, 1.64× and 0.91× against `-P 16`, in session 53's
  # full run (beside debug builds) and in its quiet rerun 21 minutes later.
  pairs=$((1 + ${BENCH_CLIENT_REPEAT:-2}))
  for pair in $(seq 1 "$pairs"); do
    section=client; [ "$pair" -eq 1 ] || section=client-repeat  # the first pair's fact, then the repeats' (bench-targets.py)
    if ! { plain="$(rb -n "$n")" && piped="$(rb -n "$n" -P 16)" && single="$(rb -n "$((n / 10))" -c 1)"; }; then
      echo "(pair $pair failed: redis-benchmark gave no INCR rate)"; fact "$section" error "redis-benchmark gave no INCR rate"
    elif run "$section" "$bin/hoopoe-bench" redis "$n"; then
      python3 - "$plain" "$piped" "$single" "$out" "$facts" "$section" "$pair" "$pairs" <<'PY' || fact "$section" error "the client rows could not be read"
import json, sys
plain, piped, single = (float(x) for x in sys.argv[1:4])
rows = [json.loads(l) for l in open(sys.argv[4])]
section, pair, pairs = sys.argv[6], int(sys.argv[7]), int(sys.argv[8])
if pair == 1:
    print("| measurement | Hoopoe client ops/s | redis-benchmark ops/s | ratio |")
    print("|---|--:|--:|--:|")
fact = {"fact": section, "rb_c1": single, "rb_p16": piped, "rb_c50": plain}
said = []
for r in rows:
    if "1 task" in r["name"]:
        other, fact["one_task"] = single, r["per_second"]
    elif "pipelines" in r["name"]:
        other, fact["p16"] = piped, r["per_second"]
    else:
        other, fact["c50"] = plain, r["per_second"]
    if pair == 1:
        print(f"| {r['name']} | {r['per_second']:,} | {other:,.0f} | {r['per_second'] / other:.2f} |")
    else:
        said.append(f"{r['name']} {r['per_second']:,} / {other:,.0f} = {r['per_second'] / other:.2f}")
if said:
    if pair == 2:
        print()  # the first pair's table ends
    print(f"- pair {pair} of {pairs}: " + "; ".join(said))
with open(sys.argv[5], "a") as f:
    f.write(json.dumps(fact) + "\n")
PY
    fi
  done
  echo
  echo "redis-benchmark: INCR; the 1-task row beside \`-c 1\` (one client, one command a round trip, n/10 commands),"
  echo "the others beside 50 clients, unpipelined and \`-P 16\`. Each pair: redis-benchmark's three rates, then this"
  echo "client's; the Targets table reads the median of the pairs' ratios."
fi

if want engine; then
  echo
  echo "## 2. Engine"
  engine() {  # $1 = label (empty, this, base ...), $2 = the hoopoe-bench binary, $3 = the facts file or ""
    local section=engine; [ -n "$3" ] || section=engine-base  # the base's failure is not this build's
    run "$section" "$2" engine "${BENCH_DELAYED:-1000000}" || return 0
    python3 - "$1" "$3" "$out" <<'PY' || fact "$section" error "the engine's figures could not be read"
import json, sys
label, facts = sys.argv[1], sys.argv[2]
fact = {"fact": "engine", "latency": {}}
for line in open(sys.argv[3]):
    r = json.loads(line)
    name = (label + ": " if label else "") + r["name"]
    if "p50_ms" in r:
        p50, p99, top, jobs = r["p50_ms"], r["p99_ms"], r["max_ms"], r["jobs"]
        expected = r.get("expected", jobs)  # a base from before the 10k/s row says no more
        short = f", only {jobs:,} of {expected:,} started" if jobs < expected else ""
        lag = f"; the pacer's longest lag behind its schedule {r['max_send_lag_ms']:.2f} ms" if "max_send_lag_ms" in r else ""
        # p99 counted from the envelope's enqueued_at: without the pacer's lag (a base before session 15 has none).
        after = f"; p99 after the envelope's enqueued_at {r['p99_after_enqueue_ms']:.2f} ms" if "p99_after_enqueue_ms" in r else ""
        print(f"- {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {top:.2f} ms ({jobs:,} jobs{short}{lag}{after})")
        fact["latency"][str(r.get("rate", 1000))] = {"p50_ms": p50, "p99_ms": p99, "max_ms": top, "jobs": jobs, "expected": expected,
                                                     **{k: r[k] for k in ("p99_after_enqueue_ms",) if k in r}}
    else:
        rate = r["per_second"]
        print(f"- {name}: {rate:,} jobs/s")
        fact["batch_enqueue" if "batch" in r["name"] else "promotion"] = rate
if facts:
    with open(facts, "a") as f:
        f.write(json.dumps(fact) + "\n")
PY
  }
  # The machine's floor (decision 0060): a C hiredis pacer and consumer at the same rate and pacing
  # (bench/floor/latency_floor.c), one run after each of this build's 10,000 jobs/s runs, so each pair shares its minute.
  floor_bin="$work/latency_floor"
  if ! scripts/build-latency-floor.sh "$floor_bin" 2> "$work/err"; then
    fact latency-floor error "bench/floor/latency_floor.c did not build: $(tail -n 2 "$work/err" | tr '\n' ' ' | cut -c1-200)"
    floor_bin=""
  fi
  floor() {
    [ -n "$floor_bin" ] || return 0
    run latency-floor "$floor_bin" "$host" "$port" 10000 5 || return 0
    report latency-floor "- the machine's floor at 10000 jobs/s (a C hiredis pair): p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms, \
max {max_ms:.2f} ms ({jobs:,} jobs; p99 after the XADD was sent {p99_after_send_ms:.2f} ms)" \
      p50_ms p99_ms max_ms jobs expected p99_after_send_ms
  }
  # The machine's batch-enqueue ceiling (decision 0060): Redis's own pipelined XADD of the same envelope
  # (bench/floor/xadd_ceiling.sh: redis-benchmark, one connection, 1,000 a round trip), run beside each of this build's
  # batch-enqueue runs: before the engine's, which runs first, and after each BENCH_ENQUEUE_REPEAT one.
  ceiling() {
    run enqueue-ceiling bench/floor/xadd_ceiling.sh "$host" "$port" "$bin/hoopoe-bench" || return 0
    report enqueue-ceiling "- the machine's ceiling for the batch's writes (redis-benchmark XADD -c 1 -P 1000, the same \
{envelope_bytes}-byte envelope): {per_second:,} XADDs/s" per_second envelope_bytes
  }
  ceiling
  if [ -n "$base" ]; then
    engine this "$bin/hoopoe-bench" "$facts"
    floor
    engine "base $short" "$base/hoopoe-bench" ""
  else
    engine "" "$bin/hoopoe-bench" "$facts"
    floor
  fi
  # BENCH_LATENCY_REPEAT (default 2) more 10,000 jobs/s runs of this build: one 5 s run's p99 moves 0.9–2.4 ms on
  # these VMs, so the target's row reads the median of the runs (decision 0049), each listed, each followed by a floor run.
  for round in $(seq 1 "${BENCH_LATENCY_REPEAT:-2}"); do
    run latency-repeat "$bin/hoopoe-bench" latency 10000 5 || continue
    report latency-repeat "- at 10000 jobs/s, again: p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms, max {max_ms:.2f} ms ({jobs:,} jobs; \
p99 after the envelope's enqueued_at {p99_after_enqueue_ms:.2f} ms)" p50_ms p99_ms max_ms jobs expected p99_after_enqueue_ms
    floor
  done
  # With a base: BENCH_LATENCY_PAIRS (default 6) alternated 10,000 jobs/s runs of this build and the base, the order
  # turning each pair. One unpaired run a binary cannot show a 10 % change on these VMs; pairs in the same minutes can
  # (decision 0061 was judged so). Printed only: the Targets table reads this build's runs above.
  if [ -n "$base" ] && [ "${BENCH_LATENCY_PAIRS:-6}" -gt 0 ]; then
    for pair in $(seq 1 "${BENCH_LATENCY_PAIRS:-6}"); do
      order="this base"
      [ $((pair % 2)) -eq 0 ] && order="base this"
      for who in $order; do
        if [ "$who" = this ]; then pair_bin="$bin"; else pair_bin="$base"; fi
        run "latency-pair-$who" "$pair_bin/hoopoe-bench" latency 10000 5 || continue
        report "latency-pair-$who" "- pair $pair, $who: at 10000 jobs/s, p50 {p50_ms:.2f} ms, p99 {p99_ms:.2f} ms ({jobs:,} jobs)" \
          p50_ms p99_ms jobs expected
      done
    done
    python3 scripts/bench-pairs.py "$facts" "$short" || true
  fi
  # BENCH_ENQUEUE_REPEAT (default 2) more batch-enqueue runs of this build: one binary's runs moved between 153k and
  # 325k jobs/s within minutes on session 12's VM (session 18), so the target's row reads the median (decision 0049),
  # each followed by a ceiling run.
  for round in $(seq 1 "${BENCH_ENQUEUE_REPEAT:-2}"); do
    run enqueue-repeat "$bin/hoopoe-bench" enqueue 200000 || continue
    report enqueue-repeat "- batch enqueue (1000 a round trip), again: {per_second:,} jobs/s" per_second
    ceiling
  done
  echo
  echo "Latency: one in-process worker (concurrency 20), jobs enqueued one a call for 5 s, open loop: job i is due at"
  echo "start + i/rate, sent then whatever the sends before it did, and its latency counts from that scheduled time."
  echo "The p99 after the envelope's enqueued_at (the enqueuing client's clock, as it builds the envelope) leaves out"
  echo "the pacer's own lag. The machine's floor is no job system: a C pacer and a consumer process blocked in"
  echo "XREADGROUP, over hiredis, the same rate and pacing (bench/floor/latency_floor.c), run after each of this build's"
  echo "runs: what this VM's wake-ups and round trips cost any client. The ceiling for the batch's writes is Redis's own"
  echo "pipelined XADD of the same envelope (bench/floor/xadd_ceiling.sh): what this Redis does with the writes alone."
  if [ -n "$base" ]; then
    echo "The pairs: this build and the base alternated at 10,000 jobs/s, the order turning each pair, so a change too"
    echo "small for one run a binary shows as a count of pairs and a median of their ratios."
  fi
fi

if want idle; then
  echo
  echo "## 3. Idle worker"
  rss_after_start() {  # $1 = the hoopoe binary: prints "VmRSS RssAnon RssFile" in KiB, 3 s after a worker's start
    LOG_LEVEL=warning HOOPOE_NAMESPACE=bench-idle "$1" worker >/dev/null 2>&1 &
    local worker=$!
    sleep 3
    awk '/^VmRSS|^RssAnon|^RssFile/ {printf "%s ", $2}' "/proc/$worker/status" 2>/dev/null || true
    kill -TERM "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true
  }
  idle() {  # $1 = label, $2 = the hoopoe binary, $3 = record the fact (yes/no)
    # Counted: a start with none of the binary in the page cache (its pages dropped first, as after a reboot), so the
    # figure is what the worker faults in. How the binary's pages came into the cache moves VmRSS by 5 MiB for the
    # same binary on a kernel with large folios: the kernel maps a faulting page's cached neighbours and whole folios
    # too. Read whole first (the figure sessions 15-23 counted), it is named beside the counted one (decision 0066).
    # A drop that fails (a filesystem without it) does not end the bench: the two figures then read alike, which shows it.
    local drop='import os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED); os.close(fd)'
    python3 -c "$drop" "$2" || true
    local rss anon file warm_rss _
    read -r rss anon file _ <<< "$(rss_after_start "$2")" || true
    python3 -c "$drop" "$2" || true
    cat "$2" > /dev/null
    read -r warm_rss _ <<< "$(rss_after_start "$2")" || true
    if [ -z "$file" ] || [ -z "$warm_rss" ]; then
      echo "- idle RSS of hoopoe worker$1: failed (the worker exited within 3 s)"
      [ "$3" = no ] || fact idle error "the worker exited within 3 s of its start"
      return 0
    fi
    awk -v label="$1" -v rss="$rss" -v anon="$anon" -v file="$file" -v warm="$warm_rss" 'BEGIN {
      printf "- idle RSS of hoopoe worker%s (concurrency 20, 3 s after start, the binary not in the page cache): %.1f MiB (its own memory, RssAnon, %.1f MiB; the binary'"'"'s pages, RssFile, %.1f MiB); the binary dropped and read whole first: %.1f MiB\n", label, rss / 1024, anon / 1024, file / 1024, warm / 1024 }'
    [ "$3" = no ] || python3 -c 'import json, sys; k = [int(v) / 1024 for v in sys.argv[1:]]; print(json.dumps({"fact": "idle", "rss_mib": k[0], "anon_mib": k[1], "file_mib": k[2], "warm_rss_mib": k[3]}))' \
      "$rss" "$anon" "$file" "$warm_rss" >> "$facts"
  }
  idle "" "$bin/hoopoe" yes
  [ -z "$base" ] || idle " (base $short)" "$base/hoopoe" no
fi

if want recovery; then
  echo
  echo "## 4. Recovery of a killed worker's jobs"
  # bench-recovery.py prints its one line, the reason included, even when it fails.
  HOOPOE_BIN="$bin/hoopoe" python3 scripts/bench-recovery.py > "$out" 2> "$work/err" || true
  python3 - "$facts" "$out" <<'PY' || fact recovery error "bench-recovery.py printed no result: $(tail -n 2 "$work/err" | tr '\n' ' ' | cut -c1-300)"
import json, sys
r = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({"fact": "recovery", **r}) + "\n")
if "error" in r:
    print(f"- failed: {r['error']}")
else:
    attempts = ", ".join(f"{count} at attempt {a}" for a, count in sorted(r["attempts"].items()))
    print(f"- {r['jobs']} `diag.record` jobs of {r['sleep_ms']} ms in flight on a default `hoopoe worker`, `kill -9`, a second "
          f"default worker started at once: the last of them finished {r['done_s']:.1f} s after the kill, so all had started "
          f"again within **{r['recovery_s']:.1f} s** of it ({attempts}).")
PY
fi

if want memory; then
  echo
  echo "## 5. Redis memory per 100k jobs"
  if run memory "$bin/hoopoe-bench" memory "${BENCH_MEMORY_JOBS:-100000}"; then
    python3 - "$facts" "$out" <<'PY' || fact memory error "hoopoe-bench memory's lines could not be read"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
MIB = 1024 * 1024
print("| envelope | held | bytes stored a job | MEMORY USAGE a job | per 100k jobs | used_memory Δ per 100k |")
print("|---|---|--:|--:|--:|--:|")
for r in rows:
    scale = 100_000 / r["jobs"]
    print(f"| {r['workload']} | {r['held']} | {r['stored_bytes']} B | {r['key_bytes'] / r['jobs']:.0f} B | "
          f"{r['key_bytes'] * scale / MIB:.1f} MiB | {r['used_memory_delta'] * scale / MIB:.1f} MiB |")
print(f"\n{rows[0]['jobs']:,} jobs a row, each in a fresh namespace. *Bytes stored*: one envelope (or history record) as "
      "Redis holds it; *MEMORY USAGE*: the keys holding the jobs (`SAMPLES 0`: every element), per job; *used_memory Δ* "
      "also counts what the path writes besides (a dead job's `job.dead` event). Ready: the stream; scheduled, dead, "
      "history: a sorted set + a hash each (dead set and history raised to keep them all: the defaults keep 10,000 a queue).")
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({"fact": "memory", "rows": rows}) + "\n")
PY
  fi
fi

if want topologies; then
  echo
  echo "## 6. Topologies (one worker, same backlog, same run)"
  HOOPOE_BIN="$bin/hoopoe" HOOPOE_BENCH_BIN="$bin/hoopoe-bench" BENCH_FACTS="$facts" python3 scripts/bench-topologies.py \
    || { echo "(a topology row failed: its reason is in its row, or above)"
         grep -q '"topology"' "$facts" || fact topologies error "bench-topologies.py failed before its first row"; }
fi

if want dashboard; then
  echo
  echo "## 7. Dashboard pages on a large backlog (release build, median of 5 requests)"
  if [ -x .build/browser-venv/bin/python ]; then
    HOOPOE_BIN="$bin/hoopoe" .build/browser-venv/bin/python Tests/browser/bench_dashboard.py "${BENCH_DASHBOARD_JOBS:-100000}" \
      || echo "(failed: bench_dashboard.py exited with an error)"
  else
    echo "(skipped: .build/browser-venv is missing; scripts/install-deps.sh makes it)"
  fi
fi

if want peers; then
  echo
  echo "## 8. Beside the peers (../shared/bench/peers, one run)"
  extra="$work/peers.json"
  python3 - "$bin" "$base" "${short:-}" "$PWD" > "$extra" <<'PY'
import json, sys
bin_dir, base, short, root = sys.argv[1:5]
peers = json.load(open("bench/peers.json"))
def pointed(peer, binary):  # the same peer, run from this checkout with `binary` as its hoopoe
    twin = json.loads(json.dumps(peer))
    twin["cwd"] = root
    twin["check"] = ["test", "-x", binary]
    twin["workers"] = [[binary if part == ".build/release/hoopoe" else part for part in w] for w in twin["workers"]]
    return twin
hoopoe = peers["hoopoe"]
peers["hoopoe"] = pointed(hoopoe, bin_dir + "/hoopoe")
if base:  # the base as one more peer, run the same way
    peers["hoopoe-base"] = pointed(hoopoe, base + "/hoopoe")
    peers["hoopoe-base"]["setup"] += ", base " + short
    # This build with job history off (HOOPOE_HISTORY_MAX_JOBS=0): what history costs, and a like-for-like row
    # beside a base from before history existed.
    off = pointed(hoopoe, bin_dir + "/hoopoe")
    off["workers"] = [[w[0], "HOOPOE_HISTORY_MAX_JOBS=0", *w[1:]] for w in off["workers"]]
    off["setup"] += ", job history off"
    peers["hoopoe-history-off"] = off
print(json.dumps(peers))
PY
  mkdir -p .build
  report="$PWD/.build/bench-peers-$(date +%F).md"
  lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }
  speed() {  # the machine's speed now, a fixed loop's CPU time (bench/floor/cpu_loop.py), appended to the facts and
    # printed: the CPU rows name it beside each run (decision 0060, amended in session 22)
    run machine-speed python3 bench/floor/cpu_loop.py || return 0
    report machine-speed "(the machine's speed before this run: a fixed loop, {loop_ms} ms; larger is slower)" loop_ms runs_ms
  }
  harness() {  # harness FACT: one run of the harness (BENCH_PEERS as set), its rows appended to the facts as FACT; false
    # when it wrote no report line. Its log (stderr) is shown and kept, for when each row started.
    local runs; runs="$(lines "${report%.md}.jsonl")"
    speed
    { BENCH_EXTRA="$extra" BENCH_OUT="$report" bash ../shared/bench/peers/run.sh 2>&1 1>&3 3>&- | tee "$work/harness.log" >&2; } 3>&1 \
      || echo "(the peers' harness ended with an error)"
    [ "$(lines "${report%.md}.jsonl")" -gt "$runs" ] || return 1
    python3 - "$1" "${report%.md}.jsonl" "$work/harness.log" >> "$facts" <<'PY' || fact "$1" error "the peers' report could not be read"
import json, re, sys
name, report, log = sys.argv[1:4]
peers = json.loads(open(report).read().strip().splitlines()[-1])["peers"]
# When the driver began each row, in seconds after the run's first, from the harness's "[bench HH:MM:SS] peer NAME"
# lines (a row has no time of its own): bench-targets.py pairs no two rows that started more than 60 s apart.
starts, first = {}, None
try:
    for line in open(log, errors="replace"):
        m = re.fullmatch(r"\[bench (\d\d):(\d\d):(\d\d)\] peer (\S+)", line.strip())
        if m:
            at = int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3])
            first = at if first is None else first
            starts.setdefault(m[4], []).append((at - first) % 86400)  # a run past midnight too
except OSError:
    pass  # no log: the rows are paired as before, by run
for row in peers:
    if starts.get(row.get("peer")):
        row["started_s"] = starts[row["peer"]].pop(0)
print(json.dumps({"fact": name, "peers": peers}))
PY
  }
  # The first run's order: this build's row right after Sidekiq's and before Sidekiq's 2 processes, so both ratios the
  # Targets table reads from it (12× and 2×) are of rows side by side. In the harness's own order (this build last,
  # after RQ's ~4 minutes) session 53's were ~9 minutes apart, and the fixed loop read 164 ms before that run and
  # 195 ms after it. The other peers then, in the harness's order (../shared/bench/peers/run.sh), and the base's rows.
  peers_order="${BENCH_PEERS:-sidekiq hoopoe sidekiq-2p rq rq-simple arq arq-fastpoll dramatiq celery $(python3 -c \
    'import json, sys; print(" ".join(name for name in json.load(open(sys.argv[1])) if name != "hoopoe"))' "$extra")}"
  BENCH_PEERS="$peers_order" harness peers || fact peers error "the peers' harness wrote no report (its log is above)"
  # More pairs of the rows the 1-process targets read, when this run has both (decision 0049). Each is a run of the
  # harness of its own (its own redis-server, its redis-benchmark reference), appended to the same report.
  repeat="${BENCH_PEERS_REPEAT:-2}"
  case " ${BENCH_PEERS:-sidekiq hoopoe} " in *" sidekiq "*) ;; *) repeat=0 ;; esac
  case " ${BENCH_PEERS:-sidekiq hoopoe} " in *" hoopoe "*) ;; *) repeat=0 ;; esac
  for round in $(seq 1 "$repeat"); do
    echo
    echo "### Pair $((round + 1)) of $((repeat + 1)): Sidekiq and this build again"
    BENCH_PEERS="sidekiq hoopoe" harness peers-repeat || echo "(pair $((round + 1)) wrote no report)"
  done
  # The 1-process row's profile: where the vCPUs went while this build drained a backlog alone (the peers' job, its own
  # redis-server), named beside the row in the Targets table. Idle vCPUs: the row waited on hand-overs, not on CPU.
  profile_jobs="${BENCH_PROFILE_JOBS:-150000}"
  echo
  echo "### Where the vCPUs went while this build drained $profile_jobs jobs alone (scripts/bench-ab.py --threads)"
  if run peers-profile python3 scripts/bench-ab.py --jobs "$profile_jobs" --rounds 1 --threads --json "this=$bin/hoopoe"; then
    grep -m 2 -E '^r0 |vCPUs over' "$out" | sed 's/^ */- /' || true
    report peers-profile "- the fact: {jobs:,} jobs at {jps:,.0f} jobs/s; idle {threads[idle]:.2f} of {threads[vcpus]} vCPUs" jobs jps threads
  fi
fi

if want instructions; then
  # What a job costs each side in a count the VM's speed does not move (decision 0078): the worker's instructions, then
  # Redis's, each under callgrind in a run of its own (the other side at full speed, so the batches form much as they do
  # outside valgrind), this build's and the base's. The CPU rows name them, never count them.
  echo
  echo "## 9. Instructions a job under callgrind (scripts/bench-ab.py --callgrind, --redis-callgrind)"
  command -v callgrind_control > /dev/null || scripts/apt-install-missing.sh valgrind > /dev/null 2>&1 || true
  if ! command -v callgrind_control > /dev/null; then
    echo "(skipped: valgrind is not installed, and apt-get could not install it)"
    fact instructions error "valgrind is not installed, and apt-get could not install it"
  else
    insn_jobs="${BENCH_INSTRUCTIONS_JOBS:-20000}"
    profiles=".build/bench-callgrind-$(date -u +%F-%H%M)"  # kept for callgrind_annotate, like the facts file
    mkdir -p "$profiles"
    echo "The peers' job, $insn_jobs jobs a run, history on, \`--concurrency 20\`; counted from the backlog's start to its"
    echo "last acknowledgement. Profiles kept in $profiles/ (\`callgrind_annotate\`)."
    for who in this ${base:+base}; do
      dir="$bin"; [ "$who" = base ] && dir="$base"
      for side in worker redis; do
        # The worker's count holds to ~0.2 % from run to run; Redis's moves with its batches (±5 %), hence its median.
        flag="--callgrind" rounds=1; [ "$side" = redis ] && flag="--redis-callgrind" rounds="${BENCH_INSTRUCTIONS_REDIS_ROUNDS:-3}"
        run instructions python3 scripts/bench-ab.py --jobs "$insn_jobs" --rounds "$rounds" "$flag" "$profiles/$side" --json "$who=$dir/hoopoe" || continue
        python3 - "$out" "$facts" "$who" "$side" <<'PY' || fact instructions error "bench-ab.py's output could not be read"
import json, sys
out, facts, who, side = sys.argv[1:]
r = json.loads(open(out).read().strip().splitlines()[-1])
key = "instructions" if side == "worker" else "redis_instructions"
per_job, commands = r["medians"][key], r["medians"]["commands_a_job"]
runs = f"median of {r['runs']} runs, " if r["runs"] > 1 else ""
print(f"- {who}, {'the worker' if side == 'worker' else 'Redis'}: {per_job:,.0f} instructions a job "
      f"({runs}{r['jobs']:,} jobs a run; {commands:.3f} Redis commands a job)")
with open(facts, "a") as f:
    f.write(json.dumps({"fact": "instructions", "who": who, "side": side, "per_job": per_job, "runs": r["runs"]}) + "\n")
PY
      done
    done
    # Whether the cluster adds work a job, in instructions: its time row also pays for three servers sharing the vCPUs'
    # caches (decision 0095). Named beside the cluster row, never counted.
    echo
    echo "Redis's instructions a job, one Redis against three primaries, every server under callgrind (the topology rows'"
    echo "backlog over four queues; scripts/bench-cluster-instructions.py):"
    if run cluster-instructions env HOOPOE_BIN="$bin/hoopoe" HOOPOE_BENCH_BIN="$bin/hoopoe-bench" python3 scripts/bench-cluster-instructions.py; then
      grep -v '^{' "$out" | sed 's/^/- /'
      python3 - "$out" "$facts" <<'PY' || fact cluster-instructions error "its output could not be read"
import json, sys
out, facts = sys.argv[1:]
r = json.loads(open(out).read().strip().splitlines()[-1])
print(f"- three primaries ÷ one Redis: {r['ratio']:.2f}× (median of {len(r['ratios'])} rounds: "
      + ", ".join(f"{x:.2f}×" for x in r["ratios"]) + ")")
with open(facts, "a") as f:
    f.write(json.dumps({"fact": "cluster-instructions", "ratio": r["ratio"], "ratios": r["ratios"], "plain": r["plain"],
                        "cluster": r["cluster"]}) + "\n")
PY
    fi
  fi
fi

echo
echo "## Targets (issue 17), this run"
python3 scripts/bench-targets.py "$facts" || echo "(failed: bench-targets.py could not render the table)"
mkdir -p .build && cp "$facts" ".build/bench-facts-$(date -u +%F-%H%M).jsonl"
