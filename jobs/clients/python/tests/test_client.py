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


if __name__ == "__main__":
    unittest.main()
