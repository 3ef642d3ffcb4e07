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
        // One queue on each primary; the first one's node holds writes while the others' acknowledgements come.
        let queues = try (0..<3).map { try servers.tag(onNode: $0, prefix: "ack") }
        let control = try RedisClient(url: servers.nodes[0].url)
        defer { control.close() }
        try await AcknowledgerTests.Setting(url: servers.url).expectOneQueueAFlight(queues: queues, pausing: control)
    }
}
