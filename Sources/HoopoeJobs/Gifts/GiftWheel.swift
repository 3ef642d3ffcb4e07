import Foundation
import HoopoeCore
import Redis

/// The wheel-of-fortune limits: one gift a day and a monthly maximum per user (docs/providers.md §5.2), counted in
/// Redis so every service that awards gifts shares them. ``check(userID:now:)`` answers "may this user spin?";
/// ``record(userID:userGiftID:now:)`` counts a won gift atomically with the check (`gift.granted` does it).
/// The key is built here and the script is `Lua/gift_wheel.lua` (`jobs/lua/gift_wheel.lua` links to it, documented
/// for services that call it directly).
public struct GiftWheel: Sendable {
    let services: DomainServices
    var settings: GiftSettings { services.settings.gifts }

    public init(services: DomainServices) {
        self.services = services
    }

    /// `<ns>:{gifts}:wheel:<user_id>`: the user's won gifts by time.
    public func key(userID: DomainIdentifier) -> String { services.key("{gifts}:wheel:\(userID)") }

    /// Whether `userID` may win a gift at `now` (nothing is written).
    public func check(userID: DomainIdentifier, now: Date) async throws -> GiftWheelVerdict {
        try await run(userID: userID, userGiftID: nil, now: now)
    }

    /// Counts `userGiftID` as won at `now` unless a limit forbids it; counting the same gift again is a no-op
    /// (``GiftWheelVerdict/Kind/duplicate``).
    public func record(userID: DomainIdentifier, userGiftID: DomainIdentifier, now: Date) async throws -> GiftWheelVerdict {
        try await run(userID: userID, userGiftID: userGiftID, now: now)
    }

    /// Counts `userGiftID` as won at `now` whatever the limits: a gift the user has already (used or expired before its
    /// `gift.granted` ran) is no spin to refuse, but it was won, and the spins after it must see it.
    func recordRegardlessOfLimits(userID: DomainIdentifier, userGiftID: DomainIdentifier, now: Date) async throws -> GiftWheelVerdict {
        try await run(userID: userID, userGiftID: userGiftID, now: now, enforcingLimits: false)
    }

    /// The script's arguments for `now`, after the user_gift_id (ARGV[1...7] and ARGV[9]).
    func arguments(now: Date, userGiftID: DomainIdentifier?, enforcingLimits: Bool = true) -> [String] {
        let calendar = services.calendar
        let month = settings.monthCalendar.month(of: now, in: calendar)
        let dayStart: Date
        let lifts: String
        switch settings.dayWindow {
        case .rolling:
            dayStart = now.addingTimeInterval(-86_400)
            lifts = ""
        case .calendar:
            dayStart = calendar.startOfDay(now)
            lifts = String(Int(calendar.adding(days: 1, to: dayStart).timeIntervalSince1970))
        }
        let ttl = Int(max(0, month.end.timeIntervalSince(now))) + 2 * 86_400
        return [
            String(format: "%.3f", now.timeIntervalSince1970), String(format: "%.3f", dayStart.timeIntervalSince1970), lifts,
            String(Int(month.start.timeIntervalSince1970)), String(Int(month.end.timeIntervalSince1970)),
            enforcingLimits ? String(settings.dailyLimit) : "0", enforcingLimits ? String(settings.monthlyLimit) : "0", userGiftID?.value ?? "", String(ttl),
        ]
    }

    /// KEYS[1] the user's wheel · ARGV[1…9] from ``arguments(now:userGiftID:)`` (`Lua/gift_wheel.lua` says each).
    private func run(userID: DomainIdentifier, userGiftID: DomainIdentifier?, now: Date, enforcingLimits: Bool = true) async throws -> GiftWheelVerdict {
        let reply = try await services.redis.run(
            Self.script, keys: [key(userID: userID)], arguments: arguments(now: now, userGiftID: userGiftID, enforcingLimits: enforcingLimits))
        guard let parts = reply.array, parts.count == 4, let verdict = parts[0].string.flatMap(GiftWheelVerdict.Kind.init(rawValue:)),
            let retry = parts[1].int, let day = parts[2].int, let month = parts[3].int
        else { throw GiftError("unexpected reply from the gift_wheel script: \(reply)") }
        return GiftWheelVerdict(kind: verdict, retryAfter: retry, dayCount: day, monthCount: month)
    }

    /// `Lua/gift_wheel.lua`, which is also `jobs/lua/gift_wheel.lua` (a link) for services that `EVAL` it.
    public static let script = RedisScript(name: "gift_wheel", embedded: PackageResources.gift_wheel_lua)
}

/// The wheel script's answer.
public struct GiftWheelVerdict: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case allowed
        case recorded
        case duplicate
        case dailyLimit = "daily_limit"
        case monthlyLimit = "monthly_limit"
    }
    public var kind: Kind
    /// Whole seconds until the limit lifts (0 unless refused).
    public var retryAfter: Int
    /// The user's gifts in the day window.
    public var dayCount: Int
    /// The user's gifts in the month.
    public var monthCount: Int

    /// True when a limit refused the gift.
    public var isRefused: Bool { kind == .dailyLimit || kind == .monthlyLimit }
}

/// A gift job that could not do its work.
public struct GiftError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
