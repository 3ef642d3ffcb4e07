#!/usr/bin/env python3
"""Ask Hoopoe for free credit from Python with the `redis` package, the two documented ways.

    python3 jobs/examples/freecredit_request.py USER_ID [--amount N] [--request-id ID] [--timeout SECONDS]
        enqueue a freecredit.request job and wait (bounded) for its answer on the request's notify list
    python3 jobs/examples/freecredit_request.py --direct USER_ID [--amount N] [--request-id ID] [--now UNIX]
        decide at once by running jobs/lua/freecredit.lua (the same script the worker runs) - no worker needed,
        but no freecredit.* event is emitted: the caller has the answer

Prints the answer JSON (jobs/types/freecredit.request.md) and exits 0 when granted, 2 when rejected, 3 when no
answer came within the timeout (the job may still run later: GET the result key before asking again with a
new request id), 4 when the request id was decided for another user (its answer is that user's: use a new id). REDIS_URL (default redis://127.0.0.1:6379/0), HOOPOE_NAMESPACE (default hoopoe) and, for
--direct, the worker's FREECREDIT_* settings and HOOPOE_TIME_ZONE, the zone its months begin in (defaults as in
deploy/hoopoe.env.example; Asia/Tehran for the zone), are read from the environment.
"""
import json
import os
import sys
import uuid

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hoopoe_enqueue import Enqueuer  # noqa: E402
from hoopoe_client import Jobs  # noqa: E402  (on the path once hoopoe_enqueue is imported)
from persian_month import local_zone, month  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def keys(namespace, user_id, request_id, month_label):
    """The script's KEYS, in order. {freecredit} is the hash tag: all in one Redis Cluster slot."""
    base = f"{namespace}:{{freecredit}}"
    return [f"{base}:last:{user_id}", f"{base}:month:{user_id}:{month_label}", f"{base}:result:{request_id}",
            f"{base}:notify:{request_id}"]


class RequestIDReused(Exception):
    """The request id's answer belongs to another user: ids must be unique across users (a UUID)."""


def _for_user(answer, user_id, request_id):
    """`answer` when it is `user_id`'s (an answer carries its user_id); else RequestIDReused."""
    if answer is not None and str(answer.get("user_id")) != str(user_id):
        raise RequestIDReused(f"request_id {request_id} was decided for another user: give each request its own id (a UUID)")
    return answer


def request_and_wait(client, namespace, user_id, request_id, amount=None, timeout=10.0):
    """Enqueues freecredit.request on its queue (critical) and waits up to `timeout` seconds. Returns the answer dict,
    or None.

    A request id that was already decided is answered at once from its result key (nothing is enqueued). Otherwise
    it is enqueued and the Python client waits (its BLPOP in slices shorter than redis-py's socket timeout, then the
    result key); a job that replays a decided id also pushes the answer again, so a caller blocked on the notify
    list is never left waiting for a push that happened before it asked."""
    stored = client.get(f"{namespace}:{{freecredit}}:result:{request_id}")
    if stored is not None:
        return _for_user(json.loads(stored), user_id, request_id)
    enqueuer = Enqueuer(client, namespace)
    # The typed helper: on the type's queue, critical (jobs/PROTOCOL.md, "Which queue"), ids checked as the handler does.
    Jobs(enqueuer.client).request_free_credit(user_id, request_id, None if amount is None else int(amount))
    return _for_user(enqueuer.client.wait_free_credit(request_id, timeout), user_id, request_id)


def request_direct(client, namespace, user_id, request_id, amount=None, now=None):
    """Runs the limiter script now. Returns the answer dict (replayed answers included).

    `now` defaults to Redis's clock (TIME), the one the workers decide by: with this host's, a clock that runs behind
    the workers' by more than the cooldown grants again right after a worker's grant."""
    env = os.environ
    if now is None:
        seconds, micros = client.time()
        now = seconds + micros / 1e6
    now = float(now)
    label, _, end = month(now, env.get("FREECREDIT_MONTH_CALENDAR", "persian"), local_zone(env))  # HOOPOE_TIME_ZONE's month
    with open(os.path.join(HERE, "..", "lua", "freecredit.lua")) as f:
        script = client.register_script(f.read())
    result_ttl = int(env.get("FREECREDIT_RESULT_TTL_SECONDS", "604800"))
    try:
        answer, _replayed = script(keys=keys(namespace, user_id, request_id, label), args=[
            f"{now:.3f}", env.get("FREECREDIT_COOLDOWN_SECONDS", "120"), env.get("FREECREDIT_MONTHLY_CAP", "5"), str(end),
            str(amount if amount is not None else env.get("FREECREDIT_DEFAULT_AMOUNT", "100")), str(user_id), request_id,
            str(result_ttl), str(min(result_ttl, 3600))])
    except redis.ResponseError as error:
        if str(error).startswith("FREECREDIT "):
            raise RequestIDReused(str(error)[len("FREECREDIT "):]) from None
        raise
    return json.loads(answer)


def main(argv):
    args = list(argv)

    def option(name, default=None):
        if name in args:
            i = args.index(name)
            value = args[i + 1]
            del args[i:i + 2]
            return value
        return default

    direct = "--direct" in args
    if direct:
        args.remove("--direct")
    amount = option("--amount")
    request_id = option("--request-id") or uuid.uuid4().hex
    timeout = float(option("--timeout", "10"))
    now = option("--now")
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 64
    if direct:
        try:
            local_zone()
        except ValueError as error:  # as the worker: a setting it cannot use stops it with exit 78, naming it
            print(error, file=sys.stderr)
            return 78
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    namespace = os.environ.get("HOOPOE_NAMESPACE") or "hoopoe"  # empty is unset, as for the workers
    try:
        if direct:
            answer = request_direct(client, namespace, args[0], request_id, amount, now)
        else:
            answer = request_and_wait(client, namespace, args[0], request_id, amount, timeout)
    except RequestIDReused as reused:
        print(json.dumps({"request_id": request_id, "status": "refused", "reason": str(reused)}))
        return 4
    if answer is None:
        print(json.dumps({"request_id": request_id, "status": "timeout"}))
        return 3
    print(json.dumps(answer, ensure_ascii=False))
    return 0 if answer.get("status") == "granted" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
