import Foundation

/// Settings of the gift jobs and the wheel limits (jobs/types/gift.granted.md).
///
/// The SMM panel's document (docs/providers.md §5.2) says "one gift per 1 day" and that a monthly maximum exists, but
/// not its value (``monthlyLimit`` is a guess to confirm) nor whether the day is a rolling 24 hours or a calendar
/// day (``dayWindow``, rolling by default: it matches the panel's wording "in every 1 day" and its 24-hour gifts).
public struct GiftSettings: Sendable {
    /// `GIFT_REMINDER_BEFORE_HOURS` (default 3; 0 = no reminder): how long before a gift expires its reminder SMS
    /// goes out, when the grant carries a phone.
    public var reminderBeforeHours = 3
    /// `GIFT_DAILY_LIMIT` (default 1; 0 = no daily limit): gifts a user may win per day.
    public var dailyLimit = 1
    /// `GIFT_MONTHLY_LIMIT` (default 10; not specified by the SMM document; 0 = no monthly limit): gifts per month.
    public var monthlyLimit = 10
    /// `GIFT_DAY_WINDOW` (`rolling` by default, or `calendar`): what "a day" is for ``dailyLimit``.
    public var dayWindow = GiftDayWindow.rolling
    /// `GIFT_MONTH_CALENDAR` (`persian` by default, or `gregorian`): which months ``monthlyLimit`` counts in.
    public var monthCalendar = MonthCalendar.persian
    /// `GIFT_EXPIRE_GRACE_SECONDS` (default 300; 0 to 86400): how long after `expires_at` a gift's `gift.expire` runs.
    /// A gift used in its last moments is accepted by the panel, and its `gift.used` reaches a worker a moment later:
    /// run at the expiry itself, `gift.expire` won that race and announced `gift.expired` for a gift the panel had
    /// accepted. The grace lets such a `gift.used` land first.
    public var expireGraceSeconds = 300
}

extension GiftSettings {
    /// - Throws: ``ConfigurationError`` naming the variable that cannot be used.
    public init(environment env: EnvironmentReader) throws(ConfigurationError) {
        reminderBeforeHours = try env.integer("GIFT_REMINDER_BEFORE_HOURS", default: reminderBeforeHours, in: 0...720)
        dailyLimit = try env.integer("GIFT_DAILY_LIMIT", default: dailyLimit, in: 0...1000)
        monthlyLimit = try env.integer("GIFT_MONTHLY_LIMIT", default: monthlyLimit, in: 0...100_000)
        dayWindow = try env.choice("GIFT_DAY_WINDOW", default: dayWindow)
        monthCalendar = try env.choice("GIFT_MONTH_CALENDAR", default: monthCalendar)
        expireGraceSeconds = try env.integer("GIFT_EXPIRE_GRACE_SECONDS", default: expireGraceSeconds, in: 0...86_400)
    }
}

/// What "one gift a day" counts.
public enum GiftDayWindow: String, Sendable, CaseIterable {
    /// The last 24 hours: the next gift is allowed 24 h after the one before.
    case rolling
    /// The local calendar day (Asia/Tehran): the next gift is allowed from midnight.
    case calendar
}
