"""bench/floor/, what the machine allows that `make bench` names beside two absolute targets (decision 0060), run
against the real Redis of this test run:
- latency_floor.c, the enqueue→start floor beside Hoopoe's p99, built as scripts/bench.sh builds it: it must deliver
  and time every job it paces, report percentiles that make sense, leave no key behind, and fail loudly without Redis;
- xadd_ceiling.sh, Redis's own pipelined XADD beside the batch-enqueue rate: it must write every XADD, of the envelope
  `hoopoe-bench` makes, and leave no key behind;
- cpu_loop.py, the machine's speed beside the CPU rows (decision 0060, amended in session 22): one JSON line, the
  median of three timed loops, each a real measurement."""
import json
import os
import subprocess
import tempfile
import unittest
from urllib.parse import urlparse

import redis

from fakes import ROOT

URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# The debug hoopoe-bench beside the hoopoe the black-box suites drive (scripts/test-blackbox.sh: HOOPOE_BIN).
BENCH = os.path.join(os.path.dirname(os.environ.get("HOOPOE_BIN", str(ROOT / ".build" / "debug" / "hoopoe"))), "hoopoe-bench")


class LatencyFloor(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.binary = os.path.join(cls.dir.name, "latency_floor")
        subprocess.run([str(ROOT / "scripts" / "build-latency-floor.sh"), cls.binary], check=True)

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def run_floor(self, *args):
        return subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=60)

    def test_every_paced_job_is_timed_from_its_scheduled_send(self):
        server = urlparse(URL)
        db = redis.Redis.from_url(URL)
        before = set(db.keys("bench-floor:*"))
        done = self.run_floor(server.hostname, str(server.port), "2000", "1")
        self.assertEqual(done.returncode, 0, done.stderr)
        line = json.loads(done.stdout)
        self.assertEqual((line["jobs"], line["expected"], line["rate"]), (2000, 2000, 2000))
        self.assertEqual(line["name"], "floor: a C hiredis pair at 2000 jobs/s")
        # Latencies from the scheduled time: positive, ordered, and at least those from the actual send.
        self.assertGreater(line["p50_ms"], 0)
        self.assertLessEqual(line["p50_ms"], line["p99_ms"])
        self.assertLessEqual(line["p99_ms"], line["max_ms"])
        self.assertLessEqual(line["p99_after_send_ms"], line["p99_ms"] + 1e-3)
        self.assertLess(line["max_ms"], 10_000)  # a reply's clock, not a stale or zero timestamp
        self.assertEqual(set(db.keys("bench-floor:*")), before, "the floor's stream was left behind")

    def test_without_redis_it_fails_naming_the_server(self):
        done = self.run_floor("127.0.0.1", "1", "100", "1")
        self.assertEqual(done.returncode, 1)
        self.assertIn("cannot connect to 127.0.0.1:1", done.stderr)
        self.assertEqual(done.stdout, "")

    def test_bad_arguments_are_refused(self):
        done = self.run_floor("127.0.0.1", "6379", "0", "1")
        self.assertEqual(done.returncode, 2)
        self.assertIn("must be positive", done.stderr)


class XaddCeiling(unittest.TestCase):
    def test_every_xadd_of_a_real_envelope_is_written_and_removed(self):
        server = urlparse(URL)
        db = redis.Redis.from_url(URL)
        before = set(db.keys("*"))
        done = subprocess.run([str(ROOT / "bench" / "floor" / "xadd_ceiling.sh"), server.hostname, str(server.port), BENCH, "3000"],
                              capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        line = json.loads(done.stdout)
        self.assertEqual(line["n"], 3000)
        self.assertGreater(line["per_second"], 0)
        # hoopoe-bench's diag.incr envelope: an id, a type, a queue, a time and the payload; well over 100 bytes.
        self.assertGreater(line["envelope_bytes"], 100)
        self.assertEqual(set(db.keys("*")), before, "the ceiling's keys were left behind")

    def test_a_missing_hoopoe_bench_fails_before_measuring(self):
        server = urlparse(URL)
        done = subprocess.run([str(ROOT / "bench" / "floor" / "xadd_ceiling.sh"), server.hostname, str(server.port), "/nonexistent/hoopoe-bench", "10"],
                              capture_output=True, text=True, timeout=60)
        self.assertNotEqual(done.returncode, 0)
        self.assertEqual(done.stdout, "")


class CPULoop(unittest.TestCase):
    def test_it_prints_the_median_of_three_timed_loops(self):
        out = subprocess.run(["python3", str(ROOT / "bench" / "floor" / "cpu_loop.py")], capture_output=True, text=True,
                             timeout=60, check=True).stdout
        reading = json.loads(out)
        runs = reading["runs_ms"]
        self.assertEqual(len(runs), 3)
        self.assertEqual(runs, sorted(runs))
        self.assertEqual(reading["loop_ms"], runs[1])
        # 3,000,000 multiply-adds in Python take tens to hundreds of ms on any machine this runs on: a loop optimised
        # away or a clock not read would print ~0.
        self.assertGreater(runs[0], 10.0)
        self.assertLess(runs[2], 60_000.0)


if __name__ == "__main__":
    unittest.main()
