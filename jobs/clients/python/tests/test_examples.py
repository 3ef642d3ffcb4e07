"""jobs/examples/*.py, the scripts services copy, against REDIS_URL's Redis (no worker: each test uses a namespace no
worker serves, or the default one, and removes what it wrote)."""
import json
import os
import subprocess
import sys
import unittest
import uuid

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "..", "examples")


def run(script, *args, env=None):
    environment = {**os.environ, "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), **(env or {})}
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], capture_output=True, text=True,
                          timeout=60, env=environment)


class Examples(unittest.TestCase):
    def setUp(self):
        self.r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        self.run_id = "ex" + uuid.uuid4().hex[:8]

    def written(self, pattern):
        keys = sorted(k.decode() for k in self.r.scan_iter(match=pattern, count=1000))
        self.addCleanup(lambda: keys and self.r.delete(*keys))
        return keys

    def test_an_empty_namespace_is_the_default(self):
        """HOOPOE_NAMESPACE= (empty) is unset, as the worker takes it: the keys are hoopoe:…, not :…."""
        user = f"{self.run_id}-u"
        wheel = run("gift_wheel.py", user, "--record", f"{self.run_id}-g", "--now", "1733121000", env={"HOOPOE_NAMESPACE": ""})
        self.assertEqual(wheel.returncode, 0, wheel.stderr)
        direct = run("freecredit_request.py", "--direct", user, "--request-id", f"{self.run_id}-r", "--now", "1733121000",
                     env={"HOOPOE_NAMESPACE": ""})
        self.assertEqual(direct.returncode, 0, direct.stderr)
        self.assertEqual(self.written(f"*{self.run_id}*"), [f"hoopoe:{{freecredit}}:last:{user}",
                                                            f"hoopoe:{{freecredit}}:month:{user}:1403-09",
                                                            f"hoopoe:{{freecredit}}:notify:{self.run_id}-r",
                                                            f"hoopoe:{{freecredit}}:result:{self.run_id}-r",
                                                            f"hoopoe:{{gifts}}:wheel:{user}"])

    def test_free_credit_is_asked_on_the_critical_queue(self):
        """PROTOCOL's queue table and jobs/types/freecredit.request.md: critical (a user is waiting for the answer)."""
        ns = f"{self.run_id}-ns"  # no worker serves it: the job stays where it was put
        asked = run("freecredit_request.py", "176", "--request-id", f"{self.run_id}-r", "--timeout", "0.2",
                    env={"HOOPOE_NAMESPACE": ns})
        self.assertEqual(asked.returncode, 3, asked.stdout + asked.stderr)  # no answer in time
        self.assertEqual(self.written(f"{ns}:*"), [f"{ns}:{{critical}}:stream"])
        [(_, fields)] = self.r.xrange(f"{ns}:{{critical}}:stream")
        self.assertIn(f'"request_id":"{self.run_id}-r"', fields[b"job"].decode())

    def test_count_refuses_the_options_it_cannot_honour(self):
        """--count enqueued 100 jobs now when asked for them in an hour, and 100 when asked for one unique job."""
        ns = f"{self.run_id}-count"
        for extra in (["--in", "3600"], ["--unique-key", "k"], ["--notify"]):
            refused = run("hoopoe_enqueue.py", "--count", "3", *extra, "diag.record", '{"key":"k","member":"{i}"}',
                          env={"HOOPOE_NAMESPACE": ns})
            self.assertEqual(refused.returncode, 64, refused.stdout + refused.stderr)
            self.assertIn("--count", refused.stderr)
        self.assertEqual(self.written(f"{ns}:*"), [], "nothing was enqueued")

    def test_bad_arguments_exit_64_with_one_line(self):
        """The docstring promises 64 for bad arguments: `--count x` and an option without its value ended in a
        traceback and exit 1."""
        ns = f"{self.run_id}-usage"
        for args, says in ((["--count", "x", "diag.record", "{}"], "--count"), (["--count", "0", "diag.record", "{}"], "--count"),
                           (["diag.record", "{}", "--queue"], "--queue needs a value"), (["--dump"], "--dump needs a value"),
                           (["--in", "--notify", "diag.record", "{}"], "--in needs a value"),
                           (["diag.record", "{}", "--delay", "60"], "unknown option --delay")):
            with self.subTest(args):
                refused = run("hoopoe_enqueue.py", *args, env={"HOOPOE_NAMESPACE": ns})
                self.assertEqual(refused.returncode, 64, refused.stdout + refused.stderr)
                self.assertIn(says, refused.stderr)
                self.assertNotIn("Traceback", refused.stderr)
        self.assertEqual(self.written(f"{ns}:*"), [], "nothing was enqueued")
        helped = run("hoopoe_enqueue.py", "--help")
        self.assertEqual(helped.returncode, 0, helped.stderr)
        self.assertIn("69 when Redis cannot be reached", helped.stdout)

    def test_help_prints_the_usage_and_an_unknown_option_exits_64_before_redis(self):
        """-h and --help were taken as the user id: freecredit_request.py asked for credit for a user "--help" (with a
        worker, a real freecredit.granted event) and gift_wheel.py counted a spin under …wheel:--help; hoopoe_enqueue.py
        enqueued `-x '{}'` as a job of type "-x". Now --help prints the usage and exits 0, and a bad argument exits
        64 with one line, with nothing written."""
        ns = f"{self.run_id}-help"
        env = {"HOOPOE_NAMESPACE": ns}
        for script, says in (("freecredit_request.py", "exits 0 when granted"), ("gift_wheel.py", "count a gift"),
                             ("persian_month.py", "persian|gregorian UNIX_SECONDS"), ("hoopoe_enqueue.py", "--dump QUEUE")):
            for args in (["--help"], ["-h"], ["176", "-h"]):
                with self.subTest(script=script, args=args):
                    helped = run(script, *args, env=env)
                    self.assertEqual(helped.returncode, 0, helped.stdout + helped.stderr)
                    self.assertIn(says, helped.stdout)
        for script, args, says in (
                ("freecredit_request.py", ["-x", "176", "--timeout", "0.2"], "unknown option -x"),
                ("freecredit_request.py", ["176", "--bogus", "--timeout", "0.2"], "unknown option --bogus"),
                ("freecredit_request.py", ["--direct", "176", "-v"], "unknown option -v"),
                ("freecredit_request.py", ["176", "--timeout"], "--timeout needs a value"),
                ("freecredit_request.py", ["176", "--timeout", "soon"], "--timeout needs a number of seconds"),
                ("freecredit_request.py", ["176", "--amount", "1.5", "--timeout", "0.2"], "--amount needs a whole number"),
                ("freecredit_request.py", ["176", "--amount", "5", "--amount", "6", "--timeout", "0.2"], "--amount given twice"),
                ("freecredit_request.py", ["--direct", "176", "--now", "soon"], "--now needs Unix seconds"),
                ("freecredit_request.py", ["--direct", "176", "--timeout", "1"], "--timeout is for a request that waits"),
                ("freecredit_request.py", ["a b", "--timeout", "0.2"], "user_id must be"),
                ("gift_wheel.py", ["-x", "5"], "unknown option -x"),
                ("gift_wheel.py", ["5", "--record"], "--record needs a value"),
                ("gift_wheel.py", ["5", "--now", "soon"], "--now needs Unix seconds"),
                ("gift_wheel.py", ["5", "6"], "give one USER_ID"),
                ("persian_month.py", ["-x", "1733121000"], "unknown option -x"),
                ("persian_month.py", ["persian", "soon"], "'soon' is not Unix seconds"),
                ("hoopoe_enqueue.py", ["-x", "{}"], "unknown option -x")):
            with self.subTest(script=script, args=args):
                refused = run(script, *args, env=env)
                self.assertEqual(refused.returncode, 64, refused.stdout + refused.stderr)
                self.assertIn(says, refused.stderr)
                self.assertEqual(len(refused.stderr.strip().splitlines()), 1, refused.stderr)
        self.assertEqual(self.written(f"{ns}:*"), [], "nothing was written")

    def test_an_unreachable_redis_exits_69_with_one_line(self):
        """Exit 69 (EX_UNAVAILABLE, as for a missing function library) naming the cause, not a traceback and exit 1;
        and the URL's password is not in it."""
        for args in (["diag.record", "{}"], ["--dump", "default"]):
            with self.subTest(args):
                down = run("hoopoe_enqueue.py", *args, env={"REDIS_URL": "redis://:not-shown-pw@127.0.0.1:1/0"})
                self.assertEqual(down.returncode, 69, down.stdout + down.stderr)
                self.assertEqual(len(down.stderr.strip().splitlines()), 1, down.stderr)
                self.assertIn("cannot reach Redis", down.stderr)
                self.assertNotIn("not-shown-pw", down.stderr)

    def test_a_namespace_the_workers_refuse_is_a_bad_setting(self):
        refused = run("hoopoe_enqueue.py", "diag.record", "{}", env={"HOOPOE_NAMESPACE": "{hoopoe}"})
        self.assertEqual(refused.returncode, 78, refused.stderr)
        self.assertIn("HOOPOE_NAMESPACE", refused.stderr)
        self.assertIn("brace", refused.stderr)


class DumpRedaction(unittest.TestCase):
    """hoopoe_enqueue.py --dump prints envelopes as Hoopoe's own outputs show them (Sources/HoopoeCore/Redaction):
    a type's secret payload keys removed (the common secret names too, at any depth, but for the paths a handler reads
    that only look like secrets: sms.send's tokens.token)
    and phone numbers and email addresses masked. The vectors and the rule's tables are jobs/conformance/redaction.json's, which the
    engine's tests run too and check against the build's handlers: a change to the engine's rule fails here until
    this copy follows it."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, EXAMPLES)
        import hoopoe_enqueue
        cls.example = hoopoe_enqueue
        with open(os.path.join(EXAMPLES, "..", "conformance", "redaction.json"), encoding="utf-8") as f:
            cls.vectors = json.load(f)

    def test_phone_numbers_are_masked_as_the_engine_masks_them(self):
        mask = self.example.mask_phones
        self.assertGreaterEqual(len(self.vectors["phones"]["masked"]), 10)
        for text, masked in self.vectors["phones"]["masked"]:
            self.assertEqual(mask(text), masked, text)
        for text in self.vectors["phones"]["unchanged"]:
            self.assertEqual(mask(text), text)

    def test_email_addresses_are_masked_as_the_engine_masks_them(self):
        mask = self.example.mask_personal
        self.assertGreaterEqual(len(self.vectors["emails"]["masked"]), 5)
        for text, masked in self.vectors["emails"]["masked"]:
            self.assertEqual(mask(text), masked, text)
        for text in self.vectors["emails"]["unchanged"]:
            self.assertEqual(mask(text), text)

    def test_the_rules_tables_are_the_engines(self):
        rule = self.vectors["rule"]
        self.assertEqual(self.example.SECRET_KEYS, {t: set(keys) for t, keys in rule["secret_keys"].items()})
        self.assertEqual(self.example.KNOWN_TYPES, set(rule["known_types"]))
        self.assertEqual(self.example.COMMON_SECRET_KEYS, set(rule["common_secret_keys"]))
        self.assertEqual(self.example.PATHS_NAMED_LIKE_SECRETS, {t: set(p) for t, p in rule["paths_named_like_secrets"].items()})

    def test_secret_keys_go_and_phones_are_masked(self):
        self.assertGreaterEqual(len(self.vectors["payloads"]), 5)
        for case in self.vectors["payloads"]:
            self.assertEqual(self.example.shown_payload(case["payload"], case["type"]), case["shown"], case["why"])

    def test_dump_prints_no_password_and_no_full_phone(self):
        r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        ns = "dump" + uuid.uuid4().hex[:8]
        self.addCleanup(lambda: r.delete(*r.keys(f"{ns}:*")))
        register = {"id": "d-1", "type": "sendinblue.register", "queue": "default", "unique_key": "sendinblue.register:09121234567",
                    "payload": {"user_id": "7", "email": "s@example.com", "password": "Pa55w0rd65", "plan": {"id": "3"}}}
        sms = {"id": "d-2", "type": "sms.send", "queue": "default", "run_at": 1795400000,
               "payload": {"message_id": "m", "phone": "09121234567", "template": "t", "tokens": {"token": "3"}}}
        dead = {"id": "d-3", "type": "Sendinblue.register", "queue": "default", "last_error": "Kavenegar refused 09121234567",
                "dead_reason": "unknown type", "failed_attempts": [{"attempt": 1, "at": 1.5, "error": "receptor 09121234567"}],
                "trace": "caller 09121234567", "payload": {"nested": {"password": "hunter2", "api_key": "k"}, "name": "Sara"}}
        r.xadd(f"{ns}:{{default}}:stream", {"job": json.dumps(register)})
        r.xadd(f"{ns}:{{default}}:stream", {"job": 'not json, "password": "hunter3"'})
        r.xadd(f"{ns}:{{default}}:stream", {"job": "not json either, 0912 123 4567"})
        r.hset(f"{ns}:{{default}}:scheduled:jobs", "d-2", json.dumps(sms))
        r.hset(f"{ns}:{{default}}:dead:jobs", "d-3", json.dumps(dead))
        dumped = run("hoopoe_enqueue.py", "--dump", "default", env={"HOOPOE_NAMESPACE": ns})
        self.assertEqual(dumped.returncode, 0, dumped.stderr)
        for secret in ("Pa55w0rd65", "hunter2", "hunter3", "09121234567", "0912 123 4567"):
            self.assertNotIn(secret, dumped.stdout)
        rows = [json.loads(line) for line in dumped.stdout.splitlines()]
        self.assertEqual([row["state"] for row in rows], ["ready", "ready", "ready", "scheduled", "dead"])
        self.assertEqual(rows[0]["envelope"]["payload"], {"user_id": "7", "email": "s***@example.com", "plan": {"id": "3"}})
        self.assertEqual(rows[0]["envelope"]["unique_key"], "sendinblue.register:0912****567")
        self.assertEqual(rows[1], {"state": "ready", "text": "(withheld: not JSON, and it names a key that carries secrets)"})
        self.assertEqual(rows[2], {"state": "ready", "text": "not json either, 0912 *****567"})
        self.assertEqual(rows[3]["envelope"]["payload"]["phone"], "0912****567")
        self.assertEqual(rows[3]["envelope"]["payload"]["tokens"], {"token": "3"})
        d = rows[4]["envelope"]
        self.assertEqual(d["payload"], {"nested": {}, "name": "Sara"})
        self.assertEqual((d["last_error"], d["failed_attempts"][0]["error"], d["trace"]),
                         ("Kavenegar refused 0912****567", "receptor 0912****567", "caller 0912****567"))


if __name__ == "__main__":
    unittest.main()
