import Foundation
import HoopoeCore
import HoopoeJSON
import Providers
import Redis

/// Raises the operator alerts docs/providers.md asks for (`ALERT`: credit exhausted, key revoked, template missing):
/// one `provider.alert` event per provider and code per window, however many jobs hit the same problem.
public struct ProviderAlerts: Sendable {
    let services: DomainServices
    /// How long one alert silences the same provider+code (default 1 hour).
    public let window: Duration

    public init(services: DomainServices, window: Duration = .seconds(3600)) {
        self.services = services
        self.window = window
    }

    /// Emits `provider.alert {provider, code, message, operation}` unless the same provider+code was raised within
    /// the window. Returns true when this call raised it.
    @discardableResult
    public func raise(provider: String, code: String, message: String, operation: String) async throws -> Bool {
        let key = services.key("{alerts}:\(provider):\(code)")
        let set = try await services.redis.send("SET", key, "1", "NX", "EX", String(max(1, Int(window.seconds))))
        guard set.string == "OK" else { return false }
        do {
            try await services.events.emit(
                ProviderAlertRaised(provider: provider, code: code, message: message, operation: operation), at: try await services.clock.now())
        } catch {
            // Not raised: the silence goes with it, or the alert's window passed with no alert at all (callers go on
            // without it), and the next job that meets the problem raises it.
            _ = try? await services.redis.send("DEL", key)
            throw error
        }
        return true
    }
}

/// `provider.alert`: an operator must fix something at a provider (credit, key, template). At most one per
/// provider and code per window.
struct ProviderAlertRaised: DomainEvent {
    static let name = "provider.alert"
    var provider: String
    /// The provider's code, or `credit_low` for the Kavenegar credit floor.
    var code: String
    var message: String
    var operation: String

    enum CodingKeys: String, CodingKey, CaseIterable {
        case provider, code, message, operation
    }
}

/// How a failed provider call becomes the job's verdict (docs/providers.md §1): retry with the provider's delay,
/// fail for good, or raise an alert and park (retry later) or fail.
public struct ProviderFailurePolicy: Sendable {
    /// How long a job waits after an `ALERT` that an operator must fix (credit, key, template) before it tries
    /// again. Default 15 minutes.
    public var alertParkDelay: Duration

    public init(alertParkDelay: Duration = .seconds(900)) {
        self.alertParkDelay = alertParkDelay
    }

    /// The job failure for `error`; raises the alert first when the disposition asks for one.
    ///
    /// - Parameter timesSeen: how many times this job's work has failed with `error`'s provider and code, this time
    ///   included, for a code the provider caps (``Providers/ProviderError/suggestedMaxAttempts``): at the cap, a
    ///   retry becomes a permanent failure. Nil when the caller does not count (the cap is then not applied):
    ///   `email.send` sends an idempotency key, so a retry cannot send twice; `reminders.low_credit` only reads.
    public func failure(for error: ProviderError, alerts: ProviderAlerts, timesSeen: Int? = nil) async -> JobFailure {
        if case .retry = error.disposition, let cap = error.suggestedMaxAttempts, let timesSeen, timesSeen >= cap {
            return .permanent("\(error.description); \(error.provider) \(error.code) is tried at most \(cap) times: given up")
        }
        switch error.disposition {
        case .retry(let after?):
            return .retry(error.description, at: Date().addingTimeInterval(after.seconds).timeIntervalSince1970)
        case .retry(nil):
            return .retry(error.description)
        case .permanent:
            return .permanent(error.description)
        case .alert(let requeue):
            _ = try? await alerts.raise(provider: error.provider.rawValue, code: error.code, message: error.message, operation: error.operation)
            if requeue {
                return .retry("alert, parked until fixed: \(error.description)",
                              at: Date().addingTimeInterval(alertParkDelay.seconds).timeIntervalSince1970)
            }
            return .permanent("alert: \(error.description)")
        }
    }
}
