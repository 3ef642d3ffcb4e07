import Foundation
import HoopoeJSON
import Redis
import Synchronization
import Testing

@testable import HoopoeCore

/// Typed enqueue (``JobPayload``): the job type declared once, the payload encoded once into the envelope.
@Suite struct JobPayloadTests {
    /// A payload and a handler that names no type of its own.
    struct Greeting: JobPayload {
        static let jobType = "test.greet"
        let name: String
        let note: String?
    }

    struct GreetingJob: JobHandler {
        let greeted: Greeted
        func run(_ payload: Greeting, context: JobContext) async throws { greeted.add(payload.name) }
    }

    final class Greeted: Sendable {
        private let names = Mutex([String]())
        func add(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    private func storedEnvelopes(_ h: EngineHarness) async throws -> [String: (bytes: [UInt8], envelope: JobEnvelope)] {
        let entries = try await h.redis.send("XRANGE", h.jobs.keys("default").stream, "-", "+").array ?? []
        var result: [String: (bytes: [UInt8], envelope: JobEnvelope)] = [:]
        for entry in entries {
            guard let bytes = entry.array?.last?.array?.last?.bytes else { continue }
            let envelope = try JobEnvelope.decode(bytes)
            result[envelope.id] = (bytes, envelope)
        }
        return result
    }

    @Test func aHandlerOfATypedPayloadTakesItsTypeFromThePayload() {
        #expect(GreetingJob.type == "test.greet")
        #expect(DiagRecordJob.type == "diag.record" && DiagIncrJob.type == "diag.incr")
    }

    /// The typed path writes the envelope the untyped one writes for the same payload, field for field and byte for
    /// byte apart from the id and the enqueue time — including a payload whose text looks like the envelope's key.
    @Test func typedEnqueueWritesTheEnvelopeTheUntypedOneWrites() async throws {
        let h = try EngineHarness()
        let tricky = #"a "payload":null b / c"#
        let options = { (id: String) in EnqueueOptions(maxAttempts: 3, timeout: .seconds(9), id: id, notify: true) }
        try await h.jobs.enqueue(Greeting(name: tricky, note: nil), options: options("typed"))
        try await h.jobs.enqueue(type: "test.greet", payload: .object(["name": .string(tricky)]), options: options("untyped"))
        let stored = try await storedEnvelopes(h)
        let typed = try #require(stored["typed"])
        let untyped = try #require(stored["untyped"])
        #expect(typed.envelope.type == "test.greet")
        #expect(typed.envelope.payload == .object(["name": .string(tricky)]))
        var same = typed.envelope
        same.id = untyped.envelope.id
        same.enqueuedAt = untyped.envelope.enqueuedAt
        #expect(same == untyped.envelope)
        #expect(same.encoded() == untyped.bytes, "the typed envelope's bytes are the untyped one's, once id and time agree")
        // The worker's one-pass reader accepts it, payload range included.
        guard case .valid(let header) = EnvelopeReader.read(typed.bytes, queue: "default") else {
            Issue.record("the worker's reader refused \(String(decoding: typed.bytes, as: UTF8.self))"); return
        }
        let range = try #require(header.payload)
        #expect(JSONValue.parse(typed.bytes[range]) == typed.envelope.payload)
    }

    @Test func aTypedJobRunsInItsTypedHandler() async throws {
        let h = try EngineHarness()
        let greeted = Greeted()
        var registry = JobRegistry()
        registry.register(GreetingJob(greeted: greeted))
        let (worker, task) = h.startWorker(registry)
        try await h.jobs.enqueue(Greeting(name: "Sara", note: "hi"))
        #expect(try await h.eventually { greeted.all == ["Sara"] })
        worker.shutdown()
        try await task.value
    }

    /// A batch of payloads of different types: one round trip, results in order, each envelope of its own type.
    @Test func aMixedBatchKeepsOrderAndTypes() async throws {
        let h = try EngineHarness()
        let results = try await h.jobs.enqueueBatch([
            (payload: Greeting(name: "a", note: nil), options: EnqueueOptions(id: "b-1")),
            (payload: DiagIncrJob.Payload(key: "k"), options: EnqueueOptions(id: "b-2")),
            (payload: DiagRecordJob.Payload(key: "k", member: "m"), options: .after(.seconds(60))),
        ])
        #expect(results.count == 3)
        #expect(results[0] == .enqueued(id: "b-1") && results[1] == .enqueued(id: "b-2"))
        guard case .scheduled = results[2] else { Issue.record("expected scheduled, got \(results[2])"); return }
        let stored = try await storedEnvelopes(h)
        #expect(stored["b-1"]?.envelope.type == "test.greet")
        #expect(stored["b-2"]?.envelope.type == "diag.incr" && stored["b-2"]?.envelope.payload == .object(["key": .string("k")]))
    }

    @Test func typedEnqueueAppliesTheSameRules() async throws {
        let h = try EngineHarness()
        await #expect(throws: EnqueueError.self) {
            try await h.jobs.enqueue(Greeting(name: "x", note: nil), options: EnqueueOptions(queue: "bad{name}"))
        }
        await #expect {
            try await h.jobs.enqueue(Greeting(name: String(repeating: "x", count: 600 * 1024), note: nil))
        } throws: { error in
            "\(error)".contains("over the 524288-byte limit")
        }
        #expect(try await h.jobs.info(queue: "default").ready == 0)
    }
}
