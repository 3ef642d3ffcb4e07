/// The start of a provider's answer that could not be read, for an error message.
///
/// Cut at ``limit`` bytes, and never through a number: a phone number cut to nine digits (`091212345`) no longer looks
/// like one, and the masks of every output (10 to 15 digits) let it through as it stood.
public enum BodyExcerpt {
    /// How many bytes of an unreadable answer an error message keeps.
    public static let limit = 200

    /// The first ``limit`` bytes of `body` as text (an incomplete last character dropped), without a number the cut
    /// went through; `…` when anything was left out.
    public static func of(_ body: [UInt8]) -> String {
        guard body.count > limit else { return String(decoding: body, as: UTF8.self) }
        var text = String(decoding: body.prefix(limit), as: UTF8.self)
        let next = String(decoding: body.dropFirst(limit).prefix(4), as: UTF8.self).first
        while text.last == "\u{FFFD}" { text.removeLast() }
        if let next, next == "\u{FFFD}" || inNumber(next) {
            while let last = text.last, inNumber(last) { text.removeLast() }
        }
        return text + "…"
    }

    /// A digit (any script) or a separator a number is written with.
    private static func inNumber(_ character: Character) -> Bool {
        character.isNumber || " -+().".contains(character)
    }
}
