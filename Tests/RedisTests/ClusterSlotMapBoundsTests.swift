import Testing

@testable import Redis

/// Slots come from the network (a `MOVED` reply, `CLUSTER SHARDS`/`SLOTS`): one outside 0…16383 is ignored, never
/// a trap that takes the process down.
@Suite struct ClusterSlotMapBoundsTests {
    @Test func aRangeOutsideTheSlotsAssignsNothing() {
        var map = ClusterSlotMap()
        map.assign(99_999...99_999, to: .tcp(host: "127.0.0.1", port: 7000))
        map.assign(-5 ... -1, to: .tcp(host: "127.0.0.1", port: 7000))
        #expect(map.coveredSlots == 0)
        map.assign(16_380...20_000, to: .tcp(host: "127.0.0.1", port: 7001))
        #expect(map.coveredSlots == 4)
    }

    @Test(arguments: ["MOVED 99999 127.0.0.1:7000", "ASK -1 127.0.0.1:7000", "MOVED 16384 127.0.0.1:7000"])
    func aRedirectionToAnImpossibleSlotIsNotFollowed(message: String) {
        #expect(ClusterRedirection(message, replier: .tcp(host: "127.0.0.1", port: 7000)) == nil)
    }

    @Test func aRedirectionToARealSlotIsFollowed() {
        #expect(ClusterRedirection("MOVED 16383 127.0.0.1:7000", replier: .tcp(host: "127.0.0.1", port: 7001))
            == .moved(slot: 16383, to: .tcp(host: "127.0.0.1", port: 7000)))
    }
}
