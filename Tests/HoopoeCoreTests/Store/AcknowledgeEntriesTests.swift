import Foundation
import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// How the acknowledge script removes a batch's stream entries (decision 0043): with one `XTRIM MINID` when the whole
/// batch is older than every entry still pending, otherwise with `XDEL` of exactly its ids. Either way the stream
/// keeps every pending and every undelivered entry and no acknowledged one. Each test has its own server, so INFO
/// commandstats counts only its commands.
@Suite struct AcknowledgeEntriesTests {
    private static func acknowledge(_ store: JobStore, _ ids: [String], all: [String]) async throws {
        let acks = ids.map { id in
            Acknowledgement(queue: "default", entryID: id, type: "test.ack", jobID: "j\(all.firstIndex(of: id) ?? -1)", uniqueKey: nil, counter: "processed")
        }
        _ = try await store.acknowledge(acks, queue: "default", counter: "processed", at: Date())
    }

    @Test func aBatchOlderThanEveryPendingEntryIsTrimmedInOneCall() async throws {
        try await AcknowledgeFixture.withOwnServer { store, redis in
            let ids = try await AcknowledgeFixture.stream(store, count: 30, delivered: 20)
            let batch = Array(ids[..<10])
            try await Self.acknowledge(store, Array(batch.reversed()), all: ids)  // finished out of order within the batch
            #expect(try await AcknowledgeFixture.remaining(store) == Array(ids[10...]), "pending 10-19 and undelivered 20-29 stay")
            #expect(try await redis.send("XPENDING", store.keys("default").stream, QueueKeys.group).array?.first?.int == 10)
            #expect(try await AcknowledgeFixture.calls(redis, "xtrim") == 1)
            #expect(try await AcknowledgeFixture.calls(redis, "xdel") == 0)
        }
    }

    @Test func aBatchNewerThanAPendingEntryIsDeletedIdById() async throws {
        try await AcknowledgeFixture.withOwnServer { store, redis in
            let ids = try await AcknowledgeFixture.stream(store, count: 30, delivered: 20)
            try await Self.acknowledge(store, Array(ids[1...10]), all: ids)  // ids[0] (another runner's job) still pending
            #expect(try await AcknowledgeFixture.remaining(store) == [ids[0]] + Array(ids[11...]))
            #expect(try await AcknowledgeFixture.calls(redis, "xtrim") == 0)
            #expect(try await AcknowledgeFixture.calls(redis, "xdel") == 1)
            try await Self.acknowledge(store, [ids[0]] + Array(ids[11...17]), all: ids)  // now the oldest pending is ids[18]
            #expect(try await AcknowledgeFixture.remaining(store) == Array(ids[18...]))
            #expect(try await AcknowledgeFixture.calls(redis, "xtrim") == 1)
            #expect(try await AcknowledgeFixture.calls(redis, "xdel") == 1)
        }
    }

    @Test func theLastPendingBatchIsDeletedIdByIdAndLeavesTheUndelivered() async throws {
        try await AcknowledgeFixture.withOwnServer { store, redis in
            let ids = try await AcknowledgeFixture.stream(store, count: 12, delivered: 8)
            try await Self.acknowledge(store, Array(ids[..<8]), all: ids)  // nothing pending after it: nothing to trim up to
            #expect(try await AcknowledgeFixture.remaining(store) == Array(ids[8...]))
            #expect(try await AcknowledgeFixture.calls(redis, "xdel") == 1)
            #expect(try await AcknowledgeFixture.calls(redis, "xtrim") == 0)
        }
    }

    /// Below ``JobStore/trimBatch`` jobs the entries go by XDEL without asking for the oldest pending entry: a lone
    /// job's settle costs the commands it did.
    @Test func aSmallBatchIsDeletedWithoutLookingAtThePendingEntries() async throws {
        try await AcknowledgeFixture.withOwnServer { store, redis in
            let ids = try await AcknowledgeFixture.stream(store, count: 12, delivered: 10)
            try await Self.acknowledge(store, Array(ids[..<(JobStore.trimBatch - 1)]), all: ids)
            #expect(try await AcknowledgeFixture.remaining(store) == Array(ids[(JobStore.trimBatch - 1)...]))
            #expect(try await AcknowledgeFixture.calls(redis, "xpending") == 0)
            #expect(try await AcknowledgeFixture.calls(redis, "xtrim") == 0)
            #expect(try await AcknowledgeFixture.calls(redis, "xdel") == 1)
        }
    }

    @Test func entryIDsAreOrderedAsNumbers() {
        #expect(precedes("9-0", "10-0"))
        #expect(precedes("1764547199500-9", "1764547199500-10"))
        #expect(precedes("1764547199500-10", "1764547199501-0"))
        #expect(!precedes("1764547199501-0", "1764547199500-10"))
        #expect(!precedes("5-5", "5-5"))
        #expect(!precedes("5-x", "6-0") && !precedes("5", "6-0") && !precedes("", "6-0"))
        #expect(!precedes("-5", "6-0") && !precedes("5-", "6-0") && !precedes("5--1", "6-0"))
        #expect(!precedes("6-0", "-5") && !precedes("6-0", "7-1-1"))
        // Redis's largest ids (two 64-bit numbers) are ordered; a part beyond 64 bits is not an id.
        #expect(precedes("18446744073709551614-18446744073709551615", "18446744073709551615-0"))
        #expect(precedes("18446744073709551615-9", "18446744073709551615-18446744073709551615"))
        #expect(!precedes("1-0", "18446744073709551616-0") && !precedes("18446744073709551616-0", "99999999999999999999-0"))
        // 19 digits are read without overflow checks, 20 and more with them; leading zeros count for nothing.
        #expect(precedes("9999999999999999999-0", "10000000000000000000-0"))
        #expect(precedes("0000000000000000000001-7", "2-0") && precedes("1-6", "0000000000000000000001-7"))
        #expect(!precedes("1-0", "1-99999999999999999999") && !precedes("1-99999999999999999999", "2-0"))
        let acks = ["3-0", "12-1", "12-0", "4-7"].map {
            Acknowledgement(queue: "q", entryID: $0, type: "t", jobID: $0, uniqueKey: nil, counter: "processed")
        }
        #expect(JobStore.newestEntryID(acks) == "12-1")
        #expect(JobStore.newestEntryID([]) == "")
    }
}

/// Whether stream entry id `a` is older than `b` by ``StreamEntryID/order(_:)``: an id it cannot read precedes nothing
/// and follows nothing.
private func precedes(_ a: String, _ b: String) -> Bool {
    guard let x = StreamEntryID.order(a), let y = StreamEntryID.order(b) else { return false }
    return x < y
}
