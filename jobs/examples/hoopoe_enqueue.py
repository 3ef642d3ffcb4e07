#!/usr/bin/env python3
"""Enqueue Hoopoe jobs from the command line, through the Python client (jobs/clients/python).

    python3 jobs/examples/hoopoe_enqueue.py TYPE PAYLOAD_JSON [--queue Q] [--in SECONDS] [--unique-key K] [--notify]
    python3 jobs/examples/hoopoe_enqueue.py --count N TYPE PAYLOAD_TEMPLATE   # {i} in the template becomes 0..N-1
                                                                           # (plain jobs, now: no --in, --unique-key, --notify)
    python3 jobs/examples/hoopoe_enqueue.py --dump QUEUE                     # print the queue's envelopes as JSON lines
                                                                           # (secret keys removed, phones and emails masked)

--queue defaults to the type's queue (jobs/PROTOCOL.md, "Which queue": `critical` for freecredit.request, `default` for
the others; the client's QUEUES). REDIS_URL (default redis://127.0.0.1:6379/0) and HOOPOE_NAMESPACE (default hoopoe)
say where. Prints
`enqueued|scheduled|duplicate|once ID`; with --notify it then waits up to 30 s for the job's answer and prints it.
Exit 0 when enqueued or scheduled (and for --help), 3 when refused as a duplicate or a used once-key, 64 for bad
arguments (an option without its value, an unknown option, --count not a whole number >= 1) or a job that breaks the
envelope rules (the reason names the field), 69 when Redis cannot be reached, does not answer in time (a job whose
reply was lost may be in: --dump shows it) or cannot run it (the hoopoe function library is not loaded: start a
worker or run `hoopoe functions load`), 78 for a HOOPOE_NAMESPACE the workers refuse (a brace, a space or a control
character; an empty one is unset).

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
from hoopoe_client.domain import QUEUES  # noqa: E402


# What --dump may print: the rule of Hoopoe's own outputs (Sources/HoopoeCore/Redaction: PayloadRedaction,
# PhoneNumberMask), so a pasted terminal carries no password and no full phone number.
SECRET_KEYS = {"sendinblue.register": {"password"}, "credit.threshold.set": {"auth_key"}}
"""The payload keys each type's handler declares secret (its redactedPayloadKeys), removed at any depth."""
COMMON_SECRET_KEYS = {"apikey", "authkey", "authorization", "credential", "passphrase", "passwd", "password",
                      "privatekey", "secret"}
"""PayloadRedaction.commonSecretKeys: a key whose name, lower-cased without - and _, contains one is named like a secret
(is_common_secret_name). With SECRET_KEYS', such keys are removed at any depth from a type no handler declares; shown,
from any type's payload but for PATHS_NAMED_LIKE_SECRETS."""
COMMON_SECRET_ENDINGS = {"token"}
"""PayloadRedaction.commonSecretEndings: a key whose normalised name ends with one is named like a secret (auth_token,
accessToken), not one that only holds it (tokens, token_count, token2)."""
PATHS_NAMED_LIKE_SECRETS = {"sms.send": {"tokens.token"}}
"""The payload paths a handler reads that only look like secrets (its payloadPathsNamedLikeSecrets): shown."""
KNOWN_TYPES = {"credit.balance", "credit.threshold.delete", "credit.threshold.set", "diag.incr", "diag.record", "email.send",
               "freecredit.request", "gift.expire", "gift.granted", "gift.used", "reminders.expiration",
               "reminders.low_credit", "sendinblue.register", "sms.delivery_poll", "sms.send", "subscription.delete",
               "subscription.upsert"}
"""The types Hoopoe's handlers declare (jobs/types/, diag.*)."""
PAYLOAD_CUT_NOTE = "the dead set keeps the first"
"""Worker.payloadCutNote: a dead job's reason says so when its payload was too large to keep whole and is kept as text."""
KNOWN_FIELDS = {"id", "type", "queue", "payload", "attempt", "max_attempts", "timeout", "enqueued_at", "run_at",
                "unique_key", "unique_for", "notify", "last_error", "dead_reason", "died_at", "failed_attempts"}
_DIGITS = set("0123456789\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"
              "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")  # ASCII, Persian, Arabic-Indic
_LEADS = set("+09\u06f0\u06f9\u0660\u0669")


def mask_phones(text):
    """`text` with every phone-like run masked (09121234567 -> 0912****567, +989121234567 -> +9891*****567): 10 to 15
    digits starting with +, 0 or 9, in one run or in groups joined by a space, - or parentheses. PhoneNumberMask's
    rule, step for step: timestamps, entry ids, dates, IP addresses and UUIDs stay as they are."""
    if not any(c.isnumeric() for c in text):
        return text
    if _is_whole_phone(text):  # one number however spaced (a payload's phone as sent): masked whole
        return _masked(text)
    out, i = [], 0
    while i < len(text):
        run = _digit_run(text, i)
        if run is None:
            out.append(text[i])
            i += 1
            continue
        groups, end = run
        out.append(_masked_run(text, groups, end))
        i = end
    return "".join(out)


def _masked(run):
    """PhoneNumberMask.masked: the last 3 characters and min(5, len - 7) first ones shown (an 11-character mobile
    keeps its operator prefix, 0912), every other one a *; 7 characters or fewer show only their last min(2, len - 2)."""
    head = min(5, len(run) - 7) if len(run) >= 8 else 0
    tail = 3 if len(run) >= 8 else max(0, min(2, len(run) - 2))
    return run[:head] + "*" * (len(run) - head - tail) + run[len(run) - tail:]


def _is_whole_phone(text):
    """PhoneNumberMask.isWholePhone: only digits and separators (space - . _ parentheses, a leading +), 10 to 15
    digits, the first a lead, not an IPv4 address nor a decimal number."""
    digits, first = 0, None
    for i, c in enumerate(text):
        if c in _DIGITS:
            digits += 1
            first = first or c
        elif not (c in " -._()" or (c == "+" and i == 0)):
            return False
    decimal = [c for c in text if c not in _DIGITS] == ["."] and text[:1] in _DIGITS and text[-1:] in _DIGITS
    return (10 <= digits <= 15 and (text[:1] == "+" or (first is not None and first in _LEADS)) and not _is_ipv4(text)
            and not decimal)


def _digit_count(text, group):
    return sum(1 for c in text[group[0]:group[1]] if c in _DIGITS)


def _digit_run(text, start):
    """Digit groups from `start` (after a + or an opening parenthesis): while a group of two or more digits follows one
    of two or more, past at most two separators. (groups, end), or None when no digit starts there."""
    i = start + (1 if text[start] in "+(" else 0)
    if i >= len(text) or text[i] not in _DIGITS:
        return None
    groups, group_start = [], start
    while True:
        while i < len(text) and text[i] in _DIGITS:
            i += 1
        groups.append((group_start, i))
        nxt = i
        while nxt < len(text) and nxt - i < 2 and text[nxt] in " -()._":
            nxt += 1
        digits = 0
        while nxt + digits < len(text) and text[nxt + digits] in _DIGITS:
            digits += 1
        if not (nxt > i and digits >= 2 and _digit_count(text, groups[-1]) >= 2):
            return groups, i
        group_start = i = nxt


def _is_ipv4(text):
    """Four ASCII numbers from 0 to 255 joined by single dots: an IPv4 address, not a phone number (912.123.45.67 is
    not one: 912 is over 255)."""
    parts = text.split(".")
    return len(parts) == 4 and all(1 <= len(p) <= 3 and all(c in "0123456789" for c in p) and int(p) <= 255 for p in parts)


def _masked_run(text, groups, end):
    def joins(c):
        return c.isalpha() or c.isnumeric() or c in "-_"

    def isolated(start, stop):
        return (start == 0 or not joins(text[start - 1])) and (stop == len(text) or not joins(text[stop]))

    out, shown_up_to, first = [], groups[0][0], 0
    while first < len(groups):
        lower, upper = groups[first]
        lead = lower + 1 if text[lower] == "(" and upper - lower > 1 else lower
        found = None
        # Digits right after a decimal point (a digit, then .) are a fraction, not a phone's start.
        after_point = lower >= 2 and text[lower - 1] == "." and text[lower - 2] in _DIGITS
        if text[lead] in _LEADS and not after_point:
            digits = 0
            for last in range(first, len(groups)):
                digits += _digit_count(text, groups[last])
                if digits > 15:
                    break
                if (digits >= 10 and (last == first or isolated(groups[first][0], groups[last][1]))
                        and not _is_ipv4(text[groups[first][0]:groups[last][1]])):
                    found = last
        if found is None:
            first += 1
            continue
        start, stop = groups[first][0], groups[found][1]
        run = text[start:stop]
        out.append(text[shown_up_to:start] + _masked(run))
        shown_up_to, first = stop, found + 1
    return "".join(out) + text[shown_up_to:end]


def _is_local(c):
    return c.isalnum() or c in "._%+-'!#$&*/=?^`{|}~"


def _is_domain(c):
    return c.isalnum() or c in "-."


def mask_emails(text):
    """`text` with every email-like run masked, keeping the first character of its local part and its domain
    (s***@example.com). EmailAddressMask's rule, step for step: a domain needs a dot inside it (`user@host` stays), a
    local part a letter or digit (a redacted URL's `***@` stays) and not only digits and dots (a message id such as
    Brevo's <201798300811.5787683@smtp-relay.mailin.fr> stays)."""
    if "@" not in text:
        return text
    out, copied, i = [], 0, 0
    while i < len(text):
        if text[i] != "@":
            i += 1
            continue
        start = i
        while start > copied and _is_local(text[start - 1]):
            start -= 1
        end = i + 1
        while end < len(text) and _is_domain(text[end]):
            end += 1
        while end > i + 1 and text[end - 1] in ".-":
            end -= 1
        local, domain = text[start:i], text[i + 1:end]
        dot = domain.find(".")
        person = any(c.isalpha() for c in local) or (any(c.isdigit() for c in local) and not all(c.isdigit() or c == "." for c in local))
        if person and 0 < dot < len(domain) - 1:
            out.append(text[copied:start] + local[0] + "***@" + domain)
            copied = end
            i = end
        else:
            i += 1
    return "".join(out) + text[copied:]


def mask_personal(text):
    """`text` with its phone numbers, then its email addresses masked (PersonalDataMask: every output's rule)."""
    return mask_emails(mask_phones(text))


def _masking(value):
    """`value` with phone numbers and email addresses masked in its strings, integers and object keys (an integer
    becomes a masked string)."""
    if isinstance(value, dict):
        return {mask_personal(k): _masking(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masking(v) for v in value]
    if isinstance(value, str):
        return mask_personal(value)
    if isinstance(value, int) and not isinstance(value, bool):
        masked = mask_personal(str(value))
        return value if masked == str(value) else masked
    return value


def _normalised(name):
    """PayloadRedaction.normalisedName: lower case, without - and _."""
    return name.lower().replace("-", "").replace("_", "")


def is_common_secret_name(key):
    """PayloadRedaction.isCommonSecretName: the normalised name contains one of COMMON_SECRET_KEYS (api-key,
    client_secret, private_key) or ends with one of COMMON_SECRET_ENDINGS (auth_token; not tokens or token_count)."""
    name = _normalised(key)
    return any(part in name for part in COMMON_SECRET_KEYS) or any(name.endswith(end) for end in COMMON_SECRET_ENDINGS)


def _removing(keys, value, path="", kept_paths=frozenset(), common=False):
    """`value` without members named in `keys` (any case), and with `common` those is_common_secret_name takes, at any
    depth, strings holding a JSON object or array included (re-encoded as the engine encodes: sorted keys, compact); a
    member at one of `kept_paths` (`tokens.token`, `items[2].token`; exactly, case included) stays."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            here = f"{path}.{k}" if path else k
            if not (k.lower() in keys or (common and is_common_secret_name(k))) or here in kept_paths:
                out[k] = _removing(keys, v, here, kept_paths, common)
        return out
    if isinstance(value, list):
        return [_removing(keys, v, f"{path}[{i}]", kept_paths, common) for i, v in enumerate(value)]
    if isinstance(value, str) and value.lstrip(" \t\r\n")[:1] in ("{", "[") and _may_name(keys, common, value):
        try:
            inner = json.loads(value)
        except ValueError:
            return value
        if isinstance(inner, (dict, list)):
            kept = _removing(keys, inner, path, kept_paths, common)
            if kept != inner:
                return json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return value


def _may_name(keys, common, text):
    """Whether `text` may name one of `keys`, or with `common` one of the usual names of secrets: only then is it parsed."""
    squeezed = _normalised(text)
    return (any(k in text.lower() for k in keys)
            or (common and any(part in squeezed for part in COMMON_SECRET_KEYS | COMMON_SECRET_ENDINGS)))


def shown_payload(payload, job_type):
    """`payload` as it may be shown: the type's secret keys removed, whatever their case (for a type no handler
    declares, every declared and common secret key at any depth), the common secret names at any depth for every type
    but at the paths its handler reads that only look like secrets (PATHS_NAMED_LIKE_SECRETS), phone numbers and email
    addresses masked."""
    if job_type in SECRET_KEYS:
        payload = _removing(SECRET_KEYS[job_type], payload)
    elif job_type not in KNOWN_TYPES:
        payload = _removing(set().union(*SECRET_KEYS.values()), payload, common=True)
    payload = _removing(set(), payload, kept_paths=PATHS_NAMED_LIKE_SECRETS.get(job_type, frozenset()), common=True)
    return _masking(payload)


def shown_envelope(env):
    """The envelope as it may be shown: its payload per shown_payload, its free text (errors, reasons, unique key) and
    the fields Hoopoe does not know with phone numbers and email addresses masked."""
    if not isinstance(env, dict):
        return _masking(env)
    out = dict(env)
    out["payload"] = shown_payload(env.get("payload"), env.get("type"))
    if isinstance(env.get("payload"), str) and (env.get("type") == "(malformed)" or PAYLOAD_CUT_NOTE in str(env.get("dead_reason"))):
        out["payload"] = shown_text(env["payload"])  # text kept where a payload was: not JSON, stripped as text is
    for field in ("last_error", "dead_reason", "unique_key"):
        if isinstance(env.get(field), str):
            out[field] = mask_personal(env[field])
    if isinstance(env.get("failed_attempts"), list):
        out["failed_attempts"] = [{**a, "error": mask_personal(a["error"])} if isinstance(a, dict) and isinstance(a.get("error"), str)
                                  else a for a in env["failed_attempts"]]
    for field in set(env) - KNOWN_FIELDS:  # a client's own fields: secret names left out, as in a payload
        if is_common_secret_name(field):
            del out[field]
        else:
            out[field] = _masking(_removing(set(), env[field], common=True))
    return out


def shown_text(text):
    """Text that is not a JSON envelope (or was kept where a payload was): withheld when it names a type that carries
    secrets or quotes a secret key or one of the usual names of secrets (it cannot be stripped key by key), else with
    phone numbers and email addresses masked. Each run between two quotes without whitespace is a name (escaped quotes
    too: JSON in JSON); stricter than the engine, which lets a declared type's text quote the names it shows."""
    declared = set().union(*SECRET_KEYS.values())
    runs = (run.rstrip("\\") for run in text.split('"')[1:-1])
    if (any(name.lower() in text.lower() for name in SECRET_KEYS)
            or any(run and len(run) <= 128 and not any(c in run for c in " \t\r\n")
                   and (run.lower() in declared or is_common_secret_name(run)) for run in runs)):
        return "(withheld: not JSON, and it names a key that carries secrets)"
    return mask_personal(text)


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
        """Every envelope of a queue: ready (stream), scheduled and dead, as (state, envelope) with the envelope as it
        may be shown (shown_envelope: no secret payload keys, phone numbers masked), or (state, text) for an entry that
        is not JSON (shown_text)."""
        r, out = self.client.redis, []
        # The field `job` by name: an entry moved from the scheduled set also has `promoted`.
        bodies = [("ready", fields.get(b"job", fields.get("job", ""))) for _, fields in r.xrange(self.client.key(queue, "stream"))]
        bodies += [("scheduled", body) for body in r.hvals(self.client.key(queue, "scheduled:jobs"))]
        bodies += [("dead", body) for body in r.hvals(self.client.key(queue, "dead:jobs"))]
        for state, body in bodies:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            try:
                out.append((state, shown_envelope(json.loads(text))))
            except ValueError:
                out.append((state, shown_text(text)))
        return out


class Usage(Exception):
    """Bad arguments: exit 64 (EX_USAGE) with one line, not a traceback and exit 1."""


OPTIONS_WITH_VALUES = ("--count", "--queue", "--in", "--unique-key", "--dump")


def parse(argv):
    """The arguments as a dict (dump, notify, count, queue, delay, unique_key, job_type, template); raises Usage."""
    args = list(argv)

    def option(name, default=None):
        if name in args:
            i = args.index(name)
            if i + 1 >= len(args) or args[i + 1] in OPTIONS_WITH_VALUES + ("--notify",):
                raise Usage(f"{name} needs a value")
            value = args[i + 1]
            del args[i:i + 2]
            return value
        return default

    dump = option("--dump")
    count = option("--count")
    queue = option("--queue")  # None: the type's queue, below
    delay = option("--in")
    unique_key = option("--unique-key")
    notify = "--notify" in args  # after the values: `--in --notify` is --in without one
    if notify:
        args.remove("--notify")
    # Any word starting with "-", not only "--": `-x '{}'` enqueued a job of type "-x" (no TYPE or payload starts so).
    unknown = [arg for arg in args if arg.startswith("-")]
    if unknown:
        raise Usage(f"unknown option {unknown[0]} (the options: {', '.join(OPTIONS_WITH_VALUES)}, --notify)")
    if dump is not None:
        return {"dump": dump}
    if count is not None and not (count.isascii() and count.isdigit() and int(count) >= 1):
        raise Usage(f"--count needs a whole number >= 1 (got {count!r})")
    if len(args) != 2:
        raise Usage("give TYPE and PAYLOAD_JSON (or --dump QUEUE)")
    if count and (delay or unique_key or notify):
        # A bulk load enqueues now, each job plain: it used to drop these silently (100 jobs now, not in an hour; 100
        # jobs, not one unique one).
        raise Usage("--count enqueues plain jobs now; it takes no --in, --unique-key or --notify")
    # The type's queue unless --queue names one: `default` for all sent freecredit.request where the deploy's workers
    # (critical:6,default:3,low:1) do not serve it first, as the protocol's table asks.
    # `--queue ""` stays "", which the client refuses, as the protocol says.
    queue = QUEUES.get(args[0], "default") if queue is None else queue
    return {"dump": None, "notify": notify, "count": int(count or 0), "queue": queue, "delay": delay,
            "unique_key": unique_key, "job_type": args[0], "template": args[1]}


def main(argv):
    if "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0
    try:
        call = parse(argv)
    except Usage as bad:
        print(f"hoopoe_enqueue: {bad} (--help for the usage)", file=sys.stderr)
        return 64
    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    try:
        enq = Enqueuer(client, os.environ.get("HOOPOE_NAMESPACE") or "hoopoe")  # empty is unset, as for the workers
    except InvalidJob as refused:  # a namespace the workers refuse too: a bad setting, EX_CONFIG as the worker says
        print(f"hoopoe_enqueue: bad configuration: HOOPOE_NAMESPACE: {refused}", file=sys.stderr)
        return 78
    # EX_UNAVAILABLE for Redis down or silent, as for a missing function library. redis-py's text names the host and
    # port, never REDIS_URL's password. PING first, so "not reached: nothing sent" and "no answer: it may be in" differ.
    unreachable = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
    try:
        client.ping()
    except unreachable as down:
        print(f"hoopoe_enqueue: cannot reach Redis (REDIS_URL): {down}", file=sys.stderr)
        return 69
    try:
        return run_call(enq, call)
    except unreachable as lost:
        print(f"hoopoe_enqueue: no answer from Redis: {lost} (a job sent may be in: --dump QUEUE shows it)", file=sys.stderr)
        return 69


def run_call(enq, call):
    if call["dump"] is not None:
        for state, env in enq.dump(call["dump"]):
            row = {"state": state, "text": env} if isinstance(env, str) else {"state": state, "envelope": env}
            print(json.dumps(row, ensure_ascii=False))
        return 0
    job_type, template, queue, count, delay = call["job_type"], call["template"], call["queue"], call["count"], call["delay"]
    try:
        if count:
            started = time.time()
            for start in range(0, count, 1000):
                batch = [(job_type, json.loads(template.replace("{i}", str(i)))) for i in range(start, min(count, start + 1000))]
                enq.enqueue_many(batch, queue)
            print(json.dumps({"enqueued": count, "seconds": time.time() - started}))
            return 0
        run_at = time.time() + float(delay) if delay else None
        kind, job_id = enq.enqueue(job_type, json.loads(template), queue, run_at, call["unique_key"], notify=call["notify"])
    except LibraryNotLoaded as unavailable:  # not the caller's mistake: EX_UNAVAILABLE, as sysexits.h says
        print(f"hoopoe_enqueue: {unavailable}", file=sys.stderr)
        return 69
    except (HoopoeError, ValueError) as refused:
        print(f"hoopoe_enqueue: {refused}", file=sys.stderr)
        return 64
    print(kind, job_id, flush=True)
    if call["notify"] and kind in ("enqueued", "scheduled"):
        answer = enq.client.wait_for(job_id, queue, timeout=30.0)
        print(json.dumps(answer, ensure_ascii=False))
    return 0 if kind in ("enqueued", "scheduled") else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
