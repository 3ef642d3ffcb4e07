import Foundation
import HoopoeCore
import HoopoeJSON
import Redis
import TestSupport
import Testing

/// A number JSON cannot hold (infinite, NaN) is written as `null` in its place, the rest of the document kept:
/// `JSONValue.encoded()` lost the whole document to JSONEncoder's error and printed the bare word `null`.
@Suite struct QueuesJSONNonFiniteTests {
    @Test func aNonFiniteNumberIsNullInItsPlace() {
        let value: JSONValue = ["a": .double(.infinity), "b": [.double(-.infinity), .double(.nan), .double(1.5)], "c": 1]
        #expect(String(decoding: value.encoded(), as: UTF8.self) == #"{"a":null,"b":[null,null,1.5],"c":1}"#)
    }

    /// A heartbeat hash with `ttl` inf (written by hand) made the worker's beat age infinite: `hoopoe queues --json`
    /// printed `null`, exit 0.
    @Test func queuesJSONKeepsTheDocumentWithAnInfiniteBeatAge() async throws {
        let h = try CLIHarness()
        try await Heartbeat(kind: "worker", id: "w1", jobs: h.jobs) { ["queues": "default"] }.beat()
        try await h.redis.send("HSET", "\(h.namespace):process:w1", "ttl", "inf")
        let (status, json) = try await h.json(["queues", "--json"])
        #expect(status == 0)
        let worker = try #require(json["workers"]?.arrayValue?.first, "\(json)")
        #expect(worker["id"]?.stringValue == "w1")
        #expect(worker["beat_age_seconds"] == .null, "\(json)")
    }
}
