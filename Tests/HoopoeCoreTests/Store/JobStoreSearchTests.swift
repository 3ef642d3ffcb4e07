import Foundation
import HoopoeJSON
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The dashboard's reads of stored jobs are bounded by bytes as well as by count: a plain `XADD` may write envelopes
/// of 512 KiB, and a page that reads a thousand of them by count alone pulls half a gigabyte through the dashboard.
@Suite struct JobStoreSearchTests {
    /// An envelope of about `kilobytes` KiB.
    static func envelope(_ id: String, kilobytes: Int) -> [UInt8] {
        JobEnvelope(id: id, type: "test.large", payload: ["blob": .string(String(repeating: "x", count: kilobytes * 1024))]).encoded()
    }

    /// `name args…` with `bytes` as its last argument.
    static func command(_ name: String, _ arguments: [String], bytes: [UInt8]) -> RedisCommand {
        var command = RedisCommand(name, arguments)
        command.append(bytes: bytes)
        return command
    }

    /// The texts of a hash, in order, as far as the budget reaches: at least the first, however large.
    @Test func boundedTextsStopAtTheBudget() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        let ids = (0..<5).map { "b-\($0)" }
        for id in ids { try await h.redis.send(Self.command("HSET", [k.deadJobs, id], bytes: Self.envelope(id, kilobytes: 100))) }
        let size = Self.envelope("b-0", kilobytes: 100).count
        #expect(try await h.jobs.store.boundedTexts(k.deadJobs, ids, budget: 2 * size + size / 2).count == 2)
        #expect(try await h.jobs.store.boundedTexts(k.deadJobs, ids, budget: 10).count == 1, "at least one")
        #expect(try await h.jobs.store.boundedTexts(k.deadJobs, ids + ["missing"], budget: .max).count == 6)
        let dead = try await h.jobs.store.deadEntries(queue: "default", offset: 0, limit: 5, byteBudget: 3 * size)
        #expect(dead.isEmpty, "not in the dead set's index")
    }

    /// A search over large envelopes stops each place at its share of the budget and says so; small ones are read
    /// whole, and say nothing.
    @Test func aSearchOverLargeEnvelopesStopsAtItsBudgetAndSaysSo() async throws {
        let h = try EngineHarness()
        let k = h.jobs.keys("default")
        for n in 0..<120 {
            try await h.redis.send(Self.command("XADD", [k.stream, "*", "job"], bytes: Self.envelope("s-\(n)", kilobytes: 20)))
        }
        for n in 0..<10 {
            let id = "d-\(n)"
            try await h.redis.send(Self.command("HSET", [k.deadJobs, id], bytes: Self.envelope(id, kilobytes: 30)))
            try await h.redis.send("ZADD", k.dead, String(1_700_000_000 + n), id)
        }
        let share = 100 * 1024
        let read = try await h.jobs.store.recentJobs(queue: "default", limit: 1000, byteBudget: 4 * share)
        #expect(read.cut)
        let stream = read.jobs.filter { $0.place == .stream }
        #expect(stream.count == JobStore.searchStreamSlice, "one slice of 50, past the budget, then no more")
        #expect(stream.first?.envelope.id == "s-119", "newest first")
        #expect(read.jobs.filter { $0.place == .dead }.map(\.envelope.id) == ["d-9", "d-8", "d-7"], "newest first, 90 KiB of 100")

        let whole = try await h.jobs.store.recentJobs(queue: "default", limit: 1000)
        #expect(!whole.cut)
        #expect(whole.jobs.filter { $0.place == .stream }.count == 120 && whole.jobs.filter { $0.place == .dead }.count == 10)
        let byID = try await h.jobs.store.recentJob(id: "s-3", queue: "default", limit: 1000)
        #expect(byID.map(\.envelope.id) == ["s-3"])
    }
}
