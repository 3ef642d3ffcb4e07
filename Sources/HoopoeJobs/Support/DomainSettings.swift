import Foundation

/// The domain jobs' settings, one part per area, all read from the environment (deploy/hoopoe.env.example lists
/// every variable with its default).
public struct DomainSettings: Sendable {
    /// Provider accounts.
    public var providers: ProviderSettings
    /// `HOOPOE_TIME_ZONE` (default Asia/Tehran): quiet hours, reminder days, calendar months.
    public var timeZone: TimeZone {
        get { zone.zone }
        set { zone = DeferredTimeZone(newValue) }
    }
    /// ``timeZone`` as named at start-up, resolved on first use: the default is not looked up until a job needs it.
    public private(set) var zone: DeferredTimeZone
    /// `HOOPOE_EVENTS_MAXLEN` (default 100000): entries kept in the events stream.
    public var eventsMaxLength: Int
    /// `HOOPOE_CLOCK_KEY`: a Redis key holding "now" for simulations and tests (``DomainClock``); unset in production.
    public var clockKey: String?
    /// `sendinblue.register`: retry window and backoff, creation-status polling (``RegistrationSettings``).
    public var registration: RegistrationSettings = RegistrationSettings()
    /// SMS: templates, provider order, quiet hours, daily cap, delivery polling (``SMSSettings``).
    public var sms: SMSSettings = SMSSettings()
    /// Expiration and low-credit reminders (``ReminderSettings``).
    public var reminders: ReminderSettings = ReminderSettings()
    /// Gifts and the wheel limits (``GiftSettings``).
    public var gifts: GiftSettings = GiftSettings()
    /// Free credit: cooldown, monthly cap (``FreeCreditSettings``).
    public var freeCredit: FreeCreditSettings = FreeCreditSettings()

    public init(providers: ProviderSettings = ProviderSettings(), timeZone: TimeZone = LocalCalendar.tehranZone,
                eventsMaxLength: Int = 100_000, clockKey: String? = nil) {
        self.providers = providers
        zone = DeferredTimeZone(timeZone)
        self.eventsMaxLength = eventsMaxLength
        self.clockKey = clockKey
    }

    /// Reads every part.
    /// - Throws: ``ConfigurationError`` naming the first variable that cannot be used.
    public init(environment env: EnvironmentReader) throws(ConfigurationError) {
        providers = try ProviderSettings(environment: env)
        // A zone the operator names is checked now (exit 78 naming the key); the default is resolved on first use.
        zone = try env.parsed("HOOPOE_TIME_ZONE", default: DeferredTimeZone.tehran) { (text: String) throws(ConfigurationProblem) in
            guard let zone = TimeZone(identifier: text) else { throw ConfigurationProblem("unknown time zone \(text) (e.g. Asia/Tehran)") }
            return DeferredTimeZone(zone)
        }
        eventsMaxLength = try env.integer("HOOPOE_EVENTS_MAXLEN", default: 100_000, in: 100...100_000_000)
        clockKey = env.string("HOOPOE_CLOCK_KEY")
        registration = try RegistrationSettings(environment: env)
        gifts = try GiftSettings(environment: env)
        freeCredit = try FreeCreditSettings(environment: env)
        reminders = try ReminderSettings(environment: env)
        sms = try SMSSettings(environment: env)
    }
}
