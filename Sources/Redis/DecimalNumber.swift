/// A number written as people write durations in settings: decimal digits, and at most one `.` with digits on both
/// sides (`90`, `1.5`, `0.25`).
///
/// `Double(_:)` takes much more: `0x10` (hexadecimal: 16), `0x1p4`, `1e3`, `inf`, `nan`, `+5`. A duration setting
/// read with it started the worker on `SMS_UNKNOWN_OUTCOME_RETRY_SECONDS=0x10`, while `SMS_DAILY_CAP=0x10`, read
/// with `Int(_:)`, stopped it with exit 78. Every setting of seconds reads its value here: the Redis URL's `timeout=`
/// and the domain jobs' (`EnvironmentReader.seconds`). In this module, the lowest every setting's reader can see.
public enum DecimalNumber {
    /// The value of `text`, or nil when it is not decimal digits with an optional fraction (no sign, exponent,
    /// hexadecimal, spaces or words).
    public static func parse(_ text: some StringProtocol) -> Double? {
        var digits = 0
        var dot = false
        var digitsAfterDot = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
                if dot { digitsAfterDot += 1 }
            case UInt8(ascii: ".") where !dot && digits > 0:
                dot = true
            default:
                return nil
            }
        }
        guard digits > 0, !dot || digitsAfterDot > 0 else { return nil }
        return Double(String(text))
    }
}
