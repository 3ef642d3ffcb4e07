#!/usr/bin/env python3
"""Ask Hoopoe for free credit from Python with the `redis` package, the two documented ways.

    python3 jobs/examples/freecredit_request.py USER_ID [--amount N] [--request-id ID] [--timeout SECONDS]
        enqueue a freecredit.request job and wait (bounded) for its answer on the request's notify list
    python3 jobs/examples/freecredit_request.py --direct USER_ID [--amount N] [--request-id ID] [--now UNIX]
        decide at once by running jobs/lua/freecredit.lua (the same script the worker runs) - no worker needed,
        but no freecredit.* event is emitted: the caller has the answer

Prints the answer JSON (jobs/types/freecredit.request.md) and exits 0 when granted, 2 when rejected, 3 when no
answer came within the timeout (the job may still run later: GET the result key before asking again with a
new request id), 4 when the request id was decided for another user (its answer is that user's: use a new id),
64 for bad arguments (an unknown option, an option without its value or given twice, an amount not a whole number
in 1-1000000000, a --timeout or --now not a number, or not one USER_ID), with nothing sent to Redis; -h or --help
prints this and exits 0. REDIS_URL (default redis://127.0.0.1:6379/0), HOOPOE_NAMESPACE (default hoopoe) and, for
--direct, the worker's FREECREDIT_* settings and HOOPOE_TIME_ZONE, the zone its months begin in (defaults as in
deploy/hoopoe.env.example; Asia/Tehran for the zone), are read from the environment.
"""
import json
import math
import os
import sys
import uuid

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hoopoe_enqueue import Enqueuer  # noqa: E402
from hoopoe_client import InvalidJob, Jobs  # noqa: E402  (on the path once hoopoe_enqueue is imported)
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


class Usage(Exception):
    """Bad arguments: exit 64 (EX_USAGE) with one line, before anything is sent to Redis."""


OPTIONS_WITH_VALUES = ("--amount", "--request-id", "--timeout", "--now")


def _number(name, text, whole=False):
    """`text` as a finite number (a whole one from 1 to 1000000000 when `whole`), else Usage naming the option."""
    if whole:
        if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 1_000_000_000):
            raise Usage(f"{name} needs a whole number in 1-1000000000 (got {text!r})")
        return int(text)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise Usage(f"{name} needs {'Unix seconds' if name == '--now' else 'a number of seconds'} >= 0 (got {text!r})")
    return value


def parse(argv):
    """The arguments as a dict (direct, user_id, amount, request_id, timeout, now); raises Usage. Any other word
    starting with "-" is refused: taken as the user id, `--help` asked for credit for a user "--help"."""
    args = list(argv)

    def option(name):
        if name not in args:
            return None
        i = args.index(name)
        if i + 1 >= len(args) or args[i + 1] in OPTIONS_WITH_VALUES + ("--direct",):
            raise Usage(f"{name} needs a value")
        value = args[i + 1]
        del args[i:i + 2]
        return value

    direct = "--direct" in args
    if direct:
        args.remove("--direct")
    amount, request_id, timeout, now = (option(name) for name in OPTIONS_WITH_VALUES)
    for arg in args:
        if arg.startswith("-"):
            raise Usage(f"{arg} given twice" if arg in OPTIONS_WITH_VALUES + ("--direct",) else
                        f"unknown option {arg} (the options: --direct, {', '.join(OPTIONS_WITH_VALUES)})")
    if len(args) != 1:
        raise Usage("give one USER_ID")
    if direct and timeout is not None:
        raise Usage("--timeout is for a request that waits; --direct does not wait")
    if not direct and now is not None:
        raise Usage("--now is for --direct; a request the worker decides is decided by its clock")
    return {"direct": direct, "user_id": args[0], "amount": None if amount is None else _number("--amount", amount, whole=True),
            "request_id": request_id or uuid.uuid4().hex, "timeout": 10.0 if timeout is None else _number("--timeout", timeout),
            "now": None if now is None else _number("--now", now)}


def main(argv):
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0
    try:
        call = parse(argv)
    except Usage as bad:
        print(f"freecredit_request: {bad} (--help for the usage)", file=sys.stderr)
        return 64
    direct, request_id = call["direct"], call["request_id"]
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
            answer = request_direct(client, namespace, call["user_id"], request_id, call["amount"], call["now"])
        else:
            answer = request_and_wait(client, namespace, call["user_id"], request_id, call["amount"], call["timeout"])
    except RequestIDReused as reused:
        print(json.dumps({"request_id": request_id, "status": "refused", "reason": str(reused)}))
        return 4
    except InvalidJob as bad:  # an id the handler would refuse (it would bury the job): the client's one line
        print(f"freecredit_request: {bad}", file=sys.stderr)
        return 64
    if answer is None:
        print(json.dumps({"request_id": request_id, "status": "timeout"}))
        return 3
    print(json.dumps(answer, ensure_ascii=False))
    return 0 if answer.get("status") == "granted" else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
