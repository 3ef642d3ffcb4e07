"""Seed scenarios end to end, black box: `hoopoe worker` and `hoopoe scheduler` processes, the test Redis, and
`hoopoe dev fake-providers --control` programmed over HTTP. Each class runs its own processes in its own namespace.
"""
import concurrent.futures
import json
import time
import unittest
import urllib.parse
import uuid

from fakes import Fakes
from hoopoe import Hoopoe, sms, tehran

MORNING = tehran(2024, 11, 23, 10)  # 10:00 Tehran: outside quiet hours

# sms.delivery_poll every second of real time; the domain clock decides what is due.
POLL_EVERY_SECOND = """
tasks:
  - name: sms.delivery_poll
    cron: "* * * * * *"
    type: sms.delivery_poll
    catch_up: skip
"""


def setUpModule():
    global FAKES
    FAKES = Fakes()


def tearDownModule():
    status, errors = FAKES.stop()
    assert status == 0, errors


class Scenario(unittest.TestCase):
    environment = {}

    def setUp(self):
        FAKES.reset()
        self.hoopoe = Hoopoe(FAKES, **self.environment)
        self.hoopoe.set_clock(MORNING)

    def tearDown(self):
        for pid, (status, output) in self.hoopoe.stop().items():
            self.assertEqual(status, 0, f"process {pid} exited {status}:\n{output}")
            errors = [line for line in output.splitlines() if " error " in line.lower() or line.lower().startswith("error")]
            self.assertEqual(errors, [], output)


class DeliveryPolling(Scenario):
    """Seed 002's lifecycle through the scheduler's poll ticks: nothing before 5 minutes, then each message to its
    final state — delivered, failed (6), and Kavenegar's 100 as `invalid_id` — in one `sms/status` call a round."""

    def test_messages_reach_their_final_states(self):
        FAKES.kavenegar(lifecycle=[1, 4, 10])
        self.hoopoe.start_worker()
        self.hoopoe.start_scheduler(POLL_EVERY_SECOND)
        for name in ("a", "b", "c"):
            self.hoopoe.enqueue("sms.send", sms(f"bb-poll-{name}", phone=f"0912123456{ord(name) - 97}"))
        sent = {e["message_id"]: e["provider_message_ids"][0] for e in self.hoopoe.wait_for_events("sms.sent", 3)}
        FAKES.kavenegar(message_status={"messageid": int(sent["bb-poll-b"]), "status": 6})
        FAKES.kavenegar(message_status={"messageid": int(sent["bb-poll-c"]), "status": 100})
        time.sleep(1.5)  # a tick or two of the scheduler
        self.assertEqual(FAKES.requests("kavenegar sms/status"), [])  # not before 5 minutes

        self.hoopoe.set_clock(MORNING + 300)
        finals = self.hoopoe.wait_for_events("sms.status", 2)
        self.hoopoe.set_clock(MORNING + 900)
        finals = self.hoopoe.wait_for_events("sms.status", 3, where=lambda e: e["state"] != "pending")
        states = {e["message_id"]: e["state"] for e in finals}
        self.assertEqual(states, {"bb-poll-a": "delivered", "bb-poll-b": "failed", "bb-poll-c": "invalid_id"})
        raw = {e["message_id"]: e["raw_status"] for e in finals}
        self.assertEqual(raw["bb-poll-c"], "100")
        # One sms/status call a round for all the messages due: the three at +5 min, the one still pending later.
        calls = FAKES.requests("kavenegar sms/status")
        ids = [urllib.parse.parse_qs(c["body"])["messageid"][0].split(",") for c in calls]
        self.assertEqual([len(i) for i in ids], [3, 1])
        self.assertEqual(ids[1], [sent["bb-poll-a"]])


class FallbackWithFaults(Scenario):
    """Provider faults programmed over HTTP: an alert (418) moves the message to IPPanel with one provider.alert; a
    Kavenegar 420 on an account with links restricted, with IPPanel off, sends the link-free template."""

    environment = {"SMS_UNKNOWN_OUTCOME_RETRY_SECONDS": "1"}

    def test_credit_alert_falls_back_to_ippanel(self):
        FAKES.fault("kavenegar verify/lookup", {"kind": "status", "status": 418})
        self.hoopoe.start_worker()
        self.hoopoe.enqueue("sms.send", sms("bb-fallback-418"))
        [sent] = self.hoopoe.wait_for_events("sms.sent")
        self.assertEqual(sent["provider"], "ippanel")
        [alert] = self.hoopoe.wait_for_events("provider.alert")
        self.assertEqual((alert["provider"], alert["code"]), ("kavenegar", "418"))
        [send] = FAKES.requests("ippanel send")
        self.assertEqual(json.loads(send["body"])["params"]["link"], "https://kamva.ir/email/receipt/981")

    def test_ippanel_dropped_answer_is_reconciled_not_resent(self):
        self.hoopoe.environment["SMS_PROVIDERS"] = "ippanel"
        FAKES.fault("ippanel send", {"kind": "drop"})
        self.hoopoe.start_worker()
        self.hoopoe.enqueue("sms.send", sms("bb-fallback-drop"))
        [sent] = self.hoopoe.wait_for_events("sms.sent")
        self.assertEqual(sent["provider"], "ippanel")
        self.assertEqual(len(FAKES.requests("ippanel send")), 1)
        self.assertGreaterEqual(len(FAKES.requests("ippanel report/new_list")), 1)

    def test_links_restricted_sends_the_link_free_template(self):
        self.hoopoe.environment["SMS_PROVIDERS"] = "kavenegar"
        FAKES.kavenegar(links_restricted=True)
        self.hoopoe.start_worker()
        self.hoopoe.enqueue("sms.send", sms("bb-fallback-420"))
        [sent] = self.hoopoe.wait_for_events("sms.sent")
        self.assertEqual(sent.get("template"), "expiration_reminder_nolink")
        templates = [dict(p.split("=", 1) for p in r["body"].split("&"))["template"] for r in FAKES.requests("kavenegar verify/lookup")]
        self.assertEqual(templates, ["expiration-reminder", "expiration-reminder-nolink"])
        self.assertEqual(self.hoopoe.wait_for_events("provider.alert")[0]["code"], "420")
        self.assertEqual(self.hoopoe.events("sms.failed"), [])


class FreeCreditConcurrency(Scenario):
    """Seed 001: free credit has a 120-second cooldown. Twenty simultaneous requests of one user, each waiting for its
    answer as jobs/types/freecredit.request.md says: exactly one grant; a repeated request id is answered at once
    with the same answer; 121 s later (domain time) the user may ask again."""

    def ask(self, request_id, timeout=20):
        base = f"{self.hoopoe.namespace}:{{freecredit}}"
        stored = self.hoopoe.redis.get(f"{base}:result:{request_id}")
        if stored is not None:
            return json.loads(stored)
        self.hoopoe.enqueue("freecredit.request", {"user_id": "176", "request_id": request_id})
        popped = self.hoopoe.redis.blpop([f"{base}:notify:{request_id}"], timeout=timeout)
        return json.loads(popped[1]) if popped else None

    def test_twenty_at_once_grant_once(self):
        self.hoopoe.start_worker(concurrency=8)
        ids = [str(uuid.uuid4()) for _ in range(20)]
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(self.ask, ids))
        self.assertNotIn(None, answers)
        statuses = sorted(a["status"] for a in answers)
        self.assertEqual(statuses, ["granted"] + ["rejected"] * 19)
        self.assertTrue(all(a["reason"] == "cooldown" for a in answers if a["status"] == "rejected"))
        granted = next(i for i, a in zip(ids, answers) if a["status"] == "granted")
        self.assertEqual(self.ask(granted)["status"], "granted")  # the same id: the same answer, nothing counted
        self.hoopoe.set_clock(MORNING + 121)
        self.assertEqual(self.ask(str(uuid.uuid4()))["status"], "granted")
        self.assertEqual(len(self.hoopoe.wait_for_events("freecredit.granted", 2)), 2)


class Gifts(Scenario):
    """Seed 001's wheel: a gift is valid one day and a user wins one a day. Two gifts of one user 25 h apart each get
    their own `gift.expired` (the panel's `user_gift.id`, not the user's `uid`); a third the same day is rejected."""

    def grant(self, user_gift_id, lifetime=2):
        """Grants a gift that expires `lifetime` domain seconds from now, then lets that much domain time pass."""
        now = self.hoopoe.clock()
        self.hoopoe.enqueue("gift.granted", {"user_id": 176, "user_gift_id": user_gift_id, "expires_at": int(now) + lifetime})
        self.hoopoe.set_clock(now + lifetime + 1)

    def test_two_gifts_of_one_user_expire_separately(self):
        self.hoopoe.start_worker()
        self.grant(24)
        [first] = self.hoopoe.wait_for_events("gift.expired")
        self.assertEqual(first["user_gift_id"], "24")
        self.hoopoe.set_clock(MORNING + 25 * 3600)
        self.grant(25)
        expired = self.hoopoe.wait_for_events("gift.expired", 2)
        self.assertEqual(sorted(e["user_gift_id"] for e in expired), ["24", "25"])
        self.hoopoe.set_clock(MORNING + 26 * 3600)
        self.grant(26)  # an hour after gift 25: the same day however the day is counted
        [rejected] = self.hoopoe.wait_for_events("gift.rejected")
        self.assertEqual((rejected["user_gift_id"], rejected["reason"]), ("26", "daily_limit"))
        self.assertGreater(rejected["retry_after"], 0)


if __name__ == "__main__":
    unittest.main()
