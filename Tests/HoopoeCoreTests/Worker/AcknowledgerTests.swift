import Foundation
import HoopoeJSON
import Logging
import Redis
import Synchronization
import TestSupport
import Testing

@testable import HoopoeCore

/// When the acknowledger sends a batch (decision 0037): at once for a lone job and a light load, a short linger under
/// load, never a linger at shutdown. Real Redis, real deliveries: each acknowledged job leaves the pending list.
@Suite struct AcknowledgerTests {
    /// The batches sent, in order, and what to do once batch number n (1-based) settled: the flush loop calls
    /// `onSettled` between batches, so an ack added there arrives at a known moment, while the next batch is taken.
    final class Batches: Sendable {
        private let sent = Mutex<[[String]]>([])
        private let after = Mutex<[Int: @Sendable () -> Void]>([:])

        func settled(_ acks: [Acknowledgement]) {
            let number = sent.withLock { sent in
                sent.append(acks.map(\.jobID))
                return sent.count
            }
            after.withLock { $0.removeValue(forKey: number) }?()
        }

        func after(batch number: Int, _ action: @escaping @Sendable () -> Void) {
            after.withLock { $0[number] = action }
        }

        var all: [[String]] { sent.withLock { $0 } }
    }

    /// An acknowledger's setting: its own batches, `busy` other runners, the given linger and target.
    final class Setting: Sendable {
        let space: TestNamespace
        let batches = Batches()
        let acknowledger: Acknowledger

        init(busy: Int, linger: Duration = .seconds(60), target: Int = 64, _ name: String = #function) throws {
            space = try TestNamespace(name)
            let batches = batches
            acknowledger = Acknowledger(
                jobs: space.jobs, logger: Logger(label: "test"), linger: linger, target: target, busy: { busy },
                onSettled: { batches.settled($0) })
        }

        /// `count` jobs enqueued and delivered to one consumer, as acknowledgements to make.
        func delivered(_ count: Int) async throws -> [Acknowledgement] {
            let store = space.jobs.store
            try await store.createGroups(queues: ["default"])
            for index in 0..<count {
                _ = try await space.jobs.enqueue(type: "diag.record", payload: .object(["member": .string("j\(index)")]))
            }
            let reply = try await space.redis.send(
                "XREADGROUP", "GROUP", QueueKeys.group, "c1", "COUNT", String(count), "STREAMS", store.keys("default").stream, ">")
            let entries = reply.array?.first?.array?.last?.array ?? []
            let ids = entries.compactMap { $0.array?.first?.string }
            try #require(ids.count == count)
            return ids.enumerated().map { index, id in
                Acknowledgement(queue: "default", entryID: id, type: "diag.record", jobID: "j\(index)", uniqueKey: nil, counter: "processed")
            }
        }

        /// Deliveries not acknowledged yet.
        func unacknowledged() async throws -> Int {
            let reply = try await space.redis.send("XPENDING", space.jobs.store.keys("default").stream, QueueKeys.group)
            return reply.array?.first?.int ?? -1
        }

        /// Waits until `count` batches were sent (or 10 s passed).
        func waitForBatches(_ count: Int) async throws -> Bool {
            try await eventually(timeout: .seconds(10)) { batches.all.count >= count }
        }
    }

    /// A lone job is acknowledged at once, even with other runners mid-job: nothing was sent just before it (an idle
    /// worker, or a light load of long jobs), so there is nothing to wait for.
    @Test func aLoneJobIsSentAtOnce() async throws {
        let setting = try Setting(busy: 19)
        let acks = try await setting.delivered(1)
        setting.acknowledger.add(acks[0])
        #expect(!setting.acknowledger.isLingering && setting.acknowledger.pendingCount == 0, "taken into a batch on the spot")
        #expect(try await setting.waitForBatches(1))
        await setting.acknowledger.drain()
        #expect(setting.batches.all == [["j0"]])
        #expect(try await setting.unacknowledged() == 0)
    }

    /// After a batch of several, the next one lingers while other runners are mid-job; the job whose ack brings the
    /// pending ones to the target sends them (the linger here is a minute: only the target can end it in time).
    @Test func underLoadASmallBatchWaitsForTheTarget() async throws {
        let setting = try Setting(busy: 10, target: 4)
        let acks = try await setting.delivered(7)
        let acknowledger = setting.acknowledger
        // j0 goes alone; j1 and j2 finish while it is in flight and go as the second batch, after which j3 is pending.
        setting.batches.after(batch: 1) {
            acknowledger.add(acks[1])
            acknowledger.add(acks[2])
        }
        setting.batches.after(batch: 2) { acknowledger.add(acks[3]) }
        acknowledger.add(acks[0])
        #expect(try await eventually { acknowledger.isLingering })
        #expect(setting.batches.all == [["j0"], ["j1", "j2"]], "the batch of two was sent, j3 lingers")
        acknowledger.add(acks[4])
        acknowledger.add(acks[5])
        #expect(acknowledger.isLingering && acknowledger.pendingCount == 3)
        acknowledger.add(acks[6])  // the fourth pending: the target
        #expect(!acknowledger.isLingering)
        #expect(try await setting.waitForBatches(3))
        #expect(setting.batches.all.last == ["j3", "j4", "j5", "j6"])
        await acknowledger.drain()
        #expect(try await setting.unacknowledged() == 0)
    }

    /// With no other runner mid-job, nothing is expected to join: the ack after a batch of several is sent at once.
    @Test func noLingerWhenNoOtherJobRuns() async throws {
        let setting = try Setting(busy: 1)
        let acks = try await setting.delivered(4)
        let acknowledger = setting.acknowledger
        setting.batches.after(batch: 1) {
            acknowledger.add(acks[1])
            acknowledger.add(acks[2])
        }
        setting.batches.after(batch: 2) { acknowledger.add(acks[3]) }
        acknowledger.add(acks[0])
        #expect(try await setting.waitForBatches(3))
        #expect(setting.batches.all == [["j0"], ["j1", "j2"], ["j3"]])
        await acknowledger.drain()
        #expect(try await setting.unacknowledged() == 0)
    }

    /// A linger no finishing job ends is ended by its timer: the ack is not left pending.
    @Test func aLingerEndsAtItsTimeWhenNoJobFinishes() async throws {
        let setting = try Setting(busy: 10, linger: .milliseconds(20))
        let acks = try await setting.delivered(4)
        let acknowledger = setting.acknowledger
        setting.batches.after(batch: 1) {
            acknowledger.add(acks[1])
            acknowledger.add(acks[2])
        }
        setting.batches.after(batch: 2) { acknowledger.add(acks[3]) }
        acknowledger.add(acks[0])
        #expect(try await setting.waitForBatches(3), "sent by the linger's timer")
        #expect(setting.batches.all.last == ["j3"])
        #expect(!acknowledger.isLingering)
        #expect(try await eventually { try await setting.unacknowledged() == 0 })
    }

    /// Shutdown's drain does not wait out a linger: it sends the lingering acks at once (the linger is a minute).
    @Test func drainSendsLingeringAcksAtOnce() async throws {
        let setting = try Setting(busy: 10)
        let acks = try await setting.delivered(4)
        let acknowledger = setting.acknowledger
        setting.batches.after(batch: 1) {
            acknowledger.add(acks[1])
            acknowledger.add(acks[2])
        }
        setting.batches.after(batch: 2) { acknowledger.add(acks[3]) }
        acknowledger.add(acks[0])
        #expect(try await eventually { acknowledger.isLingering })
        let drained = Task { await acknowledger.drain() }
        let done = try await eventually(timeout: .seconds(10)) { setting.batches.all.count == 3 }
        #expect(done, "the lingering ack was sent by the drain, not after its minute")
        await drained.value
        #expect(setting.batches.all.last == ["j3"])
        #expect(try await setting.unacknowledged() == 0)
    }
}
