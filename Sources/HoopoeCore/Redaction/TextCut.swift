/// Text cut to a length for storing (an error, a dead reason), never through a number.
///
/// The masks run when the text is shown, and match 10 to 15 digits: a phone number cut to nine (`091212345…`) was
/// shown as it stood. Cut back to before the number instead.
public enum TextCut {
    /// The first `limit` Unicode scalars of `text` (all of it when shorter), without a number the cut went through;
    /// `cut` tells whether anything was left out.
    public static func prefix(_ text: String, scalars limit: Int) -> (text: String, cut: Bool) {
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return (text, false) }
        var kept = String(String.UnicodeScalarView(scalars.prefix(limit)))
        if let next = scalars.dropFirst(limit).first, Self.inNumber(Character(next)) {
            while let last = kept.last, Self.inNumber(last) { kept.removeLast() }
        }
        return (kept, true)
    }

    /// A digit (any script) or a separator a number is written with.
    private static func inNumber(_ character: Character) -> Bool {
        character.isNumber || " -+().".contains(character)
    }
}
