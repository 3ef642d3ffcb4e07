#!/usr/bin/env python3
"""The machine's speed at this moment, for `make bench` (scripts/bench.sh, section 8; decision 0060's amendment of
session 22): the CPU time of a fixed loop (3,000,000 multiply-adds in this Python), the median of three.

Why: on these VMs the same build's CPU a job moves by up to 1.7× between minutes, with no other load and no steal
time, because the vCPUs themselves run faster or slower (docs/benchmarks.md, session 21: the same loop at module
level, about twice as slow as here, read 213–344 ms over half an hour). Read beside the worker and Redis CPU rows,
without counting it, it says which stretch a run fell in: a larger figure is a slower machine. It is a reading of this
machine only; its values mean nothing on another.

    python3 bench/floor/cpu_loop.py     # prints one JSON line: {"loop_ms": ..., "runs_ms": [...]}
"""
import json
import time

LOOP = 3_000_000


def once():
    started = time.process_time()
    total = 0
    for i in range(LOOP):
        total += i * i
    return (time.process_time() - started) * 1e3


def main():
    runs = sorted(once() for _ in range(3))
    print(json.dumps({"loop_ms": round(runs[1], 1), "runs_ms": [round(r, 1) for r in runs]}))


if __name__ == "__main__":
    main()
