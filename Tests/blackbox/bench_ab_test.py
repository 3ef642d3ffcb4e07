"""scripts/bench-ab.py's `--threads`: where the vCPUs went over a run, from two /proc snapshots, as `make bench`
names it beside the 1-process row (docs/benchmarks.md, session 34)."""
import os
import shutil
import tempfile
import unittest
from unittest import mock

from fakes import script_module

bench_ab = script_module("bench-ab.py")


class VCPUShares(unittest.TestCase):
    def test_ticks_become_vcpus_over_the_window(self):
        before = dict(worker={"hoopoe-redis-0": 100, "pool": 40}, redis=500, machine=(1000, 3000), at=10.0)
        after = dict(worker={"hoopoe-redis-0": 160, "pool": 52, "hoopoe-fetch": 20}, redis=616, machine=(1290, 3110),
                     at=12.0)
        with mock.patch.object(bench_ab.os, "sysconf", return_value=100), \
                mock.patch.object(bench_ab.os, "cpu_count", return_value=2):
            t = bench_ab.vcpu_shares(before, after, 2.0)
        # 200 ticks a vCPU over 2 s: the connection thread 60 ticks, the pool 12, the fetch 20 (new since the first
        # snapshot), Redis 116; the machine 290 busy, 110 idle
        self.assertEqual(t["worker"], {"hoopoe-redis-0": 0.3, "pool": 0.06, "hoopoe-fetch": 0.1})
        self.assertAlmostEqual(t["worker_total"], 0.46)
        self.assertAlmostEqual(t["redis"], 0.58)
        self.assertAlmostEqual(t["other"], 1.45 - 0.46 - 0.58)
        self.assertAlmostEqual(t["idle"], 0.55)
        self.assertEqual(t["vcpus"], 2)
        self.assertEqual(bench_ab.threads_line(t), "vCPUs over 2.00 s (of 2): Redis 0.58, the worker 0.46 "
                                                   "(hoopoe-redis-0 0.30, hoopoe-fetch 0.10, pool 0.06), the rest 0.41, "
                                                   "idle 0.55")

    def test_a_process_threads_are_read_by_name(self):
        ticks = bench_ab.thread_ticks(os.getpid())
        with open(f"/proc/{os.getpid()}/comm") as f:
            self.assertIn(f.read().strip(), ticks)  # the main thread carries the process's name
        self.assertTrue(all(isinstance(v, int) and v >= 0 for v in ticks.values()), ticks)
        busy, idle = bench_ab.machine_ticks()
        self.assertGreater(busy + idle, 0)


class IdlePolling(unittest.TestCase):
    """How the idle vCPUs wait, named beside the profile: on the VM type of sessions 29–35 a KVM guest halts at once
    (guest_halt_poll_ns 0), and with Linux's default polling the same build drained a backlog 1.11× faster."""

    def sysfs(self, files):
        root = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, root, ignore_errors=True)
        for path, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write(text)
        return root

    def test_a_kvm_guest_that_halts_at_once_says_so(self):
        root = self.sysfs({"devices/system/cpu/cpuidle/current_driver": "haltpoll\n",
                           "module/haltpoll/parameters/guest_halt_poll_ns": "0\n"})
        polling = bench_ab.idle_polling(root)
        self.assertEqual((polling["driver"], polling["poll_ns"]), ("haltpoll", 0))
        self.assertEqual(polling["words"], "the idle vCPUs poll 0 ns before they halt (cpuidle haltpoll, "
                                           "guest_halt_poll_ns; Linux's default 200,000)")
        t = dict(seconds=1.0, vcpus=2, worker={"pool": 0.1}, worker_total=0.1, redis=0.5, other=0.0, idle=1.4,
                 idle_polling=polling)
        self.assertTrue(bench_ab.threads_line(t).endswith("idle 1.40; " + polling["words"]), bench_ab.threads_line(t))

    def test_without_a_cpuidle_driver_the_haltpoll_parameter_is_not_taken_for_polling(self):
        # Session 36's VM type: no cpuidle driver, and the haltpoll module's parameter still reads Linux's default.
        root = self.sysfs({"devices/system/cpu/cpuidle/current_driver": "none\n",
                           "module/haltpoll/parameters/guest_halt_poll_ns": "200000\n"})
        self.assertEqual(bench_ab.idle_polling(root),
                         dict(driver="none", poll_ns=None,
                              words="the idle vCPUs halt at once (no cpuidle driver: the kernel's default idle)"))

    def test_another_driver_is_named_and_a_machine_that_says_nothing_adds_nothing(self):
        root = self.sysfs({"devices/system/cpu/cpuidle/current_driver": "acpi_idle\n",
                           "module/haltpoll/parameters/guest_halt_poll_ns": "200000\n"})
        self.assertEqual(bench_ab.idle_polling(root),
                         dict(driver="acpi_idle", poll_ns=None, words="the idle vCPUs' cpuidle driver: acpi_idle"))
        nothing = bench_ab.idle_polling(self.sysfs({}))
        self.assertEqual(nothing["words"], "")
        t = dict(seconds=1.0, vcpus=2, worker={}, worker_total=0.0, redis=0.0, other=0.0, idle=2.0,
                 idle_polling=nothing)
        self.assertTrue(bench_ab.threads_line(t).endswith("idle 2.00"), bench_ab.threads_line(t))


class JSONLine(unittest.TestCase):
    """`--json`'s line, which scripts/bench.sh section 9 reads: the medians of a build's runs beside the last run's."""

    def run_figures(self, redis_instructions, commands, worker_us=12.0):
        return dict(jps=60_000.0, worker_us=worker_us, redis_us=9.0, user_us=8.0, commands_a_job=commands,
                    instructions=None, redis_instructions=redis_instructions, counts={("worker", "x"): 1.0},
                    commands={}, threads=None)

    def test_the_medians_of_the_runs_beside_the_last_one(self):
        runs = [self.run_figures(35_270.0, 1.334), self.run_figures(37_986.0, 1.406, worker_us=30.0),
                self.run_figures(34_590.0, 1.322)]
        line = bench_ab.json_line(20_000, runs[-1], runs)
        self.assertEqual(line["redis_instructions"], 34_590.0)  # the last run, as before
        self.assertEqual(line["runs"], 3)
        self.assertEqual(line["medians"], dict(jps=60_000.0, worker_us=12.0, redis_us=9.0, commands_a_job=1.334,
                                               redis_instructions=35_270.0))
        self.assertNotIn("counts", line)  # its keys are tuples: not JSON

    def test_a_figure_a_run_lacks_has_no_median(self):
        runs = [self.run_figures(None, 1.3)]
        self.assertNotIn("redis_instructions", bench_ab.json_line(20_000, runs[0], runs)["medians"])
        self.assertNotIn("instructions", bench_ab.json_line(20_000, runs[0], runs)["medians"])


if __name__ == "__main__":
    unittest.main()
