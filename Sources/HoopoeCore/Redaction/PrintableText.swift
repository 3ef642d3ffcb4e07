/// Text from Redis made safe to print as part of one line.
///
/// A job's type, its error text, a worker's id and a queue's name come from whoever wrote them to Redis: a plain
/// `XADD` can put a newline in a type, which would forge a line in a text log, or an escape sequence, which would
/// drive the terminal of the operator running `hoopoe dead list`. Every such character is written as an escape
/// instead: `\n`, `\r`, `\t`, and `\u{1B}` for the rest of the C0 and C1 controls, DEL and the Unicode line and
/// paragraph separators. Other text, Persian included, is left as it is. The logs' JSON lines need none of this:
/// JSON escapes them already.
public enum PrintableText {
    /// `text` with each control character written as an escape; the same string when there is none (the usual case).
    public static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where isControl(scalar): result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }
}
