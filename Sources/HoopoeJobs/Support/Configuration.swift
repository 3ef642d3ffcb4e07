import Foundation
// The decimal parser alone, shared with the Redis URL's `timeout=`: nothing here reaches Redis (StoreRedisTests).
import enum Redis.DecimalNumber

/// A configuration value that cannot be used, named by its key, so start-up stops with a message an operator can
/// act on (`hoopoe worker` exits 78).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    /// The environment variable (or file key) at fault.
    public let key: String
    /// What is wrong with it.
    public let message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}

/// What is wrong with a value, before it is known which key it came from.
public struct ConfigurationProblem: Error, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

/// Typed reads of environment variables, every failure naming its variable.
///
/// The domain jobs are configured by environment (12-factor: systemd `EnvironmentFile`, compose `env_file`, a
/// Kubernetes Secret). Every variable read here is listed, with its default, in `deploy/hoopoe.env.example`.
public struct EnvironmentReader: Sendable {
    let values: [String: String]

    /// - Parameter values: the environment; default: this process's.
    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    /// The value, or nil when unset or empty.
    public func string(_ key: String) -> String? {
        guard let value = values[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    /// The value, or `fallback`.
    public func string(_ key: String, default fallback: String) -> String { string(key) ?? fallback }

    /// An integer within `range`, or `fallback` when unset.
    public func integer(_ key: String, default fallback: Int, in range: ClosedRange<Int> = 0...Int.max) throws(ConfigurationError) -> Int {
        guard let text = string(key) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(key: key, message: "expected a whole number in \(range.lowerBound)...\(range.upperBound), got \(text)")
        }
        return value
    }

    /// A number of seconds written in decimal (`90`, `1.5`), or `fallback` when unset. Not hexadecimal (`0x10`),
    /// an exponent or a sign, which `Double(_:)` took (``DecimalNumber``): every duration setting reads its value there.
    public func seconds(_ key: String, default fallback: Double) throws(ConfigurationError) -> Double {
        guard let text = string(key) else { return fallback }
        // At most a year: a larger wait is a typo, and a value like 1e300 would overflow any time built from it.
        guard let value = DecimalNumber.parse(text), value >= 0, value <= 31_536_000 else {
            throw ConfigurationError(key: key, message: "expected a decimal number of seconds from 0 to 31536000 (a year), like 90 or 1.5, got \(text)")
        }
        return value
    }

    /// A comma-separated list of whole numbers, or `fallback` when unset.
    public func integers(_ key: String, default fallback: [Int], in range: ClosedRange<Int> = 0...Int.max) throws(ConfigurationError) -> [Int] {
        guard let text = string(key) else { return fallback }
        var result: [Int] = []
        for part in text.split(separator: ",") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let value = Int(trimmed), range.contains(value) else {
                throw ConfigurationError(key: key, message: "expected comma-separated whole numbers in \(range.lowerBound)...\(range.upperBound), got \(text)")
            }
            result.append(value)
        }
        guard !result.isEmpty else { throw ConfigurationError(key: key, message: "expected at least one number") }
        return result
    }

    /// `true/false`, `1/0`, `yes/no`, `on/off`, or `fallback` when unset.
    public func bool(_ key: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
        guard let text = string(key)?.lowercased() else { return fallback }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(key: key, message: "expected true or false, got \(text)")
        }
    }

    /// An `https://` URL, or an `http://` one to this machine (trailing `/` removed), or `fallback` when unset.
    ///
    /// `http://` to another host is refused: a provider's base URL carries its API key (Kavenegar's in the path,
    /// IPPanel's and Brevo's in a header), which would then cross the network in cleartext. The fake providers and the
    /// tests listen on loopback (`127.0.0.1`, `localhost`, `::1`), where `http://` stays allowed.
    public func url(_ key: String, default fallback: String?) throws(ConfigurationError) -> String? {
        guard let text = string(key) else { return fallback }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            throw ConfigurationError(key: key, message: "expected an http:// or https:// URL, got \(text)")
        }
        guard scheme == "https" || Self.isLoopback(host) else {
            throw ConfigurationError(
                key: key, message: "\(text) is http:// to \(host): what is sent there (an API key) would cross the network unencrypted; use https:// (http:// is allowed only to 127.0.0.1, localhost or ::1)")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// Whether `host` (as `URL.host` gives it, an IPv6 address with or without brackets) names this machine.
    static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if name == "localhost" || name.hasSuffix(".localhost") || name == "::1" || name == "0:0:0:0:0:0:0:1" { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// One of `T`'s cases by its raw value (case-insensitive), or `fallback` when unset. The error lists the cases:
    /// `expected persian or gregorian, got lunar`.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws(ConfigurationError) -> T
    where T.RawValue == String {
        try parsed(key, default: fallback) { (text: String) throws(ConfigurationProblem) in
            guard let value = T(rawValue: text.lowercased()) else {
                throw ConfigurationProblem("expected \(T.allCases.map(\.rawValue).joined(separator: " or ")), got \(text)")
            }
            return value
        }
    }

    /// Parses with `parse`, turning its ``ConfigurationProblem`` into an error naming `key`.
    public func parsed<T>(_ key: String, default fallback: T, _ parse: (String) throws(ConfigurationProblem) -> T) throws(ConfigurationError) -> T {
        guard let text = string(key) else { return fallback }
        do {
            return try parse(text)
        } catch {
            throw ConfigurationError(key: key, message: error.message)
        }
    }
}
