import Logging
import Providers

/// Which provider accounts this worker may use, read from the environment.
///
/// A provider without its key is simply not configured: jobs that need it fail with a retryable error that says
/// which variable to set (nothing is lost while an operator fixes it), and the worker warns at start-up.
public struct ProviderSettings: Sendable {
    /// `KAVENEGAR_API_KEY`, `KAVENEGAR_BASE_URL`, `KAVENEGAR_SENDER`.
    public var kavenegar: KavenegarClient.Configuration?
    /// `IPPANEL_API_KEY`, `IPPANEL_BASE_URL`, `IPPANEL_FROM_NUMBER` (required with the key).
    public var ippanel: IPPanelClient.Configuration?
    /// `BREVO_API_KEY`, `BREVO_BASE_URL`, `BREVO_PARTNER_KEY`.
    public var brevo: BrevoClient.Configuration?
    /// `SMS_DRY_RUN=true`: no SMS leaves the process; every send is recorded as delivered by the dry-run sender.
    public var smsDryRun: Bool

    public init(
        kavenegar: KavenegarClient.Configuration? = nil, ippanel: IPPanelClient.Configuration? = nil,
        brevo: BrevoClient.Configuration? = nil, smsDryRun: Bool = false
    ) {
        self.kavenegar = kavenegar
        self.ippanel = ippanel
        self.brevo = brevo
        self.smsDryRun = smsDryRun
    }

    /// Reads the settings.
    /// - Throws: ``ConfigurationError`` naming the variable.
    public init(environment env: EnvironmentReader) throws(ConfigurationError) {
        if let key = env.string("KAVENEGAR_API_KEY") {
            kavenegar = KavenegarClient.Configuration(
                baseURL: try env.url("KAVENEGAR_BASE_URL", default: "https://api.kavenegar.com/v1")!,
                apiKey: key, sender: env.string("KAVENEGAR_SENDER"))
        }
        if let key = env.string("IPPANEL_API_KEY") {
            guard let from = env.string("IPPANEL_FROM_NUMBER") else {
                throw ConfigurationError(key: "IPPANEL_FROM_NUMBER", message: "required with IPPANEL_API_KEY: the sending line in E.164, e.g. +983000505")
            }
            guard IPPanelNumberRules.isE164(from) else {
                throw ConfigurationError(
                    key: "IPPANEL_FROM_NUMBER", message: "\(from) is not a line in E.164 with its +, e.g. +983000505 (IPPanel refuses any other form)")
            }
            ippanel = IPPanelClient.Configuration(
                baseURL: try env.url("IPPANEL_BASE_URL", default: "https://edge.ippanel.com/v1")!, apiKey: key, fromNumber: from)
        }
        if let key = env.string("BREVO_API_KEY") {
            brevo = BrevoClient.Configuration(
                baseURL: try env.url("BREVO_BASE_URL", default: "https://api.brevo.com/v3")!, apiKey: key,
                partnerKey: env.string("BREVO_PARTNER_KEY"))
        }
        smsDryRun = try env.bool("SMS_DRY_RUN", default: false)
    }
}

/// The provider clients of one worker process, sharing one ``ProviderHTTPClient`` (made at the first request).
public struct ProviderClients: Sendable {
    public let kavenegar: KavenegarClient?
    public let ippanel: IPPanelClient?
    public let brevo: BrevoClient?
    /// Set when `SMS_DRY_RUN` is on.
    public let dryRun: DryRunSMSSender?

    public init(settings: ProviderSettings, httpClient: ProviderHTTPClient, logger: Logger) {
        kavenegar = settings.kavenegar.map { KavenegarClient(configuration: $0, httpClient: httpClient, logger: logger) }
        ippanel = settings.ippanel.map { IPPanelClient(configuration: $0, httpClient: httpClient, logger: logger) }
        brevo = settings.brevo.map { BrevoClient(configuration: $0, httpClient: httpClient, logger: logger) }
        dryRun = settings.smsDryRun ? DryRunSMSSender() : nil
    }
}
