"""Enqueue jobs, wait for answers and read events over one `redis.Redis` connection (jobs/PROTOCOL.md)."""
import json
import math
import os
import secrets
import threading
import time
import warnings
from collections import namedtuple

import redis as redis_package

from . import envelope as rules
from .errors import AlreadyEnqueued, Duplicate, InvalidJob, LibraryNotLoaded, TooLarge

QUEUES = {"freecredit.request": "critical"}
"""The queue of each type (jobs/PROTOCOL.md, "Which queue"); the others go on `default`. enqueue() uses it when no
queue is given, as `hoopoe enqueue` does, and so do the typed helpers (domain.Jobs)."""

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ENQUEUE_FUNCTION = "hoopoe_enqueue"  # in the function library every hoopoe worker loads (jobs/PROTOCOL.md)
DAY = 86400
ONCE_DEFAULT = 7 * DAY
SLICE = 1.0  # seconds a blocking call waits at most in one go (see _blocking)
# The names a job of enqueue_batch may have: enqueue()'s arguments. Any other is refused, not skipped: a batch item with
# PHP's and Go's "in" (here "delay"), "run_at" or a misspelt "uniqe_key" was enqueued to run now, with no lock.
JOB_KEYS = ("type", "payload", "queue", "id", "at", "delay", "unique_key", "unique_for", "once_key", "once_for",
            "max_attempts", "timeout", "notify")

REMEMBERED = 10_000
"""How many notify jobs' queues a Client keeps for wait_for(id) without a queue (the oldest is forgotten first)."""


class Enqueued(namedtuple("Enqueued", "status id")):
    """What an enqueue did: status "enqueued" (ready now) or "scheduled" (waiting for its run_at), the job id, and
    `queue`, the queue the job went to (the type's when the call named none), so that wait_for(enqueued) waits where
    the answer will be. The tuple is still the pair (status, id): `status, job_id = client.enqueue(...)` unpacks as
    before, and == compares those two."""

    # A class attribute, so that an Enqueued made without __new__ (namedtuple's own copies) reads None, not
    # AttributeError: _replace's result had no queue, its repr raised, and wait_for on it raised instead of waiting.
    queue = None

    def __new__(cls, status, id, queue=None):
        enqueued = super().__new__(cls, status, id)
        enqueued.queue = queue  # None: not known (an Enqueued built by hand): wait_for then needs the queue
        return enqueued

    def __getnewargs__(self):
        return (self.status, self.id, self.queue)

    @classmethod
    def _make(cls, iterable):
        """From (status, id) or (status, id, queue): namedtuple's _make skips __new__, so it dropped the queue."""
        return cls(*iterable)

    def _replace(self, **changes):
        """A copy with `changes` (status, id, queue), the queue kept unless changed: namedtuple's lost it."""
        fields = {"status": self.status, "id": self.id, "queue": self.queue}
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            raise ValueError(f"Got unexpected field names: {unknown!r}")
        return type(self)(**{**fields, **changes})

    def _asdict(self):
        """{status, id, queue}: Enqueued(**e._asdict()) is e again, queue and all. == and unpacking stay the pair's."""
        return {"status": self.status, "id": self.id, "queue": self.queue}

    def __repr__(self):
        return f"Enqueued(status={self.status!r}, id={self.id!r}, queue={self.queue!r})"

# `job`: the id of the job that wrote the event (every event but job.dead); None without it.
Event = namedtuple("Event", "id type data at job", defaults=(None,))
"""One entry of <namespace>:events: the stream entry id, the event name, its data (a dict) and `at` (float seconds)."""


def new_id(now=None):
    """A 26-character time-ordered id like Hoopoe's own (48 bits of milliseconds, 80 random bits, Crockford base32)."""
    ms = int((time.time() if now is None else now) * 1000)
    head = "".join(_ALPHABET[(ms >> (5 * (9 - i))) & 31] for i in range(10))
    return head + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def default_namespace():
    """The key prefix shared by the workers and every enqueuer: HOOPOE_NAMESPACE, default `hoopoe`."""
    return os.environ.get("HOOPOE_NAMESPACE") or "hoopoe"


class _Prepared:
    __slots__ = ("envelope", "body", "script_keys", "script_args")

    def __init__(self, envelope, body, script_keys=None, script_args=None):
        self.envelope = envelope
        self.body = body
        self.script_keys = script_keys
        self.script_args = script_args


class Client:
    """Talks the wire protocol to Redis. `redis_client` is a `redis.Redis` (decode_responses either way)."""

    def __init__(self, redis_client, namespace=None, max_bytes=rules.MAX_BYTES):
        """namespace: the workers' HOOPOE_NAMESPACE; None or "" = HOOPOE_NAMESPACE, else "hoopoe". One the workers
        would refuse (a brace, a space, a control character) raises InvalidJob (field "namespace")."""
        self.redis = redis_client
        self.namespace = namespace or default_namespace()
        refused = rules.namespace_problem(self.namespace)
        if refused:
            raise InvalidJob("namespace", refused)
        # At most the workers' limit: a larger one let plain jobs the workers bury be written, and made the enqueue
        # function's refusal of the others read "the envelope is -1 bytes, the limit is -1".
        self.max_bytes = min(max_bytes, rules.MAX_BYTES) if max_bytes and max_bytes > 0 else rules.MAX_BYTES
        self._drained = set()  # (group, consumer) pairs whose unacknowledged events this object has handed back
        # id -> queue of the notify jobs this object enqueued, oldest first, for wait_for(id) without a queue.
        self._notify_queues = {}
        self._notify_lock = threading.Lock()
        if getattr(redis_client, "connection_pool", None) is None:
            warnings.warn(f"hoopoe_client: {type(redis_client).__name__} has no connection pool, so enqueues go through its "
                          "own retry policy, which may write a job twice when a reply is late (docs/decisions/0080); "
                          "pass a redis.Redis", stacklevel=2)

    # Keys -------------------------------------------------------------------------------------------------------

    def key(self, queue, suffix):
        """`<namespace>:{<queue>}:<suffix>`: every key of a queue carries the hash tag {queue} (one cluster slot)."""
        return f"{self.namespace}:{{{queue}}}:{suffix}"

    # Enqueue ----------------------------------------------------------------------------------------------------

    def enqueue(self, job_type, payload=None, queue=None, *, id=None, at=None, delay=None, unique_key=None,
                unique_for=None, once_key=None, once_for=None, max_attempts=None, timeout=None, notify=False):
        """Enqueues one job. Returns Enqueued(status, id) (.queue: the queue it went to); raises Duplicate,
        AlreadyEnqueued, TooLarge or InvalidJob.
        Sent once (docs/decisions/0080): a reply later than the socket timeout raises redis-py's TimeoutError (or a
        ConnectionError), and the job may be in; sent again with the same `id`, a once-only job is Enqueued (a unique
        job's lock goes when it settles: sent again after it ran, it is a second job).

        at: Unix seconds (a time in milliseconds is refused); delay: seconds from now. unique_key: refused while a
        job with it is pending or running (the lock lasts unique_for seconds at most, default delay + 24 h).
        once_key: refused for once_for seconds (default 7 days) after the first enqueue, whatever happened to it.
        notify: the worker pushes the job's final outcome for wait_for(enqueued). queue: not given (None), the
        type's queue (QUEUES: `critical` for freecredit.request, else `default`), as `hoopoe enqueue` picks it; the
        Enqueued returned names it (`.queue`).
        """
        job = self._prepare(dict(type=job_type, payload=payload, queue=queue, id=id, at=at, delay=delay,
                                 unique_key=unique_key, unique_for=unique_for, once_key=once_key, once_for=once_for,
                                 max_attempts=max_attempts, timeout=timeout, notify=notify))
        self._remember(job)
        replies, lost = self._send_once([self._command(job)])
        if lost is not None:
            raise lost
        reply = replies[0]
        if job.script_keys is None:
            if isinstance(reply, Exception):
                raise reply
            return Enqueued("enqueued", job.envelope["id"], job.envelope["queue"])
        result = self._result(reply, job)  # an error reply: the function's refusal ("HOOPOE too large: ..."), or no library
        if isinstance(result, Exception):
            raise result
        return result

    def enqueue_at(self, job_type, payload, at, **options):
        """Runs no earlier than `at` (Unix seconds)."""
        return self.enqueue(job_type, payload, at=at, **options)

    def enqueue_in(self, job_type, payload, seconds, **options):
        """Runs no earlier than `seconds` from now."""
        return self.enqueue(job_type, payload, delay=seconds, **options)

    def enqueue_unique(self, job_type, payload, unique_key, unique_for=None, **options):
        """Refused (Duplicate) while a job with `unique_key` is pending or running."""
        return self.enqueue(job_type, payload, unique_key=unique_key, unique_for=unique_for, **options)

    def enqueue_once(self, job_type, payload, once_key, once_for=ONCE_DEFAULT, **options):
        """Refused (AlreadyEnqueued) when `once_key` was used within `once_for` seconds."""
        return self.enqueue(job_type, payload, once_key=once_key, once_for=once_for, **options)

    def enqueue_batch(self, jobs):
        """Many jobs in one round trip. `jobs` are dicts of enqueue()'s arguments (`type`, `payload`, ... JOB_KEYS; any
        other name raises InvalidJob, as enqueue() raises TypeError). Returns, in order, an Enqueued or the
        Duplicate/AlreadyEnqueued refusal of each.

        Before anything is sent: an invalid or too large job raises, and so does LibraryNotLoaded when a job needs
        the function library (later, unique, once-only) and Redis lacks it (FCALL hoopoe_library_version 0 first).
        After sending, Redis runs each job on its own: an error for one job (an error reply, e.g. WRONGTYPE) or a
        lost connection does not undo the others. Every reply is read, then the first error is raised with a
        `results` attribute, one entry a job: Enqueued (written), its Duplicate/AlreadyEnqueued (not written), its
        own error (not written), or None when its reply never came (a timeout or lost connection: it may be in)."""
        prepared = [self._prepare(dict(job)) for job in jobs]
        for job in prepared:
            self._remember(job)
        if any(job.script_keys is not None for job in prepared):
            self._check_library()
        replies, lost = self._send_once([self._command(job) for job in prepared])
        results, first = [], None
        for job, reply in zip(prepared, replies):
            if job.script_keys is None:
                result = reply if isinstance(reply, Exception) else Enqueued("enqueued", job.envelope["id"], job.envelope["queue"])
            else:
                result = self._result(reply, job)
            if isinstance(result, Exception) and not isinstance(result, (Duplicate, AlreadyEnqueued)) and first is None:
                first = result
            results.append(result)
        results += [None] * (len(prepared) - len(results))
        failed = first if first is not None else lost
        if failed is not None:
            failed.results = results
            raise failed
        return results

    def _check_library(self):
        """Raises LibraryNotLoaded when Redis lacks hoopoe's function library (or functions: Redis < 7). Plain FCALL
        of the read-only version function: the enqueuer's ACL (docs/operating.md) allows FCALL, not FCALL_RO."""
        try:
            self.redis.execute_command("FCALL", "hoopoe_library_version", 0)
        except redis_package.exceptions.ResponseError as error:
            raise LibraryNotLoaded.from_reply(str(error)) or error

    def _command(self, job):
        """The command that writes `job`: one XADD, or FCALL hoopoe_enqueue 5 <keys> <args> (the script lives in Redis,
        loaded by hoopoe)."""
        if job.script_keys is None:
            return ("XADD", self.key(job.envelope["queue"], "stream"), "*", "job", job.body)
        return ("FCALL", ENQUEUE_FUNCTION, len(job.script_keys), *job.script_keys, *job.script_args)

    def _send_once(self, commands):
        """Sends `commands` in one round trip and reads their replies, each command sent once (docs/decisions/0080).

        redis-py sends a command again after a TimeoutError or ConnectionError (its default Retry: up to 10 times),
        so a reply later than the socket timeout made one enqueue write its job twice. Here the commands go out on a
        connection of the caller's own pool, without that retry layer; the caller's client and its settings are left
        as they are for everything else. Returns (replies, lost): each reply in order (an error reply as its
        ResponseError), and the TimeoutError or ConnectionError that cut the reading short, or None. When it is not
        None, the replies are those read before it: the commands after them were sent and may or may not have run.
        A client without a pool (not a redis.Redis) sends them through its own pipeline, retries and all."""
        pool = getattr(self.redis, "connection_pool", None)
        if pool is None:
            pipe = self.redis.pipeline(transaction=False)
            for command in commands:
                pipe.execute_command(*command)
            return pipe.execute(raise_on_error=False), None
        replies = []
        connection = pool.get_connection()  # connects (redis-py retries connecting: nothing is sent yet)
        try:
            connection.send_packed_command(connection.pack_commands(commands))
            for command in commands:
                try:
                    replies.append(self.redis.parse_response(connection, command[0]))
                except redis_package.exceptions.ResponseError as refused:
                    replies.append(refused)
        except (redis_package.exceptions.TimeoutError, redis_package.exceptions.ConnectionError) as lost:
            connection.disconnect()  # its replies may still come: the connection is not used again
            return replies, lost
        except BaseException:
            connection.disconnect()
            raise
        finally:
            pool.release(connection)
        return replies, None

    def _prepare(self, call):
        unknown = [name for name in call if name not in JOB_KEYS]
        if unknown:
            raise InvalidJob(str(unknown[0]), f"unknown option {unknown[0]!r}: a job's names are {', '.join(JOB_KEYS)} "
                                              "('delay' is a delay in seconds, 'at' a time in Unix seconds)")
        now = time.time()
        # None is "not given" (a new id; the type's queue, QUEUES: "default" sent a freecredit.request where a worker
        # serving `critical` only never looked); "" is refused by the rules below, as by the workers: a new id for ""
        # made a job sent again with it a second job, and "" for the queue sent it to "default".
        job_id = new_id(now) if call.get("id") is None else call["id"]
        job_type = call.get("type")
        queue = (QUEUES.get(job_type, "default") if isinstance(job_type, str) else "default") if call.get("queue") is None else call["queue"]
        if queue == "":
            raise InvalidJob("queue", "queue must be 1-64 characters from A-Z a-z 0-9 . _ -, not starting with . and without .. (got '')")
        payload = call.get("payload")
        if payload is None or payload == []:
            payload = {}  # handlers expect an object; [] is what an empty PHP array would become
        run_at = None
        if call.get("at") is not None and call.get("delay") is not None:
            raise InvalidJob("run_at", "give at (a time) or delay (seconds from now), not both")
        if call.get("at") is not None:
            run_at = call["at"]
        elif call.get("delay") is not None:
            if not rules._number(call["delay"]) or call["delay"] < 0:
                raise InvalidJob("run_at", f"a delay must be seconds >= 0 (got {call['delay']!r})")
            run_at = now + call["delay"]
        if run_at is not None:
            if not rules._number(run_at) or not 0 <= run_at < rules.MAX_SECONDS:
                hint = " - milliseconds? send Unix seconds" if rules._number(run_at) and run_at >= rules.MAX_SECONDS else ""
                raise InvalidJob("run_at", f"run_at must be Unix seconds, 0 <= x < 1e11 (got {run_at!r}){hint}")
            if run_at <= now:
                run_at = None
        env = {"id": job_id, "type": call.get("type"), "queue": queue, "payload": payload, "attempt": 0, "enqueued_at": now}
        if run_at is not None:
            env["run_at"] = run_at
        unique_key, once_key = call.get("unique_key"), call.get("once_key")
        if unique_key is not None:
            env["unique_key"] = unique_key
        if call.get("unique_for") is not None:
            env["unique_for"] = call["unique_for"]
        for field in ("max_attempts", "timeout"):
            if call.get(field) is not None:
                env[field] = call[field]
        if call.get("notify"):
            env["notify"] = True
        found = rules.problem(env) or rules.option_problem(call, run_at, now)
        if found:
            raise InvalidJob(*found)
        once_for = call.get("once_for") if call.get("once_for") is not None else ONCE_DEFAULT
        body = rules.encode(env)
        if len(body) > self.max_bytes:
            raise TooLarge(len(body), self.max_bytes)
        if run_at is None and unique_key is None and once_key is None:
            return _Prepared(env, body)
        unique_seconds = ""
        if unique_key is not None:
            lock = call["unique_for"] if call.get("unique_for") is not None else max(0.0, (run_at or now) - now) + DAY
            unique_seconds = str(math.ceil(lock))
        keys = [self.key(queue, "stream"), self.key(queue, "scheduled"), self.key(queue, "scheduled:jobs"),
                self.key(queue, "unique:" + (unique_key if unique_key is not None else "-")),
                self.key(queue, "once:" + (once_key if once_key is not None else "-"))]
        args = [body, job_id, repr(float(run_at)) if run_at is not None else "0", unique_seconds,
                str(math.ceil(once_for)) if once_key is not None else "", str(self.max_bytes)]
        return _Prepared(env, body, keys, args)

    @staticmethod
    def _result(reply, job):
        if isinstance(reply, Exception):
            if "HOOPOE too large" in str(reply):
                return TooLarge(-1, -1)
            missing = LibraryNotLoaded.from_reply(str(reply))
            return missing or reply
        kind, job_id = (part.decode() if isinstance(part, bytes) else part for part in reply)
        queue = job.envelope["queue"]
        if kind in ("duplicate", "once") and job_id == job.envelope["id"]:
            # The key is held by this very job: the same call sent again (the caller's retry after a lost reply).
            return Enqueued("scheduled" if "run_at" in job.envelope else "enqueued", job_id, queue)
        if kind == "duplicate":
            return Duplicate(job_id)
        if kind == "once":
            return AlreadyEnqueued(job_id)
        return Enqueued(kind, job_id, queue)

    # Answers ----------------------------------------------------------------------------------------------------

    @staticmethod
    def _blocking(call, timeout):
        """Calls call(seconds) in slices of at most SLICE seconds until it returns something or `timeout` passed.

        A wait must not depend on the connection's settings: redis-py 8 gives every connection a 5 s socket
        timeout by default, which ends one long BLPOP or XREAD BLOCK with a TimeoutError."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            remaining = deadline - time.monotonic()
            try:
                found = call(max(0.01, min(SLICE, remaining)))
            except redis_package.exceptions.TimeoutError:
                found = None
            if found or time.monotonic() >= deadline:  # not "the last slice": a socket timeout may cut it short
                return found or None

    def _blpop(self, key, timeout):
        return self._blocking(lambda seconds: self.redis.blpop([key], timeout=seconds), timeout)

    def wait_for(self, job_id, queue=None, timeout=10.0):
        """The final outcome of a job enqueued with notify=True: a dict {id, type, queue, outcome, attempt, error?,
        deferred_to?} with outcome processed, discarded, deferred (deferred_to: the job enqueued in its place), dead or cancelled;
        None when none came within `timeout` seconds. Kept an hour after
        the job settled, and popped by the first waiter.

        job_id: the Enqueued that enqueue() returned (it names the job's queue), or the job's id. queue: the queue the
        job went to; not given (None), the Enqueued's, or for an id the queue this Client sent it to (it keeps those
        of the last REMEMBERED notify jobs it enqueued). Without one, an id this Client did not enqueue with notify,
        and a queue given beside an Enqueued of another queue, raise InvalidJob (field "queue") before any wait: the
        answer is under the job's queue, and "default" for every job waited the whole timeout for an answer that was
        in `critical` (freecredit.request's queue)."""
        job_id, queue = self._answer_queue(job_id, queue)
        popped = self._blpop(self.key(queue, f"answer:{job_id}"), timeout)
        if popped is None:
            return None
        with self._notify_lock:
            self._notify_queues.pop(job_id, None)  # answered: the first waiter pops it, no second wait finds it
        return json.loads(popped[1])

    def _remember(self, job):
        """Keeps the queue of a notify job for wait_for(id) without a queue; the oldest goes past REMEMBERED."""
        if not job.envelope.get("notify"):
            return
        with self._notify_lock:
            self._notify_queues.pop(job.envelope["id"], None)  # re-inserted: the newest
            self._notify_queues[job.envelope["id"]] = job.envelope["queue"]
            while len(self._notify_queues) > REMEMBERED:
                del self._notify_queues[next(iter(self._notify_queues))]

    def _answer_queue(self, job, queue):
        """(job id, queue) of wait_for's arguments, or InvalidJob (field "queue") when the queue is not known."""
        known = job.queue if isinstance(job, Enqueued) else None
        job_id = job.id if isinstance(job, Enqueued) else job
        if queue is not None:
            if known is not None and queue != known:
                raise InvalidJob("queue", f"job {job_id} went to queue {known!r}, not {queue!r}: pass the Enqueued alone")
            if queue == "":
                raise InvalidJob("queue", "queue must be 1-64 characters from A-Z a-z 0-9 . _ -, not starting with . and without .. (got '')")
            return job_id, queue
        if known is None:
            with self._notify_lock:
                known = self._notify_queues.get(job_id)
        if known is None:
            raise InvalidJob("queue", f"which queue job {job_id} went to is not known: pass the Enqueued that enqueue() "
                                      "returned, or the queue (a type's queue: QUEUES, else 'default'); this Client keeps "
                                      f"the queues of the last {REMEMBERED} notify jobs it enqueued")
        return job_id, known

    def free_credit_answer(self, request_id):
        """The answer already decided under `request_id` (a dict, as wait_free_credit's), or None when none is: one GET
        of the request's result key, kept FREECREDIT_RESULT_TTL_SECONDS (7 days) after the decision. Jobs.free_credit asks it before enqueueing, so
        a request id already answered (for this user or another) is settled at once, without a job or a wait."""
        stored = self.redis.get(f"{self.namespace}:{{freecredit}}:result:{request_id}")
        return json.loads(stored) if stored is not None else None

    def wait_free_credit(self, request_id, timeout=10.0):
        """The answer of a freecredit.request (a dict: status granted|rejected, ...), or None when none came within
        `timeout` seconds. BLPOPs the request's notify list, then reads the result key (someone else may have popped).
        The keys are the request id's alone: compare the answer's user_id with the user you asked for (an id another
        user's request was decided under gives that user's answer here). Jobs.free_credit does, and raises
        RequestIDReused."""
        popped = self._blpop(f"{self.namespace}:{{freecredit}}:notify:{request_id}", timeout)
        if popped is not None:
            return json.loads(popped[1])
        return self.free_credit_answer(request_id)

    # Events -----------------------------------------------------------------------------------------------------

    @property
    def events_key(self):
        return f"{self.namespace}:events"

    def read_events(self, after="0-0", count=100, block_ms=None):
        """Events after the stream id `after` (`$` = only new ones; then pass the last Event.id back)."""
        if block_ms is None:
            return _entries(self.redis.xread({self.events_key: after}, count=count))
        if after == "$":  # waited for in slices: pin "now" to an id, or events between two slices would be missed
            last = self.redis.xrevrange(self.events_key, count=1)
            after = last[0][0] if last else "0-0"
        return self._blocking(lambda seconds: _entries(self.redis.xread({self.events_key: after}, count=count, block=int(seconds * 1000))),
                              block_ms / 1000) or []

    def create_events_group(self, group, start="$"):
        """Creates a consumer group on the events stream (once, at deploy): from `start` ("$" = new events only,
        "0" = everything kept). Returns False when it exists already."""
        try:
            self.redis.xgroup_create(self.events_key, group, id=start, mkstream=True)
            return True
        except Exception as error:  # BUSYGROUP: it exists
            if "BUSYGROUP" in str(error):
                return False
            raise

    def read_events_group(self, group, consumer, count=100, block_ms=None):
        """New events for `consumer` of `group` (XREADGROUP ... >): a restart resumes where the group stopped. The
        first reads of this object give back what `consumer` read before but did not acknowledge (a reader that died
        between reading and ack_events), so keep the consumer name stable. Acknowledge each handled one."""
        if (group, consumer) not in self._drained:
            after = "0"
            while True:
                raw = [(entry_id, fields) for _stream, entries in self.redis.xreadgroup(group, consumer, {self.events_key: after}, count=count) or []
                       for entry_id, fields in entries]
                if not raw:
                    break
                # Trimmed by MAXLEN while pending, an entry comes back without fields: nothing to deliver, so it is
                # acknowledged and the catch-up goes on past it. Skipped and left pending, a first batch of only those
                # ended the catch-up, and the unacknowledged events after them were never given back.
                trimmed = [entry_id for entry_id, fields in raw if not fields]
                if trimmed:
                    self.redis.xack(self.events_key, group, *trimmed)
                pending = [decode_event(entry_id, fields) for entry_id, fields in raw if fields]
                if pending:
                    return pending
                after = raw[-1][0]
            self._drained.add((group, consumer))
        if block_ms is None:
            return _entries(self.redis.xreadgroup(group, consumer, {self.events_key: ">"}, count=count))
        return self._blocking(lambda seconds: _entries(self.redis.xreadgroup(group, consumer, {self.events_key: ">"}, count=count,
                                                                            block=int(seconds * 1000))), block_ms / 1000) or []

    def ack_events(self, group, *event_ids):
        """Marks events handled by `group` (XACK)."""
        return self.redis.xack(self.events_key, group, *event_ids) if event_ids else 0


def _entries(reply):
    out = []
    for _stream, entries in reply or []:
        for entry_id, fields in entries:
            if fields:  # an entry trimmed by MAXLEN while pending comes back without fields
                out.append(decode_event(entry_id, fields))
    return out


def decode_event(entry_id, fields):
    """An Event from a stream entry's fields (bytes or str keys): data parsed, `at` a float, `job` or None."""
    text = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v) for k, v in fields.items()}
    entry = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return Event(entry, text["type"], json.loads(text["data"]), float(text["at"]), text.get("job"))
