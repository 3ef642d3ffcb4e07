"""jobs/examples/*.py, the scripts services copy, against REDIS_URL's Redis (no worker: each test uses a namespace no
worker serves, or the default one, and removes what it wrote)."""
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

    def test_a_namespace_the_workers_refuse_is_a_bad_setting(self):
        refused = run("hoopoe_enqueue.py", "diag.record", "{}", env={"HOOPOE_NAMESPACE": "{hoopoe}"})
        self.assertEqual(refused.returncode, 78, refused.stderr)
        self.assertIn("HOOPOE_NAMESPACE", refused.stderr)
        self.assertIn("brace", refused.stderr)


if __name__ == "__main__":
    unittest.main()
