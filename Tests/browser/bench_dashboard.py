"""How fast each dashboard page answers on a large backlog: a benchmark, not a test (nothing here fails on time).

Seeds one queue with 100,000 ready, 100,000 scheduled and 100,000 dead jobs (envelopes as the engine writes them,
jobs/PROTOCOL.md), a full job history (10,000 finished jobs, the default cap) and 100,000 events (the Providers page), starts `hoopoe dashboard` on them and prints each page's median time over 5 requests.

    scripts/test-redis.sh .build/browser-venv/bin/python Tests/browser/bench_dashboard.py [JOBS]

HOOPOE_BIN picks the binary (default .build/debug/hoopoe; a release build is faster).
"""
import json
import os
import pathlib
import secrets
import subprocess
import sys
import time
import urllib.request

import redis

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOOPOE = os.environ.get("HOOPOE_BIN", str(ROOT / ".build" / "debug" / "hoopoe"))


def hoopoe_id():
    """A job id as JobID.make writes it: 10 characters of Crockford base32 milliseconds, 16 random."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    ms, head = int(time.time() * 1000), ""
    for _ in range(10):
        head, ms = alphabet[ms & 31] + head, ms >> 5
    return head + "".join(secrets.choice(alphabet) for _ in range(16))


ULID_IN_THE_MIDDLE = [""]


def seed(r, namespace, count):
    now = time.time()
    pipe = r.pipeline(transaction=False)
    for i in range(count):
        job_id = f"job{i:06d}"
        dead = {"id": job_id, "type": "sms.send" if i % 2 else "email.send", "queue": "default",
                "payload": {"phone": "09121234567", "n": i}, "attempt": 3, "enqueued_at": now - 100,
                "dead_reason": "provider timeout" if i % 3 else "bad address", "died_at": now - i}
        pipe.hset(f"{namespace}:{{default}}:dead:jobs", job_id, json.dumps(dead))
        pipe.zadd(f"{namespace}:{{default}}:dead", {job_id: now - i})
        scheduled = dict(dead, id="s" + job_id, attempt=1, dead_reason=None, died_at=None, run_at=now + 3600 + i)
        pipe.hset(f"{namespace}:{{default}}:scheduled:jobs", "s" + job_id, json.dumps(scheduled))
        pipe.zadd(f"{namespace}:{{default}}:scheduled", {"s" + job_id: now + 3600 + i})
        pipe.xadd(f"{namespace}:{{default}}:stream", {"job": json.dumps(dict(dead, id="r" + job_id, attempt=0, dead_reason=None, died_at=None))})
        if i == count // 2:  # one ready job with an id as Hoopoe makes them (its time in it), in the middle of the stream
            pipe.execute()
            ULID_IN_THE_MIDDLE[0] = hoopoe_id()
            pipe.xadd(f"{namespace}:{{default}}:stream", {"job": json.dumps(dict(dead, id=ULID_IN_THE_MIDDLE[0], attempt=0, dead_reason=None, died_at=None))})
        if i < 10_000:  # job history at its default cap: a record line, a newline, the envelope
            record = {"id": "h" + job_id, "type": dead["type"], "queue": "default", "outcome": "processed", "attempt": 1,
                      "finished_at": now - i, "duration": 0.05, "worker": "bench:1:ABCDEF"}
            envelope = dict(dead, id="h" + job_id, attempt=0, dead_reason=None, died_at=None)
            pipe.hset(f"{namespace}:{{default}}:history:jobs", "h" + job_id, json.dumps(record) + "\n" + json.dumps(envelope))
            pipe.rpush(f"{namespace}:{{default}}:history:ids", "h" + job_id)  # newest first (decision 0033)
        # The events stream at its default cap's order of size, as the SMS jobs write it: what the Providers page reads.
        kind = ("sms.sent", "sms.status", "sms.failed", "provider.alert")[i % 4]
        data = {"message_id": f"m{i // 4}", "provider": "kavenegar", "state": "delivered", "raw_status": "10",
                "reason": "Kavenegar [411] invalid receptor 09121234567", "code": "418", "operation": "verify/lookup",
                "message": "credit", "provider_message_ids": [str(i)], "user_id": "7", "purpose": None}
        pipe.xadd(f"{namespace}:events", {"type": kind, "data": json.dumps(data, sort_keys=True), "at": f"{now - count + i:.3f}"})
        if i % 5000 == 4999:
            pipe.execute()
    pipe.hset(f"{namespace}:{{sms}}:credit", mapping={"remaining": "1500000", "checked_at": str(now)})
    pipe.execute()


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    namespace = "bench" + secrets.token_hex(3)
    seed(r, namespace, count)
    dashboard = subprocess.Popen([HOOPOE, "dashboard", "--port", "0", "--namespace", namespace], cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = dashboard.stdout.readline().split(" ", 1)[1].strip().rstrip("/")
        last = count - 1
        paths = ["/", "/queues", "/busy", "/scheduled?queue=default", f"/scheduled?queue=default&offset={count - 50}",
                 "/dead?queue=default", "/dead?queue=default&type=email.send", "/dead?queue=default&error=address",
                 "/dead?queue=default&error=no-such-text", f"/job?queue=default&id=job{last // 2:06d}",
                 f"/job?queue=default&id=rjob{last:06d}", f"/job?queue=default&id={ULID_IN_THE_MIDDLE[0]}",
                 f"/job?queue=default&id=rjob{last // 2:06d}", "/job?queue=default&id=hjob005000", "/periodic", "/search",
                 "/search?field=n%3D42", "/search?type=email.send", "/search?id=hjob000042", "/providers"]
        print(f"{count} ready, {count} scheduled, {count} dead jobs, {min(count, 10_000)} finished in one queue; {HOOPOE}")
        for path in paths:
            times = []
            for _ in range(5):
                start = time.perf_counter()
                body = urllib.request.urlopen(url + path).read()
                times.append((time.perf_counter() - start) * 1000)
            found = (" (not found)" if b"No job" in body else " (found)") if path.startswith("/job") else ""
            print(f"  {path:60s} median {sorted(times)[2]:8.1f} ms{found}")
    finally:
        dashboard.terminate()
        dashboard.wait()


if __name__ == "__main__":
    main()
