import ProviderFakes
import Providers
import Testing

@Suite("IPPanel bulk state and per-recipient delivery")
struct IPPanelDeliveryTests {
    @Test func lifecycleThroughSMSSender() async throws {
        try await withHarness { h in
            await h.control.setIPPanelLifecycle(bulkStates: [1, 6], recipientStatuses: ["0", "2"])
            let sender: any SMSSender = h.ippanel()
            let receipt = try await sender.sendTemplate(
                TemplateSMS(receptor: "+989121234567", template: "p1", parameters: ["code": "1234"]))
            let id = try #require(receipt.messageIDs.first)

            // Bulk still in moderation: no per-recipient rows yet → pending with the bulk's state as raw code.
            let first = try await sender.deliveryStatus(of: [id])
            #expect(first.map(\.state) == [.pending])
            #expect(first.map(\.rawCode) == ["state_id:6"])  // the by_bulk read came after the recipients read
            let second = try await sender.deliveryStatus(of: [id])
            #expect(second.map(\.rawCode) == ["0"])
            #expect(second.map(\.state) == [.pending])
            #expect(second.first?.recipient == "+989121234567")
            let third = try await sender.deliveryStatus(of: [id])
            #expect(third.map(\.rawCode) == ["2"])
            #expect(third.map(\.state) == [.delivered])
        }
    }

    @Test func insufficientCreditShowsAsBulkState8() async throws {
        try await withHarness { h in
            await h.control.setIPPanelLifecycle(bulkStates: [8], recipientStatuses: ["2"])
            let client = h.ippanel()
            let result = try await client.sendPattern(IPPanelPatternMessage(code: "p1", recipient: "+989121234567", params: ["c": "1"]))
            let bulk = try await client.outboxReport(bulkID: try #require(result.bulkIDs.first))
            #expect(bulk.stateID == 8)
            #expect(bulk.bulkState.failure == .alert(requeueAfterFix: true))
            let statuses = try await client.deliveryStatus(of: result.bulkIDs.map(String.init))
            #expect(statuses.map(\.state) == [.failed])
            #expect(statuses.map(\.rawCode) == ["state_id:8"])
        }
    }

    @Test(arguments: [("0", DeliveryState.pending), ("1", .pending), ("2", .delivered), ("3", .undelivered), ("4", .blocked), ("9", .unknown)])
    func messageStatusMapping(_ raw: String, _ state: DeliveryState) async throws {
        try await withHarness { h in
            await h.control.setIPPanelLifecycle(bulkStates: [6], recipientStatuses: [raw])
            let client = h.ippanel()
            let result = try await client.sendPattern(IPPanelPatternMessage(code: "p1", recipient: "+989121234567", params: ["c": "1"]))
            let page = try await client.recipientsReport(bulkID: try #require(result.bulkIDs.first))
            #expect(page.recipients.map(\.messageStatus) == [raw])
            #expect(page.recipients.map(\.deliveryState) == [state])
        }
    }
}
