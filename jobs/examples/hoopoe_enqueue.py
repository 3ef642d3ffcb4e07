#!/usr/bin/env python3
"""Enqueue Hoopoe jobs from the command line, through the Python client (jobs/clients/python).

    python3 jobs/examples/hoopoe_enqueue.py TYPE PAYLOAD_JSON [--queue Q] [--in SECONDS] [--unique-key K] [--notify]
    python3 jobs/examples/hoopoe_enqueue.py --count N TYPE PAYLOAD_TEMPLATE   # {i} in the template becomes 0..N-1
    python3 jobs/examples/hoopoe_enqueue.py --dump QUEUE                     # print the queue's envelopes as JSON lines

REDIS_URL (default redis://127.0.0.1:6379/0) and HOOPOE_NAMESPACE (default hoopoe) say where. Prints
`enqueued|scheduled|duplicate|once ID`; with --notify it then waits up to 30 s for the job's answer and prints it.
Exit 0 when enqueued or scheduled, 3 when refused as a duplicate or a used once-key, 64 for bad arguments or a job
that breaks the envelope rules (the reason names the field), 69 when Redis cannot run it (the hoopoe function
library is not loaded: start a worker or run `hoopoe functions load`), 78 for a HOOPOE_NAMESPACE the workers refuse
(a brace, a space or a control character; an empty one is unset).

Every rule (ids, the envelope checks, the size limit, seconds, the Lua script's arguments) is the client's, so this
file holds none of its own: the wire format is jobs/PROTOCOL.md.
"""
import json
import os
import sys
import time

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients", "python"))
import hoopoe_client  # noqa: E402
from hoopoe_client import AlreadyEnqueued, Duplicate, HoopoeError, InvalidJob, LibraryNotLoaded, new_id, problem  # noqa: E402


def envelope(job_type, payload, queue="default"):
    """A plain job's envelope, as the client writes it for one XADD (checked against the rules)."""
    env = {"id": new_id(), "type": job_type, "queue": queue, "payload": payload, "attempt": 0, "enqueued_at": time.time()}
    found = problem(env)
    if found:
        raise InvalidJob(*found)
    return env


class Enqueuer:
    """The client with the example's (kind, id) replies, for scripts and tests that enqueue through it."""

    def __init__(self, client, namespace="hoopoe"):
        self.client = hoopoe_client.Client(client, namespace)

    def enqueue(self, job_type, payload, queue="default", run_at=None, unique_key=None, unique_for=None, notify=False):
        """Returns ("enqueued"|"scheduled"|"duplicate"|"once", id); raises InvalidJob or TooLarge."""
        try:
            done = self.client.enqueue(job_type, payload, queue, at=run_at, unique_key=unique_key, unique_for=unique_for,
                                       notify=notify)
        except Duplicate as refused:
            return ("duplicate", refused.existing_id)
        except AlreadyEnqueued as refused:
            return ("once", refused.existing_id)
        return (done.status, done.id)

    def enqueue_many(self, jobs, queue="default"):
        """Plain jobs in one pipeline (one round trip): [(type, payload), ...]. Returns their ids."""
        return [done.id for done in self.client.enqueue_batch([{"type": t, "payload": p, "queue": queue} for t, p in jobs])]

    def dump(self, queue="default"):
        """Every envelope of a queue: ready (stream), scheduled and dead, decoded."""
        r, out = self.client.redis, []
        for _, fields in r.xrange(self.client.key(queue, "stream")):
            out.append(("ready", json.loads(fields[b"job"])))  # by name: a promoted entry also has `promoted`
        for body in r.hvals(self.client.key(queue, "scheduled:jobs")):
            out.append(("scheduled", json.loads(body)))
        for body in r.hvals(self.client.key(queue, "dead:jobs")):
            out.append(("dead", json.loads(body)))
        return out


def main(argv):
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    try:
        enq = Enqueuer(client, os.environ.get("HOOPOE_NAMESPACE") or "hoopoe")  # empty is unset, as for the workers
    except InvalidJob as refused:  # a namespace the workers refuse too: a bad setting, EX_CONFIG as the worker says
        print(f"hoopoe_enqueue: bad configuration: HOOPOE_NAMESPACE: {refused}", file=sys.stderr)
        return 78
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
    notify = "--notify" in args
    if notify:
        args.remove("--notify")
    count = int(option("--count", "0"))
    queue = option("--queue", "default")
    delay = option("--in")
    unique_key = option("--unique-key")
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    job_type, template = args
    try:
        if count:
            started = time.time()
            for start in range(0, count, 1000):
                batch = [(job_type, json.loads(template.replace("{i}", str(i)))) for i in range(start, min(count, start + 1000))]
                enq.enqueue_many(batch, queue)
            print(json.dumps({"enqueued": count, "seconds": time.time() - started}))
            return 0
        run_at = time.time() + float(delay) if delay else None
        kind, job_id = enq.enqueue(job_type, json.loads(template), queue, run_at, unique_key, notify=notify)
    except LibraryNotLoaded as unavailable:  # not the caller's mistake: EX_UNAVAILABLE, as sysexits.h says
        print(f"hoopoe_enqueue: {unavailable}", file=sys.stderr)
        return 69
    except (HoopoeError, ValueError) as refused:
        print(f"hoopoe_enqueue: {refused}", file=sys.stderr)
        return 64
    print(kind, job_id, flush=True)
    if notify and kind in ("enqueued", "scheduled"):
        answer = enq.client.wait_for(job_id, queue, timeout=30.0)
        print(json.dumps(answer, ensure_ascii=False))
    return 0 if kind in ("enqueued", "scheduled") else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
