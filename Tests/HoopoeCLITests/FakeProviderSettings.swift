import Foundation
import TestSupport

/// The `NAME=value` settings `hoopoe dev fake-providers` prints at start (its providers' base URLs and keys, and
/// `FAKE_CONTROL_URL` with `--control`): one reader for every test that runs the fakes as a process.
enum FakeProviderSettings {
    /// What it always prints: each provider's base URL and key.
    static let providerKeys = ["KAVENEGAR_BASE_URL", "IPPANEL_BASE_URL", "BREVO_BASE_URL", "KAVENEGAR_API_KEY", "IPPANEL_API_KEY", "BREVO_API_KEY"]

    /// Waits (up to 20 s) until `fakes` has printed `last`, then returns every setting it printed.
    /// - Throws: when one of `required` (by default ``providerKeys``) is missing, naming it, with the output.
    static func read(_ fakes: ChildProcess, until last: String = "BREVO_API_KEY", requiring required: [String] = providerKeys) async throws -> [String: String] {
        let deadline = ContinuousClock.now + .seconds(20)
        while !fakes.output.contains("\(last)="), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        var values: [String: String] = [:]
        for line in fakes.output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        for key in required + [last] where values[key] == nil {
            throw TestSupportError("fake-providers did not print \(key): \(fakes.output)")
        }
        return values
    }
}
