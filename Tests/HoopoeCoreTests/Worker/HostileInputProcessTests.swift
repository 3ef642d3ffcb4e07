import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// A real `hoopoe worker` process against hostile input: thousands of malformed envelopes between valid ones,
/// and a job that its worker dies running (SIGKILLed by the test, twice).
@Suite(.serialized) struct HostileInputProcessTests {
    private func worker(_ h: EngineHarness, _ arguments: [String] = []) throws -> ChildProcess {
        try ChildProcess(BuiltProducts.hoopoe, ["worker"] + arguments, environment: [
            "REDIS_URL": try TestRedis.url(), "HOOPOE_NAMESPACE": h.namespace, "LOG_LEVEL": "critical",
        ])
    }

    @Test func thousandsOfMalformedEnvelopesAreDeadWithReasonsAndEveryValidOneRuns() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):valid"
        var generator = EnvelopeGenerator(seed: 0x11)
        let stream = h.jobs.keys("default").stream
        var commands: [RedisCommand] = []
        var malformedIDs: [String] = []
        var malformed = 0
        var valid = 0
        for index in 0..<3000 {
            let bytes: [UInt8]
            switch index % 3 {
            case 0:
                // Valid: runs and records its member.
                valid += 1
                let payload = EnvelopeGenerator.text(#"{"key":"\#(key)","member":"v\#(index)"}"#)
                var fields = generator.validFields(id: "v\(index)", type: "diag.record", payload: payload)
                fields.removeAll { $0.key == "unique_key" || $0.key == "run_at" }
                bytes = generator.render(fields)
            case 1:
                // Broken in a known way, with an id of its own (or none that can be kept: then the raw text is).
                malformed += 1
                let breakage = generator.pick(EnvelopeGenerator.breakages)
                if breakage.key != "id" { malformedIDs.append("m\(index)") }
                bytes = generator.broken(breakage, id: "m\(index)", type: "diag.record", payload: EnvelopeGenerator.text(#"{"key":"k","member":"m"}"#))
            default:
                // Not an envelope at all, or the right shape with a payload that does not fit diag.record.
                malformed += 1
                bytes = index % 2 == 0 ? generator.garbage(id: "g\(index)") : EnvelopeGenerator.text(#"{"id":"p\#(index)","type":"diag.record","payload":{"key":7}}"#)
                if index % 2 != 0 { malformedIDs.append("p\(index)") }
            }
            var command = RedisCommand("XADD", stream, "*", "job")
            command.append(bytes: bytes)
            commands.append(command)
        }
        _ = try await h.redis.pipeline(commands)
        let process = try worker(h, ["--concurrency", "50"])
        let done = try await h.eventually(timeout: .seconds(120)) {
            let info = try await h.jobs.info(queue: "default")
            return info.ready == 0 && info.inFlight == 0
        }
        #expect(done, "\(process.output.suffix(2000))")
        #expect(process.poll() == nil, "the worker exited: \(process.output.suffix(2000))")
        let recorded = try await h.recorded(key)
        #expect(recorded.count == valid && recorded.values.allSatisfy { $0 == 1 }, "\(recorded.count) of \(valid) valid jobs ran")
        let info = try await h.jobs.info(queue: "default")
        #expect(info.dead == malformed, "\(info.dead) dead of \(malformed) malformed")
        let dead = try await h.jobs.deadJobs(queue: "default", limit: 10_000)
        #expect(dead.count == malformed)
        #expect(dead.allSatisfy { ($0.deadReason ?? "").isEmpty == false })
        let deadIDs = Set(dead.map(\.id))
        let missing = malformedIDs.filter { !deadIDs.contains($0) }
        #expect(missing.isEmpty, "not in the dead set by id: \(missing.prefix(10))")
        process.signal(SIGTERM)
        #expect(await process.wait(timeout: .seconds(10)) == 0, "\(process.output.suffix(2000))")
    }

    /// The pending deliveries of the default queue's stream: entry id, consumer and delivery count of each.
    private func pending(_ h: EngineHarness) async throws -> [(id: String, consumer: String, deliveries: Int)] {
        // No group yet (no worker started): nothing is pending.
        guard let reply = try? await h.redis.send("XPENDING", h.jobs.keys("default").stream, QueueKeys.group, "-", "+", "100") else { return [] }
        return (reply.array ?? []).compactMap { item in
            guard let entry = item.array, entry.count == 4, let id = entry[0].string, let consumer = entry[1].string, let count = entry[3].int else { return nil }
            return (id, consumer, count)
        }
    }

    /// How many times a worker marked entry `id` as started after a recovery (decision 0079).
    private func markedRuns(_ h: EngineHarness, _ id: String) async throws -> Int {
        try await h.redis.send("HGET", h.jobs.keys("default").recoveredRuns, id).string.flatMap { Int($0) } ?? 0
    }

    /// A number Foundation's decoder traps on (``OverlongNumberTests/trap``), in a payload's `Int` field and in an
    /// envelope of the shape only the full decoder reads (an escape in its id): each worker that fetched one exited 132,
    /// before the poison-pill count could bury it, so it took down every worker in turn. Now each is dead with the
    /// reason, and the worker runs the job behind them.
    @Test func aNumberTheDecoderTrapsOnIsDeadAndTheWorkerRunsOn() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):after"
        let stream = h.jobs.keys("default").stream
        let payload = #"{"key":"k","member":"m","sleep_ms":\#(OverlongNumberTests.trap)}"#
        let plain = OverlongNumberTests.envelope(payload: payload, id: "trap-plain")
        let escaped = Array(#"{"id":"trap\u002descaped","type":"diag.record","payload":\#(payload)}"#.utf8)
        var commands: [RedisCommand] = []
        for bytes in [plain, escaped] {
            var command = RedisCommand("XADD", stream, "*", "job")
            command.append(bytes: bytes)
            commands.append(command)
        }
        _ = try await h.redis.pipeline(commands)
        _ = try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: "after"))
        let process = try worker(h)
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.recorded(key).count == 1 }, "\(process.output.suffix(2000))")
        #expect(process.poll() == nil, "the worker exited: \(process.output.suffix(2000))")
        // The job behind them may finish before their burials have settled.
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.info(queue: "default").dead == 2 })
        let dead = try await h.jobs.deadJobs(queue: "default")
        #expect(Set(dead.map(\.id)) == ["trap-plain", "trap-escaped"])
        #expect(dead.allSatisfy { ($0.deadReason ?? "").contains("more than \(JSONNumberLength.maxCharacters) characters") }, "\(dead.map(\.deadReason))")
        process.signal(SIGTERM)
        #expect(await process.wait(timeout: .seconds(10)) == 0, "\(process.output.suffix(2000))")
    }

    @Test func aJobThatKillsItsWorkerTwiceIsDeadWhateverItsMaxAttempts() async throws {
        let h = try EngineHarness()
        let key = "\(h.namespace):poison"
        let id = try #require(try await h.jobs.enqueue(
            type: "diag.record", payload: h.diag(key: key, member: "pill", sleepMs: 600_000), options: EnqueueOptions(maxAttempts: 1000)
        ).createdID)
        var consumers: Set<String> = []
        for kill in 1...2 {
            let process = try worker(h, ["--lease", "1"])
            // Running: held by this process (a consumer not seen before) with one more delivery each time, and the
            // second time marked as started after its recovery (what makes the loss count).
            #expect(try await h.eventually(timeout: .seconds(30)) {
                guard let held = try await pending(h).first else { return false }
                let marked = try await markedRuns(h, held.id)
                return held.deliveries == kill && !consumers.contains(held.consumer) && marked == kill - 1
            }, "kill \(kill): \(process.output.suffix(1000))")
            if let held = try await pending(h).first { consumers.insert(held.consumer) }
            process.signal(SIGKILL)
            #expect(await process.wait(timeout: .seconds(5)) == 128 + SIGKILL)
        }
        #expect(try await h.recorded(key).isEmpty, "the pill never finished")
        let third = try worker(h, ["--lease", "1"])
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.jobs.info(queue: "default").dead == 1 }, "\(third.output.suffix(1000))")
        let dead = try await h.jobs.deadJobs(queue: "default")
        #expect(dead.first?.id == id)
        #expect(dead.first?.deadReason == "killed its worker 2 times (lease expired while it ran)")
        #expect(try await h.recorded(key).isEmpty, "the third worker did not run it again")
        #expect(third.poll() == nil)
        third.signal(SIGTERM)
        #expect(await third.wait(timeout: .seconds(10)) == 0)
        let info = try await h.jobs.info(queue: "default")
        #expect(info.ready == 0 && info.inFlight == 0)
    }

    /// Jobs fetched into the buffers of two workers that a poison pill killed, and never started there, are not
    /// buried with it (decision 0079). Before, every delivery counted as a run that killed its worker: their third
    /// delivery buried them as poison pills too.
    @Test func jobsBufferedBehindAPoisonPillAreNotBuriedWithIt() async throws {
        let h = try EngineHarness()
        let pillKey = "\(h.namespace):pill"
        let key = "\(h.namespace):buffered"
        let pill = try #require(try await h.jobs.enqueue(
            type: "diag.record", payload: h.diag(key: pillKey, member: "pill", sleepMs: 600_000)).createdID)
        let members = (1...6).map { "m\($0)" }
        for member in members {
            try await h.jobs.enqueue(type: "diag.record", payload: h.diag(key: key, member: member))
        }
        var everBuffered: Set<String> = []
        var pillEntry = ""
        for kill in 1...2 {
            // One runner: the pill holds it, and what the worker fetched besides waits in its buffer.
            let process = try worker(h, ["--lease", "1", "--concurrency", "1"])
            if pillEntry.isEmpty {
                #expect(try await h.eventually(timeout: .seconds(30)) { !(try await pending(h)).isEmpty })
                pillEntry = try await pending(h).first?.id ?? ""
            }
            var consumer = ""
            #expect(try await h.eventually(timeout: .seconds(30)) {
                let held = try await pending(h)
                // The oldest entry is the pill's: enqueued first.
                guard let pillHeld = held.first, pillHeld.id == pillEntry, pillHeld.deliveries == kill else { return false }
                guard try await markedRuns(h, pillHeld.id) == kill - 1 else { return false }
                consumer = pillHeld.consumer
                return held.filter { $0.consumer == consumer }.count > 1
            }, "kill \(kill): \(process.output.suffix(1000))")
            everBuffered.formUnion(try await pending(h).filter { $0.consumer == consumer }.dropFirst().map(\.id))
            process.signal(SIGKILL)
            #expect(await process.wait(timeout: .seconds(5)) == 128 + SIGKILL)
        }
        #expect(!everBuffered.isEmpty)
        // What the killed workers ran to its end (a record is one round trip: in Redis or not, once they are gone),
        // and the members whose entries they still held (pending: fetched, or run and not acknowledged yet).
        let ranBefore = try await h.recorded(key)
        var heldMembers: Set<String> = []
        for held in try await pending(h) {
            let entry = try await h.redis.send("XRANGE", h.jobs.keys("default").stream, held.id, held.id).array?.first?.array?.last?.array ?? []
            let envelope = entry.count == 2 ? entry[1].string.flatMap { JSONValue.parse(Array($0.utf8)) } : nil
            if let member = envelope?["payload"]?["member"]?.stringValue { heldMembers.insert(member) }
        }
        #expect(heldMembers.isSuperset(of: ["pill"]) && heldMembers.count > 1, "the pill and what was buffered behind it: \(heldMembers)")
        let third = try worker(h, ["--lease", "1"])
        #expect(try await h.eventually(timeout: .seconds(30)) { try await h.recorded(key).count == members.count }, "\(third.output.suffix(1000))")
        // The pill is buried when the third worker recovers it, which need not come before the buffered jobs are done.
        var dead: [JobEnvelope] = []
        _ = try await h.eventually(timeout: .seconds(30)) {
            dead = try await h.jobs.deadJobs(queue: "default")
            return !dead.isEmpty
        }
        #expect(dead.map(\.id) == [pill], "\(dead.map { "\($0.id): \($0.deadReason ?? "")" })")
        third.signal(SIGTERM)
        #expect(await third.wait(timeout: .seconds(10)) == 0)
        // Counted once the third worker is gone (a graceful stop lets a running copy finish): a buffered job recovered
        // into its buffer twice, or run from two buffers, shows up as a second run here.
        let runs = try await h.recorded(key)
        #expect(Set(runs.keys) == Set(members), "\(runs)")
        for member in members {
            let before = ranBefore[member] ?? 0
            let byThird = (runs[member] ?? 0) - before
            // Finished and acknowledged by a killed worker: done, never run again. Otherwise (never fetched, or held
            // when its worker died, run or not: at least once) the third worker runs it exactly once.
            let done = before > 0 && !heldMembers.contains(member)
            #expect(byThird == (done ? 0 : 1),
                    "\(member): \(before) runs by the killed workers (held at the kill: \(heldMembers.contains(member))), then \(byThird) by the third (all runs: \(runs))")
        }
        #expect(try await h.recorded(pillKey).isEmpty, "the pill never finished")
    }
}
