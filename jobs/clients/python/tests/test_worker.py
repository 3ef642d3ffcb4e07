"""This client against a real `hoopoe worker` (scripts/test-clients.sh starts one, with the fake providers, on
HOOPOE_NAMESPACE; HOOPOE_CLOCK_KEY holds the domain clock at noon in Tehran): every job kind enqueued from Python
runs, free credit is answered through wait_free_credit, and the events the jobs write conform to
jobs/conformance/events.json."""
import json
import os
import sys
import time
import unittest
import uuid

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import hoopoe_client as hoopoe  # noqa: E402
from lone_redis import lone_redis  # noqa: E402
from test_conformance import event_problems, load  # noqa: E402

LIVE = os.environ.get("HOOPOE_TEST_WORKER") == "1"


def answer_problems(answers, doc):
    """What in the answers differs from events.json's 'answer' (fields, their types, outcome values)."""
    from test_conformance import json_type_ok
    spec, problems = doc["answer"], []
    for a in answers:
        for field, kind in {**spec["fields"], **{k: v for k, v in spec["optional"].items() if k in a}}.items():
            if field not in a or not json_type_ok(a[field], kind):
                problems.append(f"answer.{field} = {a.get(field)!r}, want {kind}")
        if a.get("outcome") not in spec["values"]["outcome"]:
            problems.append(f"answer.outcome = {a.get('outcome')!r}")
    return problems


@unittest.skipUnless(LIVE, "needs a worker: run scripts/test-clients.sh")
class AgainstAWorker(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.r = redis.Redis.from_url(os.environ["REDIS_URL"])
        cls.client = hoopoe.Client(cls.r)  # the namespace from HOOPOE_NAMESPACE, as a service would
        cls.jobs = hoopoe.Jobs(cls.client)
        cls.now = float(cls.r.get(os.environ["HOOPOE_CLOCK_KEY"]))
        cls.run_id = "py" + uuid.uuid4().hex[:8]

    def state(self, job_id, queue="default"):
        c = self.client
        if self.r.hexists(c.key(queue, "dead:jobs"), job_id):
            return "dead: " + json.loads(self.r.hget(c.key(queue, "dead:jobs"), job_id)).get("dead_reason", "?")
        if self.r.hexists(c.key(queue, "scheduled:jobs"), job_id):
            return "scheduled"
        for _entry, fields in self.r.xrange(c.key(queue, "stream")):
            if json.loads(fields[b"job"]).get("id") == job_id:
                return "ready"
        return "done"

    def wait_done(self, ids, timeout=60):
        deadline = time.time() + timeout
        states = {}
        while time.time() < deadline:
            states = {i: self.state(i) for i in ids}
            if all(s == "done" or s.startswith("dead") for s in states.values()):
                break
            time.sleep(0.1)
        self.assertEqual({i: s for i, s in states.items() if s != "done"}, {})

    def wait_events(self, wanted, timeout=60):
        """Events of this run (by user_id / message_id / request_id) until every type in `wanted` was seen."""
        deadline = time.time() + timeout
        mine = []
        while time.time() < deadline:
            mine = [e for e in self.client.read_events("0-0", count=100000)
                    if any(str(e.data.get(k, "")).startswith(self.run_id) for k in ("user_id", "message_id", "request_id", "job_id"))]
            if wanted <= {e.type for e in mine}:
                break
            time.sleep(0.2)
        self.assertLessEqual(wanted, {e.type for e in mine}, [(e.type, e.data) for e in mine])
        return mine

    def test_every_job_kind_runs_and_its_events_conform(self):
        u, c, j = self.run_id, self.client, self.jobs
        group = f"{u}-billing"
        self.assertTrue(c.create_events_group(group))
        self.assertFalse(c.create_events_group(group))
        key = f"{c.namespace}:{u}:diag"
        ids = []
        ids.append(c.enqueue("diag.record", {"key": key, "member": "now"}).id)
        later = c.enqueue_in("diag.record", {"key": key, "member": "later"}, 1)
        self.assertEqual(later.status, "scheduled")
        ids.append(later.id)
        ids.append(c.enqueue_at("diag.record", {"key": key, "member": "at"}, time.time() + 1).id)
        ids.append(c.enqueue_unique("diag.record", {"key": key, "member": "unique", "sleep_ms": 300}, f"{u}-unique").id)
        with self.assertRaises(hoopoe.Duplicate):
            c.enqueue_unique("diag.record", {"key": key, "member": "unique2"}, f"{u}-unique")
        ids.append(c.enqueue_once("diag.record", {"key": key, "member": "once"}, f"{u}-once").id)
        with self.assertRaises(hoopoe.AlreadyEnqueued):
            c.enqueue_once("diag.record", {"key": key, "member": "once2"}, f"{u}-once")
        ids += [r.id for r in c.enqueue_batch([{"type": "diag.record", "payload": {"key": key, "member": f"b{i}"}} for i in range(3)])]
        phone = "0912" + str(uuid.uuid4().int % 10**7).zfill(7)  # its own: sms.send caps messages a phone gets a day
        ids.append(j.sms_send(f"{u}-sms", phone, "expiration_reminder",
                              {"token10": "Sara", "token": "3", "token2": "1403/10/12", "token3": "https://kamva.ir/r/1"},
                              user_id=f"{u}-1", purpose="test").id)
        with self.assertRaises(hoopoe.AlreadyEnqueued):
            j.sms_send(f"{u}-sms", phone, "expiration_reminder", {"token10": "Sara"})
        # not_after past: the worker ends it failed (sms.failed, reason outdated), never sent.
        ids.append(j.sms_send(f"{u}-sms-late", phone, "expiration_reminder",
                              {"token10": "Sara", "token": "3", "token2": "1403/10/12", "token3": "https://kamva.ir/r/1"},
                              user_id=f"{u}-1", not_after=self.now - 60).id)
        ids.append(j.email_send(f"{u}-email", f"{u}@example.com", 17, {"first_name": "سارا", "days_left": "۳"}, name="Sara",
                                user_id=f"{u}-1", purpose="test").id)
        with self.assertRaises(hoopoe.AlreadyEnqueued):
            j.email_send(f"{u}-email", f"{u}@example.com", 17, {})
        ids.append(j.subscription_upsert(f"{u}-1", phone, "Sara", int(self.now) + 20 * 86400, "r1", plan=2).id)
        ids.append(j.credit_threshold_set(f"{u}-1", "t1", 500, phone, "Sara").id)
        ids.append(j.credit_balance(f"{u}-1", 320).id)
        ids.append(j.gift_granted(f"{u}-1", f"{u}-g1", self.now + 3 * 86400, phone=phone, service_name="لایک", won_at=self.now - 60).id)
        expire = j.gift_expire(f"{u}-1", f"{u}-g2")
        ids.append(expire.id)
        ids.append(j.sendinblue_register(f"{u}-1", f"{u}@example.com", "Josh", "Cruise", "Co", "Pa55w0rd65",
                                         {"id": "3", "credit": {"email": 1200, "sms": 450}}, language="en").id)
        for tick_type in ("reminders.expiration", "reminders.low_credit", "sms.delivery_poll"):
            ids.append(c.enqueue(tick_type, {"tick": int(self.now)}).id)
        answer = j.free_credit(f"{u}-1", f"{u}-fc1", amount=93, timeout=30)
        self.assertEqual((answer["status"], answer["amount"]), ("granted", 93), answer)
        again = j.free_credit(f"{u}-1", f"{u}-fc2", timeout=30)
        self.assertEqual((again["status"], again["reason"]), ("rejected", "cooldown"), again)
        self.assertEqual(c.wait_free_credit(f"{u}-fc1", timeout=1)["status"], "granted")  # the result key, kept
        # notify: the final outcome of any job, done or dead, through wait_for.
        done = c.enqueue("diag.record", {"key": key, "member": "notified"}, notify=True, id=f"{u}-notified")
        dies = c.enqueue("diag.record", {"member": "no key"}, notify=True, id=f"{u}-dies")
        answers = [c.wait_for(done.id, timeout=30), c.wait_for(dies.id, timeout=30)]
        self.assertEqual([a["outcome"] for a in answers], ["processed", "dead"], answers)
        self.assertIn("key", answers[1]["error"])
        self.assertEqual(answer_problems(answers, load("events.json")), [])
        self.wait_done(ids)
        # Jobs that depend on the ones above: run after them.
        ids2 = [j.gift_used(f"{u}-1", f"{u}-g1").id, j.credit_threshold_delete(f"{u}-1", "t1").id, j.subscription_delete(f"{u}-1").id]
        self.wait_done(ids2)
        self.assertEqual({m.decode() for m in self.r.smembers(key)}, {"now", "later", "at", "unique", "once", "b0", "b1", "b2", "notified"})
        events = self.wait_events({"freecredit.granted", "freecredit.rejected", "sms.sent", "subscription.upserted", "subscription.deleted",
                                   "credit.threshold.saved", "credit.balance.recorded", "credit.threshold.deleted", "gift.expired",
                                   "sendinblue.registered", "job.dead", "email.sent", "sms.failed"})
        doc = load("events.json")
        self.assertEqual([p for e in events for p in event_problems(e, doc)], [])
        # Each event names the job that wrote it, but job.dead (the engine's, with data.job_id).
        self.assertEqual([(e.type, e.job) for e in events if (e.job is None) != (e.type == "job.dead")], [])
        self.assertEqual([e.job for e in events if e.type == "gift.expired"], [expire.id])
        # The group, created before the jobs ran, got every one of this run's events; acknowledged, none is pending.
        grouped = c.read_events_group(group, "reader-1", count=100000)
        self.assertLessEqual({e.id for e in events}, {e.id for e in grouped})
        self.assertEqual(c.ack_events(group, *[e.id for e in grouped]), len(grouped))
        self.assertEqual(self.r.xpending(c.events_key, group)["pending"], 0)
        self.assertEqual(c.read_events_group(group, "reader-1"), [])
        sms = sorted((e.type, e.data["message_id"], e.data.get("reason", "").split(":")[0]) for e in events
                     if e.type in ("sms.failed", "sms.sent") and e.data["message_id"] in (f"{u}-sms", f"{u}-sms-late"))
        self.assertEqual(sms, [("sms.failed", f"{u}-sms-late", "outdated"), ("sms.sent", f"{u}-sms", "")])
        upserted = [e for e in events if e.type == "subscription.upserted"]
        self.assertEqual(upserted[0].data["outcome"], "new")

    def test_a_request_id_another_user_was_answered_under_is_refused(self):
        """free_credit compares the answer's user_id with its user: user B reusing the request id user A was answered
        under got A's answer ("granted, 93") from the result key, while the worker buried B's job (freecredit.lua
        refuses another user's request id). Now RequestIDReused, naming neither A nor the amount."""
        u, j = f"fc-{self.run_id}", self.jobs  # not prefixed by run_id: test_every_job_kind counts those events as its own
        mine = j.free_credit(f"{u}-fa", f"{u}-shared", amount=93, timeout=30)
        self.assertEqual((mine["status"], mine["user_id"]), ("granted", f"{u}-fa"), mine)
        queue = self.client.key("critical", "stream")  # freecredit.request's queue (PROTOCOL.md)
        before = self.r.xinfo_stream(queue)["last-generated-id"]
        with self.assertRaises(hoopoe.RequestIDReused) as caught:
            j.free_credit(f"{u}-fb", f"{u}-shared", timeout=1.5)  # the kept answer settles it: no job, no wait
        self.assertEqual(caught.exception.request_id, f"{u}-shared")
        self.assertEqual(self.r.xinfo_stream(queue)["last-generated-id"], before, "no job enqueued for an id already answered")
        self.assertNotIn(f"{u}-fa", str(caught.exception))
        # The amount, not a "93" the random run id may hold (py66e7eb93 failed a run).
        self.assertNotIn("93", str(caught.exception).replace(f"{u}-shared", ""))
        # A's answer still on the notify list (A's caller did not wait for it): popped by B's wait, refused as well.
        j.request_free_credit(f"{u}-fc", f"{u}-shared2", amount=93)
        deadline = time.time() + 30
        while self.r.get(f"{self.client.namespace}:{{freecredit}}:result:{u}-shared2") is None and time.time() < deadline:
            time.sleep(0.05)
        with self.assertRaises(hoopoe.RequestIDReused):
            j.free_credit(f"{u}-fd", f"{u}-shared2", timeout=30)
        self.assertEqual(j.free_credit(f"{u}-fc", f"{u}-shared2", timeout=30)["user_id"], f"{u}-fc")  # its own user's, still

    def test_a_notify_job_is_waited_for_on_its_types_queue(self):
        """A freecredit.request enqueued with notify goes to `critical` (its type's queue), and the worker pushes its
        answer there: wait_for without a queue waited on `default` for the whole timeout and returned None. The id
        this Client enqueued is known, and so is the Enqueued's queue, whichever Client waits."""
        u, c = f"wq-{self.run_id}", self.client  # not prefixed by run_id, as above
        job = c.enqueue("freecredit.request", {"user_id": f"{u}-1", "request_id": f"{u}-r1"}, notify=True)
        answer = c.wait_for(job.id, timeout=20)
        self.assertIsNotNone(answer, "no answer where wait_for looked")
        self.assertEqual((answer["id"], answer["queue"], answer["outcome"]), (job.id, "critical", "processed"), answer)
        second = c.enqueue("freecredit.request", {"user_id": f"{u}-2", "request_id": f"{u}-r2"}, notify=True)
        answer = hoopoe.Client(self.r).wait_for(second, timeout=20)
        self.assertEqual((answer["id"], answer["queue"], answer["outcome"]), (second.id, "critical", "processed"), answer)

    def test_number_tokens_are_sent_as_text_and_the_subscription_email_is_kept(self):
        """An int token (the balance) went as a JSON number, the worker buried the SMS and its once-key refused the
        corrected resend: now sent as "3". subscription_upsert sends email, which the worker stores on every upsert."""
        u, j = f"tx-{self.run_id}", self.jobs  # not prefixed by run_id, as above
        phone = "0912" + str(uuid.uuid4().int % 10**7).zfill(7)
        sms = j.sms_send(f"{u}-sms-int", phone, "expiration_reminder",
                         {"token10": "Sara", "token": 3, "token2": "1403/10/12", "token3": "https://kamva.ir/r/1"}, user_id=f"{u}-2")
        sub = f"{self.client.namespace}:{{reminders}}:sub:{u}-2"
        first = j.subscription_upsert(f"{u}-2", phone, "Sara", int(self.now) + 20 * 86400, "r2", email=f"{u}@example.com")
        self.wait_done([sms.id, first.id])
        self.assertEqual(self.r.hget(sub, "email"), f"{u}@example.com".encode())
        renewal = j.subscription_upsert(f"{u}-2", phone, "Sara", int(self.now) + 50 * 86400, "r2", email=f"{u}@example.com")
        self.wait_done([renewal.id])
        self.assertEqual(self.r.hget(sub, "email"), f"{u}@example.com".encode())
        deadline = time.time() + 30
        sent = []
        while not sent and time.time() < deadline:
            sent = [e for e in self.client.read_events("0-0", count=100000) if e.type == "sms.sent" and e.data.get("message_id") == f"{u}-sms-int"]
            time.sleep(0.1)
        self.assertEqual(len(sent), 1, "the SMS with a number token was not sent")
        j.subscription_delete(f"{u}-2")

    def test_a_future_run_at_sent_by_plain_xadd_is_not_run_early(self):
        """PROTOCOL's promise for any path: the worker moves it to the scheduled set, due at run_at; it runs when due.
        run_at is far ahead and the job is made due by hand (as the Swift SMSSendTests do): with run_at 3 s ahead, a
        worker slower than 2 s to read it failed the test ("ready"), and one slower than 3 s ran it at once ("done")."""
        key = f"{self.client.namespace}:{self.run_id}:early"
        run_at = time.time() + 600
        job = {"id": hoopoe.new_id(), "type": "diag.record", "queue": "default", "payload": {"key": key, "member": "m"},
               "attempt": 0, "enqueued_at": time.time(), "run_at": run_at}
        self.r.xadd(self.client.key("default", "stream"), {"job": json.dumps(job)})
        deadline = time.time() + 20
        while self.state(job["id"]) != "scheduled" and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.state(job["id"]), "scheduled")
        self.assertEqual(self.r.zscore(self.client.key("default", "scheduled"), job["id"]), run_at)
        self.assertEqual(self.r.scard(key), 0)
        self.assertEqual(self.r.zadd(self.client.key("default", "scheduled"), {job["id"]: time.time()}, xx=True, ch=True), 1)
        self.wait_done([job["id"]], timeout=30)
        self.assertEqual(self.r.scard(key), 1)

    def test_two_jobs_with_one_id_both_run(self):
        """PROTOCOL: a plain XADD does not look for an earlier job with the same id (use a once-key for at-most-once)."""
        key = f"{self.client.namespace}:{self.run_id}:same-id"
        job_id = hoopoe.new_id()
        for member in ("first", "second"):
            job = {"id": job_id, "type": "diag.record", "payload": {"key": key, "member": member}, "enqueued_at": time.time()}
            self.r.xadd(self.client.key("default", "stream"), {"job": json.dumps(job)})
        self.wait_done([job_id])
        deadline = time.time() + 10
        while self.r.scard(key) < 2 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual({m.decode() for m in self.r.smembers(key)}, {"first", "second"})

    def test_waits_longer_than_the_socket_timeout(self):
        """redis-py 8 times a socket out after 5 s by default; a wait longer than the socket timeout still ends in
        None, not an exception (shown here with a 1 s socket timeout, to keep the test short)."""
        client = hoopoe.Client(redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=1))
        started = time.monotonic()
        self.assertIsNone(client.wait_for(f"{self.run_id}-never", "default", timeout=2.5))
        self.assertIsNone(client.wait_free_credit(f"{self.run_id}-never", timeout=0.5))
        self.assertEqual(client.read_events_group(f"{self.run_id}-quiet", "r", block_ms=1500) if client.create_events_group(f"{self.run_id}-quiet") else None, [])
        self.assertGreaterEqual(time.monotonic() - started, 4.4)
        # A socket timeout under the 1 s slice cuts every slice short; the event read still waits its whole block.
        quiet = hoopoe.Client(redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=0.5), f"{self.run_id}-quiet")
        started = time.monotonic()
        self.assertEqual(quiet.read_events("$", block_ms=2500), [])
        self.assertGreaterEqual(time.monotonic() - started, 2.4)

    def test_a_restarted_group_reader_gets_back_what_it_did_not_acknowledge(self):
        ns = f"{self.run_id}-restart"  # a namespace of its own: no worker writes these events
        before = hoopoe.Client(self.r, ns)
        self.assertTrue(before.create_events_group("scripts"))
        for n in ("one", "two"):
            self.r.xadd(before.events_key, {"type": f"test.{n}", "data": "{}", "at": "1.5"})
        self.assertEqual([e.type for e in before.read_events_group("scripts", "host-1")], ["test.one", "test.two"])
        after = hoopoe.Client(self.r, ns)  # the restarted reader, nothing acknowledged
        again = after.read_events_group("scripts", "host-1", block_ms=1500)
        self.assertEqual([e.type for e in again], ["test.one", "test.two"])
        after.ack_events("scripts", *[e.id for e in again])
        self.assertEqual(after.read_events_group("scripts", "host-1"), [])
        self.assertEqual(hoopoe.Client(self.r, ns).read_events_group("scripts", "host-1"), [])

    def test_events_trimmed_while_pending_do_not_hide_the_ones_after_them(self):
        ns = f"{self.run_id}-trimmed"
        before = hoopoe.Client(self.r, ns)
        self.assertTrue(before.create_events_group("scripts"))
        ids = [self.r.xadd(before.events_key, {"type": f"test.{n}", "data": "{}", "at": "1.5"}) for n in ("one", "two", "three")]
        self.assertEqual(len(before.read_events_group("scripts", "host-1", count=3)), 3)
        self.r.xdel(before.events_key, *ids[:2])  # trimmed while pending, as MAXLEN does
        after = hoopoe.Client(self.r, ns)  # the restarted reader
        self.assertEqual([e.type for e in after.read_events_group("scripts", "host-1", count=2)], ["test.three"])
        self.assertEqual(self.r.xpending(before.events_key, "scripts")["pending"], 1, "the trimmed ones were acknowledged")

    def test_a_blocking_read_from_now_sees_an_event_written_while_it_waits(self):
        c = self.client
        import threading
        marker = f"live-{self.run_id}"  # not prefixed by run_id: the other tests count those events as theirs
        writer = threading.Timer(1.5, lambda: self.r.xadd(c.events_key, {"type": "test.marker", "data": json.dumps({"job_id": marker}), "at": "1.5"}))
        writer.start()
        seen = []
        deadline = time.monotonic() + 10
        after = "$"
        while not any(e.data.get("job_id") == marker for e in seen) and time.monotonic() < deadline:
            batch = c.read_events(after, block_ms=3000)
            seen += batch
            after = batch[-1].id if batch else after
        writer.join()
        self.assertTrue(any(e.data.get("job_id") == marker for e in seen))

    def test_the_readme_example_runs(self):
        """README.md's example, run against the test Redis and worker (its URL swapped for REDIS_URL)."""
        with open(os.path.join(HERE, "..", "README.md"), encoding="utf-8") as f:
            code = f.read().split("```python", 1)[1].split("```", 1)[0]
        code = code.replace('"redis://127.0.0.1:6379/0"', repr(os.environ["REDIS_URL"]))
        scope = {}
        exec(compile(code, "README.md", "exec"), scope)
        self.assertIn(scope["answer"]["status"], ("granted", "rejected"), scope["answer"])  # 176 may have asked in another client's run
        self.assertEqual(scope["outcome"]["outcome"], "processed", scope["outcome"])
        deadline = time.time() + 30  # its SMS is sent, not dead for a missing template token
        while time.time() < deadline and not any(e.type == "sms.sent" and e.data.get("message_id") == "low-credit:176:t1:1733480000"
                                                 for e in self.client.read_events("0-0", count=100000)):
            time.sleep(0.2)
        self.assertTrue(any(e.type == "sms.sent" and e.data.get("message_id") == "low-credit:176:t1:1733480000"
                            for e in self.client.read_events("0-0", count=100000)), "the README's SMS was not sent")

    def test_the_protocol_pages_sample_envelope_runs(self):
        """jobs/PROTOCOL.md's first JSON example, as written (a fresh id and message id aside), sent by plain XADD."""
        with open(os.path.join(HERE, "..", "..", "..", "PROTOCOL.md"), encoding="utf-8") as f:
            page = f.read()
        sample = json.loads(page.split("```json", 1)[1].split("```", 1)[0])
        sample["id"] = hoopoe.new_id()
        sample["payload"]["message_id"] = f"{self.run_id}-protocol-sample"
        sample["enqueued_at"] = time.time()
        self.assertIsNone(hoopoe.problem(sample))
        self.r.xadd(self.client.key(sample["queue"], "stream"), {"job": json.dumps(sample, ensure_ascii=False)})
        self.wait_done([sample["id"]])
        sent = [e for e in self.wait_events({"sms.sent"}) if e.data.get("message_id") == sample["payload"]["message_id"]]
        self.assertEqual(len(sent), 1)

    def test_a_missing_function_library_is_a_clear_error_until_the_worker_loads_it_again(self):
        """A Redis restarted without persistence forgets its functions (here: FUNCTION DELETE): an enqueue that needs
        hoopoe_enqueue raises LibraryNotLoaded saying what to do, a plain one still works, and the worker loads the
        library again at its next check (every 15 s). The errors are seen on the lone Redis: on the worker's, its
        check could load the library between the DELETE and the enqueue, and the enqueue succeeded."""
        payload = {"key": f"{self.run_id}:nolib", "member": "later"}
        lone, _ = lone_redis(self)
        unserved = hoopoe.Client(lone, self.client.namespace)
        lone.execute_command("FUNCTION", "DELETE", "hoopoe")
        with self.assertRaises(hoopoe.LibraryNotLoaded) as caught:
            unserved.enqueue_in("diag.record", payload, 3600)
        self.assertIn("hoopoe functions load", str(caught.exception))
        with self.assertRaises(hoopoe.LibraryNotLoaded):
            unserved.enqueue_batch([{"type": "diag.record", "payload": payload, "unique_key": f"{self.run_id}:nolib"}])
        self.assertEqual(unserved.enqueue("diag.record", {"key": f"{self.run_id}:nolib", "member": "now"}).status, "enqueued")
        # The worker's Redis: deleted (FUNCTION DELETE refuses a library that is not there), then loaded again by the
        # worker, the only one loading it there.
        self.r.execute_command("FUNCTION", "DELETE", "hoopoe")
        deadline = time.time() + 40
        while True:
            try:
                done = self.client.enqueue_in("diag.record", payload, 3600)
                break
            except hoopoe.LibraryNotLoaded:
                self.assertLess(time.time(), deadline, "the worker did not load the library again")
                time.sleep(0.2)
        self.assertEqual(done.status, "scheduled")
        self.r.zrem(self.client.key("default", "scheduled"), done.id)

    def test_the_example_script_enqueues_through_this_client(self):
        """jobs/examples/hoopoe_enqueue.py as its docstring says: --notify prints the job's answer from the worker,
        a repeated unique key exits 3, a type the rules refuse exits 64 naming the field."""
        import subprocess
        script = os.path.join(HERE, "..", "..", "..", "examples", "hoopoe_enqueue.py")

        def run(*args):
            return subprocess.run([sys.executable, script, *args], capture_output=True, text=True, timeout=60)

        key = f"{self.run_id}:example"
        done = run("diag.record", json.dumps({"key": key, "member": "m"}), "--notify")
        self.assertEqual(done.returncode, 0, done.stderr)
        kind, job_id = done.stdout.splitlines()[0].split()
        self.assertEqual(kind, "enqueued")
        answer = json.loads(done.stdout.splitlines()[1])
        self.assertEqual((answer["id"], answer["outcome"]), (job_id, "processed"), answer)
        self.assertTrue(self.r.sismember(key, "m"))
        first = run("diag.record", json.dumps({"key": key, "member": "later"}), "--in", "3600", "--unique-key", key)
        self.assertEqual(first.stdout.split()[0], "scheduled", first.stderr)
        again = run("diag.record", json.dumps({"key": key, "member": "later"}), "--in", "3600", "--unique-key", key)
        self.assertEqual((again.returncode, again.stdout.split()), (3, ["duplicate", first.stdout.split()[1]]))
        self.client.redis.zrem(self.client.key("default", "scheduled"), first.stdout.split()[1])
        refused = run("bad type", "{}")
        self.assertEqual(refused.returncode, 64)
        self.assertIn("type must be", refused.stderr)


if __name__ == "__main__":
    unittest.main()
