@testable import HoopoeCore
import Testing

/// The buffer between the fetcher and the runners: each queue's jobs in the order fetched, queues by the selection's
/// rule, a paused queue's jobs withdrawn and refused, whatever waits returned on close.
@Suite struct JobBufferTests {
    private func jobs(_ queue: String, _ ids: ClosedRange<Int>) -> [FetchedJob] {
        ids.map { FetchedJob(queue: queue, entryID: "\($0)-0", bytes: [], deliveries: 1) }
    }

    private func takeAll(_ buffer: JobBuffer, _ count: Int) async -> [String] {
        var taken: [String] = []
        for _ in 0..<count {
            guard let job = await buffer.take() else { break }
            taken.append("\(job.queue):\(job.entryID)")
        }
        return taken
    }

    @Test func strictOrderTakesTheFirstQueueDryBeforeTheNextEachInFetchOrder() async {
        let buffer = JobBuffer(selection: QueueSelection(["high", "low"], strict: true))
        // One fetch with both queues' jobs, the low one first: the order of the queues is the selection's, not the fetch's.
        #expect(buffer.put(jobs("low", 1...2) + jobs("high", 3...5)).isEmpty)
        #expect(buffer.count == 5)
        #expect(await takeAll(buffer, 3) == ["high:3-0", "high:4-0", "high:5-0"])
        #expect(buffer.put(jobs("high", 6...6)).isEmpty)
        #expect(await takeAll(buffer, 3) == ["high:6-0", "low:1-0", "low:2-0"])
        #expect(buffer.count == 0)
        // A queue emptied and filled again keeps its order.
        #expect(buffer.put(jobs("low", 7...8)).isEmpty)
        #expect(await takeAll(buffer, 2) == ["low:7-0", "low:8-0"])
    }

    /// A cancel takes a waiting job out (decision 0089): never taken after, the others in their order; a job taken
    /// already, or of a queue with nothing here, is not found; a lane emptied this way fills again in order.
    @Test func aWithdrawnJobIsNeverTaken() async {
        let buffer = JobBuffer(selection: QueueSelection(["a", "b"], strict: true))
        #expect(buffer.put(jobs("a", 1...3) + jobs("b", 4...4)).isEmpty)
        #expect(await takeAll(buffer, 1) == ["a:1-0"])
        #expect(buffer.withdraw(queue: "a", entryID: "1-0") == nil, "taken already")
        #expect(buffer.withdraw(queue: "c", entryID: "2-0") == nil)
        #expect(buffer.withdraw(queue: "a", entryID: "2-0")?.entryID == "2-0")
        #expect(buffer.count == 2)
        #expect(buffer.withdraw(queue: "b", entryID: "4-0")?.entryID == "4-0")
        #expect(buffer.put(jobs("b", 5...6)).isEmpty)
        // A second copy of an entry (recovery claimed it again) goes with the first.
        #expect(buffer.put(jobs("b", 7...7) + jobs("b", 5...5)).isEmpty)
        #expect(buffer.withdraw(queue: "b", entryID: "5-0")?.entryID == "5-0")
        #expect(buffer.count == 3)
        #expect(await takeAll(buffer, 3) == ["a:3-0", "b:6-0", "b:7-0"])
        #expect(buffer.count == 0)
    }

    /// A lease renewal withdraws the ids it found settled or taken in one call: several at once, every copy, the others
    /// kept in order; ids not waiting here (taken, absent, another queue's), an empty set and a queue with no lane
    /// withdraw nothing; a fetcher waiting for room is woken when jobs went.
    @Test func manyIdsAreWithdrawnAtOnce() async {
        let buffer = JobBuffer(selection: QueueSelection(["a", "b"], strict: true))
        #expect(buffer.put(jobs("a", 1...6) + jobs("b", 7...8) + jobs("a", 3...3)).isEmpty)
        #expect(await takeAll(buffer, 1) == ["a:1-0"])
        #expect(buffer.withdraw(queue: "a", entryIDs: []) == [])
        #expect(buffer.withdraw(queue: "c", entryIDs: ["2-0"]) == [])
        #expect(buffer.withdraw(queue: "a", entryIDs: ["1-0", "7-0", "99-0"]) == [], "taken, another queue's, absent")
        #expect(buffer.count == 8)
        let room = Task { await buffer.waitForRoom(below: 6) }
        #expect(buffer.withdraw(queue: "a", entryIDs: ["1-0", "3-0", "5-0", "99-0"]) == ["3-0", "5-0"])
        #expect(buffer.count == 5, "both copies of 3-0 went")
        await room.value
        #expect(await takeAll(buffer, 5) == ["a:2-0", "a:4-0", "a:6-0", "b:7-0", "b:8-0"])
        #expect(buffer.withdraw(queue: "a", entryIDs: ["2-0"]) == [], "an emptied lane")
        #expect(buffer.put(jobs("a", 9...10)).isEmpty)
        #expect(buffer.withdraw(queue: "a", entryIDs: ["9-0", "10-0"]) == ["9-0", "10-0"])
        #expect(buffer.count == 0)
    }

    /// While several queues have jobs waiting, each take is a weighted draw (from the buffer's own generator, not the
    /// system's): over 4,000 takes from two full queues weighted 3:1, about 3,000 and 1,000.
    @Test func weightedQueuesWithJobsWaitingAreTakenByWeight() async throws {
        let buffer = JobBuffer(selection: try QueueSelection(parsing: "heavy:3,light:1"))
        #expect(buffer.put(jobs("heavy", 1...4_000) + jobs("light", 1...4_000)).isEmpty)
        let taken = await takeAll(buffer, 4_000)
        let heavy = taken.filter { $0.hasPrefix("heavy:") }.count
        // Binomial, n 4,000, p 3/4: standard deviation ~27.
        #expect((2_850...3_150).contains(heavy), "heavy \(heavy) of \(taken.count)")
    }

    @Test func aPausedQueueIsWithdrawnAndRefusedAndCloseReturnsTheRest() async {
        let buffer = JobBuffer(selection: QueueSelection(["a", "b"]))
        #expect(buffer.put(jobs("a", 1...3) + jobs("b", 4...5)).isEmpty)
        let change = buffer.setPaused(["b"])
        #expect(change.withdrawn.map(\.entryID) == ["4-0", "5-0"])
        #expect(change.paused == ["b"])
        #expect(buffer.count == 3)
        let refused = buffer.put(jobs("b", 6...6) + jobs("a", 7...7))
        #expect(refused.map(\.entryID) == ["6-0"], "the paused queue's job is refused, the other queue's kept")
        #expect(await takeAll(buffer, 1) == ["a:1-0"])
        #expect(buffer.setPaused([]).resumed == ["b"])
        #expect(buffer.put(jobs("b", 8...8)).isEmpty)
        let left = buffer.close()
        #expect(Set(left.map(\.entryID)) == ["2-0", "3-0", "7-0", "8-0"])
        #expect(left.filter { $0.queue == "a" }.map(\.entryID) == ["2-0", "3-0", "7-0"])
        #expect(buffer.count == 0)
        #expect(await buffer.take() == nil)
        #expect(buffer.put(jobs("a", 9...9)).count == 1, "a closed buffer refuses everything")
    }
}
