"""wait_for finds the job's queue: enqueue's Enqueued names it, and this Client remembers the queues of the notify jobs
it enqueued. It waited on `default` for every job, so a freecredit.request (queue `critical`) enqueued with notify and
waited for without a queue waited its whole timeout, its answer in critical's key. Against REDIS_URL's Redis, in a
namespace no worker serves: the answers are pushed here as the worker pushes them (jobs/PROTOCOL.md, "Answers");
test_worker.py waits for a real worker's."""
import json
import os
import sys
import time
import unittest
import unittest.mock
import uuid

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import hoopoe_client as hoopoe  # noqa: E402


class WaitsOnTheJobsQueue(unittest.TestCase):
    def setUp(self):
        self.r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        self.client = hoopoe.Client(self.r, f"wait-py-{uuid.uuid4().hex[:8]}")

    def answer(self, job_id, queue):
        """Pushes the answer the worker would push for job_id on queue."""
        body = {"id": job_id, "type": "freecredit.request", "queue": queue, "outcome": "processed", "attempt": 1}
        self.r.rpush(self.client.key(queue, f"answer:{job_id}"), json.dumps(body))

    def test_the_enqueued_names_the_queue_it_went_to(self):
        c = self.client
        self.assertEqual(c.enqueue("freecredit.request", {"user_id": "u", "request_id": "r1"}).queue, "critical")
        self.assertEqual(c.enqueue("diag.record", {"key": "k", "member": "m"}).queue, "default")
        self.assertEqual(c.enqueue("freecredit.request", {"user_id": "u", "request_id": "r2"}, "low").queue, "low")
        self.assertEqual(c.enqueue_in("freecredit.request", {"user_id": "u", "request_id": "r3"}, 600).queue, "critical")  # FCALL
        batch = c.enqueue_batch([{"type": "freecredit.request", "payload": {"user_id": "u", "request_id": "r4"}},
                                 {"type": "diag.record", "payload": {}, "queue": "low", "unique_key": "u1"}])
        self.assertEqual([e.queue for e in batch], ["critical", "low"])
        status, job_id = batch[0]  # still the pair it was
        self.assertEqual((status, job_id), ("enqueued", batch[0].id))
        self.assertEqual(batch[0], hoopoe.Enqueued("enqueued", job_id))

    def test_a_notify_job_is_waited_for_on_its_types_queue_without_naming_it(self):
        c = self.client
        job = c.enqueue("freecredit.request", {"user_id": "u", "request_id": "r1"}, notify=True)
        self.answer(job.id, "critical")
        started = time.monotonic()
        got = c.wait_for(job.id, timeout=3)  # the id alone: this Client sent it to critical
        self.assertIsNotNone(got, "no answer: waited on another queue than the job's")
        self.assertEqual((got["id"], got["queue"]), (job.id, "critical"))
        self.assertLess(time.monotonic() - started, 2)
        second = c.enqueue("freecredit.request", {"user_id": "u", "request_id": "r2"}, notify=True)
        self.answer(second.id, "critical")
        self.assertEqual(c.wait_for(second, timeout=3)["id"], second.id)  # the Enqueued: its queue
        # Another Client (another process) knows the Enqueued's queue, not the bare id's.
        third = c.enqueue("freecredit.request", {"user_id": "u", "request_id": "r3"}, notify=True)
        self.answer(third.id, "critical")
        self.assertEqual(hoopoe.Client(self.r, c.namespace).wait_for(third, timeout=3)["id"], third.id)

    def test_a_queue_given_is_the_one_waited_on(self):
        """As before: a caller that names the queue waits there, whatever the id."""
        c = self.client
        self.answer("by-hand", "low")
        self.assertEqual(c.wait_for("by-hand", "low", timeout=3)["id"], "by-hand")
        self.assertEqual(c.wait_for("by-hand", queue="low", timeout=0.2), None)  # popped by the first waiter
        job = c.enqueue("freecredit.request", {"user_id": "u", "request_id": "r1"}, notify=True)
        self.answer(job.id, "critical")
        self.assertEqual(c.wait_for(job, "critical", timeout=3)["id"], job.id)

    def test_an_unknown_queue_is_refused_not_waited_on_default(self):
        c = self.client
        started = time.monotonic()
        with self.assertRaises(hoopoe.InvalidJob) as caught:
            c.wait_for("never-enqueued-here", timeout=5)
        self.assertEqual(caught.exception.field, "queue")
        self.assertIn("Enqueued", str(caught.exception))
        plain = c.enqueue("diag.record", {"key": "k", "member": "m"})  # no notify: it gets no answer, nothing kept
        with self.assertRaises(hoopoe.InvalidJob):
            c.wait_for(plain.id, timeout=5)
        job = c.enqueue("freecredit.request", {"user_id": "u", "request_id": "r1"}, notify=True)
        with self.assertRaises(hoopoe.InvalidJob) as caught:
            hoopoe.Client(self.r, c.namespace).wait_for(job.id, timeout=5)  # another Client: the id alone is not enough
        with self.assertRaises(hoopoe.InvalidJob) as caught:
            c.wait_for(job, "default", timeout=5)  # not where it went
        self.assertIn("'critical'", str(caught.exception))
        with self.assertRaises(hoopoe.InvalidJob):
            c.wait_for("x", "", timeout=5)
        self.assertLess(time.monotonic() - started, 1, "refused before waiting")

    def test_namedtuples_copies_keep_the_queue(self):
        """_replace, _make and _asdict made copies without __new__: their .queue (and repr) raised AttributeError, and
        wait_for on one raised it instead of waiting or refusing."""
        c = self.client
        job = c.enqueue("freecredit.request", {"user_id": "u", "request_id": "r1"}, notify=True)
        moved = job._replace(status="scheduled")
        self.assertEqual((moved.status, moved.id, moved.queue), ("scheduled", job.id, "critical"))
        self.assertIn("queue='critical'", repr(moved))
        self.assertEqual(job._replace(queue="low").queue, "low")
        with self.assertRaises(ValueError):
            job._replace(queu="low")
        self.assertEqual(hoopoe.Enqueued._make(["enqueued", job.id, "critical"]).queue, "critical")
        bare = hoopoe.Enqueued._make(["enqueued", job.id])
        self.assertIsNone(bare.queue)
        self.assertIn("queue=None", repr(bare))
        with self.assertRaises(TypeError):
            hoopoe.Enqueued._make(["enqueued"])
        self.assertEqual(job._asdict(), {"status": "enqueued", "id": job.id, "queue": "critical"})
        again = hoopoe.Enqueued(**job._asdict())
        self.assertEqual((again, again.queue), (job, "critical"))
        # == and unpacking are still the pair's, whatever the queue.
        self.assertEqual(moved, ("scheduled", job.id))
        self.assertEqual(bare, job)
        status, job_id = moved
        self.assertEqual((status, job_id), ("scheduled", job.id))
        # wait_for on each: the copy's queue, or (None) the one this Client remembers; another Client refuses.
        self.answer(job.id, "critical")
        self.assertEqual(c.wait_for(moved, timeout=3)["id"], job.id)
        with self.assertRaises(hoopoe.InvalidJob):
            hoopoe.Client(self.r, c.namespace).wait_for(bare, timeout=5)
        second = c.enqueue("freecredit.request", {"user_id": "u", "request_id": "r2"}, notify=True)
        self.answer(second.id, "critical")
        self.assertEqual(c.wait_for(hoopoe.Enqueued._make(second[:2]), timeout=3)["id"], second.id)

    def test_the_oldest_remembered_queue_is_forgotten_first(self):
        c = self.client
        with unittest.mock.patch.object(hoopoe.client, "REMEMBERED", 2):
            ids = [c.enqueue("freecredit.request", {"user_id": "u", "request_id": f"r{i}"}, notify=True).id for i in range(3)]
            with self.assertRaises(hoopoe.InvalidJob):
                c.wait_for(ids[0], timeout=0.2)
            self.assertIsNone(c.wait_for(ids[1], timeout=0.2))  # known, no answer yet
            self.answer(ids[2], "critical")
            self.assertEqual(c.wait_for(ids[2], timeout=3)["id"], ids[2])
            self.assertNotIn(ids[2], c._notify_queues, "answered: forgotten")


if __name__ == "__main__":
    unittest.main()
