#!/usr/bin/env python3
"""Enqueue N `diag.incr` jobs for the peer benchmark (../../shared/bench/peers): one XADD per job,
sequentially, from one client, as every peer's enqueue loop does. Prints {"seconds": S, "n": N}."""
import json
import os
import sys
import time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "jobs", "examples"))
from hoopoe_enqueue import envelope  # noqa: E402  (the documented envelope, not a copy)

n = int(sys.argv[-1])
url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
r = redis.Redis.from_url(url)
stream = "hoopoe:{default}:stream"
bodies = [json.dumps(envelope("diag.incr", {"key": "bench:done"}), separators=(",", ":")) for _ in range(n)]
start = time.perf_counter()
for body in bodies:
    r.xadd(stream, {"job": body})
print(json.dumps({"seconds": time.perf_counter() - start, "n": n}))
