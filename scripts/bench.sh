#!/usr/bin/env bash
# `make bench` (run inside scripts/test-redis.sh, so REDIS_URL is a private server). Prints, in one run:
#   1. the Redis client beside redis-benchmark on the same server, as ratios;
#   2. the engine: batch-enqueue rate, enqueue→start latency at 1000 jobs/s, promotion of 1M due delayed jobs;
#   3. the idle RSS of a `hoopoe worker`;
#   4. Hoopoe beside Sidekiq, RQ, arq, dramatiq and Celery (../shared/bench/peers), same workload, same run.
# Env: BENCH_N (client ops, 200000), BENCH_DELAYED (1000000), BENCH_PEERS (peers to run; default all),
#      BENCH_SKIP_PEERS=1 to stop after 3 (the peers take ~10 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
port="${REDIS_URL##*:}"; port="${port%%/*}"
n="${BENCH_N:-200000}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
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
.build/release/hoopoe-bench engine "${BENCH_DELAYED:-1000000}" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    name = r["name"]
    if "p50_ms" in r:
        p50, p99, top, jobs = r["p50_ms"], r["p99_ms"], r["max_ms"], r["jobs"]
        print(f"- {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {top:.2f} ms ({jobs} jobs)")
    else:
        rate = r["per_second"]
        print(f"- {name}: {rate:,} jobs/s")
'
echo
echo "## 3. Idle worker"
LOG_LEVEL=warning HOOPOE_NAMESPACE=bench-idle .build/release/hoopoe worker >/dev/null 2>&1 &
worker=$!
sleep 3
rss="$(awk '/VmRSS/ {print $2}' "/proc/$worker/status")"
kill -TERM "$worker"; wait "$worker" 2>/dev/null || true
echo "- idle RSS of hoopoe worker (concurrency 20, 3 s after start): $((rss / 1024)) MiB"
[ -n "${BENCH_SKIP_PEERS:-}" ] && exit 0
echo
echo "## 4. Beside the peers (../shared/bench/peers, one run)"
BENCH_EXTRA="$PWD/bench/peers.json" BENCH_OUT="$PWD/.build/bench-peers-$(date +%F).md" bash ../shared/bench/peers/run.sh
