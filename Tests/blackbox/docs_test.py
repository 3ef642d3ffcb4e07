"""Runs the examples of docs/fake-providers.md against a fresh `hoopoe dev fake-providers --control`: a doc that
promises something is checked here."""
import json
import re
import subprocess
import unittest
import urllib.error
import urllib.request

from fakes import Fakes, ROOT, hoopoe_binary


class FakeProvidersDoc(unittest.TestCase):
    def test_python_examples_run(self):
        text = (ROOT / "docs" / "fake-providers.md").read_text()
        blocks = re.findall(r"```python\n(.*?)```", text, re.S)
        self.assertTrue(blocks)
        fakes = Fakes()
        try:
            for block in blocks:
                exec(compile(block, "docs/fake-providers.md", "exec"),
                     {"control": fakes.env["FAKE_CONTROL_URL"], "kavenegar": fakes.env["KAVENEGAR_BASE_URL"],
                      "brevo": fakes.env["BREVO_BASE_URL"]})
        finally:
            status, errors = fakes.stop()
        self.assertEqual(status, 0, errors)


class FakeProvidersHelp(unittest.TestCase):
    def test_every_control_call_in_help_is_served(self):
        text = subprocess.run([hoopoe_binary(), "dev", "fake-providers", "--help"], capture_output=True, text=True, check=True).stdout
        calls = re.findall(r"^\s+(GET|POST|DELETE)\s+/_control(/\S+)", text, re.M)
        self.assertGreaterEqual(len(calls), 10, text)
        self.assertIn("/brevo", [path for _, path in calls])
        bodies = {"/faults": {"endpoint": "ippanel send", "fault": {"kind": "drop"}}}
        fakes = Fakes()
        try:
            for method, path in calls:
                body = bodies.get(path, {}) if method == "POST" else None
                request = urllib.request.Request(fakes.env["FAKE_CONTROL_URL"] + path, method=method,
                                                 data=None if body is None else json.dumps(body).encode(),
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    self.assertEqual(response.status, 200, f"{method} {path}")
        finally:
            status, errors = fakes.stop()
        self.assertEqual(status, 0, errors)


if __name__ == "__main__":
    unittest.main()
