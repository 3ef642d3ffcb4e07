import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// Generated envelopes (fixed seed, bounded count) through the envelope reader and the whole execute path, in
/// process: nothing traps, each gets a verdict, and the two readers agree.
@Suite struct EnvelopeFuzzTests {
    static let seed: UInt64 = 0x4_800_9E

    @Test func everyGeneratedEnvelopeGetsTheSameVerdictFromBothReaders() throws {
        var generator = EnvelopeGenerator(seed: Self.seed)
        var counts = (valid: 0, invalid: 0, scanOnly: 0)
        for index in 0..<3000 {
            let bytes = generator.anything(types: ["diag.record", "sms.send", "x", "a b"])
            let fast = EnvelopeReader.read(bytes, queue: "default")
            let full = EnvelopeReader.read(bytes, queue: "default", fast: false)
            let text = String(decoding: bytes.prefix(300), as: UTF8.self)
            switch (fast, full) {
            case (.valid(let a), .valid(let b)):
                counts.valid += 1
                #expect(a.id == b.id && a.type == b.type && a.queue == b.queue && a.attempt == b.attempt, "#\(index) \(text)")
                #expect(a.maxAttempts == b.maxAttempts && a.timeout == b.timeout && a.runAt == b.runAt && a.uniqueKey == b.uniqueKey, "#\(index) \(text)")
                #expect(a.enqueuedAt == b.enqueuedAt, "#\(index) \(text)")
                // What a valid verdict promises the execute path: every number in range, so no conversion traps.
                #expect((0...1000).contains(a.attempt) && (a.maxAttempts.map { (1...1000).contains($0) } ?? true), "#\(index) \(text)")
                #expect(a.timeout.map { $0 > 0 && $0 <= 86_400 } ?? true, "#\(index) \(text)")
                #expect(a.runAt.map { $0 >= 0 && $0 < 1e11 } ?? true, "#\(index) \(text)")
                #expect(EnvelopeRules.idProblem(a.id) == nil && EnvelopeRules.typeProblem(a.type) == nil && EnvelopeRules.queueProblem(a.queue) == nil)
            case (.invalid(let a, _, _, _), .invalid(let b, _, _, _)):
                counts.invalid += 1
                #expect(!a.isEmpty && !b.isEmpty)
                // A rule broken in readable JSON is named the same way by both readers.
                if a.hasPrefix("invalid envelope:"), JSONValue.parse(bytes) != nil {
                    #expect(a == b, "#\(index) \(text)")
                }
            case (.valid, .invalid(let reason, _, _, _)):
                // Only what the scan skips without decoding (a lone surrogate, a number beyond a double inside the
                // payload) may pass the scan: JSON that no decoder reads. The execute path buries it.
                counts.scanOnly += 1
                #expect(reason.hasPrefix("not a valid job envelope"), "#\(index) \(reason): \(text)")
                #expect(JSONValue.parse(bytes) == nil, "#\(index) \(text)")
            case (.invalid(let reason, _, _, _), .valid):
                Issue.record("#\(index): the scan refused what the decoder accepts (\(reason)): \(text)")
            }
        }
        // The generator reaches every kind of verdict (or this test tests less than it claims).
        #expect(counts.valid > 250 && counts.invalid > 1100, "\(counts)")
    }

    /// `jobs/schemas/envelope.schema.json` states the worker's limits: Python's `jsonschema` gives the same verdict
    /// as the worker's reader on generated envelopes (JSON both sides read alike: re-encoded once by Swift, so
    /// duplicate keys and lone surrogates, which parsers treat differently, are out of the comparison).
    @Test func theSchemaGivesTheWorkersVerdict() async throws {
        var generator = EnvelopeGenerator(seed: Self.seed &+ 2)
        var lines: [String] = []
        var verdicts: [Bool] = []
        while lines.count < 1500 {
            guard let value = JSONValue.parse(generator.anything(types: ["diag.record", "sms.send", "a b", ""])) else { continue }
            let bytes = value.encoded()
            guard case .object = value else { continue }
            let valid = if case .valid = EnvelopeReader.read(bytes, queue: "default") { true } else { false }
            lines.append(String(decoding: bytes, as: UTF8.self))
            verdicts.append(valid)
        }
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("envelopes-\(UUID().uuidString).jsonl")
        try lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: input) }
        let schema = BuiltProducts.projectRoot.appendingPathComponent("jobs/schemas/envelope.schema.json").path
        let check = """
            import json, sys, jsonschema
            validator = jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))
            for line in open(sys.argv[2], encoding="utf-8"):
                print(1 if validator.is_valid(json.loads(line)) else 0)
            """
        let child = try ChildProcess("/usr/bin/env", ["python3", "-c", check, schema, input.path])
        #expect(await child.wait(timeout: .seconds(120)) == 0, "\(child.output.suffix(2000))")
        let schemaVerdicts = child.output.split(separator: "\n").map { $0 == "1" }
        try #require(schemaVerdicts.count == lines.count, "\(child.output.suffix(2000))")
        var disagreements: [String] = []
        for (index, line) in lines.enumerated() where schemaVerdicts[index] != verdicts[index] {
            disagreements.append("schema \(schemaVerdicts[index]), worker \(verdicts[index]): \(line.prefix(300))")
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, e.g.\n\(disagreements.prefix(5).joined(separator: "\n"))")
        #expect(verdicts.filter { $0 }.count > 100 && verdicts.filter { !$0 }.count > 500, "both verdicts are exercised")
    }

    @Test(arguments: EnvelopeGenerator.breakages.map(\.name))
    func eachBrokenRuleIsRefusedNamingItsField(name: String) throws {
        let breakage = try #require(EnvelopeGenerator.breakages.first { $0.name == name })
        var generator = EnvelopeGenerator(seed: Self.seed)
        for _ in 0..<20 {
            let bytes = generator.broken(breakage, id: "j1", type: "diag.record", payload: EnvelopeGenerator.text(#"{"key":"k","member":"m"}"#))
            for fast in [true, false] {
                guard case .invalid(let reason, _, _, _) = EnvelopeReader.read(bytes, queue: "default", fast: fast) else {
                    Issue.record("\(name) was accepted: \(String(decoding: bytes.prefix(300), as: UTF8.self))")
                    continue
                }
                // A number beyond a double is not JSON the full decoder reads at all (it names no field); the
                // one-pass scan, which reads the usual shape, names it.
                if fast || !breakage.value.contains("e400") { #expect(reason.contains(breakage.key), "\(name): \(reason)") }
            }
        }
    }

    /// Fails once per job (then succeeds), with what the payload asks: a retry at any time, a huge message.
    struct Unruly: JobHandler {
        static let type = "fuzz.job"
        let key: String
        var maxAttempts: Int { 3 }
        func run(_ payload: JSONValue, context: JobContext) async throws {
            guard case .object(let members) = payload, members["fail"] != nil else { return }
            guard try await context.redis.send("HSETNX", key, context.id + ":" + String(context.attempt), "1").int == 1 else { return }
            if members["fail"] == .string("long") { throw JobFailure.retry(String(repeating: "e", count: 100_000)) }
            throw JobFailure.retry("asked to fail", at: members["at"]?.doubleValue)
        }
    }

    @Test func theExecutePathSettlesEveryGeneratedEnvelopeAndKeepsRunning() async throws {
        let h = try EngineHarness()
        var registry = JobRegistry.diagnostic
        registry.register(Unruly(key: "\(h.namespace):unruly"))
        var generator = EnvelopeGenerator(seed: Self.seed &+ 1)
        let stream = h.jobs.keys("default").stream
        let count = 1500
        var commands: [RedisCommand] = []
        for index in 0..<count {
            var bytes = generator.anything(types: ["fuzz.job", "diag.record", "no.such"], id: "e\(index)")
            if index % 5 == 0 {
                // A job that fails and asks for its retry at a boundary time, or fails with a huge message.
                let at = generator.pick(EnvelopeGenerator.numbers)
                let fail = generator.chance(20) ? EnvelopeGenerator.quoted("long") : EnvelopeGenerator.text("true")
                var fields = generator.validFields(id: "f\(index)", type: "fuzz.job", payload: EnvelopeGenerator.text(#"{"fail":"#) + fail + EnvelopeGenerator.text(#","at":"#) + at + EnvelopeGenerator.text("}"))
                fields.removeAll { $0.key == "run_at" || $0.key == "max_attempts" }
                fields.append(("max_attempts", EnvelopeGenerator.text(generator.pick(["1", "2", "1000"]))))
                bytes = generator.render(fields)
            }
            var command = RedisCommand("XADD", stream, "*", "job")
            command.append(bytes: bytes)
            commands.append(command)
        }
        var options = WorkerOptions.fastTest()
        options.promoteInterval = .seconds(3600)  // retries and early jobs stay scheduled: each entry settles once
        let (worker, task) = h.startWorker(registry, options: options)
        // The worker's first promotion round runs at its start: over before the first entry fails, or a retry due at
        // once (a fuzzed `at` in the past) is promoted by it and settles a second time (seen under load).
        #expect(try await h.eventually { worker.clockLead.bound(queue: "default").isFinite })
        _ = try await h.redis.pipeline(commands)
        let settledAll = try await h.eventually(timeout: .seconds(60)) {
            let info = try await h.jobs.info(queue: "default")
            return info.ready == 0 && info.inFlight == 0
        }
        #expect(settledAll)
        worker.shutdown()
        try await task.value
        let counters = try await h.jobs.counters(queue: "default")
        let settled = ["processed", "dead", "retried", "early", "discarded"].reduce(0) { $0 + (counters[$1] ?? 0) }
        #expect(settled == count, "every entry settled exactly once: \(counters)")
        #expect((counters["dead"] ?? 0) > 300 && (counters["processed"] ?? 0) > 100 && (counters["retried"] ?? 0) > 50, "\(counters)")
        let dead = try await h.jobs.deadJobs(queue: "default", limit: 10_000)
        // One record per dead job; ids are unique here, except where a perturbation replaced one with another
        // valid id (the dead hash is keyed by id: a duplicate id overwrites, as documented).
        let deadCount = counters["dead"] ?? 0
        #expect(dead.count <= deadCount && dead.count >= deadCount - deadCount / 20, "\(dead.count) records for \(deadCount) dead")
        #expect(dead.allSatisfy { ($0.deadReason ?? "").isEmpty == false })
        // Nothing kept is larger than the cap (the raw text, or a summary of an oversized payload).
        let sizes = (try await h.redis.send("HVALS", h.jobs.keys("default").deadJobs).array ?? []).compactMap { $0.bytes?.count }
        #expect(sizes.allSatisfy { $0 < 90_000 }, "largest dead record: \(sizes.max() ?? 0) bytes")
        // Every retry was scheduled at a plausible time (never beyond a year, never a trap), so it stays valid;
        // an early job at its own run_at (below 1e11).
        let scheduled = (try await h.redis.send("ZRANGE", h.jobs.keys("default").scheduled, "0", "-1", "WITHSCORES").array ?? []).compactMap(\.string)
        let now = Date().timeIntervalSince1970
        for index in stride(from: 0, to: scheduled.count - 1, by: 2) {
            let score = try #require(Double(scheduled[index + 1]))
            #expect(score >= 0 && score < 1e11, "\(scheduled[index]) scheduled at \(score)")
            if scheduled[index].hasPrefix("f") { #expect(score < now + 366 * 86_400, "retry \(scheduled[index]) at \(score)") }
        }
    }
}
