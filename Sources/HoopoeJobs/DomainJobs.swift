import HoopoeCore
import Logging
import Providers

/// The job types Hoopoe exists for (jobs/README.md): registration retries, reminders, SMS, gifts, free credit.
public enum DomainJobs {
    /// Registers every domain job type, each run as the current job (``RunAsCurrentJob``): the events it writes and the
    /// jobs it enqueues name it.
    public static func register(into registry: inout JobRegistry, services: DomainServices) {
        registry.register(RunAsCurrentJob(SendinblueRegisterJob(services: services)))
        registry.register(RunAsCurrentJob(GiftGrantedJob(services: services)))
        registry.register(RunAsCurrentJob(GiftUsedJob(services: services)))
        registry.register(RunAsCurrentJob(GiftExpireJob(services: services)))
        registry.register(RunAsCurrentJob(FreeCreditRequestJob(services: services)))
        registry.register(RunAsCurrentJob(SMSSendJob(services: services)))
        registry.register(RunAsCurrentJob(SMSDeliveryPollJob(services: services)))
        registry.register(RunAsCurrentJob(EmailSendJob(services: services)))
        registry.register(RunAsCurrentJob(SubscriptionUpsertJob(services: services)))
        registry.register(RunAsCurrentJob(SubscriptionDeleteJob(services: services)))
        registry.register(RunAsCurrentJob(ExpirationReminderJob(services: services)))
        registry.register(RunAsCurrentJob(CreditThresholdSetJob(services: services)))
        registry.register(RunAsCurrentJob(CreditThresholdDeleteJob(services: services)))
        registry.register(RunAsCurrentJob(CreditBalanceJob(services: services)))
        registry.register(RunAsCurrentJob(LowCreditReminderJob(services: services)))
    }

    /// Builds the services of one worker process from its settings.
    /// - Parameters:
    ///   - settings: from ``DomainSettings/init(environment:)``.
    ///   - jobs: the engine.
    ///   - httpClient: shared by the provider clients, made at their first request; the caller shuts it down.
    public static func services(settings: DomainSettings, jobs: JobQueue, httpClient: ProviderHTTPClient, logger: Logger) -> DomainServices {
        DomainServices(
            jobs: jobs,
            events: EventLog(redis: jobs.redis, namespace: jobs.namespace, maxLength: settings.eventsMaxLength),
            clock: settings.clockKey.map { DomainClock.redis(jobs.redis, key: $0) } ?? .redisTime(jobs.redis),
            calendar: LocalCalendar(zone: settings.zone),
            providers: ProviderClients(settings: settings.providers, httpClient: httpClient, logger: logger),
            settings: settings)
    }

    /// Lines to log at start-up about what is not configured (a provider without its key, a simulated clock).
    public static func startupWarnings(_ settings: DomainSettings) -> [String] {
        var warnings: [String] = []
        let providers = settings.providers
        if providers.smsDryRun {
            warnings.append("SMS_DRY_RUN is on: no SMS is sent, every send is recorded as delivered")
        } else if providers.kavenegar == nil && providers.ippanel == nil {
            warnings.append("no SMS provider configured (set KAVENEGAR_API_KEY and/or IPPANEL_API_KEY): SMS jobs will wait and retry")
        } else {
            // SMS_PROVIDERS picks among the configured providers: naming only those without a key leaves none, which the
            // check above missed (each sms.send then retried with "no SMS provider configured").
            let usable = settings.sms.providers.filter { $0 == .kavenegar ? providers.kavenegar != nil : providers.ippanel != nil }
            if usable.isEmpty {
                let names = settings.sms.providers.map(\.rawValue).joined(separator: ",")
                warnings.append("SMS_PROVIDERS=\(names) names no provider whose API key is set: SMS jobs will wait and retry")
            }
        }
        // The shipped templates file's IPPanel pattern codes are placeholders: with IPPanel on, every message it takes
        // would be refused as an unknown pattern.
        if providers.ippanel != nil && !providers.smsDryRun {
            let placeholders = settings.sms.templates.templates.values
                .filter { $0.ippanel?.code.hasPrefix("PLACEHOLDER") == true }.map(\.name).sorted()
            if !placeholders.isEmpty {
                warnings.append(
                    "IPPANEL_API_KEY is set but \(settings.sms.templatesFile) still has placeholder IPPanel pattern codes (\(placeholders.joined(separator: ", "))): replace them with the codes of the approved patterns, or IPPanel refuses those messages")
            }
        }
        if providers.brevo == nil {
            warnings.append("BREVO_API_KEY is not set: sendinblue.register and Brevo balance reads will wait and retry")
        }
        let registration = settings.registration
        if registration.spannedSeconds < Double(registration.retryHours) * 3600 {
            warnings.append(
                "REGISTRATION_RETRY_MAX_SECONDS=\(registration.retryCap): a job's 1000 attempts span about \(Int(registration.spannedSeconds / 3600)) h, not REGISTRATION_RETRY_HOURS=\(registration.retryHours): raise it for the whole window")
        }
        if settings.reminders.receiptBaseURL == nil {
            warnings.append("RECEIPT_BASE_URL is not set: reminders.expiration will wait and retry (the reminder SMS carries the receipt link)")
        }
        if let key = settings.clockKey {
            warnings.append("HOOPOE_CLOCK_KEY=\(key): domain time is read from Redis (simulation/test mode)")
        }
        return warnings
    }
}
