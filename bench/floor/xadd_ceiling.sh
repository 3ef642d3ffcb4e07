#!/usr/bin/env bash
# The machine's batch-enqueue ceiling, for `make bench` (scripts/bench.sh, section 2; decision 0060): Redis's own
# pipelined XADD of the same envelope that `hoopoe-bench enqueue` writes, from `redis-benchmark` on one connection,
# 1,000 commands a round trip (the batch's shape). No envelopes built, no ids made, no replies read into values:
# what this Redis on this VM does with the writes alone. Hoopoe's batch-enqueue rate read beside it says how much of
# the time is Hoopoe's.
#
#   Usage: bench/floor/xadd_ceiling.sh HOST PORT HOOPOE_BENCH [N]
# HOOPOE_BENCH: the `hoopoe-bench` binary (`fill` writes the one envelope copied here, the way the batch row makes
# them). N: XADDs (default 200000, as the batch row). Prints one JSON line: name, per_second, envelope_bytes, n.
# Leaves no key behind. Exit 1, with the reason on stderr, when a step fails.
set -euo pipefail
host="${1:?usage: xadd_ceiling.sh HOST PORT HOOPOE_BENCH [N]}"
port="${2:?usage: xadd_ceiling.sh HOST PORT HOOPOE_BENCH [N]}"
bench="${3:?usage: xadd_ceiling.sh HOST PORT HOOPOE_BENCH [N]}"
n="${4:-200000}"
queue="bench-ceiling-$$"
stream="hoopoe:{$queue}:stream"   # the queue's stream (QueueKeys.stream, namespace hoopoe as `fill` writes)
key="bench-ceiling:$$:xadd"
cli() { redis-cli -h "$host" -p "$port" "$@"; }
cleanup() { cli DEL "$stream" "$key" >/dev/null 2>&1 || true; }
trap cleanup EXIT

# One envelope as the batch row writes them: a diag.incr job, payload {"key": "bench:batch"}.
REDIS_URL="redis://$host:$port/0" "$bench" fill 1 "$queue" bench:batch >/dev/null
envelope="$(cli --raw XRANGE "$stream" - + COUNT 1 | sed -n 3p)"
case "$envelope" in
  '{'*'}') ;;
  *) echo "xadd_ceiling: no envelope in $stream (got: ${envelope:0:80})" >&2; exit 1 ;;
esac

line="$(redis-benchmark -h "$host" -p "$port" -n "$n" -c 1 -P 1000 -q XADD "$key" '*' job "$envelope" \
  | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -n 1)"
rate="${line%% *}"
[ -n "$rate" ] || { echo "xadd_ceiling: redis-benchmark printed no rate" >&2; exit 1; }
length="$(cli XLEN "$key")"
[ "$length" = "$n" ] || { echo "xadd_ceiling: $length entries written, not $n" >&2; exit 1; }
printf '{"name": "XADD pipelined by redis-benchmark (-c 1 -P 1000)", "per_second": %.0f, "envelope_bytes": %d, "n": %d}\n' \
  "$rate" "${#envelope}" "$n"
