"""The client's own checks, made before anything is sent (no Redis needed)."""
import os
import sys
import unittest
from unittest import mock

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import hoopoe_client as hoopoe  # noqa: E402

UNUSED = redis.Redis(host="127.0.0.1", port=1)  # never connected: every case here is refused or decided before sending


class Namespace(unittest.TestCase):
    def test_empty_is_unset(self):
        """HOOPOE_NAMESPACE= (empty) and namespace='' are the default, as the worker takes an empty variable."""
        with mock.patch.dict(os.environ, {"HOOPOE_NAMESPACE": ""}):
            self.assertEqual(hoopoe.default_namespace(), "hoopoe")
            self.assertEqual(hoopoe.Client(UNUSED, "").namespace, "hoopoe")
        with mock.patch.dict(os.environ, {"HOOPOE_NAMESPACE": "panel"}):
            self.assertEqual(hoopoe.Client(UNUSED, "").namespace, "panel")

    def test_one_the_worker_refuses_is_refused(self):
        """The worker refuses a namespace with a brace (its queues' keys carry {queue} as their hash tag), a space or a
        control character (Sources/hoopoe/GlobalOptions.swift, namespaceProblem): so does the client."""
        for bad in ("{hoopoe}", "hoo}poe", "my app", "tab\there", "new\nline", "nbsp\u00a0", "ideographic\u3000space", "del\x7f", "nul\x00"):
            with self.subTest(bad), self.assertRaises(hoopoe.InvalidJob) as caught:
                hoopoe.Client(UNUSED, bad)
            self.assertEqual(caught.exception.field, "namespace")
            self.assertIn("brace", str(caught.exception))
        with mock.patch.dict(os.environ, {"HOOPOE_NAMESPACE": "{hoopoe}"}), self.assertRaises(hoopoe.InvalidJob):
            hoopoe.Client(UNUSED)
        for good in ("hoopoe", "clients-123", "a:b.c_d", "هدهد"):
            self.assertEqual(hoopoe.Client(UNUSED, good).namespace, good)


class SizeLimit(unittest.TestCase):
    def test_a_limit_above_the_workers_is_the_workers(self):
        """The workers bury an envelope over 512 KiB: a client given a larger limit refuses it before sending, too."""
        with self.assertRaises(hoopoe.TooLarge) as refused:
            hoopoe.Client(UNUSED, "hoopoe", max_bytes=600_000).enqueue("diag.record", {"key": "k", "member": "x" * 550_000})
        self.assertEqual(refused.exception.limit, 524288)


class NotJSON(unittest.TestCase):
    """A value JSON cannot carry is refused as InvalidJob naming its field, not sent as text the worker buries (a bare
    NaN) or raised as a ValueError/TypeError outside the client's errors."""

    def test_nan_infinity_and_other_values_json_cannot_carry(self):
        client = hoopoe.Client(UNUSED, "checks")
        import datetime
        for payload in ({"x": float("nan")}, {"x": [float("inf")]}, {"x": -float("inf")}, {"at": datetime.datetime(2026, 1, 1)},
                        {"name": "\ud83d"}, {b"raw": 1}):
            with self.subTest(repr(payload)):
                with self.assertRaises(hoopoe.InvalidJob) as caught:
                    client.enqueue("diag.record", payload)
                self.assertEqual(caught.exception.field, "payload")
                self.assertIn("JSON", str(caught.exception))
        with self.assertRaises(hoopoe.InvalidJob) as caught:
            client.enqueue("diag.record", {}, unique_key="half a surrogate \ud83d")
        self.assertEqual(caught.exception.field, "unique_key")
        with self.assertRaises(hoopoe.InvalidJob) as caught:
            client.enqueue_batch([{"type": "diag.record", "payload": {"x": float("nan")}}])
        self.assertEqual(caught.exception.field, "payload")


class OverlongNumber(unittest.TestCase):
    """json.dumps writes an int whole: 10**100 is 101 digits, which the worker refuses (a number is at most 100
    characters: Foundation's decoder traps on some longer ones). Refused before sending, naming "number"."""

    def test_an_int_of_101_digits_is_refused_before_sending(self):
        client = hoopoe.Client(UNUSED, "checks")
        for payload in ({"n": 10**100}, {"deep": [{"n": -(10**99)}]}):
            with self.subTest(repr(payload)[:40]):
                with self.assertRaises(hoopoe.InvalidJob) as caught:
                    client.enqueue("diag.record", payload)
                self.assertEqual(caught.exception.field, "number")
                self.assertIn("more than 100 characters", str(caught.exception))
        with self.assertRaises(hoopoe.InvalidJob) as caught:
            client.enqueue_batch([{"type": "diag.record", "payload": {"n": 10**100}}])
        self.assertEqual(caught.exception.field, "number")

    def test_100_characters_and_long_digit_text_are_not_refused(self):
        """10**99 is 100 digits; digits in a string are text, after an escaped quote too. The bytes enqueue sends."""
        from hoopoe_client.envelope import encode
        for payload in ({"n": 10**99}, {"n": -(10**98)}, {"phones": "9" * 500}, {"q": '"' + "9" * 500}, {"n": [10**99] * 3}):
            with self.subTest(repr(payload)[:40]):
                self.assertIn(b'"payload"', encode({"id": "x", "type": "diag.record", "payload": payload}))


class FreeCreditIds(unittest.TestCase):
    """freecredit.request's user_id and request_id go into Redis keys: its handler takes 1-100 characters of
    A-Z a-z 0-9 . _ : - (KeySafe, Sources/HoopoeJobs/Support/DomainID.swift) and buries anything else, while the caller
    waits out its timeout. The helpers refuse them first."""

    def test_ids_the_handler_refuses_are_refused_before_sending(self):
        jobs = hoopoe.Jobs(hoopoe.Client(UNUSED, "checks"))
        for user_id, request_id, field in (("user 176", "r-1", "payload.user_id"), (176, "r/1", "payload.request_id"),
                                           ("176", "سلام", "payload.request_id"), ("176", "r" * 101, "payload.request_id"),
                                           ("", "r-1", "payload.user_id"), ("176", "", "payload.request_id")):
            calls = [lambda: jobs.request_free_credit(user_id, request_id)]
            if request_id:  # free_credit makes a request id when given none ("" included)
                calls.append(lambda: jobs.free_credit(user_id, request_id, timeout=30))
            for call in calls:
                with self.subTest(user_id=user_id, request_id=request_id), self.assertRaises(hoopoe.InvalidJob) as caught:
                    call()
                self.assertEqual(caught.exception.field, field)
                self.assertIn("A-Z a-z 0-9 . _ : -", str(caught.exception))

    def test_amounts_the_handler_refuses_are_refused_before_sending(self):
        """amount outside 1...1e9 (or not a whole number) buried the job while the caller waited for its answer."""
        jobs = hoopoe.Jobs(hoopoe.Client(UNUSED, "checks"))
        for amount in (0, -5, 1_000_000_001, 2.5, True, "10"):
            with self.subTest(amount=amount), self.assertRaises(hoopoe.InvalidJob) as caught:
                jobs.request_free_credit("176", "r-1", amount)
            self.assertEqual(caught.exception.field, "payload.amount")

    def test_gift_ids_the_handler_refuses_are_refused_before_sending(self):
        jobs = hoopoe.Jobs(hoopoe.Client(UNUSED, "checks"))
        for user_id, gift_id, field in (("user 176", "g-1", "payload.user_id"), (176, "g/1", "payload.user_gift_id"),
                                        ("176", "", "payload.user_gift_id")):
            for call in (lambda: jobs.gift_granted(user_id, gift_id, 1795400000), lambda: jobs.gift_used(user_id, gift_id),
                         lambda: jobs.gift_expire(user_id, gift_id)):
                with self.subTest(user_id=user_id, gift_id=gift_id), self.assertRaises(hoopoe.InvalidJob) as caught:
                    call()
                self.assertEqual(caught.exception.field, field)


class _Captured:
    """Stands in for Client under Jobs: keeps what the helpers would enqueue (nothing is sent), and answers
    wait_free_credit with `answer` (free_credit_answer, the decided answer read before enqueueing, with `decided`)."""

    def __init__(self, answer=None, decided=None):
        self.sent = []
        self.answer = answer
        self.decided = decided

    def free_credit_answer(self, request_id):
        return self.decided

    def enqueue(self, job_type, payload, queue="default", **options):
        self.sent.append((job_type, payload))
        return hoopoe.Enqueued("enqueued", "captured")

    def wait_free_credit(self, request_id, timeout=10.0):
        return self.answer


class FreeCreditAnswers(unittest.TestCase):
    def test_another_users_answer_is_refused_not_returned(self):
        """The answer is kept under the request id alone: one decided for user A, found by user B's free_credit with the
        same id, raised nothing and B got A's grant. Refused, naming neither A nor A's amount (another user's data)."""
        theirs = {"status": "granted", "amount": 93, "month_used": 1, "user_id": "user-a-176", "request_id": "r-1", "at": 1.5}
        jobs = hoopoe.Jobs(_Captured(theirs))
        with self.assertRaises(hoopoe.RequestIDReused) as caught:
            jobs.free_credit("user-b-177", "r-1")
        self.assertEqual(caught.exception.request_id, "r-1")
        self.assertIsInstance(caught.exception, hoopoe.HoopoeError)
        self.assertNotIn("user-a-176", str(caught.exception))
        self.assertNotIn("93", str(caught.exception))
        self.assertEqual(jobs.free_credit("user-a-176", "r-1"), theirs)  # its own user gets it
        self.assertEqual(hoopoe.Jobs(_Captured({**theirs, "user_id": "176"})).free_credit(176, "r-1")["status"], "granted")  # an int id
        self.assertIsNone(hoopoe.Jobs(_Captured(None)).free_credit("user-b-177", "r-1"))  # a timeout is still None

    def test_an_answer_already_decided_is_read_not_asked_again(self):
        """A request id whose answer is kept was enqueued again and waited for: another user's raised RequestIDReused
        only after the whole timeout (the worker buries that job and answers no one). Now the kept answer settles it
        at once, and no job is enqueued, for this user or another."""
        theirs = {"status": "granted", "amount": 93, "month_used": 1, "user_id": "user-a-176", "request_id": "r-1", "at": 1.5}
        captured = _Captured(answer=None, decided=theirs)
        with self.assertRaises(hoopoe.RequestIDReused):
            hoopoe.Jobs(captured).free_credit("user-b-177", "r-1", timeout=600)
        self.assertEqual(hoopoe.Jobs(captured).free_credit("user-a-176", "r-1"), theirs)
        self.assertEqual(captured.sent, [])
        with self.assertRaises(hoopoe.InvalidJob):  # what would bury the job is refused first, decided or not
            hoopoe.Jobs(captured).free_credit("user-a-176", "r-1", amount=0)
        fresh = _Captured(answer={**theirs, "request_id": "r-2"})
        self.assertEqual(hoopoe.Jobs(fresh).free_credit("user-a-176", "r-2")["status"], "granted")
        self.assertEqual([t for t, _ in fresh.sent], ["freecredit.request"])  # undecided: asked


class TextMaps(unittest.TestCase):
    """sms.send's tokens and email.send's params are string-to-string maps to the worker: another JSON type buried the
    job, and its 30-day once-key then refused the corrected resend."""

    def test_numbers_are_sent_as_their_decimal_text(self):
        captured = _Captured()
        jobs = hoopoe.Jobs(captured)
        values = {"token10": "Sara", "token": 320, "token2": 2.5, "token3": 320.0, "big": 1e20, "small": 1e-7, "neg": -7}
        want = {"token10": "Sara", "token": "320", "token2": "2.5", "token3": "320", "big": "100000000000000000000",
                "small": "0.0000001", "neg": "-7"}
        jobs.sms_send("m-1", "09121234567", "low_credit", values)
        jobs.email_send("m-2", "s@example.com", 17, values)
        self.assertEqual([(t, p.get("tokens", p.get("params"))) for t, p in captured.sent], [("sms.send", want), ("email.send", want)])

    def test_other_values_are_refused_before_sending(self):
        jobs = hoopoe.Jobs(hoopoe.Client(UNUSED, "checks"))  # never connected: a refusal comes before sending
        for bad in (True, False, None, [1], {"a": "b"}, float("nan"), float("inf"), b"320", object()):
            for field, call in (("tokens", lambda: jobs.sms_send("m-1", "09121234567", "low_credit", {"token10": "Sara", "token": bad})),
                                ("params", lambda: jobs.email_send("m-2", "s@example.com", 17, {"first_name": "Sara", "token": bad}))):
                with self.subTest(field=field, value=bad), self.assertRaises(hoopoe.InvalidJob) as caught:
                    call()
                self.assertEqual(caught.exception.field, f"payload.{field}.token")
        with self.assertRaises(hoopoe.InvalidJob) as caught:
            jobs.sms_send("m-1", "09121234567", "low_credit", None)
        self.assertEqual(caught.exception.field, "payload.tokens")


class SubscriptionEmail(unittest.TestCase):
    def test_the_email_is_sent_when_given(self):
        """subscription.upsert's optional email: the worker stores what each upsert sends, so a renewal through a helper
        that could not send it erased the stored address."""
        captured = _Captured()
        jobs = hoopoe.Jobs(captured)
        jobs.subscription_upsert(176, "09121234567", "Sara", 1795400000, "r1", plan=2, email="sara@example.com")
        jobs.subscription_upsert(176, "09121234567", "Sara", 1795400000, "r1")
        self.assertEqual(captured.sent[0][1]["email"], "sara@example.com")
        self.assertNotIn("email", captured.sent[1][1])


if __name__ == "__main__":
    unittest.main()
