import Redis
import TestSupport
import Testing

@testable import HoopoeCore

/// The acknowledger on a real three-primary cluster on loopback (decision 0048). A suite of its own in `make test`'s
/// heavy phase (`HEAVY_SUITES`): creating the shared test cluster blocks a cooperative thread for seconds, which in the
/// parallel phase held up every other suite's tests (the first of them finished only after ~7–10 s).
@Suite struct AcknowledgerClusterTests {
    /// On a cluster a flight carries one queue's acknowledgements, those of the queue that waited longest; the other
    /// queues' wait for flights of their own, so each node gets its jobs in fewer, larger script calls. A lone job still
    /// leaves at once, and every queue's jobs end acknowledged on their node. (One server does the same since decision
    /// 0094: `AcknowledgerTests.aFlightCarriesOneQueue`.)
    @Test func onAClusterAFlightCarriesOneQueue() async throws {
        let servers = try ClusterServers.shared()
        let setting = try AcknowledgerTests.Setting(url: servers.url)
        // One queue on each primary; the first one's node is paused while the others' acknowledgements come.
        let queues = try (0..<3).map { try servers.tag(onNode: $0, prefix: "ack") }
        var acks: [[Acknowledgement]] = []
        for queue in queues { acks.append(try await setting.delivered(2, queue: queue)) }
        let (a, b, c) = (acks[0], acks[1], acks[2])
        let control = try RedisClient(url: servers.nodes[0].url)
        defer { control.close() }
        let acknowledger = setting.acknowledger
        try await control.send("CLIENT", "PAUSE", "10000", "WRITE")  // the first flight's EVALSHA waits there
        acknowledger.add(a[0])
        #expect(acknowledger.pendingCount == 0, "a lone job leaves at once")
        acknowledger.add(b[0])
        acknowledger.add(c[0])
        acknowledger.add(a[1])
        acknowledger.add(b[1])
        acknowledger.add(c[1])
        try await Task.sleep(for: .milliseconds(200))
        #expect(acknowledger.pendingCount == 5 && setting.batches.all.isEmpty, "a's first flight held by the pause")
        try await control.send("CLIENT", "UNPAUSE")
        await acknowledger.drain()
        let ids = { (acks: [Acknowledgement]) in acks.map(\.jobID) }
        #expect(setting.batches.all == [ids([a[0]]), ids([b[0], b[1]]), ids([c[0], c[1]]), ids([a[1]])])
        for (index, queue) in queues.enumerated() {
            let left = try await setting.unacknowledged(queue: queue)
            #expect(left == 0, "queue \(index) \(queue): \(left)")
        }
    }
}
