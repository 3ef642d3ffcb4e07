import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// jobs/conformance/ against the engine, the fourth implementation beside the PHP, Go and Python clients (which
/// run the same vectors in scripts/test-clients.sh): every envelope case through a real worker loop (valid ones run,
/// invalid ones go to the dead set with a reason naming the field), and every enqueue call through `JobQueue`.
@Suite(.serialized) struct ConformanceTests {
    static let directory = BuiltProducts.projectRoot.appendingPathComponent("jobs/conformance")

    static func vectors(_ name: String) throws -> JSONValue {
        let bytes = try Data(contentsOf: directory.appendingPathComponent(name))
        guard let value = JSONValue.parse(Array(bytes)) else { throw TestSupportError("\(name) is not JSON") }
        return value
    }

    /// The exact text a case stands for.
    static func text(of item: JSONValue) -> [UInt8] {
        if let json = item["json"]?.stringValue { return Array(json.utf8) }
        if let sized = item["sized"], let prefix = sized["prefix"]?.stringValue, let suffix = sized["suffix"]?.stringValue,
            let fill = sized["fill"]?.stringValue, let total = sized["total_bytes"]?.int64Value {
            let count = Int(total) - prefix.utf8.count - suffix.utf8.count
            return Array(prefix.utf8) + Array(repeating: fill.utf8.first!, count: count) + Array(suffix.utf8)
        }
        return item["envelope"]?.encoded() ?? []
    }

    /// Whether a dead reason names `field` the way the rules promise (`invalid envelope: timeout must be ...`).
    static func reason(_ reason: String, names field: String, aboutTheEnvelope: Bool = true) -> Bool {
        switch field {
        case "envelope": return reason.contains("envelope")
        case "size": return reason.contains("\(EnvelopeRules.maxBytes)") || reason.contains("too large")
        default:
            let words = reason.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") })
            return (!aboutTheEnvelope || reason.contains("envelope")) && words.contains(Substring(field))
        }
    }

    @Test func everyEnvelopeCaseGetsItsVerdictFromARealWorker() async throws {
        let cases = try Self.vectors("envelopes.json")["cases"]?.arrayValue ?? []
        #expect(cases.count > 50)
        let h = try EngineHarness()
        let keys = h.jobs.keys("default")
        let (worker, task) = h.startWorker()
        defer { worker.shutdown() }
        // The worker creates the stream's consumer group as it starts; the checks below read the group.
        #expect(try await h.eventually { (try? await h.redis.send("XINFO", "GROUPS", keys.stream))?.array?.isEmpty == false })
        var failures: [String] = []
        for item in cases {
            let name = item["name"]?.stringValue ?? "?"
            try await h.redis.send("DEL", keys.dead, keys.deadJobs)
            var xadd = RedisCommand("XADD", keys.stream, "*", "job")
            xadd.append(bytes: Self.text(of: item))
            try await h.redis.send(xadd)
            let settled = try await h.eventually(timeout: .seconds(20)) {
                let length = try await h.redis.send("XLEN", keys.stream).int ?? 1
                let pending = try await h.redis.send("XPENDING", keys.stream, QueueKeys.group).array?.first?.int ?? 1
                return length == 0 && pending == 0
            }
            guard settled else {
                failures.append("\(name): not settled")
                continue
            }
            let dead = (try await h.redis.send("HVALS", keys.deadJobs).array ?? []).compactMap(\.string)
            let reasons = dead.map { JSONValue.parse(Array($0.utf8))?["dead_reason"]?.stringValue ?? $0 }
            if item["valid"]?.boolValue == true {
                // A valid envelope may still fail in its handler (an array payload); it must not be refused as an envelope.
                if let refused = reasons.first(where: { $0.contains("invalid envelope") || $0.contains("not a valid job envelope") }) {
                    failures.append("\(name): refused: \(refused)")
                }
            } else {
                let field = item["field"]?.stringValue ?? "?"
                if reasons.isEmpty {
                    failures.append("\(name): ran; want the dead set naming \(field)")
                } else if !reasons.contains(where: { Self.reason($0, names: field) }) {
                    failures.append("\(name): dead with \(reasons.map { String($0.prefix(300)) }), want it to name \(field)")
                }
            }
        }
        worker.shutdown()
        try await task.value
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// jobs/schemas/envelope.schema.json gives every case the vectors' verdict too (checked with Python's jsonschema,
    /// the validator other services use); the size limit and a number's length (`field` "number"), which a schema
    /// cannot state (it sees a number's value, not its text), aside.
    @Test func theEnvelopeSchemaAgreesWithTheVectors() async throws {
        let check = """
            import json, sys, jsonschema
            schema = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
            wrong = []
            for case in json.load(open(sys.argv[2]))["cases"]:
                if "sized" in case or case.get("field") == "number":
                    continue
                try:
                    value = json.loads(case["json"]) if "json" in case else case["envelope"]
                except ValueError:
                    value = None
                if (value is not None and schema.is_valid(value)) != case["valid"]:
                    wrong.append(case["name"])
            print(wrong)
            sys.exit(1 if wrong else 0)
            """
        let schema = BuiltProducts.projectRoot.appendingPathComponent("jobs/schemas/envelope.schema.json").path
        let vectors = Self.directory.appendingPathComponent("envelopes.json").path
        let checker = try ChildProcess("/usr/bin/env", ["python3", "-c", check, schema, vectors])
        #expect(await checker.wait(timeout: .seconds(60)) == 0, "the schema disagrees with: \(checker.output)")
    }

    /// An enqueue vector's call as `JobQueue` arguments.
    static func call(_ call: JSONValue) -> (String, JSONValue, EnqueueOptions) {
        var options = EnqueueOptions(queue: call["queue"]?.stringValue ?? "default", id: call["id"]?.stringValue)
        let now = Date()
        if let offset = call["at_from_now"]?.doubleValue { options.runAt = now.addingTimeInterval(offset) }
        if let at = call["at"]?.doubleValue { options.runAt = Date(timeIntervalSince1970: at) }
        if let delay = call["in"]?.doubleValue { options.runAt = now.addingTimeInterval(delay) }
        options.uniqueKey = call["unique_key"]?.stringValue
        options.uniqueFor = call["unique_for"]?.doubleValue.map { .milliseconds(Int64($0 * 1000)) }
        options.onceKey = call["once_key"]?.stringValue
        if let seconds = call["once_for"]?.doubleValue { options.onceFor = .milliseconds(Int64(seconds * 1000)) }
        options.maxAttempts = call["max_attempts"]?.int64Value.map { Int($0) }
        options.timeout = call["timeout"]?.doubleValue.map { .milliseconds(Int64($0 * 1000)) }
        options.notify = call["notify"]?.boolValue ?? false
        var payload = call["payload"] ?? .object([:])
        if let bytes = call["payload_member_bytes"]?.int64Value, case .object(var object) = payload {
            object["member"] = .string(String(repeating: "x", count: Int(bytes)))
            payload = .object(object)
        }
        return (call["type"]?.stringValue ?? "", payload, options)
    }

    /// What a result or error is in the vectors' words.
    static func outcome(_ result: Result<EnqueueResult, any Error>) -> String {
        switch result {
        case .success(.enqueued(let id)): "enqueued \(id)"
        case .success(.scheduled(let id)): "scheduled \(id)"
        case .success(.duplicate(let id)): "duplicate \(id)"
        case .success(.alreadyEnqueued(let id)): "once \(id)"
        case .failure(let error as EnqueueError): error.message.contains("bytes") && error.message.contains("limit") ? "too_large" : "invalid: \(error.message)"
        case .failure(let error): "error \(error)"
        }
    }

    static func expected(_ want: JSONValue) -> String {
        if let status = want["status"]?.stringValue { return "\(status) \(want["id"]?.stringValue ?? "")" }
        let kind = want["kind"]?.stringValue ?? want["error"]?.stringValue ?? "?"
        switch kind {
        case "duplicate", "once": return "\(kind) \(want["existing_id"]?.stringValue ?? "")"
        default: return kind
        }
    }

    static func matches(_ got: String, _ want: JSONValue) -> Bool {
        let kind = want["kind"]?.stringValue ?? want["error"]?.stringValue
        if kind == "invalid" {
            return got.hasPrefix("invalid") && reason(got, names: want["field"]?.stringValue ?? "?", aboutTheEnvelope: false)
        }
        return got == expected(want)
    }

    @Test func everyEnqueueCallWritesWhatTheVectorsSay() async throws {
        let cases = try #require(try Self.vectors("enqueue.json")["cases"]?.arrayValue, "enqueue.json has no cases array")
        // jobs/conformance/enqueue.json has 20 cases (23 steps, one a batch of 5): a file or a reading that lost some
        // would check less and still pass.
        #expect(cases.count >= 20, "only \(cases.count) enqueue cases read")
        var failures: [String] = []
        var steps = 0
        for item in cases {
            let name = item["name"]?.stringValue ?? "?"
            let space = try TestNamespace("conformance")
            let itemSteps = item["steps"]?.arrayValue ?? []
            if itemSteps.isEmpty { failures.append("\(name): no steps") }
            for (index, step) in itemSteps.enumerated() {
                steps += 1
                let label = "\(name), step \(index)"
                if let batch = step["batch"]?.arrayValue {
                    let results = try await space.jobs.enqueueBatch(batch.map(Self.call))
                    let expected = step["results"]?.arrayValue ?? []
                    // zip stops at the shorter: a result missing (or one too many) is a failure of its own.
                    if results.count != expected.count || results.count != batch.count {
                        failures.append("\(label): \(results.count) results for \(batch.count) jobs, the vectors list \(expected.count)")
                    }
                    for (got, want) in zip(results, expected) where !Self.matches(Self.outcome(.success(got)), want) {
                        failures.append("\(label): \(Self.outcome(.success(got))), want \(Self.expected(want))")
                    }
                } else if let call = step["call"] {
                    let (type, payload, options) = Self.call(call)
                    let result: Result<EnqueueResult, any Error>
                    do { result = .success(try await space.jobs.enqueue(type: type, payload: payload, options: options)) } catch { result = .failure(error) }
                    let want = step["result"] ?? step["error"] ?? .null
                    if !Self.matches(Self.outcome(result), want) { failures.append("\(label): \(Self.outcome(result)), want \(Self.expected(want))") }
                } else {
                    failures.append("\(label): neither a call nor a batch")
                }
                failures += try await Self.checkWrites(step, redis: space.redis, namespace: space.namespace, label: label)
            }
        }
        #expect(steps >= 23, "only \(steps) enqueue steps run")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    static func checkEnvelope(_ body: String?, _ spec: JSONValue, label: String) -> [String] {
        guard let body, let envelope = JSONValue.parse(Array(body.utf8)) else { return ["\(label): no envelope"] }
        var failures: [String] = []
        let now = Date().timeIntervalSince1970
        if case .object(let fields) = spec["envelope"] ?? .null {
            for (key, value) in fields where envelope[key] != value && !(envelope[key]?.doubleValue != nil && envelope[key]?.doubleValue == value.doubleValue) {
                failures.append("\(label): envelope.\(key) = \(String(describing: envelope[key])), want \(value)")
            }
        }
        for key in (spec["now"]?.arrayValue ?? []).compactMap(\.stringValue) where abs((envelope[key]?.doubleValue ?? 0) - now) > 60 {
            failures.append("\(label): \(key) is not now")
        }
        if case .object(let fields) = spec["from_now"] ?? .null {
            for (key, offset) in fields where abs((envelope[key]?.doubleValue ?? 0) - now - (offset.doubleValue ?? 0)) > 60 {
                failures.append("\(label): \(key) is not now + \(offset)")
            }
        }
        for key in (spec["absent"]?.arrayValue ?? []).compactMap(\.stringValue) where envelope[key] != nil {
            failures.append("\(label): \(key) is present")
        }
        return failures
    }

    static func checkWrites(_ step: JSONValue, redis: RedisClient, namespace: String, label: String) async throws -> [String] {
        func key(_ spec: JSONValue?) -> String { (spec?["key"]?.stringValue ?? "").replacingOccurrences(of: "{ns}", with: namespace) }
        var failures: [String] = []
        if let spec = step["stream"] {
            let entries = try await redis.send("XRANGE", key(spec), "-", "+").array ?? []
            if entries.count != Int(spec["count"]?.int64Value ?? -1) {
                failures.append("\(label): \(entries.count) stream entries, want \(spec["count"] ?? .null)")
            } else if let last = entries.last?.array?.last?.array, last.count == 2 {
                failures += checkEnvelope(last[1].string, spec, label: label)
            }
        }
        if let spec = step["zset"] {
            let score = try await redis.send("ZSCORE", key(spec), spec["member"]?.stringValue ?? "").string.flatMap(Double.init)
            if abs((score ?? 0) - Date().timeIntervalSince1970 - (spec["score_from_now"]?.doubleValue ?? 0)) > 60 {
                failures.append("\(label): score \(String(describing: score))")
            }
        }
        if let spec = step["hash"] {
            let body = try await redis.send("HGET", key(spec), spec["field"]?.stringValue ?? "").string
            failures += checkEnvelope(body, spec, label: label)
        }
        if let spec = step["string"] {
            let value = try await redis.send("GET", key(spec)).string
            let ttl = try await redis.send("TTL", key(spec)).int ?? -2
            let bounds = spec["ttl_between"]?.arrayValue?.compactMap(\.int64Value) ?? [0, 0]
            if value != spec["value"]?.stringValue || ttl < bounds[0] || ttl > bounds[1] {
                failures.append("\(label): \(key(spec)) = \(value ?? "nil") ttl \(ttl)")
            }
        }
        for missing in (step["missing"]?.arrayValue ?? []).compactMap(\.stringValue) {
            let name = missing.replacingOccurrences(of: "{ns}", with: namespace)
            if try await redis.send("EXISTS", name).int != 0 { failures.append("\(label): \(name) exists") }
        }
        return failures
    }
}
