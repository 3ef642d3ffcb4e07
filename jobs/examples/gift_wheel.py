#!/usr/bin/env python3
"""The gift-wheel limits from Python with the `redis` package: may this user spin, and count a won gift.

    python3 jobs/examples/gift_wheel.py USER_ID [--now UNIX]                      check only
    python3 jobs/examples/gift_wheel.py USER_ID --record USER_GIFT_ID [--now UNIX] count a gift (atomic with the check)

Runs jobs/lua/gift_wheel.lua, the script gift.granted runs, with the worker's GIFT_* settings and its
HOOPOE_TIME_ZONE (the zone its calendar days and months begin in; default Asia/Tehran) from the environment
(defaults as in deploy/hoopoe.env.example). Prints {"verdict", "retry_after", "day_count",
"month_count"}; exits 0 for allowed/recorded/duplicate, 2 when a limit refuses, 64 for bad arguments (an unknown
option, an option without its value or given twice, a --now not a number, or not one USER_ID), with nothing sent to
Redis; -h or --help prints this and exits 0. REDIS_URL and HOOPOE_NAMESPACE say where, as for hoopoe_enqueue.py.
"""
import datetime
import json
import math
import os
import sys

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from persian_month import local_zone, month  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def wheel(client, namespace, user_id, user_gift_id=None, now=None):
    env = os.environ
    if now is None:  # Redis's clock, the one the workers decide by (a host clock behind theirs counts another day)
        seconds, micros = client.time()
        now = seconds + micros / 1e6
    now = float(now)
    zone = local_zone(env)  # HOOPOE_TIME_ZONE, as the workers read it
    _, month_start, month_end = month(now, env.get("GIFT_MONTH_CALENDAR", "persian"), zone)
    if env.get("GIFT_DAY_WINDOW", "rolling") == "calendar":
        local = datetime.datetime.fromtimestamp(now, zone)
        midnight = datetime.datetime(local.year, local.month, local.day, tzinfo=zone)
        day_start = midnight.timestamp()
        lifts = str(int((midnight + datetime.timedelta(days=1)).timestamp()))
    else:
        day_start, lifts = now - 86400, ""
    with open(os.path.join(HERE, "..", "lua", "gift_wheel.lua")) as f:
        script = client.register_script(f.read())
    verdict, retry_after, day_count, month_count = script(
        keys=[f"{namespace}:{{gifts}}:wheel:{user_id}"],
        args=[f"{now:.3f}", f"{day_start:.3f}", lifts, str(month_start), str(month_end),
              env.get("GIFT_DAILY_LIMIT", "1"), env.get("GIFT_MONTHLY_LIMIT", "10"), user_gift_id or "",
              str(int(max(0, month_end - now)) + 2 * 86400)])
    return {"verdict": verdict.decode(), "retry_after": retry_after, "day_count": day_count, "month_count": month_count}


class Usage(Exception):
    """Bad arguments: exit 64 (EX_USAGE) with one line, before anything is sent to Redis."""


OPTIONS_WITH_VALUES = ("--record", "--now")


def parse(argv):
    """The arguments as a dict (user_id, record, now); raises Usage. Any other word starting with "-" is refused:
    taken as the user id, `--help` counted a spin for a user "--help"."""
    args = list(argv)

    def option(name):
        if name not in args:
            return None
        i = args.index(name)
        if i + 1 >= len(args) or args[i + 1] in OPTIONS_WITH_VALUES:
            raise Usage(f"{name} needs a value")
        value = args[i + 1]
        del args[i:i + 2]
        return value

    record, now = (option(name) for name in OPTIONS_WITH_VALUES)
    for arg in args:
        if arg.startswith("-"):
            raise Usage(f"{arg} given twice" if arg in OPTIONS_WITH_VALUES else
                        f"unknown option {arg} (the options: {', '.join(OPTIONS_WITH_VALUES)})")
    if len(args) != 1:
        raise Usage("give one USER_ID")
    if now is not None:
        try:
            seconds = float(now)
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds) or seconds < 0:
            raise Usage(f"--now needs Unix seconds >= 0 (got {now!r})")
        now = seconds
    return {"user_id": args[0], "record": record, "now": now}


def main(argv):
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0
    try:
        call = parse(argv)
    except Usage as bad:
        print(f"gift_wheel: {bad} (--help for the usage)", file=sys.stderr)
        return 64
    try:
        local_zone()
    except ValueError as error:  # as the worker: a setting it cannot use stops it with exit 78, naming it
        print(error, file=sys.stderr)
        return 78
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    namespace = os.environ.get("HOOPOE_NAMESPACE") or "hoopoe"  # empty is unset, as for the workers
    answer = wheel(client, namespace, call["user_id"], call["record"], call["now"])
    print(json.dumps(answer))
    return 2 if answer["verdict"] in ("daily_limit", "monthly_limit") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
