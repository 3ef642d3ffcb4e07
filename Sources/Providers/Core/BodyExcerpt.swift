/// The start of a provider's answer that could not be read, for an error message.
///
/// Cut at ``limit`` bytes, and never through a number: a phone number cut to nine digits (`091212345`) no longer looks
/// like one, and the masks of every output (10 to 15 digits) let it through as it stood.
///
/// Secrets are taken out of the whole answer before it is cut, never after: an error page that echoes the request URL
/// carries Kavenegar's key, and a key the cut went through no longer matched the redactor, so its first characters
/// reached the log, `sms.failed` and the dead set. A run at the cut that starts a secret (an answer that itself echoed
/// a truncated URL) is dropped too.
public enum BodyExcerpt {
    /// How many bytes of an unreadable answer an error message keeps.
    public static let limit = 200

    /// The first ``limit`` bytes of `body` as text (an incomplete last character dropped), without a number the cut
    /// went through; `…` when anything was left out. For an answer to a request that carried no secret.
    public static func of(_ body: [UInt8]) -> String {
        of(body, redactor: Redactor(secrets: []))
    }

    /// ``of(_:)`` with every one of `secrets` (and its percent-encoded form) replaced by `[REDACTED]` first.
    public static func of(_ body: [UInt8], hiding secrets: [String]) -> String {
        of(body, redactor: Redactor(secrets: secrets))
    }

    /// ``of(_:)`` of `body` with `redactor`'s secrets taken out of the whole of it first.
    static func of(_ body: [UInt8], redactor: Redactor) -> String {
        let whole = redactor.redact(String(decoding: body, as: UTF8.self))
        let bytes = Array(whole.utf8)
        guard bytes.count > limit else { return whole }
        var text = String(decoding: bytes.prefix(limit), as: UTF8.self)
        let next = String(decoding: bytes.dropFirst(limit).prefix(4), as: UTF8.self).first
        while text.last == "\u{FFFD}" { text.removeLast() }
        if let next, next == "\u{FFFD}" || inNumber(next) {
            while let last = text.last, inNumber(last) { text.removeLast() }
        }
        return redactor.droppingSecretStart(from: text) + "…"
    }

    /// A digit (any script) or a separator a number is written with.
    private static func inNumber(_ character: Character) -> Bool {
        character.isNumber || " -+().".contains(character)
    }
}
