#!/usr/bin/env python3
"""Writes envelopes.json from the table below (the boundary strings are long; generating them keeps the file honest).

    python3 jobs/conformance/make_vectors.py        # rewrites jobs/conformance/envelopes.json

The rules are /jobs/PROTOCOL.md's "Envelope rules"; every case names the one field that breaks them (or none).
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BYTES = 524288
MAX_NUMBER_CHARACTERS = 100


def base(**changes):
    env = {"id": "01JD3Q8Z6N4Y2K7VBX0RS5TMWE", "type": "diag.record", "queue": "default",
           "payload": {"key": "hoopoe-conformance", "member": "m"}, "attempt": 0, "enqueued_at": 1795400000.123}
    for k, v in changes.items():
        if v is DROP:
            env.pop(k, None)
        else:
            env[k] = v
    return env


DROP = object()
cases = []


def ok(name, **changes):
    cases.append({"name": name, "envelope": base(**changes), "valid": True})


def bad(name, field, **changes):
    cases.append({"name": name, "envelope": base(**changes), "valid": False, "field": field})


def raw(name, text, valid, field=None):
    case = {"name": name, "json": text, "valid": valid}
    if field:
        case["field"] = field
    cases.append(case)


ok("minimal: id, type, payload only", queue=DROP, attempt=DROP, enqueued_at=DROP)
ok("the documented full envelope", max_attempts=25, run_at=None, unique_key=None, timeout=60)
# id
ok("id: a UUID", id="2f9c1e0a-6b1d-4a57-9a51-0c4f3e8d1b27")
ok("id: every allowed character", id="AZaz09._:-")
ok("id: 1 character", id="x")
ok("id: 128 characters", id="a" * 128)
bad("id: 129 characters", "id", id="a" * 129)
bad("id: empty", "id", id="")
bad("id: a space", "id", id="job 1")
bad("id: a slash", "id", id="a/b")
bad("id: braces", "id", id="{a}")
bad("id: non-ASCII", "id", id="jöb")
bad("id: a number", "id", id=42)
bad("id: missing", "id", id=DROP)
# type
ok("type: 100 characters", type="diag." + "r" * 95)
bad("type: 101 characters", "type", type="diag." + "r" * 96)
bad("type: empty", "type", type="")
bad("type: a space", "type", type="diag record")
bad("type: a number", "type", type=7)
bad("type: missing", "type", type=DROP)
# queue
ok("queue: empty (the queue it was read from)", queue="")
ok("queue: 64 characters", queue="q" * 64)
ok("queue: dots, dashes, underscores", queue="a.b-c_d")
bad("queue: 65 characters", "queue", queue="q" * 65)
bad("queue: starts with a dot", "queue", queue=".hidden")
bad("queue: two dots", "queue", queue="a..b")
bad("queue: a colon", "queue", queue="a:b")
bad("queue: a brace", "queue", queue="{default}")
bad("queue: a number", "queue", queue=1)
bad("queue: null (missing is fine, null is not)", "queue", queue=None)
# payload
ok("payload: an empty object", payload={})
ok("payload: an empty array is a valid envelope (the handler then refuses it; clients send {})", payload=[])
ok("payload: null", payload=None)
bad("payload: missing", "payload", payload=DROP)
# attempt
ok("attempt: 1000", attempt=1000)
bad("attempt: 1001", "attempt", attempt=1001)
bad("attempt: -1", "attempt", attempt=-1)
bad("attempt: a string", "attempt", attempt="0")
bad("attempt: a fraction", "attempt", attempt=1.5)
bad("attempt: null (missing is fine, null is not)", "attempt", attempt=None)
raw("attempt: 1.0 is the whole number 1 (a PHP float, say)",
    '{"id":"01JD3Q8Z6N4Y2K7VBX0RS5TMWE","type":"diag.record","payload":{"key":"hoopoe-conformance","member":"m"},"attempt":1.0}',
    True)
# max_attempts
ok("max_attempts: null", max_attempts=None)
ok("max_attempts: 1", max_attempts=1)
ok("max_attempts: 1000", max_attempts=1000)
bad("max_attempts: 0", "max_attempts", max_attempts=0)
bad("max_attempts: 1001", "max_attempts", max_attempts=1001)
bad("max_attempts: a string", "max_attempts", max_attempts="25")
bad("max_attempts: a fraction", "max_attempts", max_attempts=2.5)
# timeout
ok("timeout: null", timeout=None)
ok("timeout: 0.5", timeout=0.5)
ok("timeout: 86400", timeout=86400)
bad("timeout: 0", "timeout", timeout=0)
bad("timeout: -5", "timeout", timeout=-5)
bad("timeout: 86400.5", "timeout", timeout=86400.5)
bad("timeout: a string", "timeout", timeout="60")
# enqueued_at
ok("enqueued_at: 0", enqueued_at=0)
ok("enqueued_at: just under 1e11 seconds", enqueued_at=99999999999.5)
bad("enqueued_at: milliseconds", "enqueued_at", enqueued_at=1795400000123)
bad("enqueued_at: exactly 1e11", "enqueued_at", enqueued_at=100000000000)
bad("enqueued_at: negative", "enqueued_at", enqueued_at=-1)
bad("enqueued_at: a string", "enqueued_at", enqueued_at="1795400000")
bad("enqueued_at: null (missing is fine, null is not)", "enqueued_at", enqueued_at=None)
# run_at
ok("run_at: null", run_at=None)
ok("run_at: in the past", run_at=1000)
bad("run_at: milliseconds", "run_at", run_at=1795400000123)
bad("run_at: negative", "run_at", run_at=-0.5)
bad("run_at: a string", "run_at", run_at="soon")
# unique_key, unique_for
ok("unique_key: null", unique_key=None)
ok("unique_key: 200 characters", unique_key="u" * 200)
ok("unique_key: spaces and non-ASCII are fine", unique_key="user 42: مریم")
bad("unique_key: 201 characters", "unique_key", unique_key="u" * 201)
# Characters, not bytes: a Persian letter is 2 bytes of UTF-8, so 200 of them are 400 bytes and still 200 characters.
ok("unique_key: 200 Persian characters (400 bytes)", unique_key="سلام" * 50)
bad("unique_key: 201 Persian characters", "unique_key", unique_key="سلام" * 50 + "ی")
bad("unique_key: empty", "unique_key", unique_key="")
bad("unique_key: a newline", "unique_key", unique_key="a\nb")
bad("unique_key: a C1 control character (U+0085)", "unique_key", unique_key="a\u0085b")
bad("unique_key: DEL (U+007F)", "unique_key", unique_key="a\u007fb")
bad("unique_key: a number", "unique_key", unique_key=42)
ok("unique_for: null", unique_for=None)
ok("unique_for: 30 days", unique_key="u1", unique_for=2592000)
bad("unique_for: 0", "unique_for", unique_key="u1", unique_for=0)
bad("unique_for: over 30 days", "unique_for", unique_key="u1", unique_for=2592001)
# notify
ok("notify: true", notify=True)
ok("notify: false", notify=False)
ok("notify: null", notify=None)
bad("notify: a string", "notify", notify="yes")
bad("notify: 1", "notify", notify=1)
# unknown fields are kept
ok("unknown fields are allowed", trace_id="abc", extra={"a": 1})


# numbers: written in at most 100 characters, anywhere (Foundation's decoder traps on some longer ones). Exact text:
# an encoder would rewrite them.
def with_payload_number(text):
    """The base envelope's text with payload.n written as `text`."""
    return ('{"id":"01JD3Q8Z6N4Y2K7VBX0RS5TMWE","type":"diag.record","queue":"default",'
            '"payload":{"key":"hoopoe-conformance","member":"m","n":' + text + '},"attempt":0,"enqueued_at":1795400000.123}')


raw("number: 100 characters in the payload", with_payload_number("1" + "0" * 99), True)
raw("number: 100 characters with a sign, a fraction and an exponent", with_payload_number("-1." + "2" * 93 + "e-10"), True)
raw("number: two of 100 characters side by side are counted apart",
    with_payload_number("[" + ",".join(["9" * 100] * 2) + "]"), True)
raw("number: 101 characters in the payload (Python's json.dumps(10**100))", with_payload_number("1" + "0" * 100), False, "number")
raw("number: 101 characters, a fraction", with_payload_number("0." + "1" * 99), False, "number")
raw("number: the one that trapped the decoder (2^53 + 1, 200 zeros, e-200)",
    with_payload_number("9007199254740993" + "0" * 200 + "e-200"), False, "number")
raw("number: 101 characters outside the payload", with_payload_number("1").replace('"attempt":0', '"extra":' + "1" * 101 + ',"attempt":0'),
    False, "number")
raw("number: 150 digits in a string are text", with_payload_number('"' + "1" * 150 + '"'), True)
raw("number: digits after an escaped quote are still in the string", with_payload_number('"x\\\"' + "1" * 150 + '"'), True)
# whole envelope
raw("not JSON", "{\"id\":\"x\",", False, "envelope")
raw("not an object", "[1,2,3]", False, "envelope")


def sized(total):
    prefix = '{"id":"01JD3Q8Z6N4Y2K7VBX0RS5TMWE","type":"diag.record","payload":{"key":"hoopoe-conformance","member":"'
    suffix = '"}}'
    return {"prefix": prefix, "fill": "x", "suffix": suffix, "total_bytes": total}


cases.append({"name": "size: exactly 524288 bytes", "sized": sized(MAX_BYTES), "valid": True})
cases.append({"name": "size: 524289 bytes", "sized": sized(MAX_BYTES + 1), "valid": False, "field": "size"})

doc = {
    "description": "Envelope in, verdict out. 'valid': true, or false with 'field', the one field the rules refuse "
                   "('envelope' when it is not a JSON object, 'size' when it is over max_bytes, 'number' when a number, anywhere "
                   "outside a string, is written in more than max_number_characters). An envelope is given "
                   "as 'envelope' (a JSON value), 'json' (exact text, where the text matters: 1.0 vs 1) or 'sized' "
                   "(text = prefix + fill repeated + suffix, total_bytes long in UTF-8). Generated by make_vectors.py.",
    "max_bytes": MAX_BYTES,
    "max_number_characters": MAX_NUMBER_CHARACTERS,
    "cases": cases,
}
with open(os.path.join(HERE, "envelopes.json"), "w") as f:
    json.dump(doc, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(len(cases), "cases")
