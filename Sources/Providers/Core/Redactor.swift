import Foundation

/// Removes secrets from text that may reach a log line or an error description.
///
/// Kavenegar's API key is a URL path segment (docs/providers.md §1 rule 4), and a Brevo child may be addressed by its
/// auth key in the path, so URLs themselves are secret-bearing. Everything a client logs or throws passes through
/// a redactor that knows the client's secrets.
struct Redactor: Sendable {
    /// The text that replaces each secret.
    static let placeholder = "[REDACTED]"

    /// The shortest start of a secret that ``droppingSecretStart(from:)`` removes from the end of a text: shorter runs
    /// (`abc`) end ordinary words too often, and say little of a key.
    static let shortestSecretStart = 4

    private let secrets: [String]

    /// Creates a redactor for the given secrets; empty strings are ignored.
    init(secrets: [String]) {
        var all: [String] = []
        for secret in secrets where !secret.isEmpty {
            all.append(secret)
            let encoded = FormEncoding.percentEncode(secret)
            if encoded != secret { all.append(encoded) }
        }
        // Longest first, so a secret that contains another is replaced whole.
        self.secrets = all.sorted { $0.count > $1.count }
    }

    /// Returns a redactor that also hides `more`.
    func adding(_ more: [String]) -> Redactor {
        Redactor(secrets: secrets + more)
    }

    /// Replaces every occurrence of every secret by ``placeholder``.
    func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: Self.placeholder)
        }
        return result
    }

    /// `text` without the longest run at its end (at least ``shortestSecretStart`` characters) that begins a secret:
    /// for a text cut short (``BodyExcerpt``), where a secret the cut went through no longer matches ``redact(_:)``.
    func droppingSecretStart(from text: String) -> String {
        var longest = 0
        for secret in secrets {
            var length = min(secret.count, text.count)
            while length >= Self.shortestSecretStart && length > longest {
                if text.hasSuffix(secret.prefix(length)) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        return longest == 0 ? text : String(text.dropLast(longest))
    }
}
