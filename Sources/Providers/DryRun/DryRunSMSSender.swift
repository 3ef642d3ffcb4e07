/// An ``SMSSender`` that sends nothing and records what it would have sent.
///
/// For development and staging (`make run`, dry-run deployments) and for job tests: the job code is the same, the
/// receipts are synthetic (`dry-run-1`, `dry-run-2`, …) and ``deliveryStatus(of:)`` answers with a configurable
/// state (``DeliveryState/delivered`` by default, so flows that wait for delivery complete).
public actor DryRunSMSSender: SMSSender {
    public nonisolated let provider: ProviderName = .dryRun

    /// The state reported for every recorded message.
    public let reportedState: DeliveryState
    /// Everything ``sendTemplate(_:)`` was asked to send, in order.
    public private(set) var sent: [TemplateSMS] = []

    /// Creates a dry-run sender.
    public init(reportedState: DeliveryState = .delivered) {
        self.reportedState = reportedState
    }

    /// Records the message and returns a synthetic id.
    public func sendTemplate(_ message: TemplateSMS) async throws -> SMSReceipt {
        sent.append(message)
        return SMSReceipt(provider: .dryRun, messageIDs: ["dry-run-\(sent.count)"], initialStates: [.pending])
    }

    /// Reports ``reportedState`` for ids this sender issued and ``DeliveryState/invalidID`` for any other id: what
    /// Kavenegar answers for an id it never issued (status `100`), so a dry run reads like the real provider.
    public func deliveryStatus(of messageIDs: [String]) async throws -> [DeliveryStatus] {
        messageIDs.map { id in
            let known = id.hasPrefix("dry-run-") && Int(id.dropFirst("dry-run-".count)).map { (1...sent.count).contains($0) } == true
            return DeliveryStatus(
                provider: .dryRun, messageID: id, recipient: known ? sent[Int(id.dropFirst("dry-run-".count))! - 1].receptor : nil,
                state: known ? reportedState : .invalidID, rawCode: "dry-run", statusText: "dry run: nothing was sent")
        }
    }
}
