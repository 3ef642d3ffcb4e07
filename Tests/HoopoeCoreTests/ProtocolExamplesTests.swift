import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The protocol docs are executed: every JSON example of jobs/PROTOCOL.md is checked against the envelope rules and
/// its schemas, its Python example runs against Redis, every relative link and anchor resolves, and the queue table
/// names every job type on the queue the clients use. The same checker (Python, with jsonschema: the validator other
/// services use) covers jobs/README.md, jobs/types/*.md, the clients' pages and jobs/EVENTS.md.
@Suite struct ProtocolExamplesTests {
    static let root = BuiltProducts.projectRoot
    static var protocolText: String {
        get throws { try String(contentsOf: root.appendingPathComponent("jobs/PROTOCOL.md"), encoding: .utf8) }
    }

    /// Runs the checker on `pages` (paths from the repository root); returns its exit status and report.
    static func check(_ pages: [String], environment: [String: String] = [:]) async throws -> (Int32?, String) {
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", checker, root.path] + pages, environment: environment)
        return (await child.wait(timeout: .seconds(120)), child.output)
    }

    @Test func protocolExamplesHoldAndItsPythonExampleEnqueues() async throws {
        let space = try TestNamespace()
        let (status, report) = try await Self.check(
            ["jobs/PROTOCOL.md"], environment: ["RUN_PYTHON_EXAMPLES": "1", "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": space.namespace])
        #expect(status == 0, "\(report)")
        #expect(report.contains(#""python": 1"#), "the Python example did not run: \(report)")
        #expect(report.contains(#""json": 3"#), "the sample envelope, the XADD example and the answer were not all checked: \(report)")
        // What the Python example wrote is a job the worker accepts.
        let entries = try await space.redis.send("XRANGE", space.jobs.keys("default").stream, "-", "+").array ?? []
        #expect(entries.count == 1)
        let body = entries.first?.array?.last?.array?.last?.string ?? ""
        guard case .valid = EnvelopeReader.read(Array(body.utf8), queue: "default") else {
            Issue.record("the Python example's envelope is refused: \(body)")
            return
        }
    }

    @Test func protocolSpecifiesTheEnqueueScriptAndTheSharedSettings() throws {
        let text = try Self.protocolText
        for n in 1...5 { #expect(text.contains("`KEYS[\(n)]`"), "KEYS[\(n)] is not specified") }
        for n in 1...6 { #expect(text.contains("`ARGV[\(n)]`"), "ARGV[\(n)] is not specified") }
        for promise in [
            "`HOOPOE_NAMESPACE` | `hoopoe`",  // the namespace is shared configuration, with its default
            "\(EnvelopeRules.maxBytes)",  // the size limit, and ARGV[6]'s value
            "1e11", "milliseconds?",  // seconds everywhere, milliseconds refused
            "1–\(EnvelopeRules.maxIDLength) characters from `A-Z a-z 0-9 . _ : -`",  // the id rule
            "two jobs with one id both run",  // what a duplicate id does
            "`duplicate` while the first is pending or running",  // a unique key is held until its job finished, not for its whole TTL
            "**not** run early",  // run_at honoured on a plain XADD
            "`unique_key` (the same key as KEYS[4]",  // what goes in the envelope
            "`<ns>:{Q}:answer:<id>`", "`job.dead`",  // an answer for any job, and dead jobs seen by services
        ] {
            #expect(text.contains(promise), "jobs/PROTOCOL.md does not say: \(promise)")
        }
    }

    @Test func otherPagesExamplesAndLinksHold() async throws {
        let types = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("jobs/types").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "jobs/types/\($0)" }
        let pages = ["jobs/README.md", "jobs/conformance/README.md", "jobs/clients/php/README.md", "jobs/clients/php/LARAVEL.md",
                     "jobs/clients/go/README.md", "jobs/clients/python/README.md"] + types
        let (status, report) = try await Self.check(pages)
        #expect(status == 0, "\(report)")
    }

    /// jobs/EVENTS.md against what the worker writes (jobs/conformance/events.json, which the clients' live tests
    /// check against real events): `at` is a float, every field listed, `subscription.upserted`'s outcomes.
    @Test
    func eventsPageMatchesWhatTheWorkerWrites() async throws {
        let (status, report) = try await Self.check(["jobs/EVENTS.md"])
        #expect(status == 0, "\(report)")
    }

    /// Each type's page names the queue PROTOCOL's table (and the clients) put it on.
    @Test
    func typePagesNameTheirQueue() async throws {
        let types = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("jobs/types").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "jobs/types/\($0)" }
        let (status, report) = try await Self.check(types, environment: ["CHECK_TYPE_QUEUES": "1"])
        #expect(status == 0, "\(report)")
    }

    /// Checks pages given as arguments: links, JSON examples (envelopes, events, payloads, answers), Python examples (with
    /// RUN_PYTHON_EXAMPLES=1), PROTOCOL's queue table, EVENTS.md's table, and (CHECK_TYPE_QUEUES=1) the types' queues. Prints a JSON report; exit 1 on a problem.
    static let checker = #"""
import json, os, re, sys
import jsonschema

root = sys.argv[1]          # the repository
files = sys.argv[2:]        # pages, relative to root
jobs = os.path.join(root, "jobs")
sys.path.insert(0, os.path.join(jobs, "clients", "python"))
import hoopoe_client  # noqa: E402
from hoopoe_client.domain import QUEUES  # noqa: E402

problems = []
checked = {"json": 0, "links": 0, "python": 0}


def schema(name):
    path = os.path.join(jobs, "schemas", f"{name}.schema.json")
    return json.load(open(path)) if os.path.exists(path) else None


def slug(heading):
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", open(path, encoding="utf-8").read(), re.M)}


def envelope(where, value):
    found = hoopoe_client.problem(value)
    if found:
        problems.append(f"{where}: the envelope breaks the rules: {found[1]}")
    try:
        jsonschema.validate(value, schema("envelope"))
    except jsonschema.ValidationError as e:
        problems.append(f"{where}: envelope.schema.json: {e.message}")
    payload_schema = schema(value.get("type", ""))
    if payload_schema is None and not str(value.get("type", "")).startswith("diag."):
        problems.append(f"{where}: no schema for type {value.get('type')}")
    elif payload_schema is not None:
        try:
            jsonschema.validate(value.get("payload"), payload_schema)
        except jsonschema.ValidationError as e:
            problems.append(f"{where}: the payload breaks schemas/{value['type']}.schema.json: {e.message}")


events_doc = json.load(open(os.path.join(jobs, "conformance", "events.json")))


def event(where, value):
    if not isinstance(value.get("at"), float):
        problems.append(f"{where}: at must be a float (Unix seconds with a fraction)")
    fields = events_doc["fields"].get(value.get("type"))
    if fields is None:
        problems.append(f"{where}: event {value.get('type')} is not in conformance/events.json")
        return
    types = {"string": str, "boolean": bool, "array": list, "object": dict, "integer": int, "number": (int, float), "null": type(None)}
    for field, spec in fields.items():
        data = value.get("data", {})
        if field not in data:
            problems.append(f"{where}: {value['type']} has no {field}")
        elif not any(isinstance(data[field], types[t]) and not (t != "boolean" and isinstance(data[field], bool)) for t in spec.split("|")):
            problems.append(f"{where}: {value['type']}.{field} = {data[field]!r}, want {spec}")
    for field, allowed in events_doc.get("values", {}).get(value.get("type"), {}).items():
        if value.get("data", {}).get(field) not in allowed:
            problems.append(f"{where}: {value['type']}.{field} = {value['data'].get(field)!r}, want one of {allowed}")


for page in files:
    path = os.path.join(root, page)
    text = open(path, encoding="utf-8").read()
    lines = text.split("\n")
    if "once written" in text:
        problems.append(f"{page}: promises a page 'once written'")
    # Links: relative files exist, anchors name a heading.
    for m in re.finditer(r"\]\(([^)\s]+)\)", text):
        target = m.group(1)
        if re.match(r"^[a-z]+:", target):
            continue
        checked["links"] += 1
        file_part, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
        if not os.path.exists(dest):
            problems.append(f"{page}: dead link {target}")
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            problems.append(f"{page}: no heading #{anchor} in {file_part or page}")
    # Fenced blocks.
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        if not fence:
            i += 1
            continue
        lang, start = fence.group(1), i
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        body = "\n".join(lines[i + 1:j])
        where = f"{page}:{start + 1}"
        marker = next((lines[k] for k in range(start - 1, max(-1, start - 3), -1) if lines[k].strip()), "")
        if lang == "json":
            checked["json"] += 1
            try:
                value = json.loads(body)
            except ValueError as e:
                problems.append(f"{where}: not JSON: {e}")
                value = None
            if value is not None:
                declared = re.match(r"^<!--\s*schema:\s*([\w.]+)\s*-->", marker.strip())
                if marker.strip() == "<!-- answer -->":
                    spec = events_doc["answer"]
                    kinds = {"string": str, "integer": int}
                    for field, kind in {**spec["fields"], **{k: v for k, v in spec["optional"].items() if k in value}}.items():
                        if not isinstance(value.get(field), kinds[kind]) or isinstance(value.get(field), bool):
                            problems.append(f"{where}: answer.{field} = {value.get(field)!r}, want {kind}")
                    if set(value) - set(spec["fields"]) - set(spec["optional"]):
                        problems.append(f"{where}: the answer has fields a worker never writes: {sorted(set(value) - set(spec['fields']) - set(spec['optional']))}")
                    if value.get("outcome") not in spec["values"]["outcome"]:
                        problems.append(f"{where}: answer.outcome = {value.get('outcome')!r}")
                elif declared:
                    try:
                        jsonschema.validate(value, schema(declared.group(1)))
                    except (jsonschema.ValidationError, TypeError) as e:
                        problems.append(f"{where}: schemas/{declared.group(1)}.schema.json: {getattr(e, 'message', e)}")
                elif isinstance(value, dict) and {"id", "type", "payload"} <= value.keys():
                    envelope(where, value)
                elif isinstance(value, dict) and {"type", "data", "at"} <= value.keys():
                    event(where, value)
                elif page.startswith("jobs/types/") and schema(os.path.basename(page)[:-3]):
                    try:
                        jsonschema.validate(value, schema(os.path.basename(page)[:-3]))
                    except jsonschema.ValidationError as e:
                        problems.append(f"{where}: the payload breaks its schema: {e.message}")
                else:
                    problems.append(f"{where}: a JSON example that is neither an envelope, an event nor marked <!-- schema: NAME --> or <!-- answer -->")
        for m in re.finditer(r"\bjob '(\{.*\})'", body):
            checked["json"] += 1
            envelope(where, json.loads(m.group(1)))
        if lang == "python" and os.environ.get("RUN_PYTHON_EXAMPLES") == "1":
            checked["python"] += 1
            try:
                exec(compile(body, where, "exec"), {})
            except Exception as e:  # noqa: BLE001
                problems.append(f"{where}: the Python example failed: {e!r}")
        i = j + 1
    # PROTOCOL's queue table agrees with the clients.
    if page.endswith("PROTOCOL.md"):
        section = text.split("### Which queue", 1)[1].split("\n## ", 1)[0] if "### Which queue" in text else ""
        table = {}
        for row in section.split("\n"):
            cells = [c.strip() for c in row.strip().strip("|").split("|")]
            if len(cells) >= 2 and cells[1].startswith("`"):
                for t in re.findall(r"`([\w.]+)`", cells[0]):
                    table[t] = cells[1].strip("`")
        types = {f[:-len(".schema.json")] for f in os.listdir(os.path.join(jobs, "schemas"))} - {"envelope"}
        for t in sorted(types | {"diag.incr"}):
            if t not in table:
                problems.append(f"{page}: no queue for {t} in 'Which queue'")
            elif table[t] != QUEUES.get(t, "default"):
                problems.append(f"{page}: {t} on {table[t]}, but the clients send it on {QUEUES.get(t, 'default')}")

    # Each type's page names its queue, the one PROTOCOL's table and the clients use (issue 15, trap 4).
    if page.startswith("jobs/types/") and os.environ.get("CHECK_TYPE_QUEUES") == "1":
        job_type = os.path.basename(page)[:-3]
        queue = QUEUES.get(job_type, "default")
        if not re.search(r"queue[^\n]*`" + re.escape(queue) + "`", text, re.I):
            problems.append(f"{page}: does not name its queue `{queue}`")

    # EVENTS.md's table agrees with conformance/events.json (what the worker writes).
    if page.endswith("EVENTS.md"):
        rows = [l for l in lines if l.startswith("|")]
        at_row = next((r for r in rows if r.startswith("| `at`")), "")
        if not re.search(r"fraction|float|decimal", at_row):
            problems.append(f"{page}: the `at` field must be described as seconds with a fraction (a float): {at_row}")
        for name, fields in events_doc["fields"].items():
            row = next((r for r in rows if f"`{name}`" in r.split("|")[1]), None)
            if row is None:
                problems.append(f"{page}: no row for {name}")
                continue
            for field in fields:
                if f"`{field}`" not in row:
                    problems.append(f"{page}: {name} does not list {field}")
            for field, allowed in events_doc.get("values", {}).get(name, {}).items():
                listed = re.search(r"`" + re.escape(field) + r"`\s*\(([^)]*)\)", row)
                shown = set(re.findall(r"`([\w.]+)`", listed.group(1))) if listed else set()
                if shown != set(allowed):
                    problems.append(f"{page}: {name}.{field} lists {sorted(shown)}, the worker writes {sorted(allowed)}")

print(json.dumps({"checked": checked, "problems": problems}, ensure_ascii=False))
sys.exit(1 if problems else 0)
"""#
}
