#!/usr/bin/env python3
"""Enqueue Hoopoe jobs from Python with the `redis` package: the reference for other services.

    python3 jobs/examples/hoopoe_enqueue.py TYPE PAYLOAD_JSON [--queue Q] [--in SECONDS] [--unique-key K]
    python3 jobs/examples/hoopoe_enqueue.py --count N TYPE PAYLOAD_TEMPLATE   # {i} in the template becomes 0..N-1
    python3 jobs/examples/hoopoe_enqueue.py --dump QUEUE                     # print the queue's envelopes as JSON lines

REDIS_URL (default redis://127.0.0.1:6379/0) and HOOPOE_NAMESPACE (default hoopoe) say where.
The wire format is jobs/PROTOCOL.md; the Lua script is jobs/lua/enqueue.lua.
"""
import json
import os
import secrets
import sys
import time

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAX_BYTES = 512 * 1024


def new_id():
    """A 26-character time-ordered id, like Hoopoe's own (48 bits of milliseconds, 80 random bits)."""
    ms = int(time.time() * 1000)
    head = "".join(ALPHABET[(ms >> (5 * (9 - i))) & 31] for i in range(10))
    return head + "".join(secrets.choice(ALPHABET) for _ in range(16))


def keys(queue, namespace="hoopoe"):
    base = f"{namespace}:{{{queue}}}"
    return {"stream": f"{base}:stream", "scheduled": f"{base}:scheduled", "scheduled_jobs": f"{base}:scheduled:jobs",
            "dead": f"{base}:dead", "dead_jobs": f"{base}:dead:jobs", "unique": f"{base}:unique:", "once": f"{base}:once:"}


def envelope(job_type, payload, queue="default", run_at=None, unique_key=None, max_attempts=None, timeout=None):
    env = {"id": new_id(), "type": job_type, "queue": queue, "payload": payload, "attempt": 0,
           "enqueued_at": time.time()}
    if run_at is not None and run_at > time.time():
        env["run_at"] = run_at
    if unique_key is not None:
        env["unique_key"] = unique_key
    if max_attempts is not None:
        env["max_attempts"] = max_attempts
    if timeout is not None:
        env["timeout"] = timeout
    return env


class Enqueuer:
    def __init__(self, client, namespace="hoopoe"):
        self.r = client
        self.namespace = namespace
        with open(os.path.join(HERE, "..", "lua", "enqueue.lua")) as f:
            self.script = self.r.register_script(f.read())

    def enqueue(self, job_type, payload, queue="default", run_at=None, unique_key=None, unique_for=86400):
        """Returns ("enqueued"|"scheduled"|"duplicate", id)."""
        env = envelope(job_type, payload, queue, run_at, unique_key)
        body = json.dumps(env, ensure_ascii=False, separators=(",", ":"))
        if len(body.encode()) > MAX_BYTES:
            raise ValueError(f"job {job_type} is {len(body.encode())} bytes, over the {MAX_BYTES}-byte limit")
        k = keys(queue, self.namespace)
        if "run_at" not in env and unique_key is None:
            # The smallest sequence: one XADD.
            self.r.xadd(k["stream"], {"job": body})
            return ("enqueued", env["id"])
        kind, job_id = self.script(
            keys=[k["stream"], k["scheduled"], k["scheduled_jobs"], k["unique"] + (unique_key or "-"), k["once"] + "-"],
            args=[body, env["id"], str(env.get("run_at", 0)), str(unique_for) if unique_key else "", "", str(MAX_BYTES)])
        return (kind.decode(), job_id.decode())

    def enqueue_many(self, jobs, queue="default"):
        """Plain jobs in one pipeline (one round trip): [(type, payload), ...]."""
        stream = keys(queue, self.namespace)["stream"]
        pipe = self.r.pipeline(transaction=False)
        ids = []
        for job_type, payload in jobs:
            env = envelope(job_type, payload, queue)
            ids.append(env["id"])
            pipe.xadd(stream, {"job": json.dumps(env, ensure_ascii=False, separators=(",", ":"))})
        pipe.execute()
        return ids

    def dump(self, queue="default"):
        """Every envelope of a queue: ready (stream), scheduled and dead, decoded."""
        k = keys(queue, self.namespace)
        out = []
        for _, fields in self.r.xrange(k["stream"]):
            out.append(("ready", json.loads(fields[b"job"])))
        for body in self.r.hvals(k["scheduled_jobs"]):
            out.append(("scheduled", json.loads(body)))
        for body in self.r.hvals(k["dead_jobs"]):
            out.append(("dead", json.loads(body)))
        return out


def main(argv):
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    enq = Enqueuer(client, os.environ.get("HOOPOE_NAMESPACE", "hoopoe"))
    args = list(argv)

    def option(name, default=None):
        if name in args:
            i = args.index(name)
            value = args[i + 1]
            del args[i:i + 2]
            return value
        return default

    if "--dump" in args:
        for state, env in enq.dump(option("--dump")):
            print(json.dumps({"state": state, "envelope": env}, ensure_ascii=False))
        return 0
    count = int(option("--count", "0"))
    queue = option("--queue", "default")
    delay = option("--in")
    unique_key = option("--unique-key")
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    job_type, template = args
    if count:
        started = time.time()
        for start in range(0, count, 1000):
            batch = [(job_type, json.loads(template.replace("{i}", str(i)))) for i in range(start, min(count, start + 1000))]
            enq.enqueue_many(batch, queue)
        print(json.dumps({"enqueued": count, "seconds": time.time() - started}))
        return 0
    run_at = time.time() + float(delay) if delay else None
    kind, job_id = enq.enqueue(job_type, json.loads(template), queue, run_at, unique_key)
    print(kind, job_id)
    return 0 if kind in ("enqueued", "scheduled") else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
