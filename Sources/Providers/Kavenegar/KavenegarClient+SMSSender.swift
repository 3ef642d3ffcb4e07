extension KavenegarClient: SMSSender {
    public var provider: ProviderName { .kavenegar }

    /// Sends through `verify/lookup`. Parameter keys: `token`, `token2`, `token3`, `token10`, `token20`, and
    /// optionally `type` = `call`.
    public func sendTemplate(_ message: TemplateSMS) async throws -> SMSReceipt {
        let known: Set<String> = ["token", "token2", "token3", "token10", "token20", "type"]
        if let unknown = message.parameters.keys.sorted().first(where: { !known.contains($0) }) {
            throw ProviderError(
                provider: .kavenegar, operation: "verify/lookup", kind: .invalidRequest, code: "400",
                message: "unknown lookup parameter \(unknown)", disposition: .permanent)
        }
        let request = KavenegarLookup(
            receptor: message.receptor,
            template: message.template,
            token: message.parameters["token"] ?? "",
            token2: message.parameters["token2"],
            token3: message.parameters["token3"],
            token10: message.parameters["token10"],
            token20: message.parameters["token20"],
            delivery: message.parameters["type"] == "call" ? .call : .sms
        )
        let messages = try await lookup(request)
        return SMSReceipt(
            provider: .kavenegar, messageIDs: messages.map { String($0.messageID) },
            initialStates: messages.map(\.deliveryState))
    }

    /// Polls `sms/status`; ids must be Kavenegar `messageid`s.
    public func deliveryStatus(of messageIDs: [String]) async throws -> [DeliveryStatus] {
        var ids: [Int64] = []
        for text in messageIDs {
            guard let id = Int64(text) else {
                throw ProviderError(
                    provider: .kavenegar, operation: "sms/status", kind: .invalidRequest, code: "400",
                    message: "not a Kavenegar messageid: \(text)", disposition: .permanent)
            }
            ids.append(id)
        }
        return try await status(messageIDs: ids).map {
            DeliveryStatus(
                provider: .kavenegar, messageID: String($0.messageID), state: $0.deliveryState, rawCode: String($0.status),
                statusText: $0.statusText)
        }
    }
}
