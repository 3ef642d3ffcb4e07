"""Real `hoopoe worker` / `hoopoe scheduler` processes for a black-box scenario, in a Redis namespace of their own,
pointed at a `Fakes` process, with a domain clock the scenario moves (HOOPOE_CLOCK_KEY).

Jobs go in as any service enqueues them (jobs/examples/hoopoe_enqueue.py, the documented Lua script); results come
out of the events stream (`<namespace>:events`, jobs/EVENTS.md). Nothing here imports Hoopoe.
"""
import datetime
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time

import redis

from fakes import ROOT, hoopoe_binary, temporary_file

sys.path.insert(0, str(ROOT / "jobs" / "examples"))
from hoopoe_enqueue import Enqueuer  # noqa: E402

TEHRAN = datetime.timezone(datetime.timedelta(hours=3, minutes=30))


def tehran(year, month, day, hour, minute=0):
    """Unix seconds of a wall-clock time in Tehran (no DST since 2022)."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=TEHRAN).timestamp()


class Hoopoe:
    def __init__(self, fakes, **environment):
        self.redis = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
        self.namespace = "bb" + secrets.token_hex(4)
        self.clock_key = f"{self.namespace}:bb:clock"
        self.enqueuer = Enqueuer(self.redis, self.namespace)
        self.processes = []
        self.environment = {
            **os.environ, "HOOPOE_NAMESPACE": self.namespace, "LOG_LEVEL": "warning", "HOOPOE_CLOCK_KEY": self.clock_key,
            "KAVENEGAR_API_KEY": fakes.env["KAVENEGAR_API_KEY"], "KAVENEGAR_BASE_URL": fakes.env["KAVENEGAR_BASE_URL"],
            "IPPANEL_API_KEY": fakes.env["IPPANEL_API_KEY"], "IPPANEL_BASE_URL": fakes.env["IPPANEL_BASE_URL"],
            "IPPANEL_FROM_NUMBER": "+983000505",
            "BREVO_API_KEY": fakes.env["BREVO_API_KEY"], "BREVO_BASE_URL": fakes.env["BREVO_BASE_URL"],
            "RECEIPT_BASE_URL": "https://kamva.ir/email/receipt",
            "SMS_TEMPLATES_FILE": str(ROOT / "jobs" / "sms_templates.yaml"),
            **environment,
        }

    # Time -----------------------------------------------------------------------------------------------------

    def set_clock(self, unix_seconds):
        self.redis.set(self.clock_key, f"{unix_seconds:.3f}")

    def clock(self):
        return float(self.redis.get(self.clock_key))

    # Processes ------------------------------------------------------------------------------------------------

    def _spawn(self, arguments):
        log = tempfile.TemporaryFile(mode="w+")
        process = subprocess.Popen([hoopoe_binary(), *arguments], env=self.environment, stdout=log, stderr=subprocess.STDOUT, text=True)
        self.processes.append((process, log))
        return process

    def start_worker(self, concurrency=4):
        return self._spawn(["worker", "--concurrency", str(concurrency)])

    def start_scheduler(self, schedule_yaml):
        return self._spawn(["scheduler", "--schedule", temporary_file(schedule_yaml, ".yaml")])

    def stop(self):
        """SIGTERM to every process; returns {pid: (exit status, output)}."""
        for process, _ in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        results = {}
        for process, log in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.seek(0)
            results[process.pid] = (process.returncode, log.read())
            log.close()
        self.processes = []
        return results

    # Jobs and events ------------------------------------------------------------------------------------------

    def enqueue(self, job_type, payload, queue="default"):
        return self.enqueuer.enqueue(job_type, payload, queue=queue)

    def events(self, event_type=None):
        out = []
        for _, fields in self.redis.xrange(f"{self.namespace}:events"):
            kind = fields[b"type"].decode()
            if event_type is None or kind == event_type:
                out.append(json.loads(fields[b"data"]))
        return out

    def wait_for_events(self, event_type, count=1, timeout=30, where=None):
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events(event_type) if where is None or where(e)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                everything = [(fields[b"type"].decode(), fields[b"data"].decode()) for _, fields in self.redis.xrange(f"{self.namespace}:events")]
                raise AssertionError(f"expected {count} {event_type} event(s), saw {len(found)}; all: {everything}")
            time.sleep(0.05)

    def finished(self, job_type, queue="default"):
        """How many jobs of `job_type` the workers ended without a failure: processed, or deferred (a sweep in quiet
        hours puts itself off as another job) or discarded (the per-day counters)."""
        total = 0
        for key in self.redis.scan_iter(f"{self.namespace}:{{{queue}}}:stats:*"):
            counts = self.redis.hmget(key, [f"{outcome}:{job_type}" for outcome in ("processed", "deferred", "discarded")])
            total += sum(int(count or 0) for count in counts)
        return total

    def wait_for_runs(self, job_type, runs=2, timeout=30, since=None):
        """Waits until `runs` more jobs of `job_type` have finished (`finished`) than `since` (a count read earlier;
        default: now): with runs=2 at least one started after the call (a periodic job reads the domain clock when
        it starts). Read `since` before enqueueing a job whose run you wait for: it may finish before this call."""
        target = (self.finished(job_type) if since is None else since) + runs
        deadline = time.monotonic() + timeout
        while self.finished(job_type) < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"{job_type}: {runs} more run(s) did not finish in {timeout} s")
            time.sleep(0.05)

    def dead(self, queue="default"):
        return [json.loads(v) for v in self.redis.hvals(f"{self.namespace}:{{{queue}}}:dead:jobs")]


def sms(message_id, phone="09121234567", user_id="42"):
    """An expiration-reminder `sms.send` payload (jobs/samples/sms.send.json)."""
    return {"message_id": message_id, "phone": phone, "template": "expiration_reminder",
            "tokens": {"token10": "Sara", "token": "3", "token2": "1403/10/12", "token3": "https://kamva.ir/email/receipt/981"},
            "user_id": user_id, "purpose": "reminder.expiration"}
