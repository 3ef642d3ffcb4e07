/// The names of the fields that hold a phone number: the one list every shown payload, envelope field and event's
/// data is masked by (``PayloadRedaction/maskingPersonalData(_:)``).
///
/// Why by name: ``PhoneNumberMask/mask(_:)`` finds a phone number by its shape (10 to 15 digits), so a short or odd one
/// (`"phone":"0912123"`, which `sms.send` buries as "phone *****23 is not an Iranian mobile number") was printed whole
/// by `hoopoe dead show` and the dashboard's job page while its own error masked it. A number or a string holding a
/// digit in a field named here is masked by the one rule (``PhoneNumberMask/maskNumber(_:)``: `0912****567`; a short
/// value shows at most its last 2 characters); other values are masked as any other (``PayloadRedaction/maskingAsPhone(_:)``).
///
/// The names: what the job types call a phone (`phone` in `sms.send`, `gift.granted`, `subscription.upsert`,
/// `credit.threshold.set`), what Kavenegar calls one (`receptor`, which clients copy into payloads), and the usual other
/// spellings (`mobile`, `msisdn`, `phone_number`, `telephone`, `cellphone`). Not `recipient`: Brevo names an email's
/// recipient object so (`{"user_id":42,"name":"Sara"}`, every member of which was masked), and IPPanel's `recipients`
/// hold full numbers the scanner masks by their shape.
public enum PhoneFieldNames {
    /// The last words of a phone field's name, in lower case without `-` and `_`, matched after one plural `s` is
    /// dropped: `phone`, `Phone`, `user_phone`, `phoneNumber`, `mobile_numbers`, `receptors`, `telephone`. An ending,
    /// not a part: `phone_verified` and `phone_count` hold no phone number and stay readable.
    public static let endings: Set<String> = [
        "phone", "phonenumber", "mobile", "mobilenumber", "receptor", "msisdn", "telephone", "cellphone",
    ]

    /// Whether a field named `key` holds a phone number: it ends with one of ``endings`` (one plural `s` dropped) that
    /// starts a word, after nothing, a character that is not a letter (`user_phone`, `phone-number`) or a lower-case
    /// letter as an upper-case one (`userPhone`). So `microphone`, `headphone` and `automobile` do not match: ended by
    /// letters alone they hold no phone number (a `"microphone":"USB 2"` was masked); `telephone` and `cellphone` are
    /// named whole.
    public static func matches(_ key: String) -> Bool {
        var scalars = Array(key.unicodeScalars)
        while let last = scalars.last, last == "-" || last == "_" { scalars.removeLast() }
        if let last = scalars.last, last == "s" || last == "S" { scalars.removeLast() }
        return endings.contains { ending in
            guard let start = start(of: ending, endingAt: scalars) else { return false }
            return startsWord(scalars, at: start)
        }
    }

    /// Where `ending` (lower case, no separators) starts if `scalars` end with it in any case, `-` and `_` inside it
    /// skipped (`phone-number` ends with `phonenumber`); nil when they do not.
    private static func start(of ending: String, endingAt scalars: [Unicode.Scalar]) -> Int? {
        var index = scalars.count
        for wanted in ending.unicodeScalars.reversed() {
            index -= 1
            while index > 0, scalars[index] == "-" || scalars[index] == "_" { index -= 1 }
            guard index >= 0, scalars[index].properties.lowercaseMapping == String(wanted) else { return nil }
        }
        return index
    }

    /// Whether a word starts at `index`: at the start, after a character that is not a letter, or an upper-case letter
    /// after a lower-case one.
    private static func startsWord(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
        guard index > 0 else { return true }
        let before = scalars[index - 1].properties
        return !before.isAlphabetic || (before.isLowercase && scalars[index].properties.isUppercase)
    }

    /// Whether `text` may name a phone field (cheap, so that only such strings are parsed as JSON).
    static func mayBeNamed(in text: String) -> Bool {
        let squeezed = PayloadRedaction.normalisedName(text)
        return endings.contains { squeezed.contains($0) }
    }
}
