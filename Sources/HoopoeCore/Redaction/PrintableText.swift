/// Text from Redis made safe to print as part of one line.
///
/// A job's type, its error text, a worker's id and a queue's name come from whoever wrote them to Redis: a plain
/// `XADD` can put a newline in a type, which would forge a line in a text log, or an escape sequence, which would
/// drive the terminal of the operator running `hoopoe dead list`. Every such character is written as an escape
/// instead: `\n`, `\r`, `\t`, and `\u{1B}` for the rest of the C0 and C1 controls, DEL, the Unicode line and
/// paragraph separators and the bidirectional embeddings, overrides and isolates (``isBidiControl(_:)``: a type holding
/// U+202E reordered the rest of its line of `hoopoe dead list` in a terminal, as "Trojan Source" reorders code). Other
/// text, Persian included (its zero-width non-joiner and the direction marks U+200E and U+200F too, which reorder
/// nothing past their neighbours), is left as it is. The logs' JSON lines need none of this: JSON escapes them already.
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
            case _ where isControl(scalar): result += escaped(scalar)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
            || isBidiControl(scalar)
    }

    /// The bidirectional formatting characters that reorder the text after them until their end: the embeddings and
    /// overrides U+202A–U+202E and the isolates U+2066–U+2069. Shown as escapes here and by the dashboard (`HTML`).
    public static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value)
    }

    /// The visible escape of `scalar`: `\u{202E}`.
    public static func escaped(_ scalar: Unicode.Scalar) -> String {
        "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
    }
}
