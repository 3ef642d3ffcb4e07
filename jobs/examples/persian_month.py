"""Calendar months in the workers' time zone, Persian (Solar Hijri) or Gregorian, as Hoopoe's limiters count them.

month(unix_seconds, "persian") -> (label, start, end): label "1403-09" ("2024-12" for gregorian), start and end
as Unix seconds (local midnights; end is the first instant of the next month). The zone is HOOPOE_TIME_ZONE's, as
the workers read it (empty is unset; default Asia/Tehran): set it as the workers have it, or local_zone() and
month() disagree with them about where a month and a day begin. The Persian conversion is the jalaali algorithm
(Borkowski's breaks), the one jalaali-js and most libraries use; it agrees with the ICU Persian calendar Hoopoe
uses for the years services will meet (tested in Tests/HoopoeJobsTests).

    python3 jobs/examples/persian_month.py persian|gregorian UNIX_SECONDS...

prints [[label, start, end], ...], one month for each time; exits 64 for bad arguments (another calendar, a time
not a number, an option), 78 for a HOOPOE_TIME_ZONE it cannot use, 0 for -h or --help (this text).
"""
import datetime
import os
import zoneinfo

DEFAULT_ZONE = "Asia/Tehran"


def local_zone(environ=None):
    """The zone the workers count days and months in: HOOPOE_TIME_ZONE (trimmed; empty is unset, as for the
    workers), default Asia/Tehran. An unknown zone is a ValueError naming the variable (the worker exits 78)."""
    name = ((os.environ if environ is None else environ).get("HOOPOE_TIME_ZONE") or "").strip() or DEFAULT_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"HOOPOE_TIME_ZONE: unknown time zone {name} (e.g. Asia/Tehran)") from None


BREAKS = [-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456, 3178]


def _nowruz(jy):
    """The Gregorian date of 1 Farvardin of Persian year jy."""
    gy = jy + 621
    leap_j = -14
    jp = BREAKS[0]
    jump = 0
    for jm in BREAKS[1:]:
        jump = jm - jp
        if jy < jm:
            break
        leap_j += (jump // 33) * 8 + (jump % 33) // 4
        jp = jm
    n = jy - jp
    leap_j += (n // 33) * 8 + ((n % 33) + 3) // 4
    if jump % 33 == 4 and jump - n == 4:
        leap_j += 1
    leap_g = gy // 4 - ((gy // 100 + 1) * 3) // 4 - 150
    return datetime.date(gy, 3, 20 + leap_j - leap_g)


def _month_offset(m):
    """Days from 1 Farvardin to the first of month m (1..13; 13 = next Farvardin is handled by the caller)."""
    return (m - 1) * 31 if m <= 7 else 186 + (m - 7) * 30


def _midnight(day, zone):
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())


def month(unix_seconds, calendar="persian", zone=None):
    """The month holding `unix_seconds` in `zone` (default: local_zone(), HOOPOE_TIME_ZONE's)."""
    zone = zone or local_zone()
    day = datetime.datetime.fromtimestamp(unix_seconds, zone).date()
    if calendar == "gregorian":
        start = day.replace(day=1)
        end = (start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1))
        return f"{start.year:04d}-{start.month:02d}", _midnight(start, zone), _midnight(end, zone)
    if calendar != "persian":
        raise ValueError(f"calendar must be persian or gregorian, got {calendar}")
    jy = day.year - 621
    if day < _nowruz(jy):
        jy -= 1
    first = _nowruz(jy)
    days = (day - first).days
    m = days // 31 + 1 if days < 186 else min(12, (days - 186) // 30 + 7)
    start = first + datetime.timedelta(days=_month_offset(m))
    end = _nowruz(jy + 1) if m == 12 else first + datetime.timedelta(days=_month_offset(m + 1))
    return f"{jy:04d}-{m:02d}", _midnight(start, zone), _midnight(end, zone)


def main(argv):
    """The command line above: prints the months as JSON; returns the exit status."""
    import json
    import math
    import sys
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0
    times = []
    for text in argv[1:]:
        try:
            times.append(float(text))  # a time before 1970 is a negative number, not an option
        except ValueError:
            times.append(math.nan)
        if not math.isfinite(times[-1]):
            print(f"persian_month: {text!r} is not Unix seconds (--help for the usage)", file=sys.stderr)
            return 64
    if not argv or argv[0] not in ("persian", "gregorian"):
        got = ("got nothing" if not argv else f"unknown option {argv[0]}" if argv[0].startswith("-") else f"got {argv[0]!r}")
        print(f"persian_month: give the calendar, persian or gregorian, then Unix seconds ({got}; --help for the usage)",
              file=sys.stderr)
        return 64
    try:
        zone = local_zone()
    except ValueError as error:
        print(error, file=sys.stderr)
        return 78
    print(json.dumps([month(t, argv[0], zone) for t in times]))
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
