"""jobs/conformance/*.json against this client: the same vectors the Swift, PHP and Go tests read."""
import json
import os
import sys
import time
import unittest
import uuid

import redis

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import hoopoe_client as hoopoe  # noqa: E402

VECTORS = os.path.join(HERE, "..", "..", "..", "conformance")


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


def envelope_text(case):
    if "json" in case:
        return case["json"]
    if "sized" in case:
        s = case["sized"]
        fill = s["total_bytes"] - len(s["prefix"].encode()) - len(s["suffix"].encode())
        return s["prefix"] + s["fill"] * fill + s["suffix"]
    return json.dumps(case["envelope"], ensure_ascii=False)


class EnvelopeVectors(unittest.TestCase):
    def test_every_envelope_case(self):
        doc = load("envelopes.json")
        self.assertGreater(len(doc["cases"]), 50)
        for case in doc["cases"]:
            with self.subTest(case["name"]):
                found = hoopoe.problem_in_text(envelope_text(case), doc["max_bytes"])
                if case["valid"]:
                    self.assertIsNone(found)
                else:
                    self.assertIsNotNone(found, "accepted")
                    self.assertEqual(found[0], case["field"], found[1])


def redis_client():
    return redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))


class EnqueueVectors(unittest.TestCase):
    def setUp(self):
        self.r = redis_client()

    def run_call(self, client, call):
        options = {k: v for k, v in call.items() if k in ("queue", "id", "at", "unique_key", "unique_for", "once_key", "once_for", "max_attempts", "timeout", "notify")}
        if "in" in call:
            options["delay"] = call["in"]
        if "at_from_now" in call:
            options["at"] = time.time() + call["at_from_now"]
        payload = dict(call["payload"])
        if "payload_member_bytes" in call:
            payload["member"] = "x" * call["payload_member_bytes"]
        return dict(type=call["type"], payload=payload, **options)

    def check_envelope(self, env, spec):
        for k, v in spec.get("envelope", {}).items():
            self.assertEqual(env.get(k), v, k)
            if v == {}:
                self.assertIsInstance(env[k], dict)
        now = time.time()
        for k in spec.get("now", []):
            self.assertLess(abs(env[k] - now), 60, k)
        for k, offset in spec.get("from_now", {}).items():
            self.assertLess(abs(env[k] - (now + offset)), 60, k)
        for k in spec.get("absent", []):
            self.assertNotIn(k, env)

    def check_writes(self, ns, step):
        sub = lambda key: key.replace("{ns}", ns)  # noqa: E731
        if "stream" in step:
            spec = step["stream"]
            entries = self.r.xrange(sub(spec["key"]))
            self.assertEqual(len(entries), spec["count"])
            if spec.get("envelope") or spec.get("now") or spec.get("absent"):
                self.check_envelope(json.loads(entries[-1][1][b"job"]), spec)
        if "zset" in step:
            spec = step["zset"]
            score = self.r.zscore(sub(spec["key"]), spec["member"])
            self.assertIsNotNone(score)
            self.assertLess(abs(score - (time.time() + spec["score_from_now"])), 60)
        if "hash" in step:
            spec = step["hash"]
            body = self.r.hget(sub(spec["key"]), spec["field"])
            self.assertIsNotNone(body)
            self.check_envelope(json.loads(body), spec)
        if "string" in step:
            spec = step["string"]
            self.assertEqual(self.r.get(sub(spec["key"])), spec["value"].encode())
            low, high = spec["ttl_between"]
            self.assertTrue(low <= self.r.ttl(sub(spec["key"])) <= high, self.r.ttl(sub(spec["key"])))
        for key in step.get("missing", []):
            self.assertEqual(self.r.exists(sub(key)), 0, key)

    def check_result(self, got, want):
        """An Enqueued with the result's status and id, and its queue where the vector names one."""
        self.assertEqual(got, hoopoe.Enqueued(want["status"], want["id"]))
        if "queue" in want:
            self.assertEqual(got.queue, want["queue"], got)

    def check_error(self, error, spec):
        kinds = {"duplicate": hoopoe.Duplicate, "once": hoopoe.AlreadyEnqueued, "too_large": hoopoe.TooLarge, "invalid": hoopoe.InvalidJob}
        self.assertIsInstance(error, kinds[spec["kind"] if "kind" in spec else spec["error"]])
        if "existing_id" in spec:
            self.assertEqual(error.existing_id, spec["existing_id"])
        if "field" in spec:
            self.assertEqual(error.field, spec["field"])

    def test_every_enqueue_case(self):
        doc = load("enqueue.json")
        # enqueue.json has 49 cases and 4 of the clients' own: a file or a reading that lost some would check less and
        # still pass.
        self.assertGreaterEqual(len(doc["cases"]), 49)
        self.assertGreaterEqual(len(doc["client_cases"]), 4)
        for case in doc["cases"] + doc["client_cases"]:
            with self.subTest(case["name"]):
                ns = f"conf-py-{uuid.uuid4().hex[:8]}"
                client = hoopoe.Client(self.r, ns)
                for step in case["steps"]:
                    if "batch" in step:
                        results = client.enqueue_batch([self.run_call(client, call) for call in step["batch"]])
                        self.assertEqual(len(results), len(step["results"]))  # zip below stops at the shorter
                        for got, want in zip(results, step["results"]):
                            if "error" in want:
                                self.check_error(got, want)
                            else:
                                self.check_result(got, want)
                    elif "error" in step:
                        with self.assertRaises(hoopoe.HoopoeError) as caught:
                            call = self.run_call(client, step["call"])
                            client.enqueue(call.pop("type"), **call)
                        self.check_error(caught.exception, step["error"])
                    else:
                        call = self.run_call(client, step["call"])
                        got = client.enqueue(call.pop("type"), **call)
                        self.check_result(got, step["result"])
                    self.check_writes(ns, step)

    def test_every_script_case(self):
        """Each case through FCALL hoopoe_enqueue (what this client sends; the library a worker loaded) and through
        EVALSHA of jobs/lua/enqueue.lua (the documented way for a Redis before 7)."""
        doc = load("enqueue.json")
        with open(os.path.join(VECTORS, "..", "lua", "enqueue.lua")) as f:
            evalsha = self.r.register_script(f.read())

        def fcall(keys, args):
            return self.r.execute_command("FCALL", "hoopoe_enqueue", len(keys), *keys, *args)

        self.assertGreaterEqual(len(doc["script"]), 13)
        for (way, script), case in ((way, case) for way in (("evalsha", evalsha), ("fcall", fcall)) for case in doc["script"]):
            with self.subTest(f"{way}: {case['name']}"):
                ns = f"conf-py-{uuid.uuid4().hex[:8]}"
                keys = [k.replace("{ns}", ns) for k in case["keys"]]

                def argv(values):
                    now = time.time()
                    out = []
                    for v in values:
                        if v.startswith("$sized:"):
                            prefix, suffix = '{"id":"s-huge","type":"diag.record","payload":{"key":"', '"}}'
                            v = prefix + "x" * (int(v[7:]) - len(prefix) - len(suffix)) + suffix
                        while "$now+" in v:
                            start = v.index("$now+")
                            end = start + 5
                            while end < len(v) and v[end].isdigit():
                                end += 1
                            v = v[:start] + repr(now + int(v[start + 5:end])) + v[end:]
                        out.append(v)
                    return out

                def call(values, want):
                    if "error_contains" in want:
                        with self.assertRaises(redis.ResponseError) as caught:
                            script(keys, argv(values))
                        self.assertIn(want["error_contains"], str(caught.exception))
                    else:
                        self.assertEqual([p.decode() for p in script(keys, argv(values))], want["reply"])

                call(case["argv"], case)
                if "stream_count" in case:
                    self.assertEqual(self.r.xlen(keys[0]), case["stream_count"])
                if "stream_envelope" in case:
                    body = json.loads(self.r.xrange(keys[0])[-1][1][b"job"])
                    for k, v in case["stream_envelope"].items():
                        self.assertEqual(body.get(k), v, k)
                if "score_from_now" in case:
                    self.assertLess(abs(self.r.zscore(keys[1], case["reply"][1]) - time.time() - case["score_from_now"]), 60)
                if "key_ttl_between" in case:
                    key, low, high = case["key_ttl_between"]
                    self.assertTrue(low <= self.r.ttl(key.replace("{ns}", ns)) <= high)
                if "then" in case:
                    call(case["then"]["argv"], case["then"])


JSON_TYPES = {"string": str, "boolean": bool, "array": list, "object": dict}


def json_type_ok(value, spec):
    for t in spec.split("|"):
        if t == "null" and value is None:
            return True
        if t == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if t == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if t in JSON_TYPES and isinstance(value, JSON_TYPES[t]) and not (t != "boolean" and isinstance(value, bool)):
            return True
    return False


def event_problems(event, doc):
    """What in `event` differs from events.json's 'fields' and 'values' (empty when it conforms or is not listed)."""
    problems = []
    if not isinstance(event.at, float):
        problems.append(f"{event.type}: at is {type(event.at).__name__}")
    for field, spec in doc["fields"].get(event.type, {}).items():
        if field not in event.data:
            problems.append(f"{event.type}: no {field}")
        elif not json_type_ok(event.data[field], spec):
            problems.append(f"{event.type}.{field} = {event.data[field]!r}, want {spec}")
    for field, allowed in doc.get("values", {}).get(event.type, {}).items():
        if field in event.data and event.data[field] not in allowed:
            problems.append(f"{event.type}.{field} = {event.data[field]!r}, want one of {allowed}")
    return problems


class AnswerOutcomes(unittest.TestCase):
    def test_the_schema_names_every_outcome_protocol_md_lists(self):
        """envelope.schema.json's `notify` (what an editor shows a caller) names each outcome of PROTOCOL.md's "Waiting
        for a job's answer", and deferred_to: it listed processed, discarded and dead, not deferred and cancelled."""
        import re
        with open(os.path.join(VECTORS, "..", "PROTOCOL.md"), encoding="utf-8") as f:
            protocol = f.read()
        sentence = re.search(r"`outcome` is (.+?);", protocol, re.S)
        self.assertIsNotNone(sentence, "PROTOCOL.md: no \"`outcome` is ...;\" sentence")
        outcomes = re.findall(r"`(\w+)`", sentence.group(1))
        self.assertGreaterEqual(len(outcomes), 5, outcomes)
        with open(os.path.join(VECTORS, "..", "schemas", "envelope.schema.json"), encoding="utf-8") as f:
            described = json.load(f)["properties"]["notify"]["description"]
        for name in outcomes + ["deferred_to"]:
            self.assertRegex(described, rf"\b{name}\b")
            self.assertRegex(hoopoe.Client.wait_for.__doc__, rf"\b{name}\b")


class ClientReadmes(unittest.TestCase):
    def test_each_says_an_enqueue_is_not_waited_for(self):
        """No client sends WAIT, so an enqueue that returned can be lost in a failover: each README says so and points
        to docs/operating.md's section by its title (the section's anchor keeps `_`, which ProtocolExamplesTests' link
        checker drops)."""
        with open(os.path.join(VECTORS, "..", "..", "docs", "operating.md"), encoding="utf-8") as f:
            self.assertIn("### Losing no acknowledged enqueue", f.read())
        for client in ("python", "php", "go"):
            with self.subTest(client), open(os.path.join(VECTORS, "..", "clients", client, "README.md"), encoding="utf-8") as f:
                page = f.read()
                self.assertIn("never sends `WAIT`", page)
                self.assertIn('(../../../docs/operating.md), "Losing no acknowledged enqueue"', page)


class EventVectors(unittest.TestCase):
    def test_decode(self):
        doc = load("events.json")
        for case in doc["decode"]:
            with self.subTest(case["name"]):
                raw = {k.encode(): v.encode() for k, v in case["raw"].items()}
                event = hoopoe.decode_event(b"1-0", raw)
                self.assertEqual((event.type, event.data), (case["event"]["type"], case["event"]["data"]))
                self.assertIsInstance(event.at, float)
                self.assertEqual(event.at, case["event"]["at"])
                self.assertEqual(event.job, case["event"]["job"])
                self.assertEqual(event_problems(event, doc), [])

    def test_a_wrong_event_is_caught(self):
        doc = load("events.json")
        wrong = hoopoe.Event("1-0", "freecredit.granted", {"user_id": 176, "request_id": "r", "amount": 1.5}, 1.0)
        self.assertEqual(len(event_problems(wrong, doc)), 2)


if __name__ == "__main__":
    unittest.main()
