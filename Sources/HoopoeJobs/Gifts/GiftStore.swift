import Foundation
import HoopoeCore
import Redis

/// Where a gift is in its life, kept in `<ns>:{gifts}:gift:<user_gift_id>` (a hash: `state`, `user_id`,
/// `expires_at`, `queue`, `<state>_at`, `emitted`) until 30 days after it expires.
///
/// The state lets the jobs arrive in any order: a `gift.used` before its `gift.granted` leaves `used`, so the late
/// grant schedules nothing; a `gift.expire` already running when `gift.used` cancels it finds `used` and does
/// nothing. Each change is one Lua call, so two jobs of one gift never both win.
public struct GiftStore: Sendable {
    let services: DomainServices

    public init(services: DomainServices) {
        self.services = services
    }

    /// How long a gift's state is kept after it expires (or after it was first seen when the expiry is unknown).
    public static let retentionSeconds = 30 * 86_400

    /// `<ns>:{gifts}:gift:<user_gift_id>`.
    public func key(_ userGiftID: DomainIdentifier) -> String { services.key("{gifts}:gift:\(userGiftID)") }

    /// Applies `action` unless the gift's state forbids it: `grant` only to a new gift, `use` and `expire` to a
    /// new or granted one, `reject` only to a new one.
    /// - Parameters:
    ///   - expiresAt: when the gift expires, when known (stored, and it sets how long the state is kept).
    ///   - queue: the queue the gift's follow-up jobs were put on (stored with `grant`).
    ///   - rejection: with `reject`, why and when a gift is allowed again (stored with the state).
    func transition(
        _ action: Action, gift: DomainIdentifier, user: DomainIdentifier, now: Date, expiresAt: Date?, queue: String? = nil,
        rejection: (reason: String, retryAfter: Int)? = nil
    ) async throws -> Transition {
        let expiry = expiresAt ?? now.addingTimeInterval(86_400)
        // Clamped (at ~300 years) so no time, however far, can trap the conversion.
        let ttl = Int(min(max(0, expiry.timeIntervalSince(now)), 1e10)) + Self.retentionSeconds
        // KEYS[1] the gift · ARGV[1] action · ARGV[2] user_id · ARGV[3] now · ARGV[4] TTL s · ARGV[5] expires_at or ""
        // · ARGV[6] queue or "" · ARGV[7] reason or "" · ARGV[8] retry_after or "".
        let reply = try await services.redis.run(Self.transitionScript, keys: [key(gift)], arguments: [
            action.rawValue, user.value, String(format: "%.3f", now.timeIntervalSince1970), String(ttl),
            expiresAt.map { String(format: "%.3f", $0.timeIntervalSince1970) } ?? "", queue ?? "",
            rejection?.reason ?? "", rejection.map { String($0.retryAfter) } ?? "",
        ])
        guard let parts = reply.array, parts.count == 3, parts[0].string != nil, let after = parts[1].string.flatMap(GiftState.init(rawValue:)) else {
            throw GiftError("unexpected reply from the gift transition script: \(reply)")
        }
        return Transition(current: after, emitted: parts[2].string == "1")
    }

    /// Marks that the event of the gift's current state was emitted, so a re-run does not emit it again.
    func markEmitted(_ gift: DomainIdentifier) async throws {
        try await services.redis.send("HSET", key(gift), "emitted", "1")
    }

    /// The stored fields (empty when unknown).
    public func fields(_ gift: DomainIdentifier) async throws -> [String: String] {
        try await services.redis.send("HGETALL", key(gift)).hashFields
    }

    /// The gift as stored.
    func record(_ gift: DomainIdentifier) async throws -> Record {
        Record(fields: try await fields(gift))
    }

    /// What the gift hash says (every field nil for an unknown gift).
    struct Record {
        var state: GiftState?
        /// When it expires (Unix seconds), as granted: only a finite time after 1970 and before 2200 (the range
        /// gift.granted accepts), so a hand-edited `inf` or `1e19` never reaches a conversion that traps.
        var expiresAt: Double?
        /// The stored `expires_at` when it is there but not such a time (nil otherwise), for the error naming it.
        var unreadableExpiresAt: String?
        /// The queue its follow-up jobs were put on.
        var queue: String?
        /// Why it was rejected (`daily_limit` / `monthly_limit`) and when a gift is allowed again.
        var reason: String?
        var retryAfter: Int?

        init(fields: [String: String]) {
            state = fields["state"].flatMap(GiftState.init(rawValue:))
            if let text = fields["expires_at"] {
                if let value = Double(text), value > 0, value < ExpiryDate.latest {
                    expiresAt = value
                } else {
                    unreadableExpiresAt = text
                }
            }
            queue = fields["queue"]
            reason = fields["reason"]
            retryAfter = fields["retry_after"].flatMap { Int($0) }
        }
    }

    /// A change asked of a gift.
    enum Action: String {
        case grant, use, expire, reject
    }

    /// What a transition found and left.
    struct Transition {
        /// The state after.
        var current: GiftState
        /// Whether the current state's event was already emitted.
        var emitted: Bool
    }

    /// `Lua/gift_transition.lua`.
    static let transitionScript = RedisScript(name: "gift_transition", embedded: PackageResources.gift_transition_lua)
}

/// A gift's state (`<ns>:{gifts}:gift:<user_gift_id>` field `state`).
public enum GiftState: String, Sendable {
    /// Won; its expiry (and maybe a reminder) is scheduled.
    case granted
    /// Used before it expired: nothing more happens.
    case used
    /// Expired unused: `gift.expired` was emitted.
    case expired
    /// Refused by the wheel limits: `gift.rejected` was emitted; nothing scheduled.
    case rejected
}
