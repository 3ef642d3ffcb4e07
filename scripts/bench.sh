#!/usr/bin/env bash
# `make bench` (run inside scripts/test-redis.sh, so REDIS_URL is a private server): the Redis client
# beside redis-benchmark on the same server, in the same run, as ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${REDIS_URL##*:}"; port="${port%%/*}"
n="${BENCH_N:-200000}"
echo "# Redis client vs redis-benchmark, $(date -u '+%F %T') UTC, $(nproc) cores, $(redis-server --version | cut -d' ' -f3)"
plain="$(redis-benchmark -p "$port" -q -n "$n" -t incr | tr '\r' '\n' | grep -E '^INCR' | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/')"
piped="$(redis-benchmark -p "$port" -q -n "$n" -P 16 -t incr | tr '\r' '\n' | grep -E '^INCR' | tail -1 | sed -E 's/.*: ([0-9.]+) requests.*/\1/')"
.build/release/hoopoe-bench redis "$n" > /tmp/hoopoe-bench-redis.$$
python3 - "$plain" "$piped" /tmp/hoopoe-bench-redis.$$ <<'PY'
import json, sys
plain, piped = float(sys.argv[1]), float(sys.argv[2])
rows = [json.loads(l) for l in open(sys.argv[3])]
print(f"| measurement | Hoopoe client ops/s | redis-benchmark ops/s | ratio |")
print(f"|---|--:|--:|--:|")
ref = {"round trips, 1 task": None}
for r in rows:
    other = piped if "pipelines" in r["name"] else plain if "tasks" in r["name"] and "1 task" not in r["name"] else None
    ratio = f"{r['per_second'] / other:.2f}" if other else "–"
    print(f"| {r['name']} | {r['per_second']:,} | {f'{other:,.0f}' if other else '–'} | {ratio} |")
print("\nredis-benchmark: 50 clients, INCR, unpipelined and -P 16. The 1-task row is one command per round trip.")
PY
rm -f /tmp/hoopoe-bench-redis.$$
