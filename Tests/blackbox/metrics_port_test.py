"""`hoopoe worker --metrics-port`, attacked from outside: clients that open connections and never finish a request.

Each such connection held one of the worker's file descriptors for ever; at the process's limit it could open no Redis
connection, so it fetched nothing and its heartbeat stopped (and a liveness probe restarted it). The endpoint now
serves a bounded number of connections at once and closes one that sends no complete request within its idle timeout
(PrometheusEndpoint.swift).
"""
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import redis

from fakes import ROOT, hoopoe_binary

HALF_SENT = b"GET /metrics HTTP/1.1\r\nHost: x\r\n"  # no blank line: the request never ends
HELD = 300
# The endpoint's cap (PrometheusEndpoint.maxConnections) and idle timeout, as the code sets them.
CAP = 32
IDLE_TIMEOUT = 10


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def open_descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class MetricsPortUnderHeldConnections(unittest.TestCase):
    def setUp(self):
        self.redis = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        self.namespace = "bbm" + secrets.token_hex(4)
        self.port = free_port()
        self.log = tempfile.TemporaryFile(mode="w+")
        environment = {**os.environ, "HOOPOE_NAMESPACE": self.namespace, "LOG_LEVEL": "warning",
                       "SMS_TEMPLATES_FILE": str(ROOT / "jobs" / "sms_templates.yaml")}
        self.worker = subprocess.Popen(
            [hoopoe_binary(), "worker", "--queues", "default", "--concurrency", "2", "--metrics-port", str(self.port)],
            env=environment, stdout=self.log, stderr=subprocess.STDOUT, text=True)
        self.held = []
        deadline = time.time() + 30
        while True:
            try:
                self.scrape()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def tearDown(self):
        for held in self.held:
            held.close()
        self.worker.send_signal(signal.SIGTERM)
        status = self.worker.wait(timeout=60)
        output = self.output()
        self.log.close()
        self.assertEqual(status, 0, output)

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def scrape(self, timeout=5):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=timeout) as response:
            return response.status, response.read()

    def hold(self, count):
        for _ in range(count):
            held = socket.socket()
            held.setblocking(False)
            try:
                held.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass  # connecting: past the backlog it stays so, and holds nothing of the worker's
            self.held.append(held)
        time.sleep(0.5)
        for held in self.held:
            try:
                held.send(HALF_SENT)
            except OSError:
                pass

    def diag_runs(self, key):
        return int(self.redis.get(key) or 0)

    def test_held_connections_take_a_bounded_number_of_descriptors_and_jobs_still_run(self):
        baseline = open_descriptors(self.worker.pid)
        self.hold(HELD)
        time.sleep(1)
        held_now = open_descriptors(self.worker.pid)
        self.assertLess(held_now, baseline + CAP + 10, f"{held_now} descriptors with {HELD} held connections (baseline {baseline})")
        # The worker still reaches Redis: a job runs.
        key = f"{self.namespace}:diag:runs"
        subprocess.run([hoopoe_binary(), "enqueue", "diag.incr", "--queue", "default", "--payload", f'{{"key":"{key}"}}'],
                       env={**os.environ, "HOOPOE_NAMESPACE": self.namespace, "SMS_TEMPLATES_FILE": str(ROOT / "jobs" / "sms_templates.yaml")},
                       check=True, capture_output=True, cwd=ROOT)
        deadline = time.time() + 20
        while self.diag_runs(key) < 1 and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.diag_runs(key), 1, self.output())

    def test_a_connection_that_never_finishes_its_request_is_closed(self):
        self.hold(1)
        held = self.held[0]
        held.setblocking(True)
        held.settimeout(IDLE_TIMEOUT + 20)
        started = time.monotonic()
        self.assertEqual(held.recv(1024), b"", "the server closes it")
        self.assertGreaterEqual(time.monotonic() - started, 1)
        # And the endpoint serves scrapes again once the holders are gone.
        status, body = self.scrape()
        self.assertEqual(status, 200)
        self.assertIn(b"hoopoe_", body)


if __name__ == "__main__":
    unittest.main()
