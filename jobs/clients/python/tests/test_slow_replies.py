"""An enqueue whose reply is slow is not written twice (docs/decisions/0080).

redis-py 8 sends a command again after a TimeoutError or ConnectionError (a 5 s socket timeout, up to 10 retries),
so a reply held past the socket timeout made one enqueue write its job twice. Shown here through a TCP proxy that
holds one reply from Redis for longer than the client's socket timeout (1 s here, to keep the tests short). Needs the
function library on REDIS_URL's Redis (scripts/test-clients.sh starts a worker, which loads it)."""
import json
import os
import socket
import sys
import threading
import time
import unittest
import uuid

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import hoopoe_client as hoopoe  # noqa: E402

HOLD = 2.5  # seconds the proxy holds the reply: past the 1 s socket timeout and redis-py's backoff between retries


class HoldingProxy:
    """A TCP proxy to Redis that holds one reply: after hold(seconds, command), the reply that follows the next
    request holding `command` waits `seconds` before it is forwarded."""

    def __init__(self, host, port):
        self.upstream = (host, port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.wanted = None  # (command, seconds) until a request holding the command passes
        self.hold_next = 0.0
        self.lock = threading.Lock()
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source, sink, replies):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                with self.lock:
                    if replies:
                        hold, self.hold_next = self.hold_next, 0.0
                    elif self.wanted is not None and self.wanted[0] in data:
                        hold, self.hold_next, self.wanted = 0.0, self.wanted[1], None
                    else:
                        hold = 0.0
                time.sleep(hold)
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def hold(self, seconds, command):
        with self.lock:
            self.wanted = (command, seconds)

    def close(self):
        self.server.close()
        for s in self.sockets:
            s.close()


class SlowReplies(unittest.TestCase):
    def setUp(self):
        self.r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        settings = self.r.connection_pool.connection_kwargs
        self.proxy = HoldingProxy(settings.get("host", "127.0.0.1"), settings.get("port", 6379))
        self.addCleanup(self.proxy.close)
        self.slow = redis.Redis(host="127.0.0.1", port=self.proxy.port, db=settings.get("db", 0), socket_timeout=1)
        self.addCleanup(self.slow.close)
        self.client = hoopoe.Client(self.slow, f"slow-py-{uuid.uuid4().hex[:8]}")

    def stream(self, queue="default"):
        return [json.loads(fields[b"job"]) for _, fields in self.r.xrange(self.client.key(queue, "stream"))]

    def settle(self):
        time.sleep(HOLD + 0.5)  # the held reply reaches the closed connection; what the first send wrote is there

    def test_a_plain_job_whose_reply_is_late_is_written_once(self):
        job_id = hoopoe.new_id()
        self.proxy.hold(HOLD, b"XADD")
        with self.assertRaises(redis.exceptions.TimeoutError):  # the outcome is unknown: said, not guessed
            self.client.enqueue("diag.record", {"key": "k", "member": "m"}, id=job_id)
        self.settle()
        self.assertEqual([job["id"] for job in self.stream()], [job_id])

    def test_a_batch_whose_replies_are_late_is_written_once(self):
        self.proxy.hold(HOLD, b"XADD")  # the pipeline's request (after the library check's)
        with self.assertRaises(redis.exceptions.TimeoutError) as caught:
            self.client.enqueue_batch([{"type": "diag.record", "payload": {"key": "k", "member": "1"}, "id": "b-plain"},
                                       {"type": "diag.record", "payload": {"key": "k", "member": "2"}, "id": "b-unique",
                                        "unique_key": "b-u"}])
        self.assertEqual(caught.exception.results, [None, None])  # no reply came: either may be in
        self.settle()
        self.assertEqual(sorted(job["id"] for job in self.stream()), ["b-plain", "b-unique"])

    def test_a_unique_job_whose_reply_is_late_is_not_refused_as_its_own_duplicate(self):
        job_id = hoopoe.new_id()
        self.proxy.hold(HOLD, b"hoopoe_enqueue")
        with self.assertRaises(redis.exceptions.TimeoutError):
            self.client.enqueue_unique("diag.record", {"key": "k", "member": "m"}, "slow-u", id=job_id)
        self.settle()
        self.assertEqual(self.r.get(self.client.key("default", "unique:slow-u")), job_id.encode())
        # The caller sends the same call again (the same id): the job is in, so that is success, not Duplicate.
        self.assertEqual(self.client.enqueue_unique("diag.record", {"key": "k", "member": "m"}, "slow-u", id=job_id),
                         hoopoe.Enqueued("enqueued", job_id))
        self.assertEqual([job["id"] for job in self.stream()], [job_id])


class SameCallTwice(unittest.TestCase):
    """A `duplicate` or `once` reply that names the id this call sent is the call's own job: Enqueued."""

    def setUp(self):
        self.client = hoopoe.Client(redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")),
                                    f"again-py-{uuid.uuid4().hex[:8]}")

    def test_unique_once_and_scheduled(self):
        c, payload = self.client, {"key": "k", "member": "m"}
        for call in (lambda: c.enqueue_unique("diag.record", payload, "again-u", id="again-1"),
                     lambda: c.enqueue_once("diag.record", payload, "again-o", id="again-2")):
            first = call()
            self.assertEqual(first.status, "enqueued")
            self.assertEqual(call(), first)
        later = dict(unique_key="again-later", delay=600, id="again-3")
        self.assertEqual(c.enqueue("diag.record", payload, **later), c.enqueue("diag.record", payload, **later))
        self.assertEqual(c.enqueue("diag.record", payload, **later).status, "scheduled")
        results = c.enqueue_batch([{"type": "diag.record", "payload": payload, "once_key": "again-o", "id": "again-2"},
                                   {"type": "diag.record", "payload": payload, "once_key": "again-o", "id": "other"}])
        self.assertEqual(results[0], hoopoe.Enqueued("enqueued", "again-2"))
        self.assertIsInstance(results[1], hoopoe.AlreadyEnqueued)  # another job's call is still refused
        self.assertEqual(results[1].existing_id, "again-2")


if __name__ == "__main__":
    unittest.main()
