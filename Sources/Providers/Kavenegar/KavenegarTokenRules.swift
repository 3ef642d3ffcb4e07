/// Checks `verify/lookup` tokens before sending, so a bad value fails locally instead of costing a request and
/// coming back as `431`/`428`/`406` (docs/providers.md §2.4.5, §2.5).
///
/// Rules: `token`, `token2`, `token3` contain no space; `token10` at most 5 spaces; `token20` at most 8; every token
/// at most 100 characters; no newline or other whitespace, no underscore, no separator (the characters Kavenegar
/// lists for `431`).
enum KavenegarTokenRules {
    /// Longest accepted token, in characters.
    static let maximumLength = 100

    /// Characters the docs call "separators" for `431`. The docs do not list them: this set (comma, semicolon,
    /// pipe) is an assumption to verify in a sandbox (docs/providers.md §6.2 lists the related `tag` separator question).
    static let separators: Set<Character> = [",", ";", "|"]

    /// A rule violation: the Kavenegar code it would have produced and why.
    struct Violation: Sendable, Hashable {
        var code: Int
        var reason: String
    }

    /// Checks one token value.
    /// - Parameters:
    ///   - value: the token.
    ///   - name: `token`, `token2`, … (for the message).
    ///   - allowedSpaces: 0 for `token`…`token3`, 5 for `token10`, 8 for `token20`.
    static func violation(in value: String, name: String, allowedSpaces: Int) -> Violation? {
        if value.isEmpty {
            return Violation(code: 406, reason: "\(name) is empty")
        }
        if value.count > maximumLength {
            // The docs give the 100-character limit without its error code; 431 is the closest documented one.
            return Violation(code: 431, reason: "\(name) is longer than \(maximumLength) characters")
        }
        var spaces = 0
        for character in value {
            if character == " " {
                spaces += 1
            } else if character.isWhitespace || character.isNewline {
                return Violation(code: 431, reason: "\(name) contains a newline or non-space whitespace")
            } else if character == "_" {
                return Violation(code: 431, reason: "\(name) contains an underscore")
            } else if separators.contains(character) {
                return Violation(code: 431, reason: "\(name) contains a separator (\(character))")
            }
        }
        if spaces > allowedSpaces {
            let allowed = allowedSpaces == 0 ? "no spaces" : "at most \(allowedSpaces) spaces"
            return Violation(code: 431, reason: "\(name) has \(spaces) spaces; \(allowed) allowed")
        }
        return nil
    }

    /// `type=call` works only with a digits-only `token` (else `428`). ASCII digits only: whether Persian digits
    /// are accepted is not documented.
    static func isCallable(_ token: String) -> Bool {
        !token.isEmpty && token.unicodeScalars.allSatisfy { ("0"..."9").contains($0) }
    }
}
