"""`hoopoe worker --metrics-port`, attacked from outside: clients that open connections and never finish a request.

Each such connection held one of the worker's file descriptors for ever; at the process's limit it could open no Redis
connection, so it fetched nothing and its heartbeat stopped (and a liveness probe restarted it). The endpoint now
serves a bounded number of connections at once and closes one that sends no complete request within 10 s, however
steadily it trickles its body (PrometheusEndpoint.swift, RequestDeadline).
"""
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import redis

from fakes import ROOT, hoopoe_binary

HALF_SENT = b"GET /metrics HTTP/1.1\r\nHost: x\r\n"  # no blank line: the request never ends
# A whole head, and a body that never ends: chunks of a byte, a few seconds apart.
CHUNKED_HEAD = b"GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
CHUNK = b"1\r\nx\r\n"
CHUNK_EVERY = 3
HELD = 300
# The endpoint's cap (PrometheusEndpoint.maxConnections) and request timeout, as the code sets them.
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

    def trickle(self, count, stop):
        """Opens `count` connections that each send a request's head, then its chunked body a chunk every few seconds
        until `stop` is set; returns them (closed by tearDown)."""
        trickling = []
        for _ in range(count):
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            connection.sendall(CHUNKED_HEAD)
            trickling.append(connection)
            self.held.append(connection)

        def send_chunks():
            while not stop.wait(CHUNK_EVERY):
                for connection in trickling:
                    try:
                        connection.sendall(CHUNK)
                    except OSError:
                        pass  # closed by the server: what is asked of it

        threading.Thread(target=send_chunks, daemon=True).start()
        return trickling

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

    def test_bodies_trickled_on_every_connection_do_not_lock_out_a_scrape(self):
        # Every connection the endpoint serves at once, each sending its body a chunk every few seconds: the idle
        # timeout restarted at each chunk, so they held the endpoint for ever and every scrape timed out in the backlog.
        stop = threading.Event()
        self.addCleanup(stop.set)
        trickling = self.trickle(CAP, stop)
        time.sleep(1)
        started = time.monotonic()
        status, body = self.scrape(timeout=IDLE_TIMEOUT + 5)
        self.assertEqual(status, 200)
        self.assertIn(b"hoopoe_queue_depth", body)
        self.assertLess(time.monotonic() - started, IDLE_TIMEOUT + 5)
        # The trickling connections were closed by the server, though they kept sending (it may have answered the
        # request's head first: the handler does not read the body).
        for connection in trickling:
            connection.settimeout(5)
            try:
                while connection.recv(4096):
                    pass
            except ConnectionResetError:
                pass  # closed with our chunks unread: a reset is a close too


if __name__ == "__main__":
    unittest.main()
