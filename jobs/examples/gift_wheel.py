#!/usr/bin/env python3
"""The gift-wheel limits from Python with the `redis` package: may this user spin, and count a won gift.

    python3 jobs/examples/gift_wheel.py USER_ID [--now UNIX]                      check only
    python3 jobs/examples/gift_wheel.py USER_ID --record USER_GIFT_ID [--now UNIX] count a gift (atomic with the check)

Runs jobs/lua/gift_wheel.lua, the script gift.granted runs, with the worker's GIFT_* settings and its
HOOPOE_TIME_ZONE (the zone its calendar days and months begin in; default Asia/Tehran) from the environment
(defaults as in deploy/hoopoe.env.example). Prints {"verdict", "retry_after", "day_count",
"month_count"}; exits 0 for allowed/recorded/duplicate, 2 when a limit refuses. REDIS_URL and HOOPOE_NAMESPACE
say where, as for hoopoe_enqueue.py.
"""
import datetime
import json
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


def main(argv):
    args = list(argv)

    def option(name, default=None):
        if name in args:
            i = args.index(name)
            value = args[i + 1]
            del args[i:i + 2]
            return value
        return default

    record = option("--record")
    now = option("--now")
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 64
    try:
        local_zone()
    except ValueError as error:  # as the worker: a setting it cannot use stops it with exit 78, naming it
        print(error, file=sys.stderr)
        return 78
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    answer = wheel(client, os.environ.get("HOOPOE_NAMESPACE") or "hoopoe", args[0], record, now)  # empty is unset, as for the workers
    print(json.dumps(answer))
    return 2 if answer["verdict"] in ("daily_limit", "monthly_limit") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
