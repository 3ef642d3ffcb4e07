/// The names of the fields that hold a phone number: the one list every shown payload, envelope field and event's
/// data is masked by (``PayloadRedaction/maskingPersonalData(_:)``).
///
/// Why by name: ``PhoneNumberMask/mask(_:)`` finds a phone number by its shape (10 to 15 digits), so a short or odd one
/// (`"phone":"0912123"`, which `sms.send` buries as "phone *****23 is not an Iranian mobile number") was printed whole
/// by `hoopoe dead show` and the dashboard's job page while its own error masked it. A field named here is masked
/// whatever its value looks like, by the one rule (``PhoneNumberMask/maskNumber(_:)``: `0912****567`; a short value
/// shows at most its last 2 characters).
///
/// The names: what the job types call a phone (`phone` in `sms.send`, `gift.granted`, `subscription.upsert`,
/// `credit.threshold.set`), what the SMS providers call one (Kavenegar's `receptor`, IPPanel's `recipient`, which
/// clients copy into payloads), and the usual other spellings (`mobile`, `msisdn`, `phone_number`, `cellphone`).
public enum PhoneFieldNames {
    /// The endings of a phone field's name, matched on its ``PayloadRedaction/normalisedName(_:)`` (lower case,
    /// no `-` or `_`) without one plural `s`: `phone`, `Phone`, `user_phone`, `phoneNumber`, `mobile_numbers`,
    /// `receptors`, `telephone`. An ending, not a part: `phone_verified` and `phone_count` hold no phone number and
    /// stay readable.
    public static let endings: Set<String> = [
        "phone", "phonenumber", "mobile", "mobilenumber", "receptor", "recipient", "msisdn",
    ]

    /// Whether a field named `key` holds a phone number (``endings``).
    public static func matches(_ key: String) -> Bool {
        var name = PayloadRedaction.normalisedName(key)
        if name.hasSuffix("s") { name.removeLast() }
        return endings.contains { name.hasSuffix($0) }
    }

    /// Whether `text` may name a phone field (cheap, so that only such strings are parsed as JSON).
    static func mayBeNamed(in text: String) -> Bool {
        let squeezed = PayloadRedaction.normalisedName(text)
        return endings.contains { squeezed.contains($0) }
    }
}
