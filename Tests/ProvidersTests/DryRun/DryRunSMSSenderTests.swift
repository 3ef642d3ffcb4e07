import ProviderFakes
import Providers
import Testing

@Suite("Dry-run sender and SMS fallback")
struct DryRunSMSSenderTests {
    @Test func recordsInsteadOfSending() async throws {
        let sender = DryRunSMSSender(reportedState: .delivered)
        let message = TemplateSMS(receptor: "+989121234567", template: "verify", parameters: ["token": "1234"])
        let receipt = try await sender.sendTemplate(message)
        #expect(receipt.provider == .dryRun)
        #expect(receipt.messageIDs == ["dry-run-1"])
        #expect(await sender.sent == [message])
        let statuses = try await sender.deliveryStatus(of: ["dry-run-1", "other"])
        #expect(statuses.map(\.state) == [.delivered, .invalidID])
        #expect(statuses.first?.recipient == "+989121234567")
    }

    /// An id the sender never issued is `invalid_id`, as Kavenegar reports one (status 100), not `expired` (a message
    /// that was sent and timed out): a job reading the dry run must see what it would see in production.
    @Test func anIDItNeverIssuedIsInvalidNotExpired() async throws {
        let sender = DryRunSMSSender(reportedState: .pending)
        _ = try await sender.sendTemplate(TemplateSMS(receptor: "+989121234567", template: "verify", parameters: ["token": "1"]))
        let statuses = try await sender.deliveryStatus(of: ["dry-run-1", "dry-run-2", "dry-run-0", "12345"])
        #expect(statuses.map(\.state) == [.pending, .invalidID, .invalidID, .invalidID])
        #expect(statuses.map(\.state.rawValue).dropFirst().allSatisfy { $0 == "invalid_id" })
        #expect(statuses.dropFirst().allSatisfy { $0.recipient == nil })
    }

    @Test func jobCanFallBackFromKavenegarToIPPanel() async throws {
        try await withHarness { h in
            await h.control.setKavenegarCredit(0)
            await h.control.setIPPanelLifecycle(bulkStates: [6], recipientStatuses: ["2"])
            let senders: [(any SMSSender, TemplateSMS)] = [
                (h.kavenegar(), TemplateSMS(receptor: "+989121234567", template: "verify", parameters: ["token": "1234"])),
                (h.ippanel(), TemplateSMS(receptor: "+989121234567", template: "p1", parameters: ["code": "1234"])),
            ]
            var failures: [ProviderError] = []
            var receipt: SMSReceipt?
            for (sender, message) in senders {
                do {
                    receipt = try await sender.sendTemplate(message)
                    break
                } catch let error as ProviderError where error.disposition != .permanent {
                    failures.append(error)
                }
            }
            #expect(failures.map(\.code) == ["418"])
            let accepted = try #require(receipt)
            #expect(accepted.provider == .ippanel)
            let statuses = try await h.ippanel().deliveryStatus(of: accepted.messageIDs)
            #expect(statuses.map(\.state) == [.delivered])
        }
    }

    @Test(arguments: [
        (1, DeliveryState.pending), (2, .pending), (4, .pending), (5, .pending), (6, .failed), (10, .delivered),
        (11, .undelivered), (13, .failed), (14, .blocked), (100, .invalidID), (77, .unknown),
    ])
    func kavenegarStatusMapping(_ code: Int, _ state: DeliveryState) async throws {
        try await withHarness { h in
            await h.control.setKavenegarLifecycle([1, code])
            let client = h.kavenegar()
            let sent = try await client.lookup(KavenegarLookup(receptor: "09121234567", template: "verify", token: "1"))
            let statuses = try await client.deliveryStatus(of: sent.map { String($0.messageID) })
            #expect(statuses.map(\.rawCode) == [String(code)])
            #expect(statuses.map(\.state) == [state])
        }
    }
}
