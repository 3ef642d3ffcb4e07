import HoopoeJSON
/// One outbox entry (bulk) from `POST /api/report/by_bulk/{id}` (docs/providers.md §3.4.3).
public struct IPPanelBulk: Sendable, Hashable {
    /// `messages_outbox_id` (sent as a string).
    public var id: Int64
    /// `number`: the sending line.
    public var number: String?
    /// `state`, e.g. `finish`.
    public var state: String?
    /// `state_id` (§3.5).
    public var stateID: Int
    /// `type`, e.g. `pattern`.
    public var type: String?
    /// `time_send` (Unix seconds, sent as a string).
    public var timeSend: Int64?
    /// `rcpts_count`.
    public var recipientCount: Int?
    /// `exit_count`.
    public var exitCount: Int?
    /// `status`: the Persian label.
    public var statusLabel: String?
    /// `message`.
    public var message: String?
    /// `cost`.
    public var cost: Double?

    /// ``stateID`` interpreted for the worker.
    public var bulkState: IPPanelBulkState { IPPanelBulkState(id: stateID) }

    /// Creates a bulk record.
    public init(
        id: Int64, number: String?, state: String?, stateID: Int, type: String?, timeSend: Int64?, recipientCount: Int?,
        exitCount: Int?, statusLabel: String?, message: String?, cost: Double?
    ) {
        self.id = id
        self.number = number
        self.state = state
        self.stateID = stateID
        self.type = type
        self.timeSend = timeSend
        self.recipientCount = recipientCount
        self.exitCount = exitCount
        self.statusLabel = statusLabel
        self.message = message
        self.cost = cost
    }

    init?(json: JSONValue) {
        guard let id = json["messages_outbox_id"]?.int64Value, let stateID = json["state_id"]?.int64Value else {
            return nil
        }
        self.init(
            id: id, number: json["number"]?.stringValue, state: json["state"]?.stringValue, stateID: Int(stateID),
            type: json["type"]?.stringValue, timeSend: json["time_send"]?.int64Value,
            recipientCount: json["rcpts_count"]?.int64Value.map(Int.init), exitCount: json["exit_count"]?.int64Value.map(Int.init),
            statusLabel: json["status"]?.stringValue, message: json["message"]?.stringValue, cost: json["cost"]?.doubleValue)
    }
}

/// A bulk's `state_id` (docs/providers.md §3.5), interpreted.
public struct IPPanelBulkState: Sendable, Hashable {
    /// The raw `state_id`.
    public var id: Int

    /// Creates a state from its raw id.
    public init(id: Int) { self.id = id }

    /// 0 creating, 1 awaiting moderation, 2 sending, 5 queued: poll again.
    public var isPending: Bool { [0, 1, 2, 5].contains(id) }
    /// 6 sent: per-recipient `message_status` is now available.
    public var isSent: Bool { id == 6 }
    /// How to treat a bulk that ended without being sent: 3 rejected by moderation → permanent (alert if it is a
    /// standard template, which only the caller knows), 4 bad recipients → permanent, 7 cancelled → permanent,
    /// 8 insufficient credit → alert (park, resend after top-up), 9 system error → retry (it did not go out).
    public var failure: Disposition? {
        switch id {
        case 3, 4, 7: .permanent
        case 8: .alert(requeueAfterFix: true)
        case 9: .retry(after: nil)
        default: nil
        }
    }
}
