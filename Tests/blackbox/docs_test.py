"""Runs the examples of docs/fake-providers.md against a fresh `hoopoe dev fake-providers --control`: a doc that
promises something is checked here."""
import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
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


class WorkerAgainstTheFakes(unittest.TestCase):
    def test_the_printed_lines_and_the_documented_extras_start_a_worker(self):
        text = (ROOT / "docs" / "fake-providers.md").read_text()
        extras = dict(line.split("=", 1) for block in re.findall(r"```env\n(.*?)```", text, re.S) for line in block.split())
        self.assertIn("IPPANEL_FROM_NUMBER", extras)
        fakes = Fakes()
        try:
            environment = {**os.environ, **fakes.env, **extras, "HOOPOE_NAMESPACE": "bbdoc" + secrets.token_hex(4), "LOG_LEVEL": "warning"}
            with tempfile.TemporaryFile(mode="w+") as log:
                worker = subprocess.Popen([hoopoe_binary(), "worker"], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
                try:
                    worker.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    pass
                stopped = worker.returncode
                if stopped is None:
                    worker.send_signal(signal.SIGTERM)
                    worker.wait(timeout=30)
                log.seek(0)
                self.assertIsNone(stopped, f"the worker stopped with {stopped}: {log.read()}")
                self.assertEqual(worker.returncode, 0)
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
