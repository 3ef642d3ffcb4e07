import Foundation
import HoopoeCore
import Redis

/// The wheel-of-fortune limits: one gift a day and a monthly maximum per user (docs/providers.md §5.2), counted in
/// Redis so every service that awards gifts shares them. ``check(userID:now:)`` answers "may this user spin?";
/// ``record(userID:userGiftID:now:)`` counts a won gift atomically with the check (`gift.granted` does it).
/// jobs/lua/gift_wheel.lua is the same script, documented for services that call it directly.
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

    /// The script's arguments for `now`, after the user_gift_id (ARGV[1...7] and ARGV[9]).
    func arguments(now: Date, userGiftID: DomainIdentifier?) -> [String] {
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
            String(settings.dailyLimit), String(settings.monthlyLimit), userGiftID?.value ?? "", String(ttl),
        ]
    }

    private func run(userID: DomainIdentifier, userGiftID: DomainIdentifier?, now: Date) async throws -> GiftWheelVerdict {
        let reply = try await services.jobs.redis.run(Self.script, keys: [key(userID: userID)], arguments: arguments(now: now, userGiftID: userGiftID))
        guard let parts = reply.array, parts.count == 4, let verdict = parts[0].string.flatMap(GiftWheelVerdict.Kind.init(rawValue:)),
            let retry = parts[1].int, let day = parts[2].int, let month = parts[3].int
        else { throw GiftError("unexpected reply from the gift_wheel script: \(reply)") }
        return GiftWheelVerdict(kind: verdict, retryAfter: retry, dayCount: day, monthCount: month)
    }

    /// jobs/lua/gift_wheel.lua.
    public static let script = RedisScript(name: "gift_wheel", source: """
        -- Hoopoe gift-wheel limits: one gift a day and a monthly maximum per user (jobs/types/gift.granted.md).
        -- `gift.granted` runs exactly this script to count a won gift; services EVAL it to ask "may this user spin?"
        -- (check only) or to count a gift atomically as they award it (jobs/examples/gift_wheel.py). All times come in
        -- as arguments (the caller's clock), never from Redis TIME. The key carries the {gifts} hash tag.
        --
        -- KEYS[1] <ns>:{gifts}:wheel:<user_id>   sorted set: member user_gift_id, score = when it was won (Unix s);
        --                                        entries older than both windows are trimmed; TTL ARGV[9]
        -- ARGV[1] now, Unix seconds
        -- ARGV[2] start of the day window: now - 86400 (rolling) or the local midnight (calendar); gifts won at or
        --         after it count towards the daily limit
        -- ARGV[3] "" for a rolling day, or the next local midnight (Unix s) for a calendar day: when the limit lifts
        -- ARGV[4] start of the month (Unix s)    ARGV[5] start of the next month (Unix s)
        -- ARGV[6] daily limit (0 = none)         ARGV[7] monthly limit (0 = none)
        -- ARGV[8] user_gift_id to count, or "" to only check
        -- ARGV[9] TTL of KEYS[1] in seconds (longer than both windows)
        --
        -- Reply: {verdict, retry_after, day_count, month_count}
        --   verdict "allowed"        check only: a gift may be won now (nothing written)
        --           "recorded"       the gift is counted (the counts include it)
        --           "duplicate"      this user_gift_id was counted before (idempotent; nothing changes)
        --           "daily_limit"    refused; retry_after = whole seconds until the day limit lifts
        --           "monthly_limit"  refused; retry_after = whole seconds until the next month (wins over daily_limit)
        --   retry_after is 0 unless refused; the counts are the user's gifts in the day and month windows.
        local now = tonumber(ARGV[1])
        local dayStart = tonumber(ARGV[2])
        local monthStart = tonumber(ARGV[4])
        local monthEnd = tonumber(ARGV[5])
        local daily = tonumber(ARGV[6])
        local monthly = tonumber(ARGV[7])
        local gift = ARGV[8]
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. math.min(dayStart, monthStart))
        local dayCount = redis.call('ZCOUNT', KEYS[1], dayStart, '+inf')
        local monthCount = redis.call('ZCOUNT', KEYS[1], monthStart, '+inf')
        if gift ~= '' and redis.call('ZSCORE', KEYS[1], gift) then
          return {'duplicate', 0, dayCount, monthCount}
        end
        if monthly > 0 and monthCount >= monthly then
          return {'monthly_limit', math.max(1, math.ceil(monthEnd - now)), dayCount, monthCount}
        end
        if daily > 0 and dayCount >= daily then
          local lifts
          if ARGV[3] ~= '' then
            lifts = tonumber(ARGV[3])
          else
            local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], dayStart, '+inf', 'WITHSCORES', 'LIMIT', dayCount - daily, 1)
            lifts = tonumber(oldest[2]) + (now - dayStart)
          end
          return {'daily_limit', math.max(1, math.ceil(lifts - now)), dayCount, monthCount}
        end
        if gift == '' then
          return {'allowed', 0, dayCount, monthCount}
        end
        redis.call('ZADD', KEYS[1], now, gift)
        redis.call('EXPIRE', KEYS[1], ARGV[9])
        return {'recorded', 0, dayCount + 1, monthCount + 1}
        """)
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
