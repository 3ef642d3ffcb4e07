import HoopoeCore
import Logging

/// Everything a domain job needs besides its payload, built once per worker process.
public struct DomainServices: Sendable {
    /// The engine: follow-up jobs (an `sms.send` from a reminder, a `gift.expire` at its time).
    public let jobs: JobQueue
    /// Where outcomes go (jobs/EVENTS.md).
    public let events: EventLog
    /// "Now" for domain decisions.
    public let clock: DomainClock
    /// The users' zone and calendars.
    public let calendar: LocalCalendar
    /// The provider clients that are configured.
    public let providers: ProviderClients
    /// The domain settings.
    public let settings: DomainSettings
    /// The stores' door to Redis (the engine's client); nothing but a store uses it.
    let redis: StoreRedis

    public init(
        jobs: JobQueue, events: EventLog, clock: DomainClock, calendar: LocalCalendar, providers: ProviderClients,
        settings: DomainSettings
    ) {
        self.jobs = jobs
        self.events = events
        self.clock = clock
        self.calendar = calendar
        self.providers = providers
        self.settings = settings
        self.redis = StoreRedis(client: jobs.redis)
    }

    /// A key under the namespace: `<namespace>:<suffix>`. Suffixes start with a `{hash tag}` so each Lua script's
    /// keys share one Redis Cluster slot (each type's keys: its page in jobs/types/, "Redis keys").
    public func key(_ suffix: String) -> String { "\(jobs.namespace):\(suffix)" }
}
