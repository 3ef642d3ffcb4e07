import Foundation
import HoopoeJSON
import Logging
import Redis
import Synchronization
import TestSupport
import Testing

@testable import HoopoeCore

/// When the acknowledger sends a batch (group commit, no timer; decision 0037): a lone job at once, the jobs finishing
/// while a batch is in flight together in the next, and shutdown's drain waits for both (on a cluster:
/// `AcknowledgerClusterTests`). Real Redis, real deliveries: each acknowledged job leaves the pending list.
@Suite struct AcknowledgerTests {
    /// The batches sent, in order.
    final class Batches: Sendable {
        private let sent = Mutex<[[String]]>([])

        func settled(_ acks: [Acknowledgement]) {
            sent.withLock { $0.append(acks.map(\.jobID)) }
        }

        var all: [[String]] { sent.withLock { $0 } }
    }

    /// An acknowledger and the batches it sent.
    final class Setting: Sendable {
        let space: TestNamespace
        let batches = Batches()
        let acknowledger: Acknowledger

        /// - Parameters:
        ///   - url: a private server instead of the shared test Redis.
        ///   - logger: where the acknowledger's lines go.
        ///   - unsentRetry: how long a call Redis did not run is tried again.
        ///   - consumer: the acknowledger's consumer (``delivered(_:queue:)`` delivers to `c1`): a call tried again keeps
        ///     only the entries still pending to it.
        init(
            _ name: String = #function, url: String? = nil, logger: Logger = Logger(label: "test"), unsentRetry: Duration = .seconds(30),
            consumer: String = ""
        ) throws {
            space = try url.map { try TestNamespace(name, url: $0) } ?? TestNamespace(name)
            let batches = batches
            acknowledger = Acknowledger(
                jobs: space.jobs, logger: logger, consumer: consumer, unsentRetry: unsentRetry, onSettled: { batches.settled($0) })
        }

        /// `count` jobs enqueued on `queue` and delivered to one consumer, as acknowledgements to make; job ids
        /// `j0`, `j1`... (`<queue>-0`... for another queue than `default`).
        func delivered(_ count: Int, queue: String = "default") async throws -> [Acknowledgement] {
            let store = space.jobs.store
            try await store.createGroups(queues: [queue])
            for index in 0..<count {
                _ = try await space.jobs.enqueue(
                    type: "diag.record", payload: .object(["member": .string("j\(index)")]), options: EnqueueOptions(queue: queue))
            }
            let reply = try await space.redis.send(
                "XREADGROUP", "GROUP", QueueKeys.group, "c1", "COUNT", String(count), "STREAMS", store.keys(queue).stream, ">")
            let entries = reply.array?.first?.array?.last?.array ?? []
            let ids = entries.compactMap { $0.array?.first?.string }
            try #require(ids.count == count)
            return ids.enumerated().map { index, id in
                let jobID = queue == "default" ? "j\(index)" : "\(queue)-\(index)"
                return Acknowledgement(queue: queue, entryID: id, type: "diag.record", jobID: jobID, uniqueKey: nil, counter: "processed")
            }
        }

        /// One queue a flight (decisions 0048, 0094), on `queues`' server(s): two jobs delivered on each, the first
        /// queue's first acknowledged while `control`'s server (the first queue's) holds writes, the other five added
        /// meanwhile; once it lets them through, they leave one queue a flight, oldest first, and every queue's jobs end
        /// acknowledged.
        func expectOneQueueAFlight(queues: [String], pausing control: RedisClient) async throws {
            var acks: [[Acknowledgement]] = []
            for queue in queues { acks.append(try await delivered(2, queue: queue)) }
            let (a, b, c) = (acks[0], acks[1], acks[2])
            try await control.send("CLIENT", "PAUSE", "10000", "WRITE")  // the first flight's EVALSHA waits there
            acknowledger.add(a[0])
            #expect(acknowledger.pendingCount == 0, "a lone job leaves at once")
            for ack in [b[0], c[0], a[1], b[1], c[1]] { acknowledger.add(ack) }
            try await Task.sleep(for: .milliseconds(200))
            #expect(acknowledger.pendingCount == 5 && batches.all.isEmpty, "a's first flight held by the pause")
            try await control.send("CLIENT", "UNPAUSE")
            await acknowledger.drain()
            let ids = { (acks: [Acknowledgement]) in acks.map(\.jobID) }
            #expect(batches.all == [ids([a[0]]), ids([b[0], b[1]]), ids([c[0], c[1]]), ids([a[1]])])
            for queue in queues {
                #expect(try await unacknowledged(queue: queue) == 0, "queue \(queue)")
            }
        }

        /// Deliveries of `queue` not acknowledged yet.
        func unacknowledged(queue: String = "default") async throws -> Int {
            let reply = try await space.redis.send("XPENDING", space.jobs.store.keys(queue).stream, QueueKeys.group)
            return reply.array?.first?.int ?? -1
        }

        /// Waits until `count` batches were sent (or 10 s passed).
        func waitForBatches(_ count: Int) async throws -> Bool {
            try await eventually(timeout: .seconds(10)) { batches.all.count >= count }
        }
    }

    /// Jobs that finish while a flight is out ride in the next, however many: 10,000 of them here, one batch. The
    /// acknowledge script spreads a call's ids with Lua's `unpack`, refused past about 8,000 values before any write:
    /// such a batch (one piled up while a flight hung on a frozen cluster node) was refused whole, and every job in it
    /// ran again. It goes in calls of ``JobStore/acknowledgementsACall``.
    @Test func aBatchOfTenThousandIsAcknowledged() async throws {
        let server = try RedisServer()
        let setting = try Setting(url: server.url)
        let acks = try await setting.delivered(10_001)
        // The first starts a flight, which hangs on the frozen server; the other 10,000 pile up behind it.
        server.freeze()
        for ack in acks { setting.acknowledger.add(ack) }
        server.thaw()
        await setting.acknowledger.drain()
        #expect(setting.batches.all.map(\.count).max() == 10_000, "\(setting.batches.all.map(\.count))")
        #expect(try await setting.unacknowledged() == 0)
        let entries = try await setting.space.redis.send("XLEN", setting.space.jobs.store.keys("default").stream)
        #expect(entries.int == 0)
    }

    /// A Redis that refuses writes without enough replicas (`min-replicas-to-write`, as deploy/sentinel/redis.conf sets)
    /// refuses the acknowledgement script at its first write, naming the script's line: nothing was acknowledged, so it
    /// is tried again (decision 0098, amended in session 61), and once given up the log says they run again, not that
    /// they are "most likely acknowledged" (which a refusal midway means).
    @Test func anAcknowledgementRefusedBeforeItsFirstWriteIsLoggedAsNotAcknowledged() async throws {
        let server = try RedisServer()
        defer { withExtendedLifetime(server) {} }
        let control = try RedisClient(url: server.url)
        defer { control.close() }
        let log = CapturedLog()
        let setting = try Setting(url: server.url, logger: log.logger, unsentRetry: .seconds(1), consumer: "c1")
        let acks = try await setting.delivered(2)
        try await control.send("CONFIG", "SET", "min-replicas-to-write", "1")
        setting.acknowledger.add(acks[0])
        setting.acknowledger.add(acks[1])
        await setting.acknowledger.drain()
        #expect(try await setting.unacknowledged() == 2)
        #expect(log.all.contains { $0.hasPrefix("warning") && $0.contains("acknowledging") }, "tried again: \(log.all)")
        let lines = log.all.filter { $0.hasPrefix("error") && $0.contains("acknowledg") }
        #expect(lines.count >= 1 && lines.allSatisfy { $0.contains("they will run again after their lease") }, "\(log.all)")
        #expect(!log.all.contains { $0.contains("most likely acknowledged") }, "\(log.all)")
    }

    /// Acknowledgements are counted at the worker's clock (Redis's as it knows it: ``ClockLead``), as its burials and
    /// retries are: counted at the host's, a worker minutes ahead put its successes in other minutes (near midnight,
    /// another day) than its deaths.
    @Test func acknowledgementsAreCountedAtTheClockGiven() async throws {
        let space = try TestNamespace(#function)
        let day = Date(timeIntervalSince1970: 1_924_925_400)  // 2030-12-31, a day no other run writes
        let acknowledger = Acknowledger(jobs: space.jobs, logger: Logger(label: "test"), clock: { _ in day }, onSettled: { _ in })
        try await space.jobs.store.createGroups(queues: ["default"])
        try await space.jobs.enqueue(type: "diag.record", payload: .object(["member": "m"]), options: EnqueueOptions(id: "j0"))
        let reply = try await space.redis.send("XREADGROUP", "GROUP", QueueKeys.group, "c1", "COUNT", "1", "STREAMS", space.jobs.store.keys("default").stream, ">")
        let entry = try #require(reply.array?.first?.array?.last?.array?.first?.array?.first?.string)
        acknowledger.add(Acknowledgement(queue: "default", entryID: entry, type: "diag.record", jobID: "j0", uniqueKey: nil, counter: "processed"))
        await acknowledger.drain()
        #expect(try await space.jobs.counters(queue: "default", day: day)["processed"] == 1)
        #expect(try await space.jobs.counters(queue: "default", day: Date())["processed"] == nil)
    }

    /// A lone job is acknowledged at once: taken into a batch on the spot, nothing waits for company.
    @Test func aLoneJobIsSentAtOnce() async throws {
        let setting = try Setting()
        let acks = try await setting.delivered(1)
        setting.acknowledger.add(acks[0])
        #expect(setting.acknowledger.pendingCount == 0, "taken into a batch on the spot")
        #expect(try await setting.waitForBatches(1))
        await setting.acknowledger.drain()
        #expect(setting.batches.all == [["j0"]])
        #expect(try await setting.unacknowledged() == 0)
    }

    /// Jobs finishing while a batch is in flight wait for it and then leave together, in one batch; the next job
    /// after that, with nothing in flight, leaves at once, alone.
    @Test func jobsFinishingDuringAFlightRideTogetherInTheNext() async throws {
        // A private server whose scripts are paused while j1–j3 come: j0's batch is in flight for as long as the test
        // says, not for a round trip a loaded test pool may outlast between two adds.
        let server = try RedisServer()
        defer { withExtendedLifetime(server) {} }
        let control = try RedisClient(url: server.url)
        defer { control.close() }
        let setting = try Setting(url: server.url)
        let acks = try await setting.delivered(5)
        let acknowledger = setting.acknowledger
        try await control.send("CLIENT", "PAUSE", "10000", "WRITE")  // EVALSHA waits; CLIENT UNPAUSE does not
        acknowledger.add(acks[0])
        acknowledger.add(acks[1])
        acknowledger.add(acks[2])
        acknowledger.add(acks[3])
        #expect(acknowledger.pendingCount == 3, "j0 is in flight, the others wait for it")
        try await Task.sleep(for: .milliseconds(200))
        #expect(acknowledger.pendingCount == 3 && setting.batches.all.isEmpty, "j0 held in flight by the pause")
        try await control.send("CLIENT", "UNPAUSE")
        await acknowledger.drain()
        let first = setting.batches.all
        #expect(first == [["j0"], ["j1", "j2", "j3"]])
        acknowledger.add(acks[4])
        #expect(acknowledger.pendingCount == 0)
        await acknowledger.drain()
        #expect(setting.batches.all == first + [["j4"]])
        #expect(try await setting.unacknowledged() == 0)
    }

    /// On one Redis too a flight carries one queue's acknowledgements, those of the queue that waited longest, so each
    /// script call carries more of one queue's jobs (decision 0094): the five that wait behind `a-0`'s flight leave in
    /// three flights, one a queue, oldest first, not in one flight of three script calls (`[[a-0], [b-0, c-0, a-1, b-1,
    /// c-1]]` before). Every queue's jobs end acknowledged.
    @Test func aFlightCarriesOneQueue() async throws {
        let server = try RedisServer()  // private: its writes are paused while the five come
        defer { withExtendedLifetime(server) {} }
        let control = try RedisClient(url: server.url)
        defer { control.close() }
        try await Setting(url: server.url).expectOneQueueAFlight(queues: ["a", "b", "c"], pausing: control)
    }

    /// Shutdown's drain returns only once the batch in flight and the jobs waiting for it were sent.
    @Test func drainWaitsForTheBatchInFlightAndTheOnesWaiting() async throws {
        let setting = try Setting()
        let acks = try await setting.delivered(3)
        let acknowledger = setting.acknowledger
        acknowledger.add(acks[0])
        acknowledger.add(acks[1])
        acknowledger.add(acks[2])
        await acknowledger.drain()
        #expect(setting.batches.all.joined().sorted() == ["j0", "j1", "j2"], "all sent before drain returned")
        #expect(try await setting.unacknowledged() == 0)
    }
}
