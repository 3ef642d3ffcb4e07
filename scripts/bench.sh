#!/usr/bin/env bash
# `make bench` (run inside scripts/test-redis.sh, so REDIS_URL is a private server). Prints, in one run:
#   1. the Redis client beside redis-benchmark on the same server, as ratios;
#   2. the engine: batch-enqueue rate, enqueue→start latency at 1000 jobs/s, promotion of 1M due delayed jobs;
#   3. the idle RSS of a `hoopoe worker`;
#   4. one worker on each Redis topology: plain, TLS, a replica without and with WAIT, a 3-primary cluster
#      (scripts/bench-topologies.py: private servers on ports 7400+);
#   5. each dashboard page's median answer time on a 100k-job backlog (Tests/browser/bench_dashboard.py, release
#      build; needs .build/browser-venv from scripts/install-deps.sh, skipped with a note without it);
#   6. Hoopoe beside Sidekiq, RQ, arq, dramatiq and Celery (../shared/bench/peers), same workload, same run.
# Env: BENCH_N (client ops, 200000), BENCH_DELAYED (1000000), BENCH_PEERS (peers to run; default all),
#      BENCH_TOPOLOGY_N (jobs a topology row, 100000), BENCH_SKIP_TOPOLOGIES=1 to leave out 4,
#      BENCH_DASHBOARD_JOBS (backlog of 5, 100000), BENCH_SKIP_PEERS=1 to stop after 5 (the peers take ~10 minutes),
#      BENCH_BASE=<commit> to measure that commit's release build beside this one in the same run (A/B): sections
#      2, 3 and 6 then have a base row (6 also a `hoopoe-history-off` row: this build, HOOPOE_HISTORY_MAX_JOBS=0); the base is built once under .build/bench-base/<sha> (a detached worktree).
set -euo pipefail
cd "$(dirname "$0")/.."
port="${REDIS_URL##*:}"; port="${port%%/*}"
n="${BENCH_N:-200000}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
base=""
if [ -n "${BENCH_BASE:-}" ]; then
  sha="$(git rev-parse --verify "${BENCH_BASE}^{commit}")"
  base="$PWD/.build/bench-base/$sha"
  if [ ! -x "$base/.build/release/hoopoe" ] || [ ! -x "$base/.build/release/hoopoe-bench" ]; then
    [ -d "$base" ] || git worktree add --detach "$base" "$sha" >/dev/null
    echo "[bench] building the base ${sha:0:7} (release) in $base" >&2
    (cd "$base" && swift build -c release --product hoopoe >&2 && swift build -c release --product hoopoe-bench >&2)
  fi
fi
echo "# Hoopoe benchmarks, $(date -u '+%F %T') UTC, $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(redis-server --version | cut -d' ' -f3)"
echo
echo "## 1. Redis client vs redis-benchmark (same server, same run)"
plain="$(redis-benchmark -p "$port" -q -n "$n" -t incr | tr '\r' '\n' | grep -E '^INCR' | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/')"
piped="$(redis-benchmark -p "$port" -q -n "$n" -P 16 -t incr | tr '\r' '\n' | grep -E '^INCR' | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/')"
.build/release/hoopoe-bench redis "$n" > "$out"
python3 - "$plain" "$piped" "$out" <<'PY'
import json, sys
plain, piped = float(sys.argv[1]), float(sys.argv[2])
rows = [json.loads(l) for l in open(sys.argv[3])]
print("| measurement | Hoopoe client ops/s | redis-benchmark ops/s | ratio |")
print("|---|--:|--:|--:|")
for r in rows:
    other = piped if "pipelines" in r["name"] else plain if "1 task" not in r["name"] else None
    ratio = f"{r['per_second'] / other:.2f}" if other else "–"
    print(f"| {r['name']} | {r['per_second']:,} | {f'{other:,.0f}' if other else '–'} | {ratio} |")
print("\nredis-benchmark: 50 clients, INCR, unpipelined and -P 16. The 1-task row is one command per round trip.")
PY
echo
echo "## 2. Engine"
engine() {  # $1 = label (empty, this, base ...), $2 = the hoopoe-bench binary
  "$2" engine "${BENCH_DELAYED:-1000000}" | python3 -c '
import json, sys
label = sys.argv[1]
for line in sys.stdin:
    r = json.loads(line)
    name = (label + ": " if label else "") + r["name"]
    if "p50_ms" in r:
        p50, p99, top, jobs = r["p50_ms"], r["p99_ms"], r["max_ms"], r["jobs"]
        print(f"- {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {top:.2f} ms ({jobs} jobs)")
    else:
        rate = r["per_second"]
        print(f"- {name}: {rate:,} jobs/s")
' "$1"
}
if [ -n "$base" ]; then
  engine this .build/release/hoopoe-bench
  engine "base ${sha:0:7}" "$base/.build/release/hoopoe-bench"
else
  engine "" .build/release/hoopoe-bench
fi
echo
echo "## 3. Idle worker"
idle() {  # $1 = label, $2 = the hoopoe binary
  LOG_LEVEL=warning HOOPOE_NAMESPACE=bench-idle "$2" worker >/dev/null 2>&1 &
  local worker=$!
  sleep 3
  local rss; rss="$(awk '/VmRSS/ {print $2}' "/proc/$worker/status")"
  kill -TERM "$worker"; wait "$worker" 2>/dev/null || true
  echo "- idle RSS of hoopoe worker$1 (concurrency 20, 3 s after start): $((rss / 1024)) MiB"
}
idle "" .build/release/hoopoe
[ -z "$base" ] || idle " (base ${sha:0:7})" "$base/.build/release/hoopoe"
if [ -z "${BENCH_SKIP_TOPOLOGIES:-}" ]; then
  echo
  echo "## 4. Topologies (one worker, same backlog, same run)"
  python3 scripts/bench-topologies.py || echo "(a topology row failed: its reason is in its row)"
fi
echo
echo "## 5. Dashboard pages on a large backlog (release build, median of 5 requests)"
if [ -x .build/browser-venv/bin/python ]; then
  HOOPOE_BIN="$PWD/.build/release/hoopoe" .build/browser-venv/bin/python Tests/browser/bench_dashboard.py "${BENCH_DASHBOARD_JOBS:-100000}"
else
  echo "(skipped: .build/browser-venv is missing; scripts/install-deps.sh makes it)"
fi
[ -n "${BENCH_SKIP_PEERS:-}" ] && exit 0
echo
echo "## 6. Beside the peers (../shared/bench/peers, one run)"
extra="$PWD/bench/peers.json"
if [ -n "$base" ]; then  # the base as one more peer, run the same way
  extra="$PWD/.build/bench-peers-ab.json"
  python3 - "$base" "${sha:0:7}" > "$extra" <<'PY'
import json, sys
base, short = sys.argv[1], sys.argv[2]
peers = json.load(open("bench/peers.json"))
twin = json.loads(json.dumps(peers["hoopoe"]))
twin["check"] = ["test", "-x", base + "/.build/release/hoopoe"]
twin["workers"] = [[base + "/.build/release/hoopoe" if part == ".build/release/hoopoe" else part for part in w] for w in twin["workers"]]
twin["setup"] += ", base " + short
peers["hoopoe-base"] = twin
# This build with job history off (HOOPOE_HISTORY_MAX_JOBS=0): what history costs, and a like-for-like row
# beside a base from before history existed.
off = json.loads(json.dumps(peers["hoopoe"]))
off["workers"] = [[w[0], "HOOPOE_HISTORY_MAX_JOBS=0", *w[1:]] for w in off["workers"]]
off["setup"] += ", job history off"
peers["hoopoe-history-off"] = off
print(json.dumps(peers))
PY
fi
BENCH_EXTRA="$extra" BENCH_OUT="$PWD/.build/bench-peers-$(date +%F).md" bash ../shared/bench/peers/run.sh
