"""Runs `hoopoe dev fake-providers --control` for a black-box test and drives its HTTP control API.

Nothing here imports Hoopoe: the fakes are a separate process reached over HTTP, as a test in any language would
reach them. The binary is $HOOPOE_BIN, else .build/debug/hoopoe.
"""
import atexit
import importlib.util
import json
import os
import pathlib
import signal
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]


def script_module(name):
    """scripts/<name> (a Python script with a hyphen in its name) loaded as a module, for a test of its functions."""
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py").replace("-", "_"), ROOT / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def temporary_file(text, suffix):
    """A file holding `text`, removed when the test process exits (a path handed to a script or a process outlives the
    test that wrote it; `delete=False` alone left one file a test in the temporary folder every run)."""
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False) as f:
        f.write(text)
    atexit.register(lambda: os.path.exists(f.name) and os.remove(f.name))
    return f.name


def hoopoe_binary():
    return os.environ.get("HOOPOE_BIN") or str(ROOT / ".build" / "debug" / "hoopoe")


class Fakes:
    """One fake-providers process; `env` holds the lines it printed (KAVENEGAR_BASE_URL, …, FAKE_CONTROL_URL)."""

    def __init__(self):
        self.process = subprocess.Popen(
            [hoopoe_binary(), "dev", "fake-providers", "--port", "0", "--control"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "LOG_LEVEL": "warning"})
        self.env = {}
        deadline = time.monotonic() + 20
        while "FAKE_CONTROL_URL" not in self.env:
            line = self.process.stdout.readline()
            if not line or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("hoopoe dev fake-providers did not print its URLs: " + self.process.stderr.read())
            name, _, value = line.strip().partition("=")
            self.env[name] = value

    # The control API -------------------------------------------------------------------------------------------

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.env["FAKE_CONTROL_URL"] + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def fault(self, endpoint, fault, times=1):
        """Queues `fault` (e.g. {"kind": "status", "status": 418}) for the next `times` calls to `endpoint`."""
        return self.call("POST", "/faults", {"endpoint": endpoint, "fault": fault, "times": times})

    def requests(self, endpoint=None):
        query = "" if endpoint is None else "?endpoint=" + urllib.parse.quote(endpoint)
        return self.call("GET", "/requests" + query)["requests"]

    def reset(self):
        return self.call("POST", "/reset")

    def kavenegar(self, **settings):
        return self.call("POST", "/kavenegar", settings)

    def ippanel(self, **settings):
        return self.call("POST", "/ippanel", settings)

    def brevo(self, **settings):
        """Programs the fake Brevo (reseller pools, windows, templates, a child's credits); answers its account."""
        return self.call("POST", "/brevo", settings)

    # Lifecycle -------------------------------------------------------------------------------------------------

    def stop(self):
        """SIGTERM, as an operator would; returns the exit status and what the process wrote to stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        errors = self.process.stderr.read()
        self.process.stdout.close()
        self.process.stderr.close()
        return self.process.returncode, errors
