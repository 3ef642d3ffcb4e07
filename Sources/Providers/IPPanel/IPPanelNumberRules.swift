/// IPPanel wants E.164 with `+` (docs/providers.md §3.3, §3.7): `+989120000000` for a recipient, `+983000505` for a
/// line; the legacy SDK's `98912…` and the national `0912…` are not what the Edge API documents. Checked before
/// sending, for `IPPANEL_FROM_NUMBER` at start-up (a bad line would fail every send), and by the fake IPPanel for
/// every number it is sent.
public enum IPPanelNumberRules {
    /// True for `+`, then 8 to 15 digits, the first not `0`.
    public static func isE164(_ number: String) -> Bool {
        let digits = number.utf8.dropFirst()
        return number.utf8.first == UInt8(ascii: "+") && (8...15).contains(digits.count) && digits.first != UInt8(ascii: "0")
            && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// A reason the list is unusable, or nil.
    static func violation(in numbers: [String]) -> String? {
        if numbers.isEmpty { return "no recipients" }
        for number in numbers where !isE164(number) {
            return "recipient \(PhoneMask.mask(number)) is not E.164 with +"
        }
        return nil
    }
}
