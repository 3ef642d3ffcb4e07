"""scripts/bench-pairs.py, `make bench`'s sum of the alternated 10,000 jobs/s latency pairs (this build beside the base,
BENCH_LATENCY_PAIRS): the n-th run of each build is a pair, medians and counts are over the pairs, a failed run drops
its pair, and no pair prints nothing."""
import json
import subprocess
import sys
import unittest

from fakes import ROOT, temporary_file

SCRIPT = ROOT / "scripts" / "bench-pairs.py"


def run(p50_ms, p99_ms, who, **extra):
    return {"fact": f"latency-pair-{who}", "p50_ms": p50_ms, "p99_ms": p99_ms, "jobs": 50_000, "expected": 50_000, **extra}


def summed(*facts):
    path = temporary_file("".join(json.dumps(fact) + "\n" for fact in facts), ".jsonl")
    done = subprocess.run([sys.executable, str(SCRIPT), path, "abc1234"], capture_output=True, text=True, check=True)
    return done.stdout.strip()


class BenchPairs(unittest.TestCase):
    def test_pairs_are_the_nth_runs_of_each_build_in_the_order_they_ran(self):
        # Order turning each pair, as bench.sh runs them: this, base, base, this, this, base.
        text = summed(run(0.5, 1.5, "this"), run(0.6, 2.0, "base"), {"fact": "latency-floor", "p50_ms": 0.2},
                      run(0.7, 1.8, "base"), run(0.6, 1.9, "this"),
                      run(0.4, 1.0, "this"), run(0.5, 1.2, "base"))
        self.assertEqual(
            text,
            "- this build beside base abc1234, alternated at 10000 jobs/s: p50 median 0.50 against 0.60 ms (lower in 3 "
            "of 3 pairs; the median of the pairs' ratios 0.83); p99 median 1.50 against 1.80 ms (lower in 2 of 3 pairs; "
            "the median of the pairs' ratios 0.83)")

    def test_a_failed_run_or_one_where_jobs_did_not_start_drops_its_pair(self):
        text = summed(run(0.5, 1.0, "this"), {"fact": "latency-pair-base", "error": "exited 1: no Redis"},
                      run(0.9, 3.0, "base"), run(0.9, 3.0, "this", jobs=40_000),
                      run(0.4, 1.0, "this"), run(0.8, 2.0, "base"))
        self.assertIn("p50 median 0.40 against 0.80 ms (lower in 1 of 1 pairs", text)
        self.assertIn("p99 median 1.00 against 2.00 ms", text)

    def test_no_pair_prints_nothing(self):
        self.assertEqual(summed(run(0.5, 1.0, "this")), "")
        self.assertEqual(summed({"fact": "engine", "latency": {}}), "")


if __name__ == "__main__":
    unittest.main()
