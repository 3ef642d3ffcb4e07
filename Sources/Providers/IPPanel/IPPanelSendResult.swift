import HoopoeJSON
/// What `POST /api/send` returns: one outbox (bulk) id per message, not per recipient.
public struct IPPanelSendResult: Sendable, Hashable {
    /// `data.message_outbox_ids`; store the first as the bulk id for reports.
    public var bulkIDs: [Int64]

    /// Creates a result.
    public init(bulkIDs: [Int64]) { self.bulkIDs = bulkIDs }

    init(data: JSONValue?) {
        self.bulkIDs = data?["message_outbox_ids"]?.arrayValue?.compactMap(\.int64Value) ?? []
    }
}
