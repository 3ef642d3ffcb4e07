extension IPPanelClient: SMSSender {
    public var provider: ProviderName { .ippanel }

    /// Sends through a pattern: ``TemplateSMS/template`` is the pattern code, the parameters its placeholders.
    public func sendTemplate(_ message: TemplateSMS) async throws -> SMSReceipt {
        let result = try await sendPattern(
            IPPanelPatternMessage(code: message.template, recipient: message.receptor, params: message.parameters))
        return SMSReceipt(
            provider: .ippanel, messageIDs: result.bulkIDs.map(String.init),
            initialStates: result.bulkIDs.map { _ in .pending })
    }

    /// Polls each bulk: per-recipient `message_status` once the bulk is final; before that, the bulk's
    /// `state_id` decides (pending, or failed with raw code `state_id:N`).
    public func deliveryStatus(of messageIDs: [String]) async throws -> [DeliveryStatus] {
        var statuses: [DeliveryStatus] = []
        for text in messageIDs {
            guard let bulkID = Int64(text) else {
                throw ProviderError(
                    provider: .ippanel, operation: "report/recipients", kind: .invalidRequest, code: "400-2",
                    message: "not an IPPanel bulk id: \(text)", disposition: .permanent)
            }
            let page = try await recipientsReport(bulkID: bulkID, page: 1, perPage: 100)
            // Recipients are listed from the start; their `message_status` only once the bulk is final (seed 003).
            let reported = page.recipients.filter { !$0.messageStatus.isEmpty }
            if !reported.isEmpty {
                statuses += reported.map {
                    DeliveryStatus(
                        provider: .ippanel, messageID: text, recipient: $0.recipient, state: $0.deliveryState,
                        rawCode: $0.messageStatus)
                }
                continue
            }
            let bulk = try await outboxReport(bulkID: bulkID)
            let state: DeliveryState =
                bulk.bulkState.isPending || bulk.bulkState.isSent
                ? .pending : (bulk.bulkState.failure != nil ? .failed : .unknown)
            statuses.append(
                DeliveryStatus(
                    provider: .ippanel, messageID: text, state: state, rawCode: "state_id:\(bulk.stateID)",
                    statusText: bulk.statusLabel))
        }
        return statuses
    }
}
