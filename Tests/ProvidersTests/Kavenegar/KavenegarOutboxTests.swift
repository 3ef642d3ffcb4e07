import Foundation
import Providers
import Testing

/// The outbox search's times come from a stored value (the SMS ledger's `unknown_since`), which anyone with Redis can
/// edit: `Int64(_:)` of one past any clock trapped and stopped the worker.
@Suite("Kavenegar outbox: times past any clock")
struct KavenegarOutboxTests {
    @Test("a start of 1e300, 1e19 or -1e300 is an error from the outbox, not a trap; a non-finite one searches the last 3 days")
    func startsPastAnyClock() async throws {
        try await withHarness { h in
            let client = h.kavenegar()
            for seconds in [1e300, 1e19, -1e300] {
                let since = Date(timeIntervalSince1970: seconds)
                await #expect(throws: ProviderError.self, "\(seconds)") {
                    _ = try await client.findLookup(to: "09121234567", since: since, until: since.addingTimeInterval(120), values: ["x"])
                }
                // Sent clamped to Int64: the fake answers an empty window far ahead, or refuses one far back (417).
                _ = try? await client.selectOutbox(from: since, to: since)
            }
            for seconds in [-Double.infinity, .infinity, .nan] {
                let since = Date(timeIntervalSince1970: seconds)
                let found = try await client.findLookup(to: "09121234567", since: since, until: since.addingTimeInterval(120), values: ["x"])
                #expect(found == nil, "\(seconds)")
            }
        }
    }
}
