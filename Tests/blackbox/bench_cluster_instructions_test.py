"""scripts/bench-cluster-instructions.py's count (decision 0095): the instructions counted while the worker drained, less
the servers' idle rate over as long, a job; the rounds' ratios read as their median. (The drains themselves need
valgrind and four servers: `make bench` runs them.)"""
import unittest

from fakes import script_module

script = script_module("bench-cluster-instructions.py")


class ClusterInstructions(unittest.TestCase):
    def test_the_idle_rate_over_the_drains_seconds_is_taken_off(self):
        # 1.2 M instructions a second idle (cron), a drain of 8 s that counted 700 M over 20,000 jobs.
        self.assertAlmostEqual(script.per_job(700_000_000, 6_000_000, 5.0, 8.0, 20_000), (700e6 - 1.2e6 * 8) / 20_000)
        # A slower drain of the same work counts more idle, and takes it off again.
        self.assertAlmostEqual(script.per_job(700_000_000 + 1_200_000 * 8, 6_000_000, 5.0, 16.0, 20_000),
                               script.per_job(700_000_000, 6_000_000, 5.0, 8.0, 20_000))

    def test_the_ratio_is_the_median_of_the_rounds(self):
        self.assertEqual(script.median([1.04, 0.99, 1.02]), 1.02)
        self.assertEqual(script.median([0.9, 1.1]), 1.0)


if __name__ == "__main__":
    unittest.main()
