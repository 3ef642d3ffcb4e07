import Foundation
import ProviderFakes
import Providers
import Testing

/// `findSend`: the outbox search behind an IPPanel send whose answer was lost. "Not found" sends the SMS again, so it
/// is said only of a window read whole.
@Suite("IPPanel outbox search for a lost send")
struct IPPanelReconcileTests {
    /// The lost send's bulk, then `others` bulks to other recipients on the same line (a reminder sweep): newest first,
    /// the lost one is on the last page. Returns its bulk id.
    private func lostSendBehind(_ others: Int, _ client: IPPanelClient) async throws -> Int64 {
        let lost = try #require(try await client.sendPattern(
            IPPanelPatternMessage(code: "p1", recipient: "+989121234567", params: ["days": "3"])).bulkIDs.first)
        for n in 0..<others {
            _ = try await client.sendPattern(IPPanelPatternMessage(code: "p1", recipient: "+98935\(String(format: "%07d", n))", params: ["days": "3"]))
        }
        return lost
    }

    /// 250 bulks after it: found on the third page.
    @Test func aSendBehindPagesOfOtherBulksIsFound() async throws {
        try await withHarness { h in
            let client = h.ippanel()
            let since = Date().addingTimeInterval(-60)
            let lost = try await lostSendBehind(250, client)
            let found = try await client.findSend(to: "+989121234567", since: since, until: Date().addingTimeInterval(60), values: ["3"])
            #expect(found?.id == lost)
        }
    }

    /// More pages than it may read: an error to retry on, not nil. Nil said "not sent", and the SMS went out twice.
    @Test func aWindowTooFullToReadIsAnErrorNotNotSent() async throws {
        try await withHarness { h in
            let client = h.ippanel()
            let since = Date().addingTimeInterval(-60)
            _ = try await lostSendBehind(250, client)
            await #expect {
                _ = try await client.findSend(to: "+989121234567", since: since, values: ["3"], maximumPages: 2)
            } throws: { error in
                (error as? ProviderError)?.code == "outbox-full" && (error as? ProviderError)?.disposition == .retry(after: nil)
            }
            // The window's end is sent (create_to_date): one that closed before the send lists nothing.
            let bounded = try await client.findSend(to: "+989121234567", since: since, until: since, values: ["3"], maximumPages: 1)
            #expect(bounded == nil, "the window before the send holds nothing")
        }
    }
}
