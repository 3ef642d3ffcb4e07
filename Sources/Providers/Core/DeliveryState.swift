import Foundation

/// Where one SMS stands, in the same terms for Kavenegar and IPPanel.
///
/// Jobs poll both providers and fall back from one to the other, so the provider-specific status codes
/// (Kavenegar Table 2, docs/providers.md §2.7; IPPanel `message_status`, §3.6) are mapped onto this one set. The raw
/// code is always kept next to it in ``DeliveryStatus``.
public enum DeliveryState: String, Sendable, Hashable, CaseIterable {
    /// Not final yet (queued, scheduled, handed to the operator): poll again later.
    case pending
    /// Delivered to the handset. Terminal success.
    case delivered
    /// Not sent: a line/prefix error, a cancellation, or a rejected bulk. Terminal; a resend or failover may help.
    case failed
    /// Sent but not delivered (handset off, out of reach). Terminal; a later resend or failover may help.
    case undelivered
    /// The recipient blocks this kind of message (promotional block, blacklist). Terminal and permanent for the
    /// same line type.
    case blocked
    /// The provider reported a status this module does not know. Keep the raw code; treat as not final.
    case unknown
    /// No final status within the provider's reporting window (48 h after the send): the worker stopped asking.
    /// Stop polling; the outcome is unknown.
    case expired
    /// The provider does not know the message id (Kavenegar `100`: "invalid message id" — never registered, not this
    /// account's, or archived). Not the same as ``expired``: asked within the window, the provider disowned the id,
    /// which points at a stored id that is wrong (or a send that never reached the provider). Stop polling.
    case invalidID = "invalid_id"

    /// True when polling should stop.
    public var isFinal: Bool {
        switch self {
        case .pending, .unknown: false
        case .delivered, .failed, .undelivered, .blocked, .expired, .invalidID: true
        }
    }

    /// Maps a Kavenegar message status (Table 2, docs/providers.md §2.7).
    public static func kavenegar(_ status: Int) -> DeliveryState {
        switch status {
        case 1, 2, 4, 5: .pending
        case 6: .failed
        case 10: .delivered
        case 11: .undelivered
        // 13: cancelled by the user or a sending problem; cost refunded; terminal, resend allowed.
        case 13: .failed
        case 14: .blocked
        case 100: .invalidID
        default: .unknown
        }
    }

    /// Maps an IPPanel per-recipient `message_status` (docs/providers.md §3.6).
    public static func ippanel(_ messageStatus: String) -> DeliveryState {
        switch messageStatus.trimmingCharacters(in: .whitespaces) {
        case "0", "1": .pending
        case "2": .delivered
        case "3": .undelivered
        case "4": .blocked
        default: .unknown
        }
    }
}
