"""Seed scenarios end to end, black box: `hoopoe worker` and `hoopoe scheduler` processes, the test Redis, and
`hoopoe dev fake-providers --control` programmed over HTTP. Each class runs its own processes in its own namespace.
"""
import concurrent.futures
import datetime
import json
import time
import unittest
import re
import urllib.parse
import urllib.request
import uuid

import redis

from fakes import ROOT, Fakes
from hoopoe import TEHRAN, Hoopoe, sms, tehran

EVERY_SECOND = """
tasks:
  - name: {name}
    cron: "* * * * * *"
    type: {name}
    catch_up: skip
"""

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
            errors = [line for line in output.splitlines()
                      if any(f" {level} " in line.lower() or line.lower().startswith(level) for level in ("error", "critical"))]
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

    environment = {"GIFT_EXPIRE_GRACE_SECONDS": "0"}  # expired at expires_at: the test's gifts live 2 domain seconds

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


class RegistrationWithFaults(Scenario):
    """Seed 000's retried registration against a Brevo that misbehaves (docs/providers.md §4.5): the create's answer lost
    after the child was made (the connection dropped), and 5xx answers before success. Always one child, the plan's
    credits exactly once, and the child's auth key never on the events stream — only in the documented record."""

    environment = {"REGISTRATION_RETRY_BASE_SECONDS": "1", "REGISTRATION_RETRY_MAX_SECONDS": "2", "REGISTRATION_STATUS_POLL_SECONDS": "0.1"}

    def register(self, user, email):
        self.hoopoe.enqueue("sendinblue.register", {
            "user_id": user, "email": email, "first_name": "Josh", "last_name": "Cruise", "company": "Kamva",
            "password": "bb-Pa55w0rd-" + user, "plan": {"id": "3", "credit": {"email": 1200, "sms": 450}}})

    def children(self):
        return FAKES.brevo()["children"]

    def assert_no_secret_in_events(self):
        stream = repr(self.hoopoe.redis.xrange(f"{self.hoopoe.namespace}:events"))
        self.assertNotIn("xkeysib-child", stream)
        self.assertNotIn("Pa55w0rd", stream)

    def test_dropped_create_adopts_the_child_and_credits_once(self):
        FAKES.fault("brevo create child", {"kind": "drop"})
        self.hoopoe.start_worker()
        self.register("bb-u1", "dropped@example.com")
        [event] = self.hoopoe.wait_for_events("sendinblue.registered")
        [child] = self.children()
        self.assertEqual((child["email"], child["email_credits"], child["sms_credits"]), ("dropped@example.com", 1200, 450))
        self.assertEqual(event["child_id"], child["id"])
        self.assertEqual((event["adopted"], event["auth_key_stored"]), (True, False))
        self.assertNotIn("auth_key", event)
        self.assertEqual(len(FAKES.requests("brevo create child")), 1)
        self.assertGreaterEqual(len(FAKES.requests("brevo list children")), 1)
        self.assertEqual(len(FAKES.requests("brevo add credits")), 1)
        self.assertIsNone(self.hoopoe.redis.hget(f"{self.hoopoe.namespace}:{{registration}}:user:bb-u1", "auth_key"))
        self.assert_no_secret_in_events()

    def test_server_errors_then_success_one_child_credits_once_key_in_the_record(self):
        FAKES.fault("brevo create child", {"kind": "status", "status": 502, "code": "bad_gateway", "message": "Bad Gateway"})
        FAKES.fault("brevo add credits", {"kind": "status", "status": 503, "code": "unavailable", "message": "Service Unavailable"}, times=2)
        self.hoopoe.start_worker()
        self.register("bb-u2", "flaky@example.com")
        [event] = self.hoopoe.wait_for_events("sendinblue.registered", timeout=60)
        [child] = self.children()
        self.assertEqual((child["email_credits"], child["sms_credits"]), (1200, 450))
        self.assertEqual((event["adopted"], event["auth_key_stored"]), (False, True))
        self.assertNotIn("auth_key", event)
        self.assertEqual(len(FAKES.requests("brevo create child")), 2)  # the 502, then the create that made it
        self.assertEqual(len(FAKES.requests("brevo add credits")), 3)  # two 503s (balance unchanged), then success
        # Kingfisher's read path (jobs/types/sendinblue.register.md, "The child's auth key"), under the ACL that page
        # gives: the key can be read and removed, nothing else.
        record = f"{self.hoopoe.namespace}:{{registration}}:user:bb-u2"
        page = (ROOT / "jobs" / "types" / "sendinblue.register.md").read_text()
        rules = re.search(r"The Redis ACL for the reader.*?`(\+hget [^`]+)`, and\s+`(\+hdel)`", page, re.S)
        self.assertIsNotNone(rules, "the page no longer documents the reader's ACL")
        user = "bb-kingfisher-" + self.hoopoe.namespace
        acl = rules.group(1).replace("<ns>", self.hoopoe.namespace).split() + [rules.group(2)]
        self.hoopoe.redis.execute_command("ACL", "SETUSER", user, "reset", "on", ">bb-secret", "-@all", *acl)
        try:
            where = self.hoopoe.redis.connection_pool.connection_kwargs
            kingfisher = redis.Redis(host=where["host"], port=where["port"], db=where.get("db", 0), username=user, password="bb-secret")
            self.assertEqual(kingfisher.hget(record, "auth_key"), f"xkeysib-child-{child['id']}".encode())
            with self.assertRaises(redis.exceptions.NoPermissionError):
                kingfisher.hget(f"{self.hoopoe.namespace}:{{credit}}:users", "x")
            self.assertEqual(kingfisher.hdel(record, "auth_key"), 1)
            kingfisher.close()
        finally:
            self.hoopoe.redis.acl_deluser(user)
        # Without the key the record still says "registered": another job for the user does nothing.
        before = self.hoopoe.finished("sendinblue.register")
        self.register("bb-u2", "flaky@example.com")
        self.hoopoe.wait_for_runs("sendinblue.register", runs=1, since=before)
        self.assertEqual(len(FAKES.requests("brevo create child")), 2)
        self.assertEqual(len(self.hoopoe.events("sendinblue.registered")), 1)
        self.assert_no_secret_in_events()
        self.assertEqual(self.hoopoe.events("sendinblue.failed"), [])


class ExpirationRemindersAcrossAMonth(Scenario):
    """Seed 000's expiration reminders, SMS and email (REMINDER_EMAIL_TEMPLATE_ID), through a simulated December: the
    scheduler ticks `reminders.expiration` every real second while the domain clock jumps to the days that matter.
    Each reminder goes out exactly once per channel, on its day, never in quiet hours, and none after a renewal."""

    environment = {"REMINDER_EMAIL_TEMPLATE_ID": "41", "SMS_QUIET_HOURS": "22-08", "REMINDER_OFFSETS_DAYS": "10,3,1,0"}

    def at(self, year, month, day, hour):
        """Moves the domain clock and lets at least one whole sweep run at that time."""
        self.hoopoe.set_clock(tehran(year, month, day, hour))
        self.hoopoe.wait_for_runs("reminders.expiration")

    def upsert(self, user, expires_at, email):
        self.hoopoe.enqueue("subscription.upsert", {"user_id": user, "phone": "09121234567", "first_name": "Sara",
                                                    "plan": "gold", "expires_at": expires_at, "receipt_id": "R-" + user, "email": email})

    def released(self):
        """(user, offset, channel) of every reminder released so far, with the domain time of each release."""
        out = []
        for _, fields in self.hoopoe.redis.xrange(f"{self.hoopoe.namespace}:events"):
            if fields[b"type"] == b"reminder.queued":
                data = json.loads(fields[b"data"])
                out.append(((data["user_id"], data["offset"], data["channel"]), float(fields[b"at"])))
        return out

    def test_a_month_of_reminders(self):
        self.hoopoe.set_clock(tehran(2024, 12, 1, 10))
        self.hoopoe.start_worker()
        self.hoopoe.start_scheduler(EVERY_SECOND.format(name="reminders.expiration"))
        self.upsert("ua", "2024-12-15T18:00:00+03:30", "sara@example.com")
        self.upsert("ub", "2024-12-20T18:00:00+03:30", "babak@example.com")
        self.hoopoe.wait_for_events("subscription.upserted", 2)

        self.at(2024, 12, 4, 12)     # nothing is due yet
        self.assertEqual(self.released(), [])
        self.at(2024, 12, 5, 2)      # ua's 10-day reminder is due, but 02:00 is quiet
        self.assertEqual(self.released(), [])
        self.at(2024, 12, 5, 9)
        self.at(2024, 12, 5, 10)     # later sweeps the same day send nothing again
        self.at(2024, 12, 10, 9)     # ub's 10-day
        self.at(2024, 12, 12, 9)     # ua's 3-day
        self.hoopoe.set_clock(tehran(2024, 12, 13, 10))
        self.upsert("ub", "2025-01-20T18:00:00+03:30", "babak@example.com")   # ub renews
        self.hoopoe.wait_for_events("subscription.upserted", 3)
        self.at(2024, 12, 14, 9)     # ua's 1-day
        self.at(2024, 12, 15, 9)     # ua's day
        self.at(2024, 12, 17, 9)     # ub's old 3-day: renewed, nothing
        self.at(2024, 12, 19, 23)    # quiet
        self.at(2024, 12, 20, 9)     # ub's old day: nothing
        self.at(2024, 12, 31, 12)    # nothing until ub's new 10-day (Jan 10)

        released = self.released()
        expected = {("ua", o, c) for o in (10, 3, 1, 0) for c in ("sms", "email")} | {("ub", 10, c) for c in ("sms", "email")}
        self.assertEqual(sorted(r for r, _ in released), sorted(expected))  # each exactly once per channel
        for (user, offset, channel), at in released:
            local = datetime.datetime.fromtimestamp(at, TEHRAN)
            self.assertTrue(8 <= local.hour < 22, f"{user} {offset} {channel} released at {local}")
            expiry_day = datetime.date(2024, 12, 15 if user == "ua" else 20)
            self.assertEqual(local.date(), expiry_day - datetime.timedelta(days=offset), (user, offset, channel))

        # What reached the providers: one SMS and one email per release, the email with the template and the link.
        sms_sent = self.hoopoe.wait_for_events("sms.sent", 5, timeout=30)
        emails = self.hoopoe.wait_for_events("email.sent", 5, timeout=30)
        self.assertEqual(len({e["message_id"] for e in sms_sent}), 5)
        self.assertEqual(len({e["message_id"] for e in emails}), 5)
        lookups = FAKES.requests("kavenegar verify/lookup")
        self.assertEqual(len(lookups), 5)
        sent = [json.loads(r["body"]) for r in FAKES.requests("brevo send transactional email")]
        self.assertEqual(len(sent), 5)
        self.assertTrue(all(body["templateId"] == 41 for body in sent))
        self.assertEqual(sorted(body["to"][0]["email"] for body in sent), ["babak@example.com"] + ["sara@example.com"] * 4)
        for body in sent:
            user = "ua" if body["to"][0]["email"] == "sara@example.com" else "ub"
            self.assertEqual(body["params"]["receipt_url"], "https://kamva.ir/email/receipt/R-" + user)
        self.assertEqual(self.hoopoe.dead(), [])


class LowCreditCrossings(Scenario):
    """Seed 000's low-credit reminders with balances read from the (fake) Brevo child, the scheduler ticking
    `reminders.low_credit` every second: each threshold fires once when the balance crosses below it, stays quiet
    while it stays below, re-arms when the balance is back at or above it, and fires again on the next crossing."""

    environment = {"BREVO_BALANCE_REQUESTS_PER_HOUR": "100000"}

    def balance(self, email_credits):
        FAKES.brevo(child_credits={"id": self.child, "email": email_credits},
                    rate_limit={"limit": 100, "remaining": 100, "reset": 3600})  # the fake's window does not refill
        self.hoopoe.wait_for_runs("reminders.low_credit")

    def fired(self):
        return [(e["threshold_id"], e["balance"]) for e in self.hoopoe.events("reminder.queued") if e["kind"] == "low_credit"]

    def test_thresholds_fire_once_per_crossing_and_rearm(self):
        request = urllib.request.Request(
            FAKES.env["BREVO_BASE_URL"] + "/reseller/children", method="POST",
            headers={"api-key": FAKES.env["BREVO_API_KEY"], "Content-Type": "application/json"},
            data=json.dumps({"email": "shop@example.com", "firstName": "S", "lastName": "A", "companyName": "Shop", "password": "pw-12345678"}).encode())
        with urllib.request.urlopen(request, timeout=10) as answer:
            created = json.loads(answer.read())
        self.child = created["id"]
        FAKES.brevo(child_credits={"id": self.child, "email": 1000})
        # Runs overlap with a tick every second and several jobs at a time; one sweeps at a time (its lock,
        # jobs/types/reminders.low_credit.md), so the key is resolved once however they overlap.
        self.hoopoe.start_worker()
        for threshold_id, threshold in (("t500", 500), ("t100", 100)):
            self.hoopoe.enqueue("credit.threshold.set", {"user_id": "176", "threshold_id": threshold_id, "threshold": threshold,
                                                         "phone": "09121234567", "first_name": "Sara", "auth_key": created["authKey"]})
        self.hoopoe.wait_for_events("credit.threshold.saved", 2)
        self.hoopoe.start_scheduler(EVERY_SECOND.format(name="reminders.low_credit"))

        self.balance(1000)
        self.assertEqual(self.fired(), [])
        self.balance(300)                    # below 500
        self.balance(300)                    # still below: no second SMS
        self.assertEqual(self.fired(), [("t500", "300")])
        self.balance(50)                     # below 100 too
        self.assertEqual(self.fired(), [("t500", "300"), ("t100", "50")])
        self.balance(600)                    # back above both: re-armed, nothing sent
        self.assertEqual(len(self.fired()), 2)
        self.assertEqual(sorted(e["threshold_id"] for e in self.hoopoe.events("reminder.rearmed")), ["t100", "t500"])
        self.balance(400)                    # the next crossing of 500
        self.assertEqual(self.fired(), [("t500", "300"), ("t100", "50"), ("t500", "400")])

        sms_sent = self.hoopoe.wait_for_events("sms.sent", 3)
        self.assertEqual(len({e["message_id"] for e in sms_sent}), 3)
        templates = [urllib.parse.parse_qs(r["body"])["template"][0] for r in FAKES.requests("kavenegar verify/lookup")]
        self.assertEqual(templates, ["low-credit"] * 3)
        # The balances came from Brevo: the child's key was resolved once, then the children list was read.
        self.assertEqual(len(FAKES.requests("brevo get child")), 1)
        self.assertGreaterEqual(len(FAKES.requests("brevo list children")), 5)


if __name__ == "__main__":
    unittest.main()
