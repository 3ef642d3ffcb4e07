"""The envelope rules of jobs/PROTOCOL.md, checked before anything is sent (the worker checks the same rules and
sends a job that breaks them to the dead set). jobs/conformance/envelopes.json holds the cases all clients pass."""
import json
import math
import re

from .errors import InvalidJob

MAX_BYTES = 512 * 1024
MAX_NUMBER_CHARACTERS = 100  # the longest number text the worker reads (Sources/HoopoeJSON/JSONNumberLength.swift)
MAX_SECONDS = 1e11  # a time at or over this is in milliseconds (the year 5138 in seconds)
MAX_KEY_SECONDS = 1_000_000_000  # the longest unique lock or once-key (~31 years): the enqueue function refuses more
DAY = 86400
ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TYPE = re.compile(r"[A-Za-z0-9._:-]{1,100}")
QUEUE = re.compile(r"(?!.*\.\.)[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(value):
    """A whole number: 3, or 3.0 (what a float-minded encoder writes); not 3.5, "3" or true."""
    return _integer(value) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())


def _number(value):
    return (_integer(value) or isinstance(value, float)) and math.isfinite(value)


def problem(envelope):
    """(field, message) for the first rule `envelope` (a decoded JSON value) breaks, or None when it is valid."""
    if not isinstance(envelope, dict):
        return ("envelope", "the envelope must be a JSON object")
    for field in ("id", "type", "payload"):
        if field not in envelope:
            return (field, f"{field} is required")
    if not isinstance(envelope["id"], str) or not ID.fullmatch(envelope["id"]):
        return ("id", f"id must be 1-128 characters from A-Z a-z 0-9 . _ : - (got {envelope['id']!r})")
    if not isinstance(envelope["type"], str) or not TYPE.fullmatch(envelope["type"]):
        return ("type", f"type must be 1-100 characters from A-Z a-z 0-9 . _ : - (got {envelope['type']!r})")
    # queue, attempt and enqueued_at may be missing, but not null (their schema types have no null).
    queue = envelope.get("queue", "")
    if queue != "" and (not isinstance(queue, str) or not QUEUE.fullmatch(queue)):
        return ("queue", f"queue must be 1-64 characters from A-Z a-z 0-9 . _ -, not starting with . and without .. (got {queue!r})")
    attempt = envelope.get("attempt", 0)
    if not (_whole(attempt) and 0 <= attempt <= 1000):
        return ("attempt", f"attempt must be a whole number 0-1000 (got {attempt!r})")
    max_attempts = envelope.get("max_attempts")
    if max_attempts is not None and not (_whole(max_attempts) and 1 <= max_attempts <= 1000):
        return ("max_attempts", f"max_attempts must be a whole number 1-1000 or null (got {max_attempts!r})")
    timeout = envelope.get("timeout")
    if timeout is not None and not (_number(timeout) and 0 < timeout <= 86400):
        return ("timeout", f"timeout must be > 0 and <= 86400 seconds (got {timeout!r})")
    for field in ("enqueued_at", "run_at"):
        value = envelope.get(field, 0)
        if (value is not None or field == "enqueued_at") and not (_number(value) and 0 <= value < MAX_SECONDS):
            hint = " - milliseconds? send Unix seconds" if _number(value) and value >= MAX_SECONDS else ""
            return (field, f"{field} must be Unix seconds, 0 <= x < 1e11 (got {value!r}){hint}")
    unique_key = envelope.get("unique_key")
    if unique_key is not None and not (isinstance(unique_key, str) and 1 <= len(unique_key) <= 200 and not CONTROL.search(unique_key)):
        return ("unique_key", f"unique_key must be 1-200 characters without control characters, or null (got {unique_key!r})")
    unique_for = envelope.get("unique_for")
    if unique_for is not None and not (_number(unique_for) and 0 < unique_for <= 2592000):
        return ("unique_for", f"unique_for must be > 0 and <= 2592000 seconds (got {unique_for!r})")
    notify = envelope.get("notify")
    if notify is not None and not isinstance(notify, bool):
        return ("notify", f"notify must be true, false or null (got {notify!r})")
    return None


def option_problem(call, run_at, now):
    """(field, message) for the first enqueue option of `call` (enqueue()'s arguments) that cannot mean what the caller
    asked, or None: the option edges of jobs/PROTOCOL.md ("Enqueue options") the envelope rules do not cover. Refused,
    not clamped or defaulted: each changed when or whether the job runs. `run_at` is the job's run time (None: now)."""
    unique_key, once_key = call.get("unique_key"), call.get("once_key")
    unique_for, once_for = call.get("unique_for"), call.get("once_for")
    if unique_for is not None and unique_key is None:
        return ("unique_for", "unique_for needs a unique_key: without one the job is not unique")
    if unique_key is not None and unique_for is None and run_at is not None and run_at - now + DAY > MAX_KEY_SECONDS:
        return ("run_at", f"run_at is {math.ceil(run_at - now)} seconds ahead, too far for a unique job: its lock lasts until 24 h "
                          f"after the run time, at most {MAX_KEY_SECONDS} seconds (about 31 years); give unique_for or an earlier run_at")
    if once_for is not None:
        if once_key is None:
            return ("once_for", "once_for needs a once_key: without one the job is not once-only")
        if not (_number(once_for) and 0 < once_for <= MAX_KEY_SECONDS):
            return ("once_for", f"once_for must be > 0 and <= {MAX_KEY_SECONDS} seconds, about 31 years (got {once_for!r})")
    if once_key is not None and not (isinstance(once_key, str) and once_key):
        return ("once_key", f"once_key must be a non-empty string (got {once_key!r})")
    return None


# Unicode's White_Space characters (what the worker's check calls whitespace), and the control characters it refuses.
_SPACE_OR_CONTROL = re.compile("[\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def namespace_problem(namespace):
    """Why the workers would refuse `namespace` as HOOPOE_NAMESPACE (Sources/hoopoe/GlobalOptions.swift), or None."""
    if not isinstance(namespace, str) or not namespace or "{" in namespace or "}" in namespace or _SPACE_OR_CONTROL.search(namespace):
        return (f"the namespace must be a non-empty text without braces, spaces or control characters, as the workers "
                f"require of HOOPOE_NAMESPACE (got {namespace!r}): a queue's keys carry {{queue}} as their Redis Cluster "
                f"hash tag (hoopoe:{{default}}:stream)")
    return None


_NUMBER_CHARACTERS = frozenset(b"0123456789-+.eE")
_LONG_RUN = re.compile(rb"[-+.eE0-9]{%d}" % (MAX_NUMBER_CHARACTERS + 1))


def has_overlong_number(raw):
    """Whether the JSON text `raw` (bytes) holds, outside its strings, a number written in more than
    MAX_NUMBER_CHARACTERS characters: the worker sends such an envelope to the dead set (Foundation's decoder traps on
    some), and json.dumps writes one for an int of 101 digits. The worker's one pass (JSONNumberLength.hasOverlongNumber):
    a run of 0-9 - + . e E outside strings; after a cheap search for such a run anywhere, which almost every text lacks."""
    if not _LONG_RUN.search(raw):
        return False
    in_string = escaped = False
    run = 0
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
            continue
        if byte in _NUMBER_CHARACTERS:
            run += 1
            if run > MAX_NUMBER_CHARACTERS:
                return True
        else:
            run = 0
            in_string = byte == 0x22
    return False


OVERLONG_NUMBER = ("number", f"a number is written in more than {MAX_NUMBER_CHARACTERS} characters")


def problem_in_text(text, max_bytes=MAX_BYTES):
    """The verdict on an envelope as JSON text (str or bytes): size first, then a number's length, then the rules."""
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > max_bytes:
        return ("size", f"the envelope is {len(raw)} bytes, the limit is {max_bytes}")
    if has_overlong_number(raw):
        return OVERLONG_NUMBER
    try:
        value = json.loads(raw)
    except ValueError as error:
        return ("envelope", f"not JSON: {error}")
    return problem(value)


def encode(envelope):
    """Compact UTF-8 JSON, the bytes that go to Redis. A value JSON cannot carry (NaN or Infinity, which json.dumps
    would write as bare `NaN`; an object it cannot encode; half a surrogate pair, which is not UTF-8) raises
    InvalidJob naming the envelope's field that holds it; a number the worker would not read (an int of 101 digits or
    more: see has_overlong_number) raises InvalidJob naming "number"."""
    try:
        body = _json(envelope)
    except (ValueError, TypeError) as error:  # UnicodeEncodeError is a ValueError
        field = next((k for k, v in envelope.items() if not _encodes(v)), "envelope") if isinstance(envelope, dict) else "envelope"
        if isinstance(error, UnicodeEncodeError):
            why = "text with half a surrogate pair, which is not UTF-8"
        elif isinstance(error, ValueError):
            why = "NaN or Infinity, which are not JSON numbers"
        else:
            why = str(error)
        raise InvalidJob(field, f"{field} is not JSON: {why}") from None
    if has_overlong_number(body):
        raise InvalidJob(*OVERLONG_NUMBER)
    return body


def _json(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _encodes(value):
    try:
        _json(value)
        return True
    except (ValueError, TypeError):
        return False
