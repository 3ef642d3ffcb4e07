import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The acknowledgement with its history records written just before its script (decision 0062): a job that finishes
/// again is listed once with its latest record, a record whose acknowledgement never ran is listed when its job is
/// acknowledged, refused records do not undo the acknowledgement, and unique locks go only from the job that holds
/// them. (How the stream entries go: AcknowledgeEntriesTests.) Each test has its own server.
@Suite struct JobStoreAcknowledgeTests {
    /// Acknowledges `ids` (entry ids of `all`, job id `j<index>`), with a history record each (`note` as its
    /// error), and runs the upkeep the settle asks for, as the acknowledger does; returns that upkeep.
    @discardableResult
    private static func acknowledge(
        _ store: JobStore, _ ids: [String], all: [String], note: String? = nil, unique: String? = nil, cap: Int = 100
    ) async throws -> JobStore.HistoryUpkeep? {
        let acks = ids.map { id in
            let jobID = "j\(all.firstIndex(of: id) ?? -1)"
            let record = HistoryRecord(
                id: jobID, type: "test.ack", queue: "default", outcome: .processed, attempt: 1, finishedAt: Date().timeIntervalSince1970, error: note)
            return Acknowledgement(
                queue: "default", entryID: id, type: "test.ack", jobID: jobID, uniqueKey: unique, counter: "processed",
                history: (record.encoded(), JobStore.HistoryLimits(maxJobs: cap, maxAgeSeconds: 3600)))
        }
        let upkeep = try await store.acknowledge(acks, queue: "default", counter: "processed", at: Date())
        if let upkeep { try await store.keepHistory(upkeep) }
        return upkeep
    }

    /// A job acknowledged again (run twice: its first acknowledgement reached Redis, but its worker lost the reply) is
    /// listed once, newest first, with its latest record; an older release's legacy entry of it goes too. A batch in
    /// which every id is new asks for no upkeep.
    @Test func aJobAcknowledgedAgainIsListedOnceWithItsLatestRecord() async throws {
        try await AcknowledgeFixture.withOwnServer { store, redis in
            let ids = try await AcknowledgeFixture.stream(store, count: 6, delivered: 6)
            try await Self.acknowledge(store, Array(ids[0...2]), all: ids, note: "first")
            let k = store.keys("default")
            try await redis.send("ZADD", k.legacyHistory, "1", "j4")  // an older release's entry (decision 0033)
            try await redis.send("HSET", k.historyJobs, "j4", "legacy")
            let quiet = try await Self.acknowledge(store, [ids[5]], all: ids)
            #expect(quiet == nil || quiet?.refinished == 0)
            let upkeep = try await Self.acknowledge(store, [ids[3], ids[1], ids[4]], all: ids, note: "second")
            #expect(upkeep?.refinished == 2, "j1 and j4 were there")
            let listed = (try await redis.send("LRANGE", k.historyIDs, "0", "-1").array ?? []).compactMap(\.string)
            #expect(listed == ["j4", "j1", "j3", "j5", "j2", "j0"], "\(listed)")
            #expect(try await store.historyRecord(id: "j1", queue: "default")?.error == "second")
            #expect(try await redis.send("EXISTS", k.legacyHistory).int == 0)
        }
    }

    /// The count trim in the acknowledge script reaches, among the oldest entries, the older entry of a job of the
    /// batch itself: that entry goes, the job's new record stays, and the job is listed once, newest first.
    @Test func theCountTrimSparesTheRecordOfAJobOfItsOwnBatch() async throws {
        try await AcknowledgeFixture.withOwnServer { store, redis in
            let ids = try await AcknowledgeFixture.stream(store, count: 8, delivered: 8)
            let k = store.keys("default")
            try await Self.acknowledge(store, Array(ids[0...4]), all: ids, note: "first", cap: 5)  // j4 ... j0, j0 oldest
            let upkeep = try await Self.acknowledge(store, [ids[0], ids[5]], all: ids, note: "again", cap: 5)
            #expect(upkeep?.refinished == 1)
            #expect(try await redis.send("LRANGE", k.historyIDs, "0", "-1").array?.compactMap(\.string) == ["j5", "j0", "j4", "j3", "j2"])
            #expect(try await store.historyRecord(id: "j0", queue: "default")?.error == "again")
            #expect(try await store.historyRecord(id: "j1", queue: "default") == nil)
            #expect(try await redis.send("HLEN", k.historyJobs).int == 5)
        }
    }

    /// A unique lock goes with the job that holds it, and stays when another job holds it now.
    @Test func aUniqueLockIsReleasedOnlyByTheJobThatHoldsIt() async throws {
        try await AcknowledgeFixture.withOwnServer { store, redis in
            let ids = try await AcknowledgeFixture.stream(store, count: 2, delivered: 2)
            let k = store.keys("default")
            try await redis.send("SET", k.unique("mine"), "j0")
            try await Self.acknowledge(store, [ids[0]], all: ids, unique: "mine")
            #expect(try await redis.send("EXISTS", k.unique("mine")).int == 0)
            try await redis.send("SET", k.unique("theirs"), "someone-else")
            try await Self.acknowledge(store, [ids[1]], all: ids, unique: "theirs")
            #expect(try await redis.send("GET", k.unique("theirs")).string == "someone-else")
            #expect(try await AcknowledgeFixture.remaining(store).isEmpty)
        }
    }

    /// A record written whose script never ran (the connection lost between the two) waits unlisted; the job runs
    /// again, and its acknowledgement lists it once, with the new record.
    @Test func aRecordWhoseAcknowledgementWasLostIsListedWhenTheJobIsAcknowledged() async throws {
        try await AcknowledgeFixture.withOwnServer { store, redis in
            let ids = try await AcknowledgeFixture.stream(store, count: 2, delivered: 2)
            let k = store.keys("default")
            try await redis.send("HSET", k.historyJobs, "j0", "from the lost settle")
            #expect(try await store.historyRecords(queue: "default", offset: 0, limit: 10).isEmpty, "not listed: not acknowledged")
            let upkeep = try await Self.acknowledge(store, ids, all: ids, note: "again")
            #expect(upkeep?.refinished == 1)
            #expect(try await redis.send("LRANGE", k.historyIDs, "0", "-1").array?.compactMap(\.string) == ["j1", "j0"])
            #expect(try await store.historyRecord(id: "j0", queue: "default")?.error == "again")
            #expect(try await AcknowledgeFixture.remaining(store).isEmpty)
        }
    }

    /// A job's unique key and answer key of another type (`WRONGTYPE`, written by something else) are passed over:
    /// the rest of the batch still gets its answers, its unique locks released, its history listed and its counts.
    @Test func aForeignUniqueOrAnswerKeyDoesNotCostTheRestOfTheBatch() async throws {
        try await AcknowledgeFixture.withOwnServer { store, redis in
            let ids = try await AcknowledgeFixture.stream(store, count: 3, delivered: 3)
            let k = store.keys("default")
            try await redis.send("HSET", k.unique("u0"), "not", "a string")
            try await redis.send("SET", k.answer("j1"), "not a list")
            try await redis.send("SET", k.unique("u2"), "j2")
            let acks = ids.enumerated().map { index, id in
                let jobID = "j\(index)"
                let record = HistoryRecord(
                    id: jobID, type: "test.ack", queue: "default", outcome: .processed, attempt: 1, finishedAt: Date().timeIntervalSince1970)
                return Acknowledgement(
                    queue: "default", entryID: id, type: "test.ack", jobID: jobID, uniqueKey: "u\(index)", counter: "processed",
                    answer: #"{"outcome":"processed"}"#, history: (record.encoded(), JobStore.HistoryLimits(maxJobs: 100, maxAgeSeconds: 3600)))
            }
            _ = try await store.acknowledge(acks, queue: "default", counter: "processed", at: Date())
            #expect(try await AcknowledgeFixture.remaining(store).isEmpty)
            #expect(try await redis.send("LRANGE", k.answer("j0"), "0", "-1").array?.count == 1)
            #expect(try await redis.send("LRANGE", k.answer("j2"), "0", "-1").array?.count == 1, "answered after the foreign key")
            #expect(try await redis.send("GET", k.answer("j1")).string == "not a list", "left as it was")
            #expect(try await redis.send("EXISTS", k.unique("u2")).int == 0, "released after the foreign key")
            #expect(try await redis.send("LRANGE", k.historyIDs, "0", "-1").array?.count == 3)
            #expect(try await store.counters(queue: "default", day: Date())["processed"] == 3)
        }
    }

    /// Records refused (here `WRONGTYPE`: the records key is not a hash) do not undo the acknowledgement: the entries
    /// are gone and counted, and the error says only history is missing.
    @Test func refusedRecordsLeaveTheJobsAcknowledged() async throws {
        try await AcknowledgeFixture.withOwnServer { store, redis in
            let ids = try await AcknowledgeFixture.stream(store, count: 3, delivered: 3)
            let k = store.keys("default")
            try await redis.send("SET", k.historyJobs, "not a hash")
            await #expect(throws: JobStore.HistoryRecordsNotWritten.self) { try await Self.acknowledge(store, ids, all: ids) }
            #expect(try await AcknowledgeFixture.remaining(store).isEmpty)
            #expect(try await redis.send("XPENDING", k.stream, QueueKeys.group).array?.first?.int == 0)
            #expect(try await store.counters(queue: "default", day: Date())["processed"] == 3)
        }
    }
}
