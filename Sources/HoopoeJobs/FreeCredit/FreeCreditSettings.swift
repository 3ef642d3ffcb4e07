import Foundation

/// Settings of `freecredit.request` (jobs/types/freecredit.request.md).
///
/// The SMM panel's document (docs/providers.md §5.2) gives the 120 s cooldown; it says a monthly cap exists but not its
/// value, so ``monthlyCap`` is a guess to confirm with the panel's owners, and so is ``defaultAmount`` (its example
/// grants 93).
public struct FreeCreditSettings: Sendable {
    /// `FREECREDIT_COOLDOWN_SECONDS` (default 120): the least time between two grants to one user.
    public var cooldownSeconds = 120
    /// `FREECREDIT_MONTHLY_CAP` (default 5; not specified by the SMM document; 0 = no monthly cap, as the gift limits'
    /// 0): grants per user per calendar month. As a cap, 0 refused every request, with start-up none the wiser.
    public var monthlyCap = 5
    /// `FREECREDIT_MONTH_CALENDAR` (`persian` by default, or `gregorian`): which months the cap counts in.
    public var monthCalendar = MonthCalendar.persian
    /// `FREECREDIT_DEFAULT_AMOUNT` (default 100): the amount granted when the request carries none.
    public var defaultAmount = 100
    /// `FREECREDIT_RESULT_TTL_SECONDS` (default 604800, 7 days): how long a request's answer is kept, and so how
    /// long a re-delivered or repeated request id gets the same answer instead of a second grant.
    public var resultTTLSeconds = 604_800
}

extension FreeCreditSettings {
    /// - Throws: ``ConfigurationError`` naming the variable that cannot be used.
    public init(environment env: EnvironmentReader) throws(ConfigurationError) {
        cooldownSeconds = try env.integer("FREECREDIT_COOLDOWN_SECONDS", default: cooldownSeconds, in: 0...31_536_000)
        monthlyCap = try env.integer("FREECREDIT_MONTHLY_CAP", default: monthlyCap, in: 0...1_000_000)
        monthCalendar = try env.choice("FREECREDIT_MONTH_CALENDAR", default: monthCalendar)
        defaultAmount = try env.integer("FREECREDIT_DEFAULT_AMOUNT", default: defaultAmount, in: 1...1_000_000_000)
        resultTTLSeconds = try env.integer("FREECREDIT_RESULT_TTL_SECONDS", default: resultTTLSeconds, in: 60...31_536_000)
    }
}
