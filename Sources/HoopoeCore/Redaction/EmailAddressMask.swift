/// Masks anything in a text that looks like an email address, keeping the first character of its local part and its
/// whole domain (`m***@example.com`): enough for an operator to tell two addresses' providers apart, not to write to
/// either.
///
/// Why: emails are the personal data the domain jobs carry beside phone numbers (`email.send`'s `to`,
/// `subscription.upsert`'s `email`), and `hoopoe job show`, `dead show`, the dashboard's job pages and the logs
/// printed them whole while masking the phone beside them. ``PersonalDataMask`` runs this after ``PhoneNumberMask``.
///
/// An address here is a local part of letters, digits and the other characters RFC 5322 allows unquoted
/// (`. _ % + - ' ! # $ & * / = ? ^ ` { | } ~`, as the jobs accept them; at least one letter or digit), an `@`,
/// and a domain of letters, digits, `-` and `.` with a dot inside it. Not an address: `user@host` (no dot), an `@`
/// with nothing before it (`@handle`), a local part already masked (`***`, a redacted URL's password), and one of digits
/// and dots only: a message id (Brevo's `<201798300811.5787683@smtp-relay.mailin.fr>`, which `email.sent` carries and
/// an operator looks up in Brevo's reports), not a person's address.
public enum EmailAddressMask {
    /// `text` with every address-like run masked.
    public static func mask(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "@")) else { return text }
        let characters = Array(text)
        var result = ""
        var copied = 0
        var index = 0
        while index < characters.count {
            defer { index += 1 }
            guard characters[index] == "@" else { continue }
            var start = index
            while start > copied, isLocal(characters[start - 1]) { start -= 1 }
            var end = index + 1
            while end < characters.count, isDomain(characters[end]) { end += 1 }
            // A domain does not end with a dot or dash (`a@b.com.` ends a sentence).
            while end > index + 1, characters[end - 1] == "." || characters[end - 1] == "-" { end -= 1 }
            let local = characters[start..<index]
            let domain = characters[(index + 1)..<end]
            guard local.contains(where: { $0.isLetter }) || (local.contains(where: \.isNumber) && !local.allSatisfy { $0.isNumber || $0 == "." }),
                let dot = domain.firstIndex(of: "."), dot > index + 1, dot < end - 1
            else { continue }
            result.append(contentsOf: characters[copied..<start])
            result.append(local.first!)
            result += "***@"
            result.append(contentsOf: domain)
            copied = end
            index = end - 1
        }
        if copied == 0 { return text }
        result.append(contentsOf: characters[copied...])
        return result
    }

    private static func isLocal(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || "._%+-'!#$&*/=?^`{|}~".contains(character)
    }

    private static func isDomain(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "-" || character == "."
    }
}
