import HoopoeJSON

/// Payloads hold personal data (phone numbers, above all). Everything the admin commands print goes
/// through these, so a pasted terminal or a ticket never carries a full number.
extension JSONValue {
    /// A copy with phone-like strings and integers masked (`+98912*****567`); an integer that looks like a
    /// phone number becomes a masked string so the JSON stays valid.
    var masked: JSONValue {
        switch self {
        case .object(let members): .object(members.mapValues(\.masked))
        case .array(let elements): .array(elements.map(\.masked))
        case .string(let text): .string(PhoneMask.mask(text))
        case .integer(let value):
            PhoneMask.mask(String(value)) == String(value) ? self : .string(PhoneMask.mask(String(value)))
        default: self
        }
    }

    /// Compact JSON text, keys sorted.
    var text: String { String(decoding: encoded(), as: UTF8.self) }
}

/// Prints a JSON document on one line (for `--json`: one document per run, easy to pipe into `jq`).
func printJSON(_ value: JSONValue) {
    print(value.text)
}
