import Foundation
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
        if let key = try Self.secret("KAVENEGAR_API_KEY", in: env) {
            kavenegar = KavenegarClient.Configuration(
                baseURL: try env.url("KAVENEGAR_BASE_URL", default: "https://api.kavenegar.com/v1")!,
                apiKey: key, sender: env.string("KAVENEGAR_SENDER"))
        }
        if let key = try Self.secret("IPPANEL_API_KEY", in: env) {
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
        if let key = try Self.secret("BREVO_API_KEY", in: env) {
            brevo = BrevoClient.Configuration(
                baseURL: try env.url("BREVO_BASE_URL", default: "https://api.brevo.com/v3")!, apiKey: key,
                partnerKey: try Self.secret("BREVO_PARTNER_KEY", in: env))
        }
        smsDryRun = try env.bool("SMS_DRY_RUN", default: false)
    }

    /// A provider key or secret, or nil when unset or blank: trimmed of whitespace and line breaks around it, and
    /// refused (naming the variable, never showing the value) when one is left inside.
    ///
    /// A key written to a file with its line end (a Kubernetes Secret made `--from-file`, `echo key > file`, an env
    /// file with CRLF) ended in `\n`: the worker started, then every request failed in the HTTP client, which put the
    /// whole key in its error (`invalidHeaderFieldValues`), and so in the log, `hoopoe job show` and the retry's
    /// envelope in Redis; Kavenegar's key, sent in the URL, got 403 "API-Key invalid" on every SMS with no word at
    /// start-up. Around the key such a character is a copy's accident; inside it, no provider's key holds one.
    static func secret(_ key: String, in env: EnvironmentReader) throws(ConfigurationError) -> String? {
        guard let raw = env.string(key) else { return nil }
        let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if value.isEmpty { return nil }
        if let bad = value.unicodeScalars.first(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
            let what = bad == "\n" || bad == "\r" ? "a line break" : bad.properties.isWhitespace ? "a space" : "a control character"
            throw ConfigurationError(key: key, message: "the key holds \(what) inside it (not shown): copy the key again, on one line")
        }
        return value
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
