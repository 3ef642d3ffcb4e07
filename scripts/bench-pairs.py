#!/usr/bin/env python3
"""`make bench`'s sum of the alternated latency pairs: this build beside the base at 10,000 jobs/s.

    scripts/bench-pairs.py FACTS.jsonl BASE_LABEL

Reads the {"fact": "latency-pair-this", ...} and {"fact": "latency-pair-base", ...} lines that scripts/bench.sh writes
for BENCH_LATENCY_PAIRS, in the order they ran, and pairs the n-th of each. A run that failed or where not every job
started is left out with its pair's partner. Prints one line: for p50 and p99, the medians of both builds, in how many
pairs this build was lower, and the median of the pairs' ratios (this / base). One unpaired run a binary cannot show a
10 % change on these VMs; pairs in the same minutes can (decision 0061). Prints nothing when no pair was measured.
"""
import json
import statistics
import sys


def pairs(path):
    runs = {"this": [], "base": []}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            fact = json.loads(line)
            name = fact["fact"]
            if name in ("latency-pair-this", "latency-pair-base"):
                good = "error" not in fact and fact.get("jobs", 0) >= fact.get("expected", 1)
                runs[name.removeprefix("latency-pair-")].append(fact if good else None)
    return [(ours, theirs) for ours, theirs in zip(runs["this"], runs["base"]) if ours and theirs]


def summary(measured, key):
    ours = statistics.median(r[key] for r, _ in measured)
    theirs = statistics.median(b[key] for _, b in measured)
    lower = sum(r[key] < b[key] for r, b in measured)
    ratio = statistics.median(r[key] / b[key] for r, b in measured)
    return (f"{key.removesuffix('_ms')} median {ours:.2f} against {theirs:.2f} ms (lower in {lower} of {len(measured)} "
            f"pairs; the median of the pairs' ratios {ratio:.2f})")


def main():
    path, label = sys.argv[1:3]
    measured = pairs(path)
    if measured:
        print(f"- this build beside base {label}, alternated at 10000 jobs/s: "
              f"{summary(measured, 'p50_ms')}; {summary(measured, 'p99_ms')}")


if __name__ == "__main__":
    main()
