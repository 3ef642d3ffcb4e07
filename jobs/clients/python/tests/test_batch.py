"""enqueue_batch: nothing is sent when the function library its jobs need is missing, and an error after sending
comes with every job's result (what was written and what was not). Against REDIS_URL's Redis; the library test
deletes the function library and loads it again with HOOPOE_BIN on a Redis no worker uses, HOOPOE_TEST_LONE_REDIS
(scripts/test-clients.sh sets all three)."""
import json
import os
import sys
import unittest
import uuid

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import hoopoe_client as hoopoe  # noqa: E402
from lone_redis import lone_redis  # noqa: E402


class Batches(unittest.TestCase):
    def setUp(self):
        self.r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        self.client = hoopoe.Client(self.r, f"batch-py-{uuid.uuid4().hex[:8]}")

    def ids(self, queue="default", client=None):
        client = client or self.client
        return [json.loads(fields[b"job"])["id"] for _, fields in client.redis.xrange(client.key(queue, "stream"))]

    @unittest.skipUnless(os.environ.get("HOOPOE_BIN"), "needs HOOPOE_BIN to load the function library again")
    def test_without_the_function_library_nothing_is_sent(self):
        """A batch with a job that needs FCALL hoopoe_enqueue: LibraryNotLoaded before anything is written, so the
        documented remedy (load the library, send the batch again) does not enqueue its plain jobs twice. On the lone
        Redis: on REDIS_URL's the worker could load the library between the DELETE and the batch."""
        lone, load = lone_redis(self)
        client = hoopoe.Client(lone, self.client.namespace)
        lone.execute_command("FUNCTION", "DELETE", "hoopoe")
        batch = [{"type": "diag.record", "payload": {"key": "k", "member": "1"}, "id": "nolib-plain"},
                 {"type": "diag.record", "payload": {"key": "k", "member": "2"}, "id": "nolib-unique", "unique_key": "nolib"}]
        with self.assertRaises(hoopoe.LibraryNotLoaded):
            client.enqueue_batch(batch)
        self.assertEqual(self.ids(client=client), [])
        load()
        self.assertEqual(client.enqueue_batch(batch), [hoopoe.Enqueued("enqueued", "nolib-plain"), hoopoe.Enqueued("enqueued", "nolib-unique")])
        self.assertEqual(self.ids(client=client), ["nolib-plain", "nolib-unique"])

    def test_an_unknown_name_is_refused_before_anything_is_sent(self):
        """A batch job's names are enqueue()'s arguments: PHP's and Go's `in`, the envelope's `run_at` or a misspelt
        `uniqe_key` raise InvalidJob naming it, where they were skipped and the job enqueued to run now, unlocked."""
        for name, value in (("in", 600), ("run_at", 4102444800), ("uniqe_key", "u")):
            with self.subTest(name), self.assertRaises(hoopoe.InvalidJob) as caught:
                self.client.enqueue_batch([{"type": "diag.record", "payload": {"key": "k", "member": "1"}, "id": "u-plain"},
                                           {"type": "diag.record", "payload": {"key": "k", "member": "2"}, name: value}])
            self.assertEqual(caught.exception.field, name)
            self.assertIn(repr(name), str(caught.exception))
            self.assertIn("delay", str(caught.exception))  # the known names
        self.assertEqual(self.ids(), [])
        self.assertEqual(self.r.exists(self.client.key("default", "scheduled")), 0)

    def test_an_error_after_sending_comes_with_every_jobs_result(self):
        """Redis runs each job of the pipeline on its own: one refused (WRONGTYPE) does not undo the others, and the
        error raised says which were written."""
        self.r.set(self.client.key("broken", "stream"), "not a stream")
        with self.assertRaises(redis.exceptions.ResponseError) as caught:
            self.client.enqueue_batch([
                {"type": "diag.record", "payload": {"key": "k", "member": "1"}, "id": "p-1"},
                {"type": "diag.record", "payload": {"key": "k", "member": "2"}, "id": "p-2", "queue": "broken"},
                {"type": "diag.record", "payload": {"key": "k", "member": "3"}, "id": "p-3", "once_key": "p"},
                {"type": "diag.record", "payload": {"key": "k", "member": "4"}, "id": "p-4", "once_key": "p"}])
        self.assertIn("WRONGTYPE", str(caught.exception))
        results = caught.exception.results
        self.assertEqual(results[0], hoopoe.Enqueued("enqueued", "p-1"))
        self.assertIs(results[1], caught.exception)
        self.assertEqual(results[2], hoopoe.Enqueued("enqueued", "p-3"))
        self.assertIsInstance(results[3], hoopoe.AlreadyEnqueued)
        self.assertEqual(self.ids(), ["p-1", "p-3"])


if __name__ == "__main__":
    unittest.main()
